"""Metrics against the synthetic runner's exact ground truth, plus the pure helpers."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from posecoach import metrics, pipeline, synthetic


@pytest.fixture(scope="module", params=["heel_striker", "pose_runner"])
def analysed(request):
    """A 60 fps synthetic runner (light jitter) analysed end to end, with its truth."""
    p = getattr(synthetic.RunnerParams, request.param)()
    ds, truth = synthetic.SyntheticRunner(p).generate(duration_s=8.0, fps=60.0, seed=3)
    ds, _ = synthetic.add_faults(ds, jitter_px=1.0, seed=3)
    a = pipeline.analyze_poses(ds, height_m=p.height_m, speed_mps=p.speed_mps)
    return request.param, a, truth


def test_timing_metrics_match_truth(analysed):
    name, a, truth = analysed
    s, frame_ms = a.summary, 1000 / 60
    assert s["cadence_spm"]["median"] == pytest.approx(truth.cadence_spm, rel=0.005)
    assert s["ground_contact_ms"]["median"] == pytest.approx(truth.ground_contact_ms, abs=2 * frame_ms)
    assert s["flight_ms"]["median"] == pytest.approx(truth.flight_ms, abs=2 * frame_ms)
    assert s["vertical_oscillation_cm"]["median"] == pytest.approx(truth.vertical_oscillation_cm, abs=0.5)
    assert s["step_length_m"]["median"] == pytest.approx(truth.step_length_m, rel=0.02)
    assert a.gait["classification"] == "running"


def test_landing_metrics_tell_the_two_runners_apart(analysed):
    name, a, truth = analysed
    s = a.summary
    assert a.foot_strike["pattern"] == metrics.strike_class(truth.foot_strike_angle_deg)
    assert s["foot_strike_angle_deg"]["median"] == pytest.approx(truth.foot_strike_angle_deg, abs=4)
    assert s["overstride_cm"]["median"] == pytest.approx(truth.overstride_cm, abs=5)
    assert s["shank_angle_ic_deg"]["median"] == pytest.approx(truth.shank_angle_ic_deg, abs=8)
    assert s["trunk_lean_deg"]["median"] == pytest.approx(truth.trunk_lean_deg, abs=2)
    assert s["elbow_angle_deg"]["median"] == pytest.approx(truth.elbow_angle_deg, abs=5)


def test_every_summary_entry_has_the_fields(analysed):
    _, a, _ = analysed
    for name, entry in a.summary.items():
        assert {"median", "iqr", "n", "left", "right"} <= set(entry), name
    assert a.summary["ground_contact_ms"]["resolution"] == pytest.approx(1000 / 60)


@pytest.mark.parametrize("angle, cls", [(15, "heel"), (8.5, "heel"), (3, "midfoot"), (-1.0, "midfoot"),
                                        (-5, "forefoot"), (float("nan"), "unknown")])
def test_strike_class_thresholds(angle, cls):
    assert metrics.strike_class(angle) == cls


def test_classify_gait():
    run = pd.DataFrame({"flight_ms": [90, 100, 95], "duty_factor_pct": [35, 36, 34]})
    walk = pd.DataFrame({"flight_ms": [-120, -110, -130], "duty_factor_pct": [62, 60, 61]})
    assert metrics.classify_gait(run)[0] == "running"
    assert metrics.classify_gait(walk)[0] == "walking"
    assert metrics.classify_gait(pd.DataFrame())[0] == "unknown"


def test_summary_asymmetry_and_cadence_from_strides():
    steps = pd.DataFrame({
        "side": ["left", "right"] * 4,
        "ground_contact_ms": [200, 220] * 4,
        "stride_time_ms": [700.0] * 8,
        "cadence_spm": [180.0, 163.0] * 4,
    })
    s = metrics.summarise(steps, fps=100)
    assert s["ground_contact_ms"]["asymmetry_pct"] == pytest.approx(20 / 210 * 100)
    assert s["cadence_spm"]["median"] == pytest.approx(120000 / 700)  # strides cancel a side bias
    assert s["ground_contact_ms"]["n"] == 8 and s["ground_contact_ms"]["left"] == 200
    assert np.isfinite(s["ground_contact_ms"]["iqr"])


def test_summary_cadence_asymmetry_is_that_of_its_own_left_and_right():
    """The asymmetry was computed from per-step cadences and left unchanged when left and
    right were replaced by the strides' (24 % beside left 69.2 and right 70.3 spm)."""
    steps = pd.DataFrame({
        "side": ["left", "right"] * 4,
        "stride_time_ms": [700.0, 720.0] * 4,
        "cadence_spm": [180.0, 163.0] * 4,
    })
    c = metrics.summarise(steps, fps=100)["cadence_spm"]
    left, right = 120000 / 700, 120000 / 720
    assert (c["left"], c["right"]) == (pytest.approx(left), pytest.approx(right))
    assert c["asymmetry_pct"] == pytest.approx(abs(left - right) / (0.5 * (left + right)) * 100)
    step_ms = 60000 / c["median"]
    assert c["resolution"] == pytest.approx(60000 / (step_ms - 10) - c["median"])


