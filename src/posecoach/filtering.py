"""Cleaning of the pose dataset: confidence masking, leg-swap repair, gap filling, low-pass.

Every function here is pure: it takes a pose dataset (see :mod:`posecoach.dataset`) and
returns a **new** one; the input is never modified. :func:`clean` runs the whole chain and
returns a :class:`CleaningReport` saying what was changed.

Order of the steps in :func:`clean` (and why)
---------------------------------------------
1. :func:`mask_low_confidence` first, so that keypoints the model itself doubts cannot drive
   the swap detector, be used as interpolation anchors or be smeared by the filter; then
   :func:`mask_outside_picture` (pixel datasets): keypoints outside the picture, which the
   model guesses with high confidence, and whole frames of a runner coming into or leaving
   the picture across its side.
2. :func:`repair_leg_swaps` second, on data that is masked but otherwise raw: a label swap is a
   jump, which is sharpest before any smoothing; and both later steps mix neighbouring samples,
   so they must see one consistent labelling (interpolating or filtering across a swap would
   draw a fake smooth bridge from one leg to the other).
3. :func:`interpolate_gaps` third: it bridges short holes (dropped frames, masked keypoints)
   between samples that now belong to the same leg, which also lengthens the unbroken
   stretches the filter needs.
4. :func:`lowpass` last: a zero-lag Butterworth filter over each unbroken stretch.

Leg swaps
---------
BlazePose, seen from the side, often exchanges the near and the far leg for a few frames
(all of ``hip/knee/ankle/heel/foot_index``), or only the lower leg. One frame cannot tell a swap
from a genuine crossing of the legs, which happens twice per stride in running (the swing leg
passes the stance leg). Continuity over time can: :class:`LegSwapDetector` labels every frame
normal or swapped by a two-state Viterbi dynamic programme (Viterbi 1967) whose cost is the
summed distance of every leg-chain keypoint of both legs from its constant-velocity prediction
(so two legs passing each other in opposite directions are not mistaken for a swap, unlike a
nearest-position rule) plus a fixed penalty per change of state; frames without enough leg
keypoints, repeated pictures and garbage frames are bridged (a garbage frame is a robust
outlier against the clip's own median misfit, :func:`glitch_limit_px`, so that the fast frames
of a 30 fps sprint are not taken for garbage). Each swapped span is then
classified as whole-leg, knee-down or ankle-down. The swap problem of 2-D side-view pose
estimation and its correction by continuity are documented by Stenum et al. (2021).

References
----------
Viterbi, A. J. (1967). Error bounds for convolutional codes and an asymptotically optimum
decoding algorithm. IEEE Transactions on Information Theory, 13(2), 260-269.

Stenum, J., Rossi, C., & Roemmich, R. T. (2021). Two-dimensional video-based analysis of
human gait using pose estimation. PLoS Computational Biology, 17(4), e1008935.

Winter, D. A. (2009). Biomechanics and Motor Control of Human Movement (4th ed.), ch. 3
(digital filtering; cut-off correction for multiple passes). Wiley.

Robertson, D. G. E., & Dowling, J. J. (2003). Design and responses of Butterworth and
critically damped digital filters. Journal of Electromyography and Kinesiology, 13(6), 569-573.

Fritsch, F. N., & Carlson, R. E. (1980). Monotone piecewise cubic interpolation. SIAM Journal
on Numerical Analysis, 17(2), 238-246 (PCHIP).
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from scipy.interpolate import PchipInterpolator
from scipy.signal import butter, filtfilt

from posecoach._arrays import true_runs as _true_runs
from posecoach.dataset import detected_frames, validate
from posecoach.errors import PosecoachError, PoseDataError

__all__ = [
    "CleaningReport",
    "CleaningSettingsError",
    "LEG_PARTS",
    "LegSwapDetector",
    "SWAP_KINDS",
    "apply_leg_swaps",
    "bone_length_costs",
    "butterworth_zero_lag",
    "clean",
    "constant_velocity_residuals",
    "crossing_border_frames",
    "default_cutoff_hz",
    "detect_leg_swaps",
    "glitch_limit_px",
    "glitch_scores",
    "interpolate_gaps",
    "lowpass",
    "lowpass_coefficients",
    "mask_low_confidence",
    "mask_outside_picture",
    "outside_picture",
    "repair_leg_swaps",
    "repeated_frames",
    "viterbi_second_order",
]

#: Keypoints of one leg chain, from the hip down (BlazePose names without the side prefix).
LEG_PARTS: tuple[str, ...] = ("hip", "knee", "ankle", "heel", "foot_index")

#: Segments whose 2-D length should stay nearly constant (bone-length consistency term).
_LEG_SEGMENTS: tuple[tuple[str, str], ...] = (
    ("hip", "knee"),
    ("knee", "ankle"),
    ("ankle", "heel"),
    ("heel", "foot_index"),
    ("ankle", "foot_index"),
)

#: Highest running-kinematics cut-off used by default (Hz); running is usually filtered at 6-12 Hz.
MAX_DEFAULT_CUTOFF_HZ = 10.0

#: A time step longer than this many median frame intervals breaks an unbroken stretch.
_MAX_STEP_FACTOR = 2.0


class CleaningSettingsError(PosecoachError):
    """A cleaning setting (threshold, cut-off, gap length) is out of range."""

    exit_code = 2


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _new_dataset(
    ds: xr.Dataset, position: np.ndarray, confidence: np.ndarray | None = None
) -> xr.Dataset:
    """Return a copy of ``ds`` with new position (and confidence) values; attrs deep-copied."""
    out = ds.copy(deep=False)
    out["position"] = ds["position"].copy(data=position)
    if confidence is not None:
        out["confidence"] = ds["confidence"].copy(data=confidence)
    out.attrs = copy.deepcopy(ds.attrs)
    return out


def _median_dt_s(time_s: np.ndarray) -> float:
    """Median frame interval in seconds (NaN when fewer than two frames)."""
    if time_s.size < 2:
        return float("nan")
    return float(np.median(np.diff(time_s)))


def _check_number(name: str, value: float, *, low: float, high: float, hint: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CleaningSettingsError(f"{name} must be a number, got {value!r}; {hint}") from None
    if not (np.isfinite(v) and low <= v <= high):
        raise CleaningSettingsError(f"{name} = {value!r} is out of range [{low}, {high}]; {hint}")
    return v


# --------------------------------------------------------------------------------------------
# 1. confidence masking
# --------------------------------------------------------------------------------------------


def _low_confidence_mask(ds: xr.Dataset, min_confidence: float) -> np.ndarray:
    conf = ds["confidence"].values
    pos = ds["position"].values
    with np.errstate(invalid="ignore"):
        low = conf < min_confidence  # NaN confidence compares False: unknown, kept
    return low & np.isfinite(pos).any(axis=-1)


def mask_low_confidence(ds: xr.Dataset, *, min_confidence: float = 0.5) -> xr.Dataset:
    """Set positions whose confidence is below a threshold to NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        Pose dataset.
    min_confidence : float
        Keypoints with ``confidence < min_confidence`` lose their position. A NaN confidence
        means "unknown" (e.g. data from a tool without confidences) and keeps its position.

    Returns
    -------
    xarray.Dataset
        New dataset; ``confidence`` is kept unchanged.

    Raises
    ------
    CleaningSettingsError
        If ``min_confidence`` is not within 0..1.
    """
    validate(ds)
    min_confidence = _check_number(
        "min_confidence", min_confidence, low=0.0, high=1.0, hint="use a value such as 0.5"
    )
    low = _low_confidence_mask(ds, min_confidence)
    pos = ds["position"].values.copy()
    pos[low] = np.nan
    return _new_dataset(ds, pos)


def _beyond_edges(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(time, keypoint) masks of positions beyond the left/right and the top/bottom edges."""
    validate(ds)
    if ds.attrs.get("frame", "pixel") != "pixel":
        raise PoseDataError("the picture's edges need pixel positions (a pose dataset from a video)")
    w, h = float(ds.attrs["image_width_px"]), float(ds.attrs["image_height_px"])
    pos = ds["position"].values
    x, y = pos[..., 0], pos[..., 1]
    with np.errstate(invalid="ignore"):
        return (x < 0) | (x > w), (y < 0) | (y > h)


