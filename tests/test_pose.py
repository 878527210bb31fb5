"""Unit tests of posecoach.pose: model files, runner selection, estimator on generated video."""

from __future__ import annotations

import shutil
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from posecoach import dataset
from posecoach.errors import ModelNotFoundError, PosecoachError
from posecoach.pose import (
    BlazePoseEstimator,
    CandidateFrames,
    PoseEstimator,
    RunnerTracker,
    candidates_to_dataset,
    models,
)
from posecoach.pose.blazepose import build_task_bundle
from posecoach.pose.tracking import (
    _assignment,
    body_height_px,
    body_heights_px,
    leg_alternation,
    link_tracks,
    pose_centre_px,
    pose_centres_px,
    travel_body_heights,
)

FAKE_TFLITE = b"\x1c\x00\x00\x00TFL3" + bytes(range(256)) * 4


def fake_model(path: Path, salt: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(FAKE_TFLITE + salt)
    return path


@pytest.fixture
def no_download(monkeypatch):
    """Fail the test if anything tries to open a URL (MediaPipe's model download)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:1]}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture
def empty_model_dir(tmp_path, monkeypatch):
    """Pretend MediaPipe's model folder holds no lite/heavy model."""
    folder = tmp_path / "mediapipe_models"
    folder.mkdir()
    monkeypatch.setattr(models, "mediapipe_model_dir", lambda: folder)
    return folder


# ---------------------------------------------------------------- model files


def test_is_tflite_checks_the_magic(tmp_path):
    assert models.is_tflite(fake_model(tmp_path / "a.tflite"))
    (tmp_path / "lfs.tflite").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:ab\n")
    assert not models.is_tflite(tmp_path / "lfs.tflite")
    (tmp_path / "short.tflite").write_bytes(b"\x1c\x00TF")
    assert not models.is_tflite(tmp_path / "short.tflite")
    assert not models.is_tflite(tmp_path / "missing.tflite")


def test_full_model_ships_with_mediapipe_and_is_recognised():
    path = models.find_model("full")
    assert path.name == "pose_landmark_full.tflite" and models.is_tflite(path)
    assert models.identify_model(path) == "full"  # by its SHA-256
    assert models.status()["full"] == path
    assert models.is_tflite(models.detector_model_path())


def test_install_single_file_then_find_and_status(tmp_path):
    src = fake_model(tmp_path / "dl" / "pose_landmark_lite.tflite")
    target = tmp_path / "models"
    installed = models.install(src, target_dir=target)
    assert installed == [target / "pose_landmark_lite.tflite"]
    assert installed[0].read_bytes() == src.read_bytes()
    assert models.find_model("lite", model_dir=target) == installed[0]
    assert models.status(target) == {"lite": installed[0], "full": None, "heavy": None}
    # installing the same file again is a no-op
    assert models.install(src, target_dir=target) == installed
    assert sorted(p.name for p in target.iterdir()) == ["pose_landmark_lite.tflite"]


def test_install_from_unpacked_npm_folder_and_tgz(tmp_path):
    pkg = tmp_path / "npm" / "package"
    fake_model(pkg / "pose_landmark_lite.tflite", b"lite")
    fake_model(pkg / "pose_landmark_heavy.tflite", b"heavy")
    (pkg / "pose.js").write_text("// not a model")
    target = tmp_path / "from_dir"
    got = models.install(tmp_path / "npm", target_dir=target)
    assert sorted(p.name for p in got) == ["pose_landmark_heavy.tflite", "pose_landmark_lite.tflite"]
    assert (target / "pose_landmark_heavy.tflite").read_bytes().endswith(b"heavy")

    tgz = tmp_path / "mediapipe-pose-0.5.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(pkg, arcname="package")
    target2 = tmp_path / "from_tgz"
    got = models.install(tgz, target_dir=target2)
    assert sorted(p.name for p in got) == ["pose_landmark_heavy.tflite", "pose_landmark_lite.tflite"]
    assert models.status(target2)["heavy"] == target2 / "pose_landmark_heavy.tflite"


def test_install_needs_a_name_or_model_argument(tmp_path):
    src = fake_model(tmp_path / "downloaded.tflite")
    with pytest.raises(ModelNotFoundError, match="--model"):
        models.install(src, target_dir=tmp_path / "m")
    got = models.install(src, model="heavy", target_dir=tmp_path / "m")
    assert got == [tmp_path / "m" / "pose_landmark_heavy.tflite"]


def test_install_rejects_non_tflite_missing_and_empty_sources(tmp_path):
    bad = tmp_path / "pose_landmark_lite.tflite"
    bad.write_text("version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(ModelNotFoundError, match="not a TFLite model"):
        models.install(bad, target_dir=tmp_path / "m")
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        models.install(tmp_path / "nope.tgz", target_dir=tmp_path / "m")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="no pose_landmark"):
        models.install(tmp_path / "empty", target_dir=tmp_path / "m")
    not_tgz = tmp_path / "broken.tgz"
    not_tgz.write_bytes(b"not a tar")
    with pytest.raises(ModelNotFoundError, match="tgz"):
        models.install(not_tgz, target_dir=tmp_path / "m")
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())


