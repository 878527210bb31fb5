"""Tests of the synthetic runner: its ground truth against the model's own geometry."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from posecoach.dataset import BLAZEPOSE_KEYPOINTS, validate
from posecoach.kinematics import angle_from_ground_deg, joint_angles, to_body_frame
from posecoach.synthetic import (
    LEG_PARTS,
    RunnerParams,
    SyntheticParamsError,
    SyntheticRunner,
    add_faults,
    render_video,
)
from posecoach.synthetic.model import knee_flexion_for_distance_deg, quintic_hermite

KP = {name: i for i, name in enumerate(BLAZEPOSE_KEYPOINTS)}
SIDES = ("left", "right")


def _dense_stances(runner: SyntheticRunner, side: str, n_strides: int = 2, samples: int = 400):
    """Samples over a few strides of one side, including the exact events.

    Returns time, in-stance mask and in-swing mask; the swing mask leaves out points
    within 1e-9 s of TO/IC, where the foot is (to rounding) on the ground.
    """
    t0 = runner.params.first_contact_s + (0.0 if side == "right" else runner.step_s)
    t = t0 + np.linspace(0.0, n_strides * runner.stride_s, n_strides * samples, endpoint=False)
    return (t, *_phases(runner, t, side))


def _phases(runner: SyntheticRunner, t: np.ndarray, side: str):
    tau = runner.tau_of(t, side)
    stance = tau <= runner.contact_s
    swing = (tau > runner.contact_s + 1e-9) & (tau < runner.stride_s - 1e-9)
    return stance, swing


def _lowest_foot_y(world: np.ndarray, side: str) -> np.ndarray:
    return np.minimum(world[:, KP[f"{side}_heel"], 1], world[:, KP[f"{side}_foot_index"], 1])


@pytest.fixture(scope="module")
def pose_run():
    runner = SyntheticRunner(RunnerParams.pose_runner())
    ds, truth = runner.generate(duration_s=4.0, fps=60.0)
    return runner, ds, truth


@pytest.fixture(scope="module")
def heel_run():
    runner = SyntheticRunner(RunnerParams.heel_striker())
    ds, truth = runner.generate(duration_s=4.0, fps=60.0)
    return runner, ds, truth


# --------------------------------------------------------------------------------------
# presets and truth values
# --------------------------------------------------------------------------------------
def test_presets_differ_as_documented(pose_run, heel_run):
    _, _, pose = pose_run
    _, _, heel = heel_run
    assert heel.cadence_spm == pytest.approx(160.0) and pose.cadence_spm == pytest.approx(180.0)
    assert heel.ground_contact_ms == pytest.approx(300.0)
    assert pose.ground_contact_ms == pytest.approx(220.0)
    assert heel.foot_strike_angle_deg == pytest.approx(15.0)
    assert pose.foot_strike_angle_deg == pytest.approx(-5.0)
    assert 25.0 <= heel.overstride_cm <= 30.0 and pose.overstride_cm <= 8.0
    assert heel.shank_angle_ic_deg > 10.0  # shank clearly forward at IC
    assert abs(pose.shank_angle_ic_deg) < 5.0  # about vertical
    assert heel.vertical_oscillation_cm == pytest.approx(10.0)
    assert pose.vertical_oscillation_cm == pytest.approx(6.0)
    assert pose.elbow_angle_deg == pytest.approx(90.0)
    assert 0.0 < pose.trunk_lean_deg <= 8.0
    assert pose.peak_knee_flexion_swing_deg > heel.peak_knee_flexion_swing_deg
    assert pose.knee_flexion_ic_deg > heel.knee_flexion_ic_deg


@pytest.mark.parametrize("preset", ["heel_striker", "pose_runner"])
def test_truth_equals_parameters(preset):
    p = getattr(RunnerParams, preset)()
    runner = SyntheticRunner(p)
    _, truth = runner.generate(duration_s=2.0, fps=50.0, image_size_px=(640, 360))
    assert truth.cadence_spm == pytest.approx(p.cadence_spm, abs=1e-9)
    assert truth.foot_strike_angle_deg == pytest.approx(p.foot_strike_angle_deg, abs=1e-9)
    assert truth.overstride_cm == pytest.approx(p.overstride_cm, abs=1e-9)
    assert truth.knee_flexion_ic_deg == pytest.approx(p.knee_flexion_ic_deg, abs=1e-9)
    assert truth.peak_knee_flexion_swing_deg == pytest.approx(p.peak_heel_lift_deg, abs=1e-6)
    assert truth.trunk_lean_deg == pytest.approx(p.trunk_lean_deg, abs=1e-9)
    assert truth.elbow_angle_deg == pytest.approx(p.elbow_angle_deg, abs=1e-9)
    assert truth.toe_off_foot_angle_deg == pytest.approx(p.toe_off_foot_angle_deg, abs=1e-9)
    assert truth.speed_mps == p.speed_mps
    assert truth.step_length_m == pytest.approx(p.speed_mps * 60.0 / p.cadence_spm)
    # cadence = 60 / step period; contact + flight = step; duty factor = contact / stride
    assert truth.cadence_spm == pytest.approx(60_000.0 / truth.step_time_ms)
    assert truth.ground_contact_ms + truth.flight_ms == pytest.approx(truth.step_time_ms)
    assert truth.stride_time_ms == pytest.approx(2 * truth.step_time_ms)
    assert truth.duty_factor_pct == pytest.approx(
        100 * truth.ground_contact_ms / truth.stride_time_ms
    )
    assert truth.leg_length_m == pytest.approx(0.491 * p.height_m)
    m = truth.metrics
    assert m["ankle_under_hip_pct_leg"] == pytest.approx(
        -p.heel_lift_behind_hip_cm / truth.leg_length_m, abs=1e-6
    )
    assert m["arm_swing_deg"] == pytest.approx(p.arm_swing_deg)
    assert m["late_stance_ms"] + m["midstance_ms"] == pytest.approx(truth.ground_contact_ms)
    assert m["vertical_ratio_pct"] == pytest.approx(
        truth.vertical_oscillation_cm / truth.step_length_m
    )
    assert m["min_knee_flexion_late_stance_deg"] > 0.0  # the leg never locks straight


def test_truth_is_plain_json(pose_run):
    _, _, truth = pose_run
    d = json.loads(json.dumps(truth.to_dict()))
    assert d["events"][0].keys() == {"side", "kind", "time_s", "frame"}
    assert d["cadence_spm"] == pytest.approx(180.0)
    assert d["metrics"]["pull_time_ms"] > 0
    assert d["params"]["facing"] == "right"


# --------------------------------------------------------------------------------------
# geometry: the foot on the ground, the swing foot off it, constant segments
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("setting", ["overground", "treadmill"])
@pytest.mark.parametrize("preset", ["heel_striker", "pose_runner"])
def test_stance_foot_on_ground_and_still_or_on_belt(preset, setting):
    p = replace(getattr(RunnerParams, preset)(), setting=setting)
    runner = SyntheticRunner(p)
    for side in SIDES:
        t, stance, swing = _dense_stances(runner, side)
        w = runner.world_pose_m(t)
        lowest = _lowest_foot_y(w, side)
        np.testing.assert_allclose(lowest[stance], 0.0, atol=1e-12)
        assert lowest[swing].min() > 0.0  # off the ground in swing
        assert lowest.min() > -1e-12
        # the point on the ground does not slide: still (overground) or at belt speed
        belt = p.speed_mps if setting == "treadmill" else 0.0
        for part in ("heel", "foot_index"):
            on = stance & (np.abs(w[:, KP[f"{side}_{part}"], 1]) < 1e-12)
            assert on.sum() > 10
            x = w[on, KP[f"{side}_{part}"], 0] + belt * t[on]
            tau = runner.tau_of(t[on], side)
            contact = np.cumsum(np.r_[True, np.diff(tau) < 0])  # one id per contact
            for c in np.unique(contact):
                assert np.ptp(x[contact == c]) < 1e-9


@pytest.mark.parametrize("setting", ["overground", "treadmill"])
def test_stance_foot_seen_in_pixels(setting):
    """The same holds in the image: ground line from the truth, belt speed in px/s."""
    p = RunnerParams.heel_striker(setting=setting, ground_tilt_deg=4.0)
    runner = SyntheticRunner(p)
    ds, truth = runner.generate(duration_s=2.5, fps=100.0, image_size_px=(960, 540))
    body = to_body_frame(
        ds,
        facing=truth.facing,
        px_per_m=truth.px_per_m,
        ground_y_px=truth.ground_y_px,
        ground_slope=truth.ground_slope,
        ground_x0_px=truth.ground_x0_px,
    )
    pos = body["position"].values
    t = ds["time"].values
    for side in SIDES:
        stance, swing = _phases(runner, t, side)
        lowest = np.minimum(pos[:, KP[f"{side}_heel"], 1], pos[:, KP[f"{side}_foot_index"], 1])
        np.testing.assert_allclose(lowest[stance], 0.0, atol=1e-9)
        assert lowest[swing].min() > 0.0
    angles = joint_angles(body)
    np.testing.assert_allclose(angles["trunk_lean_deg"].values, truth.trunk_lean_deg, atol=1e-9)
    mid_hip_x = 0.5 * (pos[:, KP["left_hip"], 0] + pos[:, KP["right_hip"], 0])
    speed = np.polyfit(t, mid_hip_x, 1)[0]
    assert speed == pytest.approx(p.speed_mps if setting == "overground" else 0.0, abs=1e-9)


def test_segment_lengths_constant(heel_run):
    _, ds, truth = heel_run
    pos = ds["position"].values / truth.px_per_m
    h = truth.height_m

    def length(a, b):
        return np.hypot(*(pos[:, KP[a]] - pos[:, KP[b]]).T)

    for side in SIDES:
        for (a, b), expected in (
            (("hip", "knee"), truth.thigh_length_m),
            (("knee", "ankle"), truth.shank_length_m),
            (("heel", "foot_index"), truth.foot_length_m),
            (("shoulder", "elbow"), 0.186 * h),
            (("elbow", "wrist"), 0.146 * h),
        ):
            np.testing.assert_allclose(length(f"{side}_{a}", f"{side}_{b}"), expected, rtol=1e-9)
        for a, b in (("heel", "ankle"), ("ankle", "foot_index"), ("wrist", "index")):
            seg = length(f"{side}_{a}", f"{side}_{b}")
            assert np.ptp(seg) < 1e-9
    mid_hip = 0.5 * (pos[:, KP["left_hip"]] + pos[:, KP["right_hip"]])
    mid_sh = 0.5 * (pos[:, KP["left_shoulder"]] + pos[:, KP["right_shoulder"]])
    np.testing.assert_allclose(np.hypot(*(mid_sh - mid_hip).T), 0.288 * h, rtol=1e-9)


def test_vertical_oscillation_is_pelvis_peak_to_peak(pose_run):
    runner, ds, truth = pose_run
    t = np.linspace(0.0, 2.0, 200_001)
    w = runner.world_pose_m(t)
    mid_hip_y = 0.5 * (w[:, KP["left_hip"], 1] + w[:, KP["right_hip"], 1])
    assert 100 * np.ptp(mid_hip_y) == pytest.approx(truth.vertical_oscillation_cm, abs=1e-4)
    # lowest near mid-stance, highest in flight
    t_ic = truth.events_of("right", "initial_contact")[0]
    t_low = t[np.argmin(mid_hip_y[t < t_ic + runner.step_s] if t_ic < 1.0 else mid_hip_y)]
    assert runner.tau_of(np.array([t_low]), "right")[0] == pytest.approx(
        runner.contact_s / 2, abs=1e-4
    ) or runner.tau_of(np.array([t_low]), "left")[0] == pytest.approx(
        runner.contact_s / 2, abs=1e-4
    )
    # in the image (frame-sampled: a little less than the continuous peak-to-peak)
    y = ds["position"].sel(keypoint=["left_hip", "right_hip"], space="y").values.mean(axis=1)
    sampled_cm = 100 * np.ptp(y) / truth.px_per_m
    assert (
        truth.vertical_oscillation_cm * 0.97 <= sampled_cm <= truth.vertical_oscillation_cm + 1e-9
    )


# --------------------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------------------
def test_events_alternate_and_match_timing(pose_run):
    runner, ds, truth = pose_run
    ev = truth.events
    ics = ev[ev["kind"] == "initial_contact"]
    sides = ics["side"].tolist()
    assert sides[0] == "right" and all(a != b for a, b in zip(sides, sides[1:], strict=False))
    np.testing.assert_allclose(np.diff(ics["time_s"]), truth.step_time_ms / 1000, atol=1e-12)
    for side in SIDES:
        ic, to = truth.events_of(side, "initial_contact"), truth.events_of(side, "toe_off")
        k = min(len(ic), len(to))
        np.testing.assert_allclose(to[:k] - ic[:k], truth.ground_contact_ms / 1000, atol=1e-12)
    # flight: TO -> the other foot's next IC
    for _, row in ev[ev["kind"] == "toe_off"].iterrows():
        other = "left" if row.side == "right" else "right"
        nxt = truth.events_of(other, "initial_contact")
        nxt = nxt[nxt > row.time_s]
        if nxt.size:
            assert nxt[0] - row.time_s == pytest.approx(truth.flight_ms / 1000, abs=1e-12)
    # frame: the first frame at or after the event
    t = ds["time"].values
    for _, row in ev.iterrows():
        assert t[row.frame] >= row.time_s - 1e-12
        assert row.frame == 0 or t[row.frame - 1] < row.time_s
    assert ev["time_s"].between(t[0], t[-1]).all()
    assert len(ics) == pytest.approx(4.0 / (truth.step_time_ms / 1000), abs=1)


def test_events_are_where_the_foot_touches_and_leaves(heel_run):
    runner, _, truth = heel_run
    eps = 1e-5
    for _, row in truth.events.iterrows():
        w = runner.world_pose_m(np.array([row.time_s - eps, row.time_s, row.time_s + eps]))
        low = _lowest_foot_y(w, row.side)
        if row.kind == "initial_contact":
            assert low[0] > 0 and low[1] == pytest.approx(0, abs=1e-12) and low[2] == 0
        else:
            assert low[0] == pytest.approx(0, abs=1e-12) and low[1] == pytest.approx(0, abs=1e-12)
            assert low[2] > 0


def test_strike_angle_at_every_ic(heel_run, pose_run):
    for runner, _, truth in (heel_run, pose_run):
        for side in SIDES:
            t = truth.events_of(side, "initial_contact")
            w = runner.world_pose_m(t)
            angle = angle_from_ground_deg(w[:, KP[f"{side}_heel"]], w[:, KP[f"{side}_foot_index"]])
            np.testing.assert_allclose(angle, runner.params.foot_strike_angle_deg, atol=1e-9)


# --------------------------------------------------------------------------------------
# image, facing, confidence
# --------------------------------------------------------------------------------------
def test_facing_left_mirrors_x():
    p = RunnerParams.pose_runner(setting="overground")
    ds_r, tr_r = SyntheticRunner(p).generate(duration_s=2.0, fps=30.0, seed=3)
    ds_l, tr_l = SyntheticRunner(replace(p, facing="left")).generate(
        duration_s=2.0, fps=30.0, seed=3
    )
    w = ds_r.attrs["image_width_px"]
    pr, pl = ds_r["position"].values, ds_l["position"].values
    np.testing.assert_allclose(pl[..., 0], w - pr[..., 0], atol=1e-9)
    np.testing.assert_allclose(pl[..., 1], pr[..., 1], atol=1e-9)
    assert tr_l.events.equals(tr_r.events)
    assert tr_l.near_side == "left" and tr_r.near_side == "right"
    # the runner travels towards the side it faces
    hip_r = pr[:, KP["right_hip"], 0]
    assert hip_r[-1] > hip_r[0] and pl[-1, KP["right_hip"], 0] < pl[0, KP["right_hip"], 0]
    # far side less confident than the near side (as BlazePose reports)
    for ds, near in ((ds_r, "right"), (ds_l, "left")):
        far = "left" if near == "right" else "right"
        conf = ds["confidence"]
        for part in ("knee", "ankle", "elbow", "wrist"):
            assert (conf.sel(keypoint=f"{near}_{part}") > conf.sel(keypoint=f"{far}_{part}")).all()


def test_dataset_is_valid_and_inside_image(pose_run):
    _, ds, truth = pose_run
    validate(ds)
    assert ds.sizes["time"] == truth.n_frames == 240
    np.testing.assert_allclose(np.diff(ds["time"].values), 1 / 60.0)
    pos = ds["position"].values
    assert np.isfinite(pos).all()
    x0, y0, x1, y1 = truth.runner_bbox_px
    assert 0 <= x0 < x1 <= truth.image_width_px and 0 <= y0 < y1 <= truth.image_height_px
    assert ds.attrs["source_software"] == "posecoach-synthetic"
    assert ds.attrs["facing"] == "right" and ds.attrs["px_per_m"] == truth.px_per_m
    conf = ds["confidence"].values
    assert ((conf > 0) & (conf < 1)).all()
    # treadmill: the mid-hip stays at the centre column
    mid_x = pos[:, [KP["left_hip"], KP["right_hip"]], 0].mean(axis=1)
    np.testing.assert_allclose(mid_x, mid_x[0], atol=1e-9)


def test_seed_changes_only_confidence():
    runner = SyntheticRunner()
    a, _ = runner.generate(duration_s=1.0, seed=1)
    b, _ = runner.generate(duration_s=1.0, seed=2)
    np.testing.assert_array_equal(a["position"].values, b["position"].values)
    assert not np.array_equal(a["confidence"].values, b["confidence"].values)


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes, words",
    [
        ({"ground_contact_ms": 340.0, "cadence_spm": 180.0}, "flight"),
        ({"speed_mps": 5.0, "ground_contact_ms": 300.0}, "speed_mps"),
        ({"facing": "up"}, "facing"),
        ({"setting": "track"}, "setting"),
        ({"height_m": float("nan")}, "height_m"),
        ({"overstride_cm": 45.0, "knee_flexion_ic_deg": 40.0}, "swing foot"),
    ],
)
def test_impossible_parameters_raise_clear_errors(changes, words):
    with pytest.raises(SyntheticParamsError, match=words):
        SyntheticRunner(RunnerParams.heel_striker(**changes))


def test_bad_generate_arguments():
    runner = SyntheticRunner()
    with pytest.raises(SyntheticParamsError, match="frames"):
        runner.generate(duration_s=0.01)
    with pytest.raises(SyntheticParamsError, match="fps"):
        runner.generate(fps=0.0)
    with pytest.raises(SyntheticParamsError, match="leaves"):
        runner.generate(duration_s=1.0, px_per_m=2000.0)


# --------------------------------------------------------------------------------------
# property tests over random valid runners
# --------------------------------------------------------------------------------------
@st.composite
def runner_params(draw):
    cadence = draw(st.floats(150.0, 200.0))
    step_ms = 60_000.0 / cadence
    return RunnerParams(
        height_m=draw(st.floats(1.5, 2.0)),
        cadence_spm=cadence,
        ground_contact_ms=draw(st.floats(160.0, min(300.0, step_ms - 30.0))),
        speed_mps=draw(st.floats(2.0, 3.0)),
        vertical_oscillation_cm=draw(st.floats(3.0, 12.0)),
        foot_strike_angle_deg=draw(st.floats(-10.0, 20.0)),
        overstride_cm=draw(st.floats(0.0, 30.0)),
        knee_flexion_ic_deg=draw(st.floats(5.0, 25.0)),
        trunk_lean_deg=draw(st.floats(-2.0, 12.0)),
        elbow_angle_deg=draw(st.floats(60.0, 150.0)),
        peak_heel_lift_deg=draw(st.floats(80.0, 130.0)),
        heel_lift_behind_hip_cm=draw(st.floats(0.0, 25.0)),
        toe_off_foot_angle_deg=draw(st.floats(-55.0, -35.0)),
        heel_off_pct=draw(st.floats(30.0, 65.0)),
        setting=draw(st.sampled_from(["treadmill", "overground"])),
        facing=draw(st.sampled_from(["left", "right"])),
        ground_tilt_deg=draw(st.floats(-5.0, 5.0)),
        first_contact_s=draw(st.floats(0.0, 0.6)),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(p=runner_params())
def test_property_random_runners(p):
    try:
        runner = SyntheticRunner(p)
    except SyntheticParamsError as exc:  # an impossible gait is refused with a reason
        assert "lower" in str(exc) or "raise" in str(exc)
        assume(False)
    ds, truth = runner.generate(duration_s=1.5, fps=30.0, image_size_px=(640, 480))
    validate(ds)
    assert truth.foot_strike_angle_deg == pytest.approx(p.foot_strike_angle_deg, abs=1e-9)
    assert truth.overstride_cm == pytest.approx(p.overstride_cm, abs=1e-9)
    assert truth.knee_flexion_ic_deg == pytest.approx(p.knee_flexion_ic_deg, abs=1e-9)
    assert truth.trunk_lean_deg == pytest.approx(p.trunk_lean_deg, abs=1e-9)
    assert truth.elbow_angle_deg == pytest.approx(p.elbow_angle_deg, abs=1e-9)
    assert truth.peak_knee_flexion_swing_deg >= p.peak_heel_lift_deg - 1e-9
    assert truth.ground_contact_ms + truth.flight_ms == pytest.approx(truth.step_time_ms)
    # every leg stays reachable, every segment keeps its length
    for side in SIDES:
        t, stance, swing = _dense_stances(runner, side, n_strides=1, samples=300)
        w = runner.world_pose_m(t)
        lowest = _lowest_foot_y(w, side)
        np.testing.assert_allclose(lowest[stance], 0.0, atol=1e-12)
        assert lowest[swing].min() > 0.0
        hip, knee, ankle = (w[:, KP[f"{side}_{k}"]] for k in ("hip", "knee", "ankle"))
        np.testing.assert_allclose(np.hypot(*(knee - hip).T), runner.thigh_m, rtol=1e-9)
        np.testing.assert_allclose(np.hypot(*(ankle - knee).T), runner.shank_m, rtol=1e-9)
        assert (knee[:, 0] >= np.minimum(hip[:, 0], ankle[:, 0]) - 1e-9).all()  # bends forward
    ics = truth.events[truth.events["kind"] == "initial_contact"]["side"].tolist()
    assert all(a != b for a, b in zip(ics, ics[1:], strict=False))
    x0, y0, x1, y1 = truth.runner_bbox_px
    assert 0 <= x0 and x1 <= 640 and 0 <= y0 and y1 <= 480


# --------------------------------------------------------------------------------------
# maths
# --------------------------------------------------------------------------------------
def test_quintic_hermite_boundary_conditions():
    h = 0.3
    p0, v0, a0, p1, v1, a1 = 1.0, -2.0, 5.0, -0.5, 0.7, -3.0
    # fit the polynomial's exact derivatives at both ends
    s = np.linspace(0.0, 1.0, 11)
    y = quintic_hermite(s, h, p0, v0, a0, p1, v1, a1)
    poly = np.polynomial.Polynomial.fit(s * h, y, 5).convert()
    d1, d2 = poly.deriv(1), poly.deriv(2)
    assert poly(0) == pytest.approx(p0) and poly(h) == pytest.approx(p1)
    assert d1(0) == pytest.approx(v0) and d1(h) == pytest.approx(v1)
    assert d2(0) == pytest.approx(a0) and d2(h) == pytest.approx(a1)
    # vector-valued end conditions work per column
    yy = quintic_hermite(s, h, [p0, 0.0], [v0, 0.0], [a0, 0.0], [p1, 1.0], [v1, 0.0], [a1, 0.0])
    np.testing.assert_allclose(yy[:, 0], y)
    assert yy[-1, 1] == pytest.approx(1.0)


def test_knee_flexion_of_distance():
    assert knee_flexion_for_distance_deg(0.9, 0.45, 0.45) == pytest.approx(0.0, abs=1e-6)
    assert knee_flexion_for_distance_deg(math.sqrt(2) * 0.45, 0.45, 0.45) == pytest.approx(90.0)


# --------------------------------------------------------------------------------------
# faults
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_add_faults_does_what_it_records(pose_run, seed):
    _, ds, _ = pose_run
    before = ds.copy(deep=True)
    bad, faults = add_faults(ds, dropped_frames=5, low_confidence_spans=3, leg_swaps=3, seed=seed)
    assert ds.identical(before)  # input untouched
    validate(bad)
    assert bad.sizes == ds.sizes
    np.testing.assert_array_equal(bad["time"].values, ds["time"].values)
    assert len(faults.leg_swaps) == 3 and len(faults.dropped_frames) == 5
    assert len(faults.low_confidence_spans) == 3
    p0, p1 = ds["position"].values, bad["position"].values
    c0, c1 = ds["confidence"].values, bad["confidence"].values
    changed = np.zeros(ds.sizes["time"], dtype=bool)
    # dropped frames: all NaN, and only those
    nan_rows = np.isnan(p1).all(axis=(1, 2))
    assert sorted(np.flatnonzero(nan_rows)) == faults.dropped_frames
    assert np.isnan(c1[faults.dropped_frames]).all()
    changed[faults.dropped_frames] = True
    # swaps: every left/right leg keypoint exchanged, nothing else
    legs_l = [KP[f"left_{p}"] for p in LEG_PARTS]
    legs_r = [KP[f"right_{p}"] for p in LEG_PARTS]
    for a, b in faults.leg_swaps:
        assert 3 <= b - a <= 12
        np.testing.assert_array_equal(p1[a:b, legs_l], p0[a:b, legs_r])
        np.testing.assert_array_equal(p1[a:b, legs_r], p0[a:b, legs_l])
        np.testing.assert_array_equal(c1[a:b, legs_l], c0[a:b, legs_r])
        others = [i for i in range(33) if i not in legs_l + legs_r]
        np.testing.assert_array_equal(p1[a:b, others], p0[a:b, others])
        changed[a:b] = True
    assert faults.swap_frames == sorted(i for a, b in faults.leg_swaps for i in range(a, b))
    # low confidence: listed keypoints below 0.3 over the span, positions untouched
    for span in faults.low_confidence_spans:
        a, b = span["start"], span["stop"]
        cols = [KP[k] for k in span["keypoints"]]
        assert (c1[a:b, cols] <= 0.3).all()
        rest = [i for i in range(33) if i not in cols]
        np.testing.assert_array_equal(c1[a:b, rest], c0[a:b, rest])
        np.testing.assert_array_equal(p1[a:b], p0[a:b])
        changed[a:b] = True
    # no other frame changed, and the faults are apart from each other
    np.testing.assert_array_equal(p1[~changed], p0[~changed])
    np.testing.assert_array_equal(c1[~changed], c0[~changed])
    frames = faults.swap_frames + faults.low_confidence_frames + faults.dropped_frames
    assert len(frames) == len(set(frames))
    json.dumps(faults.to_dict())
    # reproducible
    again, faults2 = add_faults(
        ds, dropped_frames=5, low_confidence_spans=3, leg_swaps=3, seed=seed
    )
    assert faults2 == faults and again.identical(bad)


def test_add_faults_jitter_and_limits(pose_run):
    _, ds, _ = pose_run
    noisy, faults = add_faults(ds, jitter_px=2.0, seed=3)
    diff = noisy["position"].values - ds["position"].values
    assert faults.jitter_px == 2.0 and diff.std() == pytest.approx(2.0, rel=0.05)
    with pytest.raises(SyntheticParamsError, match="fewer faults"):
        add_faults(ds, leg_swaps=200)
    with pytest.raises(SyntheticParamsError, match="dropped_frames"):
        add_faults(ds, dropped_frames=-1)
    with pytest.raises(SyntheticParamsError, match="jitter_px"):
        add_faults(ds, jitter_px=float("nan"))


# --------------------------------------------------------------------------------------
# video
# --------------------------------------------------------------------------------------
def test_render_video_decodes(tmp_path):
    ds, _ = SyntheticRunner(RunnerParams.heel_striker(facing="left")).generate(
        duration_s=1.0, fps=30.0, image_size_px=(320, 240)
    )
    bad, _ = add_faults(ds, dropped_frames=2, seed=0)  # NaN frames still give a frame
    path = render_video(bad, tmp_path / "sub" / "runner.mp4")
    assert path.exists()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.average_rate == 30
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == ds.sizes["time"] == 30
    assert frames[0].shape == (240, 320, 3)
    # a figure is drawn (not a blank picture), with bright near-side limbs
    img = frames[5].astype(int)
    orange = (img[..., 0] > 180) & (img[..., 1] < 150) & (img[..., 2] < 100)
    assert orange.sum() > 30
