import numpy as np
import pytest

from posecoach import dataset
from posecoach.errors import PoseDataError
from posecoach.io import export_csv, load_poses, save_poses

N_KP = len(dataset.BLAZEPOSE_KEYPOINTS)


def _toy(n: int = 5):
    """A toy dataset: every keypoint moves 1 px right per frame, with one undetected frame."""
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 500, size=(n, N_KP, 2))
    pos[:, :, 0] += np.arange(n)[:, None]
    conf = rng.uniform(0, 1, size=(n, N_KP))
    pos[2] = np.nan
    conf[2] = np.nan
    return dataset.from_arrays(
        pos, conf, np.arange(n) / 30.0, fps=30.0, image_width_px=640, image_height_px=480,
        source_software="test", attrs={"warnings": ["a", "b"], "source_file": "x.mp4"},
    )


def test_from_arrays_builds_named_dims():
    ds = _toy()
    assert ds["position"].dims == ("time", "keypoint", "space")
    assert list(ds["keypoint"].values) == list(dataset.BLAZEPOSE_KEYPOINTS)
    assert ds.attrs["fps"] == 30.0
    assert list(ds["frame"].values) == [0, 1, 2, 3, 4]
    assert dataset.detected_fraction(ds) == pytest.approx(0.8)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.update(position=a["position"][:, :5]), "position has shape"),
        (lambda a: a.update(time_s=[0, 1, 1, 2, 3]), "strictly increasing"),
        (lambda a: a.update(confidence=a["confidence"] + 2), "0..1"),
        (lambda a: a.update(fps=0), "fps"),
    ],
)
def test_from_arrays_rejects_bad_input(change, message):
    args = dict(
        position=np.zeros((5, N_KP, 2)), confidence=np.full((5, N_KP), 0.5),
        time_s=np.arange(5) / 30, fps=30.0,
    )
    change(args)
    with pytest.raises(PoseDataError, match=message):
        dataset.from_arrays(
            args["position"], args["confidence"], args["time_s"], fps=args["fps"],
            image_width_px=10, image_height_px=10, source_software="t",
        )


def test_netcdf_round_trip_is_lossless(tmp_path):
    ds = _toy()
    path = save_poses(ds, tmp_path / "p.nc")
    back = load_poses(path)
    np.testing.assert_array_equal(back["position"].values, ds["position"].values)
    np.testing.assert_array_equal(back["confidence"].values, ds["confidence"].values)
    np.testing.assert_array_equal(back["time"].values, ds["time"].values)
    np.testing.assert_array_equal(back["frame"].values, ds["frame"].values)
    assert list(back["keypoint"].values) == list(ds["keypoint"].values)
    assert back.attrs == ds.attrs


def test_save_never_overwrites_by_default(tmp_path):
    ds = _toy()
    path = save_poses(ds, tmp_path / "p.nc")
    with pytest.raises(PoseDataError, match="already exists"):
        save_poses(ds, path)
    save_poses(ds, path, overwrite=True)


def test_load_rejects_non_dataset(tmp_path):
    bad = tmp_path / "bad.nc"
    bad.write_text("not a netcdf file")
    with pytest.raises(PoseDataError, match="not a readable pose dataset"):
        load_poses(bad)
    with pytest.raises(PoseDataError, match="not found"):
        load_poses(tmp_path / "missing.nc")


def test_a_damaged_pose_file_is_refused_not_read_as_zeros(tmp_path):
    """Bytes of the position array zeroed in place (a damaged copy): without a checksum they
    read as keypoints at (0, 0) with their old confidence; the file carries one and is refused."""
    ds = _toy(200)
    path = save_poses(ds, tmp_path / "p.nc")
    raw = bytearray(path.read_bytes())
    first = ds["position"].values[0, :2].astype("<f8").tobytes()  # the first two keypoints
    at = raw.find(first)
    assert at > 0  # the positions are stored uncompressed: find them
    raw[at : at + 256] = bytes(256)
    damaged = tmp_path / "damaged.nc"
    damaged.write_bytes(bytes(raw))
    with pytest.raises(PoseDataError, match="damaged: its checksum does not match"):
        load_poses(damaged)


def test_csv_export_has_named_columns(tmp_path):
    import pandas as pd

    ds = _toy()
    df = pd.read_csv(export_csv(ds, tmp_path / "p.csv"))
    assert len(df) == 5
    assert {"frame", "time_s", "left_heel_x_px", "left_heel_y_px", "nose_confidence"} <= set(df.columns)
    assert df["left_heel_x_px"].iloc[0] == pytest.approx(ds["position"].values[0, 29, 0], abs=1e-4)


