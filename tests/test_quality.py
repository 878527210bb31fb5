"""Repeated pictures, playback-speed changes and implausible cadence."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from posecoach import dataset, pipeline, quality, synthetic


def test_duplicate_pictures_found():
    rng = np.random.default_rng(0)
    moving = rng.uniform(1.0, 3.0, size=200)
    diff = moving.copy()
    diff[1::2] = rng.uniform(0.0, 0.1, size=100)  # every second frame repeats the previous picture
    rep = quality.duplicate_pictures(diff, fps=50.0)
    assert rep.repeat == 2
    assert rep.effective_fps == pytest.approx(25.0, rel=0.05)
    plain = quality.duplicate_pictures(moving, fps=50.0)
    assert plain.repeat == 1 and plain.effective_fps == 50.0


def test_still_scene_is_not_mistaken_for_duplicates():
    diff = np.full(100, 0.05)  # nothing moves at all
    assert quality.duplicate_pictures(diff, fps=30.0).repeat == 1


def test_playback_sections_split_on_speed_jumps():
    st = [210, 215, 205, 212, 840, 850, 860, 845, 830, 214, 209, 211]
    steps = pd.DataFrame({"step_time_ms": st, "ic_time_s": np.cumsum(st) / 1000.0,
                          "ic_frame": np.arange(len(st)) * 10})
    sec = quality.playback_sections(steps)
    assert len(sec) == 3
    assert sec[1].slow_factor == pytest.approx(4.0, rel=0.1)
    assert sec[0].slow_factor == pytest.approx(1.0, rel=0.05)
    one = quality.playback_sections(steps.iloc[:4])
    assert len(one) == 1


def _slow_motion_clip():
    """A 'slo-mo' export: real time at 30 fps, then 4x slow motion (120 fps capture played at 30)."""
    p = synthetic.RunnerParams.pose_runner()
    ds, truth = synthetic.SyntheticRunner(p).generate(duration_s=9.0, fps=120.0, seed=0)
    idx = np.concatenate([np.arange(0, 360, 4), np.arange(360, 720), np.arange(720, 1080, 4)])
    sub = ds.isel(time=idx)
    n = len(idx)
    return p, dataset.from_arrays(
        sub["position"].values, sub["confidence"].values, np.arange(n) / 30.0, fps=30.0,
        image_width_px=ds.attrs["image_width_px"], image_height_px=ds.attrs["image_height_px"],
        source_software="test-slomo",
    )


def test_slow_motion_section_is_reported_and_left_out_of_timing():
    p, ds = _slow_motion_clip()
    a = pipeline.analyze_poses(ds, height_m=p.height_m)
    assert any("playback speed changes" in w for w in a.quality["warnings"])
    assert a.quality["steps_excluded_from_timing"] > 0
    slow = [s for s in a.quality["playback_sections"] if s["slow_factor"] > 2]
    assert slow and slow[0]["slow_factor"] == pytest.approx(4.0, rel=0.15)
    # the pelvis bounces four times slower there too: slow motion, not missed contacts
    assert slow[0]["kind"] == "slow_motion"
    assert slow[0]["bounce_period_ms"] == pytest.approx(4 * 60000.0 / p.cadence_spm, rel=0.05)
    # slow section: frames 90..450 of the exported clip
    assert 80 <= slow[0]["first_frame"] <= 110 and 420 <= slow[0]["last_frame"] <= 460
    assert a.summary["cadence_spm"]["median"] == pytest.approx(180.0, rel=0.02)
    # each step says which of its values the summary uses: the slow ones give no times
    use = a.steps["summary_use"]
    assert (use == "not_times").sum() == a.quality["steps_excluded_from_timing"]
    assert (a.steps.loc[use == "not_times", "left_out_reason"] == "slow_motion").all()
    assert a.steps.loc[use == "all", "left_out_reason"].isna().all()
    assert a.summary["ground_contact_ms"]["n"] == int(
        np.isfinite(a.steps.loc[use == "all", "ground_contact_ms"]).sum())
    assert a.summary["knee_flexion_ic_deg"]["n"] == int(
        np.isfinite(a.steps.loc[use != "none", "knee_flexion_ic_deg"]).sum())


def test_whole_clip_in_slow_motion_is_flagged():
    p = synthetic.RunnerParams.pose_runner()
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=8.0, fps=60.0, seed=0)
    slowed = ds.assign_coords(time=ds["time"].values * 2.0)  # played at half speed
    slowed.attrs["fps"] = 30.0
    a = pipeline.analyze_poses(slowed, height_m=p.height_m)
    assert a.summary["cadence_spm"]["median"] == pytest.approx(90.0, rel=0.02)
    msg = [w for w in a.quality["warnings"] if "not plausible in real time" in w]
    # too low a cadence is also what missed contacts give: the user is told to check them
    assert len(msg) == 1 and "slow motion" in msg[0] and "Contacts the analysis missed" in msg[0]


def test_flight_rise_is_ballistic():
    # 0.2 s in the air: up for 0.1 s at g -> 9.81 * 0.1**2 / 2 = 4.905 cm
    assert quality.flight_rise_cm(200.0) == pytest.approx(4.905)


@pytest.mark.parametrize("preset", ["heel_striker", "pose_runner"])
def test_flights_of_real_time_running_fit_the_bounce(preset):
    p = getattr(synthetic.RunnerParams, preset)()
    flight_ms = 60000.0 / p.cadence_spm - p.ground_contact_ms
    assert quality.flight_fits_bounce(flight_ms, p.vertical_oscillation_cm)
    assert quality.flight_fits_bounce(None, 5.0) and quality.flight_fits_bounce(150.0, float("nan"))
    # every second contact of a foot missed: a step plus a contact is now a "flight"
    assert not quality.flight_fits_bounce(2 * 60000.0 / p.cadence_spm - p.ground_contact_ms,
                                          p.vertical_oscillation_cm)


def _patch_contacts(monkeypatch, change):
    """The real detector runs, then ``change`` (contacts table -> contacts table) does to its
    contacts what a faulty pose model would; the events follow the changed contacts."""
    from posecoach import events

    detect = events.GaitEventDetector.detect

    def patched(self, body, angles=None):
        detect(self, body, angles)
        self.contacts_ = change(self.contacts_)
        self.events_ = events.contact_events(self.contacts_)
        return self

    monkeypatch.setattr(events.GaitEventDetector, "detect", patched)


def _one_foot_found(monkeypatch):
    """The detector finds only the right foot's contacts and gives them alternately to the
    two feet: what the rhythm of the steps makes of every second contact lost."""

    def only_right(contacts):
        c = contacts[contacts["track"] == "right"].reset_index(drop=True)
        c["side"] = np.where(np.arange(len(c)) % 2 == 0, "right", "left")
        return c

    _patch_contacts(monkeypatch, only_right)


def test_missed_contacts_are_caught_by_the_bounce_and_times_are_not_judged(monkeypatch):
    """A fast cadence halved still looks like running (240 -> 120 steps/min)."""
    _one_foot_found(monkeypatch)
    p2 = synthetic.RunnerParams.pose_runner(cadence_spm=240.0, ground_contact_ms=180.0)
    ds2, _ = synthetic.SyntheticRunner(p2).generate(duration_s=8.0, fps=60.0, seed=0)
    a2 = pipeline.analyze_poses(ds2, height_m=p2.height_m)
    cad2 = a2.summary["cadence_spm"]["median"]
    assert cad2 == pytest.approx(120.0, rel=0.03) and quality.plausible_running_cadence(cad2)
    msg = [w for w in a2.quality["warnings"] if "would carry the body" in w]
    assert len(msg) == 1 and "half the true one" in msg[0]
    verdicts = {v.metric: v for v in pipeline.judge(a2).results}
    assert verdicts["cadence_spm"].status == "not_assessable"
    assert "contacts were missed" in verdicts["cadence_spm"].reason
    assert verdicts["knee_flexion_ic_deg"].status != "not_assessable"  # angles still judged
    # one verdict: analysis.json, the rules and the report's headline numbers agree
    assert a2.quality["timing_problem"]["kind"] == "missed_contacts"
    from posecoach.report.html import render_html

    html = render_html(a2, pipeline.judge(a2))
    assert html.count("not trusted: flights too long for the bounce") == 2  # cadence, contact cards


def test_overlapping_steps_allow_two_pictures_of_timing_error():
    """A flight reads up to two pictures below zero from timing error alone; beyond that
    both feet were down together."""
    steps = pd.DataFrame({"flight_ms": [100.0, -30.0, -70.0, -500.0, np.nan]})
    assert quality.overlapping_steps(steps, 30.0).tolist() == [False, False, True, True, False]
    # every picture shown twice (25 distinct pictures/s): -70 ms is within two pictures
    assert quality.overlapping_steps(steps, 25.0).tolist() == [False, False, False, True, False]
    assert quality.overlapping_steps(pd.DataFrame(), 30.0).size == 0


def test_timing_problem_is_one_verdict_with_its_texts():
    def summary(cad, flight=100.0, bounce=7.0):
        return {"cadence_spm": {"median": cad}, "flight_ms": {"median": flight},
                "vertical_oscillation_cm": {"median": bounce}}

    assert quality.timing_problem(summary(180.0)) is None
    assert quality.timing_problem({}) is None  # nothing measured: nothing to doubt
    slow = quality.timing_problem(summary(150.0 / 2))
    assert slow.kind == "slow_motion" and "video time" in slow.note and "slow motion" in slow.reason
    assert "contacts missed" in slow.note  # below the running band missed contacts also do this
    assert "contacts missed" not in quality.timing_problem(summary(400.0)).note
    # --capture-fps 120 on a 30 fps file that holds 180 spm in its own times
    cap = quality.timing_problem(summary(720.0), capture_fps=120.0, playback_fps=30.0)
    assert cap.kind == "capture_fps" and "--capture-fps 120 is probably too high" in cap.warning
    assert "180 steps/min" in cap.warning
    # a halved cadence inside the band: only the bounce shows it (400 ms flight: 20 cm rise)
    missed = quality.timing_problem(summary(130.0, flight=400.0, bounce=7.0))
    assert missed.kind == "missed_contacts" and "contacts probably missed" in missed.note
    assert missed.to_dict() == {"kind": "missed_contacts", "message": missed.warning}


def _one_contact_lost(monkeypatch, k: int = 6):
    """The detector loses contact ``k``'s lift-off: its toe-off is taken from the same foot's
    next stance, past the other foot's landing (what a pose model that loses a foot for a
    stride gives)."""

    def lost(contacts):
        c = contacts.sort_values("ic_time_s").reset_index(drop=True)
        nxt = c[(c["side"] == c.loc[k, "side"]) & (c["ic_time_s"] > c.loc[k, "ic_time_s"])].index[0]
        for col in ("to_time_s", "to_frame", "to_confidence"):
            c.loc[k, col] = c.loc[nxt, col]
        return c

    _patch_contacts(monkeypatch, lost)


def test_a_contact_held_past_the_other_foots_landing_is_left_out(monkeypatch):
    p = synthetic.RunnerParams.pose_runner()
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=8.0, fps=60.0, seed=0)
    clean = pipeline.analyze_poses(ds, height_m=p.height_m)
    _one_contact_lost(monkeypatch)
    a = pipeline.analyze_poses(ds, height_m=p.height_m)
    assert a.gait["classification"] == "running"
    frame = int(a.steps.loc[a.steps["flight_ms"] < 0, "ic_frame"].iloc[0])
    assert a.quality["overlapping_steps"] == [frame]
    msg = [w for w in a.quality["warnings"] if "both feet on the ground together" in w]
    assert len(msg) == 1 and f"frame {frame}" in msg[0] and "that step was left out" in msg[0]
    # the summary is that of the clean analysis without the step: contact time stays true
    gct = a.summary["ground_contact_ms"]
    assert gct["n"] == clean.summary["ground_contact_ms"]["n"] - 1
    assert gct["median"] == pytest.approx(p.ground_contact_ms, abs=1000 / 60)
    assert a.summary["peak_knee_flexion_stance_deg"]["n"] == \
        clean.summary["peak_knee_flexion_stance_deg"]["n"] - 1
    assert a.quality["timing_problem"] is None
    step = a.steps.loc[a.steps["ic_frame"] == frame].iloc[0]
    assert (step["summary_use"], step["left_out_reason"]) == ("none", "both_feet_down")
    assert (a.steps["summary_use"] == "all").sum() == len(a.steps) - 1
    verdicts = pipeline.judge(a)
    assert {v.metric: v.status for v in verdicts.results}["ground_contact_ms"] != "not_assessable"
    from posecoach.report.html import render_html

    html = render_html(a, verdicts)
    assert "measured; of them 1 left out (both feet on the ground: see the warnings)</td>" in html


def test_a_step_over_a_missed_pair_of_contacts_gives_no_step_time(monkeypatch):
    """Contacts 6 and 7 (one of each foot) lost: contact 5's next contact is the other
    foot's again, three steps later. Its step time, flight and stride are left out (they
    were summarised as a step of ~1 s), and the user is told where."""
    p = synthetic.RunnerParams.pose_runner()
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=8.0, fps=60.0, seed=0)
    clean = pipeline.analyze_poses(ds, height_m=p.height_m)

    def lose_a_pair(contacts):
        c = contacts.sort_values("ic_time_s").reset_index(drop=True)
        return c.drop(index=[6, 7]).reset_index(drop=True)

    _patch_contacts(monkeypatch, lose_a_pair)
    a = pipeline.analyze_poses(ds, height_m=p.height_m)
    frame = int(clean.steps.sort_values("ic_time_s")["ic_frame"].iloc[5])
    assert a.quality["steps_over_missed_contacts"] == [frame]
    step = a.steps.loc[a.steps["ic_frame"] == frame].iloc[0]
    assert np.isnan(step["step_time_ms"]) and np.isnan(step["flight_ms"])
    assert np.isfinite(step["ground_contact_ms"])  # the contact itself is fine
    assert (step["summary_use"], step["left_out_reason"]) == ("all", "over_missed_contacts")
    assert clean.steps["left_out_reason"].isna().all()
    assert (clean.steps["summary_use"] == "all").all()
    (w,) = [w for w in a.quality["warnings"] if "contacts were missed there" in w]
    assert f"frames {frame})" in w
    for name in ("step_time_ms", "flight_ms"):
        s, c = a.summary[name], clean.summary[name]
        assert s["n"] == c["n"] - 3  # the long step, and the two lost contacts' steps
        assert s["median"] == pytest.approx(c["median"], abs=1000 / 60)
    assert clean.quality["steps_over_missed_contacts"] == []


@given(period_s=st.floats(0.2, 1.0), fps=st.sampled_from([25.0, 30.0, 50.0, 60.0, 120.0]),
       phase=st.floats(0.0, 6.3), seed=st.integers(0, 1000))
def test_bounce_period_is_found_within_a_frame(period_s, fps, phase, seed):
    """A pelvis rising and falling once per step (with noise and a drift of the camera) gives
    its period to within one frame (2 % at high frame rates), whatever the step rate and
    frame rate."""
    t = np.arange(0.0, 6.0 * period_s + 2.0, 1.0 / fps)
    rng = np.random.default_rng(seed)
    y = (0.03 * np.cos(2 * np.pi * t / period_s + phase) + 0.01 * t
         + rng.normal(0.0, 0.004, t.size))
    found = quality.bounce_period_s(t, y, min_s=0.5 * period_s, max_s=1.5 * period_s)
    assert found == pytest.approx(period_s, abs=max(1.0 / fps, 0.02 * period_s))


def test_no_bounce_period_without_a_clear_bounce():
    t = np.arange(0.0, 6.0, 1.0 / 30)
    rng = np.random.default_rng(0)
    assert quality.bounce_period_s(t, rng.normal(size=t.size), min_s=0.2, max_s=1.0) is None
    assert quality.bounce_period_s(t, np.zeros(t.size), min_s=0.2, max_s=1.0) is None
    y = np.cos(2 * np.pi * t / 0.35)
    y[::3] = np.nan  # a third of the pelvis unknown: no period read
    assert quality.bounce_period_s(t, y, min_s=0.2, max_s=1.0) is None


def _contacts_missed_in_the_middle(monkeypatch, start_s=2.5, end_s=5.5):
    """From ``start_s`` to ``end_s`` only the right foot's contacts are found, and given
    alternately to the two feet (the rhythm of the steps): the steps found there are twice
    as long, as in a 2x slow-motion section, but the runner keeps running in real time."""

    def lose_left(contacts):
        c = contacts.sort_values("ic_time_s").reset_index(drop=True)
        inside = (c["ic_time_s"] >= start_s) & (c["ic_time_s"] < end_s)
        c = c[~inside | (c["track"] == "right")].reset_index(drop=True)
        inside = (c["ic_time_s"] >= start_s) & (c["ic_time_s"] < end_s)
        c.loc[inside, "side"] = np.where(np.arange(int(inside.sum())) % 2 == 0, "right", "left")
        return c

    _patch_contacts(monkeypatch, lose_left)


def test_long_steps_with_a_real_time_bounce_are_missed_contacts_not_slow_motion(monkeypatch):
    p = synthetic.RunnerParams.pose_runner()
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=8.0, fps=60.0, seed=0)
    clean = pipeline.analyze_poses(ds, height_m=p.height_m)
    _contacts_missed_in_the_middle(monkeypatch)
    a = pipeline.analyze_poses(ds, height_m=p.height_m)
    sections = a.quality["playback_sections"]
    (odd,) = [s for s in sections if s["slow_factor"] > quality.PLAYBACK_JUMP_FACTOR]
    assert odd["slow_factor"] == pytest.approx(2.0, rel=0.05)
    assert odd["kind"] == "missed_contacts"
    assert odd["bounce_period_ms"] == pytest.approx(60000.0 / p.cadence_spm, abs=1000 / 60)
    assert {s["kind"] for s in sections if s is not odd} == {"real_time"}
    assert not any("playback speed changes" in w for w in a.quality["warnings"])
    (w,) = [w for w in a.quality["warnings"] if "it is not slow motion" in w]
    assert f"from frame {odd['first_frame']} to {odd['last_frame']}" in w
    assert f"every {odd['bounce_period_ms']:.0f} ms" in w
    # its long steps give no step time or flight; nothing is left out as slow motion
    assert a.quality["steps_excluded_from_timing"] == 0
    assert "slow_motion" not in set(a.steps["left_out_reason"])
    inside = a.steps["ic_frame"].between(odd["first_frame"], odd["last_frame"])
    long_ = inside & (a.steps["left_out_reason"] == "over_missed_contacts")
    assert long_.sum() >= 3 and a.steps.loc[long_, "step_time_ms"].isna().all()
    assert a.quality["steps_over_missed_contacts"] == a.steps.loc[long_, "ic_frame"].tolist()
    # the contacts found are the runner's own: their times stay in the summary, and true
    gct = a.summary["ground_contact_ms"]
    assert a.quality["overlapping_steps"] == []
    assert gct["n"] == int(np.isfinite(a.steps["ground_contact_ms"]).sum())
    assert gct["n"] < clean.summary["ground_contact_ms"]["n"]  # the lost contacts
    assert gct["median"] == pytest.approx(p.ground_contact_ms, abs=1000 / 60)
    assert a.summary["cadence_spm"]["median"] == pytest.approx(p.cadence_spm, rel=0.02)
    assert a.quality["timing_problem"] is None


def test_a_contact_longer_than_the_usual_step_is_left_out_when_the_next_is_missed():
    """Its next contact (the other foot's) was not found, so it has no flight to read;
    lasting longer than the runner's step, it held on while the other foot landed."""
    sec = [quality.PlaybackSection(0, 100, 340.0, 1.0),
           quality.PlaybackSection(110, 200, 700.0, 2.06, kind="missed_contacts"),
           quality.PlaybackSection(210, 300, 1360.0, 4.0, kind="slow_motion")]
    steps = pd.DataFrame({
        "ic_frame": [10, 20, 120, 130, 220, 230, 400],
        "step_time_ms": [np.nan, 340.0, np.nan, np.nan, np.nan, np.nan, np.nan],
        "ground_contact_ms": [500.0, 500.0, 500.0, 400.0, 1000.0, 1500.0, 900.0],
        "flight_ms": [np.nan, -160.0, np.nan, np.nan, np.nan, np.nan, np.nan],
    })
    # 340 + 2 pictures of 40 ms = 420 ms; the slow section's step is 1360 ms; frame 400 lies
    # in no section (nothing to compare with)
    assert quality.overlapping_steps(steps, 25.0, sec).tolist() == [
        True, True, True, False, False, True, False]
    assert quality.overlapping_steps(steps, 25.0).tolist() == [
        False, True, False, False, False, False, False]
    assert sec[1].usual_step_ms == pytest.approx(700.0 / 2.06)
    assert sec[2].usual_step_ms == 1360.0
