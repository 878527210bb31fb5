"""BlazePose on every real clip in ../shared/data: the runner is found, and it is the runner.

The frame ranges below are where the runner's (or walker's) whole body is in view. I
found them by decoding the clips and looking at thumbnails of every 3rd-10th frame
(frames are not stored anywhere). Ranges are [first, last + 1) decoded-frame indices
(PyAV decode order; a few clips decode 2-3 frames fewer than OpenCV reports).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_file
from posecoach import dataset
from posecoach.pose import BlazePoseEstimator

pytestmark = [pytest.mark.slow, pytest.mark.realdata, pytest.mark.xdist_group("pose_realclips")]

RUN = "running-videos-licence-unknown/"
WHOLE_BODY_FRAMES = {
    # far and oblique at the start, then side-on, handheld camera: whole body in all 175 frames
    RUN + "overground_side_portrait_30fps.mp4": (0, 175),
    # fixed camera: she enters at the left edge ~frame 30 and is cut by the right edge from ~195
    RUN + "overground_side_static_cam_50fps.mp4": (36, 193),
    # panning camera keeps the runner in view in all 271 frames (player UI bars above/below)
    RUN + "track_side_panning_screenrec_30fps.mp4": (0, 271),
    # treadmill, coach in view throughout; red lines drawn over the body in some segments
    RUN + "treadmill_lean_lesson_tiktok_25fps.mp4": (0, 538),
    # treadmill, runner in view throughout; the spotter (right foreground) hides the lower
    # legs at times from ~frame 61
    RUN + "treadmill_sprint_side_spotter_30fps.mp4": (0, 402),
    # the walker enters from behind the tree at the right (~40-55) and leaves at the left
    # edge (~190-198); a second person stands on the box (frames 0-~170), flips off it and
    # lands in the foreground (~185-229)
    "walking-negative-sports2d/demo.mp4": (56, 189),
}
MIN_DETECTED = 0.90


@pytest.fixture(scope="module")
def estimate():
    """Estimate each clip once per test session (module-scoped cache)."""
    cache = {}

    def run(relpath: str):
        if relpath not in cache:
            path = shared_file(relpath)
            cache[relpath] = BlazePoseEstimator().estimate(path, progress=False)
        return cache[relpath]

    return run


def _hip_xy(ds):
    return ds["position"].sel(keypoint=["left_hip", "right_hip"]).mean("keypoint").values


def _body_height_px(ds):
    y = ds["position"].sel(space="y").values
    return np.nanmax(y, axis=1) - np.nanmin(y, axis=1)


@pytest.mark.parametrize("relpath", sorted(WHOLE_BODY_FRAMES))
def test_runner_detected_where_whole_body_in_view(relpath, estimate):
    from posecoach.video import probe

    ds = estimate(relpath)
    dataset.validate(ds)
    info = probe(shared_file(relpath))
    assert ds.sizes["time"] == info.n_frames  # one entry per decoded frame
    np.testing.assert_array_equal(ds["frame"].values, np.arange(info.n_frames))
    assert ds.attrs["model"] == "blazepose-full"
    assert ds.attrs["source_software"] == "mediapipe-blazepose"
    assert (ds.attrs["image_width_px"], ds.attrs["image_height_px"]) == (info.width_px,
                                                                         info.height_px)
    lo, hi = WHOLE_BODY_FRAMES[relpath]
    found = np.isfinite(ds["position"].values[lo:hi]).all(axis=(1, 2))
    assert found.mean() >= MIN_DETECTED, f"runner found in {found.mean():.1%} of frames {lo}-{hi}"
    # landmarks lie on or near the picture (BlazePose may place hidden feet a little outside)
    x, y = ds["position"].sel(space="x").values, ds["position"].sel(space="y").values
    assert np.nanmedian(x) > 0 and np.nanmedian(x) < info.width_px
    assert np.nanmedian(y) > 0 and np.nanmedian(y) < info.height_px
    conf = ds["confidence"].values
    assert np.nanmin(conf) >= 0 and np.nanmax(conf) <= 1


def test_spotter_clip_keeps_the_runner_not_the_spotter(estimate):
    ds = estimate(RUN + "treadmill_sprint_side_spotter_30fps.mp4")
    hip = _hip_xy(ds)
    # the runner is on the treadmill mid-picture; the static spotter stands at x ~975 px
    assert 500 < np.nanmedian(hip[:, 0]) < 850
    # its ankles cycle: pooled ankle-minus-hip x spreads over > 0.3 body heights (spotter ~0.1)
    ankles = ds["position"].sel(keypoint=["left_ankle", "right_ankle"], space="x").values
    rel = (ankles - hip[:, :1]) / _body_height_px(ds)[:, None]
    p10, p90 = np.nanpercentile(rel, [10, 90])
    assert p90 - p10 > 0.3
    assert any("2 people were in view" in w for w in ds.attrs["warnings"])


def test_walking_clip_keeps_the_walker_not_the_person_on_the_box(estimate):
    ds = estimate("walking-negative-sports2d/demo.mp4")
    lo, hi = WHOLE_BODY_FRAMES["walking-negative-sports2d/demo.mp4"]
    hip = _hip_xy(ds)[lo:hi]
    # the walker's hips are at y ~720 px on the lawn; the box person's at y ~250 px
    assert np.nanmedian(hip[:, 1]) > 550
    # and the walker crosses the picture right to left (~1000 px)
    first, last = hip[np.isfinite(hip[:, 0])][[0, -1], 0]
    assert first - last > 600
    assert any("2 people were in view" in w for w in ds.attrs["warnings"])
