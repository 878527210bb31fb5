"""The kinematic model of the synthetic runner and its exact ground truth.

The model lives in a sagittal *world* frame in metres: ``x`` forward (direction of
travel), ``y`` up, the ground at ``y = 0``. :meth:`SyntheticRunner.world_pose_m`
evaluates it at any times; :meth:`SyntheticRunner.generate` samples it at the frame
times, projects it into the image and returns the pose dataset with a
:class:`SyntheticTruth`.

Geometry of one leg, as a function of ``tau``, the time since that leg's initial
contact (IC), over one stride ``T = 2 * step``:

- stance (``0 <= tau <= contact``): the foot is a rigid triangle heel-ankle-toe
  rolling on the ground. Its angle goes from the strike angle to flat (smoothstep,
  reached at ``FOOT_FLAT_AT`` of stance), stays flat, and from ``heel_off_pct`` of
  stance rises quadratically to the toe-off angle. It pivots about the heel while
  toe-up, about the toe (foot_index) while toe-down, so its lowest point is exactly on
  the ground throughout, and the contact point does not slide on the ground. The
  ground moves back at ``speed`` relative to the mid-hip (overground: the hip moves
  forward over a still foot; treadmill: the belt carries the foot back).
- swing (``contact < tau < T``): the ankle, relative to the leg's own hip, follows two
  quintic Hermite segments (TO -> peak heel lift -> IC). At toe-off they match the
  stance motion's position and velocity (C1) with an extra upward acceleration, so the
  toe leaves the ground; at IC the position matches and the foot arrives from above
  (``LANDING_SPEED_MPS`` down) still moving forward over the ground at
  ``LANDING_FORWARD_FRACTION`` of the speed (the contact stops it: an impact, as in
  real running). At peak heel lift the ankle is exactly at the distance from the hip
  that gives ``peak_heel_lift_deg`` of knee flexion, moving at right angles to the
  hip->ankle line. Where the path would reach further than the leg (late swing of an
  over-strider) it is pulled in smoothly (:func:`soft_limit`) to a knee flexion of
  ``MIN_KNEE_FLEXION_DEG``. The foot angle follows one quintic from the toe-off angle
  to the strike angle, reached at ``FOOT_SET_AT`` of swing and held.
- knee: two-link inverse kinematics (thigh, shank), the knee bending forward.
- the mid-hip height is ``h0 - vo/2 * cos(2 pi (t - t_midstance) / step)``; ``h0``
  is solved so that the knee flexion at IC equals the parameter.

Anthropometry: Winter (2009), *Biomechanics and Motor Control of Human Movement*,
4th ed., Fig. 4.1. Quintic Hermite interpolation: e.g. Lynch & Park (2017), *Modern
Robotics*, sec. 9.2 (fifth-order polynomial time scaling with given end velocities
and accelerations).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import brentq, minimize_scalar

from posecoach.dataset import BLAZEPOSE_KEYPOINTS, from_arrays
from posecoach.kinematics import (
    angle_from_down_deg,
    angle_from_ground_deg,
    angle_from_up_deg,
    interior_angle_deg,
)
from posecoach.synthetic.params import (
    ANKLE_AHEAD_OF_HEEL_PER_HEIGHT,
    ANKLE_HEIGHT_PER_HEIGHT,
    EAR_ABOVE_SHOULDER_PER_HEIGHT,
    FOOT_PER_HEIGHT,
    FOREARM_PER_HEIGHT,
    SHANK_PER_HEIGHT,
    THIGH_PER_HEIGHT,
    TRUNK_PER_HEIGHT,
    UPPER_ARM_PER_HEIGHT,
    RunnerParams,
    SyntheticParamsError,
)

#: Fraction of stance at which the foot is flat after IC (heel strike: forefoot down;
#: forefoot strike: heel down).
FOOT_FLAT_AT = 0.20
#: Fraction of swing by which the foot has turned to its strike angle (held until IC).
FOOT_SET_AT = 0.6
#: Fraction of swing at which the heel lift (knee flexion) peaks.
PEAK_LIFT_AT = 0.45
#: Extra upward acceleration of the ankle just after toe-off (m/s^2).
LIFT_ACCEL_MPS2 = 40.0
#: Downward speed of the foot at initial contact (m/s).
LANDING_SPEED_MPS = 0.5
#: Forward speed of the landing foot over the ground just before IC, as a fraction of
#: the running speed (swing-leg retraction has slowed it; the contact stops it).
LANDING_FORWARD_FRACTION = 0.3
#: Half-amplitude of the hips' and shoulders' forward/backward offset from pelvis and
#: shoulder-girdle rotation, as fractions of body height (their midpoints stay exact).
HIP_ROTATION_PER_HEIGHT = 0.006
SHOULDER_ROTATION_PER_HEIGHT = 0.010
#: Mean angle of the upper arm from the trunk (negative = behind).
ARM_MEAN_DEG = -12.0
#: Smallest knee flexion the model accepts anywhere in the cycle (leg must stay reachable).
MIN_KNEE_FLEXION_DEG = 1.0
#: Default scale: body height as a fraction of image height; ground row as a fraction.
BODY_PER_IMAGE_HEIGHT = 0.6
GROUND_ROW_PER_IMAGE_HEIGHT = 0.9
#: Samples per stride used to check the geometry and measure peaks.
_CHECK_SAMPLES = 4000

_KP_INDEX = {name: i for i, name in enumerate(BLAZEPOSE_KEYPOINTS)}


# --------------------------------------------------------------------------------------
# maths
# --------------------------------------------------------------------------------------
def rotate(vec: np.ndarray, angle_rad: np.ndarray | float) -> np.ndarray:
    """Rotate 2-D vectors counter-clockwise (x forward, y up: towards up) by ``angle_rad``.

    Parameters
    ----------
    vec : ndarray, shape (..., 2)
    angle_rad : float or ndarray broadcastable to ``vec[..., 0]``
    """
    vec = np.asarray(vec, dtype=float)
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.stack([c * vec[..., 0] - s * vec[..., 1], s * vec[..., 0] + c * vec[..., 1]], axis=-1)


def smoothstep(s: np.ndarray) -> np.ndarray:
    """Cubic smoothstep ``3 s^2 - 2 s^3`` on ``[0, 1]`` (zero slope at both ends)."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * (3.0 - 2.0 * s)


