"""The command line, end to end: help, exit codes, bad input, a portrait phone clip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import shared_file, with_damaged_packet
from posecoach.cli import main
from posecoach.video import VideoWriter, iter_frames, probe

POSECOACH = [sys.executable, "-m", "posecoach"]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*POSECOACH, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_help_and_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("pose", "analyze", "demo", "info", "models"):
        assert command in out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert "posecoach" in capsys.readouterr().out


def test_no_command_is_usage_error(capsys):
    assert main([]) == 2


def test_info_lists_versions_and_models(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "mediapipe: 0.10.21" in out
    assert "model full:" in out and "pose_landmark_full.tflite" in out


@pytest.mark.parametrize("content, code, message", [
    (b"this is a shopping list\n" * 10, 3, "cannot be read as a video"),
    (b"", 3, "empty"),
])
def test_bad_files_give_clear_errors(tmp_path, content, code, message):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(content)
    res = run_cli("pose", str(bad), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert res.returncode == code
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out" / "poses.nc").exists()


def test_missing_file(tmp_path):
    res = run_cli("analyze", str(tmp_path / "nope.mp4"), cwd=tmp_path)
    assert res.returncode == 3 and "not found" in res.stderr and "Traceback" not in res.stderr


def test_video_with_no_person(tmp_path):
    clip = tmp_path / "empty_street.mp4"
    with VideoWriter(clip, fps=30, width_px=320, height_px=240) as w:
        rng = np.random.default_rng(0)
        for _ in range(20):
            w.write(rng.integers(80, 120, size=(240, 320, 3), dtype=np.uint8))
    res = run_cli("pose", str(clip), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert res.returncode == 6
    assert "no person was found" in res.stderr and "Traceback" not in res.stderr
    assert "frame/s" not in res.stderr  # no progress bar in a pipe or log file
    # frames left out as damaged count as frames without a person: the error says so
    damaged = with_damaged_packet(clip, tmp_path / "damaged.mp4", 10)
    res = run_cli("pose", str(damaged), "-o", str(tmp_path / "out2"), cwd=tmp_path)
    assert res.returncode == 6 and "no person was found" in res.stderr
    # (packet 10 in decoding order; with B-frames the damage starts a few frames earlier)
    assert "the video holds damaged data: frames " in res.stderr and "-19 (" in res.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_progress_bar_is_shown_on_a_terminal_only(tmp_path):
    import fcntl
    import os
    import pty
    import struct
    import termios

    clip = tmp_path / "street.mp4"
    with VideoWriter(clip, fps=30, width_px=160, height_px=120) as w:
        for _ in range(12):
            w.write(np.full((120, 160, 3), 100, np.uint8))
    leader, follower = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, and tqdm draws nothing in 0 columns.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    try:
        proc = subprocess.run([*POSECOACH, "pose", str(clip), "-o", str(tmp_path / "out"), "--workers", "1"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=follower, timeout=600)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    seen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 6 and "no person was found" in seen
    assert "pose street.mp4" in seen and "frame" in seen  # the bar, on a terminal


def _tiny_clip(path: Path, frames: int = 5) -> Path:
    with VideoWriter(path, fps=30, width_px=64, height_px=48) as w:
        for _ in range(frames):
            w.write(np.zeros((48, 64, 3), np.uint8))
    return path


def test_existing_results_are_not_overwritten(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "poses.nc").write_text("my earlier results")
    clip = _tiny_clip(tmp_path / "c.mp4")
    res = run_cli("pose", str(clip), "-o", str(out), cwd=tmp_path)
    assert res.returncode == 1 and "--overwrite" in res.stderr
    assert (out / "poses.nc").read_text() == "my earlier results"


def test_height_out_of_range_is_usage_error(tmp_path):
    """A height in metres, a speed out of range or not a number: the analyze command's usage
    and what unit it expects (the top-level usage said nothing about --height-cm)."""
    res = run_cli("analyze", "x.nc", "--height-cm", "1.78", cwd=tmp_path)
    assert res.returncode == 2 and "usage: posecoach analyze" in res.stderr
    assert "--height-cm: 1.78 is outside 100-230" in res.stderr and "centimetres, e.g. 178" in res.stderr
    res = run_cli("analyze", "x.nc", "--speed-kmh", "fast", cwd=tmp_path)
    assert res.returncode == 2 and "--speed-kmh: 'fast' is not a number" in res.stderr
    res = run_cli("analyze", "x.nc", "--capture-fps", "0", cwd=tmp_path)
    assert res.returncode == 2 and "--capture-fps: 0 is outside 1-10000" in res.stderr


@pytest.mark.parametrize("argv, message", [
    # an unset shell variable (-o "$OUT") must not put the results in the current folder
    (["analyze", "clip.mp4", "-o", ""], "argument -o/--output: is empty"),
    (["pose", ""], "argument video: is empty"),
    (["analyze", "clip.mp4", "--rules", " "], "argument --rules: is empty"),
    # an unknown option is reported with the usage of the command it was given to
    (["analyze", "clip.mp4", "--frobnicate"], "posecoach analyze: error: unrecognized arguments: "
                                              "--frobnicate"),
])
def test_usage_errors_name_the_command_and_write_nothing(tmp_path, monkeypatch, capsys, argv,
                                                         message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and f"usage: posecoach {argv[0]}" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, message", [
    (["pose", "out/poses.nc"], "holds poses, not a video: 'posecoach pose' estimates them from a "
                               "video; to analyse saved poses run 'posecoach analyze out/poses.nc'"),
    (["analyze", "out/poses.csv"], "is a pose export for other tools; posecoach reads poses "
                                   "back from the pose dataset: 'posecoach analyze out/poses.nc'"),
    (["analyze", "out/poses.json"], "'posecoach analyze out/poses.nc'"),
    (["analyze", "out/analysis.json"], "is posecoach's analysis result, not poses; posecoach reads "
                                       "poses back from the pose dataset: 'posecoach analyze "
                                       "out/poses.nc'"),
    # no pose dataset beside it: no file name that does not exist is suggested
    (["analyze", "elsewhere/run.csv"], "'posecoach analyze' the poses.nc that 'posecoach pose' "
                                       "wrote with it, or the video"),
])
def test_posecoachs_own_pose_files_given_to_the_wrong_command(tmp_path, monkeypatch, capfd, argv,
                                                              message):
    """Not "cannot be read as a video ... or not a video at all": say which command reads them."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "poses.nc").write_bytes(b"")
    assert main([*argv, "-o", "res"]) == 2
    assert message in capfd.readouterr().err
    assert not (tmp_path / "res").exists()


