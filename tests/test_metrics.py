"""Metrics against the synthetic runner's exact ground truth, plus the pure helpers."""

import numpy as np
import pandas as pd
import pytest

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