def quintic_hermite(
    s: np.ndarray,
    duration_s: float,
    p0: np.ndarray,
    v0: np.ndarray,
    a0: np.ndarray,
    p1: np.ndarray,
    v1: np.ndarray,
    a1: np.ndarray,
) -> np.ndarray:
    """Quintic Hermite curve with given end positions, velocities and accelerations.

    The unique fifth-degree polynomial with these six boundary conditions (Lynch &
    Park 2017, *Modern Robotics*, sec. 9.2).

    Parameters
    ----------
    s : ndarray, shape (n,)
        Normalised time in ``[0, 1]``.
    duration_s : float
        Length of the segment in seconds (scales the derivatives).
    p0, v0, a0, p1, v1, a1 : array_like, shape (d,) or scalar
        Position, velocity (per second) and acceleration (per second^2) at both ends.

    Returns
    -------
    ndarray, shape (n, d) or (n,)
    """
    s = np.asarray(s, dtype=float)[:, None]
    h = duration_s
    s2, s3, s4, s5 = s**2, s**3, s**4, s**5
    b0 = 1 - 10 * s3 + 15 * s4 - 6 * s5
    b1 = s - 6 * s3 + 8 * s4 - 3 * s5
    b2 = 0.5 * s2 - 1.5 * s3 + 1.5 * s4 - 0.5 * s5
    b3 = 10 * s3 - 15 * s4 + 6 * s5
    b4 = -4 * s3 + 7 * s4 - 3 * s5
    b5 = 0.5 * s3 - s4 + 0.5 * s5
    terms = (
        b0 * np.atleast_1d(p0)
        + b1 * h * np.atleast_1d(v0)
        + b2 * h * h * np.atleast_1d(a0)
        + b3 * np.atleast_1d(p1)
        + b4 * h * np.atleast_1d(v1)
        + b5 * h * h * np.atleast_1d(a1)
    )
    return terms[:, 0] if np.ndim(p0) == 0 else terms


def two_link_knee(hip: np.ndarray, ankle: np.ndarray, thigh_m: float, shank_m: float) -> np.ndarray:
    """Knee position from hip and ankle by two-link inverse kinematics (law of cosines).

    The knee bends forward (+x). The hip-ankle distance must lie in
    ``[|thigh - shank|, thigh + shank]``.

    Parameters
    ----------
    hip, ankle : ndarray, shape (n, 2)
        World positions (x forward, y up).
    thigh_m, shank_m : float
        Segment lengths.
    """
    r = ankle - hip
    d = np.hypot(r[:, 0], r[:, 1])
    cos_g = (thigh_m**2 + d**2 - shank_m**2) / (2.0 * thigh_m * d)
    gamma = np.arccos(np.clip(cos_g, -1.0, 1.0))
    return hip + thigh_m * rotate(r / d[:, None], gamma)


def knee_flexion_for_distance_deg(d_m: np.ndarray, thigh_m: float, shank_m: float) -> np.ndarray:
    """Knee flexion (180 - interior angle) for a hip-ankle distance (law of cosines)."""
    cos_int = (thigh_m**2 + shank_m**2 - np.asarray(d_m) ** 2) / (2.0 * thigh_m * shank_m)
    return 180.0 - np.degrees(np.arccos(np.clip(cos_int, -1.0, 1.0)))


def distance_for_knee_flexion_m(knee_flexion_deg: float, thigh_m: float, shank_m: float) -> float:
    """Hip-ankle distance giving a knee flexion (inverse of the function above)."""
    k = math.radians(knee_flexion_deg)
    return math.sqrt(thigh_m**2 + shank_m**2 + 2.0 * thigh_m * shank_m * math.cos(k))


def soft_limit(d: np.ndarray, knee: float, limit: float) -> np.ndarray:
    """Identity below ``knee``, then a tanh saturation approaching ``limit`` (C2 at knee).

    ``f(d) = knee + (limit - knee) * tanh((d - knee) / (limit - knee))`` for ``d > knee``:
    value, slope (1) and curvature (0) match the identity at ``knee``, and ``f < limit``.
    """
    d = np.asarray(d, dtype=float)
    span = max(limit - knee, 1e-12)
    return np.where(d <= knee, d, knee + span * np.tanh((d - knee) / span))


def _direction_from_down(angle_rad: np.ndarray) -> np.ndarray:
    """Unit vector at ``angle_rad`` from the downward vertical, positive forward."""
    return np.stack([np.sin(angle_rad), -np.cos(angle_rad)], axis=-1)


def _jperp(vec: np.ndarray) -> np.ndarray:
    """Rotate by +90 deg: (x, y) -> (-y, x)."""
    return np.stack([-vec[..., 1], vec[..., 0]], axis=-1)


