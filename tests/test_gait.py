"""Walking vs running from double support (posecoach.gait)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.signal import butter, filtfilt

from posecoach import gait, pipeline
from posecoach.synthetic import RunnerParams, SyntheticRunner, add_faults

KEYPOINTS = ["left_hip", "right_hip", "left_heel", "right_heel", "left_foot_index", "right_foot_index"]


def _smoothstep(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0.0, 1.0)
    return s * s * (3 - 2 * s)


def stick_gait(duty: float, *, speed: float = 1.3, stride_s: float = 1.1, fps: float = 30.0,
               duration_s: float = 6.0, treadmill: bool = False, noise_m: float = 0.0,
               seed: int = 0) -> xr.Dataset:
    """Body-frame feet and hips of a simple biped: each foot is still on the ground for
    ``duty`` of the stride and swings forward one stride length in the rest (toe clearance
    1.5 cm, heel lift up to 25 cm). ``duty`` 0.62 is a walk (double support), 0.35 a run
    (flight). On a treadmill everything moves back at ``speed``. Optional Gaussian noise,
    then a 6 Hz zero-lag low-pass like posecoach's cleaning."""
    t = np.arange(int(round(duration_s * fps))) / fps
    length = speed * stride_s
    pos = np.zeros((t.size, len(KEYPOINTS), 2))
    pelvis = speed * t
    for side, offset in (("left", 0.0), ("right", 0.5)):
        cycle = t / stride_s + offset
        k, phase = np.floor(cycle), cycle % 1.0
        swing = _smoothstep((phase - duty) / (1 - duty))
        x = (k + swing) * length + 0.1 - offset * length
        toe_y = np.where(phase > duty, 0.015 * np.sin(np.pi * (phase - duty) / (1 - duty)), 0.0)
        heel_y = np.where(phase > 0.8 * duty, 0.25 * np.sin(np.pi * np.clip(
            (phase - 0.8 * duty) / (1.0 - 0.8 * duty), 0, 1)), 0.0)
        pos[:, KEYPOINTS.index(f"{side}_heel")] = np.c_[x - 0.1, heel_y]
        pos[:, KEYPOINTS.index(f"{side}_foot_index")] = np.c_[x + 0.1, toe_y]
        pos[:, KEYPOINTS.index(f"{side}_hip")] = np.c_[pelvis, 0.9 + 0 * t]
    if treadmill:
        pos[..., 0] -= speed * t[:, None]
    if noise_m:
        pos += np.random.default_rng(seed).normal(0, noise_m, pos.shape)
        b, a = butter(2, 6.0 / (fps / 2))
        pos = filtfilt(b, a, pos, axis=0)
    return xr.Dataset(
        {"position": (("time", "keypoint", "space"), pos)},
        coords={"time": t, "keypoint": KEYPOINTS, "space": ["x", "y"]},
    )


@pytest.mark.parametrize("treadmill", [False, True])
@pytest.mark.parametrize("noise_m", [0.0, 0.02])
def test_walk_has_double_support_and_run_has_none(treadmill, noise_m):
    walk = gait.double_support(stick_gait(0.62, treadmill=treadmill, noise_m=noise_m), fps=30.0)
    run = gait.double_support(stick_gait(0.35, speed=3.5, stride_s=0.7, treadmill=treadmill,
                                         noise_m=noise_m), fps=30.0)
    # true double support of the walk: 2 x (0.62 - 0.5) = 24 % of the stride
    assert walk.gait == "walking"
    assert walk.share == pytest.approx(0.24, abs=0.08)
    assert walk.episodes >= 9  # two per 1.1 s stride over 6 s
    assert run.gait == "running"
    assert run.share <= gait.RUNNING_SHARE
    assert walk.speed_mps == pytest.approx(1.3, rel=0.1)
    assert run.speed_mps == pytest.approx(3.5, rel=0.1)


def test_leg_label_mixups_and_another_person_do_not_change_the_answer():
    ds = stick_gait(0.62, noise_m=0.01)
    pos = ds["position"].values.copy()
    # legs swapped for half a second (the pose model mixing them up)
    left = [KEYPOINTS.index(k) for k in KEYPOINTS if k.startswith("left")]
    right = [KEYPOINTS.index(k) for k in KEYPOINTS if k.startswith("right")]
    pos[60:75, left + right] = pos[60:75, right + left]
    # the last 0.8 s follow another person 3 m away, and 0.3 s are not seen at all
    pos[-24:, :, 0] += 3.0
    pos[100:109] = np.nan
    res = gait.double_support(ds.assign(position=(ds["position"].dims, pos)), fps=30.0)
    assert res.gait == "walking"


def test_too_little_or_standing_still_is_unknown():
    short = gait.double_support(stick_gait(0.62, duration_s=1.0), fps=30.0)
    assert short.gait == "unknown" and short.analysed_s < gait.MIN_ANALYSED_S
    still = stick_gait(0.62, speed=0.0)
    res = gait.double_support(still, fps=30.0)
    assert res.gait == "unknown" and res.analysed_s == 0 and res.to_dict()["share"] is None


def test_combine_keeps_the_events_answer_and_fills_in_unknown():
    walking = gait.DoubleSupport(0.2, 4.0, 7, 1.3, "walking")
    running = gait.DoubleSupport(0.0, 4.0, 0, 3.0, "running")
    g, reason = gait.combine("unknown", "no complete steps were found", walking)
    assert g == "walking" and "walking, not running" in reason and "20 %" in reason
    assert gait.combine("unknown", "r", running) == ("unknown", "r")
    assert gait.combine("running", "flight", walking) == ("running", "flight")
    assert gait.combine("walking", "w", running) == ("walking", "w")


@pytest.mark.parametrize("preset", ["heel_striker", "pose_runner"])
@pytest.mark.parametrize("setting", ["treadmill", "overground"])
def test_synthetic_runners_show_no_double_support(preset, setting):
    p = getattr(RunnerParams, preset)(setting=setting)
    ds, _ = SyntheticRunner(p).generate(duration_s=5.0, fps=30.0)
    noisy, _ = add_faults(ds, jitter_px=1.5, dropped_frames=3, leg_swaps=1, seed=1)
    a = pipeline.analyze_poses(noisy, height_m=p.height_m)
    assert a.gait["classification"] == "running"
    assert a.gait["double_support"]["gait"] == "running"
    assert a.gait["double_support"]["share"] <= gait.RUNNING_SHARE
