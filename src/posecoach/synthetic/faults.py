"""Typical 2-D pose-estimation faults, injected on purpose and recorded exactly.

:func:`add_faults` adds, in this order: Gaussian jitter, leg swaps, low-confidence
spans, dropped frames. All frame numbers in :class:`SyntheticFaults` are 0-based
positions along the dataset's ``time`` axis (equal to the ``frame`` coordinate of a
generated dataset); spans are half-open ``(start, stop)`` like :func:`range`.

Placement rules (so that each fault can be checked on its own): spans and dropped
frames never overlap each other and are separated by at least ``MARGIN_FRAMES``;
leg swaps additionally keep ``span_frames[1]`` frames away from each other and from
both ends of the clip (a swap touching the clip's edge could not be told from the
true labelling).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from posecoach.dataset import validate
from posecoach.synthetic.params import SyntheticParamsError

#: Keypoints exchanged by a leg swap (the whole leg chain of both sides).
LEG_PARTS: tuple[str, ...] = ("hip", "knee", "ankle", "heel", "foot_index")
#: Keypoint groups a low-confidence span may hit.
KEYPOINT_GROUPS: dict[str, tuple[str, ...]] = {
    "left_leg": tuple(f"left_{p}" for p in LEG_PARTS),
    "right_leg": tuple(f"right_{p}" for p in LEG_PARTS),
    "left_arm": tuple(
        f"left_{p}" for p in ("shoulder", "elbow", "wrist", "pinky", "index", "thumb")
    ),
    "right_arm": tuple(
        f"right_{p}" for p in ("shoulder", "elbow", "wrist", "pinky", "index", "thumb")
    ),
    "left_foot": ("left_ankle", "left_heel", "left_foot_index"),
    "right_foot": ("right_ankle", "right_heel", "right_foot_index"),
}
#: Confidence range given to keypoints inside a low-confidence span.
LOW_CONFIDENCE_RANGE: tuple[float, float] = (0.05, 0.3)
#: Frames kept free between any two faults.
MARGIN_FRAMES = 2
_ATTEMPTS = 2000


@dataclass
class SyntheticFaults:
    """What :func:`add_faults` did, exactly.

    Attributes
    ----------
    seed : int
    jitter_px : float
        Standard deviation of the Gaussian noise added to every finite coordinate.
    leg_swaps : list of (int, int)
        Half-open frame spans in which all left/right leg keypoints (hip, knee, ankle,
        heel, foot_index; position and confidence) were exchanged.
    low_confidence_spans : list of dict
        ``{"start": int, "stop": int, "group": str, "keypoints": [str, ...]}``: those
        keypoints got confidences drawn from ``LOW_CONFIDENCE_RANGE`` (positions kept).
    dropped_frames : list of int
        Frames whose positions and confidences were all set to NaN (time axis kept).
    """

    seed: int = 0
    jitter_px: float = 0.0
    leg_swaps: list[tuple[int, int]] = field(default_factory=list)
    low_confidence_spans: list[dict[str, Any]] = field(default_factory=list)
    dropped_frames: list[int] = field(default_factory=list)

    @property
    def swap_frames(self) -> list[int]:
        """Every frame inside a leg-swap span, ascending."""
        return sorted(i for a, b in self.leg_swaps for i in range(a, b))

    @property
    def low_confidence_frames(self) -> list[int]:
        """Every frame inside a low-confidence span, ascending."""
        return sorted(i for s in self.low_confidence_spans for i in range(s["start"], s["stop"]))

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON representation."""
        out = asdict(self)
        out["leg_swaps"] = [list(s) for s in self.leg_swaps]
        out["swap_frames"] = self.swap_frames
        return out


def _check_count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise SyntheticParamsError(f"{name}={value!r}: use a whole number >= 0")
    return int(value)


def _place_span(
    rng: np.random.Generator,
    busy: np.ndarray,
    length: int,
    *,
    gap: int,
    edge: int,
) -> tuple[int, int] | None:
    """Pick a free ``[start, start + length)`` with ``gap`` free frames around it."""
    n = busy.size
    lo, hi = edge, n - edge - length
    if hi < lo:
        return None
    for _ in range(_ATTEMPTS):
        start = int(rng.integers(lo, hi + 1))
        a, b = max(0, start - gap), min(n, start + length + gap)
        if not busy[a:b].any():
            return start, start + length
    return None