# --------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------
@dataclass
class SyntheticTruth:
    """Exact ground truth of one generated run.

    Times are continuous (exact), angles in degrees with the conventions of
    ``docs/architecture.md`` / :mod:`posecoach.kinematics`, measured on the model's own
    geometry in the world frame (so a tilted camera does not change them). Every step
    is identical, so each metric is one number.

    Attributes
    ----------
    events : pandas.DataFrame
        Columns ``side`` ("left"/"right"), ``kind`` ("initial_contact"/"toe_off"),
        ``time_s`` (exact) and ``frame`` (0-based index of the first frame at or after
        the event), sorted by time; only events within the clip's time span.
    cadence_spm, ground_contact_ms, flight_ms, step_time_ms, stride_time_ms : float
    duty_factor_pct : float
        Contact time / stride time * 100.
    vertical_oscillation_cm : float
        Peak-to-peak of the mid-hip height (continuous model).
    foot_strike_angle_deg, overstride_cm, shank_angle_ic_deg, knee_flexion_ic_deg : float
        At initial contact (exact event time).
    peak_knee_flexion_swing_deg : float
        Largest knee flexion in swing (the peak heel lift).
    toe_off_foot_angle_deg : float
        Foot angle at toe-off.
    trunk_lean_deg, elbow_angle_deg : float
    step_length_m, speed_mps : float
    hip_height_m : float
        Mean mid-hip height above the ground.
    height_m, leg_length_m, thigh_length_m, shank_length_m, foot_length_m : float
        ``leg_length_m`` = thigh + shank (hip -> knee -> ankle) = 0.491 height.
    px_per_m : float
        Image scale.
    facing, setting, near_side : str
    ground_y_px, ground_slope, ground_x0_px : float
        The ground line ``y = ground_y_px + ground_slope * (x - ground_x0_px)`` (as in
        :func:`posecoach.kinematics.to_body_frame`); ``ground_tilt_deg`` its angle.
    ground_tilt_deg : float
    ground_line_px : tuple of float
        ``(x0, y0, x1, y1)``: the ground line across the whole image width.
    image_width_px, image_height_px : int
    runner_bbox_px : tuple of float
        ``(x_min, y_min, x_max, y_max)`` of all keypoints over the run: the image
        region the runner uses.
    fps, duration_s : float
    n_frames : int
    metrics : dict of str to float
        Every per-step metric of ``docs/conventions.md`` that the model defines, by its
        name there (see :meth:`SyntheticRunner.stride_metrics`); includes the values
        above, plus e.g. ``peak_knee_flexion_stance_deg``, ``pull_time_ms``,
        ``heel_to_buttock_cm``, ``body_lean_deg``, ``fall_angle_to_deg``.
    params : dict
        The :class:`RunnerParams` used.
    """

    events: pd.DataFrame
    cadence_spm: float
    ground_contact_ms: float
    flight_ms: float
    step_time_ms: float
    stride_time_ms: float
    duty_factor_pct: float
    vertical_oscillation_cm: float
    foot_strike_angle_deg: float
    overstride_cm: float
    shank_angle_ic_deg: float
    knee_flexion_ic_deg: float
    peak_knee_flexion_swing_deg: float
    toe_off_foot_angle_deg: float
    trunk_lean_deg: float
    elbow_angle_deg: float
    step_length_m: float
    speed_mps: float
    hip_height_m: float
    height_m: float
    leg_length_m: float
    thigh_length_m: float
    shank_length_m: float
    foot_length_m: float
    px_per_m: float
    facing: str
    setting: str
    near_side: str
    ground_y_px: float
    ground_slope: float
    ground_x0_px: float
    ground_tilt_deg: float
    ground_line_px: tuple[float, float, float, float]
    image_width_px: int
    image_height_px: int
    runner_bbox_px: tuple[float, float, float, float]
    fps: float
    duration_s: float
    n_frames: int
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def events_of(self, side: str, kind: str) -> np.ndarray:
        """Exact times (s) of one side's events of one kind, ascending."""
        ev = self.events
        return ev.loc[(ev["side"] == side) & (ev["kind"] == kind), "time_s"].to_numpy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON representation (events as a list of records)."""
        out = {k: v for k, v in asdict(self).items() if k != "events"}
        out["ground_line_px"] = list(self.ground_line_px)
        out["runner_bbox_px"] = list(self.runner_bbox_px)
        out["events"] = [
            {
                "side": str(r.side),
                "kind": str(r.kind),
                "time_s": float(r.time_s),
                "frame": int(r.frame),
            }
            for r in self.events.itertuples(index=False)
        ]
        return out


class SyntheticRunner:
    """A 2-D sagittal kinematic runner with exact ground truth.

    Parameters
    ----------
    params : RunnerParams
        Body, gait, style and camera (see :class:`RunnerParams`).

    Raises
    ------
    SyntheticParamsError
        If a parameter is out of range or the gait is geometrically impossible (e.g.
        the foot would have to be further behind the hip at toe-off than the leg
        reaches), with a hint which parameter to change.

    Attributes
    ----------
    thigh_m, shank_m, foot_m : float
        Segment lengths from the body height.
    hip_height_m : float
        Mean mid-hip height (solved from ``knee_flexion_ic_deg``).
    """

    def __init__(self, params: RunnerParams | None = None) -> None:
        self.params = (params if params is not None else RunnerParams()).validate()
        p = self.params
        h = p.height_m
        self.thigh_m = THIGH_PER_HEIGHT * h
        self.shank_m = SHANK_PER_HEIGHT * h
        self.trunk_m = TRUNK_PER_HEIGHT * h
        self.upper_arm_m = UPPER_ARM_PER_HEIGHT * h
        self.forearm_m = FOREARM_PER_HEIGHT * h
        self.foot_m = FOOT_PER_HEIGHT * h
        self.ankle_local = np.array(
            [ANKLE_AHEAD_OF_HEEL_PER_HEIGHT * h, ANKLE_HEIGHT_PER_HEIGHT * h]
        )
        self.step_s = p.step_time_s
        self.stride_s = p.stride_time_s
        self.contact_s = p.ground_contact_ms / 1000.0
        self.swing_s = self.stride_s - self.contact_s
        self.v = p.speed_mps
        self.vo_m = p.vertical_oscillation_cm / 100.0
        self.hip_rot_m = HIP_ROTATION_PER_HEIGHT * h
        self.theta_ic = math.radians(p.foot_strike_angle_deg)
        self.theta_to = math.radians(p.toe_off_foot_angle_deg)
        self._setup_stance()
        self._setup_swing()
        self._check_geometry()

    # -- pelvis ---------------------------------------------------------------------------
    def _pelvis_y(self, tau: np.ndarray, order: int = 0) -> np.ndarray:
        """Mid-hip height (or its derivative) at ``tau`` after a leg's IC."""
        w = 2.0 * math.pi / self.step_s
        a = 0.5 * self.vo_m
        ph = w * (np.asarray(tau, dtype=float) - 0.5 * self.contact_s)
        if order == 0:
            return self.hip_height_m - a * np.cos(ph)
        if order == 1:
            return a * w * np.sin(ph)
        return a * w * w * np.cos(ph)

    def _hip_dx(self, tau: np.ndarray, order: int = 0) -> np.ndarray:
        """Forward offset of a leg's hip joint from the mid-hip (pelvis rotation)."""
        w = 2.0 * math.pi / self.stride_s
        ph = w * np.asarray(tau, dtype=float)
        c = self.hip_rot_m
        return (c * np.cos(ph), -c * w * np.sin(ph), -c * w * w * np.cos(ph))[order]

    # -- stance ---------------------------------------------------------------------------
    def _setup_stance(self) -> None:
        lf, a = self.foot_m, self.ankle_local
        os_m = self.params.overstride_cm / 100.0
        if self.theta_ic >= 0.0:  # heel first: ankle = heel + R a
            self.g_heel = os_m - rotate(a, self.theta_ic)[0]
            self.g_toe = self.g_heel + lf
        else:  # toe first: ankle = toe + R (a - (lf, 0))
            self.g_toe = os_m - rotate(a - [lf, 0.0], self.theta_ic)[0]
            self.g_heel = self.g_toe - lf
        self.t_flat = FOOT_FLAT_AT * self.contact_s
        self.t_heel_off = self.params.heel_off_pct / 100.0 * self.contact_s
        # hip height from the knee flexion at IC (own hip, law of cosines)
        ankle_ic_y = self._stance_foot(np.array([0.0]))[1][0, 1]
        d_ic = distance_for_knee_flexion_m(
            self.params.knee_flexion_ic_deg, self.thigh_m, self.shank_m
        )
        dx = os_m - self.hip_rot_m
        if d_ic <= abs(dx) + 1e-6:
            raise SyntheticParamsError(
                f"overstride_cm={self.params.overstride_cm:g} is more than the leg can reach with "
                f"{self.params.knee_flexion_ic_deg:g} deg knee flexion; lower overstride_cm or "
                "knee_flexion_ic_deg"
            )
        hip_ic = ankle_ic_y + math.sqrt(d_ic**2 - dx**2)
        self.hip_height_m = 0.0  # provisional, so _pelvis_y gives the offset alone
        self.hip_height_m = hip_ic - float(self._pelvis_y(np.array([0.0]))[0])

    def _stance_theta(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Foot angle (rad) in stance and its first two time derivatives."""
        tau = np.asarray(tau, dtype=float)
        th = np.zeros_like(tau)
        d1 = np.zeros_like(tau)
        d2 = np.zeros_like(tau)
        p1 = tau < self.t_flat
        s = tau[p1] / self.t_flat
        th[p1] = self.theta_ic * (1.0 - smoothstep(s))
        d1[p1] = -self.theta_ic * (6 * s - 6 * s * s) / self.t_flat
        d2[p1] = -self.theta_ic * (6 - 12 * s) / self.t_flat**2
        p3 = tau > self.t_heel_off
        span = self.contact_s - self.t_heel_off
        u = (tau[p3] - self.t_heel_off) / span
        th[p3] = self.theta_to * u * u
        d1[p3] = 2 * self.theta_to * u / span
        d2[p3] = 2 * self.theta_to / span**2
        return th, d1, d2

    def _stance_foot(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Heel, ankle, toe in stance: x relative to the mid-hip, y above ground."""
        tau = np.asarray(tau, dtype=float)
        th = self._stance_theta(tau)[0]
        lf, a = self.foot_m, self.ankle_local
        on_heel = (th > 0.0) | ((th == 0.0) & (tau <= self.t_heel_off))
        shift = -self.v * tau
        pivot_x = np.where(on_heel, self.g_heel, self.g_toe) + shift
        pivot_local = np.where(on_heel[:, None], [0.0, 0.0], [lf, 0.0])
        heel = np.stack([pivot_x, np.zeros_like(tau)], axis=-1) - rotate(pivot_local, th)
        ankle = heel + rotate(np.broadcast_to(a, heel.shape), th)
        toe = heel + rotate(np.broadcast_to([lf, 0.0], heel.shape), th)
        return heel, ankle, toe

    def _stance_end_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ankle position, velocity, acceleration at toe-off (x rel. mid-hip, y abs)."""
        tc = np.array([self.contact_s])
        th, d1, d2 = (x[0] for x in self._stance_theta(tc))
        q = rotate(self.ankle_local - [self.foot_m, 0.0], th)  # toe -> ankle
        pos = self._stance_foot(tc)[1][0]
        vel = d1 * _jperp(q) + [-self.v, 0.0]
        acc = d2 * _jperp(q) - d1 * d1 * q
        return pos, vel, acc

    # -- swing ----------------------------------------------------------------------------
    def _to_own_hip(self, tau: float, pos, vel, acc):
        """Convert ankle state (x rel. mid-hip, y abs) to coordinates rel. the own hip."""
        hip = np.array([self._hip_dx(tau, 0), self._pelvis_y(tau, 0)], dtype=float)
        hip_v = np.array([self._hip_dx(tau, 1), self._pelvis_y(tau, 1)], dtype=float)
        hip_a = np.array([self._hip_dx(tau, 2), self._pelvis_y(tau, 2)], dtype=float)
        return np.asarray(pos) - hip, np.asarray(vel) - hip_v, np.asarray(acc) - hip_a

    def _setup_swing(self) -> None:
        p = self.params
        tc, big_t = self.contact_s, self.stride_s
        pos, vel, acc = self._stance_end_state()
        self._sw_to = self._to_own_hip(tc, pos, vel, acc + [0.0, LIFT_ACCEL_MPS2])
        ic_pos = self._stance_foot(np.array([0.0]))[1][0]
        self._sw_ic = self._to_own_hip(
            big_t,
            ic_pos,
            np.array([(LANDING_FORWARD_FRACTION - 1.0) * self.v, -LANDING_SPEED_MPS]),
            np.zeros(2),
        )
        self.t_peak = tc + PEAK_LIFT_AT * self.swing_s
        # the swing leg may extend at most to MIN_KNEE_FLEXION_DEG; paths reaching further
        # (late swing, before the foot retracts) are pulled in smoothly by soft_limit
        self._reach_max_m = distance_for_knee_flexion_m(
            MIN_KNEE_FLEXION_DEG, self.thigh_m, self.shank_m
        )
        self._reach_knee_m = max(np.hypot(*self._sw_to[0]), np.hypot(*self._sw_ic[0]))
        d_min = distance_for_knee_flexion_m(p.peak_heel_lift_deg, self.thigh_m, self.shank_m)
        qx = -p.heel_lift_behind_hip_cm / 100.0 - float(self._hip_dx(self.t_peak))
        if d_min <= abs(qx) + 1e-3:
            raise SyntheticParamsError(
                f"heel_lift_behind_hip_cm={p.heel_lift_behind_hip_cm:g} cannot be reached with "
                f"{p.peak_heel_lift_deg:g} deg peak knee flexion; lower heel_lift_behind_hip_cm "
                "or peak_heel_lift_deg"
            )
        q_pk = np.array([qx, -math.sqrt(d_min**2 - qx**2)])
        tangent = np.array([-q_pk[1], q_pk[0]]) / d_min  # at right angles, pointing forward
        speed = (self._sw_ic[0][0] - q_pk[0]) / (big_t - self.t_peak)
        self._sw_pk = (q_pk, max(speed, 0.0) * tangent, np.zeros(2))

    def _swing_foot(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Heel, ankle, toe in swing: x relative to the mid-hip, y above ground."""
        tau = np.asarray(tau, dtype=float)
        tc, big_t, tp = self.contact_s, self.stride_s, self.t_peak
        q = np.empty((tau.size, 2))
        first = tau <= tp
        for mask, (a, b, t0, t1) in (
            (first, (self._sw_to, self._sw_pk, tc, tp)),
            (~first, (self._sw_pk, self._sw_ic, tp, big_t)),
        ):
            if mask.any():
                s = (tau[mask] - t0) / (t1 - t0)
                q[mask] = quintic_hermite(s, t1 - t0, a[0], a[1], a[2], b[0], b[1], b[2])
        d = np.hypot(q[:, 0], q[:, 1])
        q *= (soft_limit(d, self._reach_knee_m, self._reach_max_m) / d)[:, None]
        ankle = q + np.stack([self._hip_dx(tau), self._pelvis_y(tau)], axis=-1)
        _, d1, d2 = (x[0] for x in self._stance_theta(np.array([tc])))
        t_set = FOOT_SET_AT * self.swing_s
        th = quintic_hermite(
            np.clip((tau - tc) / t_set, 0.0, 1.0),
            t_set,
            self.theta_to,
            d1,
            d2,
            self.theta_ic,
            0.0,
            0.0,
        )
        a = self.ankle_local
        heel = ankle + rotate(np.broadcast_to(-a, ankle.shape), th)
        toe = ankle + rotate(np.broadcast_to([self.foot_m - a[0], -a[1]], ankle.shape), th)
        return heel, ankle, toe

    def leg_cycle(self, tau: np.ndarray) -> dict[str, np.ndarray]:
        """One leg over its stride, as a function of the time since its IC.

        Parameters
        ----------
        tau : ndarray, shape (n,)
            Time since the leg's initial contact, taken modulo the stride time.

        Returns
        -------
        dict of ndarray
            ``hip``, ``knee``, ``ankle``, ``heel``, ``foot_index`` (n, 2): x relative to
            the mid-hip, y above the ground (m); ``stance`` (n,) bool.
        """
        tau = np.mod(np.asarray(tau, dtype=float), self.stride_s)
        stance = tau <= self.contact_s
        heel = np.empty((tau.size, 2))
        ankle = np.empty((tau.size, 2))
        toe = np.empty((tau.size, 2))
        for mask, fn in ((stance, self._stance_foot), (~stance, self._swing_foot)):
            if mask.any():
                heel[mask], ankle[mask], toe[mask] = fn(tau[mask])
        hip = np.stack([self._hip_dx(tau), self._pelvis_y(tau)], axis=-1)
        knee = two_link_knee(hip, ankle, self.thigh_m, self.shank_m)
        return {
            "hip": hip,
            "knee": knee,
            "ankle": ankle,
            "heel": heel,
            "foot_index": toe,
            "stance": stance,
        }

    def _check_geometry(self) -> None:
        tau = np.linspace(0.0, self.stride_s, _CHECK_SAMPLES, endpoint=False)
        leg = self.leg_cycle(tau)
        r = leg["ankle"] - leg["hip"]
        kf = knee_flexion_for_distance_deg(np.hypot(r[:, 0], r[:, 1]), self.thigh_m, self.shank_m)
        stance = leg["stance"]
        if kf[stance].min() < MIN_KNEE_FLEXION_DEG:
            p = self.params
            raise SyntheticParamsError(
                "the stance leg cannot reach the foot (the ground moves "
                f"{p.speed_mps * self.contact_s:.2f} m under the hip during "
                f"{p.ground_contact_ms:g} ms of contact at {p.speed_mps:g} m/s): lower speed_mps "
                "or ground_contact_ms, raise knee_flexion_ic_deg, or lower heel_off_pct"
            )
        ankle_to = self._stance_foot(np.array([self.contact_s]))[1][0, 0]
        if ankle_to >= 0.0:
            raise SyntheticParamsError(
                f"the support ankle is still {100 * ankle_to:.1f} cm ahead of the hip at toe-off, "
                "so the body never passes over the foot: lower overstride_cm, or raise "
                "speed_mps or ground_contact_ms"
            )
        swing = ~leg["stance"]
        lowest = np.minimum(leg["heel"][swing, 1], leg["foot_index"][swing, 1])
        if lowest.min() <= 0.0:
            raise SyntheticParamsError(
                "the swing foot would touch the ground between toe-off and the next contact; "
                "raise peak_heel_lift_deg or lower heel_lift_behind_hip_cm"
            )

    # -- whole body -----------------------------------------------------------------------
    def pelvis_x_m(self, time_s: np.ndarray) -> np.ndarray:
        """World x of the mid-hip: ``speed * t`` overground, 0 on a treadmill."""
        t = np.asarray(time_s, dtype=float)
        return self.v * t if self.params.setting == "overground" else np.zeros_like(t)

    def tau_of(self, time_s: np.ndarray, side: str) -> np.ndarray:
        """Time since the last initial contact of ``side`` (modulo the stride)."""
        t0 = self.params.first_contact_s + (0.0 if side == "right" else self.step_s)
        return np.mod(np.asarray(time_s, dtype=float) - t0, self.stride_s)

    def world_pose_m(self, time_s: np.ndarray) -> np.ndarray:
        """All 33 BlazePose keypoints in the world frame at any times.

        Parameters
        ----------
        time_s : array_like, shape (n,)

        Returns
        -------
        ndarray, shape (n, 33, 2)
            Metres, x forward (overground: the ground is still and the runner moves;
            treadmill: the mid-hip stays at x = 0), y up from the ground.
        """
        p = self.params
        t = np.atleast_1d(np.asarray(time_s, dtype=float))
        n = t.size
        out = np.full((n, len(BLAZEPOSE_KEYPOINTS), 2), np.nan)
        px = self.pelvis_x_m(t)
        offset = np.stack([px, np.zeros(n)], axis=-1)
        lean = math.radians(p.trunk_lean_deg)
        mid_hip = np.stack([px, self._pelvis_y(self.tau_of(t, "right"))], axis=-1)
        up = np.array([math.sin(lean), math.cos(lean)])
        fwd_trunk = np.array([math.cos(lean), -math.sin(lean)])
        mid_sh = mid_hip + self.trunk_m * up
        omega = 2.0 * math.pi / self.stride_s
        h = p.height_m
        for side in ("left", "right"):
            tau = self.tau_of(t, side)
            leg = self.leg_cycle(tau)
            for name in ("hip", "knee", "ankle", "heel", "foot_index"):
                out[:, _KP_INDEX[f"{side}_{name}"]] = leg[name] + offset
            # arm: most backward at the same side's IC (opposite the leg)
            swing = -np.cos(omega * tau)
            shoulder = mid_sh + (SHOULDER_ROTATION_PER_HEIGHT * h * swing)[:, None] * fwd_trunk
            alpha = lean + math.radians(ARM_MEAN_DEG) + 0.5 * math.radians(p.arm_swing_deg) * swing
            elbow = shoulder + self.upper_arm_m * _direction_from_down(alpha)
            fa = alpha + math.pi - math.radians(p.elbow_angle_deg)
            wrist = elbow + self.forearm_m * _direction_from_down(fa)
            hand = {
                "index": wrist + 0.050 * h * _direction_from_down(fa + math.radians(10)),
                "pinky": wrist + 0.045 * h * _direction_from_down(fa - math.radians(10)),
                "thumb": wrist + 0.035 * h * _direction_from_down(fa + math.radians(35)),
            }
            for name, xy in (
                ("shoulder", shoulder),
                ("elbow", elbow),
                ("wrist", wrist),
                *hand.items(),
            ):
                out[:, _KP_INDEX[f"{side}_{name}"]] = xy
        # head: leans half as much as the trunk
        hl = 0.5 * lean
        hu = np.array([math.sin(hl), math.cos(hl)])
        hf = np.array([math.cos(hl), -math.sin(hl)])
        ear = mid_sh + EAR_ABOVE_SHOULDER_PER_HEIGHT * h * hu
        head = {
            "nose": (0.060, -0.012),
            "left_eye_inner": (0.052, 0.012),
            "left_eye": (0.045, 0.012),
            "left_eye_outer": (0.038, 0.012),
            "right_eye_inner": (0.052, 0.012),
            "right_eye": (0.045, 0.012),
            "right_eye_outer": (0.038, 0.012),
            "left_ear": (0.0, 0.0),
            "right_ear": (0.0, 0.0),
            "mouth_left": (0.048, -0.035),
            "mouth_right": (0.048, -0.035),
        }
        for name, (f, u) in head.items():
            out[:, _KP_INDEX[name]] = ear + h * (f * hf + u * hu)
        return out

    # -- sampling -------------------------------------------------------------------------
    def events(self, start_s: float, end_s: float) -> pd.DataFrame:
        """Exact gait events with ``start_s <= time_s <= end_s`` (no ``frame`` column)."""
        rows = []
        for side in ("right", "left"):
            t0 = self.params.first_contact_s + (0.0 if side == "right" else self.step_s)
            k0 = math.floor((start_s - t0) / self.stride_s) - 1
            k1 = math.ceil((end_s - t0) / self.stride_s) + 1
            for k in range(k0, k1 + 1):
                ic = t0 + k * self.stride_s
                for kind, tt in (("initial_contact", ic), ("toe_off", ic + self.contact_s)):
                    if start_s - 1e-12 <= tt <= end_s + 1e-12:
                        rows.append((side, kind, tt))
        df = pd.DataFrame(rows, columns=["side", "kind", "time_s"])
        return df.sort_values("time_s", kind="stable").reset_index(drop=True)

    def _body(self, time_s: np.ndarray) -> dict[str, np.ndarray]:
        """World keypoints by name (plus ``mid_hip``, ``mid_shoulder``) at given times."""
        w = self.world_pose_m(np.atleast_1d(np.asarray(time_s, dtype=float)))
        out = {name: w[:, i] for name, i in _KP_INDEX.items()}
        out["mid_hip"] = 0.5 * (out["left_hip"] + out["right_hip"])
        out["mid_shoulder"] = 0.5 * (out["left_shoulder"] + out["right_shoulder"])
        return out

    def midstance_s(self) -> float:
        """Time after IC at which the mid-hip passes over the support ankle (0 if it never
        does, i.e. the foot lands under or behind the hip); see ``docs/conventions.md``.
        """
        t_ic = self.params.first_contact_s

        def ahead(tau: float) -> float:
            b = self._body(np.array([t_ic + tau]))
            return float(b["right_ankle"][0, 0] - b["mid_hip"][0, 0])

        if ahead(0.0) <= 0.0:
            return 0.0
        return float(brentq(ahead, 0.0, self.contact_s, xtol=1e-12))

    def stride_metrics(self, samples: int = 4000) -> dict[str, float]:
        """Every per-step metric of ``docs/conventions.md`` the model defines, measured.

        Measured on the model's geometry (world frame, right foot; the left is the
        same half a stride later) at the exact event times, and on a dense grid of
        ``samples`` points per stride for extrema, with the angle functions of
        :mod:`posecoach.kinematics`. Extreme values are refined with a bounded Brent
        search, so they are exact to ~1e-9 s / deg.

        Returns
        -------
        dict of str to float
            Keyed by the metric names of ``docs/conventions.md``.
        """
        p = self.params
        t_ic = p.first_contact_s
        tc, big_t = self.contact_s, self.stride_s
        leg_m = self.thigh_m + self.shank_m

        def knee_flex(b: dict[str, np.ndarray]) -> np.ndarray:
            return 180.0 - interior_angle_deg(b["right_hip"], b["right_knee"], b["right_ankle"])

        def dorsi(b: dict[str, np.ndarray]) -> np.ndarray:
            shank = b["right_knee"] - b["right_ankle"]
            foot = b["right_foot_index"] - b["right_heel"]
            cross = shank[:, 0] * foot[:, 1] - shank[:, 1] * foot[:, 0]
            dot = (shank * foot).sum(axis=-1)
            return 90.0 - np.degrees(np.abs(np.arctan2(cross, dot)))

        def hip_flex(b: dict[str, np.ndarray]) -> np.ndarray:
            trunk_down = b["mid_hip"] - b["mid_shoulder"]
            axis = np.degrees(np.arctan2(trunk_down[:, 0], -trunk_down[:, 1]))
            return angle_from_down_deg(b["right_hip"], b["right_knee"]) - axis

        def heel_hip(b: dict[str, np.ndarray]) -> np.ndarray:
            return np.hypot(*(b["right_heel"] - b["right_hip"]).T)

        def extreme(fn, lo: float, hi: float, sign: float) -> tuple[float, float]:
            """Max (sign=+1) or min (sign=-1) of fn over [lo, hi] after IC: (tau, value)."""
            tau = np.linspace(lo, hi, max(64, int(samples * (hi - lo) / big_t)))
            vals = sign * fn(self._body(t_ic + tau))
            k = int(np.argmax(vals))
            a, b = tau[max(k - 1, 0)], tau[min(k + 1, tau.size - 1)]
            res = minimize_scalar(
                lambda x: -sign * float(fn(self._body(np.array([t_ic + x])))[0]),
                bounds=(a, b),
                method="bounded",
                options={"xatol": 1e-10},
            )
            best_tau, best = (res.x, -res.fun) if -res.fun >= vals[k] else (tau[k], vals[k])
            return float(best_tau), float(sign * best)

        ic = self._body(np.array([t_ic]))
        to = self._body(np.array([t_ic + tc]))
        t_ms = self.midstance_s()
        ms = self._body(np.array([t_ic + t_ms]))
        # the landing foot's horizontal speed relative to the mid-hip just before IC
        eps = 1e-6
        pre = self._body(np.array([t_ic - eps, t_ic - 2 * eps]))
        foot_speed = (
            (pre["right_ankle"] - pre["mid_hip"])[0, 0]
            - (pre["right_ankle"] - pre["mid_hip"])[1, 0]
        ) / eps
        t_pk, kf_swing = extreme(knee_flex, tc, big_t, +1.0)
        kf_design = float(knee_flex(self._body(np.array([t_ic + self.t_peak])))[0])
        if kf_design >= kf_swing - 1e-9:  # the designed peak is the maximum: take it exactly
            t_pk, kf_swing = self.t_peak, max(kf_design, kf_swing)
        pk = self._body(np.array([t_ic + t_pk]))
        tau = np.linspace(0.0, big_t, samples, endpoint=False)
        whole = self._body(t_ic + tau)
        torso = whole["mid_shoulder"][:, 1] - whole["mid_hip"][:, 1]
        wrists = np.concatenate(
            [
                (whole[f"{s}_wrist"][:, 1] - whole["mid_hip"][:, 1]) / torso
                for s in ("left", "right")
            ]
        )
        stance = tau <= tc
        dors = dorsi(self._body(t_ic + tau[stance]))
        step_length = self.v * self.step_s
        return {
            "ground_contact_ms": 1000.0 * tc,
            "step_time_ms": 1000.0 * self.step_s,
            "stride_time_ms": 1000.0 * big_t,
            "cadence_spm": 60.0 / self.step_s,
            "flight_ms": 1000.0 * (self.step_s - tc),
            "duty_factor_pct": 100.0 * tc / big_t,
            "speed_mps": self.v,
            "step_length_m": step_length,
            # sinusoid of the mid-hip (and the rigid head above it): exact peak-to-peak
            "vertical_oscillation_cm": 100.0 * self.vo_m,
            "vertical_ratio_pct": 100.0 * self.vo_m / step_length,
            "foot_strike_angle_deg": float(
                angle_from_ground_deg(ic["right_heel"], ic["right_foot_index"])[0]
            ),
            "overstride_cm": float(100.0 * (ic["right_ankle"][0, 0] - ic["mid_hip"][0, 0])),
            "overstride_pct_leg": float(
                100.0 * (ic["right_ankle"][0, 0] - ic["mid_hip"][0, 0]) / leg_m
            ),
            "shank_angle_ic_deg": float(
                angle_from_down_deg(ic["right_knee"], ic["right_ankle"])[0]
            ),
            "knee_flexion_ic_deg": float(knee_flex(ic)[0]),
            "peak_knee_flexion_stance_deg": extreme(knee_flex, 0.0, tc, +1.0)[1],
            "min_knee_flexion_late_stance_deg": extreme(knee_flex, t_ms, tc, -1.0)[1],
            "peak_knee_flexion_swing_deg": kf_swing,
            "peak_hip_flexion_swing_deg": extreme(hip_flex, tc, big_t, +1.0)[1],
            "pull_time_ms": 1000.0 * (t_pk - tc),
            "ankle_under_hip_pct_leg": float(
                100.0 * (pk["right_ankle"][0, 0] - pk["mid_hip"][0, 0]) / leg_m
            ),
            "heel_to_buttock_cm": 100.0 * extreme(heel_hip, tc, big_t, -1.0)[1],
            "ankle_range_stance_deg": float(np.ptp(dors)),
            "ankle_plantarflexion_to_deg": float(-dorsi(to)[0]),
            "late_stance_ms": 1000.0 * (tc - t_ms),
            "heel_height_midstance_cm": float(100.0 * ms["right_heel"][0, 1]),
            "foot_speed_rel_hip_ic_mps": float(foot_speed),
            "trunk_lean_deg": float(angle_from_up_deg(ms["mid_hip"], ms["mid_shoulder"])[0]),
            "body_lean_deg": float(angle_from_up_deg(ms["right_ankle"], ms["mid_shoulder"])[0]),
            "hip_bend_midstance_deg": float(
                angle_from_up_deg(ms["mid_hip"], ms["mid_shoulder"])[0]
                - angle_from_up_deg(ms["right_ankle"], ms["mid_hip"])[0]
            ),
            "shoulder_ahead_of_ankle_midstance_cm": float(
                100.0 * (ms["mid_shoulder"][0, 0] - ms["right_ankle"][0, 0])
            ),
            "fall_angle_to_deg": float(angle_from_up_deg(to["right_foot_index"], to["mid_hip"])[0]),
            "elbow_angle_deg": float(
                interior_angle_deg(ic["right_shoulder"], ic["right_elbow"], ic["right_wrist"])[0]
            ),
            "wrist_height_pct_torso": float(100.0 * np.median(wrists)),
            # the upper arm's angle is a cosine with this peak-to-peak (its dense range is
            # the same up to sampling)
            "arm_swing_deg": float(p.arm_swing_deg),
            "head_vertical_motion_cm": 100.0 * self.vo_m,
            "toe_off_foot_angle_deg": float(
                angle_from_ground_deg(to["right_heel"], to["right_foot_index"])[0]
            ),
            "midstance_ms": 1000.0 * t_ms,
        }

    def _confidence(self, n: int, fps: float, rng: np.random.Generator) -> np.ndarray:
        """BlazePose-like visibility: near side ~0.97, far side lower, slowly varying."""
        near = self.params.near_side
        far = "left" if near == "right" else "right"
        base = np.full(len(BLAZEPOSE_KEYPOINTS), 0.97)
        spread = np.full(len(BLAZEPOSE_KEYPOINTS), 0.015)
        for i, name in enumerate(BLAZEPOSE_KEYPOINTS):
            if name.startswith(far + "_"):
                base[i], spread[i] = self.params.far_side_confidence, 0.05
                if name == f"{far}_ear":  # hidden behind the head
                    base[i] = 0.5 * self.params.far_side_confidence
        base[_KP_INDEX["nose"]] = 0.99
        noise = rng.standard_normal((n, len(base)))
        if n > 1:
            noise = gaussian_filter1d(noise, sigma=max(1.0, 0.1 * fps), axis=0, mode="nearest")
            noise /= np.maximum(noise.std(axis=0, keepdims=True), 1e-9)
        return np.clip(base + spread * noise, 0.01, 0.999)

    def generate(
        self,
        duration_s: float = 10.0,
        fps: float = 60.0,
        image_size_px: tuple[int, int] = (1280, 720),
        seed: int = 0,
        *,
        px_per_m: float | None = None,
    ) -> tuple[xr.Dataset, SyntheticTruth]:
        """Sample the runner at the frame times and project it into the image.

        Parameters
        ----------
        duration_s : float
            Length of the clip; ``round(duration_s * fps)`` frames at ``t = k / fps``.
        fps : float
            Frame rate.
        image_size_px : (int, int)
            Image ``(width, height)``.
        seed : int
            Seeds the confidence noise (the geometry is exact and has no noise;
            add it with :func:`posecoach.synthetic.add_faults`).
        px_per_m : float, optional
            Image scale. Default: the body is 60 % of the image height, reduced if
            needed so the whole run (overground: the whole distance covered) fits in
            the image.

        Returns
        -------
        ds : xarray.Dataset
            Pose dataset (:mod:`posecoach.dataset`), ``source_software =
            "posecoach-synthetic"``; attrs also hold ``facing``, ``setting``,
            ``px_per_m`` and the ground line (``ground_y_px``, ``ground_slope``,
            ``ground_x0_px``).
        truth : SyntheticTruth

        Raises
        ------
        SyntheticParamsError
            For a bad duration, fps, image size or scale.
        """
        p = self.params
        width, height = (int(v) for v in image_size_px)
        if not (math.isfinite(fps) and 1.0 <= fps <= 1000.0):
            raise SyntheticParamsError(f"fps={fps!r}: use a frame rate between 1 and 1000")
        n = int(round(duration_s * fps)) if math.isfinite(duration_s) else 0
        if n < 2:
            raise SyntheticParamsError(
                f"duration_s={duration_s!r} at {fps:g} fps gives {n} frames; use at least 2 frames"
            )
        if width < 64 or height < 64:
            raise SyntheticParamsError(f"image_size_px={image_size_px!r}: use at least 64 x 64")
        time_s = np.arange(n) / fps
        world = self.world_pose_m(time_s)
        x_lo, x_hi = float(world[..., 0].min()), float(world[..., 0].max())
        y_hi = float(world[..., 1].max())
        ground_y = GROUND_ROW_PER_IMAGE_HEIGHT * height
        auto_scale = px_per_m is None
        if auto_scale:
            px_per_m = min(
                BODY_PER_IMAGE_HEIGHT * height / p.height_m,
                0.92 * width / (x_hi - x_lo),
                0.92 * ground_y / y_hi,
            )
        if not (math.isfinite(px_per_m) and px_per_m > 0):
            raise SyntheticParamsError(f"px_per_m={px_per_m!r}: use a positive number")
        x_center = 0.5 * (x_lo + x_hi)
        tilt = math.radians(p.ground_tilt_deg)
        c, s = math.cos(tilt), math.sin(tilt)
        e_fwd = np.array([c, s]) if p.facing == "right" else np.array([-c, -s])
        e_up = np.array([s, -c])
        x0 = 0.5 * width
        origin = np.array([x0, ground_y])
        for _ in range(12):  # a tilted camera may need a smaller automatic scale
            pos = (
                origin
                + px_per_m * (world[..., 0:1] - x_center) * e_fwd
                + px_per_m * world[..., 1:2] * e_up
            )
            bbox = (
                float(pos[..., 0].min()),
                float(pos[..., 1].min()),
                float(pos[..., 0].max()),
                float(pos[..., 1].max()),
            )
            inside = bbox[0] >= 0 and bbox[1] >= 0 and bbox[2] <= width and bbox[3] <= height
            if inside or not auto_scale:
                break
            px_per_m *= 0.9
        if not inside:
            raise SyntheticParamsError(
                f"the runner leaves the {width}x{height} image (keypoints span x {bbox[0]:.0f}.."
                f"{bbox[2]:.0f}, y {bbox[1]:.0f}..{bbox[3]:.0f} px); use a smaller px_per_m, a "
                "shorter duration_s (overground), a smaller ground_tilt_deg or a larger image"
            )
        rng = np.random.default_rng(seed)
        conf = self._confidence(n, fps, rng)
        slope = math.tan(tilt)
        line = (0.0, ground_y - slope * x0, float(width), ground_y + slope * (width - x0))
        ds = from_arrays(
            pos,
            conf,
            time_s,
            fps=fps,
            image_width_px=width,
            image_height_px=height,
            source_software="posecoach-synthetic",
            attrs={
                "model": "posecoach synthetic runner",
                "source_file": "",
                "facing": p.facing,
                "setting": p.setting,
                "px_per_m": float(px_per_m),
                "ground_y_px": float(ground_y),
                "ground_slope": float(slope),
                "ground_x0_px": float(x0),
                "ground_line_px": [float(v) for v in line],
            },
        )
        events = self.events(float(time_s[0]), float(time_s[-1]))
        events["frame"] = np.ceil(events["time_s"].to_numpy() * fps - 1e-9).astype(np.int64)
        m = self.stride_metrics()
        top = (
            "cadence_spm", "ground_contact_ms", "flight_ms", "step_time_ms", "stride_time_ms",
            "duty_factor_pct", "vertical_oscillation_cm", "foot_strike_angle_deg",
            "overstride_cm", "shank_angle_ic_deg", "knee_flexion_ic_deg",
            "peak_knee_flexion_swing_deg", "toe_off_foot_angle_deg", "trunk_lean_deg",
            "elbow_angle_deg", "step_length_m", "speed_mps",
        )  # fmt: skip
        truth = SyntheticTruth(
            events=events,
            **{k: float(m[k]) for k in top},
            hip_height_m=self.hip_height_m,
            height_m=p.height_m,
            leg_length_m=self.thigh_m + self.shank_m,
            thigh_length_m=self.thigh_m,
            shank_length_m=self.shank_m,
            foot_length_m=self.foot_m,
            px_per_m=float(px_per_m),
            facing=p.facing,
            setting=p.setting,
            near_side=p.near_side,
            ground_y_px=float(ground_y),
            ground_slope=float(slope),
            ground_x0_px=float(x0),
            ground_tilt_deg=float(p.ground_tilt_deg),
            ground_line_px=line,
            image_width_px=width,
            image_height_px=height,
            runner_bbox_px=bbox,
            fps=float(fps),
            duration_s=n / fps,
            n_frames=n,
            metrics=m,
            params=p.to_dict(),
        )
        return ds, truth
