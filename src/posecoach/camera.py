"""Camera motion and repeated pictures: how the background moves, frame by frame.

A panning camera that follows an overground runner makes the runner look as if
on a treadmill. The background gives it away: :class:`CameraMotionTracker`
estimates the global translation between consecutive small grey frames with
phase correlation (Kuglin & Hines 1975; OpenCV ``cv2.phaseCorrelate``), after
blanking the people's boxes so that their own motion is not mistaken for the
camera's. Shifts are accumulated into the background's position relative to the
first frame. The same small grey frames give the mean absolute difference to
the previous picture, which shows repeated pictures (frame-rate conversion).

:class:`FrameScanner` does both on any stream of RGB frames. The pose estimator
runs it on the frames it already decodes (no second pass over the video) and
stores the results in the pose dataset as ``camera_shift_px`` (time, space) and
``frame_diff_grey`` (time); :func:`scan_video` returns those when present and
otherwise decodes the video once more at :data:`MOTION_SIDE_PX`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # xarray only where datasets are handled (not in pose worker processes)
    import xarray as xr

__all__ = [
    "MOTION_SIDE_PX",
    "CameraMotionTracker",
    "FrameScanner",
    "VideoScan",
    "blank_boxes",
    "camera_motion",
    "compensate",
    "grey_image",
    "pose_boxes_px",
    "runner_box_px",
    "scan_from_poses",
    "scan_video",
    "sweep_boxes",
]

#: Size (longer side, px) of the grey frames used for phase correlation and differences.
MOTION_SIDE_PX = 256
#: Names of the optional pose-dataset variables written by the pose pass.
SHIFT_VAR, DIFF_VAR = "camera_shift_px", "frame_diff_grey"


def _as_boxes(box_px: np.ndarray | None) -> np.ndarray:
    """``None``, one box (4,) or several (k, 4) -> finite boxes as a (k, 4) array."""
    if box_px is None:
        return np.empty((0, 4))
    boxes = np.asarray(box_px, dtype=np.float64).reshape(-1, 4)
    return boxes[np.isfinite(boxes).all(axis=1)]


def sweep_boxes(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Rectangles to blank in two consecutive frames so no blanked patch moves between them.

    Each current box is merged with the previous box it overlaps most into their
    bounding rectangle (the area the person swept); previous boxes that overlap
    no current box are kept as they are, and so are unmatched current boxes.

    Parameters
    ----------
    prev, cur : ndarray, shape (k, 4)
        Boxes ``(x0, y0, x1, y1)`` of the previous and current frame.

    Returns
    -------
    ndarray, shape (m, 4)
    """
    out: list[np.ndarray] = []
    used = np.zeros(len(prev), dtype=bool)
    for box in cur:
        best, best_area = -1, 0.0
        for j, p in enumerate(prev):
            w = min(box[2], p[2]) - max(box[0], p[0])
            h = min(box[3], p[3]) - max(box[1], p[1])
            if w > 0 and h > 0 and w * h > best_area:
                best, best_area = j, w * h
        if best >= 0:
            p = prev[best]
            used[best] = True
            out.append(np.array([min(box[0], p[0]), min(box[1], p[1]),
                                 max(box[2], p[2]), max(box[3], p[3])]))
        else:
            out.append(box)
    out.extend(prev[~used])
    return np.array(out, dtype=np.float64).reshape(-1, 4)