def outside_picture(ds: xr.Dataset) -> np.ndarray:
    """Which keypoints lie outside the picture.

    BlazePose places every landmark, also those of body parts beyond the picture's edge, and
    gives them confidences as high as the visible ones (0.7-1.0 on the test clips); such a
    position is the model's guess, not a measurement.

    Parameters
    ----------
    ds : xarray.Dataset
        Pixel pose dataset (``image_width_px`` and ``image_height_px`` attributes).

    Returns
    -------
    ndarray of bool, shape (time, keypoint)
        True where the position is left of 0, right of the width, above 0 or below the height.
    """
    sides, ends = _beyond_edges(ds)
    return sides | ends


def _crossing_runs(ds: xr.Dataset, side_out: np.ndarray) -> np.ndarray:
    """:func:`crossing_border_frames` from the frames with a keypoint beyond a side edge."""
    detected = np.flatnonzero(detected_frames(ds))
    res = np.zeros(ds.sizes["time"], dtype=bool)
    if detected.size == 0:
        return res
    first, last = int(detected[0]), int(detected[-1])
    for a, b in _true_runs(side_out):
        if a <= first and b - 1 >= last:
            continue  # cut all the time: not entering or leaving
        if a <= first <= b - 1 or a <= last <= b - 1:
            res[a:b] = True
    return res


def crossing_border_frames(ds: xr.Dataset) -> np.ndarray:
    """Frames in which the runner enters or leaves the picture across its side.

    Frames with some keypoint beyond the left or right edge that lie in one unbroken run with
    the first or the last frame in which anybody was detected: the runner coming into or going
    out of view (overground, static camera). While the body is cut by the edge the pose model
    sees only part of it and guesses the rest, and what it does see degrades too: on the shared
    50 fps overground clip the planted foot of the last contact "lifts" 10-28 cm in the picture
    as the leading hand and knee leave it (toe-off 18 frames before the label), and the trailing
    heel outside the picture as the runner comes in gives a toe-off 3 frames before the label.
    A run that covers every detected frame (a camera that always cuts off a hand) is not
    entering or leaving and is not counted.

    Returns
    -------
    ndarray of bool, shape (time,)
    """
    return _crossing_runs(ds, _beyond_edges(ds)[0].any(axis=1))


def mask_outside_picture(ds: xr.Dataset) -> tuple[xr.Dataset, np.ndarray, np.ndarray]:
    """Set keypoints outside the picture, and whole frames of a runner crossing its edge, to NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        Pixel pose dataset.

    Returns
    -------
    ds : xarray.Dataset
        New dataset (``confidence`` unchanged).
    outside : ndarray of bool, shape (time, keypoint)
        Keypoints that were outside the picture (:func:`outside_picture`).
    crossing : ndarray of bool, shape (time,)
        Frames masked whole (:func:`crossing_border_frames`).
    """
    sides, ends = _beyond_edges(ds)
    outside = sides | ends
    crossing = _crossing_runs(ds, sides.any(axis=1))
    pos = ds["position"].values.copy()
    pos[outside] = np.nan
    pos[crossing] = np.nan
    return _new_dataset(ds, pos), outside, crossing


# --------------------------------------------------------------------------------------------
# 2. leg swaps
# --------------------------------------------------------------------------------------------

#: Kinds of leg swap, by the number of distal parts of :data:`LEG_PARTS` exchanged.
SWAP_KINDS: dict[int, str] = {5: "whole_leg", 4: "knee_down", 3: "ankle_down"}


def _leg_chain(ds: xr.Dataset) -> np.ndarray:
    """Leg-chain positions, shape (time, side, part, space) with side 0 = left, 1 = right."""
    names = list(ds["keypoint"].values)
    wanted = [[f"{s}_{p}" for p in LEG_PARTS] for s in ("left", "right")]
    missing = [k for row in wanted for k in row if k not in names]
    if missing:
        raise PoseDataError(
            f"the pose dataset lacks leg keypoints {missing}; leg swaps need the BlazePose layout"
        )
    idx = np.array([[names.index(k) for k in row] for row in wanted])
    return ds["position"].values[:, idx, :]


def constant_velocity_residuals(
    chain_px: np.ndarray,
    time_s: np.ndarray,
    *,
    cap_px: float,
    missing_px: float,
) -> np.ndarray:
    """Constant-velocity prediction residuals of a two-sided chain under swap/no-swap labels.

    For frame ``t`` and each part, the corrected track of each side is predicted from the two
    previous frames, ``p = c[t-1] + r (c[t-1] - c[t-2])`` with ``r = dt[t] / dt[t-1]`` (time may
    be irregular), and the residual is ``|c[t] - p|``. Each of the three frames may read the
    part from the same side (bit 0) or from the other side (bit 1). Two legs passing each other
    in opposite directions fit this prediction only when labelled correctly, whereas a
    nearest-position rule would prefer swapping them.

    Parameters
    ----------
    chain_px : ndarray, shape (n, 2, n_parts, 2)
        Observed positions (time, side, part, space); NaN where unknown.
    time_s : ndarray, shape (n,)
        Strictly increasing times.
    cap_px : float
        Residuals are truncated at this value (robust cost: one wild keypoint cannot force a
        relabelling).
    missing_px : float
        Cost of a residual that cannot be computed (a NaN among the three samples), so that a
        labelling gains nothing from pointing at missing data.

    Returns
    -------
    ndarray, shape (n, n_parts, 2, 2, 2)
        ``res[t, k, a, b, c]``: summed residual (both sides) of part ``k`` at frame ``t`` when
        the part is swapped (1) or not (0) at frames ``t-2, t-1, t``. Rows 0 and 1 are zero.
    """
    n, _, n_parts, _ = chain_px.shape
    res = np.zeros((n, n_parts, 2, 2, 2))
    if n < 3:
        return res
    dt = np.diff(time_s)
    ratio = (dt[1:] / dt[:-1])[:, None, None]
    for a, b, c in itertools.product((0, 1), repeat=3):
        for side in (0, 1):
            p2 = chain_px[:-2, side ^ a]
            p1 = chain_px[1:-1, side ^ b]
            p0 = chain_px[2:, side ^ c]
            r = np.linalg.norm(p0 - (p1 + ratio * (p1 - p2)), axis=-1)
            res[2:, :, a, b, c] += np.where(np.isfinite(r), np.minimum(r, cap_px), missing_px)
    return res


