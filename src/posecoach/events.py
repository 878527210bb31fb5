"""Gait events: initial contact (IC) and toe-off (TO) of each foot.

The detector works on a body-frame pose dataset (:func:`posecoach.kinematics.to_body_frame`:
metres, x forward, y up from the ground line) and uses three independent cues per foot:

1. **Foot height above the ground line** (primary). A foot is in contact while its
   lowest point (heel or foot_index) is within a small tolerance of that foot's own
   contact level; IC is the downward crossing of the tolerance, TO the upward crossing
   of the *toe* (the last part to leave). Crossings are timed to a fraction of a frame
   by linear interpolation. Toe-off from the vertical toe trajectory follows Leitch et
   al. (2011, *J Appl Biomech* 27:258, treadmill running); contact from foot
   position/velocity thresholds follows the family of methods reviewed by Zeni et al.
   (2008, *Gait Posture* 27:710).
2. **Foot motion relative to the pelvis** (check). In stance the foot moves backwards
   relative to the pelvis at running speed, on a treadmill and overground alike;
   the heel's most forward position relative to the pelvis falls at IC (Zeni et al.
   2008, "coordinate" method). A candidate contact whose foot does not move back is
   rejected; the lag between IC and that extreme lowers the confidence.
3. **Peak knee extension** (check). Toe-off falls close to the knee's greatest
   extension in late stance (Fellin et al. 2010, *J Biomech* 43:2786); the lag lowers
   the confidence of TO.

No event is placed where the foot is unknown: masked (low-confidence or occluded)
samples next to a crossing mean no event there, so a far leg hidden behind a
treadmill console produces none, rather than invented ones.

Each foot's contact level is its own: in a side view the far foot stands higher in
the picture than the near foot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from posecoach.kinematics import SIDES

EVENT_COLUMNS = ["side", "kind", "frame", "time_s", "confidence"]


def _xy(body: xr.Dataset, name: str) -> np.ndarray:
    return body["position"].sel(keypoint=name).values


def _true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges [start, stop) where ``mask`` is True."""
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


@dataclass
class FootSignals:
    """Per-frame signals of one foot in the body frame (metres)."""

    heel_m: np.ndarray  # height of the heel above the ground line
    toe_m: np.ndarray  # height of foot_index
    heel_x_rel_m: np.ndarray  # heel position ahead of the mid-hip
    foot_x_rel_m: np.ndarray  # mean of heel, ankle and toe, ahead of the mid-hip
    confidence: np.ndarray  # mean keypoint confidence of heel, toe, ankle


def foot_signals(body: xr.Dataset, side: str) -> FootSignals:
    """Extract the signals :class:`GaitEventDetector` uses for one foot."""
    heel, toe, ankle = (_xy(body, f"{side}_{k}") for k in ("heel", "foot_index", "ankle"))
    lh, rh = _xy(body, "left_hip"), _xy(body, "right_hip")
    with np.errstate(invalid="ignore"):
        hip = np.where(np.isnan(lh), rh, np.where(np.isnan(rh), lh, 0.5 * (lh + rh)))
        foot_x = (heel[:, 0] + ankle[:, 0] + toe[:, 0]) / 3.0
    conf = body["confidence"].sel(keypoint=[f"{side}_heel", f"{side}_foot_index", f"{side}_ankle"])
    return FootSignals(
        heel_m=heel[:, 1],
        toe_m=toe[:, 1],
        heel_x_rel_m=heel[:, 0] - hip[:, 0],
        foot_x_rel_m=foot_x - hip[:, 0],
        confidence=np.nan_to_num(conf.values.mean(axis=1), nan=0.0),
    )


