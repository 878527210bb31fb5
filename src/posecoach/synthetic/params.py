"""Parameters of the synthetic runner and their validation.

All lengths of the body come from one number, the body height, through the segment
proportions of Winter (2009), *Biomechanics and Motor Control of Human Movement*,
4th ed., Fig. 4.1 (fractions of body height ``H``): greater trochanter 0.530 H, knee
0.285 H, ankle 0.039 H, shoulder 0.818 H, upper arm 0.186 H, forearm 0.146 H, foot
length 0.152 H. The same table gives ``posecoach.scene`` its leg length (0.491 H).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from posecoach.errors import PosecoachError

#: Segment lengths as fractions of body height (Winter 2009, Fig. 4.1).
THIGH_PER_HEIGHT = 0.530 - 0.285
SHANK_PER_HEIGHT = 0.285 - 0.039
TRUNK_PER_HEIGHT = 0.818 - 0.530
UPPER_ARM_PER_HEIGHT = 0.186
FOREARM_PER_HEIGHT = 0.146
#: Heel keypoint to foot_index (toe) keypoint, a little shorter than the whole foot (0.152 H).
FOOT_PER_HEIGHT = 0.140
#: Ankle (malleolus) above the ground with the foot flat, and ahead of the heel keypoint.
ANKLE_HEIGHT_PER_HEIGHT = 0.039
ANKLE_AHEAD_OF_HEEL_PER_HEIGHT = 0.030
#: Ear above the mid-shoulder, along the (half-leaning) neck.
EAR_ABOVE_SHOULDER_PER_HEIGHT = 0.115


class SyntheticParamsError(PosecoachError):
    """The synthetic runner's parameters are out of range or describe an impossible gait."""

    exit_code = 2


_SIDES = ("left", "right")
_SETTINGS = ("treadmill", "overground")


