"""Stick-figure video of a pose dataset (H.264 MP4 via :class:`posecoach.video.VideoWriter`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from posecoach._draw import ONE as _ONE
from posecoach._draw import SHIFT as _SHIFT
from posecoach._draw import draw_line
from posecoach._draw import fixed_point as _fp
from posecoach._draw import known as _known
from posecoach.dataset import validate
from posecoach.synthetic.params import SyntheticParamsError

#: RGB colours: near-side limbs bright, far-side limbs dim.
BACKGROUND_RGB = (242, 242, 238)
GROUND_RGB = (90, 90, 90)
NEAR_RGB = (230, 100, 20)
FAR_RGB = (150, 150, 170)
BODY_RGB = (40, 70, 140)

_LIMBS = (
    ("shoulder", "elbow"),
    ("elbow", "wrist"),
    ("wrist", "index"),
    ("hip", "knee"),
    ("knee", "ankle"),
    ("ankle", "heel"),
    ("heel", "foot_index"),
    ("ankle", "foot_index"),
)


def _near_side(ds: xr.Dataset) -> str:
    """The side nearer the camera: from ``attrs['facing']`` if known, else the more confident."""
    facing = ds.attrs.get("facing")
    if facing in ("left", "right"):
        return str(facing)
    conf = ds["confidence"]
    names = [str(k) for k in ds["keypoint"].values]
    means = {
        s: float(np.nanmean(conf.sel(keypoint=[k for k in names if k.startswith(s + "_")]).values))
        if np.isfinite(conf.values).any()
        else 0.0
        for s in ("left", "right")
    }
    return "right" if means["right"] >= means["left"] else "left"


def _ground_line(ds: xr.Dataset, width: int) -> tuple[float, float, float, float] | None:
    """Ground line from the attrs, else a level line at the lowest foot point seen."""
    line = ds.attrs.get("ground_line_px")
    if line is not None and len(line) == 4:
        return tuple(float(v) for v in line)
    names = [
        k
        for k in ("left_heel", "right_heel", "left_foot_index", "right_foot_index")
        if k in ds["keypoint"]
    ]
    if not names:
        return None
    y = ds["position"].sel(keypoint=names, space="y").values
    if not np.isfinite(y).any():
        return None
    y_max = float(np.nanmax(y))
    return 0.0, y_max, float(width), y_max


def _scale_px(ds: xr.Dataset) -> float:
    """Median leg length (hip->knee->ankle) in pixels, for line thickness."""
    pos = ds["position"]
    lengths = []
    for s in ("left", "right"):
        try:
            hip, knee, ankle = (
                pos.sel(keypoint=f"{s}_{k}").values for k in ("hip", "knee", "ankle")
            )
        except KeyError:
            continue
        lengths.append(np.hypot(*(knee - hip).T) + np.hypot(*(ankle - knee).T))
    if not lengths:
        return 100.0
    value = (
        np.nanmedian(np.concatenate(lengths))
        if np.isfinite(np.concatenate(lengths)).any()
        else np.nan
    )
    return float(value) if np.isfinite(value) and value > 0 else 100.0


def draw_frame(
    image: np.ndarray,
    pts: dict[str, np.ndarray],
    *,
    near: str,
    thickness_px: int,
) -> np.ndarray:
    """Draw one stick figure in place on an RGB image and return it.

    Far limbs first (dim), then torso and head (filled), then near limbs (bright).
    Keypoints with NaN coordinates are skipped.
    """
    import cv2

    far = "left" if near == "right" else "right"

    def ok(*names: str) -> bool:
        return _known(*(pts.get(n) for n in names))

    def limbs(side: str, colour: tuple[int, int, int], width: int) -> None:
        for a, b in _LIMBS:
            draw_line(image, pts.get(f"{side}_{a}"), pts.get(f"{side}_{b}"), colour, width)

    limbs(far, FAR_RGB, max(1, int(0.8 * thickness_px)))
    mid = {}
    for part in ("hip", "shoulder"):
        known = [pts[f"{s}_{part}"] for s in (near, far) if ok(f"{s}_{part}")]
        if known:
            mid[part] = known[0] if len(known) == 1 else 0.5 * (known[0] + known[1])
    if "hip" in mid and "shoulder" in mid:
        axis = mid["shoulder"] - mid["hip"]
        length = float(np.hypot(*axis))
        if length > 0:
            normal = np.array([-axis[1], axis[0]]) / length
            w_hip, w_sh = 0.16 * length, 0.2 * length
            poly = np.array(
                [
                    _fp(mid["hip"] + w_hip * normal),
                    _fp(mid["shoulder"] + w_sh * normal),
                    _fp(mid["shoulder"] - w_sh * normal),
                    _fp(mid["hip"] - w_hip * normal),
                ],
                dtype=np.int32,
            )
            cv2.fillConvexPoly(image, poly, BODY_RGB, cv2.LINE_AA, _SHIFT)
    ear = next((pts[f"{s}_ear"] for s in (near, far) if ok(f"{s}_ear")), None)
    if ear is not None and ok("nose"):
        nose = pts["nose"]
        radius = float(np.hypot(*(nose - ear)))
        center = ear + 0.35 * (nose - ear)
        if "shoulder" in mid:  # lift the skull centre a little, away from the neck
            up = center - mid["shoulder"]
            norm = float(np.hypot(*up))
            if norm > 0:
                center = center + 0.15 * radius * up / norm
        cv2.circle(
            image, _fp(center), int(round(0.8 * radius * _ONE)), BODY_RGB, -1, cv2.LINE_AA, _SHIFT
        )
        if "shoulder" in mid:
            cv2.line(
                image,
                _fp(mid["shoulder"]),
                _fp(center),
                BODY_RGB,
                thickness_px,
                cv2.LINE_AA,
                _SHIFT,
            )
    limbs(near, NEAR_RGB, thickness_px)
    return image


def render_video(
    ds: xr.Dataset,
    path: str | Path,
    *,
    fps: float | None = None,
    draw_ground: bool = True,
) -> Path:
    """Render a pose dataset as a stick-figure MP4 (H.264, yuv420p; plays in browsers).

    One video frame per dataset entry, at the dataset's image size. Near-side limbs
    are drawn brighter and thicker than far-side limbs; head and torso are filled.

    Parameters
    ----------
    ds : xarray.Dataset
        Pose dataset (pixels).
    path : str or Path
        Output ``.mp4`` file (parent folders are created).
    fps : float, optional
        Frame rate; defaults to ``ds.attrs["fps"]``.
    draw_ground : bool
        Draw the ground line (``attrs["ground_line_px"]`` if present, else a level line
        at the lowest foot point).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    SyntheticParamsError
        If the dataset has no frames, an odd image size, or the fps is not positive.
    """
    import cv2

    from posecoach.video import VideoWriter

    validate(ds)
    width, height = int(ds.attrs["image_width_px"]), int(ds.attrs["image_height_px"])
    fps = float(ds.attrs["fps"] if fps is None else fps)
    if not (np.isfinite(fps) and fps > 0):
        raise SyntheticParamsError(f"fps={fps!r}: use a positive frame rate")
    if ds.sizes["time"] == 0:
        raise SyntheticParamsError("the pose dataset has no frames; nothing to render")
    if width % 2 or height % 2 or width < 16 or height < 16:
        raise SyntheticParamsError(
            f"image size {width}x{height}: H.264 needs even sizes of at least 16 px; "
            "generate the dataset with an even image_size_px"
        )
    names = [str(k) for k in ds["keypoint"].values]
    pos = ds["position"].values
    near = _near_side(ds)
    thickness = max(2, int(round(0.05 * _scale_px(ds))))
    line = _ground_line(ds, width) if draw_ground else None
    background = np.empty((height, width, 3), dtype=np.uint8)
    background[:] = BACKGROUND_RGB
    if line is not None:
        x0, y0, x1, y1 = line
        cv2.line(
            background,
            _fp((x0, y0)),
            _fp((x1, y1)),
            GROUND_RGB,
            max(2, thickness // 2),
            cv2.LINE_AA,
            _SHIFT,
        )
    path = Path(path)
    with VideoWriter(path, fps, width, height) as writer:
        for i in range(pos.shape[0]):
            image = background.copy()
            pts = {name: pos[i, j] for j, name in enumerate(names)}
            draw_frame(image, pts, near=near, thickness_px=thickness)
            writer.write(image)
    return path
