"""The synthetic runner: posecoach's embedded sample with exact ground truth.

A 2-D sagittal kinematic model of running, sampled into an ordinary pose dataset
(:mod:`posecoach.dataset`, 33 BlazePose keypoints, pixels with x right and y down).
It drives the unit tests of the gait-event and metric code: its events and metrics
are known exactly, measured on the model's own geometry with the conventions of
``docs/architecture.md`` (the same functions as :mod:`posecoach.kinematics`).

Quick start
-----------
>>> from posecoach.synthetic import RunnerParams, SyntheticRunner, add_faults
>>> ds, truth = SyntheticRunner(RunnerParams.pose_runner()).generate(duration_s=4.0, fps=60.0)
>>> round(truth.cadence_spm)
180
>>> noisy, faults = add_faults(ds, jitter_px=1.0, leg_swaps=1, dropped_frames=3, seed=1)

API
---
``RunnerParams`` (frozen dataclass; :mod:`posecoach.synthetic.params`)
    ``height_m, cadence_spm, ground_contact_ms, speed_mps, vertical_oscillation_cm,
    foot_strike_angle_deg, overstride_cm, knee_flexion_ic_deg, trunk_lean_deg,
    elbow_angle_deg, peak_heel_lift_deg, heel_lift_behind_hip_cm,
    toe_off_foot_angle_deg, heel_off_pct, arm_swing_deg, setting ("treadmill" |
    "overground"), facing ("left" | "right"), ground_tilt_deg (camera roll),
    first_contact_s, far_side_confidence``. Presets ``RunnerParams.heel_striker()``
    (160 spm, 300 ms, 28 cm overstride, +15 deg heel strike, shank ~+14 deg, 10 cm
    bounce) and ``RunnerParams.pose_runner()`` (180 spm, 220 ms, 6 cm overstride,
    -5 deg forefoot, shank ~vertical, 6 cm bounce, 5 deg lean, elbows 90 deg); both
    accept field overrides as keywords. ``validate()``, ``to_dict()``, ``step_time_s``,
    ``stride_time_s``, ``flight_ms``, ``near_side``.
``SyntheticRunner(params)``
    Validates the parameters and the geometry (raises :class:`SyntheticParamsError`
    with a hint when e.g. the leg cannot reach the foot at toe-off).
    ``generate(duration_s=10.0, fps=60.0, image_size_px=(1280, 720), seed=0, *,
    px_per_m=None) -> (ds, truth)``: ``round(duration_s * fps)`` frames at
    ``t = k / fps``. ``world_pose_m(time_s) -> (n, 33, 2)`` evaluates the model at any
    times in metres (x forward, y up, ground at 0); ``leg_cycle(tau)`` one leg over a
    stride; ``tau_of(time_s, side)`` the time since that side's last IC;
    ``events(start_s, end_s)``; ``midstance_s()``; ``stride_metrics()``.
``SyntheticTruth`` (dataclass)
    ``events`` (DataFrame: ``side`` "left"/"right", ``kind``
    "initial_contact"/"toe_off", ``time_s`` exact, ``frame`` = first frame at or after
    the event), ``cadence_spm, ground_contact_ms, flight_ms, step_time_ms,
    stride_time_ms, duty_factor_pct, vertical_oscillation_cm, foot_strike_angle_deg,
    overstride_cm, shank_angle_ic_deg, knee_flexion_ic_deg, peak_knee_flexion_swing_deg,
    toe_off_foot_angle_deg, trunk_lean_deg, elbow_angle_deg, step_length_m, speed_mps,
    hip_height_m, height_m, leg_length_m, thigh_length_m, shank_length_m,
    foot_length_m, px_per_m, facing, setting, near_side, ground_y_px, ground_slope,
    ground_x0_px, ground_tilt_deg, ground_line_px, image_width_px, image_height_px,
    runner_bbox_px, fps, duration_s, n_frames, metrics, params``; ``metrics`` holds
    every per-step metric of ``docs/conventions.md`` the model defines, under its
    name there (e.g. ``peak_knee_flexion_stance_deg``, ``pull_time_ms``,
    ``heel_to_buttock_cm``, ``body_lean_deg``, ``foot_speed_rel_hip_ic_mps``);
    ``events_of(side, kind)``, ``to_dict()``.
``add_faults(ds, *, jitter_px=0.0, dropped_frames=0, low_confidence_spans=0, leg_swaps=0,
seed=0, span_frames=(3, 12)) -> (ds_faulty, SyntheticFaults)``
    Jitter, leg swaps (all left/right hip, knee, ankle, heel, foot_index exchanged for a
    span), low-confidence spans, dropped frames (NaN rows, time axis kept); the
    returned :class:`SyntheticFaults` lists the exact frames (half-open spans).
``render_video(ds, path, *, fps=None, draw_ground=True) -> Path``
    Stick-figure H.264 MP4, one frame per dataset entry.

Conventions of the dataset and the truth
----------------------------------------
- Camera: static. Treadmill: the mid-hip stays at the image centre and the stance
  foot moves back at belt speed. Overground: the runner crosses the picture at
  ``speed_mps`` and the stance foot is still; the default scale makes the whole
  distance fit, so use a few seconds for a large figure.
- Ground line: ``y = ground_y_px + ground_slope * (x - ground_x0_px)``, also in
  ``ds.attrs`` (with ``facing``, ``setting``, ``px_per_m``, ``ground_line_px``), ready
  for :func:`posecoach.kinematics.to_body_frame`. Truth angles are world (body-frame)
  angles, unaffected by ``ground_tilt_deg``.
- Side view: left and right landmarks of a limb share the sagittal plane. The near
  side (right when facing right) has confidence ~0.97, the far side
  ``far_side_confidence`` (far ear half of it), slowly varying with ``seed``.
- Every step is identical; metrics are exact continuous-time values (a frame-sampled
  estimate differs by up to one frame interval in time).
"""

from __future__ import annotations

from posecoach.synthetic.faults import LEG_PARTS, SyntheticFaults, add_faults
from posecoach.synthetic.model import SyntheticRunner, SyntheticTruth
from posecoach.synthetic.params import RunnerParams, SyntheticParamsError
from posecoach.synthetic.render import render_video

__all__ = [
    "LEG_PARTS",
    "RunnerParams",
    "SyntheticFaults",
    "SyntheticParamsError",
    "SyntheticRunner",
    "SyntheticTruth",
    "add_faults",
    "render_video",
]