def test_a_command_without_its_action_is_a_usage_error(capfd):
    assert main(["models"]) == 2
    err = capfd.readouterr().err  # written through posecoach's copy of file descriptor 2
    assert "usage: posecoach models" in err and "install" in err and "status" in err


@pytest.mark.slow
@pytest.mark.realdata
def test_portrait_phone_clip_with_rotation_metadata_comes_out_upright(tmp_path):
    """Store a real portrait clip sideways with a display matrix, as phones do: the runner
    must come out upright (head above feet) and be found as in the original."""
    src = shared_file("running-videos-licence-unknown/overground_side_portrait_30fps.mp4")
    stored = tmp_path / "stored.mp4"
    frames = [f.image for f in iter_frames(src, start_s=3.0, end_s=5.0)]
    h, w = frames[0].shape[:2]
    with VideoWriter(stored, fps=30, width_px=h, height_px=w, crf=18) as vw:
        for img in frames:
            vw.write(np.rot90(img, k=-1))  # pixels stored turned 90 deg clockwise (landscape)
    phone = tmp_path / "phone.mp4"
    with av.open(str(stored)) as inp, av.open(str(phone), "w") as out:
        ins = inp.streams.video[0]
        ost = out.add_stream_from_template(ins)
        ost.set_display_rotation(90)  # a player turns it back counter-clockwise
        for packet in inp.demux(ins):
            if packet.dts is not None:
                packet.stream = ost
                out.mux(packet)
    info = probe(phone)
    assert (info.width_px, info.height_px) == (w - w % 2, h - h % 2) and info.rotation_deg == 90
    res = run_cli("pose", str(phone), "-o", str(tmp_path / "out"), "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    from posecoach.io import load_poses

    ds = load_poses(tmp_path / "out" / "poses.nc")
    assert ds.attrs["image_width_px"] < ds.attrs["image_height_px"]  # portrait
    nose_y = ds["position"].sel(keypoint="nose", space="y").values
    ankle_y = ds["position"].sel(keypoint=["left_ankle", "right_ankle"], space="y").values.mean(axis=1)
    ok = np.isfinite(nose_y) & np.isfinite(ankle_y)
    assert ok.mean() > 0.9
    assert np.mean(nose_y[ok] < ankle_y[ok]) > 0.95  # head above feet: upright
    summary = json.loads((tmp_path / "out" / "poses.json").read_text())
    assert summary["detected_fraction"] > 0.9


# --------------------------------------------------------------------------------------------
# the user's files and folders (nothing the user made is overwritten or lost)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_runner(tmp_path_factory) -> Path:
    """poses.nc of a clean synthetic runner, 6 s at 60 fps."""
    from posecoach.io import save_poses
    from posecoach.synthetic import SyntheticRunner

    ds, _ = SyntheticRunner().generate(duration_s=6.0, fps=60.0, seed=0)
    return save_poses(ds, tmp_path_factory.mktemp("runner") / "poses.nc")


@pytest.mark.parametrize("name", ["report.html", "overlay.mp4", "poses.csv", "poses.json"])
def test_analyze_keeps_any_file_it_would_write(tmp_path, capsys, name):
    """Only analysis.json used to be checked: a user's report.html, overlay.mp4 or pose
    files in the output folder were replaced without a word."""
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("mine")
    clip = _tiny_clip(tmp_path / "c.mp4")
    assert main(["analyze", str(clip), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert name in err and "--overwrite" in err
    assert (out / name).read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == [name]


def test_the_input_video_is_never_an_output_even_with_overwrite(tmp_path, capsys):
    """A video called overlay.mp4 analysed into its own folder was replaced by its overlay
    (read and written at once: 7 frames of 60)."""
    folder = tmp_path / "vid"
    folder.mkdir()
    clip = _tiny_clip(folder / "overlay.mp4")
    before = clip.read_bytes()
    assert main(["analyze", str(clip), "-o", str(folder), "--overwrite"]) == 1
    assert "is the file posecoach would write as overlay.mp4" in capsys.readouterr().err
    assert clip.read_bytes() == before


def test_an_output_folder_that_cannot_be_made_is_a_clear_error(tmp_path, capsys, saved_runner):
    (tmp_path / "afile").write_text("not a folder")
    assert main(["analyze", str(saved_runner), "-o", str(tmp_path / "afile" / "sub")]) == 1
    err = capsys.readouterr().err
    assert "cannot write in the output folder" in err and "internal error" not in err


def test_a_failed_run_leaves_no_empty_output_folder(tmp_path, capsys):
    out = tmp_path / "new" / "out"
    assert main(["analyze", str(tmp_path / "nope.mp4"), "-o", str(out)]) == 3
    assert not out.exists()
    kept = tmp_path / "kept"
    kept.mkdir()  # a folder the user made stays
    assert main(["analyze", str(tmp_path / "nope.mp4"), "-o", str(kept)]) == 3
    assert kept.is_dir()


def test_a_netcdf_file_that_is_not_a_pose_dataset_is_a_pose_data_error(tmp_path, capsys):
    import xarray as xr

    other = tmp_path / "other.nc"
    xr.Dataset({"foo": ("x", np.arange(5.0))}).to_netcdf(other, engine="h5netcdf")
    assert main(["analyze", str(other), "-o", str(tmp_path / "out")]) == 4
    err = capsys.readouterr().err
    assert "not a pose dataset written by `posecoach pose`" in err and "internal error" not in err


def test_saved_poses_without_a_person_are_refused_like_a_video_without_one(tmp_path, capsys,
                                                                         saved_runner):
    from posecoach.io import load_poses, save_poses

    ds = load_poses(saved_runner)
    ds["position"][:] = np.nan
    empty = save_poses(ds, tmp_path / "empty.nc")
    assert main(["analyze", str(empty), "-o", str(tmp_path / "out")]) == 6
    err = capsys.readouterr().err
    assert "no person was found" in err and "internal error" not in err


def test_more_workers_than_cores_are_cut_to_the_cores(tmp_path, capfd, monkeypatch):
    """--workers 1000 started 1000 processes (~170 MB each) for the overlay."""
    import posecoach.pose.parallel as parallel

    monkeypatch.setattr(parallel, "default_workers", lambda: 2)
    clip = _tiny_clip(tmp_path / "c.mp4")
    main(["pose", str(clip), "-o", str(tmp_path / "out"), "--workers", "1000"])
    assert "--workers 1000 is more than the 2 cores" in capfd.readouterr().err


def test_a_clip_too_short_to_judge_writes_its_files_and_exits_7(tmp_path, capfd):
    """Exit code 7 (not running) is what a script sees; the files say why."""
    from posecoach.io import save_poses
    from posecoach.synthetic import SyntheticRunner

    ds, _ = SyntheticRunner().generate(duration_s=0.8, fps=60.0, seed=0)
    short = save_poses(ds, tmp_path / "short.nc")
    out = tmp_path / "out"
    assert main(["analyze", str(short), "-o", str(out)]) == 7
    doc = json.loads((out / "analysis.json").read_text())
    assert doc["gait"]["classification"] != "running"
    assert (out / "report.html").exists()
    assert "No running verdicts" in capfd.readouterr().err


def test_poses_without_a_confident_leg_are_a_no_person_error_not_a_crash(tmp_path, capfd):
    """A camera too close (or a console hiding the legs): BlazePose reports the legs at low
    confidence in every frame. That is the user's clip to fix (exit 6), not a bug (exit 70)."""
    from posecoach import synthetic
    from posecoach.io import save_poses

    ds, _ = synthetic.SyntheticRunner(synthetic.RunnerParams.pose_runner()).generate(
        duration_s=3.0, fps=60.0, seed=0)
    legs = [k for k in ds["keypoint"].values
            if any(p in str(k) for p in ("knee", "ankle", "heel", "foot_index"))]
    conf = ds["confidence"].copy()
    conf.loc[{"keypoint": legs}] = 0.2
    nc = save_poses(ds.assign(confidence=conf), tmp_path / "legs_hidden.nc")
    assert main(["-q", "analyze", str(nc), "-o", str(tmp_path / "out")]) == 6
    err = capfd.readouterr().err
    assert "legs" in err and "whole body in the picture" in err and "bug" not in err


@pytest.mark.parametrize("option", [["--model", "heavy"], ["--model-path", "my_model.tflite"]])
def test_a_pose_model_given_with_saved_poses_is_said_to_be_unused(tmp_path, capfd, saved_runner,
                                                                  option):
    """The poses of a .nc are estimated already: --model used to be dropped without a word."""
    assert main(["analyze", str(saved_runner), "-o", str(tmp_path / "out"), *option]) == 0
    err = capfd.readouterr().err
    assert "choose the pose model for a video" in err and "were estimated already" in err
    assert main(["analyze", str(saved_runner), "-o", str(tmp_path / "plain")]) == 0
    assert "choose the pose model" not in capfd.readouterr().err
