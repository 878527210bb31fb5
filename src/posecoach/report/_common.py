"""Helpers shared by the report's key frames, plots and overlay video.

Pure functions on an :class:`~posecoach.analysis.Analysis`: contact intervals from the
events, the cleaned pixel poses used for drawing, the side nearer the camera, and
small drawing primitives (OpenCV lines, Pillow text with a font that ships with
Matplotlib, so no system font is needed).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import xarray as xr

from posecoach._draw import draw_dot, draw_line
from posecoach._draw import known as _ok
from posecoach.errors import PosecoachError

SIDES: tuple[str, str] = ("left", "right")

#: Colours (RGB). Near-side limbs are bright and thick, far-side limbs blue and thinner.
NEAR_RGB = (255, 140, 20)
FAR_RGB = (60, 150, 255)
TRUNK_RGB = (235, 235, 235)
ANKLE_LINE_RGB = (255, 235, 60)
HEAD_LINE_RGB = (255, 90, 200)
ALIGN_RGB = (70, 230, 120)
MEASURE_RGB = (255, 255, 255)
PLAIN_BACKGROUND_RGB = (236, 238, 242)

_LIMBS = (
    ("shoulder", "elbow"),
    ("elbow", "wrist"),
    ("hip", "knee"),
    ("knee", "ankle"),
    ("ankle", "heel"),
    ("heel", "foot_index"),
    ("ankle", "foot_index"),
)


class ReportError(PosecoachError):
    """The report or overlay cannot be made from what was given (e.g. the wrong video)."""

    exit_code = 8


def contact_intervals(events: pd.DataFrame, *, end_time_s: float | None = None) -> pd.DataFrame:
    """Pair each foot's initial contacts with the toe-off that ends them.

    Parameters
    ----------
    events : pandas.DataFrame
        Gait events (``side``, ``kind`` ``"initial_contact"``/``"toe_off"``, ``frame``, ``time_s``).
    end_time_s : float, optional
        End of the clip; a contact still open at the end runs to it.

    Returns
    -------
    pandas.DataFrame
        One row per contact: ``side``, ``ic_time_s``, ``to_time_s``, ``ic_frame``, ``to_frame``
        (``to_frame`` is the first frame off the ground), ``complete`` (both events seen),
        ``at_clip_edge`` (the missing event lies outside the clip). A toe-off without its
        contact gives ``ic_time_s = NaN`` and ``ic_frame = -1``; a contact without its toe-off
        ``to_time_s = NaN`` and ``to_frame = -1``, or ``to_time_s = end_time_s`` for the last one
        (the clip ends in stance). Only at the clip's edges does an unknown event mean the
        contact runs on past them (``at_clip_edge``); inside the clip it was not found (a
        contact followed by the same foot's next contact, a toe-off after a complete contact).
    """
    rows: list[dict] = []
    if events is None or len(events) == 0:
        return pd.DataFrame(columns=["side", "ic_time_s", "to_time_s", "ic_frame", "to_frame",
                                     "complete", "at_clip_edge"])
    for side in SIDES:
        ev = events[events["side"] == side].sort_values("time_s")
        open_ic: tuple[float, int] | None = None
        for r in ev.itertuples():
            if r.kind == "initial_contact":
                if open_ic is not None:  # two contacts in a row: the first one's toe-off was missed
                    rows.append(_contact(side, *open_ic, np.nan, -1, complete=False))
                open_ic = (float(r.time_s), int(r.frame))
            elif r.kind == "toe_off":
                if open_ic is None:  # the clip starts in stance, if it is the foot's first event
                    rows.append(_contact(side, np.nan, -1, float(r.time_s), int(r.frame),
                                         complete=False, at_clip_edge=r.Index == ev.index[0]))
                else:
                    rows.append(_contact(side, *open_ic, float(r.time_s), int(r.frame), complete=True))
                    open_ic = None
        if open_ic is not None:
            end = float(end_time_s) if end_time_s is not None else np.nan
            rows.append(_contact(side, *open_ic, end, -1, complete=False, at_clip_edge=True))
    out = pd.DataFrame(rows)
    return out.sort_values(["side", "to_time_s"], na_position="last").reset_index(drop=True)


def _contact(side: str, ic_t: float, ic_f: int, to_t: float, to_f: int, *, complete: bool,
             at_clip_edge: bool = False) -> dict:
    return {"side": side, "ic_time_s": ic_t, "to_time_s": to_t, "ic_frame": ic_f,
            "to_frame": to_f, "complete": complete, "at_clip_edge": bool(at_clip_edge)}


def with_tracks(contacts: pd.DataFrame, steps: pd.DataFrame | None) -> pd.DataFrame:
    """The contacts with a ``track`` column: the leg whose keypoints show each contact.

    It is the ``side`` except where the analysis gave a contact to the other foot (the pose
    model had put the landing foot's labels on the other leg): the step with the same side
    and IC frame says which leg's keypoints show it (``steps["track"]``).
    """
    out = contacts.copy()
    out["track"] = out["side"] if len(out) else pd.Series(dtype=object)
    if steps is None or len(steps) == 0 or "track" not in steps or len(out) == 0:
        return out
    leg = {(str(s), int(f)): str(k)
           for s, f, k in zip(steps["side"], steps["ic_frame"], steps["track"], strict=True)
           if k in SIDES}
    out["track"] = [leg.get((str(s), int(f)), s)
                    for s, f in zip(out["side"], out["ic_frame"], strict=True)]
    return out


def contact_mask(contacts: pd.DataFrame, frames: np.ndarray, side: str, *,
                 column: str = "side") -> np.ndarray:
    """True for the frames in which ``side``'s foot is on the ground.

    A contact covers the frames from its IC frame up to (not including) its toe-off frame,
    the first frame with the foot off the ground (``docs/conventions.md``); one whose other
    event was not found inside the clip covers only the frame of the event that was (it
    used to cover the rest of the clip). With
    ``column="track"`` (:func:`with_tracks`) the contacts are those shown by ``side``'s leg
    keypoints, which is what a drawing of the keypoints needs.
    """
    frames = np.asarray(frames)
    mask = np.zeros(frames.shape, dtype=bool)
    if contacts is None or len(contacts) == 0:
        return mask
    for c in contacts[contacts[column] == side].itertuples():
        edge = bool(getattr(c, "at_clip_edge", True))
        start = int(c.ic_frame) if c.ic_frame >= 0 else -(10**9) if edge else int(c.to_frame) - 1
        stop = int(c.to_frame) if c.to_frame >= 0 else 10**9 if edge else int(c.ic_frame) + 1
        mask |= (frames >= start) & (frames < stop)
    return mask


def pixel_poses(analysis) -> xr.Dataset:
    """The cleaned pixel poses to draw: the same cleaning the pipeline applied.

    ``analysis.poses`` holds the raw estimator output (with its leg swaps and dropped
    frames); drawing it would show the errors the analysis repaired, so it is cleaned
    again with :func:`posecoach.filtering.clean` (deterministic, a fraction of a second).
    The overlay and the key frames both need them: callers that make both compute them once
    and pass them on (``poses=``).

    Raises
    ------
    ReportError
        If the analysis carries no pixel poses.
    """
    from posecoach import filtering

    raw = analysis.poses
    if raw is None:
        raise ReportError(
            "this analysis has no pixel poses, so nothing can be drawn; run 'posecoach analyze' "
            "on the video or on its poses.nc file"
        )
    cleaned, _ = filtering.clean(raw)
    return cleaned


def near_side(analysis, poses: xr.Dataset | None = None) -> str:
    """The runner's side nearer the camera.

    A runner travelling to the right of the picture shows the camera their right side
    (and vice versa); BlazePose labels the runner's own left and right. Without a known
    facing, the side whose keypoints are detected with more confidence is taken.
    """
    facing = (analysis.runner or {}).get("facing")
    if facing in SIDES:
        return str(facing)
    ds = poses if poses is not None else analysis.poses
    if ds is None:
        return "right"
    conf = ds["confidence"]
    names = [str(k) for k in ds["keypoint"].values]
    means = {}
    for s in SIDES:
        vals = conf.sel(keypoint=[k for k in names if k.startswith(s + "_")]).values
        means[s] = float(np.nanmean(vals)) if np.isfinite(vals).any() else 0.0
    return "right" if means["right"] >= means["left"] else "left"


def midpoint(pts: dict[str, np.ndarray], a: str, b: str) -> np.ndarray:
    """Midpoint of two keypoints, or whichever is known (NaN if neither)."""
    pa, pb = pts.get(a), pts.get(b)
    ok_a = pa is not None and np.all(np.isfinite(pa))
    ok_b = pb is not None and np.all(np.isfinite(pb))
    if ok_a and ok_b:
        return 0.5 * (pa + pb)
    if ok_a:
        return np.asarray(pa, dtype=float)
    if ok_b:
        return np.asarray(pb, dtype=float)
    return np.array([np.nan, np.nan])


def leg_length_px(poses: xr.Dataset) -> float:
    """Median hip-knee-ankle length in pixels (sets line widths and text sizes)."""
    pos = poses["position"]
    lengths = []
    for s in SIDES:
        hip, knee, ankle = (pos.sel(keypoint=f"{s}_{k}").values for k in ("hip", "knee", "ankle"))
        lengths.append(np.hypot(*(knee - hip).T) + np.hypot(*(ankle - knee).T))
    allv = np.concatenate(lengths)
    allv = allv[np.isfinite(allv)]
    value = float(np.median(allv)) if allv.size else float("nan")
    return value if np.isfinite(value) and value > 0 else 200.0


def up_vector(ground_slope: float) -> np.ndarray:
    """Unit vector pointing "up" in the image (y down), perpendicular to the ground line.

    The ground line runs along (1, slope) in pixels; a tilted camera is thus allowed for,
    as in :func:`posecoach.kinematics.to_body_frame`.
    """
    v = np.array([float(ground_slope), -1.0])
    return v / np.hypot(*v)


# --------------------------------------------------------------------------- drawing


def _visible_span(p0: np.ndarray, p1: np.ndarray, shape: tuple[int, ...],
                  margin: float) -> tuple[float, float] | None:
    """Part of the segment ``p0 + t (p1 - p0)``, 0 <= t <= 1, inside the picture plus a margin.

    Liang-Barsky clipping against ``[-margin, width - 1 + margin] x [-margin, height - 1 + margin]``.

    Returns
    -------
    (t0, t1) or None
        None when the segment misses the (enlarged) picture.
    """
    h, w = shape[:2]
    d = p1 - p0
    t0, t1 = 0.0, 1.0
    for q0, dq, lo, hi in ((p0[0], d[0], -margin, w - 1 + margin),
                           (p0[1], d[1], -margin, h - 1 + margin)):
        if dq == 0:
            if q0 < lo or q0 > hi:
                return None
            continue
        a, b = (lo - q0) / dq, (hi - q0) / dq
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
        if t0 > t1:
            return None
    return t0, t1


def draw_dashed_line(image: np.ndarray, p0, p1, colour, width: int, dash_px: float) -> None:
    """Dashed anti-aliased line from ``p0`` to ``p1``.

    Only the dashes that can touch the picture are drawn (reference lines run far beyond it;
    the others would be clipped away entirely), so the result is the same as drawing them all.
    """
    if not _ok(p0, p1):
        return
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    length = float(np.hypot(*(p1 - p0)))
    if length < 1:
        return
    n = max(1, int(length // (2 * dash_px)))
    span = _visible_span(p0, p1, image.shape, margin=float(width) + 2.0)
    if span is None:
        return
    period = 2 * dash_px / length  # dash i covers t in [i * period, i * period + period / 2]
    first = max(0, int(np.floor(span[0] / period)) - 1)
    last = min(n, int(np.ceil(span[1] / period)) + 1)
    for i in range(first, last + 1):
        a = p0 + (p1 - p0) * min(1.0, (2 * i * dash_px) / length)
        b = p0 + (p1 - p0) * min(1.0, ((2 * i + 1) * dash_px) / length)
        draw_line(image, a, b, colour, width)


def draw_skeleton(
    image: np.ndarray,
    pts: dict[str, np.ndarray],
    *,
    near: str,
    width_px: float,
    support: str | None = None,
) -> np.ndarray:
    """Draw the skeleton in place: far limbs (blue, thin) first, then trunk, then near limbs.

    Parameters
    ----------
    image : ndarray
        RGB uint8 image, modified in place.
    pts : dict
        Keypoint name -> pixel (x, y) on this image.
    near : {"left", "right"}
        Side nearer the camera (drawn on top, orange).
    width_px : float
        Line width of near-side limbs.
    support : {"left", "right"}, optional
        Support leg to emphasise (white outline under its leg segments).
    """
    far = "left" if near == "right" else "right"
    w = max(1, int(round(width_px)))

    def limbs(side: str, colour, width: int) -> None:
        for a, b in _LIMBS:
            draw_line(image, pts.get(f"{side}_{a}"), pts.get(f"{side}_{b}"), colour, width)

    if support is not None:
        for a, b in _LIMBS[2:]:
            draw_line(image, pts.get(f"{support}_{a}"), pts.get(f"{support}_{b}"), (255, 255, 255),
                      w + max(2, w // 2) * 2)
    limbs(far, FAR_RGB, max(1, int(round(0.75 * w))))
    sh = midpoint(pts, "left_shoulder", "right_shoulder")
    hp = midpoint(pts, "left_hip", "right_hip")
    draw_line(image, pts.get("left_shoulder"), pts.get("right_shoulder"), TRUNK_RGB, max(1, w // 2))
    draw_line(image, pts.get("left_hip"), pts.get("right_hip"), TRUNK_RGB, max(1, w // 2))
    draw_line(image, sh, hp, TRUNK_RGB, w)
    head = pts.get("nose")
    ear = pts.get(f"{near}_ear")
    if _ok(ear):
        draw_line(image, sh, ear, TRUNK_RGB, max(1, w // 2))
    limbs(near, NEAR_RGB, w)
    for side, colour in ((far, FAR_RGB), (near, NEAR_RGB)):
        for k in ("knee", "ankle", "elbow", "hip"):
            draw_dot(image, pts.get(f"{side}_{k}"), colour, 0.8 * w)
    draw_dot(image, head, TRUNK_RGB, 0.9 * w)
    return image


@lru_cache(maxsize=16)
def _font(size_px: int):
    from matplotlib import font_manager
    from PIL import ImageFont

    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans", weight="bold"))
    return ImageFont.truetype(path, size=max(6, int(size_px)))


def draw_labels(
    image: np.ndarray,
    labels: list[tuple[str, tuple[float, float], tuple[int, int, int]]],
    *,
    size_px: int,
    background: tuple[int, int, int, int] = (0, 0, 0, 170),
) -> np.ndarray:
    """Draw text labels (Unicode, e.g. degree signs) on dark boxes; returns a new image.

    Parameters
    ----------
    labels : list of (text, (x, y) top-left, rgb colour)
        Boxes are kept inside the image.
    """
    from PIL import Image, ImageDraw

    if not labels:
        return image
    pil = Image.fromarray(image).convert("RGBA")
    layer = Image.new("RGBA", pil.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = _font(size_px)
    pad = max(2, size_px // 4)
    h_img, w_img = image.shape[:2]
    for text, (x, y), colour in labels:
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        l_, t_, r_, b_ = font.getbbox(text)
        tw, th = r_ - l_, b_ - t_
        x = float(np.clip(x, pad, max(pad, w_img - tw - 2 * pad)))
        y = float(np.clip(y, pad, max(pad, h_img - th - 2 * pad)))
        draw.rectangle([x - pad, y - pad, x + tw + pad, y + th + pad], fill=background)
        draw.text((x - l_, y - t_), text, font=font, fill=(*colour, 255))
    return np.asarray(Image.alpha_composite(pil, layer).convert("RGB"))


def blend_patch(image: np.ndarray, patch_rgba: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend an RGBA patch onto ``image`` in place at (x, y), clipped to the image."""
    h, w = image.shape[:2]
    ph, pw = patch_rgba.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + pw), min(h, y + ph)
    if x1 <= x0 or y1 <= y0:
        return
    p = patch_rgba[y0 - y:y1 - y, x0 - x:x1 - x]
    alpha = p[..., 3:4].astype(np.float32) / 255.0
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = (region * (1 - alpha) + p[..., :3].astype(np.float32) * alpha).astype(
        np.uint8
    )


def text_panel(lines: list[tuple[str, tuple[int, int, int]]], *, size_px: int,
               background: tuple[int, int, int, int] = (15, 20, 30, 190)) -> np.ndarray:
    """An RGBA patch with lines of text on a translucent box (for the overlay's metric panel)."""
    from PIL import Image, ImageDraw

    font = _font(size_px)
    pad = max(4, size_px // 2)
    line_h = int(size_px * 1.35)
    widths = [font.getbbox(t)[2] for t, _ in lines] or [0]
    w = int(max(widths) + 2 * pad)
    h = int(line_h * len(lines) + 2 * pad - (line_h - size_px))
    img = Image.new("RGBA", (max(w, 1), max(h, 1)), background)
    draw = ImageDraw.Draw(img)
    for i, (text, colour) in enumerate(lines):
        draw.text((pad, pad + i * line_h), text, font=font, fill=(*colour, 255))
    return np.asarray(img)


def encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    """JPEG bytes of an RGB image."""
    import cv2

    ok, buf = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - cv2 always encodes a valid uint8 image
        raise ReportError("could not encode a key frame as JPEG")
    return buf.tobytes()