def bone_length_costs(
    chain_px: np.ndarray,
    reference_px: np.ndarray,
    *,
    tolerance_px: float,
    cap_px: float,
) -> np.ndarray:
    """Deviation of each leg segment's 2-D length from its reference, per swap bits of its ends.

    A labelling that joins, say, the left knee to the right ankle gives a shank length far from
    the usual one (unless the two points happen to be close); whole-leg swaps keep every length.

    Parameters
    ----------
    chain_px : ndarray, shape (n, 2, 5, 2)
        Observed positions (time, side, part of :data:`LEG_PARTS`, space).
    reference_px : ndarray, shape (n_segments,)
        Reference length of each segment of ``_LEG_SEGMENTS`` (e.g. the median over the clip).
    tolerance_px : float
        Dead zone: length errors up to this are free (2-D lengths vary with pelvis rotation and
        noise; only a clearly wrong joining of segments should cost).
    cap_px : float
        Truncation of one error.

    Returns
    -------
    ndarray, shape (n, n_segments, 2, 2)
        Summed (both sides) length error when the segment's first end is swapped (first bit)
        and its second end is swapped (second bit); 0 where unknown.
    """
    n = chain_px.shape[0]
    out = np.zeros((n, len(_LEG_SEGMENTS), 2, 2))
    for s, (pa, pb) in enumerate(_LEG_SEGMENTS):
        i, j = LEG_PARTS.index(pa), LEG_PARTS.index(pb)
        for bi, bj in itertools.product((0, 1), repeat=2):
            for side in (0, 1):
                vec = chain_px[:, side ^ bi, i] - chain_px[:, side ^ bj, j]
                length = np.linalg.norm(vec, axis=-1)
                err = np.clip(np.abs(length - reference_px[s]) - tolerance_px, 0.0, cap_px)
                out[:, s, bi, bj] += np.where(np.isfinite(err), err, 0.0)
    return out


def viterbi_second_order(
    transition_cost: np.ndarray,
    switch_cost: float,
    initial_cost: np.ndarray | None = None,
) -> np.ndarray:
    """Minimum-cost state path when the transition cost depends on three consecutive states.

    Dynamic programming over pairs of states ``(s[t-1], s[t])`` (Viterbi 1967): minimises
    ``initial[s[0]] + sum_{t>=2} transition[t, s[t-2], s[t-1], s[t]]
    + switch_cost * #{t: s[t] != s[t-1]}``.

    Parameters
    ----------
    transition_cost : ndarray, shape (n, S, S, S)
        Cost of the state triple ending at frame ``t`` (rows 0 and 1 are ignored).
    switch_cost : float
        Penalty for every change of state between consecutive frames.
    initial_cost : ndarray, shape (S,), optional
        Cost of each state at the first frame (default 0).

    Returns
    -------
    ndarray of int, shape (n,)
        The optimal states (ties go to the lower state index).
    """
    n, n_states = transition_cost.shape[:2]
    init = np.zeros(n_states) if initial_cost is None else np.asarray(initial_cost, dtype=float)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1:
        return np.array([int(np.argmin(init))])
    switch = switch_cost * (1.0 - np.eye(n_states))
    acc = init[:, None] + switch  # acc[a, b]: best cost of a path ending s[t-1] = a, s[t] = b
    back = np.zeros((n, n_states, n_states), dtype=np.int64)
    for t in range(2, n):
        total = acc[:, :, None] + transition_cost[t]  # (a, b, c)
        back[t] = np.argmin(total, axis=0)  # best a for each (b, c)
        acc = np.min(total, axis=0) + switch
    path = np.zeros(n, dtype=np.int64)
    path[n - 2], path[n - 1] = np.unravel_index(int(np.argmin(acc)), acc.shape)
    for t in range(n - 1, 1, -1):
        path[t - 2] = back[t, path[t - 1], path[t]]
    return path


def repeated_frames(chain_px: np.ndarray, tolerance_px: float) -> np.ndarray:
    """Frames whose chain keypoints all moved less than ``tolerance_px`` since the last kept one.

    Parameters
    ----------
    chain_px : ndarray, shape (n, ...)
        Positions, time first, space last.
    tolerance_px : float
        Largest movement of a repeated picture.

    Returns
    -------
    ndarray of bool, shape (n,)
        True for repeats (never the first frame).
    """
    n = chain_px.shape[0]
    out = np.zeros(n, dtype=bool)
    flat = chain_px.reshape(n, -1, chain_px.shape[-1])
    last = 0
    for t in range(1, n):
        d = np.linalg.norm(flat[t] - flat[last], axis=-1)
        d = d[np.isfinite(d)]
        if d.size and d.max() < tolerance_px:
            out[t] = True
        else:
            last = t
    return out


