"""Key frames: the five moments of a representative step of each foot, with their geometry.

For each foot, the *representative* step is the median one, not the best: the complete step
whose key metrics are closest to that foot's medians (:func:`median_step_distance`). Its five
moments are

``initial_contact``
    the IC frame (first frame at or after the contact, ``docs/conventions.md``);
``mid_stance`` ("the Pose")
    the instant the mid-hip passes over the support ankle (or IC when the foot lands under or
    behind the hip), as defined in ``docs/conventions.md``;
``fall``
    halfway from mid-stance to toe-off, when the body tips forward over the support foot;
``pull``
    peak knee flexion of the same leg in swing (peak heel lift);
``toe_off``
    the TO frame (the first frame with the foot off the ground).

:func:`render_key_frames` cuts those frames from the video (or, without a video, draws on a
plain background and says so), crops around the runner and draws the skeleton and the
geometry the verdicts rest on: the vertical line through the support ankle and through the
head, the shoulder-hip-ankle alignment, the shank angle and overstride at IC, the lean, the
heel lift and the fall angle, with their numbers (from ``analysis.steps``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from posecoach._arrays import nanmid
from posecoach.metrics import pose_instant
from posecoach.report import _common as C

#: In the order they happen in a step: the Pull's peak heel lift comes after the toe-off.
PHASES: tuple[str, ...] = ("initial_contact", "mid_stance", "fall", "toe_off", "pull")
#: Caption lines under every key frame (fixed, so all pictures have the same height).
_CAPTION_LINES = 6
PHASE_TITLES: dict[str, str] = {
    "initial_contact": "Initial contact",
    "mid_stance": "Pose (mid-stance)",
    "fall": "Fall",
    "pull": "Pull (peak heel lift)",
    "toe_off": "Toe-off",
}

#: Metrics that describe a step for choosing the representative one: timing, landing,
#: posture and swing (one from each group of Pose Method key points).
REPRESENTATIVE_METRICS: tuple[str, ...] = (
    "ground_contact_ms",
    "stride_time_ms",
    "foot_strike_angle_deg",
    "shank_angle_ic_deg",
    "overstride_cm",
    "knee_flexion_ic_deg",
    "trunk_lean_deg",
    "peak_knee_flexion_swing_deg",
)


def _scale_floor(metric: str) -> float:
    """Smallest spread used to normalise a metric (about its measurement resolution)."""
    if metric.endswith("_ms"):
        return 10.0
    if metric.endswith("_deg"):
        return 2.0
    if metric.endswith("_cm"):
        return 1.0
    return 1.0


def median_step_distance(values: np.ndarray, floors: np.ndarray | None = None) -> np.ndarray:
    """Distance of each step from the median step, in robust standard units.

    For every metric (column) the deviation from the column median is divided by a robust
    spread, IQR / 1.349 (equal to the standard deviation for normal data; Hoaglin, Mosteller &
    Tukey 1983, *Understanding Robust and Exploratory Data Analysis*), floored at ``floors``; the
    distance of a step is the mean absolute normalised deviation over the metrics it has.

    Parameters
    ----------
    values : ndarray, shape (n_steps, n_metrics)
        NaN where a metric is unknown for a step.
    floors : ndarray, shape (n_metrics,), optional
        Smallest spread per metric (defaults to 1e-9).

    Returns
    -------
    ndarray, shape (n_steps,)
        NaN for a step without any known metric.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError("values must be a 2-D array (steps x metrics)")
    n_steps, n_metrics = v.shape
    floors = np.full(n_metrics, 1e-9) if floors is None else np.asarray(floors, dtype=float)
    dev = np.full(v.shape, np.nan)
    for j in range(n_metrics):
        col = v[:, j]
        ok = np.isfinite(col)
        if not ok.any():
            continue
        q1, med, q3 = np.percentile(col[ok], [25, 50, 75])
        scale = max((q3 - q1) / 1.349, floors[j])
        dev[:, j] = np.abs(col - med) / scale
    known = np.isfinite(dev).sum(axis=1)
    with np.errstate(invalid="ignore"):
        total = np.nansum(dev, axis=1) / np.where(known > 0, known, 1)
    return np.where(known > 0, total, np.nan)