def contact_level(height_m: np.ndarray, stance_share: float = 0.15) -> tuple[float, float, float]:
    """A foot point's contact level, its swing height above it, and the noise in stance.

    The lowest ``stance_share`` of the samples are taken as stance: even a sprinting
    foot is on the ground for a fifth of its cycle, and every foot point (heel or toe)
    sits at its lowest then. Each point gets its own level, because keypoints (and
    motion-capture markers) sit at different heights above the sole.

    Returns
    -------
    level_m, swing_m, noise_m
    """
    h = height_m[np.isfinite(height_m)]
    if h.size < 8:
        return float("nan"), float("nan"), float("nan")
    finite = np.isfinite(height_m)
    cut = np.percentile(h, 100 * stance_share)
    low = finite & (np.nan_to_num(height_m, nan=np.inf) <= cut)
    stance = height_m[low]
    level = float(np.median(stance))
    # noise from sample-to-sample changes between consecutive stance samples: the point
    # is still on the ground there, so what changes is measurement noise (a robust
    # MAD estimate; the difference of two samples has sqrt(2) times their noise)
    pairs = low[1:] & low[:-1]
    d = np.diff(np.where(finite, height_m, 0.0))[pairs]
    noise = float(1.4826 * np.median(np.abs(d)) / np.sqrt(2)) if d.size >= 4 else float(
        1.4826 * np.median(np.abs(stance - level))
    )
    swing = float(np.percentile(h, 95) - level)
    return level, swing, noise


def hysteresis(h: np.ndarray, on: float, off: float) -> np.ndarray:
    """Contact mask: enters below ``on``, leaves above ``off`` (``off >= on``); NaN ends it."""
    out = np.zeros(h.shape, dtype=bool)
    state = False
    for i, v in enumerate(h):
        if not np.isfinite(v):
            state = False
        elif state:
            state = v <= off
        else:
            state = v <= on
        out[i] = state
    return out


def crossing_time(t: np.ndarray, h: np.ndarray, i0: int, i1: int, level: float) -> float:
    """Time at which ``h`` crosses ``level`` between samples ``i0`` and ``i1`` (linear)."""
    h0, h1 = h[i0], h[i1]
    if not (np.isfinite(h0) and np.isfinite(h1)) or h0 == h1:
        return float(t[i1])
    frac = float(np.clip((level - h0) / (h1 - h0), 0.0, 1.0))
    return float(t[i0] + frac * (t[i1] - t[i0]))


def touch_time(t: np.ndarray, h: np.ndarray, i0: int, i1: int) -> float:
    """Where the line through samples ``i0`` and ``i1`` reaches the contact level (0).

    The samples bracket the crossing of a small tolerance above the level; a
    threshold crossing alone would place touch-down early and lift-off late by the
    time the foot needs to cover the tolerance. Extrapolating the foot's last (or
    first) airborne motion to the level removes most of that bias; the result is
    kept inside the bracketing interval.
    """
    h0, h1 = h[i0], h[i1]
    if not (np.isfinite(h0) and np.isfinite(h1)) or h0 == h1:
        return float(t[i1])
    frac = float(np.clip(-h0 / (h1 - h0), 0.0, 1.0))
    return float(t[i0] + frac * (t[i1] - t[i0]))


def _frame_at_or_after(t: np.ndarray, frames: np.ndarray, time_s: float) -> int:
    i = int(np.searchsorted(t, time_s - 1e-9, side="left"))
    return int(frames[min(i, len(frames) - 1)])