def test_install_never_replaces_a_different_full_model(tmp_path):
    target = tmp_path / "m"
    fake_model(target / "pose_landmark_full.tflite", b"shipped")
    other = fake_model(tmp_path / "x" / "pose_landmark_full.tflite", b"other")
    with pytest.raises(ModelNotFoundError, match="does not replace"):
        models.install(other, target_dir=target)
    assert (target / "pose_landmark_full.tflite").read_bytes().endswith(b"shipped")


def test_missing_model_error_says_how_to_get_it(tmp_path):
    with pytest.raises(ModelNotFoundError) as err:
        models.find_model("heavy", model_dir=tmp_path)
    msg = str(err.value)
    assert "npm pack @mediapipe/pose" in msg and "posecoach models install" in msg
    assert err.value.exit_code == 5
    with pytest.raises(ModelNotFoundError, match="unknown BlazePose model"):
        models.find_model("huge")
    with pytest.raises(ModelNotFoundError, match="not found"):
        models.find_model("lite", tmp_path / "missing.tflite")
    (tmp_path / "x.tflite").write_text("hello")
    with pytest.raises(ModelNotFoundError, match="not a TFLite"):
        models.find_model("lite", tmp_path / "x.tflite")
    given = fake_model(tmp_path / "mine.tflite")
    assert models.find_model("lite", given) == given.resolve()


@pytest.mark.parametrize("max_people", [1, 2])
@pytest.mark.parametrize("model", ["lite", "heavy"])
def test_estimator_refuses_missing_lite_heavy_without_downloading(
    model, max_people, empty_model_dir, no_download
):
    with pytest.raises(ModelNotFoundError, match="npm pack @mediapipe/pose"):
        BlazePoseEstimator(model=model, max_people=max_people)


def test_legacy_backend_only_uses_the_installed_copy(tmp_path, empty_model_dir, no_download):
    given = fake_model(tmp_path / "pose_landmark_lite.tflite", b"mine")
    est = BlazePoseEstimator(model="lite", model_path=given)  # Tasks backend takes any path
    assert est.model_file == given.resolve()
    with pytest.raises(ModelNotFoundError, match="not installed"):
        BlazePoseEstimator(model="lite", model_path=given, max_people=1)
    models.install(given, target_dir=empty_model_dir)
    est = BlazePoseEstimator(model="lite", model_path=given, max_people=1)
    assert est.model_file == empty_model_dir / "pose_landmark_lite.tflite"


def test_bad_parameters_raise_posecoach_errors():
    with pytest.raises(PosecoachError, match="max_people"):
        BlazePoseEstimator(max_people=0)
    with pytest.raises(PosecoachError, match="min_detection_confidence"):
        BlazePoseEstimator(min_detection_confidence=1.5)
    with pytest.raises(PosecoachError, match="max_side_px"):
        BlazePoseEstimator(max_side_px=10)