def peak_swing_flexion_time_s(
    time_s: np.ndarray, knee_flexion_deg: np.ndarray, to_s: float, next_ic_s: float
) -> float:
    """Time of peak knee flexion between toe-off and the same foot's next contact (the Pull).

    NaN when the swing has no known knee angle.
    """
    t = np.asarray(time_s, dtype=float)
    k = np.asarray(knee_flexion_deg, dtype=float)
    w = slice(int(np.searchsorted(t, to_s)), int(np.searchsorted(t, next_ic_s, side="right")))
    seg = k[w]
    if seg.size == 0 or not np.isfinite(seg).any():
        return float("nan")
    return float(t[w][int(np.nanargmax(seg))])


@dataclass
class KeyFrame:
    """One key frame of one foot's representative step.

    Attributes
    ----------
    side : {"left", "right"}
        The foot whose step it is (for ``pull``: the swinging leg).
    leg : {"left", "right"}
        The leg keypoints that show that foot (the step's ``track``: the other leg's labels
        where the pose model mixed up the legs, ``docs/conventions.md``).
    phase : str
        One of :data:`PHASES`.
    time_s : float
        The instant of the phase (interpolated between frames where it applies).
    frame : int
        The decoded video frame shown (``frame`` coordinate of the pose dataset).
    row : int
        Row of that frame in the pose dataset.
    step : int
        Index label of the step in ``analysis.steps``.
    numbers : dict
        The values drawn on the image (name -> value), for captions.
    image : ndarray or None
        RGB uint8 image once rendered.
    from_video : bool
        False when drawn on a plain background (no video given or the frame missing).
    """

    side: str
    phase: str
    time_s: float
    frame: int
    row: int
    step: int
    numbers: dict = field(default_factory=dict)
    image: np.ndarray | None = None
    from_video: bool = False
    leg: str = ""

    def __post_init__(self) -> None:
        self.leg = self.leg or self.side

    @property
    def title(self) -> str:
        return f"{self.side.capitalize()} foot · {PHASE_TITLES[self.phase]}"


class KeyFrameSelector:
    """Choose each foot's representative step and the frames of its five phases.

    Parameters
    ----------
    metrics : sequence of str
        Step metrics compared with the per-foot medians (:data:`REPRESENTATIVE_METRICS`).

    Attributes
    ----------
    steps_ : dict
        Side -> index label of the chosen step in ``analysis.steps`` (None without one).
    distance_ : dict
        Side -> :class:`pandas.Series` of every candidate step's distance from the median.
    key_frames_ : list of KeyFrame
        Without images; see :func:`render_key_frames`.
    """

    def __init__(self, metrics: tuple[str, ...] = REPRESENTATIVE_METRICS) -> None:
        self.metrics = tuple(metrics)

    def detect(self, analysis) -> KeyFrameSelector:
        """Select from ``analysis.steps`` using ``analysis.body`` and ``analysis.angles``."""
        self.steps_: dict[str, int | None] = {s: None for s in C.SIDES}
        self.distance_: dict[str, pd.Series] = {}
        self.key_frames_: list[KeyFrame] = []
        steps = analysis.steps
        if steps is None or steps.empty or analysis.body is None or analysis.angles is None:
            return self
        # not a step the summary left out (both feet down: the pose model lost a foot)
        left_out = set((analysis.quality or {}).get("overlapping_steps") or [])
        for side in C.SIDES:
            cand = steps[(steps["side"] == side)]
            cand = cand[np.isfinite(cand["ic_time_s"].astype(float))
                        & np.isfinite(cand["to_time_s"].astype(float))]
            cand = cand[~cand["ic_frame"].isin(left_out)]
            if cand.empty:
                continue
            # prefer complete strides (the Pull needs the swing up to the next contact)
            if "stride_time_ms" in cand:
                full = cand[np.isfinite(cand["stride_time_ms"].astype(float))]
                cand = full if len(full) else cand
            names = [m for m in self.metrics if m in cand]
            if names:
                vals = cand[names].to_numpy(dtype=float)
                floors = np.array([_scale_floor(m) for m in names])
                dist = median_step_distance(vals, floors)
            else:
                dist = np.zeros(len(cand))
            dist = np.where(np.isfinite(dist), dist, np.inf)
            series = pd.Series(dist, index=cand.index)
            self.distance_[side] = series
            label = series.idxmin()
            self.steps_[side] = int(label)
            self.key_frames_ += step_key_frames(analysis, steps.loc[label], int(label))
        return self