def test_csv_export_writes_what_pandas_would(tmp_path):
    """Row-at-a-time formatting gives the bytes of pandas' to_csv: integer frames, 4 decimals,
    empty fields for missing values (dropped frames, -0.0 and large values included)."""
    from posecoach import synthetic
    from posecoach.io.poses import to_dataframe

    p = synthetic.RunnerParams.heel_striker()
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=1.0, fps=60.0, seed=0)
    ds, _ = synthetic.add_faults(ds, jitter_px=1.0, dropped_frames=5, seed=0)
    ds["position"][0, 0, 0] = -0.00001
    ds["position"][1, 0, 0] = 123456.789
    assert np.isnan(ds["position"].values).any()
    ours = export_csv(ds, tmp_path / "ours.csv").read_bytes()
    to_dataframe(ds).to_csv(tmp_path / "pandas.csv", index=False, float_format="%.4f")
    assert ours == (tmp_path / "pandas.csv").read_bytes()


def test_at_capture_rate_divides_the_times_and_nothing_else():
    """A clip filmed at 240 frames/s that plays at 30: times / 8, fps 240, the file's rate
    and a note kept; positions, confidences and frame indices as they were; input untouched."""
    ds = _toy(6)
    out = dataset.at_capture_rate(ds, 240.0)
    np.testing.assert_allclose(out["time"].values, np.arange(6) / 240.0)
    assert out.attrs["fps"] == 240.0 and out.attrs["playback_fps"] == 30.0
    assert out.attrs["warnings"][:2] == ["a", "b"] and "filmed at 240" in out.attrs["warnings"][2]
    np.testing.assert_array_equal(out["position"].values, ds["position"].values)
    np.testing.assert_array_equal(out["confidence"].values, ds["confidence"].values)
    np.testing.assert_array_equal(out["frame"].values, ds["frame"].values)
    assert ds.attrs["fps"] == 30.0 and ds.attrs["warnings"] == ["a", "b"]
    np.testing.assert_allclose(ds["time"].values, np.arange(6) / 30.0)
    dataset.validate(out)
    assert dataset.at_capture_rate(ds, 30.0).attrs["fps"] == 30.0  # not slow motion: unchanged times


def test_at_capture_rate_refuses_a_rate_below_the_clips():
    from posecoach.errors import UsageError

    with pytest.raises(UsageError, match="below the clip's own 30"):
        dataset.at_capture_rate(_toy(), 25.0)
    assert UsageError.exit_code == 2


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda ds: ds.attrs.update(fps="30"), "fps must be a positive number, got '30'"),
        (lambda ds: ds.attrs.update(image_width_px=-640), "image_width_px must be a positive"),
        (lambda ds: ds.attrs.update(warnings=7), "'warnings' attribute must be a list of texts"),
        # times in ms, and an fps from another clip: every event time would be wrong
        (lambda ds: ds.assign_coords(time=ds["time"] * 1000), "must be in seconds"),
        (lambda ds: ds.attrs.update(fps=1e6), "do not fit fps = 1e\\+06"),
        (lambda ds: ds.assign_coords(frame=("time", [0, 1, 1, 2, 3])), "each frame once"),
        (lambda ds: ds.assign_coords(frame=("time", [-1, 0, 1, 2, 3])), "whole numbers from 0"),
        # coordinates normalised to the picture (0..1), not pixels
        (lambda ds: ds.assign(position=ds["position"] / 640), "normalised"),
    ],
)
def test_validate_refuses_data_that_would_give_wrong_numbers(change, message):
    ds = _toy()
    changed = change(ds)
    with pytest.raises(PoseDataError, match=message):
        dataset.validate(changed if changed is not None else ds)


def test_validate_accepts_dropped_frames():
    """A clip whose decoder skipped frames keeps its frame indices and times: gaps are fine."""
    ds = _toy(8).isel(time=[0, 1, 3, 4, 5, 7])
    assert dataset.validate(ds) is ds


def test_a_warning_written_as_one_text_is_read_as_one_warning(tmp_path):
    """MATLAB or R write a single note as a text attribute, not a list: it stays one warning
    (it was read as a list of its characters)."""
    path = save_poses(_toy(), tmp_path / "p.nc")
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as f:
        ds = f.load()
    ds.attrs["warnings"] = "camera shook"
    ds.to_netcdf(tmp_path / "other.nc", engine="h5netcdf")
    assert load_poses(tmp_path / "other.nc").attrs["warnings"] == ["camera shook"]


def test_a_file_cut_short_says_what_to_do(tmp_path):
    path = save_poses(_toy(200), tmp_path / "p.nc")
    cut = tmp_path / "cut.nc"
    cut.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(PoseDataError, match="cut short .* copy it again, or run `posecoach pose`"):
        load_poses(cut)