class GaitEventDetector:
    """Detect initial contacts and toe-offs of both feet (see module docstring).

    Parameters
    ----------
    detect_fraction : float
        Contact is entered when the lowest foot point is within this fraction of the
        swing height above the contact level (hysteresis: left at twice that).
    timing_fraction : float
        Event times are the crossings of this (smaller) fraction of the swing height,
        so that they sit close to the true touch-down/lift-off.
    min_tolerance_m : float
        Lower bound of both tolerances (pose noise).
    min_contact_ms : float
        Shorter contacts are discarded as noise.
    min_confidence : float
        Mean heel/toe/ankle confidence below which a contact is discarded.
    """

    def __init__(
        self,
        *,
        detect_fraction: float = 0.15,
        timing_fraction: float = 0.03,
        min_tolerance_m: float = 0.004,
        min_contact_ms: float = 40.0,
        min_confidence: float = 0.3,
    ) -> None:
        self.detect_fraction = detect_fraction
        self.timing_fraction = timing_fraction
        self.min_tolerance_m = min_tolerance_m
        self.min_contact_ms = min_contact_ms
        self.min_confidence = min_confidence

    def detect(self, body: xr.Dataset, angles: xr.Dataset | None = None) -> GaitEventDetector:
        """Find the events.

        Parameters
        ----------
        body : xarray.Dataset
            Body-frame pose dataset (metres, x forward, y up from the ground).
        angles : xarray.Dataset, optional
            :func:`posecoach.kinematics.joint_angles` output, for the knee check.

        Returns
        -------
        self
            With ``events_`` (DataFrame: side, kind, frame, time_s, confidence, sorted by
            time), ``contacts_`` (one row per contact: side, ic/to times and frames,
            confidences, ``complete``) and ``warnings_``.
        """
        t = body["time"].values
        frames = body["frame"].values
        dt = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
        rows: list[dict] = []
        self.warnings_: list[str] = []
        self.levels_: dict[str, dict[str, float]] = {}
        for side in SIDES:
            sig = foot_signals(body, side)
            heel_level, heel_swing, heel_noise = contact_level(sig.heel_m)
            toe_level, toe_swing, toe_noise = contact_level(sig.toe_m)
            with np.errstate(invalid="ignore"):
                heel_rel, toe = sig.heel_m - heel_level, sig.toe_m - toe_level
                low = np.fmin(heel_rel, toe)
                low[np.isnan(heel_rel) | np.isnan(toe)] = np.nan
            swing = float(np.nanpercentile(low, 95)) if np.isfinite(low).any() else float("nan")
            noise = float(np.nanmax([heel_noise, toe_noise]))
            self.levels_[side] = {"heel_level_m": heel_level, "toe_level_m": toe_level,
                                  "swing_m": swing, "noise_m": noise}
            if not np.isfinite(swing) or swing < 3 * self.min_tolerance_m:
                self.warnings_.append(
                    f"{side} foot: too few clear samples, or it never leaves the ground; no events"
                )
                continue
            tol_detect = max(self.min_tolerance_m, 3 * noise, self.detect_fraction * swing)
            tol_time = max(self.min_tolerance_m, 3 * noise, self.timing_fraction * swing)
            tol_time = min(tol_time, tol_detect)
            mask = hysteresis(low, tol_detect, 2 * tol_detect)
            knee = angles["knee_flexion_deg"].sel(side=side).values if angles is not None else None
            for a, b in _true_runs(mask):
                level_tol = max(0.001, 2 * noise)
                rows.append(self._contact(side, a, b, t, frames, dt, low, toe, tol_time, sig, knee, level_tol))
        contacts = pd.DataFrame(rows)
        if not contacts.empty:
            contacts = contacts[contacts["keep"]].drop(columns="keep")
            contacts = contacts.sort_values("ic_time_s", na_position="first").reset_index(drop=True)
        self.contacts_ = contacts
        events = []
        for _, c in contacts.iterrows():
            if np.isfinite(c["ic_time_s"]):
                events.append({"side": c["side"], "kind": "initial_contact", "frame": int(c["ic_frame"]),
                               "time_s": c["ic_time_s"], "confidence": c["ic_confidence"]})
            if np.isfinite(c["to_time_s"]):
                events.append({"side": c["side"], "kind": "toe_off", "frame": int(c["to_frame"]),
                               "time_s": c["to_time_s"], "confidence": c["to_confidence"]})
        ev = pd.DataFrame(events, columns=EVENT_COLUMNS)
        self.events_ = ev.sort_values("time_s").reset_index(drop=True)
        return self

    def _contact(self, side, a, b, t, frames, dt, low, toe, tol_time, sig, knee, level_tol) -> dict:
        n = len(t)
        # IC: the downward crossing of the timing tolerance just before/at the run start
        ic_time = np.nan
        ic_known = a > 0 and np.isfinite(low[a - 1])
        if ic_known:
            i = a
            while i > 0 and np.isfinite(low[i - 1]) and low[i - 1] <= tol_time:
                i -= 1  # the foot was already within the timing tolerance
            j = i
            while j < b and low[j] > tol_time:
                j += 1  # ... or reaches it a little later
            j = min(j, b - 1)
            ic_time = touch_time(t, low, j - 1, j) if j > 0 and np.isfinite(low[j - 1]) else np.nan
            # the extrapolated touch-down may lie past the bracketing sample, but not past the
            # first sample that is already at the contact level
            m = j
            while m + 1 < b and low[m] > level_tol:
                m += 1
            if np.isfinite(ic_time) and j > 0 and np.isfinite(low[j - 1]) and low[j - 1] > low[j] > 0:
                slope = (low[j] - low[j - 1]) / (t[j] - t[j - 1])
                ic_time = min(t[j] - low[j] / slope, t[m])
            if not np.isfinite(ic_time):
                ic_known = False
        # TO: the toe's upward crossing after the run end
        to_time = np.nan
        to_known = b < n and np.isfinite(toe[b - 1]) and np.isfinite(low[b] if b < n else np.nan)
        if to_known:
            k = b - 1
            while k + 1 < n and np.isfinite(toe[k + 1]) and toe[k + 1] <= tol_time:
                k += 1
            while k > a and toe[k] > tol_time:
                k -= 1
            if k + 1 < n and np.isfinite(toe[k + 1]):
                to_time = touch_time(t, toe, k, k + 1)
                # lift-off may lie before the bracketing sample, not before the last sample
                # still at the contact level
                m = k
                while m > a and toe[m] > level_tol:
                    m -= 1
                if np.isfinite(toe[k]) and toe[k + 1] > toe[k] > 0:
                    slope = (toe[k + 1] - toe[k]) / (t[k + 1] - t[k])
                    to_time = max(t[k] - toe[k] / slope, t[m])
            else:
                to_known = False
        duration_ms = (to_time - ic_time) * 1000 if ic_known and to_known else (b - a) * dt * 1000
        conf = float(np.mean(sig.confidence[a:b])) if b > a else 0.0
        # the foot must move backwards relative to the pelvis while in contact
        x = sig.foot_x_rel_m[a:b]
        ok = np.isfinite(x)
        moves_back = ok.sum() < 2 or np.polyfit(t[a:b][ok], x[ok], 1)[0] < 0
        keep = bool(duration_ms >= self.min_contact_ms and conf >= self.min_confidence and moves_back)
        ic_conf = to_conf = conf
        if ic_known:
            # Zeni 2008 check: heel most forward relative to the pelvis near IC
            lo = max(0, a - int(round(0.15 / dt)))
            w = sig.heel_x_rel_m[lo : a + 1]
            if np.isfinite(w).any():
                lag_s = abs(t[lo + int(np.nanargmax(w))] - ic_time)
                ic_conf *= 1.0 / (1.0 + (lag_s / 0.05) ** 2)
        if to_known and knee is not None:
            # Fellin 2010 check: peak knee extension in late stance near TO
            mid = (a + b) // 2
            hi = min(n, b + int(round(0.05 / dt)) + 1)
            w = knee[mid:hi]
            if np.isfinite(w).any():
                lag_s = abs(t[mid + int(np.nanargmin(w))] - to_time)
                to_conf *= 1.0 / (1.0 + (lag_s / 0.05) ** 2)
        return {
            "side": side,
            "ic_time_s": ic_time if ic_known else np.nan,
            "to_time_s": to_time if to_known else np.nan,
            "ic_frame": _frame_at_or_after(t, frames, ic_time) if ic_known else -1,
            "to_frame": _frame_at_or_after(t, frames, to_time) if to_known else -1,
            "ic_confidence": round(float(ic_conf), 3),
            "to_confidence": round(float(to_conf), 3),
            "first_index": int(a),
            "last_index": int(b - 1),
            "complete": bool(ic_known and to_known),
            "keep": keep,
        }
