"""Gait events: initial contact (IC) and toe-off (TO) of each foot.

The detector works on a body-frame pose dataset (:func:`posecoach.kinematics.to_body_frame`:
metres, x forward, y up from the ground line). Per foot it runs four stages.

1. **Contact levels and noise.** Heel and toe (``foot_index``) each get their own contact
   level, because keypoints (and motion-capture sole points) sit at different heights above
   the sole, and the far foot of a side view stands higher in the picture than the near one.
   The level is tracked over time by a rolling low quantile (:func:`rolling_level`), which
   absorbs a ground line fitted slightly off. A first guess (the lowest samples,
   :func:`contact_level`) finds rough stances; the level is then corrected by a low quantile of the point's height over the first 60 % of those stances, where the
   foot lands or is flat (:func:`stance_level`), which keeps the push-off out (a rigid toe
   marker dips through the sole line while the foot rolls over the toes). Neither the
   rolling level nor the correction counts a foot standing still (:func:`standing_still`:
   a rest on a treadmill's side rails would outweigh a sprinter's short stances). The noise is the
   robust spread (MAD, Rousseeuw & Croux 1993) of the resting point's height within each
   stance (:func:`stance_noise`); it includes the slow wobble a low-pass filter leaves.
2. **Stance segmentation** (:func:`segment_contacts`). The foot is in contact while its lowest
   point (heel or toe, each relative to its own level) is low: it enters below ``on`` and
   leaves above ``off`` (hysteresis; both scale with the foot's swing height and are at
   least a few noise widths, so noise cannot split or invent a contact), the
   height-threshold family of kinematic event methods (Zeni et al. 2008; Fellin et al.
   2010). Spurious contacts are rejected: a lift shorter than ``min_swing_ms`` is noise and
   its two contacts are one; a contact shorter than ``min_contact_ms`` is a blip; and in a
   real contact the foot moves *backwards relative to the pelvis* at running speed, on a
   treadmill and overground alike (the basis of the Zeni et al. 2008 coordinate method), so
   a "contact" in which it does not is dropped.
3. **Sub-frame timing** (:func:`band_crossing`, :func:`fit_event_timing`). A threshold
   crossing alone places touch-down late and lift-off early by the time the foot needs to
   cover the threshold, and the cleaning stage's zero-lag low-pass filter rounds the corner
   where the foot meets the ground. Each event is therefore timed from the crossing of a
   small band above the contact height (at least three noise widths; about what the foot
   covers in ``target_ms``), and the time from that crossing to the event is computed by
   forward-modelling the measurement (:func:`kink_response`): a canonical touch-down (the
   foot arrives at a constant speed: a ramp that stops) or lift-off (the toe rolls off its
   tip and leaves with zero vertical speed, so its height grows with the square of the time:
   the toe's vertical position and acceleration profile is the best toe-off cue of Leitch
   et al. 2011) is sampled at the clip's frame rate, filtered with the same filter (its
   cut-off is read from ``attrs["cleaning"]``) and measured exactly like the data. The
   foot's approach speed (lift acceleration) comes from the median, over all its contacts,
   of the secant between the band and three (four) times the band, so one noisy step does
   not set it. What bias remains grows with the square of the band, so the events are timed
   from a band three times as high too and extrapolated to a band of zero (Richardson
   1911). Touch-down is measured from the contact's own resting height and lift-off from
   the toe's own late-stance height (:func:`local_level`), which differ from the clip's
   level when the stance foot's path is not level in the picture or a rigid toe marker
   dips in push-off. The time resolution thus improves with the frame rate instead of
   being one frame.
3b. **Velocity cues** (:func:`refine_initial_contact`, :func:`refine_toe_off`). The
   height-based times are then refined within 60 ms by the feet's velocities, which need no
   band above the ground (so noise does not delay them) and are not fooled by a sole that
   keeps compressing after contact: IC where the heel's forward speed over the ground falls
   to a fifth of the running speed (its velocity relative to the mid-hip reaches 80 % of the
   stance velocity; foot-velocity methods: Zeni et al. 2008, O'Connor et al. 2007), TO where
   the toe rises through 0.3 m/s (toe vertical motion: Leitch et al. 2011; a toe still below
   the stance threshold at the window's end, one that rose a little on push-off noise and
   stopped, is followed until it clears the ground). Both thresholds
   were measured against force plates (Fukuchi et al. 2017) and the synthetic runner
   (docs/accuracy.md); where a cue is not found the height-based time stays. A contact of
   only a few frames (a 30 fps sprint) whose height-based IC and TO nearly meet or cross
   takes its stance velocity from the fastest backward heel motion within the segmented
   contact and is searched from the segment's start (:func:`refine_initial_contact`); in
   real time, a heel that has already stopped when the IC window opens (its height-based IC
   more than 60 ms late) is looked for up to 60 ms before the window. In a
   slow-motion section (local time scale above ``TIME_SCALE_FACTOR``) the velocity is k
   times smaller in video time while the pose noise is not, so there the earlier of the
   height-based IC and the velocity cue is kept (:func:`combine_initial_contact`). In real
   time the IC is the mean of the two weighted by their inverse variance, predicted per
   contact from how fast each signal crosses its level (:func:`weighted_initial_contact`):
   a foot that slows before it lands leans on its height, a heel that stops abruptly on its
   velocity; the height-based time is first moved by the foot's median difference between
   the cues, so the velocity cue's calibration stays. Where the two cues of a contact differ
   far more than the foot's usual difference, one of them is far off (a heel bouncing back
   above the band), and the one closer to the middle of the neighbouring contacts is kept
   (:func:`resolve_disagreeing_cues`).
4. **Consistency of the two feet** (:func:`merge_duplicate_contacts`,
   :func:`merge_coincident_contacts`, :func:`drop_extra_contacts`, :func:`assign_sides`).
   In running the feet take turns at a steady rhythm; a 2-D pose model sometimes puts both
   legs' labels on one leg, so the same contact appears on both tracks at once (kept once)
   or one after the other (less than a third of a step apart: merged), a swinging foot's
   track touches the ground between two real contacts (dropped when it breaks the rhythm
   and does not move with the ground: a shortest path over the contacts), and whole
   contacts sit on the wrong track. The expected step at each contact is the median
   interval between the two tracks' contacts in real time times the contact's local time
   scale (:func:`local_steps`). Left and right then alternate, and the parity is what most
   tracks say (:func:`assign_sides`, Viterbi). All are counted in ``warnings_``.

Checks that set the confidence, never the time:

- IC: the heel's most forward position relative to the pelvis falls near IC (Zeni et al.
  2008, "coordinate" method); a large lag lowers the IC confidence.
- TO: the knee's greatest extension in late stance falls near TO (Fellin et al. 2010 found
  peak knee extension the best kinematic toe-off cue in treadmill and overground running);
  a large lag lowers the TO confidence.

No event is placed where the foot is not seen. A sample counts as seen when its heel, toe
and ankle are finite and at least ``min_confidence`` confident (the cleaning stage keeps the
model's confidences when it interpolates a gap, so a filled gap still counts as unseen). An
event needs seen samples on both sides of it no more than ``max_gap_frames`` frame intervals
apart; a contact whose start (or end) falls in a longer unseen stretch keeps its other
event but is not ``complete``.

References
----------
Zeni, J. A., Richards, J. G., & Higginson, J. S. (2008). Two simple methods for determining
gait events during treadmill and overground walking using kinematic data. Gait & Posture,
27(4), 710-714.

Fellin, R. E., Rose, W. C., Royer, T. D., & Davis, I. S. (2010). Comparison of methods for
kinematic identification of footstrike and toe-off during overground and treadmill running.
Journal of Science and Medicine in Sport, 13(6), 646-650.

Leitch, J., Stebbins, J., Paolini, G., & Zavatsky, A. B. (2011). Identifying gait events
without a force plate during running: a comparison of methods. Gait & Posture, 33(1),
130-132.

Handsaker, J. C., Forrester, S. E., Folland, J. P., Black, M. I., & Allen, S. J. (2016). A
kinematic algorithm to identify gait events during running at different speeds and with
different footstrike types. Journal of Biomechanics, 49(16), 4128-4133 (event cues as
changes of the foot's vertical motion at touch-down and toe-off).

O'Connor, C. M., Thorpe, S. K., O'Malley, M. J., & Vaughan, C. L. (2007). Automatic detection
of gait events using kinematic data. Gait & Posture, 25(3), 469-474 (foot velocity algorithm).

Fukuchi, R. K., Fukuchi, C. A., & Duarte, M. (2017). A public dataset of running biomechanics
and the effects of running speed on lower extremity kinematics and kinetics. PeerJ, 5, e3298.

Forney, G. D. (1973). The Viterbi algorithm. Proceedings of the IEEE, 61(3), 268-278
(the cheapest path through a sequence of states by dynamic programming).

Richardson, L. F. (1911). The approximate arithmetical solution by finite differences of
physical problems involving differential equations. Philosophical Transactions of the Royal
Society A, 210, 307-357 (extrapolation to a vanishing step).

Rousseeuw, P. J., & Croux, C. (1993). Alternatives to the median absolute deviation.
Journal of the American Statistical Association, 88(424), 1273-1283 (MAD x 1.4826 as a
robust standard deviation).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.signal import freqz

from posecoach._arrays import nanmid, true_runs
from posecoach._text import count
from posecoach.dataset import detected_frames
from posecoach.errors import PosecoachError, PoseDataError
from posecoach.filtering import lowpass_coefficients
from posecoach.kinematics import SIDES

EVENT_COLUMNS = ["side", "kind", "frame", "time_s", "confidence"]
CONTACT_COLUMNS = [
    "side", "track", "ic_time_s", "to_time_s", "ic_frame", "to_frame", "ic_confidence", "to_confidence",
    "first_index", "last_index", "complete",
]
#: Per-contact values the detector uses internally (not part of ``contacts_``): the local
#: time scale (:func:`local_time_scale`) and the stance speed relative to the pelvis (m/s).
_INTERNAL_COLUMNS = ("time_scale", "stance_speed_mps")
#: MAD -> standard deviation for Gaussian noise (Rousseeuw & Croux 1993).
MAD_TO_SD = 1.4826
#: Upper bound of the stance-entry threshold as a share of the swing height (the exit
#: threshold stays below twice that).
MAX_ON_FRACTION = 0.25
#: The timing band lies where the filtered motion keeps at least this share of its raw speed.
MIN_SLOPE_SHARE = 0.6
#: ... and where the crossing time varies by at most this share of a frame with the phase.
MAX_PHASE_SPREAD = 0.15
#: Second band (as a multiple of the timing band) for the extrapolation to a zero band.
RICHARDSON_RATIO = 3.0
#: The approach speed (lift acceleration) is measured between the crossings of the timing
#: band and this multiple of it: over a height several noise widths tall.
SECANT_BAND_RATIO = {"hinge": 3.0, "parabola": 4.0}
#: Initial contact: the heel's forward speed relative to the ground falls below this share of
#: the running speed (the foot stops on the ground; see :func:`refine_initial_contact`).
IC_GROUND_SPEED_SHARE = 0.2
#: Toe-off: the toe rises faster than this (m/s; see :func:`refine_toe_off`).
TO_LIFT_SPEED_MPS = 0.3
#: The velocity cues are searched this far (s) around the height-based event.
VELOCITY_CUE_WINDOW_S = 0.06
#: Events closer than this (s) to the first or last frame (with the runner in view) are not
#: reported: their timing needs the signals on both sides (the velocity cues' window; the
#: zero-lag filter's edge).
#: Measured on synthetic clips cut at every phase of the stride (30-120 fps): events within
#: 50 ms of an end came up to 5 frames off, events further in within a frame.
EDGE_GUARD_S = VELOCITY_CUE_WINDOW_S
#: A contact's local time scale (:func:`local_time_scale`) is the median over this many of
#: the foot's contacts around it ...
TIME_SCALE_CONTACTS = 3
#: ... and is used only where it differs from 1 by more than this factor (ordinary changes
#: of pace within a clip are absorbed by the medians over all contacts).
TIME_SCALE_FACTOR = 1.5
#: Dropping a contact that moves with the ground costs this much in
#: :func:`drop_extra_contacts` (an interval of ``r`` steps costs ``(r - 1)^2``) ...
EXTRA_DROP_COST = 0.6
#: ... and an interval of about two steps (one contact not seen) this much more than one step.
STEP_MISS_COST = 0.5
#: Two consecutive contacts on one side within a step cost this many disagreements with the
#: tracks in :func:`assign_sides`.
SIDE_BREAK_COST = 3.0


class EventSettingsError(PosecoachError):
    """A setting of the gait-event detector is out of range."""

    exit_code = 2


def _xy(body: xr.Dataset, name: str) -> np.ndarray:
    return body["position"].sel(keypoint=name).values


@dataclass
class FootSignals:
    """Per-frame signals of one foot in the body frame (metres).

    Heights and horizontal positions are linearly bridged over short unknown stretches
    (so that timing has samples to work with); ``seen`` says which samples were measured.
    """

    heel_m: np.ndarray  # height of the heel above the ground line
    toe_m: np.ndarray  # height of foot_index
    heel_x_rel_m: np.ndarray  # heel position ahead of the mid-hip
    foot_x_rel_m: np.ndarray  # mean of heel, ankle and toe, ahead of the mid-hip
    confidence: np.ndarray  # mean keypoint confidence of heel, toe, ankle (0 when unknown)
    seen: np.ndarray  # bool: heel, toe and ankle known and confident enough


def bridge_gaps(t: np.ndarray, y: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly interpolate interior NaN runs of at most ``max_gap`` samples."""
    out = np.array(y, dtype=float, copy=True)
    ok = np.isfinite(out)
    if ok.sum() < 2:
        return out
    for a, b in true_runs(~ok):
        if a == 0 or b == len(out) or b - a > max_gap:
            continue
        out[a:b] = np.interp(t[a:b], [t[a - 1], t[b]], [out[a - 1], out[b]])
    return out


