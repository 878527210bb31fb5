"""Tests of posecoach.events: the maths on exact signals, then the detector on the synthetic runner.

The synthetic runner (:mod:`posecoach.synthetic`) gives exact event times; its pose dataset goes
through the cleaning stage (mask, swap repair, gap filling, zero-lag low-pass) exactly as in
:func:`posecoach.pipeline.analyze_poses`, then into the body frame with the runner's true
ground line and scale, so these tests judge the event detector alone. The whole pipeline
(scene estimation included) is measured by ``scripts/accuracy.py``.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from posecoach import events, filtering, kinematics
from posecoach.errors import PoseDataError
from posecoach.events import EventSettingsError, GaitEventDetector
from posecoach.synthetic import RunnerParams, SyntheticParamsError, SyntheticRunner, add_faults

EDGE_S = 0.1  # events this close to the clip's ends are not judged


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def body_of(ds, truth, *, clean: bool = True):
    """Cleaned (as in the pipeline) body-frame dataset with the runner's true geometry."""
    if clean:
        ds = filtering.clean(ds)[0]
    return kinematics.to_body_frame(
        ds, facing=truth.facing, px_per_m=truth.px_per_m, ground_y_px=truth.ground_y_px,
        ground_slope=truth.ground_slope, ground_x0_px=truth.ground_x0_px,
    )


def detect(ds, truth, **kwargs) -> GaitEventDetector:
    body = body_of(ds, truth)
    return GaitEventDetector(**kwargs).detect(body, kinematics.joint_angles(body))


def match(det: pd.DataFrame, truth, *, tol_s: float = 0.08):
    """(errors, missing, spurious) of :func:`events.match_events` against the synthetic
    truth; errors gain ``err_frames`` (detected minus true frame)."""
    err, missing, spurious = events.match_events(det, truth.events, tol_s=tol_s,
                                                 t_end_s=truth.duration_s, edge_s=EDGE_S)
    return err.assign(err_frames=err["det_frame"] - err["ref_frame"]), missing, spurious


def contact_time_error_s(det: GaitEventDetector, truth) -> float:
    c = det.contacts_[det.contacts_["complete"]]
    return float(np.median(c["to_time_s"] - c["ic_time_s"])) - truth.ground_contact_ms / 1000.0


def cadence_spm(det: GaitEventDetector) -> float:
    """120 000 / median stride time of the detected contacts (the summary's fallback; its
    own value is :func:`posecoach.metrics.clip_cadence_spm`, which needs the step table)."""
    strides = []
    for side in ("left", "right"):
        ic = np.sort(det.contacts_.loc[det.contacts_["side"] == side, "ic_time_s"].dropna())
        strides += list(np.diff(ic))
    return 120.0 / float(np.median(strides))


def unit_hinge(t: np.ndarray, t0: float, speed: float = 1.0) -> np.ndarray:
    return speed * np.clip(t0 - t, 0.0, None)


# --------------------------------------------------------------------------------------------
# the maths, on exact signals
# --------------------------------------------------------------------------------------------


def test_hysteresis_enters_low_leaves_high_and_nan_ends_contact():
    h = np.array([5, 3, 1, 0, 2, 3.5, 2, 5, 6, 0, np.nan, 0, 6], dtype=float)
    mask = events.hysteresis(h, on=1.0, off=4.0)
    assert mask.tolist() == [False, False, True, True, True, True, True, False, False, True,
                             False, True, False]


def test_segment_contacts_merges_only_lifts_shorter_than_a_swing():
    t = np.arange(40) / 100.0
    low = np.full(40, 0.3)
    low[5:12] = 0.0
    low[13:20] = 0.0  # one-sample lift (10 ms): noise
    low[30:36] = 0.0  # after a 100 ms lift: a new contact
    runs = events.segment_contacts(t, low, 0.05, 0.2, min_swing_s=0.05)
    assert runs == [(5, 20), (30, 36)]


def test_band_crossing_on_a_sampled_ramp_is_exact():
    t = np.arange(0, 0.5, 0.01)
    h = unit_hinge(t, 0.2345, speed=0.8)
    c = events.band_crossing(t, h, 25, 0.02, downward=True, lo=0, hi=len(t))
    assert c is not None
    assert c.time_s == pytest.approx(0.2345 - 0.02 / 0.8, abs=1e-9)
    # the two samples that bracket the crossing
    assert t[c.index_before] < c.time_s <= t[c.index_after]
    assert c.index_after == c.index_before + 1


