"""Camera motion from a textured background that pans by a known amount."""

import numpy as np
import pytest

from posecoach import dataset
from posecoach.camera import CameraMotionTracker, camera_motion
from posecoach.video import VideoWriter


def _texture(w=2000, h=240, seed=0):
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, size=(h // 8, w // 8))
    return np.kron(small, np.ones((8, 8))).astype(np.uint8)


@pytest.mark.parametrize("step_px", [0, 6, -9])
def test_tracker_follows_known_pan(step_px):
    tex = _texture()
    tracker = CameraMotionTracker()
    for i in range(20):
        x0 = 600 + i * step_px  # camera moves right by step -> background moves left
        tracker.update(tex[:, x0:x0 + 320].astype(np.float32), scale=1.0)
    total = tracker.shifts_[-1]
    assert total[0] == pytest.approx(-19 * step_px, abs=2.0)
    assert abs(total[1]) < 2.0


def test_camera_motion_on_video_with_moving_blob_is_static(tmp_path):
    """A bright 'runner' moving over a still background is not camera motion once boxed out."""
    tex = _texture(w=320, h=240)
    path = tmp_path / "still.mp4"
    with VideoWriter(path, fps=30, width_px=320, height_px=240, crf=12) as w:
        for i in range(30):
            img = np.repeat(tex[..., None], 3, axis=2).copy()
            img[80:200, 100 + 3 * i:140 + 3 * i] = 255
            w.write(img)
    kp = len(dataset.BLAZEPOSE_KEYPOINTS)
    pos = np.full((30, kp, 2), np.nan)
    for i in range(30):  # two keypoints on opposite corners of the blob
        pos[i, 0] = (100 + 3 * i, 80)
        pos[i, 1] = (140 + 3 * i, 200)
    poses = dataset.from_arrays(pos, np.where(np.isnan(pos[..., 0]), np.nan, 1.0), np.arange(30) / 30,
                                fps=30, image_width_px=320, image_height_px=240, source_software="t")
    shift = camera_motion(path, poses)
    assert shift.shape == (30, 2)
    assert np.abs(shift).max() < 3.0  # the blob moved 87 px; the background did not move