def foot_signals(
    body: xr.Dataset, side: str, *, min_confidence: float = 0.5, max_gap_frames: int = 2
) -> FootSignals:
    """Extract the signals :class:`GaitEventDetector` uses for one foot."""
    t = body["time"].values
    heel, toe, ankle = (_xy(body, f"{side}_{k}") for k in ("heel", "foot_index", "ankle"))
    lh, rh = _xy(body, "left_hip"), _xy(body, "right_hip")
    hip = nanmid(lh, rh)
    foot_x = (heel[:, 0] + ankle[:, 0] + toe[:, 0]) / 3.0
    names = [f"{side}_heel", f"{side}_foot_index", f"{side}_ankle"]
    conf = body["confidence"].sel(keypoint=names).values
    known = np.isfinite(heel).all(axis=1) & np.isfinite(toe).all(axis=1) & np.isfinite(ankle).all(
        axis=1
    )
    with np.errstate(invalid="ignore"):
        seen = known & (np.nan_to_num(conf, nan=0.0) >= min_confidence).all(axis=1)
    gap = max(1, int(max_gap_frames) * 3)
    return FootSignals(
        heel_m=bridge_gaps(t, heel[:, 1], gap),
        toe_m=bridge_gaps(t, toe[:, 1], gap),
        heel_x_rel_m=bridge_gaps(t, heel[:, 0] - hip[:, 0], gap),
        foot_x_rel_m=bridge_gaps(t, foot_x - hip[:, 0], gap),
        confidence=np.nan_to_num(conf, nan=0.0).mean(axis=1),
        seen=seen,
    )


def contact_level(height_m: np.ndarray, stance_share: float = 0.15) -> tuple[float, float, float]:
    """First guess of a foot point's contact level, its swing height above it, and its noise.

    The lowest ``stance_share`` of the samples are taken as stance: even a sprinting foot is
    on the ground for a fifth of its cycle, and every foot point sits low then.

    Returns
    -------
    level_m, swing_m, noise_m
        Median of the lowest samples; 95th percentile above it; robust spread of the
        lowest samples (MAD x 1.4826).
    """
    h = height_m[np.isfinite(height_m)]
    if h.size < 8:
        return float("nan"), float("nan"), float("nan")
    stance = h[h <= np.percentile(h, 100 * stance_share)]
    level = float(np.median(stance))
    noise = float(MAD_TO_SD * np.median(np.abs(stance - level)))
    return level, float(np.percentile(h, 95) - level), noise


