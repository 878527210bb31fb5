"""Camera motion: how far the background moves in the picture, frame by frame.

A panning camera that follows an overground runner makes the runner look as if
on a treadmill. The background gives it away: :class:`CameraMotionTracker`
estimates the global translation between consecutive small grey frames with
phase correlation (Kuglin & Hines 1975; OpenCV ``cv2.phaseCorrelate``), after
blanking the runner's bounding box so that the runner's own motion is not
mistaken for the camera's. Shifts are accumulated into the background's
position relative to the first frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from posecoach.video import VideoReader

#: Size (longer side, px) of the grey frames used for phase correlation.
MOTION_SIDE_PX = 256


class CameraMotionTracker:
    """Accumulate the background's image motion over a stream of frames.

    Parameters
    ----------
    min_response : float
        Phase-correlation peak response below which a shift is not trusted
        (treated as zero motion for that frame pair).
    """

    def __init__(self, min_response: float = 0.05) -> None:
        self.min_response = min_response
        self._prev: np.ndarray | None = None
        self._window: np.ndarray | None = None
        self._prev_box: np.ndarray | None = None
        self._total = np.zeros(2)
        self.shifts_: list[np.ndarray] = []

    def update(self, grey: np.ndarray, scale: float, box_px: np.ndarray | None = None) -> np.ndarray:
        """Add one frame and return the accumulated background shift in full-size pixels.

        Parameters
        ----------
        grey : ndarray (H, W) float32
            Small grey frame.
        scale : float
            ``grey`` size divided by the full frame size.
        box_px : ndarray (4,), optional
            Runner's box (x0, y0, x1, y1) in full-size pixels; blanked out.
        """
        import cv2

        img = grey.astype(np.float32)
        box = box_px * scale if box_px is not None and np.all(np.isfinite(box_px)) else None
        if self._window is None or self._window.shape != img.shape:
            self._window = cv2.createHanningWindow(img.shape[::-1], cv2.CV_32F)
        if self._prev is not None:
            # blank the union of both frames' runner boxes in both frames, so the
            # blanked patch itself does not move between the two
            boxes = [b for b in (self._prev_box, box) if b is not None]
            union = (
                np.array([min(b[0] for b in boxes), min(b[1] for b in boxes),
                          max(b[2] for b in boxes), max(b[3] for b in boxes)])
                if boxes else None
            )
            (dx, dy), response = cv2.phaseCorrelate(
                _blank(self._prev, union), _blank(img, union), self._window
            )
            if response >= self.min_response:
                self._total = self._total + np.array([dx, dy]) / scale
        self._prev = img
        self._prev_box = box
        self.shifts_.append(self._total.copy())
        return self._total.copy()


def _blank(img: np.ndarray, box: np.ndarray | None) -> np.ndarray:
    """Copy of ``img`` with ``box`` (x0, y0, x1, y1, in ``img`` pixels) set to the mean grey."""
    if box is None:
        return img
    h, w = img.shape
    x0, y0, x1, y1 = box.astype(int)
    out = img.copy()
    out[max(0, y0):min(h, y1 + 1), max(0, x0):min(w, x1 + 1)] = float(img.mean())
    return out


def runner_box_px(poses: xr.Dataset, margin: float = 0.15) -> np.ndarray:
    """Per frame, the box around all known keypoints (x0, y0, x1, y1), padded by ``margin``."""
    pos = poses["position"].values
    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        lo = np.nanmin(pos, axis=1)
        hi = np.nanmax(pos, axis=1)
    pad = (hi - lo) * margin
    return np.concatenate([lo - pad, hi + pad], axis=1)


@dataclass
class VideoScan:
    """What one cheap pass over small grey frames tells about the footage.

    Attributes
    ----------
    shift_px : ndarray (n_time, 2)
        Accumulated background displacement since the first frame (full-size px).
    frame_diff : ndarray (n_time,)
        Mean absolute grey difference to the previous frame (0..255; NaN for the first).
    """

    shift_px: np.ndarray
    frame_diff: np.ndarray


def scan_video(video_path: str | Path, poses: xr.Dataset | None = None) -> VideoScan:
    """Camera motion and frame-to-frame differences, aligned with ``poses["frame"]``.

    Frames the video did not deliver get NaN.
    """
    import cv2

    boxes = runner_box_px(poses) if poses is not None else None
    frame_to_row = (
        {int(f): i for i, f in enumerate(poses["frame"].values)} if poses is not None else None
    )
    tracker = CameraMotionTracker()
    out: dict[int, np.ndarray] = {}
    diffs: dict[int, float] = {}
    prev: np.ndarray | None = None
    for fr in VideoReader(video_path, max_side_px=MOTION_SIDE_PX).frames():
        grey = cv2.cvtColor(fr.image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        row = frame_to_row.get(fr.index) if frame_to_row is not None else None
        box = boxes[row] if boxes is not None and row is not None else None
        out[fr.index] = tracker.update(grey, fr.scale, box)
        diffs[fr.index] = float(np.abs(grey - prev).mean()) if prev is not None else np.nan
        prev = grey
    keys = sorted(out) if poses is None else [int(f) for f in poses["frame"].values]
    return VideoScan(
        shift_px=np.array([out.get(k, (np.nan, np.nan)) for k in keys], dtype=float).reshape(-1, 2),
        frame_diff=np.array([diffs.get(k, np.nan) for k in keys], dtype=float),
    )


def camera_motion(video_path: str | Path, poses: xr.Dataset | None = None) -> np.ndarray:
    """Background shift (x, y) in pixels for every frame of ``poses`` (or of the video)."""
    return scan_video(video_path, poses).shift_px


def compensate(poses: xr.Dataset, shift_px: np.ndarray) -> xr.Dataset:
    """Remove camera motion: positions relative to the background of the first frame.

    A background that moved by ``shift`` in the image means every world point is seen
    ``shift`` away from where a still camera would show it; subtracting it gives
    positions as a static camera would see them (a panning shot becomes overground).
    """
    out = poses.copy()
    shift = np.nan_to_num(np.asarray(shift_px, dtype=float))
    out["position"] = poses["position"] - xr.DataArray(shift, dims=("time", "space"))
    out.attrs = {**poses.attrs, "camera_compensated": 1}
    return out
