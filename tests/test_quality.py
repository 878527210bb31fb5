"""Repeated pictures, playback-speed changes and implausible cadence."""

import numpy as np
import pandas as pd
import pytest

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
    # slow section: frames 90..450 of the exported clip
    assert 80 <= slow[0]["first_frame"] <= 110 and 420 <= slow[0]["last_frame"] <= 460
    assert a.summary["cadence_spm"]["median"] == pytest.approx(180.0, rel=0.02)


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


def _one_foot_found(monkeypatch):
    """The detector finds only the right foot's contacts and gives them alternately to the
    two feet: what the rhythm of the steps makes of every second contact lost."""
    from posecoach import events

    detect = events.GaitEventDetector.detect

    def only_right(self, body, angles=None):
        detect(self, body, angles)
        c = self.contacts_[self.contacts_["track"] == "right"].reset_index(drop=True)
        c["side"] = np.where(np.arange(len(c)) % 2 == 0, "right", "left")
        self.contacts_ = c
        self.events_ = events.contact_events(c)
        return self

    monkeypatch.setattr(events.GaitEventDetector, "detect", only_right)


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