def rolling_level(
    t: np.ndarray, height_m: np.ndarray, *, window_s: float = 2.5, quantile: float = 0.05
) -> np.ndarray:
    """A foot point's contact level over time: a rolling low quantile of its height.

    Every foot is on the ground for a fifth to a half of each stride, and lowest then, so a
    low quantile over a window of a few strides follows the level of its stances. Tracking
    it over time (rather than one level for the clip) absorbs a ground line fitted a little
    off (a tilt error lifts the contacts on one side of the picture) and uneven ground.

    Parameters
    ----------
    t, height_m : ndarray
        Time (s) and height (m, NaN where unknown).
    window_s : float
        Length of the centred window.
    quantile : float
        The quantile (below the stance share of any running or walking gait).

    Returns
    -------
    ndarray
        The level at every sample (NaN only when the window holds no known sample).
    """
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    n = max(3, int(round(window_s / dt)) | 1)
    h = np.asarray(height_m, dtype=float)
    if n >= len(h):  # a short clip: one level
        known = h[np.isfinite(h)]
        return np.full(len(h), np.quantile(known, quantile) if known.size else np.nan)
    # full windows only (a window cut by the clip's edge holds fewer stances); the edges
    # continue the trend of the nearest full windows
    lev = pd.Series(h).rolling(n, center=True, min_periods=max(3, n // 3)).quantile(quantile)
    lev = lev.to_numpy().copy()
    lev[: n // 2] = np.nan
    lev[len(h) - n // 2 :] = np.nan
    ok = np.flatnonzero(np.isfinite(lev))
    if ok.size == 0:
        return lev
    idx = np.arange(len(lev))
    inner = np.interp(idx, ok, lev[ok])
    # the edges continue the trend of the nearest half window of full windows
    m = max(2, n // 2)
    for edge, sl in ((idx < ok[0], ok[:m]), (idx > ok[-1], ok[-m:])):
        if edge.any() and sl.size >= 2 and np.ptp(t[sl]) > 0:
            slope = np.polyfit(t[sl], lev[sl], 1)[0]
            end = sl[0] if sl is ok[:m] else sl[-1]
            inner[edge] = lev[end] + slope * (t[edge] - t[end])
    return inner


def standing_still(
    t: np.ndarray, foot_x_rel_m: np.ndarray, *, share: float = 0.3, min_duration_s: float = 0.25
) -> np.ndarray:
    """Stretches where the foot rests still relative to the pelvis: the runner is not running.

    A running (or walking) foot moves relative to the pelvis all the time: backwards at the
    running speed in stance (on a treadmill and overground alike; the basis of the Zeni et
    al. 2008 coordinate method) and forwards in swing; it is still only briefly where it
    turns. A runner standing on a treadmill's side rails before or after the run, or
    waiting, keeps the foot still for longer. Such stretches are found so that the foot's
    contact level (:func:`rolling_level`, :func:`stance_level`) is not taken from them (the
    side rails lie nearer the camera, lower in the picture than the belt).

    Parameters
    ----------
    t, foot_x_rel_m : ndarray
        Time (s) and the foot's position ahead of the pelvis (m, NaN where unknown).
    share : float
        The foot counts as still while its horizontal speed relative to the pelvis is below
        this share of its 75th percentile (the speed scale of its running motion; a share
        keeps the test free of the scale and of the playback speed).
    min_duration_s : float
        Only still stretches at least this long count (a foot turning round at the front
        or back of its path is still for well under a tenth of a second, about four frames
        in 4x slow motion).

    Returns
    -------
    ndarray of bool
        True in the still stretches.
    """
    x = np.asarray(foot_x_rel_m, dtype=float)
    out = np.zeros(x.shape, dtype=bool)
    if x.size < 3 or np.isfinite(x).sum() < 3:
        return out
    v = np.abs(np.gradient(x, t))
    scale = float(np.nanpercentile(v, 75))
    with np.errstate(invalid="ignore"):
        still = np.isfinite(v) & (v < share * scale)
    for a, b in true_runs(still):
        if t[b - 1] - t[a] >= min_duration_s:
            out[a:b] = True
    return out


def stance_level(
    height_m: np.ndarray, runs: list[tuple[int, int]], *, early_share: float = 0.6, quantile: float = 0.25
) -> float:
    """A foot point's contact level from rough stances.

    Parameters
    ----------
    height_m : ndarray
        Height of the point (m).
    runs : list of (start, stop)
        Rough stance index ranges.
    early_share : float
        Share of each stance used: from its start, while the foot lands or is flat (the
        push-off, where a rigid toe point dips below the sole line, is left out).
    quantile : float
        Low quantile of those heights taken as the level (the point rests at its lowest
        then; a low quantile rather than the minimum is robust to noise).

    Returns
    -------
    float
        The level (m), NaN when there are too few samples.
    """
    early = [height_m[a : a + max(1, int(round(early_share * (b - a))))] for a, b in runs]
    e = np.concatenate(early) if early else np.array([])
    e = e[np.isfinite(e)]
    return float(np.quantile(e, quantile)) if e.size >= 3 else float("nan")


def stance_noise(low_m: np.ndarray, runs: list[tuple[int, int]]) -> float:
    """Measurement noise of the resting foot, from its lowest point in stance.

    In stance the foot's lowest point (heel or toe, each relative to its own level) rests
    on the ground whichever part carries the weight, so what moves it from 10 to 60 % of
    each contact is noise. Its deviations from each contact's own median are pooled over
    all contacts (so a level that differs between contacts, e.g. near and far foot mixed up
    by the pose model, does not count) and their MAD x 1.4826 (Rousseeuw & Croux 1993) is
    taken, times 1.21 because the lower of two equally noisy points spreads less than either
    (standard deviation of the minimum of two Gaussians: ``sqrt(1 - 1/pi) = 0.826``).
    """
    dev = []
    for a, b in runs:
        w = low_m[a + int(0.1 * (b - a)) : a + max(int(0.1 * (b - a)) + 2, int(round(0.6 * (b - a))))]
        w = w[np.isfinite(w)]
        if w.size >= 2:
            dev.append(w - np.median(w))
    d = np.concatenate(dev) if dev else np.array([])
    if d.size < 6:
        return float("nan")
    return float(MAD_TO_SD * np.median(np.abs(d)) / np.sqrt(1.0 - 1.0 / np.pi))


def hysteresis(h: np.ndarray, on: float, off: float) -> np.ndarray:
    """Contact mask: enters at or below ``on``, leaves above ``off`` (``off >= on``); NaN ends it."""
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


def segment_contacts(
    t: np.ndarray,
    low_m: np.ndarray,
    on_m: float,
    off_m: float,
    *,
    min_swing_s: float,
) -> list[tuple[int, int]]:
    """Stance index ranges [start, stop) of one foot from its lowest-point height.

    Hysteresis on ``low_m`` (enter at ``on_m``, leave above ``off_m``); two stances separated
    by a lift shorter than ``min_swing_s`` with the foot known all along are one stance.
    """
    runs = true_runs(hysteresis(low_m, on_m, off_m))
    merged: list[tuple[int, int]] = []
    for a, b in runs:
        if merged:
            pa, pb = merged[-1]
            if t[a] - t[pb - 1] < min_swing_s and np.isfinite(low_m[pb:a]).all():
                merged[-1] = (pa, b)
                continue
        merged.append((a, b))
    return merged


def _crossing(t: np.ndarray, h: np.ndarray, i0: int, i1: int, level: float) -> float:
    """Time where ``h`` crosses ``level`` between samples ``i0`` and ``i1`` (linear)."""
    h0, h1 = h[i0], h[i1]
    if h0 == h1:
        return float(t[i1])
    frac = float(np.clip((level - h0) / (h1 - h0), 0.0, 1.0))
    return float(t[i0] + frac * (t[i1] - t[i0]))


@dataclass
class BandCrossing:
    """Where a foot point crosses a band above its level."""

    time_s: float
    index_before: int  # the samples that bracket the crossing
    index_after: int


def band_crossing(
    t: np.ndarray,
    h: np.ndarray,
    anchor: int,
    band_m: float,
    *,
    downward: bool,
    lo: int,
    hi: int,
) -> BandCrossing | None:
    """The crossing of ``band_m`` next to a stance boundary.

    Parameters
    ----------
    t, h : ndarray
        Time (s) and height of the point above its level or pivot (m).
    anchor : int
        Downward: the stance's first index; upward: one past its last index.
    band_m : float
        Height of the band.
    downward : bool
        True for touch-down (the point comes down through the band), False for lift-off.
    lo, hi : int
        The crossing must lie in samples ``lo .. hi - 1``.

    Returns
    -------
    BandCrossing or None
        None when the point is not seen crossing there.
    """
    n = len(h)
    if downward:
        j = anchor
        while j > lo + 1 and np.isfinite(h[j - 1]) and h[j] <= band_m and h[j - 1] <= band_m:
            j -= 1
        while j < hi - 1 and (not np.isfinite(h[j]) or h[j] > band_m):
            j += 1
        i0, i1 = j - 1, j
    else:
        k = anchor - 1
        while k > lo and (not np.isfinite(h[k]) or h[k] > band_m):
            k -= 1
        while k + 1 < min(hi, n) and np.isfinite(h[k + 1]) and h[k + 1] <= band_m:
            k += 1
        i0, i1 = k, k + 1
    if i0 < max(lo, 0) or i1 >= min(hi, n) or not (np.isfinite(h[i0]) and np.isfinite(h[i1])):
        return None
    above, below = (i0, i1) if downward else (i1, i0)
    if not (h[above] > band_m >= h[below]):
        return None
    return BandCrossing(_crossing(t, h, i0, i1, band_m), i0, i1)


def lowpass_record(attrs: dict) -> tuple[float, int]:
    """Cut-off (Hz) and order of the zero-lag low-pass the cleaning stage applied.

    Read from ``attrs["cleaning"]`` (:class:`posecoach.filtering.CleaningReport` as JSON);
    ``(nan, 2)`` when the data were not low-pass filtered or it is not recorded.
    """
    raw = attrs.get("cleaning")
    try:
        rec = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        cutoff = float(rec.get("cutoff_hz", float("nan")))
        order = int(rec.get("order", 2))
    except (TypeError, ValueError):
        return float("nan"), 2
    if not np.isfinite(cutoff) or cutoff <= 0:
        return float("nan"), 2
    return cutoff, order


@functools.lru_cache(maxsize=64)
def kink_response(
    shape: str, fps: float, cutoff_hz: float, order: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How the band-crossing measurement sees a unit touch-down or lift-off.

    A unit event is sampled at ``fps`` at 16 phases between frames, low-passed like the
    data (zero-lag Butterworth, ``cutoff_hz``, ``order``; none when ``cutoff_hz`` is NaN),
    and its band crossings found exactly as in the data (:func:`band_crossing`, for all
    bands at once: :func:`_band_crossing_times`). Because the filter is
    linear, a real event of any speed maps onto the unit one by scaling. This removes the
    bias of sampling and of the filter's rounded corner for the canonical shapes
    (forward modelling of a known linear filter).

    Parameters
    ----------
    shape : {"hinge", "parabola"}
        ``"hinge"``: touch-down at 1 m/s, ``h = max(0, t0 - t)``; ``"parabola"``: lift-off
        with 1 m/s^2, ``h = max(0, t - t0)^2``.
    fps, cutoff_hz, order
        Sampling and filter of the data.

    Returns
    -------
    key_s : ndarray
        Grid of the event's raw time to the band: band = key for the hinge (m at 1 m/s),
        band = key^2 for the parabola.
    offset_s : ndarray
        Mean measured crossing time minus the true event time at each key.
    slope : ndarray
        Median (over the phases, as the data's rate is a median over contacts) measured secant
        slope between the band and ``SECANT_BAND_RATIO`` times the band (m/s per unit speed
        or per unit acceleration).
    spread_s : ndarray
        Standard deviation of the crossing time over the phases: how much the timing of one
        event depends on where it falls between two frames.
    """
    from posecoach.filtering import butterworth_zero_lag

    dt = 1.0 / fps
    keys = np.geomspace(0.1 * dt, max(0.2, 8 * dt), 60)
    k = np.arange(-int(round(1.5 / dt)), int(round(1.5 / dt)) + 1)
    phases = 16
    offsets = np.zeros((keys.size, phases))
    slopes = np.zeros((keys.size, phases))
    down = shape == "hinge"
    bands = keys if down else keys * keys
    ratio = SECANT_BAND_RATIO[shape]
    for p in range(phases):
        t = (k + p / phases) * dt
        raw = np.clip(-t, 0, None) if shape == "hinge" else np.clip(t, 0, None) ** 2
        y = raw if not np.isfinite(cutoff_hz) else butterworth_zero_lag(raw, fps, cutoff_hz, order)
        mid = int(np.searchsorted(t, 0.0))
        anchor = mid + 1 if down else mid
        t1 = _band_crossing_times(t, y, anchor, bands, downward=down)
        t2 = _band_crossing_times(t, y, anchor, bands * ratio, downward=down)
        offsets[:, p] = t1
        with np.errstate(invalid="ignore", divide="ignore"):  # _secant for all bands at once
            slopes[:, p] = np.where(t1 != t2, (bands - ratio * bands) / (t1 - t2), np.nan)
    return keys, np.nanmean(offsets, axis=1), np.nanmedian(slopes, axis=1), np.nanstd(offsets, axis=1)


def _band_crossing_times(
    t: np.ndarray, h: np.ndarray, anchor: int, bands: np.ndarray, *, downward: bool
) -> np.ndarray:
    """:func:`band_crossing`'s time for many bands at once (NaN where it finds none).

    For a finite trace searched over all its samples (``lo = 0``, ``hi = len(h)``), as
    :func:`kink_response` measures its unit events: the same walk from ``anchor`` (to the
    sample after the last one above the band before it, then on past samples above the band
    for a touch-down; to the last sample at or below the band before it, then on while the
    next one stays at or below it for a lift-off) and the same linear crossing, done on a
    (band x sample) table instead of one Python loop per band (tested against
    :func:`band_crossing`: identical times).
    """
    n = len(h)
    bands = np.asarray(bands, dtype=float)
    above = h[None, :] > bands[:, None]
    idx = np.arange(n)[None, :]
    if downward:
        j = np.maximum(_last_true(above[:, :anchor], -1) + 1, 1)
        j = np.where(above[:, anchor], anchor, j)
        j = _first_true(~above & (idx >= j[:, None]), n - 1)
        i0, i1 = j - 1, j
    else:
        k = _last_true(~above[:, :anchor], 0)
        k = _first_true(above & (idx > k[:, None]), n) - 1
        i0, i1 = k, k + 1
    ok = (i0 >= 0) & (i1 < n)
    i0, i1 = np.clip(i0, 0, n - 1), np.clip(i1, 0, n - 1)
    h0, h1 = h[i0], h[i1]
    up, low = (h0, h1) if downward else (h1, h0)
    ok &= (up > bands) & (bands >= low)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip((bands - h0) / (h1 - h0), 0.0, 1.0)
    tc = np.where(h0 == h1, t[i1], t[i0] + frac * (t[i1] - t[i0]))
    return np.where(ok, tc, np.nan)


def _first_true(mask: np.ndarray, default: int) -> np.ndarray:
    """Per row, the index of the first True (``default`` where there is none)."""
    if mask.shape[1] == 0:
        return np.full(mask.shape[0], default)
    return np.where(mask.any(axis=1), np.argmax(mask, axis=1), default)


def _last_true(mask: np.ndarray, default: int) -> np.ndarray:
    """Per row, the index of the last True (``default`` where there is none)."""
    if mask.shape[1] == 0:
        return np.full(mask.shape[0], default)
    return np.where(mask.any(axis=1), mask.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1),
                    default)


def _secant(c1: BandCrossing | None, c2: BandCrossing | None, band: float, ratio: float) -> float:
    """Mean speed between the crossings of ``band`` and ``ratio * band`` (NaN if unknown)."""
    if c1 is None or c2 is None or c1.time_s == c2.time_s:
        return float("nan")
    return float((band - ratio * band) / (c1.time_s - c2.time_s))


@dataclass
class EventTiming:
    """Per-foot timing model of one event kind, fitted to all its contacts."""

    band_m: float  # the band whose crossing is timed
    offset_s: float  # crossing time minus event time (negative: crossing before the event)
    rate: float  # raw approach speed (m/s, touch-down) or lift acceleration (m/s^2, lift-off)


def fit_event_timing(
    measure,
    *,
    shape: str,
    noise_m: float,
    fps: float,
    cutoff_hz: float,
    order: int,
    target_s: float,
    min_band_m: float = 0.001,
    max_band_m: float = 0.06,
    band_m: float | None = None,
) -> EventTiming | None:
    """Choose the band and convert band crossings into event times for one foot.

    ``measure(band_m)`` returns the robust (median) secant slope of the foot point between
    its crossings of ``band_m`` and ``SECANT_BAND_RATIO`` times ``band_m``, over all
    contacts. The raw approach speed (touch-down) or lift
    acceleration (lift-off) follows from it through :func:`kink_response`, the band is set
    to what the point covers in ``target_s`` before touch-down or after lift-off, but at
    least three noise widths, and the loop repeats until the band settles. A given
    ``band_m`` is used as it is.
    """
    keys, offsets, slopes, spread = kink_response(shape, round(fps, 6), cutoff_hz, order)
    ok = np.isfinite(offsets) & np.isfinite(slopes) & (slopes > 0 if shape == "parabola" else slopes < 0)
    keys, offsets, slopes, spread = keys[ok], offsets[ok], slopes[ok], spread[ok]
    if keys.size < 2:
        return None
    # the band must lie where the filter has not flattened the motion much (the measured
    # secant at least MIN_SLOPE_SHARE of the raw one) and where the timing hardly depends on
    # where the event falls between two frames, else the inversion is ill-posed
    raw = np.ones_like(keys) if shape == "hinge" else (SECANT_BAND_RATIO[shape] ** 0.5 + 1) * keys
    good = (np.abs(slopes) >= MIN_SLOPE_SHARE * raw) & (spread <= MAX_PHASE_SPREAD / fps)
    bad = np.flatnonzero(~good)
    min_key = float(keys[bad[-1] + 1]) if bad.size and bad[-1] + 1 < keys.size else (
        float(keys[0]) if not bad.size else float(keys[-1]))
    # a lift-off is only timed once the toe has been in the air for a frame: before that
    # its crossing falls between the same two samples whatever the lift's shape
    target_s = max(target_s, min_key, 1.0 / fps if shape == "parabola" else 0.0)
    band = float(np.clip(3.0 * noise_m, min_band_m, max_band_m)) if band_m is None else band_m
    rate = float("nan")
    key = float("nan")
    for _ in range(4 if band_m is None else 1):
        m = measure(band)
        if not np.isfinite(m) or m == 0:
            return None
        if not np.isfinite(rate):  # first guess: unfiltered shape
            rate = abs(m) if shape == "hinge" else m * m / (4.0 * band)
        for _ in range(3):  # the slope at the band fixes the rate, the rate the key
            key = band / rate if shape == "hinge" else float(np.sqrt(band / rate))
            unit = float(np.interp(np.log(key), np.log(keys), slopes))
            rate = abs(m / unit)
        lo = max(3.0 * noise_m, min_band_m)
        want = rate * target_s if shape == "hinge" else rate * target_s * target_s
        new = float(np.clip(max(lo, want), min_band_m, max_band_m))
        if band_m is not None or abs(new - band) <= 0.05 * band:
            break
        band = new
    key = band / rate if shape == "hinge" else float(np.sqrt(band / rate))
    if key < keys[0] or key > keys[-1]:
        return None
    offset = float(np.interp(np.log(key), np.log(keys), offsets))
    return EventTiming(band_m=band, offset_s=offset, rate=rate)


def local_level(h_rel_m: np.ndarray, a: int, b: int, noise_m: float, *, late: bool) -> float:
    """A foot point's resting height at the start (or end) of one contact, relative to its level.

    The robust low (median of the lowest quarter) of the point's heights over the first half
    (``late``: the last 40 %) of the contact; 0 unless it differs from the level by more
    than three noise widths. It differs when the foot's path in stance is not level in the
    picture (a camera turned a little towards the belt's end shows the stance foot sinking
    as it moves back) or when a rigid toe marker dips through the sole line in push-off
    while the real toes stay flat: the foot then touches down (lifts off) at its own local
    height, not at the level of the whole clip.
    """
    n = b - a
    w = h_rel_m[max(a, b - max(2, int(round(0.4 * n)))) : b] if late else h_rel_m[a : a + max(2, int(round(0.5 * n)))]
    w = w[np.isfinite(w)]
    if not w.size:
        return 0.0
    low = float(np.median(np.sort(w)[: max(1, w.size // 4)]))
    return low if abs(low) > 3.0 * noise_m else 0.0


def merge_duplicate_contacts(contacts: pd.DataFrame, *, overlap: float = 0.5) -> tuple[pd.DataFrame, int]:
    """Keep one of a left and a right contact that are the same contact seen twice.

    In running the feet take turns: one is in the air while the other is on the ground
    (walking overlaps them only in a short double support). A left and a right contact
    sharing more than ``overlap`` of the longer one are therefore one foot seen on both
    tracks, which a 2-D pose model does when it puts both legs' labels on one leg; the
    one with the higher confidence is kept.

    Parameters
    ----------
    contacts : pandas.DataFrame
        ``contacts_`` rows (needs side, first_index, last_index and the confidences).

    Returns
    -------
    contacts, n_merged
    """
    if contacts.empty:
        return contacts, 0
    drop: set[int] = set()
    rows = list(contacts.itertuples())
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if b.first_index > a.last_index:
                break
            if a.side == b.side or a.Index in drop or b.Index in drop:
                continue
            shared = min(a.last_index, b.last_index) - max(a.first_index, b.first_index) + 1
            longer = max(a.last_index - a.first_index, b.last_index - b.first_index) + 1
            if shared > overlap * longer:
                conf_a = np.nanmean([a.ic_confidence, a.to_confidence])
                conf_b = np.nanmean([b.ic_confidence, b.to_confidence])
                drop.add(b.Index if conf_a >= conf_b else a.Index)
    return contacts.drop(index=sorted(drop)).reset_index(drop=True), len(drop)


def alternate_sides(contacts: pd.DataFrame, t: np.ndarray, *, factor: float = 1.5) -> tuple[pd.DataFrame, int]:
    """Give a contact to the other foot when its own foot landed less than a stride before.

    The feet alternate: between two contacts of one foot lies a whole stride, two steps.
    When two consecutive contacts carry the same side but start less than ``factor`` times
    the typical step (the median start-to-start interval) apart, the later one belongs to
    the other foot, unless the contact after it is that other foot's (then the sequence
    would not alternate either way and nothing is changed). A missing contact (a stride
    apart) is left alone.

    Returns
    -------
    contacts, n_changed
    """
    if len(contacts) < 3:
        return contacts, 0
    out = contacts.copy()
    start = t[out["first_index"].to_numpy()]
    gaps = np.diff(start)
    gaps = gaps[gaps > 0]
    if gaps.size < 2:
        return out, 0
    step = float(np.median(gaps))
    sides = out["side"].to_numpy().copy()
    changed = 0
    n = len(out)
    for i in range(1, n):
        other = "right" if sides[i] == "left" else "left"
        # flip only when that makes the sequence alternate on both sides of it
        next_ok = i + 1 == n or sides[i + 1] != other or start[i + 1] - start[i] >= factor * step
        if sides[i] == sides[i - 1] and start[i] - start[i - 1] < factor * step and next_ok:
            sides[i] = other
            changed += 1
    out["side"] = sides
    return out, changed


def _contact_times(contacts: pd.DataFrame, t: np.ndarray) -> np.ndarray:
    """Each contact's initial contact (s), for the rhythm of the steps.

    Where the IC is not known (the foot was not seen landing) it is the toe-off minus the
    median contact time of the complete contacts, else the start of the stance.
    """
    start = t[contacts["first_index"].to_numpy(dtype=int)]
    ic = contacts["ic_time_s"].to_numpy(dtype=float)
    to = contacts["to_time_s"].to_numpy(dtype=float)
    both = np.isfinite(ic) & np.isfinite(to)
    if both.any():
        start = np.where(np.isfinite(to), to - float(np.median(to[both] - ic[both])), start)
    return np.where(np.isfinite(ic), ic, start)


def local_steps(contacts: pd.DataFrame, t: np.ndarray, *, min_pairs: int = 3) -> np.ndarray:
    """The step (IC to the other foot's IC, s in video time) expected at each contact.

    Running has a steady rhythm: consecutive contacts (of alternate feet) lie one step
    apart, and left-right asymmetry of the step is a few per cent in healthy runners. The
    real-time step is the median interval between consecutive contacts of *different*
    tracks, each divided by the two contacts' local time scale (:func:`local_time_scale`:
    the column ``time_scale``, 1 when absent), so slow-motion sections of a clip count in
    their own time; a contact's expected step is that times its own scale. Intervals between
    contacts of one track are left out: a foot never seen (only one track with contacts)
    would show the stride, twice the step.

    Returns
    -------
    ndarray
        One step per contact (s); all NaN when fewer than ``min_pairs`` such intervals exist.
    """
    n = len(contacts)
    out = np.full(n, np.nan)
    if n < 2:
        return out
    tc = _contact_times(contacts, t)
    order = np.argsort(tc, kind="stable")
    scale = (contacts["time_scale"].to_numpy(dtype=float) if "time_scale" in contacts
             else np.ones(n))
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    side = contacts["side"].to_numpy()
    i, j = order[:-1], order[1:]
    gaps = (tc[j] - tc[i]) / (0.5 * (scale[i] + scale[j]))
    gaps = gaps[(side[i] != side[j]) & (gaps > 0)]
    if gaps.size < min_pairs:
        return out
    return float(np.median(gaps)) * scale


def merge_coincident_contacts(
    contacts: pd.DataFrame, t: np.ndarray, step_s: np.ndarray, *, share: float = 0.3
) -> tuple[pd.DataFrame, int]:
    """Make one contact of consecutive contacts whose ICs lie less than ``share`` of a step apart.

    Two landings (of either foot) cannot follow each other within a third of a step: the
    step varies by a few per cent from left to right, and timing errors at 30 fps are a
    frame, about 15 % of a sprinter's step. Such a pair is one landing that the pose model
    showed on one leg's track and, after it put both legs' labels on one leg, on the other
    (the same failure as :func:`merge_duplicate_contacts`, but with the two copies following
    each other instead of overlapping).
    The merged contact takes the IC and the track (side) of the copy whose foot moves faster
    backwards relative to the pelvis (stance speed times local time scale, columns
    ``stance_speed_mps`` and ``time_scale``; the earlier copy when they are absent): in
    stance the foot moves with the ground (Zeni et al. 2008), so that copy shows the foot
    that landed; it ends at the later end. A whole copy (with both IC and TO) goes before a
    fragment (a stance too short to time its toe-off, or cut by the data): a fragment's
    speed is a slope over a few frames of a contact the pose model showed only in part. The
    sides are settled by :func:`assign_sides`.

    Returns
    -------
    contacts, n_merged
    """
    if len(contacts) < 2 or not np.isfinite(step_s).any():
        return contacts, 0
    c = contacts.copy()
    c["_t"] = _contact_times(c, t)
    c["_step"] = step_s
    if "stance_speed_mps" in c:
        scale = c["time_scale"].to_numpy(dtype=float) if "time_scale" in c else 1.0
        c["_v"] = np.nan_to_num(c["stance_speed_mps"].to_numpy(dtype=float) * scale, nan=-np.inf)
    else:
        c["_v"] = 0.0
    c = c.sort_values("_t", kind="stable").reset_index(drop=True)
    keep: list[dict] = []
    merged = 0
    for row in c.to_dict("records"):
        if keep:
            prev = keep[-1]
            step = np.nanmean([prev["_step"], row["_step"]])
            if np.isfinite(step) and row["_t"] - prev["_t"] < share * step:
                late = row if row["last_index"] >= prev["last_index"] else prev
                main, other = ((row, prev) if (row["complete"], row["_v"]) > (prev["complete"], prev["_v"])
                               else (prev, row))
                new = dict(main)
                if not np.isfinite(new["ic_time_s"]) and np.isfinite(other["ic_time_s"]):
                    for k in ("ic_time_s", "ic_frame", "ic_confidence"):
                        new[k] = other[k]
                if np.isfinite(late["to_time_s"]):
                    for k in ("to_time_s", "to_frame", "to_confidence"):
                        new[k] = late[k]
                new["first_index"] = min(prev["first_index"], row["first_index"])
                new["last_index"] = max(prev["last_index"], row["last_index"])
                new["complete"] = bool(np.isfinite(new["ic_time_s"]) and np.isfinite(new["to_time_s"]))
                keep[-1] = new
                merged += 1
                continue
        keep.append(row)
    out = pd.DataFrame(keep, columns=list(c.columns)).drop(columns=["_t", "_step", "_v"])
    return out.sort_values(["first_index", "side"], kind="stable").reset_index(drop=True), merged


def step_cost(ratio: float, *, miss_cost: float = STEP_MISS_COST) -> float:
    """Cost of an interval of ``ratio`` expected steps between two kept contacts.

    ``(ratio - 1)^2`` for one step; an interval of about two steps may hide a contact that
    was not seen (``(ratio - 2)^2 + miss_cost``); longer gaps (the runner out of view) cost
    ``2 * miss_cost`` whatever their length.
    """
    return float(min((ratio - 1.0) ** 2, (ratio - 2.0) ** 2 + miss_cost, 2.0 * miss_cost))


def _time_order(
    contacts: pd.DataFrame, t: np.ndarray, step_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order that sorts the contacts by time, and their times and expected steps in it."""
    tc = _contact_times(contacts, t)
    order = np.argsort(tc, kind="stable")
    return order, tc[order], np.asarray(step_s, dtype=float)[order]


def drop_extra_contacts(
    contacts: pd.DataFrame,
    t: np.ndarray,
    step_s: np.ndarray,
    *,
    drop_cost: float = EXTRA_DROP_COST,
    miss_cost: float = STEP_MISS_COST,
    max_skip: int = 4,
) -> tuple[pd.DataFrame, int]:
    """Drop contacts that break the rhythm of the steps and whose foot barely moves with the ground.

    A 2-D pose model that puts both legs' labels on one leg makes a swinging foot's track
    touch the ground between two real contacts. Such an extra contact splits one step into
    two short intervals, and the foot does not move with the ground: in a real contact it
    moves backwards relative to the pelvis at the running (belt) speed (Zeni et al. 2008).
    The kept contacts are chosen by dynamic programming (a shortest path over the contacts
    in time: the Viterbi algorithm, Forney 1973) to minimise the sum of
    :func:`step_cost` over consecutive kept contacts plus, per dropped contact,
    ``drop_cost`` times its ground-speed agreement ``q`` (its stance speed, column
    ``stance_speed_mps``, times its time scale, over the clip's median of the same,
    clipped to [0, 1]; 1 when unknown). A contact that moves with the ground is dropped
    only when it breaks the rhythm badly (a middle contact splitting a step into a third
    and two thirds costs 0.56 kept, 0.6 dropped), one that moves at half the ground speed
    or slower already when it splits a step in halves (0.5 kept, 0.3 dropped).

    Returns
    -------
    contacts, n_dropped
    """
    n = len(contacts)
    if n < 3 or not np.isfinite(step_s).all():
        return contacts, 0
    order, tc, step = _time_order(contacts, t, step_s)
    c = contacts.iloc[order].reset_index(drop=True)
    q = np.ones(n)
    if "stance_speed_mps" in c:
        scale = (c["time_scale"].to_numpy(dtype=float) if "time_scale" in c else np.ones(n))
        v = c["stance_speed_mps"].to_numpy(dtype=float) * scale
        ok = np.isfinite(v) & (v > 0)
        if ok.sum() >= 3:
            q = np.where(ok, np.clip(v / np.median(v[ok]), 0.0, 1.0), 1.0)
    drop = drop_cost * q
    before = np.concatenate([[0.0], np.cumsum(drop)])  # before[i]: dropping all of 0..i-1
    cost = np.full(n, np.inf)
    prev = np.full(n, -1)
    for j in range(n):
        cost[j] = before[j]  # j is the first kept contact
        for i in range(max(0, j - 1 - max_skip), j):
            r = (tc[j] - tc[i]) / (0.5 * (step[i] + step[j]))
            cj = cost[i] + step_cost(r, miss_cost=miss_cost) + before[j] - before[i + 1]
            if cj < cost[j]:
                cost[j], prev[j] = cj, i
    total = cost + (before[n] - before[1:])
    j = int(np.argmin(total))
    kept = []
    while j >= 0:
        kept.append(j)
        j = int(prev[j])
    kept = sorted(kept)
    out = c.iloc[kept].sort_values(["first_index", "side"], kind="stable").reset_index(drop=True)
    return out, n - len(kept)


def assign_sides(
    contacts: pd.DataFrame,
    t: np.ndarray,
    step_s: np.ndarray,
    *,
    gap: float = 1.5,
    break_cost: float = SIDE_BREAK_COST,
) -> tuple[pd.DataFrame, int]:
    """Left and right from the alternation of the feet and the majority of the tracks.

    In running the feet take turns, so consecutive contacts one step apart belong to
    different feet. Which leg a contact's track belongs to is what the pose model (and the
    leg-swap repair of :mod:`posecoach.filtering`) says: wrong where both legs' labels sat on
    one leg, right for most contacts. The sides are the sequence that disagrees with the
    fewest tracks (each disagreement costs 1) while alternating; two consecutive contacts
    on one side cost ``break_cost``, or nothing when they lie more than ``gap`` expected
    steps apart (a contact may be missing between them). The cheapest sequence is found by
    the Viterbi algorithm (Forney 1973). With ``break_cost`` = 3 a stretch of up to three
    contacts whose tracks break the alternation is given to the other feet, and a longer one
    (more likely a contact missed inside the stretch than a pose-model mix-up that long)
    keeps its tracks.

    Returns
    -------
    contacts, n_changed
    """
    n = len(contacts)
    if n < 2 or not np.isfinite(step_s).all():
        return contacts, 0
    c = contacts.copy()
    order, tc, step = _time_order(c, t, step_s)
    sides = c["side"].to_numpy()[order]
    names = np.array(["left", "right"], dtype=object)
    emit = np.stack([(sides != names[k]).astype(float) for k in (0, 1)], axis=1)  # (n, 2)
    cost = emit[0].copy()
    back = np.zeros((n, 2), dtype=int)
    for i in range(1, n):
        free = tc[i] - tc[i - 1] > gap * 0.5 * (step[i] + step[i - 1])
        same = 0.0 if free else break_cost
        new = np.empty(2)
        for k in (0, 1):
            stay, switch = cost[k] + same, cost[1 - k]
            back[i, k] = k if stay < switch else 1 - k
            new[k] = min(stay, switch) + emit[i, k]
        cost = new
    k = int(np.argmin(cost))
    path = np.empty(n, dtype=int)
    for i in range(n - 1, -1, -1):
        path[i] = k
        k = back[i, k]
    new_sides = c["side"].to_numpy().copy()
    new_sides[order] = names[path]
    changed = int((new_sides != c["side"].to_numpy()).sum())
    c["side"] = new_sides
    return c, changed


def contact_events(contacts: pd.DataFrame) -> pd.DataFrame:
    """The events table of a contacts table: each contact's IC and TO where found.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EVENT_COLUMNS`, sorted by time (typed also when empty).
    """
    events = []
    for c in contacts.itertuples(index=False):
        if np.isfinite(c.ic_time_s):
            events.append({"side": c.side, "kind": "initial_contact", "frame": int(c.ic_frame),
                           "time_s": float(c.ic_time_s), "confidence": c.ic_confidence})
        if np.isfinite(c.to_time_s):
            events.append({"side": c.side, "kind": "toe_off", "frame": int(c.to_frame),
                           "time_s": float(c.to_time_s), "confidence": c.to_confidence})
    # typed columns also when no event was found (an empty frame's are objects)
    ev = pd.DataFrame(events, columns=EVENT_COLUMNS).astype(
        {"frame": np.int64, "time_s": float, "confidence": float})
    return ev.sort_values("time_s", kind="stable").reset_index(drop=True)


def match_events(
    detected: pd.DataFrame,
    reference: pd.DataFrame,
    *,
    tol_s: float,
    t_end_s: float,
    edge_s: float = 0.1,
) -> tuple[pd.DataFrame, list[tuple[str, str, float]], pd.DataFrame]:
    """Pair reference events (force plate, hand labels, synthetic truth) with detections.

    Each reference event is paired with the detection of the same side and kind nearest in
    time, if it lies within ``tol_s``. Reference events within ``edge_s`` of the clip's ends
    (0 .. ``t_end_s``) are not judged: their match, if any, is neither an error nor missing.

    Parameters
    ----------
    detected, reference : DataFrame
        Events with ``side``, ``kind`` and ``time_s`` (and ``frame``: the reference's may be
        absent).

    Returns
    -------
    matched : DataFrame
        One row per judged, matched reference event: ``kind``, ``side``, ``time_s``
        (reference), ``err_s`` (detection minus reference), ``det_frame``, ``ref_frame``
        (-1 where the reference has no frame).
    missing : list of (kind, side, time_s)
        Judged reference events with no detection within ``tol_s``.
    spurious : DataFrame
        Detections within the judged span that match no reference event.
    """
    used: set = set()
    rows, missing = [], []
    for r in reference.itertuples():
        d = detected[(detected["kind"] == r.kind) & (detected["side"] == r.side)]
        judged = edge_s <= r.time_s <= t_end_s - edge_s
        if len(d):
            k = int(np.argmin(np.abs(d["time_s"].to_numpy() - r.time_s)))
            if abs(d["time_s"].iloc[k] - r.time_s) < tol_s:
                used.add(d.index[k])
                if judged:
                    rows.append((r.kind, r.side, r.time_s, d["time_s"].iloc[k] - r.time_s,
                                 int(d["frame"].iloc[k]), int(getattr(r, "frame", -1))))
                continue
        if judged:
            missing.append((r.kind, r.side, r.time_s))
    span = (detected["time_s"] >= edge_s) & (detected["time_s"] <= t_end_s - edge_s)
    spurious = detected[span & ~detected.index.isin(used)]
    matched = pd.DataFrame(rows, columns=["kind", "side", "time_s", "err_s", "det_frame",
                                          "ref_frame"])
    return matched, missing, spurious


def _frame_at_or_after(t: np.ndarray, frames: np.ndarray, time_s: float) -> int:
    i = int(np.searchsorted(t, time_s - 1e-9, side="left"))
    return int(frames[min(i, len(frames) - 1)])


def _seen_around(t: np.ndarray, seen: np.ndarray, time_s: float, max_gap_s: float) -> bool:
    """Whether seen samples bracket ``time_s`` at most ``max_gap_s`` apart."""
    i = int(np.searchsorted(t, time_s, side="left"))
    before = np.flatnonzero(seen[: min(i + 1, len(t))] & (t[: min(i + 1, len(t))] <= time_s + 1e-9))
    after = np.flatnonzero(seen[i:] & (t[i:] >= time_s - 1e-9))
    if before.size == 0 or after.size == 0:
        return False
    return bool(t[i + after[0]] - t[before[-1]] <= max_gap_s + 1e-9)


def velocity_crossing(
    t: np.ndarray, v: np.ndarray, level: float, lo: int, hi: int, *, falling: bool, last: bool
) -> float:
    """Time where ``v`` crosses ``level`` between samples ``lo`` and ``hi`` (inclusive).

    ``falling``: from above to at-or-below (else from below to at-or-above). The first
    (``last=False``) or last crossing, linearly interpolated; NaN when there is none.
    """
    lo, hi = max(int(lo), 1), min(int(hi), len(v) - 1)
    hits = []
    for i in range(lo, hi + 1):
        a, b = v[i - 1], v[i]
        if not (np.isfinite(a) and np.isfinite(b)):
            continue
        if (a > level >= b) if falling else (a < level <= b):
            hits.append(i)
    if not hits:
        return float("nan")
    i = hits[-1] if last else hits[0]
    return _crossing(t, v, i - 1, i, level)


def refine_initial_contact(
    t: np.ndarray,
    heel_u_mps: np.ndarray,
    guess_s: float,
    stance_s: tuple[float, float],
    *,
    share: float = IC_GROUND_SPEED_SHARE,
    window_s: float = VELOCITY_CUE_WINDOW_S,
    segment_s: tuple[float, float] | None = None,
    back_s: float = 0.0,
) -> float:
    """Initial contact from the heel's horizontal velocity: when the foot stops on the ground.

    In stance the foot is fixed to the ground, so relative to the pelvis it moves backwards at
    the running (belt) speed; in late swing it still moves forwards relative to the ground.
    Contact is where the heel's velocity relative to the mid-hip ``u`` falls to
    ``u_s + share * |u_s|``, with ``u_s`` the median of ``u`` over 40-60 % of the stance:
    the foot's forward speed over the ground has dropped to ``share`` of the running speed.
    Velocity-based contact detection follows Zeni et al. (2008; foot velocity relative to
    the pelvis) and O'Connor et al. (2007; foot velocity algorithm). Unlike a height
    threshold it needs no band above the ground, so noise does not delay it, and a shoe
    that keeps compressing after contact (motion capture) does not either. ``share`` = 0.2
    was measured (docs/accuracy.md): on force-plate data (Fukuchi et al. 2017) the heel
    still moves ~1 m/s over the belt at contact (a higher share is earlier), the synthetic
    Pose runner's foot slows before contact (a lower share is later).

    Parameters
    ----------
    t, heel_u_mps : ndarray
        Time (s) and the heel's horizontal velocity relative to the mid-hip (m/s, forward
        positive: ``np.gradient(heel_x_rel_m, t)``, computed once per foot).
    guess_s : float
        The height-based contact time; the cue is searched within ``window_s`` of it.
    stance_s : (float, float)
        Start and end of the stance (s), for the stance velocity.
    segment_s : (float, float), optional
        First and last sample (s) of the contact found by the height segmentation
        (:func:`segment_contacts`). Used when ``stance_s`` holds no sample in its middle:
        the height-based IC and TO nearly meet or cross, which no real stance does (at
        30 fps a sprint contact lasts only 3-4 frames, and a noisy heel height puts the
        height-based IC at its end). Then the stance velocity is the most negative ``u``
        within the segment, because relative to the pelvis the foot moves backwards
        fastest while the ground carries it (in swing the leg is pulled forwards; of a
        3-4 frame contact only one or two samples lie wholly in stance, and the central
        difference mixes swing into the others, which only makes ``u`` less negative),
        and the cue is searched from ``window_s`` before the segment's start, since the
        height-based time is not to be trusted.
    back_s : float
        When the window holds no crossing because the heel is already below the level as
        the window opens, the last crossing within ``back_s`` before the window is the cue
        (0: not looked for). A height-based IC can come more than the window late where
        noise keeps the heel's filtered height near its band after the contact (a heel
        striker's first contact, 0.1 s into a 30 fps clip: 74 ms late). The detector uses
        it in real time only; in slow motion (local time scale > 1) the velocity cue may
        only move the IC earlier (:func:`combine_initial_contact`), and searching further
        back there put a slow-motion contact of the treadmill clip two frames early
        (docs/accuracy.md).

    Returns
    -------
    float
        The time of the cue, or NaN when it is not found (no stance velocity, or no crossing
        in the window): the caller keeps its height-based time then.
    """
    if not np.isfinite(guess_s):
        return float("nan")
    u = heel_u_mps
    t0, t1 = stance_s
    mid = (t >= t0 + 0.4 * (t1 - t0)) & (t <= t0 + 0.6 * (t1 - t0))
    start = guess_s
    if mid.any():
        u_s = float(np.median(u[mid & np.isfinite(u)])) if (mid & np.isfinite(u)).any() else np.nan
    elif segment_s is not None:
        seg = (t >= segment_s[0] - 1e-9) & (t <= segment_s[1] + 1e-9) & np.isfinite(u)
        u_s = float(u[seg].min()) if seg.any() else np.nan
        start = min(guess_s, segment_s[0])
    else:
        return float("nan")
    if not u_s < 0:
        return float("nan")
    lo, hi = np.searchsorted(t, [start - window_s, guess_s + window_s])
    level = u_s + share * abs(u_s)
    found = velocity_crossing(t, u, level, lo, hi, falling=True, last=False)
    if not np.isfinite(found) and back_s > 0 and 0 < lo < len(u) and u[lo - 1] <= level:
        # the heel had already stopped when the window opens: its stop lies before it
        first = int(np.searchsorted(t, start - window_s - back_s))
        found = velocity_crossing(t, u, level, first, lo - 1, falling=True, last=True)
    return float(found)


def combine_initial_contact(height_s: float, velocity_s: float, time_scale: float) -> float:
    """Initial contact from the height-based time and the velocity cue of one contact.

    In real time the velocity cue (:func:`refine_initial_contact`) replaces the height-based
    time. In a slow-motion section (local time scale ``k`` > 1, :func:`local_time_scale`;
    only scales beyond ``TIME_SCALE_FACTOR`` differ from 1) the earlier of the two is kept.
    The velocity cue exists to undo the height-based IC's delays, which are all late (a band
    above the noise, a sole that keeps compressing); it is trusted to move IC later only
    where it is measured well. In a section slowed ``k`` times the foot's velocities in video
    time are ``k`` times smaller while the pose noise of each picture is not, and numerical
    differentiation amplifies that noise (Winter 2009, ch. 3), so the velocity cue's
    signal-to-noise ratio falls ``k`` times: its first crossing of the threshold can come
    late when the noisy velocity hovers just above it. The height-based timing already
    accounts for ``k`` (the approach speed is divided by it).

    Parameters
    ----------
    height_s, velocity_s : float
        Height-based IC and the velocity cue's IC (s); NaN where not found.
    time_scale : float
        The contact's local time scale (1 in real time).

    Returns
    -------
    float
        The IC time (s).

    References
    ----------
    Winter, D. A. (2009). Biomechanics and Motor Control of Human Movement (4th ed.).
    Wiley. Chapter 3 (noise amplification of finite-difference derivatives).
    """
    if not np.isfinite(velocity_s):
        return height_s
    if time_scale > 1.0 and np.isfinite(height_s):
        return min(height_s, velocity_s)
    return velocity_s


@functools.lru_cache(maxsize=64)
def derivative_noise_gain(fps: float, cutoff_hz: float, order: int) -> float:
    """How much the cleaning filter and a central difference amplify white position noise.

    The ratio of the standard deviation of ``np.gradient(x, 1 / fps)`` to that of ``x``,
    both after the zero-lag Butterworth low-pass of the cleaning stage
    (:func:`posecoach.filtering.butterworth_zero_lag`; ``cutoff_hz`` NaN: no filter), for
    white noise in, in 1/s. Computed from the frequency responses: filtfilt applies
    ``|H(f)|**2``, so the noise power is ``|H|**4`` and the central difference multiplies
    it by ``(fps * sin(2 pi f / fps))**2`` (Winter 2009, ch. 3).
    """
    f = np.linspace(0.0, fps / 2, 4097)
    if np.isfinite(cutoff_hz) and 0 < cutoff_hz < fps / 2:
        b, a = lowpass_coefficients(float(cutoff_hz), float(fps), int(order))
        _, h = freqz(b, a, worN=f, fs=fps)
        power = np.abs(h) ** 4
    else:
        power = np.ones_like(f)
    diff = (fps * np.sin(2 * np.pi * f / fps)) ** 2
    return float(np.sqrt(np.sum(power * diff) / np.sum(power)))


#: Position noise of the heel relative to the mid-hip (the velocity cue's signal) over that
#: of one point: var(heel - (left hip + right hip) / 2) = (1 + 1/2) var(one point).
HEEL_REL_HIP_NOISE_RATIO = float(np.sqrt(1.5))


def weighted_initial_contact(
    height_s: float, velocity_s: float, height_rate_mps: float, velocity_rate_mps2: float,
    *, offset_s: float, gain_per_s: float,
) -> float:
    """Initial contact as the two cues' mean weighted by their inverse variance.

    A threshold crossing of a signal with noise ``sigma`` and slope ``r`` there is off
    by about ``sigma / |r|``. The height-based IC crosses its band at the height rate
    ``height_rate_mps`` with the keypoints' position noise; the velocity cue crosses its
    level at ``velocity_rate_mps2``, with the velocity's noise ``gain_per_s`` times
    :data:`HEEL_REL_HIP_NOISE_RATIO` times the same position noise
    (:func:`derivative_noise_gain`). The position noise cancels from the weights, so
    ``w_h = r_h**2`` and ``w_v = (r_v / (gain * ratio))**2``. A foot that slows before it
    lands (the velocity hovers near its level) thus leans on the height, a heel that falls
    fast but stops abruptly on the velocity. The height-based time is first moved by
    ``offset_s``, the foot's median difference between the cues, so that the mean keeps the
    velocity cue's calibration (force plates, docs/accuracy.md) and only its scatter falls
    (the classic inverse-variance mean: Taylor 1997, ch. 7).

    Returns the velocity cue where a weight or the offset is not finite.

    References
    ----------
    Taylor, J. R. (1997). An Introduction to Error Analysis (2nd ed.). University Science
    Books. Chapter 7 (weighted averages).
    """
    if not (np.isfinite(height_s) and np.isfinite(offset_s)):
        return velocity_s
    if not np.isfinite(velocity_s):
        return height_s + offset_s
    w_h = height_rate_mps**2
    w_v = (velocity_rate_mps2 / (gain_per_s * HEEL_REL_HIP_NOISE_RATIO)) ** 2
    if not (np.isfinite(w_h) and np.isfinite(w_v)) or w_h + w_v <= 0:
        return velocity_s
    return float((w_h * (height_s + offset_s) + w_v * velocity_s) / (w_h + w_v))


def resolve_disagreeing_cues(
    ics: np.ndarray, height_s: np.ndarray, velocity_s: np.ndarray, usable: np.ndarray,
    *, frame_s: float, widths: float = 4.0, stride_tolerance: float = 0.25,
) -> np.ndarray:
    """Where the two IC cues of one contact disagree, keep the one the rhythm agrees with.

    The weighted mean (:func:`weighted_initial_contact`) assumes both cues scatter by their
    predicted amounts. A cue can also be far off (a heel bouncing back above the height band
    after contact delays the height-based IC by several frames), and then the mean is off by
    a share of that. A contact whose cues (the height-based one already moved by the foot's
    offset) differ by more than ``widths`` robust standard deviations of that difference over
    the foot's contacts (MAD x 1.4826; Rousseeuw & Croux 1993), and by more than 1.5 frames,
    takes the cue closer to the middle of its neighbours' ICs, when both neighbours are one
    stride away (within ``stride_tolerance`` of the foot's median stride): a runner's strides
    vary by a few per cent, far less than such a disagreement.

    Parameters
    ----------
    ics : ndarray
        The foot's IC times so far (s), in order.
    height_s, velocity_s : ndarray
        Each contact's height-based IC (moved by the offset) and velocity cue (s).
    usable : ndarray of bool
        Contacts in real time with both cues found.
    frame_s : float
        Frame interval (s).

    Returns
    -------
    ndarray
        The IC times, changed only where the cues disagree and the rhythm decides.
    """
    out = np.array(ics, dtype=float)
    if usable.sum() < 4:
        return out
    d = velocity_s - height_s
    med = float(np.median(d[usable]))
    spread = 1.4826 * float(np.median(np.abs(d[usable] - med)))
    limit = max(widths * spread, 1.5 * frame_s)
    stride = np.diff(ics)
    stride = stride[np.isfinite(stride)]
    if stride.size < 2:
        return out
    typical = float(np.median(stride))
    for i in np.flatnonzero(usable & (np.abs(d - med) > limit)):
        if i == 0 or i + 1 >= len(ics):
            continue
        before, after = ics[i - 1], ics[i + 1]
        if not (np.isfinite(before) and np.isfinite(after)):
            continue
        if abs(0.5 * (after - before) / typical - 1) > stride_tolerance:
            continue  # a neighbour missing (or another foot's contact): no rhythm to ask
        middle = 0.5 * (before + after)
        cands = np.array([height_s[i], velocity_s[i]])
        out[i] = float(cands[np.argmin(np.abs(cands - middle))])
    return out


def refine_toe_off(
    t: np.ndarray,
    toe_vy_mps: np.ndarray,
    guess_s: float,
    *,
    lift_speed_mps: float = TO_LIFT_SPEED_MPS,
    window_s: float = VELOCITY_CUE_WINDOW_S,
    toe_rel_m: np.ndarray | None = None,
    clear_m: float = float("nan"),
    until_s: float = float("inf"),
) -> float:
    """Toe-off from the toe's vertical velocity: the last rise through ``lift_speed_mps``.

    The toe leaves the ground with a quickly growing upward velocity; its vertical motion is
    the best kinematic toe-off cue of Leitch et al. (2011) (also Handsaker et al. 2016). The
    time is the last upward crossing of ``lift_speed_mps`` within ``window_s`` of the
    height-based toe-off (0.3 m/s measured against force plates and the synthetic runner,
    docs/accuracy.md); NaN when there is none (the caller keeps its height-based time).
    ``toe_vy_mps`` is the toe's vertical velocity (m/s, up positive:
    ``np.gradient(toe_m, t)``, computed once per foot).

    A lift-off is a rise that carries the toe clear of the ground. Given the toe's height
    above its level (``toe_rel_m``) and the height that counts as clear (``clear_m``, the
    stance threshold), a toe still below it at the window's end (it rose a little and
    stopped: noise on a rocking push-off crossed the small band early) is followed until it
    clears, or until ``until_s`` (the foot's next contact), and the last rise through the
    lift speed before that is the toe-off.
    """
    if not np.isfinite(guess_s):
        return float("nan")
    v = toe_vy_mps
    lo, hi = np.searchsorted(t, [guess_s - window_s, guess_s + window_s])
    if toe_rel_m is not None and np.isfinite(clear_m) and hi < len(t):
        stop = min(int(np.searchsorted(t, until_s)), len(t))
        with np.errstate(invalid="ignore"):
            clear = np.flatnonzero(toe_rel_m[hi:stop] >= clear_m)
        if clear.size and not np.any(toe_rel_m[int(np.searchsorted(t, guess_s)):hi] >= clear_m):
            hi = hi + int(clear[0])
    return float(velocity_crossing(t, v, lift_speed_mps, lo, hi, falling=False, last=True))


def local_time_scale(
    t: np.ndarray,
    foot_x_rel_m: np.ndarray,
    runs: list[tuple[int, int]],
    *,
    n: int = TIME_SCALE_CONTACTS,
    factor: float = TIME_SCALE_FACTOR,
) -> np.ndarray:
    """How much slower than the foot's typical contact each contact is played (1: as usual).

    In stance the foot moves backwards relative to the pelvis at the running (belt) speed
    (the basis of the Zeni et al. 2008 coordinate method). A section of the clip played in
    slow motion (phone "slo-mo" exports ramp from real time to 4-8x slower and back) shows
    the same motion that many times slower in video time, and so does every other motion
    of the foot: its approach to the ground and its lift. The scale of contact ``i`` is the
    typical stance speed of the foot (below) divided by the median over the ``n``
    contacts around ``i`` (one contact's speed is noisy: the pose model mixes up the legs
    in some frames). The detector's timing model (each contact's approach speed and lift
    acceleration are the foot's typical ones divided by the scale, its square) and the
    toe-off velocity cue use it, so their settings, which assume real time, hold in slow
    motion too (the playback-speed check of :mod:`posecoach.quality`
    runs after the events and finds the same sections from the step intervals).

    The typical speed is the upper quartile over the foot's contacts, not the median:
    real time is the fastest playback of such a clip, and its slow section may hold as
    many contacts as the real-time ones (slowed 4x, a second of running fills four). A
    foot standing still or a contact invented by mixed-up legs moves slower still, which
    the quartile ignores as long as they are fewer than three in four. A stance cut by the
    start or end of the data is not measured (a few frames after a toe-off just before the
    clip look like a slow stance); its scale is that of its neighbours.

    Parameters
    ----------
    t, foot_x_rel_m : ndarray
        Time (s) and the foot's position ahead of the pelvis (m).
    runs : list of (start, stop)
        The foot's contacts (index ranges).
    n : int
        Number of contacts in the local median.
    factor : float
        Scales within ``[1 / factor, factor]`` are set to 1: ordinary changes of pace are
        left to the medians over all contacts.

    Returns
    -------
    ndarray
        One scale per contact (> 1: slower than usual in video time); 1 where unknown.
    """
    out = np.ones(len(runs))
    if len(runs) < 3 or np.isfinite(foot_x_rel_m).sum() < 3:
        return out
    u = np.gradient(np.asarray(foot_x_rel_m, dtype=float), t)
    speed = np.full(len(runs), np.nan)
    for i, (a, b) in enumerate(runs):
        if a == 0 or b >= len(t):
            continue  # cut by the clip's start or end: not a whole stance (its scale: neighbours')
        w = u[a:b]
        w = w[np.isfinite(w)]
        if w.size and np.median(w) < 0:
            speed[i] = -float(np.median(w))
    if np.isfinite(speed).sum() < 3:
        return out
    typical = float(np.nanpercentile(speed, 75))
    h = n // 2
    for i in range(len(runs)):
        w = speed[max(0, i - h) : i + h + 1]
        w = w[np.isfinite(w)]
        if w.size:
            k = typical / float(np.median(w))
            if not (1.0 / factor <= k <= factor):
                out[i] = float(np.clip(k, 1.0 / 8.0, 8.0))
    return out


class GaitEventDetector:
    """Detect initial contacts and toe-offs of both feet (see the module docstring).

    Parameters
    ----------
    on_fraction, off_fraction : float
        Stance is entered when the foot's lowest point is within ``on_fraction`` of its
        swing height above the contact level and left above ``off_fraction`` of it.
    noise_widths : float
        Both thresholds are at least this many noise widths above the level (``off`` that
        many above ``on``).
    min_tolerance_m : float
        Lower bound of ``on``.
    min_contact_ms : float
        Shorter contacts are discarded as noise.
    min_swing_ms : float
        A lift (above ``off``) between two contacts of the same foot shorter than this is
        noise: they are merged. A real swing takes several times as long; a lift of about a
        step between two contacts is the other leg seen on this foot's track, and those
        contacts are kept and sorted out by :func:`merge_duplicate_contacts` and
        :func:`alternate_sides`.
    min_confidence : float
        Keypoint confidence below which a sample counts as not seen.
    max_gap_frames : int
        An event needs seen samples around it at most this many frame intervals apart.
    target_ms : float
        Events are timed from the crossing of the band a foot point covers in this time
        before touch-down (after lift-off), but at least three noise widths high.
    lowpass_hz : float or None
        Cut-off of the zero-lag low-pass filter the input went through (0 = none); None
        reads it from ``attrs["cleaning"]`` (:func:`lowpass_record`).
    extrapolate : bool
        Extrapolate the event times to a band of zero height (Richardson 1911).
    velocity_cues : bool
        Refine the height-based times by the feet's velocities
        (:func:`refine_initial_contact`, :func:`refine_toe_off`).
    ic_speed_share : float
        Initial contact: the heel's forward speed over the ground falls below this share of
        the running speed.
    to_lift_speed_mps : float
        Toe-off: the toe rises faster than this (m/s).
    weigh_ic_cues : bool
        In real time, IC is the height-based time and the velocity cue weighted by their
        inverse variance (:func:`weighted_initial_contact`); False: the velocity cue alone.
    step_rhythm : bool
        Sort out the contacts of both feet by the rhythm of the steps
        (:func:`merge_coincident_contacts`, :func:`drop_extra_contacts`,
        :func:`assign_sides`); False: only give a second landing of one foot within a step
        to the other foot (:func:`alternate_sides`).

    Raises
    ------
    EventSettingsError
        For a setting out of range.
    """

    def __init__(
        self,
        *,
        on_fraction: float = 0.12,
        off_fraction: float = 0.3,
        noise_widths: float = 4.0,
        min_tolerance_m: float = 0.005,
        min_contact_ms: float = 40.0,
        min_swing_ms: float = 50.0,
        min_confidence: float = 0.5,
        max_gap_frames: int = 2,
        target_ms: float = 5.0,
        lowpass_hz: float | None = None,
        extrapolate: bool = True,
        velocity_cues: bool = True,
        ic_speed_share: float = IC_GROUND_SPEED_SHARE,
        to_lift_speed_mps: float = TO_LIFT_SPEED_MPS,
        weigh_ic_cues: bool = True,
        step_rhythm: bool = True,
    ) -> None:
        self.on_fraction = on_fraction
        self.off_fraction = off_fraction
        self.noise_widths = noise_widths
        self.min_tolerance_m = min_tolerance_m
        self.min_contact_ms = min_contact_ms
        self.min_swing_ms = min_swing_ms
        self.min_confidence = min_confidence
        self.max_gap_frames = max_gap_frames
        self.target_ms = target_ms
        self.lowpass_hz = lowpass_hz
        self.extrapolate = extrapolate
        self.velocity_cues = velocity_cues
        self.ic_speed_share = ic_speed_share
        self.to_lift_speed_mps = to_lift_speed_mps
        self.weigh_ic_cues = weigh_ic_cues
        self.step_rhythm = step_rhythm
        checks = {
            "on_fraction": (on_fraction, 0.0, MAX_ON_FRACTION),
            "off_fraction": (off_fraction, 0.0, 2 * MAX_ON_FRACTION),
            "noise_widths": (noise_widths, 0.0, 20.0),
            "min_tolerance_m": (min_tolerance_m, 0.0, 0.2),
            "min_contact_ms": (min_contact_ms, 0.0, 1000.0),
            "min_swing_ms": (min_swing_ms, 0.0, 1000.0),
            "min_confidence": (min_confidence, 0.0, 1.0),
            "max_gap_frames": (max_gap_frames, 1, 100),
            "target_ms": (target_ms, 0.1, 100.0),
            "ic_speed_share": (ic_speed_share, 0.0, 1.0),
            "to_lift_speed_mps": (to_lift_speed_mps, 0.0, 5.0),
        }
        for name, (value, lo, hi) in checks.items():
            if not (isinstance(value, int | float) and np.isfinite(value) and lo <= value <= hi):
                raise EventSettingsError(
                    f"GaitEventDetector {name}={value!r} is out of range; use a number in [{lo}, {hi}]"
                )
        if off_fraction < on_fraction:
            raise EventSettingsError(
                f"off_fraction={off_fraction} is below on_fraction={on_fraction}; the exit "
                "threshold must not be lower than the entry threshold"
            )
        if lowpass_hz is not None and not (np.isfinite(lowpass_hz) and lowpass_hz >= 0):
            raise EventSettingsError(
                f"lowpass_hz={lowpass_hz!r}: give the filter's cut-off in Hz, 0 for none, or None"
            )

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
            time), ``contacts_`` (one row per contact: side, ``track``, ic/to times and
            frames, confidences, first/last index, ``complete``; ``track`` is the leg whose
            keypoints showed the contact, which differs from ``side`` where the contact was
            given to the other foot because the pose model mixed up the legs: that leg's
            keypoints show the landing foot), ``levels_`` (per side: levels,
            swing height, noise, thresholds) and ``warnings_``.
        """
        if body.attrs.get("frame") != "body":
            raise PoseDataError(
                "the gait-event detector needs body-frame positions (metres, x forward, y up); "
                "convert the pose dataset with posecoach.kinematics.to_body_frame first"
            )
        t = body["time"].values.astype(float)
        frames = body["frame"].values
        n = len(t)
        dt = float(np.median(np.diff(t))) if n > 1 else 1.0
        cutoff, order = lowpass_record(body.attrs)
        if self.lowpass_hz is not None:
            cutoff = float(self.lowpass_hz) if self.lowpass_hz > 0 else float("nan")
        filt = (cutoff, order)
        # the runner's time in view: the clip, or less where nobody was detected (or the
        # runner's frames crossing the picture's edge were masked, filtering.clean)
        present = np.flatnonzero(detected_frames(body))
        self._in_view = (int(present[0]), int(present[-1])) if present.size else (0, n - 1)
        rows: list[dict] = []
        self.warnings_: list[str] = []
        self.levels_: dict[str, dict[str, float]] = {}
        for side in SIDES:
            sig = foot_signals(
                body, side, min_confidence=self.min_confidence, max_gap_frames=self.max_gap_frames
            )
            found = self._detect_foot(side, sig, t, frames, dt, filt, angles)
            rows += found
            if not found and side in self.levels_:
                self.warnings_.append(f"{side} foot: no ground contact was found")
        contacts = pd.DataFrame(rows, columns=CONTACT_COLUMNS + list(_INTERNAL_COLUMNS))
        if not contacts.empty:
            contacts = contacts.sort_values(["first_index", "side"], kind="stable")
            contacts = contacts.reset_index(drop=True)
            contacts, n_dup = merge_duplicate_contacts(contacts)
            if self.step_rhythm:
                contacts, n_co = merge_coincident_contacts(contacts, t, local_steps(contacts, t))
                contacts, n_extra = drop_extra_contacts(contacts, t, local_steps(contacts, t))
                contacts, n_flip = assign_sides(contacts, t, local_steps(contacts, t))
                n_dup += n_co
                if n_extra:
                    self.warnings_.append(
                        f"{count(n_extra, 'contact')} broke the rhythm of the steps and did not "
                        "move with the ground (the pose model mixed up the legs); "
                        f"{'it was' if n_extra == 1 else 'they were'} left out"
                    )
            else:
                contacts, n_flip = alternate_sides(contacts, t)
            if n_dup:
                self.warnings_.append(
                    f"{count(n_dup, 'contact')} showed on both feet at once (the pose model mixed "
                    "up the legs); each was kept once"
                )
            if n_flip:
                self.warnings_.append(
                    f"{count(n_flip, 'contact')} {'was' if n_flip == 1 else 'were'} given to the "
                    "other foot: the feet take turns, one landing per step (the pose model mixed "
                    "up the legs)"
                )
        self.contacts_ = contacts.drop(columns=list(_INTERNAL_COLUMNS)).reset_index(drop=True)
        self.events_ = contact_events(self.contacts_)
        return self

    def _detect_foot(self, side, sig, t, frames, dt, filt, angles) -> list[dict]:
        seen = sig.seen
        heel, toe = sig.heel_m, sig.toe_m
        if seen.sum() < 8:
            self.warnings_.append(f"{side} foot: too few clear samples; no events")
            return []
        # 1. levels: a rolling low quantile, refined by a constant from rough stances
        # a foot standing still (on a treadmill's side rails, lower in the picture than the
        # belt) would pull the level down and the contacts next to it would be lost
        ref = seen & ~standing_still(t, sig.foot_x_rel_m)
        if ref.sum() < 8:
            ref = seen
        with np.errstate(invalid="ignore"):
            h_track = rolling_level(t, np.where(ref, heel, np.nan))
            t_track = rolling_level(t, np.where(ref, toe, np.nan))
            heel, toe = heel - h_track, toe - t_track
            hs = np.where(ref, heel, np.nan)
            ts = np.where(ref, toe, np.nan)
        h_level, _, h_noise = contact_level(hs)
        t_level, _, t_noise = contact_level(ts)
        if not (np.isfinite(h_level) and np.isfinite(t_level)):
            self.warnings_.append(f"{side} foot: too few clear samples; no events")
            return []
        noise = max(float(np.nanmax([h_noise, t_noise])), 0.0005)
        runs: list[tuple[int, int]] = []
        for _ in range(2):
            with np.errstate(invalid="ignore"):
                low = np.fmin(heel - h_level, toe - t_level)
                low[~(np.isfinite(heel) & np.isfinite(toe))] = np.nan
            swing = float(np.nanpercentile(low, 95)) if np.isfinite(low).any() else float("nan")
            if not np.isfinite(swing) or swing < 4 * self.min_tolerance_m:
                self.levels_[side] = {"heel_level_m": float(np.nanmedian(h_track) + h_level),
                                      "toe_level_m": float(np.nanmedian(t_track) + t_level),
                                      "swing_m": swing, "noise_m": noise}
                self.warnings_.append(
                    f"{side} foot: it never clearly leaves the ground (or is hardly seen); no events"
                )
                return []
            # thresholds scale with the swing height and the noise, but a foot always spends
            # time in the upper half of its swing, so they stay below it
            on = min(max(self.min_tolerance_m, self.noise_widths * noise, self.on_fraction * swing),
                     MAX_ON_FRACTION * swing)
            off = min(max(on + self.noise_widths * noise, self.off_fraction * swing),
                      2.0 * MAX_ON_FRACTION * swing)
            runs = segment_contacts(t, low, on, off, min_swing_s=self.min_swing_ms / 1000.0)
            if not runs:
                break
            # from the samples of the first guess (seen, not standing still): a rest on the
            # side rails is one long "stance" that would outweigh the short stances of a sprint
            hl, tl = stance_level(hs, runs), stance_level(ts, runs)
            if np.isfinite(hl):
                h_level = hl
            if np.isfinite(tl):
                t_level = tl
            with np.errstate(invalid="ignore"):
                est = stance_noise(np.fmin(heel - h_level, toe - t_level), runs)
            if np.isfinite(est):
                noise = max(est, 0.0005)
        self.levels_[side] = {
            "heel_level_m": float(np.nanmedian(h_track) + h_level),
            "toe_level_m": float(np.nanmedian(t_track) + t_level),
            "level_drift_m": float(np.nanmax([np.ptp(h_track[np.isfinite(h_track)]),
                                              np.ptp(t_track[np.isfinite(t_track)])])),
            "swing_m": float(swing), "noise_m": float(noise), "on_m": float(on), "off_m": float(off),
        }
        heel_rel, toe_rel = heel - h_level, toe - t_level
        scale = local_time_scale(t, sig.foot_x_rel_m, runs)
        ics, tos = self._event_times(t, runs, heel_rel, toe_rel, noise, filt, dt, scale)
        self.levels_[side].update(self._timing_info)
        if self.velocity_cues:
            with np.errstate(invalid="ignore"):
                low_rel = np.fmin(heel_rel, toe_rel)
            ics, tos = self._velocity_cues(t, runs, ics, tos, sig, scale, toe_rel, on, low_rel, filt,
                                           dt)
        knee = angles["knee_flexion_deg"].sel(side=side).values if angles is not None else None
        out = []
        for (a, b), ic, to, k in zip(runs, ics, tos, scale, strict=True):
            c = self._contact(side, a, b, ic, to, t, frames, dt, sig, knee)
            if c is not None:
                c["time_scale"] = float(k)
                out.append(c)
        return out

    def _event_times(self, t, runs, heel_rel, toe_rel, noise, filt, dt, scale):
        """IC and TO time of every stance (NaN where not seen), see the module docstring."""
        n = len(t)
        cutoff, order = filt
        bounds_ic = [(runs[i - 1][1] if i else 0, b) for i, (_, b) in enumerate(runs)]
        bounds_to = [(a, runs[i + 1][0] if i + 1 < len(runs) else n) for i, (a, _) in enumerate(runs)]
        # each contact's own touch-down and lift-off heights (usually the level itself)
        shift = {
            "heel": [local_level(heel_rel, a, b, noise, late=False) for a, b in runs],
            "toe": [local_level(toe_rel, a, b, noise, late=False) for a, b in runs],
            "lift": [local_level(toe_rel, a, b, noise, late=True) for a, b in runs],
        }
        base = {"heel": heel_rel, "toe": toe_rel, "lift": toe_rel}
        cache: dict[tuple[str, float], list[BandCrossing | None]] = {}

        def crossings(kind: str, band: float) -> list[BandCrossing | None]:
            if (kind, band) not in cache:
                down = kind != "lift"
                cache[kind, band] = [
                    band_crossing(t, base[kind] - dz, a if down else b, band, downward=down,
                                  lo=lo, hi=hi)
                    for dz, (a, b), (lo, hi) in zip(
                        shift[kind], runs, bounds_ic if down else bounds_to, strict=True)
                ]
            return cache[kind, band]

        def secant(kind: str, band: float) -> float:
            # each contact's secant (a speed) times its time scale: the foot's rate in its
            # typical (real) time, however many of its contacts were played slower
            ratio = SECANT_BAND_RATIO["parabola" if kind == "lift" else "hinge"]
            v = np.array([_secant(c1, c2, band, ratio) for c1, c2 in
                          zip(crossings(kind, band), crossings(kind, ratio * band), strict=True)])
            v = v * scale
            v = v[np.isfinite(v) & ((v > 0) if kind == "lift" else (v < 0))]
            return float(np.median(v)) if v.size else float("nan")

        timing: dict[str, EventTiming | None] = {}
        for kind in ("heel", "toe", "lift"):
            timing[kind] = fit_event_timing(
                lambda band, k=kind: secant(k, band),
                shape="parabola" if kind == "lift" else "hinge", noise_m=noise, fps=1.0 / dt,
                cutoff_hz=cutoff, order=order, target_s=self.target_ms / 1000.0,
            )
        self._timing_info = {
            f"{k}_{name}": (float(getattr(v, name)) if v is not None else float("nan"))
            for k, v in timing.items() for name in ("band_m", "offset_s", "rate")
        }
        offsets = {k: -v.offset_s for k, v in timing.items() if v is not None}
        # what is left of the bias grows with the square of the band (the approach is not
        # straight, the lift not a pure parabola): time the events from a band three times
        # as high too and extrapolate to a band of zero (Richardson 1911)
        for kind, tm in timing.items():
            if tm is None or not self.extrapolate:
                continue
            high = fit_event_timing(
                lambda band, k=kind: secant(k, band),
                shape="parabola" if kind == "lift" else "hinge", noise_m=noise, fps=1.0 / dt,
                cutoff_hz=cutoff, order=order, target_s=self.target_ms / 1000.0,
                band_m=RICHARDSON_RATIO * tm.band_m, max_band_m=1.0,
            )
            if high is None:
                continue
            d = [c2.time_s - high.offset_s - (c1.time_s - tm.offset_s)
                 for c1, c2 in zip(crossings(kind, tm.band_m),
                                   crossings(kind, RICHARDSON_RATIO * tm.band_m), strict=True)
                 if c1 is not None and c2 is not None]
            if d:
                offsets[kind] -= float(np.median(d)) / (RICHARDSON_RATIO**2 - 1.0)
        # a contact played slower (faster) than the foot's typical one (local_time_scale):
        # its approach speed and lift acceleration in video time are those of the foot
        # divided by the scale (its square), and its offset follows from the same forward
        # model; the extrapolation's correction, a time, scales with it
        local: dict[tuple[str, float], float] = {}

        def offset(kind: str, k: float) -> float:
            if k == 1.0 or kind not in offsets:
                return offsets.get(kind, float("nan"))
            if (kind, k) not in local:
                tm = timing[kind]
                loc = fit_event_timing(
                    lambda band, kd=kind: secant(kd, band) / k,
                    shape="parabola" if kind == "lift" else "hinge", noise_m=noise, fps=1.0 / dt,
                    cutoff_hz=cutoff, order=order, target_s=self.target_ms / 1000.0,
                    band_m=tm.band_m,
                )
                extra = offsets[kind] + tm.offset_s
                local[kind, k] = (-loc.offset_s if loc is not None else -k * tm.offset_s) + k * extra
            return local[kind, k]

        ics, tos = [], []
        for i in range(len(runs)):
            k = float(scale[i])
            cands = []
            for kind in ("heel", "toe"):
                tm = timing[kind]
                c = crossings(kind, tm.band_m)[i] if tm is not None else None
                if c is not None:
                    cands.append(c.time_s + offset(kind, k))
            ic = min(cands) if cands else float("nan")
            ics.append(ic)
            tm = timing["lift"]
            c = crossings("lift", tm.band_m)[i] if tm is not None else None
            tos.append(c.time_s + offset("lift", k) if c is not None else float("nan"))
        return ics, tos

    def _velocity_cues(self, t, runs, ics, tos, sig, scale, toe_rel, clear_m, low, filt, dt):
        """Refine the height-based times by the feet's velocities (see the module docstring).

        The toe's lift speed follows each contact's local time scale (:func:`local_time_scale`:
        in slow motion the toe rises that many times slower in video time). The search
        window does not: the cue takes the first crossing in it, and a wider window in slow
        motion reaches frames where the pose model mixed up the legs (measured on the
        treadmill clip of docs/accuracy.md). In slow motion the IC is the earlier of the
        height-based time and the velocity cue (:func:`combine_initial_contact`).
        """
        # the velocities once per foot; a foot seen in fewer than 5 samples keeps its times
        heel_u = (np.gradient(sig.heel_x_rel_m, t) if np.isfinite(sig.heel_x_rel_m).sum() >= 5
                  else None)
        toe_vy = np.gradient(sig.toe_m, t) if np.isfinite(sig.toe_m).sum() >= 5 else None
        out_ic, out_to = [], []
        next_start = [float(t[runs[i + 1][0]]) if i + 1 < len(runs) else float("inf")
                      for i in range(len(runs))]
        v_ics = []
        for (a, b), ic, to, k in zip(runs, ics, tos, scale, strict=True):
            if heel_u is None:
                v_ics.append(float("nan"))
                continue
            start = ic if np.isfinite(ic) else float(t[a])
            end = to if np.isfinite(to) else float(t[b - 1])
            v_ics.append(refine_initial_contact(t, heel_u, ic, (start, end),
                                                share=self.ic_speed_share,
                                                segment_s=(float(t[a]), float(t[b - 1])),
                                                back_s=VELOCITY_CUE_WINDOW_S if k == 1.0 else 0.0))
        weigh = self.weigh_ic_cues and heel_u is not None
        if weigh:
            h_arr, v_arr = np.asarray(ics, dtype=float), np.asarray(v_ics, dtype=float)
            real = (np.asarray(scale) == 1.0) & np.isfinite(h_arr) & np.isfinite(v_arr)
            offset = float(np.median(v_arr[real] - h_arr[real])) if real.sum() >= 3 else np.nan
            low_rate = np.gradient(low, t)
            u_rate = np.gradient(heel_u, t)
            cutoff, order = filt
            gain = derivative_noise_gain(round(1.0 / dt, 6), float(cutoff), int(order))
        for i, (ic, to, k, until) in enumerate(zip(ics, tos, scale, next_start, strict=True)):
            v_ic = v_ics[i]
            if heel_u is None:
                out_ic.append(ic)
            elif weigh and real[i]:  # real time, both cues found
                out_ic.append(weighted_initial_contact(
                    ic, v_ic, float(np.interp(ic, t, low_rate)), float(np.interp(v_ic, t, u_rate)),
                    offset_s=offset, gain_per_s=gain))
            else:
                out_ic.append(combine_initial_contact(ic, v_ic, float(k)))
            v_to = (float("nan") if toe_vy is None else
                    refine_toe_off(t, toe_vy, to, lift_speed_mps=self.to_lift_speed_mps / k,
                                   toe_rel_m=toe_rel, clear_m=clear_m, until_s=until))
            out_to.append(v_to if np.isfinite(v_to) else to)
        if weigh and np.isfinite(offset):
            out_ic = resolve_disagreeing_cues(np.asarray(out_ic, dtype=float), h_arr + offset, v_arr,
                                              real, frame_s=dt)
            out_ic = [float(x) for x in out_ic]
        return out_ic, out_to

    def _contact(self, side, a, b, ic, to, t, frames, dt, sig, knee):
        n = len(t)
        seen = sig.seen
        if seen[a:b].mean() < 0.5:
            return None  # mostly not seen: nothing to say about it
        max_gap_s = self.max_gap_frames * dt
        if np.isfinite(ic) and not _seen_around(t, seen, ic, max_gap_s):
            ic = float("nan")
        if np.isfinite(to) and not _seen_around(t, seen, to, max_gap_s):
            to = float("nan")
        first, last = self._in_view
        t0, t1 = t[first], t[last]
        near_edge = min(EDGE_GUARD_S, 0.25 * (t1 - t0))
        if np.isfinite(ic) and not t0 + near_edge <= ic <= t1 - near_edge:
            ic = float("nan")
        if np.isfinite(to) and not t0 + near_edge <= to <= t1 - near_edge:
            to = float("nan")
        cut = a <= first or b > last  # a stance cut by the clip's (or the view's) start or end
        if cut and not (np.isfinite(ic) or np.isfinite(to)):
            return None  # the tail of a stance cut by the clip's end, with nothing to time
        if (b - a) * dt * 1000 < self.min_contact_ms:
            return None  # a blip, not a contact
        if np.isfinite(ic) and np.isfinite(to) and to - ic < self.min_contact_ms / 1000.0:
            to = float("nan")  # the lift-off extrapolation is the less certain of the two
        # the foot must move backwards relative to the pelvis while in contact (Zeni 2008)
        x = sig.foot_x_rel_m[a:b]
        ok = np.isfinite(x) & seen[a:b]
        slope = np.polyfit(t[a:b][ok], x[ok], 1)[0] if ok.sum() >= 2 else float("nan")
        if slope >= 0:
            return None
        conf = float(np.mean(sig.confidence[a:b])) if b > a else 0.0
        ic_conf = to_conf = conf
        if np.isfinite(ic):
            # Zeni 2008 check: heel most forward relative to the pelvis near IC
            lo = max(0, a - int(round(0.15 / dt)))
            w = sig.heel_x_rel_m[lo : a + 1]
            if np.isfinite(w).any():
                lag_s = abs(t[lo + int(np.nanargmax(w))] - ic)
                ic_conf *= 1.0 / (1.0 + (lag_s / 0.05) ** 2)
        if np.isfinite(to) and knee is not None:
            # Fellin 2010 check: peak knee extension in late stance near TO
            mid = (a + b) // 2
            hi = min(n, b + int(round(0.05 / dt)) + 1)
            w = knee[mid:hi]
            if np.isfinite(w).any():
                lag_s = abs(t[mid + int(np.nanargmin(w))] - to)
                to_conf *= 1.0 / (1.0 + (lag_s / 0.05) ** 2)
        ic_ok, to_ok = bool(np.isfinite(ic)), bool(np.isfinite(to))
        return {
            "side": side,
            "track": side,
            "ic_time_s": float(ic) if ic_ok else np.nan,
            "to_time_s": float(to) if to_ok else np.nan,
            "ic_frame": _frame_at_or_after(t, frames, ic) if ic_ok else -1,
            "to_frame": _frame_at_or_after(t, frames, to) if to_ok else -1,
            "ic_confidence": round(float(ic_conf), 3),
            "to_confidence": round(float(to_conf), 3),
            "first_index": int(a),
            "last_index": int(b - 1),
            "complete": ic_ok and to_ok,
            # a stance cut by the clip's start or end may be the first frames of a swing (the
            # toe still low after a toe-off before the clip): its speed is not the stance's
            "stance_speed_mps": float("nan") if cut else float(-slope),
        }