@dataclass(frozen=True)
class RunnerParams:
    """Everything that defines one synthetic runner (body, gait, style and camera).

    Change a preset with :func:`dataclasses.replace`, e.g.
    ``replace(RunnerParams.pose_runner(), facing="left")``.

    Parameters
    ----------
    height_m : float
        Body height; every segment length follows from it (Winter 2009).
    cadence_spm : float
        Steps per minute (both feet); step period = 60 / cadence.
    ground_contact_ms : float
        Contact time of every step; flight = step period - contact must be > 0.
    speed_mps : float
        Running speed (overground: the pelvis' speed; treadmill: the belt speed).
    vertical_oscillation_cm : float
        Peak-to-peak vertical motion of the mid-hip (a sinusoid at step frequency,
        lowest at mid-stance).
    foot_strike_angle_deg : float
        Angle heel->foot_index from the ground at initial contact: positive = toe up
        (heel strike, the foot pivots about the heel), negative = toe down (forefoot,
        pivots about the toe), 0 = flat (midfoot).
    overstride_cm : float
        Horizontal distance mid-hip -> landing ankle at initial contact, positive ahead.
    knee_flexion_ic_deg : float
        Knee flexion at initial contact (0 = straight). Sets the hip height.
    trunk_lean_deg : float
        Mid-hip -> mid-shoulder from vertical, positive forward (constant).
    elbow_angle_deg : float
        Interior shoulder-elbow-wrist angle (constant; 180 = straight arm).
    peak_heel_lift_deg : float
        Peak knee flexion in swing (how far the heel is pulled towards the buttock).
    heel_lift_behind_hip_cm : float
        Horizontal distance the swing ankle is *behind* the mid-hip at peak heel lift
        (Pose Method: lift the ankle straight up under the hip -> small).
    toe_off_foot_angle_deg : float
        Foot angle at toe-off (negative: heel up, the foot pivots about the toe).
    heel_off_pct : float
        Percent of stance at which the heel starts to rise (the foot is flat from 20 %
        of stance until then).
    arm_swing_deg : float
        Peak-to-peak swing of the upper arm (relative to the trunk).
    setting : {"treadmill", "overground"}
        Treadmill: the pelvis stays in place and the stance foot moves back at
        ``speed_mps``. Overground: the pelvis moves forward at ``speed_mps`` in front
        of a static camera and the stance foot is fixed on the ground.
    facing : {"left", "right"}
        Direction the runner faces in the image. The camera sees the runner's right
        side when facing right and the left side when facing left (the near side).
    ground_tilt_deg : float
        Camera roll: angle of the ground line in the image, ``atan`` of its slope
        ``d y_px / d x_px`` (y down, so positive = the line falls to the right).
    first_contact_s : float
        Time of the first right-foot initial contact (later ones follow every stride).
    far_side_confidence : float
        Mean confidence of far-side keypoints (BlazePose reports occluded landmarks
        with lower visibility); the near side gets about 0.97.
    """

    height_m: float = 1.75
    cadence_spm: float = 170.0
    ground_contact_ms: float = 250.0
    speed_mps: float = 2.7
    vertical_oscillation_cm: float = 8.0
    foot_strike_angle_deg: float = 5.0
    overstride_cm: float = 15.0
    knee_flexion_ic_deg: float = 14.0
    trunk_lean_deg: float = 4.0
    elbow_angle_deg: float = 90.0
    peak_heel_lift_deg: float = 105.0
    heel_lift_behind_hip_cm: float = 12.0
    toe_off_foot_angle_deg: float = -45.0
    heel_off_pct: float = 50.0
    arm_swing_deg: float = 55.0
    setting: str = "treadmill"
    facing: str = "right"
    ground_tilt_deg: float = 0.0
    first_contact_s: float = 0.1
    far_side_confidence: float = 0.75

    @classmethod
    def heel_striker(cls, **changes: Any) -> RunnerParams:
        """Over-striding heel striker: 160 spm, 300 ms contact, 28 cm overstride, +15 deg strike.

        Nearly straight knee at contact, the shank clearly inclined forward (about
        +14 deg), a 10 cm bounce, upright trunk, arms fairly straight (elbow 110 deg),
        low heel lift trailing behind the hip. ``changes`` override single fields.
        """
        base = cls(
            cadence_spm=160.0,
            ground_contact_ms=300.0,
            speed_mps=2.8,
            vertical_oscillation_cm=10.0,
            foot_strike_angle_deg=15.0,
            overstride_cm=28.0,
            knee_flexion_ic_deg=8.0,
            trunk_lean_deg=1.0,
            elbow_angle_deg=110.0,
            peak_heel_lift_deg=90.0,
            heel_lift_behind_hip_cm=25.0,
            toe_off_foot_angle_deg=-40.0,
            heel_off_pct=60.0,
            arm_swing_deg=60.0,
        )
        return replace(base, **changes)

    @classmethod
    def pose_runner(cls, **changes: Any) -> RunnerParams:
        """Pose Method runner: 180 spm, 220 ms contact, lands under the hips on the forefoot.

        Overstride 6 cm, strike -5 deg, shank about vertical at contact, 6 cm
        bounce, slight forward lean (5 deg), elbows at 90 deg, high heel pull
        straight under the hip. ``changes`` override single fields.
        """
        base = cls(
            cadence_spm=180.0,
            ground_contact_ms=220.0,
            speed_mps=2.7,
            vertical_oscillation_cm=6.0,
            foot_strike_angle_deg=-5.0,
            overstride_cm=6.0,
            knee_flexion_ic_deg=12.0,
            trunk_lean_deg=5.0,
            elbow_angle_deg=90.0,
            peak_heel_lift_deg=125.0,
            heel_lift_behind_hip_cm=4.0,
            toe_off_foot_angle_deg=-50.0,
            heel_off_pct=30.0,
            arm_swing_deg=50.0,
        )
        return replace(base, **changes)

    # -- derived quantities -------------------------------------------------------------
    @property
    def step_time_s(self) -> float:
        """Time of one step (IC of one foot to IC of the other), 60 / cadence."""
        return 60.0 / self.cadence_spm

    @property
    def stride_time_s(self) -> float:
        """Time of one stride (IC to IC of the same foot)."""
        return 2.0 * self.step_time_s

    @property
    def flight_ms(self) -> float:
        """Flight time of every step (step time - contact time)."""
        return 1000.0 * self.step_time_s - self.ground_contact_ms

    @property
    def near_side(self) -> str:
        """The side facing the camera: right when facing right, left when facing left."""
        return "right" if self.facing == "right" else "left"

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON representation."""
        return asdict(self)

    def validate(self) -> RunnerParams:
        """Check ranges and timing; geometry is checked by :class:`SyntheticRunner`.

        Returns
        -------
        RunnerParams
            ``self``, for chaining.

        Raises
        ------
        SyntheticParamsError
            Naming the parameter and its allowed range.
        """
        ranges = {
            "height_m": (1.2, 2.2),
            "cadence_spm": (120.0, 240.0),
            "ground_contact_ms": (80.0, 500.0),
            "speed_mps": (0.5, 10.0),
            "vertical_oscillation_cm": (0.0, 20.0),
            "foot_strike_angle_deg": (-30.0, 35.0),
            "overstride_cm": (-15.0, 50.0),
            "knee_flexion_ic_deg": (0.0, 60.0),
            "trunk_lean_deg": (-20.0, 40.0),
            "elbow_angle_deg": (30.0, 180.0),
            "peak_heel_lift_deg": (45.0, 150.0),
            "heel_lift_behind_hip_cm": (-20.0, 45.0),
            "toe_off_foot_angle_deg": (-70.0, -10.0),
            "heel_off_pct": (25.0, 90.0),
            "arm_swing_deg": (0.0, 120.0),
            "ground_tilt_deg": (-20.0, 20.0),
            "first_contact_s": (-10.0, 10.0),
            "far_side_confidence": (0.0, 1.0),
        }
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ranges:
                lo, hi = ranges[f.name]
                if not (
                    isinstance(value, int | float) and math.isfinite(value) and lo <= value <= hi
                ):
                    raise SyntheticParamsError(
                        f"RunnerParams.{f.name}={value!r} is out of range; use a number in "
                        f"[{lo}, {hi}]"
                    )
        if self.setting not in _SETTINGS:
            raise SyntheticParamsError(
                f"RunnerParams.setting={self.setting!r}; use 'treadmill' or 'overground'"
            )
        if self.facing not in _SIDES:
            raise SyntheticParamsError(
                f"RunnerParams.facing={self.facing!r}; use 'left' or 'right'"
            )
        if self.flight_ms < 10.0:
            raise SyntheticParamsError(
                f"ground_contact_ms={self.ground_contact_ms:g} leaves {self.flight_ms:.1f} ms of "
                f"flight per step at {self.cadence_spm:g} spm; running needs a flight phase: keep "
                f"ground_contact_ms below {1000.0 * self.step_time_s - 10.0:.0f}"
            )
        return self