def test_band_crossing_none_when_point_never_comes_down():
    t = np.arange(0, 0.5, 0.01)
    h = np.full(t.size, 0.3)
    assert events.band_crossing(t, h, 25, 0.02, downward=True, lo=0, hi=len(t)) is None


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), downward=st.booleans())
def test_band_crossing_times_match_band_crossing_for_every_band(seed, downward):
    """The table form used by kink_response finds the crossing band_crossing finds, band by
    band, on any finite trace (noisy walks with bands inside and outside their range)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 60))
    t = np.arange(n) / 60.0
    h = np.cumsum(rng.normal(0, 0.01, n)) + rng.normal(0, 0.005, n)
    anchor = int(rng.integers(1, n - 1))
    bands = np.concatenate([np.abs(rng.normal(0, 0.02, 12)) + 1e-4, [h.max() + 1, h.min() - 1]])
    got = events._band_crossing_times(t, h, anchor, bands, downward=downward)
    for band, g in zip(bands, got, strict=True):
        c = events.band_crossing(t, h, anchor, band, downward=downward, lo=0, hi=n)
        if c is None:
            assert np.isnan(g)
        else:
            assert g == c.time_s


def test_kink_response_without_filter_is_the_raw_geometry():
    keys, offsets, slopes, _ = events.kink_response("hinge", 100.0, float("nan"), 2)
    mid = (keys > 0.02) & (keys < 0.1)
    # a ramp at 1 m/s crosses the band `key` exactly `key` before touch-down
    np.testing.assert_allclose(offsets[mid], -keys[mid], atol=1e-9)
    np.testing.assert_allclose(slopes[mid], -1.0, rtol=1e-6)
    keys, offsets, slopes, _ = events.kink_response("parabola", 100.0, float("nan"), 2)
    mid = (keys > 0.03) & (keys < 0.1)
    # linear interpolation between samples of a parabola is only a little off
    np.testing.assert_allclose(offsets[mid], keys[mid], atol=0.05 * 0.01)


@pytest.mark.parametrize("fps", [30.0, 60.0, 120.0, 240.0])
@pytest.mark.parametrize("shape", ["hinge", "parabola"])
def test_fit_event_timing_undoes_the_low_pass_filter(fps, shape):
    """Events seen through the cleaning filter are timed to a small fraction of a frame."""
    dt = 1.0 / fps
    cutoff = filtering.default_cutoff_hz(fps)
    rng = np.random.default_rng(3)
    true_times = np.arange(12) * 0.4 + 0.5 + rng.uniform(0, dt, 12)  # all sub-frame phases
    t = np.arange(0, 5.5, dt)
    h = np.zeros_like(t)
    rate = 0.7 if shape == "hinge" else 20.0
    for t0 in true_times:  # a ramp down into each event (or a parabola up out of it)
        if shape == "hinge":
            h += rate * np.clip(t0 - t, 0.0, 0.15) * (t > t0 - 0.3)
        else:
            h += rate * np.clip(t - t0, 0.0, 0.1) ** 2 * (t < t0 + 0.3)
    h = filtering.butterworth_zero_lag(h, fps, cutoff, 2)
    down = shape == "hinge"
    anchors = [int(np.searchsorted(t, t0 + (0.01 if down else 0.0))) for t0 in true_times]
    los = [max(0, a - int(0.15 / dt)) for a in anchors]
    his = [min(len(t), a + int(0.15 / dt)) for a in anchors]

    def crossings(band):
        return [events.band_crossing(t, h, a, band, downward=down, lo=lo, hi=hi)
                for a, lo, hi in zip(anchors, los, his, strict=True)]

    ratio = events.SECANT_BAND_RATIO[shape]

    def measure(band):
        v = [events._secant(c1, c2, band, ratio)
             for c1, c2 in zip(crossings(band), crossings(ratio * band), strict=True)]
        return float(np.nanmedian(v))

    tm = events.fit_event_timing(measure, shape=shape, noise_m=0.0005, fps=fps, cutoff_hz=cutoff,
                                 order=2, target_s=0.005)
    assert tm is not None
    est = np.array([c.time_s - tm.offset_s for c in crossings(tm.band_m)])
    err = est - true_times
    assert np.max(np.abs(err)) < 0.25 * dt + 5e-4  # a small fraction of a frame
    assert tm.rate == pytest.approx(rate, rel=0.15)


def test_local_level_is_zero_on_level_data_and_follows_a_dipping_toe():
    toe = np.zeros(30)
    assert events.local_level(toe, 0, 30, 0.001, late=True) == 0.0
    toe[20:30] = -np.linspace(0, 0.03, 10)  # a rigid toe marker dipping in push-off
    assert events.local_level(toe, 0, 30, 0.001, late=True) < -0.02
    assert events.local_level(toe, 0, 30, 0.001, late=False) == 0.0


def test_stance_noise_recovers_gaussian_noise():
    rng = np.random.default_rng(0)
    sigma = 0.003
    heel = rng.normal(0, sigma, 4000)
    toe = rng.normal(0, sigma, 4000)
    runs = [(a, a + 40) for a in range(0, 4000, 80)]
    est = events.stance_noise(np.fmin(heel, toe), runs)
    assert est == pytest.approx(sigma, rel=0.25)


def test_rolling_level_follows_a_slow_drift_of_the_ground():
    t = np.arange(0, 10, 0.01)
    stance = (np.mod(t, 0.7) < 0.25)
    drift = 0.01 * t  # 1 cm per second, e.g. a ground line fitted with the wrong tilt
    h = np.where(stance, 0.0, 0.2) + drift
    lev = events.rolling_level(t, h)
    inner = (t > 1.5) & (t < 8.5)
    np.testing.assert_allclose(lev[inner], drift[inner], atol=0.012)


def _contacts(rows):
    cols = ["side", "first_index", "last_index", "ic_confidence", "to_confidence"]
    return pd.DataFrame(rows, columns=cols)


def test_merge_duplicate_contacts_keeps_the_more_confident_copy():
    c = _contacts([("left", 0, 20, 0.9, 0.9), ("right", 1, 21, 0.5, 0.5),
                   ("right", 40, 60, 0.9, 0.9), ("left", 58, 80, 0.9, 0.9)])
    out, n = events.merge_duplicate_contacts(c)
    assert n == 1
    assert out["first_index"].tolist() == [0, 40, 58]  # a short double support stays


def test_alternate_sides_gives_a_second_landing_within_a_step_to_the_other_foot():
    t = np.arange(200) / 100.0
    c = _contacts([("left", 0, 10, 1, 1), ("right", 30, 40, 1, 1), ("right", 60, 70, 1, 1),
                   ("right", 90, 100, 1, 1), ("left", 120, 130, 1, 1)])
    out, n = events.alternate_sides(c, t)
    assert n == 1
    assert out["side"].tolist() == ["left", "right", "left", "right", "left"]
    # a missing contact (same side a stride apart) is left alone
    c2 = _contacts([("left", 0, 10, 1, 1), ("right", 30, 40, 1, 1), ("left", 60, 70, 1, 1),
                    ("left", 120, 130, 1, 1), ("right", 150, 160, 1, 1)])
    assert events.alternate_sides(c2, t)[1] == 0



def _steps(rows, *, ic_dt=0.0):
    """Contacts (side, start index, stance speed m/s) at 100 samples/s, IC at the start."""
    t = np.arange(2000) / 100.0
    c = pd.DataFrame(
        [{"side": s, "ic_time_s": t[a] + ic_dt, "to_time_s": t[a + 8], "ic_frame": a,
          "to_frame": a + 8, "ic_confidence": 0.9, "to_confidence": 0.9, "first_index": a,
          "last_index": a + 8, "complete": True, "time_scale": 1.0, "stance_speed_mps": v}
         for s, a, v in rows])
    return c, t


def test_local_steps_use_intervals_between_the_two_tracks_in_their_own_time():
    c, t = _steps([("left", 0, 5), ("right", 30, 5), ("left", 60, 5), ("right", 90, 5),
                   ("left", 120, 5)])
    np.testing.assert_allclose(events.local_steps(c, t), 0.3)
    c.loc[3:, "time_scale"] = 4.0  # a 4x slow-motion end: expected steps 4x longer there
    c.loc[4, "first_index"] = 210
    c.loc[4, "ic_time_s"] = 2.1
    c.loc[3, "first_index"], c.loc[3, "ic_time_s"] = 90, 0.9
    assert events.local_steps(c, t)[4] > 3 * events.local_steps(c, t)[0]
    # one foot only (the other never seen): no step to go by
    one = c[c["side"] == "left"]
    assert np.isnan(events.local_steps(one, t)).all()


def test_merge_coincident_contacts_makes_one_landing_of_two_copies():
    # one landing at 60 seen on the right track (moving with the ground) and 5 samples later
    # on the left one (slower): one contact, timed by the copy that moves with the ground
    c, t = _steps([("left", 0, 5), ("right", 30, 5), ("right", 60, 5), ("left", 65, 2),
                   ("right", 90, 5), ("left", 120, 5)])
    out, n = events.merge_coincident_contacts(c, t, np.full(len(c), 0.3))
    assert n == 1
    assert out["ic_frame"].tolist() == [0, 30, 60, 90, 120]
    assert out.loc[2, "last_index"] == 73  # ends with the later copy
    # a late IC a little more than a third of a step after the previous one stays
    c2, _ = _steps([("left", 0, 5), ("right", 30, 5), ("left", 42, 5), ("right", 90, 5)])
    assert events.merge_coincident_contacts(c2, t, np.full(4, 0.3))[1] == 0


def test_merge_coincident_contacts_prefers_a_whole_copy_to_a_fragment():
    """Three copies of one landing (the treadmill clip's IC 223 in slow motion: a 3-frame
    fragment on one track with no toe-off, then whole stances on the other track and on the
    first): the merged IC is the fastest *whole* copy's; the fragment's speed, a slope over
    three frames, is no stance speed (it read 13.9 m/s there against 6.2 and 4.6)."""
    c, t = _steps([("left", 0, 5), ("right", 30, 5), ("left", 57, 14), ("right", 60, 6),
                   ("left", 66, 4.5), ("right", 90, 5), ("left", 120, 5)])
    frag = 2
    c.loc[frag, ["to_time_s", "to_frame", "complete"]] = [np.nan, -1, False]
    c.loc[frag, "last_index"] = 59
    out, n = events.merge_coincident_contacts(c, t, np.full(len(c), 0.3))
    assert n == 2
    assert out["ic_frame"].tolist() == [0, 30, 60, 90, 120]  # the whole copy at 60, not 57
    assert out.loc[2, "last_index"] == 74 and bool(out.loc[2, "complete"])
    # with the fragment whole too, its faster foot wins as before
    c.loc[frag, ["to_time_s", "to_frame", "complete"]] = [t[65], 65, True]
    assert events.merge_coincident_contacts(c, t, np.full(len(c), 0.3))[0]["ic_frame"].tolist()[2] == 57


def test_drop_extra_contacts_keeps_the_rhythm_and_the_feet_that_move_with_the_ground():
    rows = [("left", a, 5) for a in range(0, 300, 60)] + [("right", a, 5) for a in range(30, 300, 60)]
    # an extra contact halving a step whose foot moves at a third of the ground speed
    c, t = _steps(sorted(rows + [("right", 135, 1.7)], key=lambda r: r[1]))
    out, n = events.drop_extra_contacts(c, t, np.full(len(c), 0.3))
    assert n == 1 and 135 not in out["first_index"].tolist()
    # a contact moving with the ground that splits a step 1:2 is kept (0.56 kept, 0.6 dropped)
    c, t = _steps(sorted(rows + [("right", 130, 5)], key=lambda r: r[1]))
    assert events.drop_extra_contacts(c, t, np.full(len(c), 0.3))[1] == 0
    # a contact not seen (two steps between neighbours) drops nothing
    c, t = _steps([r for r in sorted(rows, key=lambda r: r[1]) if r[1] != 150])
    assert events.drop_extra_contacts(c, t, np.full(len(c), 0.3))[1] == 0


def test_assign_sides_alternates_with_the_majority_of_the_tracks():
    truth = ["left", "right"] * 6
    tracks = list(truth)
    tracks[7], tracks[8] = tracks[8], tracks[7]  # the legs' labels swapped over two contacts
    c, t = _steps([(s, 30 * i, 5) for i, s in enumerate(tracks)])
    out, n = events.assign_sides(c, t, np.full(len(c), 0.3))
    assert n == 2 and out["side"].tolist() == truth
    # a gap of two steps (a contact not seen): the parity after it is voted again
    rows = [(s, 30 * i, 5) for i, s in enumerate(truth) if i != 6]
    c, t = _steps(rows)
    out, n = events.assign_sides(c, t, np.full(len(c), 0.3))
    assert n == 0 and out["side"].tolist() == [r[0] for r in rows]


def test_lowpass_record_reads_the_cleaning_report():
    assert events.lowpass_record({"cleaning": json.dumps({"cutoff_hz": 7.5})}) == (7.5, 2)
    cutoff, _ = events.lowpass_record({})
    assert np.isnan(cutoff)
    assert np.isnan(events.lowpass_record({"cleaning": "not json"})[0])


@pytest.mark.parametrize("bad", [{"on_fraction": -1}, {"off_fraction": 0.01, "on_fraction": 0.1},
                                 {"min_confidence": 2.0}, {"target_ms": float("nan")},
                                 {"lowpass_hz": -5.0}, {"max_gap_frames": 0}])
def test_bad_settings_raise_a_clear_error(bad):
    with pytest.raises(EventSettingsError, match="GaitEventDetector|lowpass_hz|off_fraction"):
        GaitEventDetector(**bad)


def test_pixel_dataset_is_refused():
    ds, _ = SyntheticRunner(RunnerParams.pose_runner()).generate(duration_s=1.0, fps=30.0)
    with pytest.raises(PoseDataError, match="to_body_frame"):
        GaitEventDetector().detect(ds)


# --------------------------------------------------------------------------------------------
# the detector on the synthetic runner
# --------------------------------------------------------------------------------------------

PRESETS = {"heel_striker": RunnerParams.heel_striker, "pose_runner": RunnerParams.pose_runner}


@pytest.fixture(scope="module")
def clean_runs():
    out = {}
    for name, make in PRESETS.items():
        for fps in (30.0, 60.0, 120.0):
            ds, truth = SyntheticRunner(make()).generate(duration_s=5.0, fps=fps, seed=0)
            out[name, fps] = (ds, truth, detect(ds, truth))
    return out


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("fps", [30.0, 60.0, 120.0])
def test_clean_runner_every_event_within_one_frame(clean_runs, name, fps):
    ds, truth, det = clean_runs[name, fps]
    err, missing, spurious = match(det.events_, truth)
    assert not missing
    assert spurious.empty, spurious
    assert err["err_frames"].abs().max() <= 1
    assert abs(cadence_spm(det) / truth.cadence_spm - 1) < 0.005
    assert abs(contact_time_error_s(det, truth)) < 1.0 / fps
    assert det.contacts_["complete"].sum() >= len(truth.events) // 2 - 2
    assert not det.warnings_


@pytest.mark.parametrize("name", list(PRESETS))
def test_sub_frame_timing_does_not_get_worse_with_frame_rate(clean_runs, name):
    med = {}
    for fps in (30.0, 60.0, 120.0):
        _, truth, det = clean_runs[name, fps]
        err, _, _ = match(det.events_, truth)
        med[fps] = float(err["err_s"].abs().median())
    # the velocity cues carry a bias of their own that does not shrink with the frame rate
    # (the Pose runner's foot slows before contact: ~-6 ms at every rate), so allow 4 ms
    assert med[120.0] <= med[30.0] + 0.004
    assert med[120.0] < 0.008


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("fps", [30.0, 60.0, 120.0])
@pytest.mark.parametrize("seed", [1, 2])
def test_noise_drops_and_swaps_every_event_found_none_invented(name, fps, seed):
    ds, truth = SyntheticRunner(PRESETS[name]()).generate(duration_s=6.0, fps=fps, seed=seed)
    noisy, _ = add_faults(ds, jitter_px=1.5, dropped_frames=4, leg_swaps=2, seed=seed)
    det = detect(noisy, truth)
    err, missing, spurious = match(det.events_, truth)
    assert not missing
    assert spurious.empty, spurious
    ic = err[err["kind"] == "initial_contact"]["err_frames"].abs()
    # the target is every IC within one frame; over 15 seeds 99-100 % of the ICs are,
    # the worst 2 frames off (docs/accuracy.md), so this guards what is reached
    assert ic.median() <= 1
    assert (ic <= 1).mean() >= 0.9
    assert ic.max() <= 3
    assert abs(cadence_spm(det) / truth.cadence_spm - 1) < 0.01


def test_heel_striker_with_noise_at_120_fps_seed_1_every_ic_within_one_frame():
    """The IC target on one clip (over 15 seeds 98 % of such ICs are: docs/accuracy.md)."""
    ds, truth = SyntheticRunner(RunnerParams.heel_striker()).generate(duration_s=6.0, fps=120.0,
                                                                       seed=1)
    noisy, _ = add_faults(ds, jitter_px=1.5, dropped_frames=4, leg_swaps=2, seed=1)
    det = detect(noisy, truth)
    err, missing, spurious = match(det.events_, truth)
    assert not missing and spurious.empty
    assert err[err["kind"] == "initial_contact"]["err_frames"].abs().max() <= 1
    assert abs(contact_time_error_s(det, truth)) < 1 / 120.0


def test_low_confidence_spans_give_no_event_where_the_foot_is_not_seen():
    p = RunnerParams.pose_runner()
    fps = 60.0
    ds, truth = SyntheticRunner(p).generate(duration_s=6.0, fps=fps, seed=4)
    faulty, faults = add_faults(ds, jitter_px=0.5, low_confidence_spans=6, span_frames=(8, 14),
                                seed=4)
    body = body_of(faulty, truth)
    det = GaitEventDetector().detect(body, kinematics.joint_angles(body))
    err, missing, spurious = match(det.events_, truth)
    assert spurious.empty, spurious
    t = body["time"].values
    found = {(k, s, round(x, 6)) for k, s, x in err[["kind", "side", "time_s"]].itertuples(index=False)}
    n_hidden = 0
    for r in truth.events.itertuples():
        if not EDGE_S <= r.time_s <= truth.duration_s - EDGE_S:
            continue
        seen = events.foot_signals(body, r.side).seen
        visible = events._seen_around(t, seen, r.time_s, 2.0 / fps)
        if not visible:  # the foot is not seen there: no event may be placed
            n_hidden += 1
            assert (r.kind, r.side, round(r.time_s, 6)) not in found
        elif (r.kind, r.side, r.time_s) in missing:
            # seen, yet missed: only allowed right next to a span (its timing band is hidden)
            assert any(s["start"] - 8 <= r.time_s * fps <= s["stop"] + 8
                       for s in faults.low_confidence_spans)
    assert n_hidden >= 1  # the spans did hide something
    assert len(missing) <= n_hidden + 2


def test_left_facing_overground_runner():
    p = RunnerParams.heel_striker(facing="left", setting="overground")
    ds, truth = SyntheticRunner(p).generate(duration_s=4.0, fps=60.0, seed=2)
    det = detect(ds, truth)
    err, missing, spurious = match(det.events_, truth)
    assert not missing and spurious.empty
    assert err["err_frames"].abs().max() <= 1


def test_a_ground_line_fitted_slightly_off_does_not_lose_contacts():
    """A tilt error of 1 deg lifts the contacts on one side of the picture by centimetres."""
    p = RunnerParams.pose_runner(setting="overground", ground_tilt_deg=4.0)
    ds, truth = SyntheticRunner(p).generate(duration_s=4.0, fps=60.0, seed=2)
    wrong = replace(truth, ground_slope=float(np.tan(np.radians(3.0))))
    det = detect(ds, wrong)
    err, missing, spurious = match(det.events_, truth)
    assert not missing and spurious.empty
    assert err["err_frames"].abs().median() <= 1
    assert err["err_frames"].abs().max() <= 4


def test_events_and_contacts_tables_keep_their_contract(clean_runs):
    _, _, det = clean_runs["pose_runner", 60.0]
    assert list(det.events_.columns) == events.EVENT_COLUMNS
    assert list(det.contacts_.columns) == events.CONTACT_COLUMNS
    assert det.events_["time_s"].is_monotonic_increasing
    c = det.contacts_[det.contacts_["complete"]]
    assert (c["to_time_s"] > c["ic_time_s"]).all()
    assert set(det.levels_) == {"left", "right"}
    # frame = first frame at or after the event (frames are 0, 1, ... at k / 60 s here)
    expected = np.ceil(det.events_["time_s"].to_numpy() * 60.0 - 1e-6).astype(int)
    assert (det.events_["frame"].to_numpy() == expected).all()


# --------------------------------------------------------------------------------------------
# properties over many random runners
# --------------------------------------------------------------------------------------------


@st.composite
def runners(draw):
    kw = {
        "cadence_spm": draw(st.floats(150.0, 200.0)),
        "ground_contact_ms": draw(st.floats(160.0, 320.0)),
        "speed_mps": draw(st.floats(2.0, 6.0)),
        "foot_strike_angle_deg": draw(st.floats(-15.0, 25.0)),
        "overstride_cm": draw(st.floats(-5.0, 35.0)),
        "vertical_oscillation_cm": draw(st.floats(4.0, 12.0)),
        "heel_off_pct": draw(st.floats(30.0, 80.0)),
        "knee_flexion_ic_deg": draw(st.floats(5.0, 30.0)),
        "setting": draw(st.sampled_from(["treadmill", "overground"])),
        "facing": draw(st.sampled_from(["left", "right"])),
        "ground_tilt_deg": draw(st.floats(-5.0, 5.0)),
    }
    try:
        return SyntheticRunner(RunnerParams(**kw))
    except SyntheticParamsError:
        assume(False)


@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(runner=runners(), seed=st.integers(0, 1000))
def test_property_random_runners_every_event_found_none_invented(runner, seed):
    try:
        ds, truth = runner.generate(duration_s=3.0, fps=60.0, seed=seed)
    except SyntheticParamsError:
        assume(False)
    noisy, _ = add_faults(ds, jitter_px=0.5, seed=seed)
    det = detect(noisy, truth)
    err, missing, spurious = match(det.events_, truth)
    assert not missing
    assert spurious.empty, spurious
    assert err["err_frames"].abs().max() <= 3
    assert err["err_frames"].abs().median() <= 1
    c = det.contacts_
    assert (c.loc[c["complete"], "to_time_s"] > c.loc[c["complete"], "ic_time_s"]).all()


# --------------------------------------------------------------------------- velocity cues


def test_velocity_crossing_first_and_last_interpolated():
    t = np.arange(10) * 0.1
    v = np.array([3, 2, 0, 2, 0, -1, 0, 0, 0, 0], dtype=float)  # falls through 1 twice
    first = events.velocity_crossing(t, v, 1.0, 0, 9, falling=True, last=False)
    last = events.velocity_crossing(t, v, 1.0, 0, 9, falling=True, last=True)
    assert first == pytest.approx(0.15)
    assert last == pytest.approx(0.35)
    assert np.isnan(events.velocity_crossing(t, v, 5.0, 0, 9, falling=True, last=False))


def test_refine_initial_contact_finds_where_the_foot_stops_on_the_ground():
    """Heel relative to the pelvis: forward at 1 m/s over the ground until 0.5 s, then fixed
    to a belt moving back at 3 m/s; contact is when its ground speed drops to 0.2 x 3 m/s."""
    dt = 1 / 240
    t = np.arange(0, 1.0, dt)
    t_ic, belt = 0.5, 3.0
    # ground speed falls linearly from 1 m/s to 0 over the 20 ms before contact
    ground = np.clip((t_ic - t) / 0.02, 0, 1) * 1.0
    u = ground - belt  # velocity relative to the (still) pelvis
    x = np.concatenate([[0.0], np.cumsum(0.5 * (u[1:] + u[:-1]) * dt)])
    got = events.refine_initial_contact(t, np.gradient(x, t), t_ic + 0.03, (t_ic, t_ic + 0.2))
    # 0.2 x 3 m/s = 0.6 m/s of ground speed is reached 0.6 x 20 ms = 12 ms before contact
    assert got == pytest.approx(t_ic - 0.012, abs=0.002)
    # a heel that never slows gives no cue (the caller keeps its height-based time)
    flat = -belt * t
    assert np.isnan(events.refine_initial_contact(t, np.gradient(flat, t), 0.53, (0.5, 0.7)))
    assert np.isnan(events.refine_initial_contact(t, np.gradient(x, t), np.nan, (0.5, 0.7)))


def test_refine_initial_contact_looks_back_when_the_heel_stopped_before_the_window():
    """30 fps: the heel lands at 0.1 s (its ground speed falls from 1 m/s to 0 over 20 ms),
    but noise kept the height-based IC 74 ms late, so the cue's 60 ms window opens after the
    heel has stopped. Without ``back_s`` there is no cue; with it the stop before the window
    is found, within a frame of the contact."""
    dt = 1 / 30
    t = np.arange(0, 1.0, dt)
    fine = np.arange(0, 1.0, 1 / 3000)
    t_ic, belt = 0.1, 3.0
    u_fine = np.clip((t_ic - fine) / 0.02, 0, 1) * 1.0 - belt
    x_fine = np.concatenate([[0.0], np.cumsum(0.5 * (u_fine[1:] + u_fine[:-1]) / 3000)])
    ux = np.gradient(np.interp(t, fine, x_fine), t)
    late = t_ic + 0.074
    stance = (late, 0.33)
    assert np.isnan(events.refine_initial_contact(t, ux, late, stance))
    got = events.refine_initial_contact(t, ux, late, stance, back_s=0.06)
    assert abs(got - t_ic) < dt
    # a cue found in the window is kept whatever back_s says
    near = events.refine_initial_contact(t, ux, t_ic + 0.02, stance)
    assert events.refine_initial_contact(t, ux, t_ic + 0.02, stance, back_s=0.06) == near


def test_first_contact_of_a_clip_is_timed_when_its_height_based_ic_is_late():
    """Heel striker, 30 fps, noise, drops and swaps (docs/accuracy.md's case, seed 10): the
    right foot lands 0.1 s into the clip and noise keeps its filtered heel near the band, so
    the height-based IC is 74 ms late and the velocity cue's window opens after the heel
    stopped. The IC is within one frame of the truth."""
    from posecoach import pipeline

    p = RunnerParams.heel_striker()
    ds, truth = SyntheticRunner(p).generate(duration_s=8.0, fps=30.0, seed=10)
    ds, _ = add_faults(ds, seed=110, jitter_px=1.5, dropped_frames=6, leg_swaps=2)
    a = pipeline.analyze_poses(ds, height_m=p.height_m, speed_mps=p.speed_mps)
    m, missing, spurious = events.match_events(a.events, truth.events, t_end_s=truth.duration_s,
                                               tol_s=0.08, edge_s=0.1)
    assert len(missing) == 0 and len(spurious) == 0
    ic = m[m["kind"] == "initial_contact"]
    first = ic.loc[ic["time_s"].idxmin()]
    assert first["time_s"] == pytest.approx(0.1) and first["side"] == "right"
    assert abs(first["err_s"]) < 1 / 30
    assert (ic["det_frame"] - ic["ref_frame"]).abs().max() <= 1


@pytest.mark.parametrize("fps", [30.0, 120.0])
def test_clips_cut_at_any_phase_of_the_stride_time_every_event_or_leave_it_out(fps):
    """Clean runner, 4-s clips starting at every phase of a stride. Every reported event is
    within one frame of the truth (also the first and last, which the accuracy tables do
    not judge); events within ``EDGE_GUARD_S`` of the clip's ends are left out (they came
    up to 5 frames off: the velocity cues and the zero-lag filter need the signals on both
    sides) and every other event is found. A clip starting just after a toe-off holds a few
    frames of the swing with the toe still low: that is not a contact that breaks the
    rhythm because the pose model mixed up the legs, and no such warning is given (found
    on a 20-min synthetic run)."""
    from posecoach import pipeline

    p = RunnerParams()
    runner = SyntheticRunner(p)
    ds, _ = runner.generate(duration_s=6.0, fps=fps, seed=0)
    truth = runner.events(-1.0, 7.0)
    t = ds["time"].values
    n = int(4 * fps)
    for k in range(0, int(round(p.stride_time_s * fps)), max(1, int(fps // 15))):
        clip = ds.isel(time=slice(k, k + n))
        clip = clip.assign_coords(time=clip["time"].values - t[k], frame=("time", np.arange(n)))
        a = pipeline.analyze_poses(clip, height_m=p.height_m, speed_mps=p.speed_mps)
        assert not [w for w in a.quality["warnings"] if "mixed up the legs" in w], (k, a.quality)
        ref = truth.assign(time_s=truth["time_s"] - t[k])
        end = (n - 1) / fps
        ref = ref[(ref["time_s"] >= 0) & (ref["time_s"] <= end)]
        m, missing, spurious = events.match_events(a.events, ref, t_end_s=end, tol_s=0.08,
                                                   edge_s=events.EDGE_GUARD_S + 1 / fps)
        assert not missing and spurious.empty, k
        err_frames = []
        for e in a.events.itertuples():
            r = ref[(ref["side"] == e.side) & (ref["kind"] == e.kind)]["time_s"].to_numpy()
            err_frames.append(np.min(np.abs(r - e.time_s)) * fps)
        assert max(err_frames) <= 1.0, (k, err_frames)
        assert a.events["time_s"].between(events.EDGE_GUARD_S, end - events.EDGE_GUARD_S).all()


def test_events_near_the_ends_of_the_runners_time_in_view_are_left_out():
    """Clean runner, 60 fps, in view only from 0.5 s to 3.5 s of a 4-s clip (nobody detected
    before and after, as when a runner passes a static camera or the frames crossing the
    picture's edge were masked): the guard of the clip's ends applies to the ends of the time
    in view, at every phase of the stride; every other event is found within a frame."""
    from posecoach import pipeline

    p = RunnerParams()
    fps = 60.0
    runner = SyntheticRunner(p)
    ds, _ = runner.generate(duration_s=5.0, fps=fps, seed=0)
    truth = runner.events(-1.0, 6.0)
    n = int(4 * fps)
    for k in range(0, int(round(p.stride_time_s * fps)), 6):
        clip = ds.isel(time=slice(k, k + n))
        t = clip["time"].values - clip["time"].values[0]
        clip = clip.assign_coords(time=t, frame=("time", np.arange(n)))
        pos = clip["position"].values.copy()
        pos[: int(0.5 * fps)] = np.nan
        pos[int(3.5 * fps) + 1 :] = np.nan
        clip = clip.assign(position=(clip["position"].dims, pos))
        a = pipeline.analyze_poses(clip, height_m=p.height_m, speed_mps=p.speed_mps)
        lo, hi = 0.5 + events.EDGE_GUARD_S, 3.5 - events.EDGE_GUARD_S
        assert a.events["time_s"].between(lo, hi).all(), (k, a.events)
        ref = truth.assign(time_s=truth["time_s"] - ds["time"].values[k])
        ref = ref[(ref["time_s"] >= 0.5) & (ref["time_s"] <= 3.5)]
        ref = ref.assign(time_s=ref["time_s"] - 0.5)
        det = a.events.assign(time_s=a.events["time_s"] - 0.5)
        m, missing, spurious = events.match_events(det, ref, t_end_s=3.0, tol_s=0.08,
                                                   edge_s=events.EDGE_GUARD_S + 1 / fps)
        assert not missing and spurious.empty, k
        assert (m["err_s"].abs() <= 1 / fps + 1e-9).all(), (k, m)


def test_refine_toe_off_last_rise_through_lift_speed():
    dt = 1 / 120
    t = np.arange(0, 1.0, dt)
    t_to = 0.6
    toe = np.where(t > t_to, 4.0 * (t - t_to) ** 2, 0.0)  # v = 8 (t - t_to): 0.3 m/s 37.5 ms later
    got = events.refine_toe_off(t, np.gradient(toe, t), t_to + 0.02)
    assert got == pytest.approx(t_to + 0.3 / 8.0, abs=dt / 2)
    assert np.isnan(events.refine_toe_off(t, np.zeros_like(t), 0.6))  # no rise: no cue


def test_refine_toe_off_follows_a_toe_that_rose_and_stopped_until_it_clears():
    """Push-off noise lifts the toe 1.5 cm at 0.50 s where it rests for 100 ms; it leaves the
    ground at 0.62 s. Searching 60 ms around the early guess finds the false rise (its speed
    passes the lift speed); with the toe's height and the stance threshold the sustained
    rise is found."""
    dt = 1 / 60
    t = np.arange(0, 1.0, dt)
    t_to = 0.62
    toe = np.clip((t - 0.49) / 0.03, 0, 1) * 0.015  # 1.5 cm false rise in 30 ms
    toe = toe + np.where(t > t_to, 4.0 * (t - t_to) ** 2, 0.0)  # the real lift-off
    vy = np.gradient(toe, t)
    early = events.refine_toe_off(t, vy, 0.50)
    assert 0.48 < early < 0.52  # the window alone finds the false rise
    got = events.refine_toe_off(t, vy, 0.50, toe_rel_m=toe, clear_m=0.02, until_s=0.95)
    assert got == pytest.approx(t_to + 0.3 / 8.0, abs=dt)
    # a toe that clears within the window keeps the window's answer; so does one that
    # never clears before the next contact
    lift = np.where(t > 0.5, 4.0 * (t - 0.5) ** 2, 0.0)
    v2 = np.gradient(lift, t)
    assert events.refine_toe_off(t, v2, 0.52, toe_rel_m=lift, clear_m=0.005) == pytest.approx(
        events.refine_toe_off(t, v2, 0.52))
    assert events.refine_toe_off(t, vy, 0.50, toe_rel_m=toe, clear_m=0.02, until_s=0.6) == early


def test_velocity_cues_remove_the_noise_delay_of_heel_strikes():
    """Heel striker, 60 fps, 1.5 px jitter: the height threshold alone puts IC a median ~17 ms
    late (the band must clear the noise); with the velocity cue it is within a few ms."""
    ds, truth = SyntheticRunner(RunnerParams.heel_striker()).generate(duration_s=6.0, fps=60.0,
                                                                      seed=3)
    ds, _ = add_faults(ds, jitter_px=1.5, seed=3)
    body = body_of(ds, truth)
    angles = kinematics.joint_angles(body)
    errs = {}
    for cues in (False, True):
        det = GaitEventDetector(velocity_cues=cues).detect(body, angles)
        err, missing, _ = match(det.events_, truth)
        assert not missing
        ic = err[err["kind"] == "initial_contact"]
        errs[cues] = float(ic["err_s"].median())
    assert errs[False] > 0.008
    assert abs(errs[True]) < 0.005


# --------------------------------------------------------------------------------------------
# a runner standing still on lower ground (a treadmill's side rails) next to the run
# --------------------------------------------------------------------------------------------


def test_standing_still_finds_long_rests_not_the_turns_of_a_running_foot():
    t = np.arange(0, 6, 1 / 30)
    x = 0.45 * np.sin(2 * np.pi * 1.4 * t)  # foot ahead of the pelvis: a running cycle
    still_from = t >= 4.5
    x[still_from] = x[still_from][0] + np.random.default_rng(0).normal(0, 0.003, still_from.sum())
    still = events.standing_still(t, x)
    assert still[t >= 4.6].all()
    assert not still[t < 4.4].any()  # the brief turns at the front and back do not count


def test_standing_on_lower_ground_after_the_run_does_not_hide_the_last_contacts():
    ds, truth = SyntheticRunner(RunnerParams.pose_runner()).generate(duration_s=5.4, fps=30.0, seed=0)
    body = body_of(ds, truth)
    t = body["time"].values
    rest = t >= 4.8  # the runner steps onto the side rails: feet still, 15 cm lower
    pos = body["position"].values.copy()
    names = list(body["keypoint"].values)
    for i, name in enumerate(names):
        first = np.flatnonzero(rest)[0]
        pos[rest, i, 0] = pos[first, i, 0]
        pos[rest, i, 1] = pos[first, i, 1] - (0.15 if name.endswith(
            ("heel", "foot_index", "ankle")) and name[: name.index("_")] in ("left", "right") else 0)
    for side in ("left", "right"):  # the feet rest flat on the rail
        for k in ("heel", "foot_index", "ankle"):
            j = names.index(f"{side}_{k}")
            pos[rest, j, 1] = -0.15 + (0.08 if k == "ankle" else 0.0)
    body = body.copy(data={**{v: body[v].values for v in body.data_vars}, "position": pos})
    det = GaitEventDetector().detect(body)
    ic = det.events_[det.events_["kind"] == "initial_contact"]
    run_ics = np.sort(np.concatenate([truth.events_of(s, "initial_contact") for s in ("left", "right")]))
    judged = run_ics[(run_ics > 0.5) & (run_ics < 4.7)]
    assert len(judged) >= 10
    for tt in judged:
        assert np.min(np.abs(ic["time_s"].to_numpy() - tt)) < 0.05, tt


def test_a_rest_on_the_side_rail_before_a_short_sprint_does_not_set_the_contact_level():
    """A treadmill clip often opens with the runner standing on the side rails (nearer the
    camera, lower in the picture than the belt). In a short sprint clip that rest is longer
    than all of the near foot's 3-frame stances together: its level must not be the foot's
    contact level (it was: every second contact was lost and the cadence halved)."""
    p = RunnerParams.pose_runner(cadence_spm=235.0, ground_contact_ms=120.0, speed_mps=5.0,
                                 overstride_cm=10.0)
    ds, truth = SyntheticRunner(p).generate(duration_s=4.0, fps=30.0, seed=0)
    body = body_of(ds, truth)
    t = body["time"].values
    rest = t < 1.0  # the near (right) foot stands still on the rail, 12 cm below the belt
    first = np.flatnonzero(~rest)[0]
    pos = body["position"].values.copy()
    names = list(body["keypoint"].values)
    pos[rest] = pos[first]
    for k in ("heel", "foot_index", "ankle"):
        pos[rest, names.index(f"right_{k}"), 1] = -0.12 + (0.08 if k == "ankle" else 0.0)
    body = body.copy(data={**{v: body[v].values for v in body.data_vars}, "position": pos})
    det = GaitEventDetector().detect(body)
    ic = det.events_[det.events_["kind"] == "initial_contact"]
    for side in ("left", "right"):
        truth_ic = truth.events_of(side, "initial_contact")
        judged = truth_ic[(truth_ic > 1.1) & (truth_ic < 3.9)]
        assert len(judged) >= 5
        for tt in judged:
            assert np.min(np.abs(ic["time_s"].to_numpy() - tt)) < 1.5 / 30, (side, tt)
    steps = np.diff(np.sort(ic["time_s"].to_numpy()[ic["time_s"].to_numpy() > 1.05]))
    assert np.median(steps) == pytest.approx(60.0 / 235.0, rel=0.05)


# --------------------------------------------------------------------------------------------
# a phone "slo-mo" export: a section of the clip played several times slower
# --------------------------------------------------------------------------------------------


def test_local_time_scale_finds_a_slow_section_and_leaves_real_time_alone():
    t = np.arange(0, 10, 1 / 30)
    # stance speed relative to the pelvis: 6 m/s in real time, 1.5 m/s in 4x slow motion
    slow = (t >= 4) & (t < 7)
    v = np.where(slow, -1.5, -6.0) * (1 + 0.05 * np.random.default_rng(0).normal(size=t.size))
    x = np.cumsum(v) / 30
    starts = np.concatenate([np.arange(5, 120, 7), np.arange(125, 210, 27), np.arange(215, 295, 7)])
    runs = [(int(a), int(a) + (12 if slow[a] else 3)) for a in starts]
    k = events.local_time_scale(t, x, runs)
    in_slow = np.array([slow[a] for a, _ in runs])
    inner = in_slow & np.array([slow[max(0, a - 30)] and slow[min(len(t) - 1, b + 30)] for a, b in runs])
    assert np.allclose(k[inner], 4.0, rtol=0.15)
    assert (k[~in_slow][2:-2] == 1.0).sum() >= (~in_slow).sum() - 6  # next to the ramps only
    assert np.all(events.local_time_scale(t, np.cumsum(np.full(t.size, -6.0)) / 30, runs) == 1.0)


def slow_motion_export(ds, *, factor: int, start_s: float, stop_s: float):
    """A clip recorded at ``factor`` x 30 fps, played at 30 fps in [start_s, stop_s) of real
    time and sped back to real time (every ``factor``-th picture) elsewhere."""
    t = ds["time"].values
    keep = [i for i in range(len(t)) if (start_s <= t[i] < stop_s) or i % factor == 0]
    out = ds.isel(time=keep)
    video_t = np.arange(len(keep)) / 30.0
    out = out.assign_coords(time=video_t, frame=("time", np.arange(len(keep))))
    out.attrs["fps"] = 30.0
    return out, np.asarray(t[keep])


def slow_section_ic_errors(det, truth, real_t, t_video, lo_s=2.3, hi_s=4.7) -> np.ndarray:
    """Signed IC errors (video frames) inside the slow section, away from its ends."""
    ic = det.events_[det.events_["kind"] == "initial_contact"]
    out = []
    for r in truth.events[truth.events["kind"] == "initial_contact"].itertuples():
        if lo_s <= r.time_s <= hi_s:
            tv = float(np.interp(r.time_s, real_t, t_video))
            d = ic.loc[ic["side"] == r.side, "time_s"].to_numpy()
            out.append((d[np.argmin(np.abs(d - tv))] - tv) * 30 if d.size else np.inf)
    return np.array(out)


@pytest.mark.parametrize("name", ["heel_striker", "pose_runner"])
def test_initial_contacts_in_a_slow_motion_section_within_one_frame(name):
    ds, truth = SyntheticRunner(getattr(RunnerParams, name)()).generate(duration_s=7.0, fps=120.0, seed=0)
    video, real_t = slow_motion_export(ds, factor=4, start_s=2.0, stop_s=5.0)
    err = slow_section_ic_errors(detect(video, truth), truth, real_t, video["time"].values)
    assert len(err) >= 5
    assert np.all(np.abs(err) <= 1.0), err


@pytest.mark.parametrize("seed", [0, 1])
def test_slow_motion_with_noise_local_time_scale_times_a_flat_landing_better(seed, monkeypatch):
    """With noise the timing band is several noise widths high and the time from its
    crossing to touch-down matters; in 4x slow motion it is 4x longer in video time. The
    Pose runner (foot landing flat, like the real treadmill sprinter) is timed better with
    the local time scale than with the foot's real-time approach speed (control). The heel
    striker is not (its heel speeds up into contact, so the constant-speed touch-down model
    is off by a time that the scale multiplies too: docs/accuracy.md)."""
    ds, truth = SyntheticRunner(RunnerParams.pose_runner()).generate(duration_s=7.0, fps=120.0, seed=seed)
    video, real_t = slow_motion_export(ds, factor=4, start_s=2.0, stop_s=5.0)
    video = add_faults(video, jitter_px=1.5, seed=seed)[0]
    tv = video["time"].values
    with_scale = slow_section_ic_errors(detect(video, truth), truth, real_t, tv)
    monkeypatch.setattr(events, "local_time_scale", lambda t, x, runs, **k: np.ones(len(runs)))
    without = slow_section_ic_errors(detect(video, truth), truth, real_t, tv)
    assert np.median(np.abs(with_scale)) < np.median(np.abs(without)) - 0.4, (with_scale, without)


def test_refine_initial_contact_short_contact_uses_the_segmented_stance():
    """30 fps sprint: a 120 ms contact spans 3-4 frames. When the height-based IC and TO
    (nearly) meet, the stance velocity comes from the fastest backward heel motion within
    the segmented contact and the cue is searched from the segment's start."""
    fine = 1 / 3000
    tf = np.arange(0, 1.0, fine)
    t_ic, t_to, belt, swing = 0.5071, 0.6271, 8.0, 4.0
    # heel velocity relative to the pelvis: +4 m/s in swing, -8 m/s (belt) in stance, with
    # 20 ms ramps into and out of the contact
    into = np.clip((t_ic - tf) / 0.02, 0, 1)
    out = np.clip((tf - t_to) / 0.02, 0, 1)
    u = np.where(tf < t_ic, -belt + into * (swing + belt),
                 np.where(tf > t_to, -belt + out * (swing + belt), -belt))
    xf = np.concatenate([[0.0], np.cumsum(0.5 * (u[1:] + u[:-1]) * fine)])
    dt = 1 / 30
    t = np.arange(0, 1.0, dt)
    x = np.interp(t, tf, xf)
    ux = np.gradient(x, t)  # the heel's velocity relative to the pelvis at 30 fps
    guess = 0.61  # a noisy heel height put the height-based IC at the contact's end ...
    stance = (guess, guess + 0.005)  # ... right next to the height-based TO
    segment = (float(t[t >= t_ic][0]) - dt, float(t[t <= t_to][-1]))
    # without the segment there is no stance velocity: no cue
    assert np.isnan(events.refine_initial_contact(t, ux, guess, stance))
    got = events.refine_initial_contact(t, ux, guess, stance, segment_s=segment)
    assert abs(got - t_ic) < dt
    # an ordinary stance (samples in its middle) is not affected by the segment
    long = (t_ic + 0.02, t_to + 0.05)  # holds the sample at 0.6 s in its middle
    ordinary = events.refine_initial_contact(t, ux, t_ic + 0.02, long)
    assert events.refine_initial_contact(t, ux, t_ic + 0.02, long, segment_s=segment) == ordinary


def test_combine_initial_contact_slow_motion_keeps_the_earlier_of_height_and_velocity():
    """A 30 fps clip slowed 4x: the heel moves back with the belt at only 2.5 m/s of video
    time after contact (frame 15), so two pictures whose heel sits 3-5 cm behind (pose noise)
    make the velocity cue cross its threshold more than a frame late. In slow motion the
    earlier height-based IC is kept; in real time the velocity cue stands."""
    dt = 1 / 30
    t = np.arange(0, 1.0, dt)
    t_ic = float(t[15])
    x = np.where(t > t_ic, -2.5 * (t - t_ic), 0.0)  # heel ahead of the pelvis (m)
    x[[16, 17]] += [0.03, 0.05]
    height = t_ic + 0.2 * dt
    vel = events.refine_initial_contact(t, np.gradient(x, t), height, (t_ic, t_ic + 0.4))
    assert vel > t_ic + dt  # the noisy velocity cue is late by more than a frame
    assert events.combine_initial_contact(height, vel, 4.0) == height
    assert events.combine_initial_contact(height, vel, 1.0) == vel  # real time: unchanged
    # an earlier velocity cue (a height-based IC delayed by its band) is kept in slow motion
    assert events.combine_initial_contact(t_ic + 2 * dt, t_ic, 4.0) == t_ic
    assert events.combine_initial_contact(height, float("nan"), 4.0) == height
    assert events.combine_initial_contact(float("nan"), vel, 4.0) == vel


@pytest.mark.parametrize("fps,cutoff", [(30.0, 7.5), (60.0, 10.0), (120.0, 10.0), (60.0, float("nan"))])
def test_derivative_noise_gain_is_that_of_filtered_white_noise(fps, cutoff):
    x = np.random.default_rng(0).normal(size=200_000)
    y = filtering.butterworth_zero_lag(x, fps, cutoff, 2) if np.isfinite(cutoff) else x
    measured = np.std(np.gradient(y, 1 / fps)) / np.std(y)
    assert events.derivative_noise_gain(fps, cutoff, 2) == pytest.approx(measured, rel=0.02)


def test_weighted_initial_contact_leans_on_the_sharper_cue():
    gain, ratio = 30.0, events.HEEL_REL_HIP_NOISE_RATIO
    even = 0.5 * gain * ratio  # a velocity rate as sharp as a height rate of 0.5 m/s
    h, v, off = 1.000, 1.020, 0.010  # the foot's cues differ by 10 ms on average

    def w(rate_h, rate_v, **kw):
        kw = {"offset_s": off, "gain_per_s": gain} | kw
        return events.weighted_initial_contact(h, v, rate_h, rate_v, **kw)

    assert w(0.5, even) == pytest.approx(0.5 * (h + off + v))
    assert w(5.0, even) == pytest.approx(h + off, abs=1e-3)  # height cue 10x sharper
    assert w(0.05, even) == pytest.approx(v, abs=1e-3)  # the velocity cue
    assert w(-0.5, -even) == w(0.5, even)  # only the size of the rates counts
    # without the foot's offset, or without one cue, as before
    assert w(0.5, even, offset_s=float("nan")) == v
    assert events.weighted_initial_contact(h, float("nan"), 0.5, even, offset_s=off,
                                           gain_per_s=gain) == h + off
    assert events.weighted_initial_contact(float("nan"), v, 0.5, even, offset_s=off,
                                           gain_per_s=gain) == v


@pytest.mark.parametrize("name,fps,most", [("pose_runner", 120.0, 0.8), ("heel_striker", 120.0, 1.0)])
def test_weighing_the_ic_cues_narrows_the_ic_errors_and_keeps_their_bias(name, fps, most):
    """Noisy runners, 4 seeds: the weighted mean of the height-based IC and the velocity cue
    has the same median as the velocity cue alone and a smaller spread: much smaller for the
    Pose runner (its foot slows before contact, so its velocity hovers near the cue's level;
    measured 0.73x), a little for the heel striker (its heel stops abruptly; 0.94x)."""
    errs = {True: [], False: []}
    for seed in range(4):
        ds, truth = SyntheticRunner(PRESETS[name]()).generate(duration_s=6.0, fps=fps, seed=seed)
        noisy, _ = add_faults(ds, jitter_px=1.5, dropped_frames=4, leg_swaps=2, seed=seed)
        body = body_of(noisy, truth)
        angles = kinematics.joint_angles(body)
        for weigh in (True, False):
            det = GaitEventDetector(weigh_ic_cues=weigh).detect(body, angles)
            err, missing, _ = match(det.events_, truth)
            assert not missing
            errs[weigh] += err[err["kind"] == "initial_contact"]["err_s"].tolist()
    weighted, velocity = np.asarray(errs[True]), np.asarray(errs[False])
    assert np.std(weighted) < most * np.std(velocity)
    assert abs(np.median(weighted) - np.median(velocity)) < 0.002


def test_disagreeing_ic_cues_are_settled_by_the_rhythm():
    """Contact 5's heel bounced back above the height band: its height-based IC is 60 ms late,
    the weighted mean 30 ms. The cues differ far more than on the other contacts, so the one
    the neighbours' rhythm agrees with is kept; without both neighbours nothing changes."""
    rng = np.random.default_rng(0)
    truth = 0.75 * np.arange(10) + 0.2
    h = truth + rng.normal(0, 0.004, 10)
    v = truth + rng.normal(0, 0.003, 10)
    h[5] += 0.060
    ics = 0.5 * (h + v)
    usable = np.ones(10, dtype=bool)
    out = events.resolve_disagreeing_cues(ics, h, v, usable, frame_s=1 / 60)
    assert out[5] == v[5]
    np.testing.assert_array_equal(np.delete(out, 5), np.delete(ics, 5))
    # a missing neighbour (contact 6 not found): no rhythm to ask
    gap = ics.copy()
    gap[6] = np.nan
    assert events.resolve_disagreeing_cues(gap, h, v, usable, frame_s=1 / 60)[5] == ics[5]
    # a velocity cue far off is caught the same way
    h2, v2 = h.copy(), v.copy()
    h2[5] -= 0.060
    v2[3] -= 0.050
    out2 = events.resolve_disagreeing_cues(0.5 * (h2 + v2), h2, v2, usable, frame_s=1 / 60)
    assert out2[3] == h2[3]
    # too few usable contacts to know the cues' usual difference
    few = np.zeros(10, dtype=bool)
    few[:3] = True
    np.testing.assert_array_equal(events.resolve_disagreeing_cues(ics, h, v, few, frame_s=1 / 60), ics)


def test_a_contact_without_a_velocity_cue_keeps_its_height_based_time(monkeypatch):
    """Where the velocity cue is not found in its window it is no measurement: the weighing
    must not pull the height-based IC towards it (nor shift it by the foot's offset)."""
    ds, truth = SyntheticRunner(RunnerParams.heel_striker()).generate(duration_s=4.0, fps=60.0,
                                                                      seed=0)
    ds, _ = add_faults(ds, jitter_px=1.5, seed=0)
    body = body_of(ds, truth)
    angles = kinematics.joint_angles(body)
    calls = {"n": 0}

    def every_other_cue_missing(t, u, guess, *a, **k):
        # found (20 ms after the height-based time) for every other contact, else not found
        calls["n"] += 1
        return guess + 0.020 if calls["n"] % 2 else float("nan")

    monkeypatch.setattr(events, "refine_initial_contact", every_other_cue_missing)
    weighed = GaitEventDetector().detect(body, angles).contacts_
    calls["n"] = 0
    height = GaitEventDetector(velocity_cues=False).detect(body, angles).contacts_
    assert len(weighed) == len(height) >= 10
    d = (weighed["ic_time_s"] - height["ic_time_s"]).to_numpy()
    missing = np.isclose(d, 0.0, atol=1e-12)
    # the contacts without a cue keep their height-based IC exactly; the others moved
    assert 4 <= missing.sum() <= len(d) - 4
    assert np.all(np.abs(d[~missing]) > 0.005)


def test_match_events_pairs_nearest_same_side_and_kind_and_reports_the_rest():
    ref = pd.DataFrame({"side": ["left", "right", "left", "left"],
                        "kind": ["initial_contact"] * 3 + ["toe_off"],
                        "time_s": [0.05, 1.0, 2.0, 2.5], "frame": [1, 30, 60, 75]})
    det = pd.DataFrame({"side": ["left", "right", "right", "left", "left"],
                        "kind": ["initial_contact", "initial_contact", "initial_contact",
                                 "initial_contact", "toe_off"],
                        "time_s": [0.06, 1.02, 1.5, 2.3, 2.51], "frame": [2, 31, 45, 69, 75]})
    m, missing, spurious = events.match_events(det, ref, tol_s=0.08, t_end_s=3.0)
    # the event at 0.05 s is too close to the start to be judged; its match is not spurious
    assert m[["kind", "side", "time_s"]].values.tolist() == [
        ["initial_contact", "right", 1.0], ["toe_off", "left", 2.5]]
    assert m["err_s"].tolist() == pytest.approx([0.02, 0.01])
    assert m["det_frame"].tolist() == [31, 75] and m["ref_frame"].tolist() == [30, 75]
    assert missing == [("initial_contact", "left", 2.0)]  # 2.3 s is beyond the tolerance
    assert spurious["time_s"].tolist() == [1.5, 2.3]