def _nearest_row(t: np.ndarray, time_s: float) -> int:
    i = int(np.searchsorted(t, time_s))
    if i <= 0:
        return 0
    if i >= len(t):
        return len(t) - 1
    return i if abs(t[i] - time_s) < abs(time_s - t[i - 1]) else i - 1


def _row_of_frame(frames: np.ndarray, frame: int, t: np.ndarray, time_s: float) -> int:
    hit = np.flatnonzero(frames == frame)
    return int(hit[0]) if hit.size else _nearest_row(t, time_s)


def step_key_frames(analysis, step: pd.Series, label: int) -> list[KeyFrame]:
    """The five key frames of one step (row ``step`` of ``analysis.steps``)."""
    body, angles = analysis.body, analysis.angles
    t = body["time"].values
    frames = body["frame"].values
    side = str(step["side"])
    leg = str(step["track"]) if step.get("track") in C.SIDES else side
    pos = body["position"]
    hip_x = nanmid(pos.sel(keypoint="left_hip").values,
                       pos.sel(keypoint="right_hip").values)[:, 0]
    ankle_x = pos.sel(keypoint=f"{leg}_ankle").values[:, 0]
    ic, to = float(step["ic_time_s"]), float(step["to_time_s"])
    mid = pose_instant(t, hip_x, ankle_x, ic, to)
    fall = 0.5 * (mid + to)
    stride_ms = float(step.get("stride_time_ms", np.nan))
    next_ic = ic + stride_ms / 1000 if np.isfinite(stride_ms) else to + 2 * (to - ic)
    knee = angles["knee_flexion_deg"].sel(side=leg).values
    pull = peak_swing_flexion_time_s(t, knee, to, next_ic)
    out = []
    for phase, time_s in zip(PHASES, (ic, mid, fall, to, pull), strict=True):
        if not np.isfinite(time_s):
            continue
        if phase == "initial_contact":
            row = _row_of_frame(frames, int(step["ic_frame"]), t, time_s)
        elif phase == "toe_off":
            row = _row_of_frame(frames, int(step["to_frame"]), t, time_s)
        else:
            row = _nearest_row(t, time_s)
        kf = KeyFrame(side=side, phase=phase, time_s=float(time_s), frame=int(frames[row]),
                      row=row, step=label, leg=leg)
        kf.numbers = _phase_numbers(analysis, step, kf)
        out.append(kf)
    return out


def _val(step: pd.Series, name: str) -> float:
    v = step.get(name, np.nan)
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _phase_numbers(analysis, step: pd.Series, kf: KeyFrame) -> dict[str, float]:
    """The numbers shown on a key frame: from the step's metrics, or measured at that frame."""
    if kf.phase == "initial_contact":
        keys = ("shank_angle_ic_deg", "overstride_cm", "foot_strike_angle_deg",
                "knee_flexion_ic_deg")
        return {k: _val(step, k) for k in keys}
    if kf.phase == "mid_stance":
        keys = ("trunk_lean_deg", "body_lean_deg", "hip_bend_midstance_deg",
                "shoulder_ahead_of_ankle_midstance_cm", "heel_height_midstance_cm")
        return {k: _val(step, k) for k in keys}
    if kf.phase == "pull":
        keys = ("peak_knee_flexion_swing_deg", "ankle_under_hip_pct_leg", "heel_to_buttock_cm")
        return {k: _val(step, k) for k in keys}
    if kf.phase == "toe_off":
        out = {k: _val(step, k) for k in ("fall_angle_to_deg", "ankle_plantarflexion_to_deg")}
        out["knee_flexion_deg"] = float(
            analysis.angles["knee_flexion_deg"].sel(side=kf.leg).values[kf.row])
        return out
    # fall: lean of the whole body from the support ankle at that frame (body frame, metres)
    pos = analysis.body["position"].values
    names = [str(k) for k in analysis.body["keypoint"].values]
    p = {n: pos[kf.row, j] for j, n in enumerate(names)}
    sh = C.midpoint(p, "left_shoulder", "right_shoulder")
    ank = p[f"{kf.leg}_ankle"]
    lean = float(np.degrees(np.arctan2(sh[0] - ank[0], sh[1] - ank[1])))
    return {"body_lean_deg": lean,
            "trunk_lean_deg": float(analysis.angles["trunk_lean_deg"].values[kf.row])}