def test_summary_gives_no_asymmetry_for_offsets_whose_zero_is_a_position():
    """6.8 cm ahead and 6.3 cm behind the ankle was an "asymmetry" of 4956 %."""
    steps = pd.DataFrame({
        "side": ["left", "right"] * 3,
        "shoulder_ahead_of_ankle_midstance_cm": [6.8, -6.27] * 3,
        "overstride_cm": [10.0, 12.0] * 3,
        "vertical_oscillation_cm": [8.0, 10.0] * 3,
    })
    s = metrics.summarise(steps, fps=100)
    for name in ("shoulder_ahead_of_ankle_midstance_cm", "overstride_cm"):
        assert s[name]["asymmetry_pct"] is None and s[name]["left"] is not None
    assert s["vertical_oscillation_cm"]["asymmetry_pct"] == pytest.approx(2 / 9 * 100)


def _steps_from_contacts(ic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-contact (time, time to the next contact in ms) of a chain; the last has no next."""
    return ic, np.r_[np.diff(ic) * 1000, np.nan]


def test_clip_cadence_is_more_precise_than_strides_and_ignores_a_far_off_end():
    # 21 contacts every 0.375 s (160 spm), each off by N(0, 10 ms); the last one 50 ms
    # later still (as a noisy contact at a clip's end can be), 200 clips
    theil, strides = [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        ic = 0.375 * np.arange(21) + rng.normal(0, 0.010, 21)
        ic[-1] += 0.050
        cad, n = metrics.clip_cadence_spm(*_steps_from_contacts(ic))
        assert n == 20
        theil.append(cad / 160 - 1)
        strides.append(120 / np.median(ic[2:] - ic[:-2]) / 160 - 1)
    rms = lambda e: float(np.sqrt(np.mean(np.square(e))))  # noqa: E731
    assert rms(theil) < 0.0025 and rms(theil) < 0.5 * rms(strides)
    # the late end contact shifts the mean step (first to last contact / 20) by 0.67 %;
    # Theil's median of half-chain slopes barely notices it
    assert abs(np.mean(theil)) < 0.001


def test_clip_cadence_skips_split_contacts_missing_steps_and_open_ends():
    ic = list(0.35 * np.arange(12))
    t, step_ms = _steps_from_contacts(np.asarray(ic))
    t, step_ms = list(t), list(step_ms)
    # a contact split in two (two short steps) and a step whose next contact is not the
    # other foot's (NaN) break the chain; a step ending on a contact missing from the
    # table (clip end) is not used
    t[4:5], step_ms[4:5] = [t[4], t[4] + 0.15], [150.0, 200.0]
    step_ms[9] = np.nan
    step_ms[-1] = 330.0  # to a contact cut by the clip's end
    cad, n = metrics.clip_cadence_spm(np.asarray(t), np.asarray(step_ms))
    assert cad == pytest.approx(60 / 0.35)
    assert n == 9
    assert metrics.clip_cadence_spm(np.asarray(t[:3]), np.asarray(step_ms[:3])) is None


@given(
    step_s=st.floats(0.25, 0.6),
    start_s=st.floats(0.0, 5.0),
    breaks=st.lists(st.integers(1, 28), max_size=4),
)
def test_clip_cadence_is_exact_for_even_steps_whatever_the_breaks(step_s, start_s, breaks):
    ic = start_s + step_s * np.arange(30)
    t, step_ms = _steps_from_contacts(ic)
    step_ms[sorted(set(breaks))] = np.nan  # missed contacts break the chain
    cad, _ = metrics.clip_cadence_spm(t, step_ms)
    assert cad == pytest.approx(60 / step_s, rel=1e-9)


def test_summary_cadence_counts_steps_over_their_time():
    ic = 0.4 * np.arange(9) + np.resize([0.012, -0.012], 9)
    steps = pd.DataFrame({
        "side": ["left", "right"] * 4 + ["left"],
        "ic_time_s": ic,
        "step_time_ms": np.r_[np.diff(ic), np.nan] * 1000,
        "stride_time_ms": np.r_[ic[2:] - ic[:-2], np.nan, np.nan] * 1000,
        "cadence_spm": np.r_[60 / np.diff(ic), np.nan],
    })
    s = metrics.summarise(steps, fps=100)["cadence_spm"]
    assert s["median"] == pytest.approx(150.0, rel=1e-9)
    assert s["n"] == 8 and "Theil" in s["method"]


def test_a_contact_given_to_the_other_foot_is_measured_on_the_leg_that_showed_it(analysed):
    """The pose model put the landing foot's labels on the other leg for one whole stance (the
    leg keypoints of both sides exchanged from IC to TO), and the rhythm of the steps gave the
    contact back to its foot: ``side`` is the true foot, ``track`` the leg whose keypoints show
    it. Its foot, knee and ankle values are those of the same stance measured without the
    mix-up; with the ``side`` foot's keypoints they were the swinging foot's (a rotated phone
    clip gave foot angles of -121 and -123 deg this way)."""
    from posecoach import events, kinematics

    _, a, _ = analysed
    body = a.body
    contacts = events.GaitEventDetector().detect(body, a.angles).contacts_
    full = contacts[contacts["complete"]].reset_index(drop=True)
    c = full.iloc[len(full) // 2]
    t = body["time"].values
    w = (t >= c["ic_time_s"] - 0.05) & (t <= c["to_time_s"] + 0.05)
    names = [str(k) for k in body["keypoint"].values]
    pos = body["position"].values.copy()
    for part in ("hip", "knee", "ankle", "heel", "foot_index"):
        i, j = names.index(f"left_{part}"), names.index(f"right_{part}")
        pos[np.ix_(w, [i, j])] = pos[np.ix_(w, [j, i])]
    mixed = body.copy(data={**{k: v.values for k, v in body.data_vars.items()}, "position": pos})
    other = "right" if c["side"] == "left" else "left"
    given_back = full.copy()
    given_back.loc[given_back.index[len(full) // 2], "track"] = other
    stance = ["foot_strike_angle_deg", "shank_angle_ic_deg", "knee_flexion_ic_deg", "overstride_cm",
              "ankle_range_stance_deg", "peak_knee_flexion_stance_deg", "fall_angle_to_deg"]

    def step_values(b, cts):
        m = metrics.StepMetrics(leg_length_m=0.9).compute(b, kinematics.joint_angles(b), cts)
        return m.steps_.iloc[len(full) // 2]

    clean = step_values(body, full)
    fixed = step_values(mixed, given_back)
    assert fixed["side"] == c["side"] and fixed["track"] == other
    for name in stance:
        assert fixed[name] == pytest.approx(clean[name], abs=1e-6), name
    wrong = step_values(mixed, full)  # the labelled foot's keypoints: the swinging foot
    assert abs(wrong["foot_strike_angle_deg"] - clean["foot_strike_angle_deg"]) > 10


# ------------------------------------------------------------ the median's 95 % interval


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=60), st.floats(0.1, 10.0))
def test_median_ci_with_equal_weights_is_scipys_order_statistic_interval(values, w):
    """The weighted path (used for the cadence's slopes) reads the same order statistics
    as SciPy's quantile test when every value weighs the same."""
    from scipy import stats

    x = np.asarray(values)
    ci = stats.quantile_test(x, q=float(np.median(x)), p=0.5).confidence_interval(0.95)
    want = (ci.low, ci.high) if np.isfinite([ci.low, ci.high]).all() else None
    assert metrics.median_ci(x) == want
    assert metrics.median_ci(x, np.full(x.size, w)) == want


def test_median_ci_needs_six_values_and_holds_the_median():
    assert metrics.median_ci(np.arange(5.0)) is None  # 2 x 0.5**5 = 6 % > 5 %
    assert metrics.median_ci(np.r_[np.arange(5.0), np.nan]) is None  # NaN is not a value
    lo, hi = metrics.median_ci(np.arange(6.0))
    assert (lo, hi) == (0.0, 5.0)
    x = np.random.default_rng(0).normal(size=40)
    lo, hi = metrics.median_ci(x)
    assert lo < np.median(x) < hi


@pytest.mark.parametrize("weighted", [False, True])
def test_median_ci_covers_the_true_median_at_least_95_percent_of_the_time(weighted):
    """2,000 skewed samples (exponential, true median ln 2) of 9 values; weighted: 6 of
    them three times as precise (inverse-variance weights), around a true median of 0."""
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(2000):
        if weighted:
            x = np.r_[rng.normal(0, 1, 6), rng.normal(0, 3, 3)]
            ci, truth = metrics.median_ci(x, np.r_[np.full(6, 9.0), np.ones(3)]), 0.0
        else:
            ci, truth = metrics.median_ci(rng.exponential(size=9)), np.log(2)
        hits += ci is not None and ci[0] <= truth <= ci[1]
    assert hits / 2000 >= 0.94  # exact coverage: 96.1 % (n = 9); a little sampling slack


def test_summary_gives_each_median_its_interval(analysed):
    """On a synthetic runner the interval holds the median, and the cadence's (from the
    slopes of contact time against step number) holds the runner's true cadence."""
    _, a, truth = analysed
    for name, entry in a.summary.items():
        ci = entry.get("median_ci95")
        if entry["n"] >= 6 and name != "cadence_spm":
            assert ci is not None and ci[0] <= entry["median"] <= ci[1], name
    lo, hi = a.summary["cadence_spm"]["median_ci95"]
    assert lo <= truth.cadence_spm <= hi
    assert hi - lo < 0.02 * truth.cadence_spm  # 8 s at 60 fps with 1 px of jitter: narrow


def test_summary_interval_is_none_with_fewer_than_six_steps():
    steps = pd.DataFrame({"side": ["left", "right"] * 2 + ["left"],
                          "ground_contact_ms": [200.0, 210, 205, 215, 220]})
    assert metrics.summarise(steps, fps=100)["ground_contact_ms"]["median_ci95"] is None


def test_the_foot_strike_class_is_that_of_the_median_angle():
    """Two heel landings, two forefoot ones and a level one: the median angle (5 deg) is a
    midfoot one, and so is the class; the most frequent class ("heel", first of a tie) is not
    what the summary's angle beside it says. Per foot the same."""
    angles = [12.0, 10.0, -5.0, -4.0, 5.0, 11.0]
    steps = pd.DataFrame({"side": ["left", "right"] * 3, "foot_strike_angle_deg": angles,
                          "foot_strike": [metrics.strike_class(a) for a in angles]})
    fs = metrics.foot_strike_summary(steps)
    assert fs == {"pattern": "midfoot", "left": "midfoot", "right": "heel"}
    assert fs["pattern"] == metrics.strike_class(float(np.median(angles)))
    assert metrics.foot_strike_summary(steps.iloc[:0]) == {
        "pattern": "unknown", "left": "unknown", "right": "unknown"}


def test_pose_instant_sees_a_crossing_between_contact_and_the_next_frame():
    """A 30 fps sprint: the hip passes the ankle 27 cm a frame. The foot lands 24 cm ahead of
    the hip (IC 2.37 s) and the crossing falls before the first frame inside the contact
    (2.40 s, where the hip is already past the ankle); a 2-frame contact holds one frame.
    These used to fall back to IC (the Pose measured at the landing) or to the middle of the
    contact (treadmill sprint clip, frames 72 and 343)."""
    t = np.arange(60, 80) / 30.0
    v = 8.1  # m/s: the hip moves past a planted ankle
    ankle = np.zeros_like(t)
    cross = 2.3987
    hip = v * (t - cross)
    ic, to = 2.3699, 2.4695
    assert metrics.pose_instant(t, hip, ankle, ic, to) == pytest.approx(cross, abs=1e-9)
    # one frame inside the contact (2.4333 s), the crossing after it
    cross2 = 2.45
    hip2 = v * (t - cross2)
    assert metrics.pose_instant(t, hip2, ankle, 2.41, 2.462) == pytest.approx(cross2, abs=1e-9)
    # landing under or behind the hip: the Pose is the contact itself
    assert metrics.pose_instant(t, hip + 1.0, ankle, ic, to) == ic
    # no crossing seen (the hip stays behind): the middle of the contact
    assert metrics.pose_instant(t, hip - 5.0, ankle, ic, to) == pytest.approx(0.5 * (ic + to))


def test_stance_extremes_include_the_values_at_the_events():
    """Contact and toe-off fall between frames: the peak knee flexion in stance read below
    the knee flexion at contact on 14 real steps, as it left out the contact itself."""
    t = np.arange(6) / 25.0
    y = np.array([50.0, 40.0, 30.0, 35.0, 38.0, 10.0])
    span = metrics._span(t, y, 0.02, 0.18)  # contact half-way into frame 0-1, toe-off into 4-5
    assert span[0] == pytest.approx(45.0) and span[-1] == pytest.approx(24.0)
    assert list(span[1:-1]) == [40.0, 30.0, 35.0, 38.0]
    p = synthetic.RunnerParams.heel_striker()
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=6.0, fps=25.0, seed=5)
    ds, _ = synthetic.add_faults(ds, jitter_px=1.5, seed=5)
    s = pipeline.analyze_poses(ds, height_m=p.height_m, speed_mps=p.speed_mps).steps
    ok = s[["peak_knee_flexion_stance_deg", "knee_flexion_ic_deg"]].notna().all(axis=1)
    assert ok.sum() >= 8
    assert (s.loc[ok, "peak_knee_flexion_stance_deg"] >= s.loc[ok, "knee_flexion_ic_deg"] - 1e-9).all()
    late = s[["min_knee_flexion_late_stance_deg", "peak_knee_flexion_stance_deg"]].dropna()
    assert (late.iloc[:, 0] <= late.iloc[:, 1] + 1e-9).all()