def glitch_scores(chain_px: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """How badly each frame's leg chain fits between its neighbours, under the best labelling.

    For frame ``t`` the score is the mean distance (over the known chain keypoints of both
    sides) between ``c[t]`` and the time-weighted midpoint of ``c[t-1]`` and ``c[t+1]``,
    minimised over the eight ways of labelling the three frames (so a clean swap, a swap
    boundary or a genuine crossing all score low, as smooth motion does). A frame whose pose is
    wrong in a way no relabelling explains (the model's occasional garbage frame) scores high.

    Parameters
    ----------
    chain_px : ndarray, shape (n, 2, n_parts, 2)
        Positions (time, side, part, space).
    time_s : ndarray, shape (n,)
        Strictly increasing times.

    Returns
    -------
    ndarray, shape (n,)
        Scores in pixels; 0 for the first and last frame and where nothing can be compared.
    """
    n = chain_px.shape[0]
    out = np.zeros(n)
    if n < 3:
        return out
    w = ((time_s[1:-1] - time_s[:-2]) / (time_s[2:] - time_s[:-2]))[:, None, None, None]
    best = np.full(n - 2, np.inf)
    for a, b, c in itertools.product((0, 1), repeat=3):
        prev = chain_px[:-2][:, [a, 1 - a]]
        nxt = chain_px[2:][:, [b, 1 - b]]
        cur = chain_px[1:-1][:, [c, 1 - c]]
        d = np.linalg.norm(cur - (prev + w * (nxt - prev)), axis=-1).reshape(n - 2, -1)
        ok = np.isfinite(d)
        mean = np.where(ok, d, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
        best = np.minimum(best, mean)
    out[1:-1] = best
    return out


def glitch_limit_px(
    scores_px: np.ndarray, leg_px: float, *, absolute: float, relative: float
) -> float:
    """Score above which a frame counts as a pose-model glitch: a robust outlier limit.

    ``max(absolute * leg_px, relative * median(scores))``, the median taken over the interior
    frames (the first and last score 0 by construction). A glitch is a frame that fits its
    neighbours far worse than the clip's *typical* frame does. The typical misfit of correct,
    smooth motion grows with the distance the feet travel between frames (the three-frame
    interpolation error is about ``a dt**2 / 4`` for acceleration ``a``): at 50-120 fps, or at
    30 fps for an easy run, it is a few hundredths of a leg length and the fixed limit rules;
    in a 30 fps sprint the feet move up to a leg length per frame, the median misfit is about
    0.06 leg lengths and a fixed limit of 0.15 flagged 62 of 402 frames of a real clip,
    mostly the contact and turnaround frames whose labels matter most (they then took the
    state of the previous frame, so their swaps were never repaired). The median is a robust
    scale (Hampel 1974): unaffected by the glitches themselves as long as they are fewer than
    half of the frames.

    Parameters
    ----------
    scores_px : ndarray, shape (n,)
        :func:`glitch_scores` of the frames, in pixels.
    leg_px : float
        Leg length (pixels).
    absolute : float
        Lowest limit, in leg lengths.
    relative : float
        Multiple of the median score.

    Returns
    -------
    float
        The limit in pixels.

    References
    ----------
    Hampel, F. R. (1974). The influence curve and its role in robust estimation. Journal of
    the American Statistical Association, 69(346), 383-393.
    """
    limit = absolute * leg_px
    inner = np.asarray(scores_px, dtype=float)[1:-1]
    inner = inner[np.isfinite(inner)]
    if inner.size:
        limit = max(limit, relative * float(np.median(inner)))
    return float(limit)


def _value_runs(values: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of runs of equal consecutive values."""
    if values.size == 0:
        return []
    cut = np.flatnonzero(np.diff(values) != 0) + 1
    starts = np.concatenate(([0], cut))
    stops = np.concatenate((cut, [values.size]))
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def _labelling_cost(res: np.ndarray, part_bits: np.ndarray, start: int, stop: int) -> float:
    """Summed residual of frames ``start..stop-1`` for per-frame, per-part swap bits (n, K)."""
    total = 0.0
    t = np.arange(max(start, 2), stop)
    for k in range(res.shape[1]):
        b = part_bits[:, k]
        total += float(res[t, k, b[t - 2], b[t - 1], b[t]].sum())
    return total


class LegSwapDetector:
    """Find frames whose left/right leg labels are exchanged, from the continuity of the leg chain.

    Stage 1 labels every frame *normal* or *swapped* (the whole chain hip, knee, ankle, heel,
    foot_index exchanged) by a two-state Viterbi path (Viterbi 1967;
    :func:`viterbi_second_order`). Its cost is the summed constant-velocity prediction residual
    of all chain keypoints of both legs (:func:`constant_velocity_residuals`) plus
    ``switch_penalty`` per change of state. The prediction is what keeps genuine crossings of
    the legs (twice per running stride) from being read as swaps. Swap correction by continuity
    in 2-D side-view gait video: Stenum et al. 2021.

    Continuity only tells *relative* labels; the absolute reference is the labelling the pose
    model gives in the majority of frames. Frames in which less than ``min_chain_fraction`` of
    the chain keypoints are known take no part in the path (the prediction bridges them using
    the frame times) and inherit the state of the previous used frame.

    Stage 2 (``partial=True``) decides for every swapped span how far up the chain the swap
    reaches: the whole leg, the knee down, or the ankle down, by the residuals around the span
    plus a bone-length consistency term (:func:`bone_length_costs`). A partial swap must beat
    the whole-leg one by ``partial_margin``, so when the data cannot tell (e.g. both hips at the
    same pixel) the whole leg is taken. Swaps of the hips alone are not considered.

    Parameters
    ----------
    switch_penalty : float
        Cost of one change of state, in leg lengths (hip-knee + knee-ankle, median over the
        clip). Larger values need stronger evidence to start or end a swap.
    partial : bool
        Whether to look for knee-down and ankle-down swaps (stage 2).
    partial_margin : float
        How much lower (in leg lengths) the cost of a partial swap must be to be chosen.
    residual_cap : float
        Truncation of one keypoint's residual, in leg lengths.
    bone_tolerance : float
        Segment-length errors up to this many leg lengths cost nothing (stage 2).
    min_chain_fraction : float
        Minimum fraction of the chain keypoints (both sides) known for a frame to be used.
    glitch_threshold : float
        Frames whose :func:`glitch_scores` exceed this many leg lengths (and
        ``glitch_relative`` times the clip's median score, see :func:`glitch_limit_px`) are
        left out of the path like unknown frames (they take the state of the previous used
        frame).
    glitch_relative : float
        The glitch limit is at least this many times the median glitch score of the clip, so
        that in fast motion at a low frame rate (a 30 fps sprint) the fastest frames, whose
        true motion fits the three-frame interpolation poorly, still take part in the path.
    repeat_tolerance : float
        A frame whose chain keypoints all moved less than this many leg lengths since the
        previous used frame is taken as a repeated picture and left out the same way.

    Attributes
    ----------
    swapped_ : ndarray of bool, shape (time,)
        True where the labels are swapped.
    swapped_parts_ : ndarray of int, shape (time,)
        Number of distal parts of :data:`LEG_PARTS` swapped: 0 none, 5 whole leg, 4 knee down,
        3 ankle down (see :data:`SWAP_KINDS`).
    spans_ : list of (int, int, int)
        ``(start, stop, swapped_parts)`` of each swapped span (positional indices, ``stop``
        exclusive).
    leg_length_px_ : float
        The leg length used as scale (NaN when the legs were never seen).
    glitch_frames_ : ndarray of int
        Positional indices of the frames left out as glitches.
    glitch_threshold_px_ : float
        The glitch limit used (pixels; NaN when the legs were never seen).
    """

    def __init__(
        self,
        *,
        switch_penalty: float = 0.5,
        partial: bool = True,
        partial_margin: float = 0.1,
        residual_cap: float = 0.5,
        bone_tolerance: float = 0.1,
        min_chain_fraction: float = 0.5,
        glitch_threshold: float = 0.15,
        repeat_tolerance: float = 0.03,
        glitch_relative: float = 5.0,
    ) -> None:
        self.glitch_relative = glitch_relative
        self.switch_penalty = switch_penalty
        self.partial = partial
        self.partial_margin = partial_margin
        self.residual_cap = residual_cap
        self.bone_tolerance = bone_tolerance
        self.min_chain_fraction = min_chain_fraction
        self.glitch_threshold = glitch_threshold
        self.repeat_tolerance = repeat_tolerance

    def _check(self) -> None:
        for name, hint in (
            ("switch_penalty", "e.g. 0.5"),
            ("partial_margin", "e.g. 0.1"),
            ("residual_cap", "e.g. 0.5"),
            ("bone_tolerance", "e.g. 0.1"),
            ("glitch_threshold", "e.g. 0.15"),
            ("glitch_relative", "e.g. 5"),
            ("repeat_tolerance", "e.g. 0.03"),
        ):
            _check_number(name, getattr(self, name), low=0.0, high=1e6, hint=hint)
        _check_number(
            "min_chain_fraction", self.min_chain_fraction, low=0.0, high=1.0, hint="e.g. 0.5"
        )

    def detect(self, ds: xr.Dataset) -> LegSwapDetector:
        """Run the detector on a pose dataset; fills the attributes ending in ``_``.

        Parameters
        ----------
        ds : xarray.Dataset
            Pose dataset (BlazePose layout).

        Returns
        -------
        LegSwapDetector
            ``self``.
        """
        validate(ds)
        self._check()
        n = ds.sizes["time"]
        self.swapped_parts_ = np.zeros(n, dtype=np.int64)
        self.swapped_ = np.zeros(n, dtype=bool)
        self.spans_: list[tuple[int, int, int]] = []
        self.leg_length_px_ = float("nan")
        self.glitch_frames_ = np.zeros(0, dtype=np.int64)
        self.glitch_threshold_px_ = float("nan")

        chain = _leg_chain(ds)
        known = np.isfinite(chain).all(axis=-1)  # (n, side, part)
        used = known.reshape(n, -1).mean(axis=1) >= max(self.min_chain_fraction, 1e-9)
        leg = np.linalg.norm(chain[:, :, 0] - chain[:, :, 1], axis=-1) + np.linalg.norm(
            chain[:, :, 1] - chain[:, :, 2], axis=-1
        )
        leg = leg[np.isfinite(leg)]
        if leg.size == 0 or used.sum() < 3 or np.median(leg) <= 0:
            return self
        leg_px = float(np.median(leg))
        self.leg_length_px_ = leg_px

        idx = np.flatnonzero(used)
        # repeated pictures (slow motion, frame-rate conversion) break the constant-velocity
        # model; keep the first of each run of (nearly) unchanged leg chains
        idx = idx[~repeated_frames(chain[idx], self.repeat_tolerance * leg_px)]
        # frames that fit neither neighbour under any labelling (pose-model glitches) would let
        # the path relabel there for free: leave them out too
        scores = glitch_scores(chain[idx], ds["time"].values[idx])
        self.glitch_threshold_px_ = glitch_limit_px(
            scores, leg_px, absolute=self.glitch_threshold, relative=self.glitch_relative
        )
        odd = scores > self.glitch_threshold_px_
        self.glitch_frames_ = idx[odd]
        idx = idx[~odd]
        if idx.size < 3:
            return self
        sub = chain[idx]
        time_s = ds["time"].values[idx]
        cap = self.residual_cap * leg_px
        # cost of an uncomputable residual: the typical residual under the labels as given
        ident = constant_velocity_residuals(sub, time_s, cap_px=np.inf, missing_px=np.nan)
        typical = ident[2:, :, 0, 0, 0] / 2.0
        typical = typical[np.isfinite(typical)]
        missing = float(min(np.median(typical), cap)) if typical.size else 0.5 * cap
        res = constant_velocity_residuals(sub, time_s, cap_px=cap, missing_px=missing)

        # stage 1: two states (normal / whole chain swapped), summed over the chain
        transition = res.sum(axis=1)  # (n, 2, 2, 2)
        penalty = self.switch_penalty * leg_px
        path = viterbi_second_order(transition, penalty, np.array([0.0, penalty]))
        if path.mean() > 0.5:  # the model's labels are taken as right in most frames
            path = 1 - path

        # stage 2: how far up the chain each swapped span reaches
        parts = np.where(path == 1, len(LEG_PARTS), 0)
        if self.partial:
            parts = self._refine(sub, res, path, parts, leg_px)

        pos_of = np.maximum(np.searchsorted(idx, np.arange(n), side="right") - 1, 0)
        self.swapped_parts_ = parts[pos_of].astype(np.int64)
        self.swapped_ = self.swapped_parts_ > 0
        self.spans_ = [
            (s, e, int(self.swapped_parts_[s]))
            for s, e in _value_runs(self.swapped_parts_)
            if self.swapped_parts_[s] > 0
        ]
        return self

    def _refine(
        self, sub: np.ndarray, res: np.ndarray, path: np.ndarray, parts: np.ndarray, leg_px: float
    ) -> np.ndarray:
        """Stage 2: choose whole-leg, knee-down or ankle-down swap for every swapped span."""
        n_parts = len(LEG_PARTS)
        lengths = np.stack(
            [
                np.linalg.norm(
                    sub[:, :, LEG_PARTS.index(a)] - sub[:, :, LEG_PARTS.index(b)], axis=-1
                )
                for a, b in _LEG_SEGMENTS
            ],
            axis=-1,
        )  # (n, side, segment)
        reference = np.array(
            [np.nanmedian(lengths[..., s]) if np.isfinite(lengths[..., s]).any() else 0.0
             for s in range(len(_LEG_SEGMENTS))]
        )
        bone = bone_length_costs(
            sub,
            reference,
            tolerance_px=self.bone_tolerance * leg_px,
            cap_px=self.residual_cap * leg_px,
        )
        seg_ends = [(LEG_PARTS.index(a), LEG_PARTS.index(b)) for a, b in _LEG_SEGMENTS]
        out = parts.copy()
        for start, stop in _value_runs(path):
            if path[start] != 1:
                continue
            lo, hi = max(start - 2, 0), min(stop + 2, path.size)
            costs = {}
            for k in sorted(SWAP_KINDS, reverse=True):  # whole leg first
                bits = np.zeros((path.size, n_parts), dtype=np.int64)
                bits[start:stop, n_parts - k :] = 1
                cost = _labelling_cost(res, bits, lo, hi)
                rows = np.arange(start, stop)
                for s, (i, j) in enumerate(seg_ends):
                    cost += float(bone[rows, s, bits[rows, i], bits[rows, j]].sum())
                costs[k] = cost
            best = min(costs, key=costs.get)
            if costs[best] < costs[n_parts] - self.partial_margin * leg_px:
                out[start:stop] = best
        return out


def apply_leg_swaps(ds: xr.Dataset, swapped_parts: np.ndarray) -> xr.Dataset:
    """Exchange left and right leg keypoints (position and confidence) in the given frames.

    Parameters
    ----------
    ds : xarray.Dataset
        Pose dataset.
    swapped_parts : ndarray, shape (time,)
        Per frame, the number of distal parts of :data:`LEG_PARTS` to exchange (0 none,
        5 whole leg, 4 knee down, 3 ankle down; see :attr:`LegSwapDetector.swapped_parts_`);
        a boolean array exchanges the whole leg where True.

    Returns
    -------
    xarray.Dataset
        New dataset with the labels exchanged.
    """
    swapped_parts = np.asarray(swapped_parts)
    if swapped_parts.shape != (ds.sizes["time"],):
        raise CleaningSettingsError(
            f"swapped_parts has shape {swapped_parts.shape}, expected ({ds.sizes['time']},)"
        )
    if swapped_parts.dtype == bool:
        swapped_parts = np.where(swapped_parts, len(LEG_PARTS), 0)
    swapped_parts = swapped_parts.astype(np.int64)
    names = list(ds["keypoint"].values)
    pos = ds["position"].values.copy()
    conf = ds["confidence"].values.copy()
    for depth, part in enumerate(LEG_PARTS):
        rows = swapped_parts >= len(LEG_PARTS) - depth
        if not rows.any():
            continue
        li, ri = names.index(f"left_{part}"), names.index(f"right_{part}")
        pos[rows, li], pos[rows, ri] = pos[rows, ri].copy(), pos[rows, li].copy()
        conf[rows, li], conf[rows, ri] = conf[rows, ri].copy(), conf[rows, li].copy()
    return _new_dataset(ds, pos, conf)


def detect_leg_swaps(
    ds: xr.Dataset, *, switch_penalty: float = 0.5, partial: bool = True
) -> np.ndarray:
    """Frames whose left/right leg labels are exchanged (whole leg, knee down or ankle down).

    See :class:`LegSwapDetector` for the method (two-state Viterbi path over frames with the
    constant-velocity continuity of the whole leg chain; Viterbi 1967; Stenum et al. 2021).

    Parameters
    ----------
    ds : xarray.Dataset
        Pose dataset.
    switch_penalty : float
        Cost of one change of labelling, in leg lengths.
    partial : bool
        Whether to recognise knee-down and ankle-down swaps.

    Returns
    -------
    ndarray of bool, shape (time,)
        True where the labels are swapped.
    """
    det = LegSwapDetector(switch_penalty=switch_penalty, partial=partial).detect(ds)
    return det.swapped_


def repair_leg_swaps(
    ds: xr.Dataset, *, switch_penalty: float = 0.5, partial: bool = True
) -> tuple[xr.Dataset, int]:
    """Detect leg label swaps and exchange the labels back.

    Parameters
    ----------
    ds : xarray.Dataset
        Pose dataset.
    switch_penalty : float
        Cost of one change of labelling, in leg lengths.
    partial : bool
        Whether to recognise knee-down and ankle-down swaps.

    Returns
    -------
    ds : xarray.Dataset
        New dataset with positions and confidences of the swapped parts exchanged back.
    frames_repaired : int
        Number of frames changed.
    """
    det = LegSwapDetector(switch_penalty=switch_penalty, partial=partial).detect(ds)
    return apply_leg_swaps(ds, det.swapped_parts_), int(det.swapped_.sum())


# --------------------------------------------------------------------------------------------
# 3. gap filling
# --------------------------------------------------------------------------------------------


def _fill_track(
    track: np.ndarray,
    time_s: np.ndarray,
    *,
    max_gap_s: float = np.inf,
    max_samples: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """PCHIP-fill interior NaN runs of one (n, d) track; return (track, filled mask, n_runs).

    A run is filled when the time between its known neighbours is at most ``max_gap_s`` and
    (if given) it holds at most ``max_samples`` samples.
    """
    out = np.array(track, dtype=np.float64, copy=True)
    ok = np.isfinite(out).all(axis=-1)
    todo = np.zeros_like(ok)
    n_runs = 0
    if ok.sum() < 2:
        return out, todo, 0
    for start, stop in _true_runs(~ok):
        if start == 0 or stop == ok.size:
            continue  # no extrapolation at the ends
        if max_samples is not None and stop - start > max_samples:
            continue
        if time_s[stop] - time_s[start - 1] <= max_gap_s + 1e-9:
            todo[start:stop] = True
            n_runs += 1
    if todo.any():
        interp = PchipInterpolator(time_s[ok], out[ok], axis=0, extrapolate=False)
        out[todo] = interp(time_s[todo])
    return out, todo, n_runs


def _fill_gaps(ds: xr.Dataset, max_gap_s: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Return (new positions, filled mask (time, keypoint), number of gaps filled)."""
    pos = ds["position"].values.copy()
    time_s = ds["time"].values
    filled = np.zeros(pos.shape[:2], dtype=bool)
    n_gaps = 0
    for k in range(pos.shape[1]):
        pos[:, k], filled[:, k], runs = _fill_track(pos[:, k], time_s, max_gap_s=max_gap_s)
        n_gaps += runs
    return pos, filled, n_gaps


def interpolate_gaps(ds: xr.Dataset, *, max_gap_ms: float = 100.0) -> tuple[xr.Dataset, int]:
    """Fill short runs of unknown positions by shape-preserving cubic interpolation (PCHIP).

    A gap is a run of frames in which a keypoint is unknown, with known samples on both sides;
    its length is the time it spans **between those two known samples** (so at 30 fps one
    missing frame is a 66.7 ms gap and two are 100 ms). Gaps no longer than ``max_gap_ms`` are
    filled with PCHIP (Fritsch & Carlson 1980) through the keypoint's known samples, using the
    time coordinate (which may be irregular); longer gaps and unknown runs at the start or end
    stay NaN. Confidences are left unchanged.

    Parameters
    ----------
    ds : xarray.Dataset
        Pose dataset.
    max_gap_ms : float
        Longest gap to fill, in milliseconds.

    Returns
    -------
    ds : xarray.Dataset
        New dataset.
    n_filled : int
        Number of (frame, keypoint) positions filled.

    Raises
    ------
    CleaningSettingsError
        If ``max_gap_ms`` is negative or not a number.
    """
    validate(ds)
    max_gap_ms = _check_number(
        "max_gap_ms", max_gap_ms, low=0.0, high=1e7, hint="use e.g. 100 (ms), or 0 to fill nothing"
    )
    pos, filled, _ = _fill_gaps(ds, max_gap_ms / 1000.0)
    return _new_dataset(ds, pos), int(filled.sum())


# --------------------------------------------------------------------------------------------
# 4. low-pass filtering
# --------------------------------------------------------------------------------------------


def default_cutoff_hz(fps: float) -> float:
    """Default low-pass cut-off for running kinematics: ``min(10 Hz, fps / 4)``.

    Running kinematics are usually filtered at 6-12 Hz (Winter 2009 suggests about 6 Hz for
    walking; running has faster foot motion). 10 Hz keeps the foot-strike transient at 50+ fps.
    At lower frame rates the cut-off is held at half the Nyquist frequency, so that the design
    frequency after the two-pass correction (about 0.66 of Nyquist) stays clear of Nyquist,
    where aliased noise lives and frame-to-frame jitter dominates: 7.5 Hz at 30 fps, 6.25 Hz at
    25 fps.

    Parameters
    ----------
    fps : float
        Sampling rate (frames per second).

    Returns
    -------
    float
        Cut-off frequency in Hz.
    """
    return float(min(MAX_DEFAULT_CUTOFF_HZ, fps / 4.0))


def _two_pass_correction(order: int) -> float:
    """Winter (2009) correction: -3 dB point of ``order`` Butterworth run forward and back."""
    return float((2.0 ** (1.0 / 2.0) - 1.0) ** (1.0 / (2.0 * order)))


def _max_cutoff_hz(fs_hz: float, order: int) -> float:
    """Largest cut-off whose design frequency stays below 0.45 fs."""
    return float(fs_hz / np.pi * np.arctan(np.tan(np.pi * 0.45) * _two_pass_correction(order)))


def _design_hz(cutoff_hz: float, fs_hz: float, order: int) -> float:
    """Single-pass design frequency whose forward-backward response is -3 dB at ``cutoff_hz``.

    The correction is applied to the pre-warped frequency of the bilinear transform
    (Robertson & Dowling 2003), so it is exact for digital filters at any ``cutoff / fs``.
    """
    warped = np.tan(np.pi * cutoff_hz / fs_hz) / _two_pass_correction(order)
    return float(fs_hz / np.pi * np.arctan(warped))


def butterworth_zero_lag(
    x: np.ndarray, fs_hz: float, cutoff_hz: float, order: int = 2, axis: int = 0
) -> np.ndarray:
    """Zero-lag Butterworth low-pass: ``order`` Butterworth run forward and backward (filtfilt).

    Running a 2nd-order filter twice gives a 4th-order zero-lag filter (Winter 2009, ch. 3).
    Two passes lower the -3 dB point, so the filter is designed at a higher frequency:
    Winter's factor ``C = (2**(1/2) - 1)**(1/(2*order))`` (0.802 for order 2) applied to the
    pre-warped frequency, ``tan(pi f_d / fs) = tan(pi f_c / fs) / C`` (Robertson & Dowling
    2003): the returned signal is attenuated by exactly 3 dB at ``cutoff_hz``.

    Parameters
    ----------
    x : ndarray
        Signal, all finite, longer than ``3 * (order + 1)`` samples along ``axis``.
    fs_hz : float
        Sampling rate.
    cutoff_hz : float
        -3 dB cut-off of the zero-lag filter.
    order : int
        Order of the single-pass Butterworth filter.
    axis : int
        Axis of time.

    Returns
    -------
    ndarray
        Filtered signal, same shape.
    """
    b, a = lowpass_coefficients(float(cutoff_hz), float(fs_hz), int(order))
    return filtfilt(b, a, x, axis=axis)


@functools.lru_cache(maxsize=32)
def lowpass_coefficients(cutoff_hz: float, fs_hz: float, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Butterworth design (b, a) of :func:`butterworth_zero_lag`: the single pass's coefficients.

    Cached: the same for every stretch and point; the arrays are read-only.
    """
    wn = _design_hz(cutoff_hz, fs_hz, order) / (fs_hz / 2.0)
    b, a = butter(order, wn, btype="low")
    b.setflags(write=False)  # shared between calls
    a.setflags(write=False)
    return b, a


def _filter_positions(
    ds: xr.Dataset, cutoff_hz: float | None, order: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Return (new positions, unfiltered-finite mask (time, keypoint), cut-off used)."""
    pos = ds["position"].values.copy()
    time_s = ds["time"].values
    finite = np.isfinite(pos).all(axis=-1)
    dt = _median_dt_s(time_s)
    if not np.isfinite(dt) or dt <= 0:
        return pos, finite.copy(), float("nan") if cutoff_hz is None else float(cutoff_hz)
    fs_hz = 1.0 / dt
    cutoff = default_cutoff_hz(fs_hz) if cutoff_hz is None else float(cutoff_hz)
    limit = _max_cutoff_hz(fs_hz, order)  # the design frequency must stay below Nyquist
    if not (np.isfinite(cutoff) and 0 < cutoff < limit):
        raise CleaningSettingsError(
            f"cutoff_hz = {cutoff_hz!r} does not suit this clip's {fs_hz:.1f} frames/s: choose a "
            f"cut-off between 0 and {limit:.1f} Hz (running kinematics are usually filtered at "
            "6-12 Hz), or leave it unset for the default"
        )
    min_len = 3 * (order + 1) + 1  # filtfilt's default padding needs more than 3*(order+1)
    breaks = np.concatenate(([False], np.diff(time_s) > _MAX_STEP_FACTOR * dt))
    unfiltered = finite.copy()
    for k in range(pos.shape[1]):
        for start, stop in _true_runs(finite[:, k]):
            # split the run where the time step is too long (missing rows)
            cuts = [start, *(np.flatnonzero(breaks[start + 1 : stop]) + start + 1).tolist(), stop]
            for s, e in itertools.pairwise(cuts):
                if e - s < min_len:
                    continue
                t = time_s[s:e]
                seg = pos[s:e, k]
                steps = np.diff(t)
                if np.max(np.abs(steps - dt)) <= 0.1 * dt:
                    pos[s:e, k] = butterworth_zero_lag(seg, fs_hz, cutoff, order)
                else:  # irregular times: filter on a uniform grid, read back at the frame times
                    grid = np.arange(t[0], t[-1] + 0.5 * dt, dt)
                    if grid.size < min_len:
                        continue
                    uni = np.column_stack([np.interp(grid, t, seg[:, d]) for d in range(2)])
                    smooth = butterworth_zero_lag(uni, fs_hz, cutoff, order)
                    pos[s:e, k] = np.column_stack(
                        [np.interp(t, grid, smooth[:, d]) for d in range(2)]
                    )
                unfiltered[s:e, k] = False
    return pos, unfiltered, cutoff


def lowpass(
    ds: xr.Dataset, *, cutoff_hz: float | None = None, order: int = 2
) -> xr.Dataset:
    """Zero-lag Butterworth low-pass of every keypoint track, over unbroken stretches only.

    Each keypoint's x and y are filtered with :func:`butterworth_zero_lag` (``order``-th order
    forward and backward, i.e. a ``2*order``-th order zero-lag filter; Winter 2009) over every
    stretch of consecutive frames in which it is known. Stretches end at an unknown sample or at
    a time step longer than twice the median frame interval (missing frames); stretches with at
    most ``3*(order+1)`` samples (too short for filtfilt's edge padding) are left as they are.
    The sampling rate is taken from the median frame interval; a stretch with irregular frame
    times is filtered on a uniform grid and read back at its frame times.

    Parameters
    ----------
    ds : xarray.Dataset
        Pose dataset.
    cutoff_hz : float, optional
        -3 dB cut-off of the zero-lag filter. Default :func:`default_cutoff_hz` of the clip's
        frame rate: ``min(10 Hz, fps / 4)``.
    order : int
        Order of the single-pass Butterworth filter (2 gives the usual 4th-order zero-lag filter).

    Returns
    -------
    xarray.Dataset
        New dataset; confidences unchanged.

    Raises
    ------
    CleaningSettingsError
        If the cut-off does not lie below the clip's Nyquist frequency (after the two-pass
        correction) or ``order`` is not a small positive integer.
    """
    validate(ds)
    order = _check_order(order)
    pos, _, _ = _filter_positions(ds, cutoff_hz, order)
    return _new_dataset(ds, pos)


def _check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or not 1 <= order <= 8:
        raise CleaningSettingsError(f"order must be an integer from 1 to 8, got {order!r}; use 2")
    return int(order)


# --------------------------------------------------------------------------------------------
# 5. the whole chain
# --------------------------------------------------------------------------------------------

@dataclass
class CleaningReport:
    """What :func:`clean` changed.

    Attributes
    ----------
    n_frames : int
        Frames in the dataset.
    min_confidence, max_gap_ms, cutoff_hz : float
        Settings used (``cutoff_hz`` the one actually applied; NaN if nothing could be filtered).
    repair_swaps : bool
        Whether leg swaps were repaired.
    frames_masked : int
        Frames in which at least one keypoint was masked for low confidence.
    keypoints_masked : int
        (frame, keypoint) positions masked.
    keypoints_outside_picture : int
        Further (frame, keypoint) positions masked because they lay outside the picture
        (:func:`outside_picture`; not counting the frames of ``border_spans``).
    border_spans : list of dict
        ``{"start_frame", "end_frame" (inclusive)}`` of each run of frames masked whole because
        the runner was entering or leaving the picture (:func:`crossing_border_frames`).
    swap_frames : list of int
        ``frame`` coordinate (decoded frame index) of every frame whose leg labels were exchanged.
    swaps_repaired : int
        Number of swapped spans (runs of one swap kind) repaired.
    swap_spans : list of dict
        ``{"start_frame", "end_frame" (inclusive), "kind"}`` per span; kind is ``"whole_leg"``,
        ``"knee_down"`` or ``"hip"``.
    gaps_filled : int
        Runs of unknown positions (per keypoint) filled by interpolation.
    gap_frames_filled : int
        Frames in which at least one keypoint was filled.
    keypoints_filled : int
        (frame, keypoint) positions filled.
    frames_unfiltered : int
        Frames holding at least one known position left unfiltered (stretch too short).
    keypoints_unfiltered : int
        (frame, keypoint) known positions left unfiltered.
    """

    n_frames: int
    min_confidence: float
    max_gap_ms: float
    cutoff_hz: float
    repair_swaps: bool
    frames_masked: int = 0
    keypoints_masked: int = 0
    keypoints_outside_picture: int = 0
    border_spans: list[dict[str, int]] = field(default_factory=list)
    swap_frames: list[int] = field(default_factory=list)
    swaps_repaired: int = 0
    swap_spans: list[dict[str, Any]] = field(default_factory=list)
    gaps_filled: int = 0
    gap_frames_filled: int = 0
    keypoints_filled: int = 0
    frames_unfiltered: int = 0
    keypoints_unfiltered: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (NaN cut-off as None)."""
        d = asdict(self)
        if not np.isfinite(d["cutoff_hz"]):
            d["cutoff_hz"] = None
        return d


def clean(
    ds: xr.Dataset,
    *,
    min_confidence: float = 0.5,
    max_gap_ms: float = 100.0,
    cutoff_hz: float | None = None,
    repair_swaps: bool = True,
) -> tuple[xr.Dataset, CleaningReport]:
    """Clean a pose dataset: mask -> leg-swap repair -> gap filling -> low-pass (see module doc).

    Parameters
    ----------
    ds : xarray.Dataset
        Pose dataset (not modified).
    min_confidence : float
        Threshold of :func:`mask_low_confidence`.
    max_gap_ms : float
        Longest gap :func:`interpolate_gaps` fills.
    cutoff_hz : float, optional
        Cut-off of :func:`lowpass` (default ``min(10 Hz, fps / 4)``).
    repair_swaps : bool
        Whether to run :func:`repair_leg_swaps`.

    Returns
    -------
    ds : xarray.Dataset
        The cleaned dataset; ``attrs["cleaning"]`` holds the report as JSON.
    report : CleaningReport
        What was changed.
    """
    validate(ds)
    min_confidence = _check_number(
        "min_confidence", min_confidence, low=0.0, high=1.0, hint="use a value such as 0.5"
    )
    max_gap_ms = _check_number(
        "max_gap_ms", max_gap_ms, low=0.0, high=1e7, hint="use e.g. 100 (ms), or 0 to fill nothing"
    )
    n = ds.sizes["time"]
    frame = ds["frame"].values

    low = _low_confidence_mask(ds, min_confidence)
    out = mask_low_confidence(ds, min_confidence=min_confidence)
    outside = np.zeros(low.shape, dtype=bool)
    crossing = np.zeros(n, dtype=bool)
    if ds.attrs.get("frame", "pixel") == "pixel":
        out, outside, crossing = mask_outside_picture(out)
        outside &= ~low

    swap_frames: list[int] = []
    spans: list[dict[str, Any]] = []
    if repair_swaps:
        det = LegSwapDetector().detect(out)
        out = apply_leg_swaps(out, det.swapped_parts_)
        swap_frames = frame[det.swapped_].astype(int).tolist()
        spans = [
            {"start_frame": int(frame[s]), "end_frame": int(frame[e - 1]), "kind": SWAP_KINDS[k]}
            for s, e, k in det.spans_
        ]

    pos, filled, n_gaps = _fill_gaps(out, max_gap_ms / 1000.0)
    out = _new_dataset(out, pos)

    pos, unfiltered, cutoff = _filter_positions(out, cutoff_hz, 2)
    out = _new_dataset(out, pos)

    report = CleaningReport(
        n_frames=int(n),
        min_confidence=min_confidence,
        max_gap_ms=max_gap_ms,
        cutoff_hz=float(cutoff),
        repair_swaps=bool(repair_swaps),
        frames_masked=int(low.any(axis=1).sum()),
        keypoints_masked=int(low.sum()),
        keypoints_outside_picture=int((outside & ~crossing[:, None]).sum()),
        border_spans=[{"start_frame": int(frame[a]), "end_frame": int(frame[b - 1])}
                      for a, b in _true_runs(crossing)],
        swap_frames=swap_frames,
        swaps_repaired=len(spans),
        swap_spans=spans,
        gaps_filled=int(n_gaps),
        gap_frames_filled=int(filled.any(axis=1).sum()),
        keypoints_filled=int(filled.sum()),
        frames_unfiltered=int(unfiltered.any(axis=1).sum()),
        keypoints_unfiltered=int(unfiltered.sum()),
    )
    out.attrs["cleaning"] = json.dumps(report.to_dict())
    return out, report