# --------------------------------------------------------------------------- rendering


def _fmt(v: float, unit: str, *, signed: bool = False) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    s = f"{v:+.0f}" if signed else f"{v:.0f}"
    return f"{s}{unit}" if unit in ("°", "%") else f"{s} {unit}"


def _caption_lines(kf: KeyFrame) -> list[tuple[str, tuple[int, int, int]]]:
    n = kf.numbers
    if kf.phase == "initial_contact":
        shank = n.get("shank_angle_ic_deg", np.nan)
        over = n.get("overstride_cm", np.nan)
        foot = n.get("foot_strike_angle_deg", np.nan)
        from posecoach.metrics import strike_class

        shank_where = "ankle ahead of knee" if shank > 0 else "ankle behind knee"
        over_where = "ahead of hip" if over > 0 else "behind hip"
        return [
            (f"Shank {_fmt(shank, '°', signed=True)} ({shank_where})", C.MEASURE_RGB),
            (f"Overstride {_fmt(over, 'cm', signed=True)} ({over_where})", C.ANKLE_LINE_RGB),
            (f"Foot {_fmt(foot, '°', signed=True)} → {strike_class(foot)} strike", C.NEAR_RGB),
            (f"Knee flexion {_fmt(n.get('knee_flexion_ic_deg', np.nan), '°')}", C.TRUNK_RGB),
        ]
    if kf.phase == "mid_stance":
        return [
            (f"Body lean from ankle {_fmt(n.get('body_lean_deg', np.nan), '°', signed=True)}",
             C.MEASURE_RGB),
            (f"Trunk lean {_fmt(n.get('trunk_lean_deg', np.nan), '°', signed=True)}", C.TRUNK_RGB),
            (f"Hip bend {_fmt(n.get('hip_bend_midstance_deg', np.nan), '°', signed=True)}",
             C.ALIGN_RGB),
            ("Shoulder ahead of ankle "
             f"{_fmt(n.get('shoulder_ahead_of_ankle_midstance_cm', np.nan), 'cm', signed=True)}",
             C.ANKLE_LINE_RGB),
        ]
    if kf.phase == "fall":
        return [
            (f"Body lean from ankle {_fmt(n.get('body_lean_deg', np.nan), '°', signed=True)}",
             C.MEASURE_RGB),
            (f"Trunk lean {_fmt(n.get('trunk_lean_deg', np.nan), '°', signed=True)}", C.TRUNK_RGB),
        ]
    if kf.phase == "pull":
        under = n.get("ankle_under_hip_pct_leg", np.nan)
        where = "ahead of" if under > 0 else "behind"
        return [
            (f"Knee flexion {_fmt(n.get('peak_knee_flexion_swing_deg', np.nan), '°')}",
             C.NEAR_RGB),
            (f"Ankle {_fmt(abs(under), '%')} leg {where} hip", C.ANKLE_LINE_RGB),
            (f"Heel to hip {_fmt(n.get('heel_to_buttock_cm', np.nan), 'cm')}", C.TRUNK_RGB),
        ]
    return [
        (f"Fall angle (toe→hip) {_fmt(n.get('fall_angle_to_deg', np.nan), '°', signed=True)}",
         C.MEASURE_RGB),
        (f"Knee flexion {_fmt(n.get('knee_flexion_deg', np.nan), '°')}", C.TRUNK_RGB),
        (f"Plantar flexion {_fmt(n.get('ankle_plantarflexion_to_deg', np.nan), '°', signed=True)}",
         C.NEAR_RGB),
    ]


def _crop_box(pix: np.ndarray, rows: slice, width: int, height: int) -> tuple[int, int, int, int]:
    """Crop (x0, y0, x1, y1) around the runner over ``rows``, with margins, at least square."""
    pts = pix[rows].reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if pts.size == 0:
        return 0, 0, width, height
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    h = max(y1 - y0, 10.0)
    m = 0.14 * h
    x0, x1, y0, y1 = x0 - m, x1 + m, y0 - 1.2 * m, y1 + 0.8 * m
    w_needed = 1.0 * (y1 - y0)
    if x1 - x0 < w_needed:
        c = 0.5 * (x0 + x1)
        x0, x1 = c - 0.5 * w_needed, c + 0.5 * w_needed
    x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    x1, y1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return 0, 0, width, height
    return x0, y0, x1, y1


