"""posecoach.pose.parallel: segment plans, stitching, worker processes; the auto route's check.

The planning and stitching tests run on synthetic frame times and candidate data
(Hypothesis). The process tests use a small generated video; the slow real-data
tests compare 1 and 2 workers on real clips.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_file
from posecoach import camera, dataset
from posecoach.errors import PosecoachError, VideoError
from posecoach.io import load_poses, save_poses
from posecoach.pose import BlazePoseEstimator, CandidateFrames, candidates_to_dataset
from posecoach.pose.blazepose import someone_else
from posecoach.pose.parallel import (
    ParallelPoseEstimator,
    decode_cost_for,
    frame_layout,
    plan_segments,
    segment_cost,
    stitch,
)

EPS = 1e-9  # VideoReader.frames keeps start_s - EPS <= time_s < end_s - EPS


# ------------------------------------------------------------------ synthetic layouts


@st.composite
def layouts(draw):
    """Frame times (regular or irregular), key frames, chunk starts, workers, start-up cost."""
    n = draw(st.integers(0, 3000))
    fps = draw(st.sampled_from([23.976, 25.0, 30.0, 50.0, 59.94, 120.0, 240.0]))
    if draw(st.booleans()):
        jitter = draw(st.floats(0.0, 0.45))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        dt = (1.0 + rng.uniform(-jitter, jitter, max(n - 1, 0))) / fps  # variable frame rate
        t = np.concatenate([[0.0], np.cumsum(dt)])[:n]
    else:
        t = np.arange(n) / fps
    gop = draw(st.sampled_from([1, 12, 30, 60, 250, 10_000]))
    key = np.zeros(n, dtype=bool)
    key[::gop] = True
    chunk = draw(st.sampled_from([1, 7, 90, 150, 720]))
    workers = draw(st.integers(1, 16))
    min_frames = draw(st.sampled_from([1, 10, 150]))
    startup = draw(st.sampled_from([0.0, 30.0, 500.0]))
    return t, key, np.arange(n) % chunk == 0, workers, min_frames, startup


def _plan(layout):
    t, key, can_start, workers, min_frames, startup = layout
    return plan_segments(t, workers, can_start=can_start, is_key=key,
                         min_segment_frames=min_frames, startup_frames=startup)


def _reader_rows(t: np.ndarray, start_s: float | None, end_s: float | None) -> np.ndarray:
    """Frames VideoReader.frames(start_s, end_s) yields (its comparison rule)."""
    keep = np.ones(t.size, dtype=bool)
    if start_s is not None:
        keep &= t >= start_s - EPS
    if end_s is not None:
        keep &= t < end_s - EPS
    return np.flatnonzero(keep)


def _fake_worker(t: np.ndarray, seg, seed: int) -> CandidateFrames:
    """What a worker returns for a segment: each frame's candidate encodes its index.

    It also returns the frame decoded before the segment, with a wrong value, so a
    stitch that kept a frame it does not own is caught.
    """
    rows = _reader_rows(t, seg.start_s, seg.end_s)
    rng = np.random.default_rng(seed)
    cands = []
    for r in rows:
        k = int(rng.integers(0, 3))  # 0-2 people
        value = r if r >= seg.first_frame else -1 - r
        cands.append(np.full((k, 33, 3), float(value)))
    steps = np.column_stack([rows, -rows]).astype(float)
    steps[rows < seg.first_frame] = np.nan
    return CandidateFrames(
        time_s=t[rows], frame=rows.astype(np.int64), candidates=cands, fps=30.0,
        image_width_px=640, image_height_px=360, attrs={"person_checks": 1},
        camera_step_px=steps, frame_diff_grey=rows.astype(float),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_plan_partitions_frames_at_chunk_starts(layout):
    t, key, can_start, workers, min_frames, _ = layout
    segs = _plan(layout)
    n = t.size
    if n == 0:
        assert segs == []
        return
    assert 1 <= len(segs) <= workers
    assert len(segs) == 1 or n // len(segs) >= min(min_frames, n)
    # frame ranges: contiguous, in order, non-empty, covering 0..n-1 exactly
    assert segs[0].first_frame == 0 and segs[-1].end_frame == n
    for a, b in itertools.pairwise(segs):
        assert a.end_frame == b.first_frame
    assert all(s.n_frames > 0 for s in segs)
    for s in segs:
        assert can_start[s.first_frame]  # where the estimator resets its model
        prime = max(s.first_frame - 1, 0)
        # decoding starts at the last key frame at or before the frame before the segment
        assert key[s.decode_first_frame] and s.decode_first_frame <= prime
        assert not key[s.decode_first_frame + 1:prime + 1].any()
        # the time range handed to the reader: the frame before the segment, then its frames
        rows = _reader_rows(t, s.start_s, s.end_s)
        np.testing.assert_array_equal(rows, np.arange(prime, s.end_frame))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts(), st.integers(0, 1000))
def test_stitch_keeps_every_frame_once_in_order_from_its_owner(layout, seed):
    t = layout[0]
    if t.size == 0:
        return
    segs = _plan(layout)
    parts = [_fake_worker(t, s, seed + i) for i, s in enumerate(segs)]
    out = stitch(parts, segs)
    n = t.size
    np.testing.assert_array_equal(out.frame, np.arange(n))
    np.testing.assert_array_equal(out.time_s, t)
    assert len(out.candidates) == n
    for i, c in enumerate(out.candidates):
        assert c.shape[1:] == (33, 3) and np.all(c == i)  # the owner's value, never a primer's
    np.testing.assert_array_equal(out.camera_step_px, np.column_stack([np.arange(n), -np.arange(n)]))
    np.testing.assert_array_equal(out.frame_diff_grey, np.arange(n))
    assert out.attrs["person_checks"] == len(segs)


def _brute_force_min_max(can_start, key, k, decode_cost, startup):
    """Smallest possible largest segment cost over all splits into at most k segments."""
    from posecoach.pose.parallel import _decode_starts

    n = can_start.size
    ds = _decode_starts(key)
    allowed = [i for i in range(1, n) if can_start[i]]
    best = float(n)
    for m in range(2, k + 1):
        for cuts in itertools.combinations(allowed, m - 1):
            bounds = (0, *cuts, n)
            cost = max(segment_cost(a, b, ds, decode_cost) + (startup if a else 0.0)
                       for a, b in itertools.pairwise(bounds))
            best = min(best, cost)
    return best


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 40), st.integers(2, 3), st.sampled_from([1, 2, 5]),
       st.sampled_from([1, 3, 7, 100]), st.sampled_from([0.0, 0.15, 0.5]),
       st.sampled_from([0.0, 2.0, 7.5]))
def test_plan_minimises_the_largest_segment_cost(n, k, chunk, gop, decode_cost, startup):
    from posecoach.pose.parallel import _decode_starts

    t = np.arange(n) / 30.0
    key = np.zeros(n, dtype=bool)
    key[::gop] = True
    can_start = np.arange(n) % chunk == 0
    segs = plan_segments(t, k, can_start=can_start, is_key=key, decode_cost=decode_cost,
                         startup_frames=startup)
    ds = _decode_starts(key)
    worst = max(segment_cost(s.first_frame, s.end_frame, ds, decode_cost)
                + (startup if s.index else 0.0) for s in segs)
    best = _brute_force_min_max(can_start, key, k, decode_cost, startup)
    assert worst == pytest.approx(best, abs=1e-6)


def test_plan_balances_two_processes_and_charges_decoding_and_startup():
    t = np.arange(1000) / 50.0
    even = plan_segments(t, 2)
    assert [s.n_frames for s in even] == [500, 500]
    # the calling process starts at once, a spawned one later: it gets fewer frames
    late = plan_segments(t, 2, startup_frames=40)
    assert [s.n_frames for s in late] == [520, 480]
    # one key frame every 5 s: the second segment decodes from the key frame before it, so
    # a boundary just after a key frame is cheapest
    key = np.zeros(1000, dtype=bool)
    key[::250] = True
    gop = plan_segments(t, 2, is_key=key, decode_cost=0.2)
    assert gop[1].decode_first_frame == 250 * ((gop[1].first_frame - 1) // 250)
    assert gop[1].first_frame - 1 - gop[1].decode_first_frame < 250
    # only chunk starts (every 150 frames) may begin a segment
    chunks = plan_segments(t, 2, can_start=np.arange(1000) % 150 == 0)
    assert chunks[1].first_frame % 150 == 0 and chunks[1].first_frame in (450, 600)
    # decoding weighs more for bigger pictures (measured ~5 ms per 1080p frame, ~20 ms for 4K)
    assert 0 < decode_cost_for(1280, 720) < decode_cost_for(1920, 1080) < decode_cost_for(3840, 2160)
    assert decode_cost_for(1920, 1080) == pytest.approx(0.18, abs=0.02)
    # too short to be worth splitting
    assert len(plan_segments(t[:200], 4, min_segment_frames=150)) == 1
    with pytest.raises(ValueError, match="increasing"):
        plan_segments([0.0, 0.1, 0.1], 2)


# ------------------------------------------------------------------ candidate data and the scan


def test_select_concat_and_dataset_keep_the_camera_scan(tmp_path):
    n = 6
    frames = CandidateFrames(
        time_s=np.arange(n) / 10, frame=np.arange(n), candidates=[np.empty((0, 33, 3))] * n,
        fps=10.0, image_width_px=100, image_height_px=80,
        camera_step_px=np.array([[0, 0], [1, 0], [2, 1], [0, -1], [1, 1], [0, 0]], float),
        frame_diff_grey=np.array([np.nan, 1, 2, 3, 4, 5.0]),
    )
    a, b = frames.select(np.arange(n) < 4), frames.select(np.arange(n) >= 2)
    joined = CandidateFrames.concat([b, a])
    np.testing.assert_array_equal(joined.frame, np.arange(n))
    np.testing.assert_array_equal(joined.camera_step_px, frames.camera_step_px)
    ds = candidates_to_dataset(joined)
    np.testing.assert_allclose(ds["camera_shift_px"].values,
                               np.cumsum(frames.camera_step_px, axis=0))
    assert ds["camera_shift_px"].dims == ("time", "space")
    path = save_poses(ds, tmp_path / "p.nc")
    back = load_poses(path)
    scan = camera.scan_from_poses(back)
    np.testing.assert_allclose(scan.shift_px, ds["camera_shift_px"].values)
    np.testing.assert_allclose(scan.frame_diff, frames.frame_diff_grey)
    # the analysis reads the stored scan instead of decoding the video again
    again = camera.scan_video(tmp_path / "no_such_video.mp4", back)
    np.testing.assert_allclose(again.shift_px, scan.shift_px)
    # a dataset without the scan (another tool's file) has none
    assert camera.scan_from_poses(back.drop_vars(["camera_shift_px", "frame_diff_grey"])) is None
    with pytest.raises(ValueError):
        frames.select(np.ones(3, dtype=bool))


def _person(cx: float, height: float = 200.0) -> np.ndarray:
    pose = np.zeros((33, 3))
    pose[:, 0] = cx + np.linspace(-20, 20, 33)
    pose[:, 1] = np.linspace(100, 100 + height, 33)
    pose[:, 2] = 0.9
    return pose


def test_someone_else_sees_a_second_person_or_a_different_one():
    runner, other = _person(300), _person(800)
    assert not someone_else(np.empty((0, 33, 3)), runner[None])
    assert not someone_else(runner[None] + 3.0, runner[None])  # the same person, a few px off
    assert someone_else(np.stack([runner, other]), runner[None])  # two people
    assert someone_else(other[None], runner[None])  # the legacy model follows someone else
    assert not someone_else(other[None], np.empty((0, 33, 3)))  # nobody followed yet


def test_single_route_is_doubted_when_it_followed_different_people():
    est = BlazePoseEstimator()
    t = np.arange(60) / 30.0
    walker = [(_person(300 + 4 * i)[None]) for i in range(30)]
    other = [(_person(1200)[None]) for _ in range(30)]
    one = CandidateFrames(time_s=t, frame=np.arange(60), candidates=walker + walker[-1:] * 30,
                          fps=30.0, image_width_px=1920, image_height_px=1080)
    assert est.single_route_doubt(one) is None
    two = CandidateFrames(time_s=t, frame=np.arange(60), candidates=walker + other, fps=30.0,
                          image_width_px=1920, image_height_px=1080)
    assert "jumped to another person at frame 30" in est.single_route_doubt(two)
    # the runner passing a fixed camera twice (nobody in view for 1 s between) is trusted
    nobody = [np.empty((0, 33, 3))] * 30
    t2 = np.arange(90) / 30.0
    passes = CandidateFrames(time_s=t2, frame=np.arange(90), candidates=walker + nobody + walker,
                             fps=30.0, image_width_px=1920, image_height_px=1080)
    assert est.single_route_doubt(passes) is None
    # but a hole of 1 s of frames the video could not deliver is no time without the
    # runner: someone else right after it is a jump (the runner tracker sees it the same way)
    holed = np.r_[0:30, 60:90]
    hole = CandidateFrames(time_s=t2[holed], frame=holed, candidates=walker + other, fps=30.0,
                           image_width_px=1920, image_height_px=1080,
                           left_out={int(i): i / 30.0 for i in range(30, 60)})
    assert "jumped to another person at frame 60" in est.single_route_doubt(hole)


def test_bad_parameters_are_user_errors():
    with pytest.raises(PosecoachError, match="workers"):
        ParallelPoseEstimator(workers=0)
    with pytest.raises(PosecoachError, match="mode"):
        BlazePoseEstimator(mode="fast")


# ------------------------------------------------------------------ processes on a generated video


@pytest.fixture(scope="module")
def textured_video(tmp_path_factory):
    """A 3 s clip with a moving texture (no person): 90 frames at 30 fps, key frame every 20."""
    import av

    path = tmp_path_factory.mktemp("video") / "texture.mp4"
    rng = np.random.default_rng(1)
    tex = np.kron(rng.integers(0, 255, (30, 80)), np.ones((8, 8))).astype(np.uint8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"g": "20", "keyint_min": "20", "sc_threshold": "0"}
        for i in range(90):
            img = np.repeat(tex[:, 2 * i:2 * i + 320, None], 3, axis=2)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_frame_layout_matches_the_reader(textured_video):
    from posecoach.video import VideoReader

    t, key = frame_layout(textured_video)
    got = [(f.index, f.time_s) for f in VideoReader(textured_video, max_side_px=64).frames()]
    np.testing.assert_array_equal([i for i, _ in got], np.arange(t.size))
    np.testing.assert_allclose([s for _, s in got], t, atol=1e-9)
    np.testing.assert_array_equal(np.flatnonzero(key), np.arange(0, 90, 20))


def test_two_worker_processes_give_the_one_process_result(textured_video):
    est = BlazePoseEstimator(chunk_s=1.0)  # chunks of 30 frames: segments may start at 30, 60
    one = ParallelPoseEstimator(est, workers=1).estimate(textured_video, progress=False)
    par = ParallelPoseEstimator(est, workers=2, min_segment_frames=30)
    two = par.estimate(textured_video, progress=False)
    assert len(par.segments_) == 2 and two.attrs["pose_workers"] == 2
    assert par.segments_[1].first_frame in (30, 60)
    dataset.validate(two)
    np.testing.assert_array_equal(two["frame"].values, np.arange(90))
    np.testing.assert_array_equal(two["time"].values, one["time"].values)
    assert np.isnan(two["position"].values).all()
    # the scan made in the pose pass is the same to the last bit (the frame before a
    # segment is decoded for it): the texture moves 2 px per frame to the left
    np.testing.assert_array_equal(two["camera_shift_px"].values, one["camera_shift_px"].values)
    np.testing.assert_array_equal(two["frame_diff_grey"].values, one["frame_diff_grey"].values)
    np.testing.assert_allclose(np.diff(two["camera_shift_px"].values[:, 0]), -2.0, atol=0.3)
    assert "nobody but the person followed" in two.attrs["person_check"]
    assert two.attrs["person_checks"] == one.attrs["person_checks"]


def test_one_thread_pass_is_the_same_and_restores_opencv_threads(textured_video):
    import cv2

    est = BlazePoseEstimator(mode="single")
    before = cv2.getNumThreads()
    a = est.estimate_segment(textured_video)
    b = est.estimate_segment(textured_video, one_thread=True)
    assert cv2.getNumThreads() == before
    np.testing.assert_array_equal(a.frame, b.frame)
    np.testing.assert_array_equal(a.camera_step_px, b.camera_step_px)
    np.testing.assert_array_equal(a.frame_diff_grey, b.frame_diff_grey)


class FailingLaterSegments(BlazePoseEstimator):
    """Fails in every segment but the first (which the calling process estimates)."""

    def estimate_segment(self, video_path, *, start_s=None, **kwargs):
        if start_s is not None:
            raise VideoError("decoding failed in a worker")
        return super().estimate_segment(video_path, start_s=start_s, **kwargs)


def test_worker_errors_reach_the_caller(textured_video, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(VideoError):
        ParallelPoseEstimator(workers=2).estimate(bad, progress=False)
    failing = ParallelPoseEstimator(FailingLaterSegments(chunk_s=1.0), workers=2,
                                    min_segment_frames=30)
    with pytest.raises(VideoError, match="in a worker"):
        failing.estimate(textured_video, progress=False)


# ------------------------------------------------------------------ real clips


def _events(poses, video):
    from posecoach import pipeline

    ev = pipeline.analyze_poses(poses, video_path=video).events
    return [(str(r.side), str(r.kind), int(r.frame)) for r in ev.itertuples()]


@pytest.mark.slow
@pytest.mark.realdata
def test_one_and_two_workers_give_the_same_result_on_a_real_clip():
    clip = shared_file("running-videos-licence-unknown/track_side_panning_screenrec_30fps.mp4")
    est = BlazePoseEstimator()
    one = ParallelPoseEstimator(est, workers=1).estimate(clip, progress=False)
    par = ParallelPoseEstimator(est, workers=2, min_segment_frames=100)
    two = par.estimate(clip, progress=False)
    assert len(par.segments_) == 2 and par.route_ == "single"
    assert par.segments_[1].first_frame % est.chunk_frames(one.attrs["fps"]) == 0
    np.testing.assert_array_equal(one["frame"].values, two["frame"].values)
    np.testing.assert_array_equal(one["time"].values, two["time"].values)
    for var in ("position", "confidence", "camera_shift_px", "frame_diff_grey"):
        np.testing.assert_array_equal(one[var].values, two[var].values, err_msg=var)
    assert one.attrs["detected_fraction"] > 0.9
    # hence the same gait events (the brief asks for "within one frame"; they are equal)
    ev1, ev2 = _events(one, clip), _events(two, clip)
    assert len(ev1) >= 6
    assert ev1 == ev2


@pytest.mark.slow
@pytest.mark.realdata
def test_auto_switches_to_multi_person_across_workers_on_the_walking_clip():
    clip = shared_file("walking-negative-sports2d/demo.mp4")
    par = ParallelPoseEstimator(BlazePoseEstimator(), workers=2, min_segment_frames=100)
    ds = par.estimate(clip, progress=False)
    # the single-person model followed the person on the box, then the walker: not trusted
    assert par.route_ == "multi"
    assert "estimated with the multi-person model" in ds.attrs["person_check"]
    np.testing.assert_array_equal(ds["frame"].values, np.arange(ds.sizes["time"]))
    # the walker (hips at y ~720 px on the lawn), not the person on the box (y ~250 px)
    hip_y = ds["position"].sel(keypoint=["left_hip", "right_hip"], space="y").mean("keypoint")
    assert float(np.nanmedian(hip_y.values[56:189])) > 550