def blank_boxes(img: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Copy of ``img`` with every box (x0, y0, x1, y1, in ``img`` pixels) set to the mean grey."""
    if len(boxes) == 0:
        return img
    h, w = img.shape
    out = img.copy()
    fill = float(img.mean())
    for x0, y0, x1, y1 in np.asarray(boxes).astype(int):
        out[max(0, y0):min(h, y1 + 1), max(0, x0):min(w, x1 + 1)] = fill
    return out


class CameraMotionTracker:
    """Accumulate the background's image motion over a stream of frames.

    Parameters
    ----------
    min_response : float
        Phase-correlation peak response below which a shift is not trusted
        (treated as zero motion for that frame pair).

    Attributes
    ----------
    shifts_ : list of ndarray (2,)
        Accumulated background shift after each frame (full-size pixels).
    steps_ : list of ndarray (2,)
        Shift between each frame and the one before (zero for the first frame
        and for untrusted pairs), full-size pixels.
    """

    def __init__(self, min_response: float = 0.05) -> None:
        self.min_response = min_response
        self._prev: np.ndarray | None = None
        self._window: np.ndarray | None = None
        self._prev_boxes = np.empty((0, 4))
        self._total = np.zeros(2)
        self.shifts_: list[np.ndarray] = []
        self.steps_: list[np.ndarray] = []

    def update(
        self, grey: np.ndarray, scale: float, box_px: np.ndarray | None = None, *,
        forget_boxes: bool = False,
    ) -> np.ndarray:
        """Add one frame and return the accumulated background shift in full-size pixels.

        Parameters
        ----------
        grey : ndarray (H, W) float32
            Small grey frame.
        scale : float
            ``grey`` size divided by the full frame size.
        box_px : ndarray (4,) or (k, 4), optional
            Box(es) (x0, y0, x1, y1) of the runner or of every person, in
            full-size pixels; blanked out (non-finite boxes are ignored).
        forget_boxes : bool
            Blank only this frame's boxes (not those of the previous frame) in
            both frames, e.g. when the previous frame's boxes are not known.
        """
        import cv2

        img = grey.astype(np.float32)
        boxes = _as_boxes(box_px) * scale
        if self._window is None or self._window.shape != img.shape:
            self._window = cv2.createHanningWindow(img.shape[::-1], cv2.CV_32F)
        step = np.zeros(2)
        if self._prev is not None and self._prev.shape == img.shape:
            # blank the area each person swept between the two frames, in both frames,
            # so the blanked patches themselves do not move between them
            mask = sweep_boxes(np.empty((0, 4)) if forget_boxes else self._prev_boxes, boxes)
            # the window is applied here, not by phaseCorrelate: OpenCV 4.11's windowed path
            # gives results that differ from call to call by ~0.005 px (measured on identical
            # inputs), the unwindowed one is deterministic
            (dx, dy), response = cv2.phaseCorrelate(
                blank_boxes(self._prev, mask) * self._window, blank_boxes(img, mask) * self._window
            )
            if response >= self.min_response:
                step = np.array([dx, dy]) / scale
        self._total = self._total + step
        self._prev = img
        self._prev_boxes = boxes
        self.steps_.append(step)
        self.shifts_.append(self._total.copy())
        return self._total.copy()


def _dft_size(n: int) -> int:
    """Largest even ``m <= n`` that is a product of 2, 3 and 5 (at least 2).

    ``cv2.phaseCorrelate`` zero-pads other sizes to such a size and puts zero
    shift at ``size / 2``, which is half a pixel off for odd sizes; either gives
    a steady sub-pixel bias per frame pair that the accumulated shift turns into
    a drift (measured: 135 or 134 rows drift ~0.5 px per pair, 128 or 144 do not).
    """
    import cv2

    m = max(2, int(n))
    while m > 2 and (m % 2 or cv2.getOptimalDFTSize(m) != m):
        m -= 1
    return m


def grey_image(image: np.ndarray, side_px: int = MOTION_SIDE_PX) -> tuple[np.ndarray, float]:
    """Small grey float32 copy of an RGB image and its size relative to the input.

    The picture is turned grey at its own size, then shrunk by the smallest
    whole factor ``k`` that brings its longer side to at most ``side_px``,
    averaging ``k x k`` blocks (OpenCV's area interpolation has a fast path for
    whole factors: ~0.5 ms for a 960 px frame, against ~2 ms for an arbitrary
    factor). The small size is cut down to an even product of 2, 3 and 5
    (:func:`_dft_size`), dropping a few pixels at the right and bottom edges.

    Returns
    -------
    grey : ndarray (h, w) float32
    scale : float
        ``grey`` size divided by ``image`` size (``1 / k``).
    """
    import cv2

    img = np.ascontiguousarray(image)
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    h, w = grey.shape
    k = max(1, -(-max(h, w) // int(side_px)))
    hk, wk = _dft_size(h // k), _dft_size(w // k)
    grey = grey[: hk * k, : wk * k]
    if k > 1:
        grey = cv2.resize(grey, (wk, hk), interpolation=cv2.INTER_AREA)
    return grey.astype(np.float32), 1.0 / k


class FrameScanner:
    """Per-frame camera motion step and picture difference over a stream of RGB frames.

    Parameters
    ----------
    side_px : int
        Longer side of the grey frames compared.
    min_response : float
        See :class:`CameraMotionTracker`.

    Attributes
    ----------
    tracker : CameraMotionTracker
    """

    def __init__(self, side_px: int = MOTION_SIDE_PX, min_response: float = 0.05) -> None:
        self.side_px = int(side_px)
        self.tracker = CameraMotionTracker(min_response)
        self._prev: np.ndarray | None = None

    def update(
        self, image: np.ndarray, scale: float, boxes_px: np.ndarray | None = None, *,
        forget_boxes: bool = False,
    ) -> tuple[np.ndarray, float]:
        """Add one frame.

        Parameters
        ----------
        image : ndarray (H, W, 3) uint8
            RGB frame, possibly already downscaled.
        scale : float
            ``image`` size divided by the full frame size (:attr:`Frame.scale`).
        boxes_px : ndarray (4,) or (k, 4), optional
            People's boxes in full-size pixels (blanked for the motion estimate).
        forget_boxes : bool
            See :meth:`CameraMotionTracker.update`.

        Returns
        -------
        step_px : ndarray (2,)
            Background shift since the previous frame, full-size pixels.
        diff_grey : float
            Mean absolute grey difference (0..255) to the previous frame; NaN for the first.
        """
        grey, rel = grey_image(image, self.side_px)
        self.tracker.update(grey, scale * rel, boxes_px, forget_boxes=forget_boxes)
        prev = self._prev
        diff = float(np.abs(grey - prev).mean()) if prev is not None and prev.shape == grey.shape \
            else np.nan
        self._prev = grey
        return self.tracker.steps_[-1], diff


def pose_boxes_px(poses: np.ndarray, margin: float = 0.15) -> np.ndarray:
    """Box around each pose's known keypoints (x0, y0, x1, y1), padded by ``margin`` of its size.

    Parameters
    ----------
    poses : ndarray, shape (..., 33, 2 or more)
        Keypoints in pixels (extra columns such as visibility are ignored).

    Returns
    -------
    ndarray, shape (..., 4)
        NaN where a pose has no finite keypoint.
    """
    pos = np.asarray(poses, dtype=np.float64)[..., :2]
    if pos.shape[-2] == 0 or pos.size == 0:
        return np.full((*pos.shape[:-2], 4), np.nan)
    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        lo = np.nanmin(pos, axis=-2)
        hi = np.nanmax(pos, axis=-2)
    pad = (hi - lo) * margin
    return np.concatenate([lo - pad, hi + pad], axis=-1)


def runner_box_px(poses: xr.Dataset, margin: float = 0.15) -> np.ndarray:
    """Per frame, the box around all known keypoints (x0, y0, x1, y1), padded by ``margin``."""
    return pose_boxes_px(poses["position"].values, margin)


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


def scan_from_poses(poses: xr.Dataset) -> VideoScan | None:
    """The scan the pose pass stored in a pose dataset, or None when it holds none.

    Datasets made by :class:`~posecoach.pose.BlazePoseEstimator` carry
    ``camera_shift_px`` (time, space) and ``frame_diff_grey`` (time); files from
    other software or older versions do not.
    """
    if SHIFT_VAR not in poses or DIFF_VAR not in poses:
        return None
    shift = poses[SHIFT_VAR].transpose("time", "space").values.astype(float)
    return VideoScan(shift_px=shift.reshape(-1, 2), frame_diff=poses[DIFF_VAR].values.astype(float))


def scan_video(video_path: str | Path | None, poses: xr.Dataset | None = None) -> VideoScan:
    """Camera motion and frame-to-frame differences, aligned with ``poses["frame"]``.

    When ``poses`` already holds them (:func:`scan_from_poses`, written by the pose
    pass) the video is not read again. Otherwise the video is decoded once at
    :data:`MOTION_SIDE_PX` with each frame's runner box blanked; frames the video
    did not deliver get NaN.
    """
    if poses is not None:
        stored = scan_from_poses(poses)
        if stored is not None:
            return stored
    if video_path is None:
        raise ValueError("scan_video needs the video when the poses hold no scan")
    from posecoach.video import VideoReader

    boxes = runner_box_px(poses) if poses is not None else None
    frame_to_row = (
        {int(f): i for i, f in enumerate(poses["frame"].values)} if poses is not None else None
    )
    scanner = FrameScanner()
    out: dict[int, np.ndarray] = {}
    diffs: dict[int, float] = {}
    for fr in VideoReader(video_path, max_side_px=MOTION_SIDE_PX).frames():
        row = frame_to_row.get(fr.index) if frame_to_row is not None else None
        box = boxes[row] if boxes is not None and row is not None else None
        _, diffs[fr.index] = scanner.update(fr.image, fr.scale, box)
        out[fr.index] = scanner.tracker.shifts_[-1]
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
    import xarray as xr

    out = poses.copy()
    shift = np.nan_to_num(np.asarray(shift_px, dtype=float))
    out["position"] = poses["position"] - xr.DataArray(shift, dims=("time", "space"))
    out.attrs = {**poses.attrs, "camera_compensated": 1}
    return out
