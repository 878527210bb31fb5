"""Walking or running from double support, without the gait-event detector.

Walking and running differ in how the two feet's ground contacts overlap. In
walking each foot is on the ground for about 60 % of the stride, so the contacts
overlap: both feet are on the ground at once (double support) twice per stride,
about 10 % of the stride each time. In running each foot is on the ground for less
than half the stride and the contacts never overlap: there is a flight phase
instead (Perry 1992, *Gait Analysis*; Cavanagh 1990, *Biomechanics of Distance
Running*; Novacheck 1998, Gait & Posture 7:77-95). Double support is therefore the
defining difference, and it can be seen without finding the individual contacts.

:func:`double_support` measures it from the feet's *horizontal* motion, which 2-D
video shows much better than the small vertical motion of a walker's foot (the toe
clears the ground by only 1-2 cm in swing, Winter 1992, Phys Ther 72:45-53; 2-D pose
noise is several cm): a foot on the ground moves with the ground. On a fixed (or
pan-compensated) camera that is still in the picture; on a treadmill it is the belt
speed backwards. The stance foot itself reveals that ground velocity: at every
moment of a walk, and in most frames of a run (each foot's contact is 25-40 % of
the stride, so 50-80 % of the frames have a foot down), one foot is on the ground,
and a foot on the ground is the slower of the two, so the running median of the
slower foot's velocity is the ground's velocity. A foot that rolls over the heel, then the
forefoot (the rockers of Perry 1992) always has one of those two points still while
it is on the ground, so a foot counts as on the ground when its heel *or* its toe
moves with the ground (within a share of the travel speed) and its lowest point is
not lifted. The share of frames where both feet are on the ground is compared with
thresholds measured on real clips (``docs/accuracy.md`` and the tests).

This check decides when the events give no answer (too few steps found) and is
reported next to their answer otherwise; see :func:`combine`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import xarray as xr

from posecoach._text import percent

#: a share of double-support frames at or above this is walking
WALKING_SHARE: float = 0.08
#: a share at or below this is consistent with running (flight, no double support)
RUNNING_SHARE: float = 0.04
#: at least this much analysable gait (seconds) is needed for a decision
MIN_ANALYSED_S: float = 1.5
#: running quantile of the slower foot's velocity taken as the ground's velocity
GROUND_Q: float = 0.5


@dataclass(frozen=True)
class DoubleSupport:
    """Result of :func:`double_support`.

    Attributes
    ----------
    share : float
        Share of the analysed frames with both feet on the ground (NaN if none).
    analysed_s : float
        Duration analysed (frames in long enough, moving stretches), seconds.
    episodes : int
        Number of separate double-support stretches.
    speed_mps : float
        Median speed of travel over the ground (the pelvis relative to the stance
        foot), in body-frame metres per second of video time.
    gait : {"walking", "running", "unknown"}
        What the share says: walking at or above :data:`WALKING_SHARE`, running
        (consistent with a flight phase) at or below :data:`RUNNING_SHARE`, unknown
        in between or when less than :data:`MIN_ANALYSED_S` could be analysed.
    """

    share: float
    analysed_s: float
    episodes: int
    speed_mps: float
    gait: str

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN -> None)."""
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in asdict(self).items()}


def _segments(ok: np.ndarray, jump: np.ndarray, min_len: int) -> list[np.ndarray]:
    """Index arrays of unbroken stretches of ``ok`` frames, split at ``jump`` frames."""
    label = np.cumsum(~ok | jump)
    label[~ok] = -1
    out = []
    for k in np.unique(label[label >= 0]):
        idx = np.flatnonzero(label == k)
        if idx.size >= min_len:
            out.append(idx)
    return out


def _rolling(x: np.ndarray, window: int, q: float) -> np.ndarray:
    """Centred running quantile ``q`` over ``window`` frames (NaN-tolerant)."""
    return pd.Series(x).rolling(window, center=True, min_periods=1).quantile(q).to_numpy()