def _read_video_frames(video_path: Path, frames: list[int], size: tuple[int, int]
                       ) -> dict[int, np.ndarray]:
    """Decode the wanted frames at full size (:meth:`posecoach.video.VideoReader.pictures`)."""
    from posecoach.video import VideoReader

    # one decoding thread: the overlay's processes keep the other cores busy meanwhile, and
    # frame threading costs ~20 % more CPU for the same pictures
    reader = VideoReader(video_path, decoder_threads=1)
    w, h = reader.info.width_px, reader.info.height_px
    if (w, h) != size:
        raise C.ReportError(
            f"the video {video_path} is {w}x{h} pixels but the poses were measured on a "
            f"{size[0]}x{size[1]} picture; give the video the poses came from"
        )
    return reader.pictures(frames)


def render_key_frames(
    analysis,
    key_frames: list[KeyFrame],
    video_path: str | Path | None = None,
    *,
    height_px: int = 420,
    poses=None,
) -> list[KeyFrame]:
    """Draw the key frames: the video picture (or a plain background) with skeleton and geometry.

    Parameters
    ----------
    analysis : Analysis
    key_frames : list of KeyFrame
        From :class:`KeyFrameSelector`.
    video_path : path, optional
        The analysed video. Without it the skeleton is drawn on a plain background.
    height_px : int
        Height of the cropped, scaled output images.
    poses : xarray.Dataset, optional
        Cleaned pixel poses (:func:`posecoach.report._common.pixel_poses`); computed if omitted.

    Returns
    -------
    list of KeyFrame
        New key frames with ``image`` and ``from_video`` set.

    Raises
    ------
    ReportError
        If the video's picture size differs from the poses' (not the same video).
    """
    if not key_frames:
        return []
    poses = C.pixel_poses(analysis) if poses is None else poses
    width, height = int(poses.attrs["image_width_px"]), int(poses.attrs["image_height_px"])
    pictures: dict[int, np.ndarray] = {}
    if video_path is not None:
        pictures = _read_video_frames(Path(video_path), [k.frame for k in key_frames],
                                      (width, height))
    pix = poses["position"].values
    near = C.near_side(analysis, poses)
    slope = float(poses.attrs.get("ground_slope", (analysis.body.attrs if analysis.body is not None
                                                   else {}).get("ground_slope", 0.0)) or 0.0)
    up = C.up_vector(slope)
    leg_px = C.leg_length_px(poses)
    # one crop per foot: the whole step, so its five pictures share a frame
    boxes: dict[str, tuple[int, int, int, int]] = {}
    for side in C.SIDES:
        rows = [k.row for k in key_frames if k.side == side]
        if rows:
            boxes[side] = _crop_box(pix, slice(min(rows), max(rows) + 1), width, height)
    out = []
    for kf in key_frames:
        picture = pictures.get(kf.frame)
        from_video = picture is not None
        if picture is None:
            picture = np.empty((height, width, 3), dtype=np.uint8)
            picture[:] = C.PLAIN_BACKGROUND_RGB
        x0, y0, x1, y1 = boxes[kf.side]
        crop = np.ascontiguousarray(picture[y0:y1, x0:x1])
        scale = height_px / crop.shape[0]
        import cv2

        out_w = max(16, int(round(crop.shape[1] * scale)))
        img = cv2.resize(crop, (out_w, height_px),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        names = [str(k) for k in poses["keypoint"].values]
        pts = {n: (pix[kf.row, j] - np.array([x0, y0])) * scale for j, n in enumerate(names)}
        img = _draw_geometry(img, pts, kf, near=near, up=up, leg_px=leg_px * scale,
                             from_video=from_video)
        out.append(replace(kf, image=img, from_video=from_video))
    return out


def _draw_geometry(img: np.ndarray, pts: dict[str, np.ndarray], kf: KeyFrame, *, near: str,
                   up: np.ndarray, leg_px: float, from_video: bool) -> np.ndarray:
    """Skeleton, reference lines and numbers for one key frame."""
    h, w = img.shape[:2]
    lw = max(2.0, 0.028 * leg_px)
    dash = max(4.0, 0.05 * leg_px)
    side = kf.leg
    support = side if kf.phase != "pull" else ("left" if side == "right" else "right")
    C.draw_skeleton(img, pts, near=near, width_px=lw, support=support)
    sh = C.midpoint(pts, "left_shoulder", "right_shoulder")
    hip = C.midpoint(pts, "left_hip", "right_hip")
    ankle = pts.get(f"{side}_ankle")
    knee = pts.get(f"{side}_knee")
    toe = pts.get(f"{side}_foot_index")
    heel = pts.get(f"{side}_heel")
    nose = pts.get("nose")
    far = 2.0 * (h + w)

    def vertical(p, colour) -> None:
        if p is not None and np.all(np.isfinite(p)):
            C.draw_dashed_line(img, p - up * far, p + up * far, colour, max(1, int(lw * 0.6)), dash)

    if kf.phase == "pull":
        vertical(hip, C.ALIGN_RGB)
        if ankle is not None and np.all(np.isfinite(ankle)) and np.all(np.isfinite(hip)):
            # horizontal offset of the lifted ankle from the hip's vertical
            foot_on_line = hip + up * float(np.dot(ankle - hip, up))
            C.draw_line(img, foot_on_line, ankle, C.ANKLE_LINE_RGB, int(lw))
            C.draw_dot(img, ankle, C.ANKLE_LINE_RGB, lw, outline=(0, 0, 0))
    else:
        vertical(ankle, C.ANKLE_LINE_RGB)
        vertical(nose, C.HEAD_LINE_RGB)
        # shoulder - hip - support ankle alignment
        C.draw_line(img, sh, hip, C.ALIGN_RGB, int(lw * 0.8))
        C.draw_line(img, hip, ankle, C.ALIGN_RGB, int(lw * 0.8))
        for p in (sh, hip, ankle):
            C.draw_dot(img, p, C.ALIGN_RGB, 0.9 * lw, outline=(0, 0, 0))
    if kf.phase == "initial_contact":
        if knee is not None and ankle is not None and np.all(np.isfinite(knee)) \
                and np.all(np.isfinite(ankle)):
            shank_len = float(np.hypot(*(ankle - knee)))
            C.draw_line(img, knee, knee + (ankle - knee) * 1.25, C.MEASURE_RGB, int(lw))
            C.draw_dashed_line(img, knee, knee - up * shank_len * 1.25, C.MEASURE_RGB,
                               max(1, int(lw * 0.7)), dash * 0.6)
        if ankle is not None and np.all(np.isfinite(ankle)) and np.all(np.isfinite(hip)):
            under_hip = hip + up * float(np.dot(ankle - hip, up))
            C.draw_line(img, under_hip, ankle, C.ANKLE_LINE_RGB, int(lw * 1.2))
            C.draw_dot(img, under_hip, C.ANKLE_LINE_RGB, lw)
        if heel is not None and toe is not None:
            C.draw_line(img, heel, toe, C.NEAR_RGB, int(lw * 1.2))
    elif kf.phase in ("mid_stance", "fall"):
        C.draw_line(img, ankle, sh, C.MEASURE_RGB, int(lw))
    elif kf.phase == "toe_off":
        C.draw_line(img, toe, hip, C.MEASURE_RGB, int(lw))
    lines = [(kf.title, (255, 255, 255))] + _caption_lines(kf)
    if not from_video:
        lines.append(("No video given: skeleton drawn from the pose data", (200, 200, 200)))
    return _with_caption(img, lines, size_px=max(11, int(round(h / 28))))


def _with_caption(img: np.ndarray, lines: list[tuple[str, tuple[int, int, int]]], *,
                  size_px: int) -> np.ndarray:
    """The image with a dark strip below it holding the caption lines (numbers never hide the
    runner).
    """
    lines = list(lines) + [("", (0, 0, 0))] * max(0, _CAPTION_LINES - len(lines))
    panel = C.text_panel(lines, size_px=size_px, background=(20, 24, 32, 255))
    h, w = img.shape[:2]
    strip = np.empty((panel.shape[0], w, 3), dtype=np.uint8)
    strip[:] = (20, 24, 32)
    C.blend_patch(strip, panel[:, :w], 0, 0)
    return np.vstack([img, strip])