def add_faults(
    ds: xr.Dataset,
    *,
    jitter_px: float = 0.0,
    dropped_frames: int = 0,
    low_confidence_spans: int = 0,
    leg_swaps: int = 0,
    seed: int = 0,
    span_frames: tuple[int, int] = (3, 12),
) -> tuple[xr.Dataset, SyntheticFaults]:
    """Inject typical pose-estimation faults into a pose dataset (returns a new one).

    Parameters
    ----------
    ds : xarray.Dataset
        Pose dataset with the BlazePose leg keypoints (not modified).
    jitter_px : float
        Standard deviation of Gaussian noise added to every finite coordinate.
    dropped_frames : int
        Number of single frames turned into "nobody detected" (NaN position and
        confidence); the time axis is kept.
    low_confidence_spans : int
        Number of short spans in which one keypoint group (a leg, a foot or an arm)
        gets a confidence of 0.05-0.3.
    leg_swaps : int
        Number of spans in which ALL left_* and right_* leg keypoints (hip, knee,
        ankle, heel, foot_index) are exchanged - the common 2-D pose failure.
    seed : int
        Seed of the random placement and noise.
    span_frames : (int, int)
        Shortest and longest span (frames) of swaps and low-confidence spans.

    Returns
    -------
    ds_faulty : xarray.Dataset
    faults : SyntheticFaults
        Exactly what was done (see the module docstring for the placement rules).

    Raises
    ------
    SyntheticParamsError
        For negative counts, a bad span range, or more faults than the clip can hold.
    """
    validate(ds)
    if not (np.isfinite(jitter_px) and jitter_px >= 0):
        raise SyntheticParamsError(f"jitter_px={jitter_px!r}: use a number >= 0")
    n_drop = _check_count("dropped_frames", dropped_frames)
    n_low = _check_count("low_confidence_spans", low_confidence_spans)
    n_swap = _check_count("leg_swaps", leg_swaps)
    lo, hi = (int(v) for v in span_frames)
    if not 1 <= lo <= hi:
        raise SyntheticParamsError(
            f"span_frames={span_frames!r}: use (shortest, longest) with 1 <= shortest <= longest"
        )
    names = [str(k) for k in ds["keypoint"].values]
    missing = [f"{s}_{p}" for s in ("left", "right") for p in LEG_PARTS if f"{s}_{p}" not in names]
    if missing:
        raise SyntheticParamsError(
            f"the dataset lacks leg keypoints {missing}; add_faults needs BlazePose legs"
        )
    index = {k: i for i, k in enumerate(names)}
    rng = np.random.default_rng(seed)
    pos = ds["position"].values.astype(float, copy=True)
    conf = ds["confidence"].values.astype(float, copy=True)
    n = pos.shape[0]
    faults = SyntheticFaults(seed=int(seed), jitter_px=float(jitter_px))

    if jitter_px > 0:
        pos = pos + rng.normal(0.0, jitter_px, size=pos.shape)  # NaN stays NaN

    busy = np.zeros(n, dtype=bool)

    def too_many(kind: str) -> SyntheticParamsError:
        return SyntheticParamsError(
            f"cannot place {kind} in a clip of {n} frames (faults keep apart from each other); "
            "ask for fewer faults, shorter span_frames, or use a longer clip"
        )

    left = [index[f"left_{p}"] for p in LEG_PARTS]
    right = [index[f"right_{p}"] for p in LEG_PARTS]
    for _ in range(n_swap):
        span = _place_span(rng, busy, int(rng.integers(lo, hi + 1)), gap=hi, edge=hi)
        if span is None:
            raise too_many(f"{n_swap} leg swaps")
        a, b = span
        busy[a:b] = True
        pos[a:b, left + right] = pos[a:b, right + left]
        conf[a:b, left + right] = conf[a:b, right + left]
        faults.leg_swaps.append(span)

    groups = [g for g in KEYPOINT_GROUPS if all(k in index for k in KEYPOINT_GROUPS[g])]
    for _ in range(n_low):
        span = _place_span(rng, busy, int(rng.integers(lo, hi + 1)), gap=MARGIN_FRAMES, edge=0)
        if span is None:
            raise too_many(f"{n_low} low-confidence spans")
        a, b = span
        busy[a:b] = True
        group = groups[int(rng.integers(len(groups)))]
        cols = [index[k] for k in KEYPOINT_GROUPS[group]]
        conf[a:b, cols] = rng.uniform(*LOW_CONFIDENCE_RANGE, size=(b - a, len(cols)))
        faults.low_confidence_spans.append(
            {"start": a, "stop": b, "group": group, "keypoints": list(KEYPOINT_GROUPS[group])}
        )

    for _ in range(n_drop):
        span = _place_span(rng, busy, 1, gap=MARGIN_FRAMES, edge=0)
        if span is None:
            raise too_many(f"{n_drop} dropped frames")
        busy[span[0]] = True
        faults.dropped_frames.append(span[0])
    faults.dropped_frames.sort()
    faults.leg_swaps.sort()
    faults.low_confidence_spans.sort(key=lambda s: s["start"])
    pos[faults.dropped_frames] = np.nan
    conf[faults.dropped_frames] = np.nan

    out = ds.copy(deep=True)
    out["position"] = (ds["position"].dims, pos)
    out["confidence"] = (ds["confidence"].dims, conf)
    return validate(out), faults