def double_support(
    body: xr.Dataset,
    *,
    fps: float,
    still_share: float = 0.35,
    lift_m: float = 0.10,
    window_s: float = 1.0,
    min_segment_s: float = 1.0,
    min_speed_mps: float = 0.3,
    max_jump_m: float = 0.3,
) -> DoubleSupport:
    """Share of frames in which both feet are on the ground together.

    Parameters
    ----------
    body : xarray.Dataset
        Body-frame pose dataset (metres, x forward, y up from the ground line), from
        :func:`posecoach.kinematics.to_body_frame` (pan-compensated if the camera
        pans).
    fps : float
        Frame rate of ``body`` (video time).
    still_share : float
        A foot moves with the ground when its heel or toe differs from the ground
        velocity by less than this share of the travel speed.
    lift_m : float
        A foot whose lowest point (heel or toe) is more than this above its usual
        low level (running 25th percentile over ``2 * window_s``) is off the ground.
    window_s : float
        Window of the running estimates of the ground velocity and travel speed; about
        one walking stride.
    min_segment_s : float
        Unbroken stretches (both feet and pelvis seen, no jump) shorter than this are
        left out: too short for a stride.
    min_speed_mps : float
        Frames whose travel speed is below this (standing) are left out.
    max_jump_m : float
        A pelvis jump larger than this between frames (the pose model switching to
        another person) breaks a stretch.

    Returns
    -------
    DoubleSupport

    Notes
    -----
    Per unbroken stretch: the velocity of each foot is the mean of its heel and toe
    horizontal velocities; the ground velocity is the running median
    (:data:`GROUND_Q`) of the slower foot's velocity (the stance foot is the slower
    one, and one foot is on the ground in most frames of both gaits); the travel speed is the
    running median of the pelvis velocity minus the ground velocity. Using the
    feet's velocities relative to each other and to the ground (not absolute image
    velocities) makes the check work on fixed cameras, pan-compensated cameras and
    treadmills, and in slow-motion sections (everything scales with playback
    speed). Leg-label mix-ups do not change the answer as long as a frame's two
    feet stay two feet: the test is symmetric in left and right.
    """
    pos = body["position"]

    def p(name: str, axis: str) -> np.ndarray:
        return pos.sel(keypoint=name, space=axis).to_numpy().astype(float)

    pelvis_x = 0.5 * (p("left_hip", "x") + p("right_hip", "x"))
    heel_v, toe_v, low = {}, {}, {}
    ok = np.isfinite(pelvis_x)
    for side in ("left", "right"):
        heel_v[side] = np.gradient(p(f"{side}_heel", "x")) * fps if len(pelvis_x) > 1 else pelvis_x
        toe_v[side] = np.gradient(p(f"{side}_foot_index", "x")) * fps if len(pelvis_x) > 1 else pelvis_x
        low[side] = np.fmin(p(f"{side}_heel", "y"), p(f"{side}_foot_index", "y"))
        ok &= np.isfinite(heel_v[side]) & np.isfinite(toe_v[side]) & np.isfinite(low[side])
    if len(pelvis_x) < 3:
        return DoubleSupport(float("nan"), 0.0, 0, float("nan"), "unknown")
    pelvis_v = np.gradient(pelvis_x) * fps
    jump = np.abs(np.diff(pelvis_x, prepend=pelvis_x[0])) > max_jump_m
    window = max(3, int(round(window_s * fps)))
    both = np.zeros(len(pelvis_x), dtype=bool)
    used = np.zeros(len(pelvis_x), dtype=bool)
    speeds = []
    for idx in _segments(ok, jump, max(3, int(round(min_segment_s * fps)))):
        foot_v = {s: 0.5 * (heel_v[s][idx] + toe_v[s][idx]) for s in heel_v}
        ground_v = _rolling(np.fmin(foot_v["left"], foot_v["right"]), window, GROUND_Q)
        speed = np.abs(_rolling(pelvis_v[idx] - ground_v, window, 0.5))
        moving = speed > min_speed_mps
        on_ground = {}
        for s in heel_v:
            slip = np.fmin(np.abs(heel_v[s][idx] - ground_v), np.abs(toe_v[s][idx] - ground_v))
            lifted = low[s][idx] - _rolling(low[s][idx], 2 * window, 0.25) > lift_m
            on_ground[s] = (slip < still_share * speed) & ~lifted
        used[idx] = moving
        both[idx] = moving & on_ground["left"] & on_ground["right"]
        speeds.append(speed[moving])
    n = int(used.sum())
    share = float(both.sum() / n) if n else float("nan")
    episodes = int(np.sum(np.diff(both.astype(int), prepend=0) == 1))
    speed_mps = float(np.median(np.concatenate(speeds))) if n else float("nan")
    analysed_s = n / fps
    if analysed_s < MIN_ANALYSED_S or not np.isfinite(share):
        gait = "unknown"
    elif share >= WALKING_SHARE:
        gait = "walking"
    elif share <= RUNNING_SHARE:
        gait = "running"
    else:
        gait = "unknown"
    return DoubleSupport(share, analysed_s, episodes, speed_mps, gait)


def combine(events_gait: str, events_reason: str, check: DoubleSupport) -> tuple[str, str]:
    """The gait classification from the events' answer and the double-support check.

    When the events give an answer (running or walking, from flight time and duty
    factor of complete steps) it is kept. When they give none (too few complete
    steps, as on a walk whose foot barely leaves the ground in 2-D) and the
    double-support check says walking, the clip is walking.

    Parameters
    ----------
    events_gait, events_reason : str
        From :func:`posecoach.metrics.classify_gait`.
    check : DoubleSupport
        From :func:`double_support`.

    Returns
    -------
    gait : {"running", "walking", "unknown"}
    reason : str
    """
    if events_gait == "unknown" and check.gait == "walking":
        return "walking", (
            f"both feet were on the ground together in {percent(check.share)} of {check.analysed_s:.1f} s "
            f"of movement ({check.episodes} times; a run has a flight phase instead): the clip shows "
            "walking, not running"
        )
    return events_gait, events_reason