def test_task_bundle_is_a_zip_of_two_tflite_models():
    bundle = build_task_bundle(models.detector_model_path(), models.find_model("full"))
    import io
    import time

    time.sleep(2.1)  # zip entries carry a time stamp (2 s resolution): fixed, so builds are equal
    assert build_task_bundle(models.detector_model_path(), models.find_model("full")) == bundle

    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        assert sorted(zf.namelist()) == ["pose_detector.tflite", "pose_landmarks_detector.tflite"]
        for name in zf.namelist():
            assert zf.read(name)[4:8] == b"TFL3"


def test_task_bundle_is_cached_on_disk_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    from posecoach.pose.blazepose import _bundle_cached

    monkeypatch.setenv("POSECOACH_CACHE_DIR", str(tmp_path / "cache"))
    build = _bundle_cached.__wrapped__  # without the in-process memo
    args = (str(models.detector_model_path()), str(models.find_model("full")), ())
    first = build(*args)
    (cached,) = (tmp_path / "cache").glob("pose_landmarker-*.task")
    assert cached.read_bytes() == first
    assert first == build_task_bundle(Path(args[0]), Path(args[1]))
    assert build(*args) == first  # read back
    cached.write_bytes(first[: len(first) // 2])  # a truncated file is rebuilt
    assert build(*args) == first
    assert cached.read_bytes() == first
    assert not list((tmp_path / "cache").glob("*.part"))


def test_task_bundle_without_a_writable_cache_is_built_in_memory(tmp_path, monkeypatch):
    from posecoach.pose.blazepose import _bundle_cached

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("POSECOACH_CACHE_DIR", str(blocker / "cache"))
    bundle = _bundle_cached.__wrapped__(
        str(models.detector_model_path()), str(models.find_model("full")), ()
    )
    assert bundle == build_task_bundle(models.detector_model_path(), models.find_model("full"))


# ---------------------------------------------------------------- runner selection


def synthetic_pose(cx, cy, height, *, ankle_left_dx=0.0, ankle_right_dx=0.0, vis=0.9):
    """A crude 33-landmark figure: torso centred at (cx, cy), feet offsets in body heights."""
    pose = np.zeros((33, 3))
    pose[:, 2] = vis
    top, hip_y, foot_y = cy - 0.55 * height, cy + 0.15 * height, cy + 0.45 * height
    pose[:11, :2] = [cx, top + 0.05 * height]  # head
    pose[[11, 12], :2] = [cx, cy - 0.15 * height]  # shoulders
    pose[[13, 14, 15, 16, 17, 18, 19, 20, 21, 22], :2] = [cx, cy]  # arms
    pose[[23, 24], :2] = [cx, hip_y]
    pose[0, 1] = top  # nose on top: height = foot_y - top
    pose[25, :2] = [cx + 0.5 * ankle_left_dx * height, (hip_y + foot_y) / 2]
    pose[26, :2] = [cx + 0.5 * ankle_right_dx * height, (hip_y + foot_y) / 2]
    for idx, dx in ((27, ankle_left_dx), (29, ankle_left_dx), (31, ankle_left_dx + 0.05),
                    (28, ankle_right_dx), (30, ankle_right_dx), (32, ankle_right_dx + 0.05)):
        pose[idx, :2] = [cx + dx * height, foot_y]
    return pose


def runner_pose(i, fps, cx, cy=300.0, height=300.0):
    s = 0.35 * np.sin(2 * np.pi * 1.4 * i / fps)  # feet pass each other 2.8 times a second
    return synthetic_pose(cx, cy, height, ankle_left_dx=s, ankle_right_dx=-s)


def spotter_pose(cx=900.0, cy=420.0, height=500.0):
    return synthetic_pose(cx, cy, height, ankle_left_dx=0.06, ankle_right_dx=-0.06)


def test_keeps_the_runner_not_the_bigger_static_spotter():
    rng = np.random.default_rng(1)
    fps, n = 30.0, 120
    t = np.arange(n) / fps
    cands, truth = [], np.full((n, 33, 2), np.nan)
    for i in range(n):
        people = [spotter_pose(cx=900 + rng.normal(0, 2))]
        if not 40 <= i < 44:  # runner missed for 4 frames
            pose = runner_pose(i, fps, cx=560 + 5 * np.sin(i / 10))
            truth[i] = pose[:, :2]
            people.append(pose)
        rng.shuffle(people)
        cands.append(np.stack(people))
    tracker = RunnerTracker().detect(cands, t, 1280, 720)
    assert len(tracker.runner_) == 1
    np.testing.assert_allclose(tracker.position_, truth)  # NaN exactly where missed
    assert np.isnan(tracker.confidence_[40:44]).all()
    assert np.nanmax(tracker.confidence_) <= 1.0
    assert tracker.people_per_frame_.max() == 2
    assert any("2 people were in view" in w for w in tracker.warnings_)


def test_single_runner_gives_no_warning_and_every_frame():
    fps, n = 25.0, 60
    cands = [runner_pose(i, fps, cx=200 + 8 * i)[None] for i in range(n)]
    tracker = RunnerTracker().detect(cands, np.arange(n) / fps, 1280, 720)
    assert tracker.warnings_ == []
    assert np.isfinite(tracker.position_).all()
    assert len(tracker.tracks_) == 1


def test_walker_crossing_beats_a_central_person_jumping_to_the_camera():
    """A person facing the camera (feet apart/together) keeps each foot on its side."""
    fps, n = 30.0, 150
    cands = []
    for i in range(n):
        spread = 0.08 + 0.15 * (1 + np.sin(2 * np.pi * 1.5 * i / fps))  # jumping jacks
        jumper = synthetic_pose(640, 260, 320, ankle_left_dx=spread, ankle_right_dx=-spread)
        walker = runner_pose(i, fps, cx=1200 - 6 * i, cy=500, height=300)
        cands.append(np.stack([jumper, walker]))
    tracker = RunnerTracker().detect(cands, np.arange(n) / fps, 1280, 720)
    kept = tracker.tracks_[tracker.runner_[0]]
    assert leg_alternation(kept) > 0.3 and travel_body_heights(kept) > 2
    np.testing.assert_allclose(tracker.position_[:, 0, 1], 500 - 0.55 * 300)


def test_runner_found_again_after_a_long_gap_is_kept():
    fps, n = 30.0, 120
    cands = []
    for i in range(n):
        people = [spotter_pose()]
        if i < 50:
            people.append(runner_pose(i, fps, cx=300))
        elif i >= 80:  # back 1 s later, somewhere else
            people.append(runner_pose(i, fps, cx=650))
        cands.append(np.stack(people))
    tracker = RunnerTracker(max_gap_s=0.5).detect(cands, np.arange(n) / fps, 1280, 720)
    assert len(tracker.runner_) == 2
    found = np.isfinite(tracker.position_[:, 0, 0])
    assert found[:50].all() and found[80:].all() and not found[50:80].any()


def test_duplicates_are_one_person_and_a_one_frame_glitch_does_not_split_the_track():
    fps, n = 30.0, 60
    cands = []
    for i in range(n):
        pose = runner_pose(i, fps, cx=400)
        if i == 30:
            pose = pose + np.array([60.0, 120.0, 0.0])  # a bad frame, 0.4 body heights off
        dup = pose + np.array([4.0, -3.0, -0.2])
        cands.append(np.stack([dup, pose]))
    tracker = RunnerTracker().detect(cands, np.arange(n) / fps, 1280, 720)
    assert tracker.people_per_frame_.max() == 1 and tracker.warnings_ == []
    assert len(tracker.tracks_) == 1
    np.testing.assert_allclose(tracker.confidence_[0], 0.9)  # the better duplicate was kept


def test_link_tracks_keeps_two_crossing_people_apart():
    fps, n = 30.0, 60
    cands = [
        np.stack([runner_pose(i, fps, cx=100 + 10 * i, cy=300),
                  runner_pose(i, fps, cx=700 - 10 * i, cy=330)])[:: 1 if i % 2 else -1]
        for i in range(n)
    ]
    tracks = link_tracks(cands, np.arange(n) / fps)
    assert len(tracks) == 2
    for track in tracks:
        assert len(track) == n
        xs = track.poses[:, 23, 0]
        assert np.all(np.diff(xs) > 0) or np.all(np.diff(xs) < 0)


def test_frames_the_video_did_not_deliver_are_rows_without_a_person():
    """Frames left out as damaged (indices 3-4 missing) become rows where nobody was found,
    at times interpolated by frame index, so later stages sampling at the frame rate see a
    gap instead of one interval; the camera shift and the delivered rows are unchanged."""
    delivered = [0, 1, 2, 5, 6]
    frames = CandidateFrames(
        time_s=np.array(delivered) / 10, frame=np.array(delivered),
        candidates=[runner_pose(i, 10.0, cx=400)[None] for i in delivered], fps=10.0,
        image_width_px=1280, image_height_px=720,
        camera_step_px=np.array([[0, 0], [1, 0], [1, 0], [3, 0], [1, 0]], float),
        frame_diff_grey=np.array([np.nan, 1, 2, 3, 4.0]),
        left_out={3: 0.29, 4: 0.41},  # the reader's true times (here off the grid on purpose)
    )
    full = frames.with_lost_frames()
    np.testing.assert_array_equal(full.frame, np.arange(7))
    np.testing.assert_allclose(full.time_s, [0, 0.1, 0.2, 0.29, 0.41, 0.5, 0.6])
    assert [len(c) for c in full.candidates] == [1, 1, 1, 0, 0, 1, 1]
    np.testing.assert_allclose(np.cumsum(full.camera_step_px, axis=0)[[0, 1, 2, 5, 6]],
                               np.cumsum(frames.camera_step_px, axis=0))
    assert np.isnan(full.frame_diff_grey[[3, 4]]).all()
    ds = candidates_to_dataset(frames)
    assert ds.sizes["time"] == 7
    found = np.isfinite(ds["position"].values).any(axis=(1, 2))
    np.testing.assert_array_equal(found, [1, 1, 1, 0, 0, 1, 1])
    assert ds.attrs["detected_fraction"] == pytest.approx(5 / 7)
    note = ds.attrs["warnings"][0]
    assert note.startswith("the video holds damaged data: frames 3-4 (0.29-0.41 s)")
    assert "left and right after it may be exchanged" in note
    # segments that each saw part of the damage give one note for the clip
    a, b = frames.select(np.arange(5) < 3), frames.select(np.arange(5) >= 3)
    a.left_out, b.left_out = {3: 0.29}, {3: 0.29, 4: 0.41}
    joined = CandidateFrames.concat([a, b])
    assert joined.left_out == {3: 0.29, 4: 0.41}
    notes = [w for w in candidates_to_dataset(joined).attrs["warnings"] if "damaged" in w]
    assert len(notes) == 1 and "frames 3-4 " in notes[0]
    # nothing to fill: the same object back
    assert a.with_lost_frames() is a


def test_a_hole_of_damaged_frames_does_not_split_the_runner():
    """2 s of frames left out as damaged (60-119) lie between the runner's running and her
    standing on the belt's rails (legs still) while a bigger spotter stands by. Tracked
    across the hole as if it were one frame interval, she stays one track and is kept in
    both parts; with the hole as a 2 s gap her second part was a track of its own, whose
    legs do not alternate, and was dropped (the real spotter clip, damaged, kept 25 %)."""
    fps = 30.0
    delivered = [i for i in range(150) if not 60 <= i < 120]
    cands = [np.stack([runner_pose(i, fps, cx=400) if i < 60 else synthetic_pose(400, 300, 300),
                       spotter_pose()]) for i in delivered]
    frames = CandidateFrames(time_s=np.array(delivered) / fps, frame=np.array(delivered),
                             candidates=cands, fps=fps, image_width_px=1280, image_height_px=720,
                             left_out={i: i / fps for i in range(60, 120)})
    ds = candidates_to_dataset(frames)
    hips = ds["position"].sel(keypoint="left_hip").values[:, 0]
    found = np.isfinite(hips)
    np.testing.assert_array_equal(found, [not 60 <= i < 120 for i in range(150)])
    np.testing.assert_allclose(hips[found], hips[0], atol=40)  # the runner, not the spotter


def test_candidates_to_dataset_and_segments_join():
    fps, n = 30.0, 40
    t = np.arange(n) / fps
    cands = [runner_pose(i, fps, cx=400)[None] if i % 10 else np.empty((0, 33, 3)) for i in range(n)]

    def part(lo, hi):
        return CandidateFrames(
            time_s=t[lo:hi], frame=np.arange(lo, hi), candidates=cands[lo:hi], fps=fps,
            image_width_px=1280, image_height_px=720, source_file="clip.mp4",
            model="blazepose-full", warnings=[f"w{lo}", "same"],
        )

    joined = CandidateFrames.concat([part(20, n), part(0, 25)])  # out of order, overlapping
    np.testing.assert_array_equal(joined.frame, np.arange(n))
    ds = candidates_to_dataset(joined)
    dataset.validate(ds)
    assert ds.sizes["time"] == n
    assert ds.attrs["source_software"] == "mediapipe-blazepose"
    assert ds.attrs["model"] == "blazepose-full" and ds.attrs["source_file"] == "clip.mp4"
    assert ds.attrs["warnings"] == ["w20", "same", "w0"]  # de-duplicated
    assert ds.attrs["detected_fraction"] == pytest.approx(36 / 40)
    assert dataset.detected_fraction(ds) == pytest.approx(36 / 40)
    assert np.isnan(ds["position"].values[::10]).all()


# ---------------------------------------------------------------- estimator on generated video


@pytest.fixture(scope="module")
def blank_video(tmp_path_factory) -> Path:
    # 166 px wide: PyAV pads such rows, so frames arrive as non-contiguous arrays
    from posecoach.video import VideoWriter

    path = tmp_path_factory.mktemp("video") / "blank.mp4"
    rng = np.random.default_rng(0)
    with VideoWriter(path, fps=10.0, width_px=166, height_px=120) as writer:
        for _ in range(12):
            writer.write(np.full((120, 166, 3), 90, np.uint8) + rng.integers(0, 20, (120, 166, 3),
                                                                             dtype=np.uint8))
    return path


@pytest.mark.parametrize("max_people", [2, 1])
def test_blank_video_gives_all_nan_dataset(blank_video, max_people, no_download):
    est = BlazePoseEstimator(max_people=max_people)
    assert isinstance(est, PoseEstimator)
    ds = est.estimate(blank_video, progress=False)
    dataset.validate(ds)
    assert dict(ds.sizes) == {"time": 12, "keypoint": 33, "space": 2}
    assert np.isnan(ds["position"].values).all() and np.isnan(ds["confidence"].values).all()
    np.testing.assert_array_equal(ds["frame"].values, np.arange(12))
    np.testing.assert_allclose(ds["time"].values, np.arange(12) / 10.0, atol=1e-6)
    assert ds.attrs["source_software"] == "mediapipe-blazepose"
    assert ds.attrs["model"] == "blazepose-full"
    assert ds.attrs["source_file"] == str(blank_video)
    assert (ds.attrs["image_width_px"], ds.attrs["image_height_px"]) == (166, 120)
    assert ds.attrs["fps"] == pytest.approx(10.0)
    assert ds.attrs["detected_fraction"] == 0.0 and dataset.detected_fraction(ds) == 0.0
    assert any("no person" in w for w in ds.attrs["warnings"])


def test_time_segment_estimates_only_its_frames(blank_video):
    ds = BlazePoseEstimator().estimate(blank_video, progress=False, start_s=0.25, end_s=0.65)
    np.testing.assert_array_equal(ds["frame"].values, [3, 4, 5, 6])
    assert ds.attrs["segment_start_s"] == 0.25 and ds.attrs["segment_end_s"] == 0.65
    # a segment past the end is empty, not an error (segments of a split job may overshoot)
    empty = BlazePoseEstimator().estimate(blank_video, progress=False, start_s=5.0)
    assert empty.sizes["time"] == 0 and empty.attrs["detected_fraction"] == 0.0


def test_progress_bar_goes_to_stderr_and_can_be_silenced(blank_video, capsys):
    est = BlazePoseEstimator()
    est.estimate(blank_video, progress=True)
    err = capsys.readouterr().err
    assert "12/12" in err and "frame" in err
    est.estimate(blank_video, progress=False)
    captured = capsys.readouterr()
    assert "12/12" not in captured.err and "12/12" not in captured.out


def test_body_size_and_centre_of_a_stack_follow_their_definitions():
    rng = np.random.default_rng(5)
    poses = rng.uniform(0, 500, size=(6, 33, 3))
    poses[1, 11, :2] = np.nan  # torso incomplete: centre from all finite landmarks
    poses[2] = np.nan  # nobody: NaN centre, size 1 px (the floor)
    poses[3, :, 1] = 100.0  # lying flat: size from 3 x the trunk
    poses[3, [11, 12], :2] = [[0, 100], [0, 100]]
    poses[3, [23, 24], :2] = [[40, 100], [40, 100]]
    centres, heights = pose_centres_px(poses), body_heights_px(poses)
    assert centres.shape == (6, 2) and heights.shape == (6,)
    np.testing.assert_allclose(centres[0], poses[0, [11, 12, 23, 24], :2].mean(axis=0))
    np.testing.assert_allclose(centres[1], np.nanmean(poses[1, :, :2], axis=0))
    assert np.isnan(centres[2]).all() and heights[2] == 1.0
    assert heights[3] == pytest.approx(120.0)
    trunk = np.hypot(*(poses[0, [11, 12], :2].mean(axis=0) - poses[0, [23, 24], :2].mean(axis=0)))
    np.testing.assert_allclose(heights[0], max(np.ptp(poses[0, :, 1]), 3 * trunk))
    for k in range(6):  # the one-pose functions are the same numbers
        assert body_height_px(poses[k]) == heights[k]
        np.testing.assert_array_equal(pose_centre_px(poses[k]), centres[k])
    assert pose_centres_px(poses[:0]).shape == (0, 2) and body_heights_px(poses[:0]).shape == (0,)


@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (4, 1), (3, 3), (2, 5)])
def test_assignment_is_scipys_optimum(shape):
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        cost = rng.uniform(0, 1, size=shape)
        cost[rng.uniform(size=shape) < 0.3] = 1e6  # gated-out pairs
        rows, cols = _assignment(cost)
        ref_rows, ref_cols = linear_sum_assignment(cost)
        assert cost[rows, cols].sum() == pytest.approx(cost[ref_rows, ref_cols].sum())
        assert len(rows) == len(ref_rows) == min(shape)


def test_a_model_file_given_by_path_is_used_and_recorded_as_what_it_is(tmp_path):
    """The shipped full model under a heavy name, with --model lite: its checksum says full,
    so the full model runs (the legacy solution's own copy) and the dataset says so; a file
    known only by its name (README: my/pose_landmark_heavy.tflite) is that model."""
    full = shutil.copy(models.find_model("full"), tmp_path / "pose_landmark_heavy.tflite")
    est = BlazePoseEstimator(model="lite", model_path=full)
    assert est.model == "full"
    named = fake_model(tmp_path / "pose_landmark_heavy.tflite", b"mine")
    assert BlazePoseEstimator(model="full", model_path=named).model == "heavy"


def test_models_install_takes_the_model_its_error_message_names(tmp_path, empty_model_dir, capfd):
    """A renamed file: the error says to say which with --model, and the command takes it."""
    from posecoach.cli import main

    renamed = fake_model(tmp_path / "my_model.tflite", b"mine")
    assert main(["-q", "models", "install", str(renamed)]) == 5
    assert "say which with --model" in capfd.readouterr().err
    assert main(["-q", "models", "install", str(renamed), "--model", "heavy"]) == 0
    assert (empty_model_dir / "pose_landmark_heavy.tflite").read_bytes() == renamed.read_bytes()
