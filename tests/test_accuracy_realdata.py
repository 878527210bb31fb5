"""Accuracy of the gait events on real data: motion capture with force plate, labelled clips.

The targets of the issue are checked one by one. Those the detector does not reach yet are
``xfail`` with the reason (measured numbers and causes: docs/accuracy.md, made by
``scripts/accuracy.py``); the plain tests guard what is reached, so a regression shows.
Data come from ../shared/data through ``tests/conftest.py`` (skipped with a clear reason when
missing); pose estimation runs once per clip and is cached (``estimated_poses``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import estimated_poses, shared_file

pytestmark = pytest.mark.realdata

FUKUCHI = "fukuchi2017-rbds001"
CLIPS = "running-videos-licence-unknown"


def _match(det: pd.DataFrame, truth: pd.DataFrame, tol_s: float, t_end: float):
    """(errors in s per matched truth event as DataFrame, n missing, n spurious)."""
    from posecoach.events import match_events

    err, missing, spurious = match_events(det, truth, tol_s=tol_s, t_end_s=t_end, edge_s=0.1)
    return err, len(missing), len(spurious)


# --------------------------------------------------------------------------------------------
# motion capture with force plate (Fukuchi et al. 2017)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["T25", "T35"])
def mocap_trial(request):
    from posecoach import pipeline
    from posecoach.io import mocap

    static = shared_file(f"{FUKUCHI}/RBDS001static.txt")
    if request.param == "T25":
        markers = shared_file(f"{FUKUCHI}/RBDS001runT25markers.txt")
        forces, speed = shared_file(f"{FUKUCHI}/RBDS001runT25forces.txt"), 2.5
    else:
        pytest.importorskip("c3d")
        markers, forces, speed = shared_file(f"{FUKUCHI}/RBDS001runT35.c3d"), None, 3.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds, truth = mocap.fukuchi_trial(markers, forces, static, speed)
        a = pipeline.analyze_poses(ds, height_m=1.81, speed_mps=speed)
    err, missing, spurious = _match(a.events, truth, 0.1, float(ds["time"].values[-1]))
    return {"analysis": a, "truth": truth, "err": err, "missing": missing, "spurious": spurious,
            "summary": mocap.truth_summary(truth), "label": ds.attrs.get("foot_strike_label", ""),
            "speed_mps": speed}


def _abs_median_ms(trial, kind):
    e = trial["err"]
    return 1000 * float(e.loc[e["kind"] == kind, "err_s"].abs().median())


def test_mocap_every_force_plate_contact_found_none_invented(mocap_trial):
    assert mocap_trial["missing"] <= 1
    assert mocap_trial["spurious"] == 0


def test_mocap_cadence_within_one_percent(mocap_trial):
    cad = mocap_trial["analysis"].summary["cadence_spm"]["median"]
    assert cad == pytest.approx(mocap_trial["summary"]["cadence_spm"], rel=0.01)


def test_mocap_event_errors_stay_bounded(mocap_trial):
    """Regression guard on what is reached (the targets are the xfail tests below)."""
    assert _abs_median_ms(mocap_trial, "initial_contact") < 15
    assert _abs_median_ms(mocap_trial, "toe_off") < 20
    gct = mocap_trial["analysis"].summary["ground_contact_ms"]["median"]
    assert abs(gct - mocap_trial["summary"]["ground_contact_ms"]) < 30


def test_target_mocap_ic_within_10_ms(mocap_trial):
    assert _abs_median_ms(mocap_trial, "initial_contact") <= 10


def test_target_mocap_to_within_15_ms(mocap_trial):
    assert _abs_median_ms(mocap_trial, "toe_off") <= 15


def test_target_mocap_contact_time_within_15_ms(mocap_trial):
    gct = mocap_trial["analysis"].summary["ground_contact_ms"]["median"]
    err = gct - mocap_trial["summary"]["ground_contact_ms"]
    if abs(err) > 15 and mocap_trial["speed_mps"] == 3.5:
        pytest.xfail(f"target not reached at 3.5 m/s: contact {err:+.0f} ms (IC ~+8 ms late, TO "
                     "~-10 ms early: the rigid virtual toe lifts early); docs/accuracy.md")
    assert abs(err) <= 15


@pytest.mark.xfail(reason="target not reached, and probably not reachable honestly: at the force "
                          "plate's contact this runner's heel-to-toe line is level (+0.5/-0.6 deg) "
                          "and the centre-of-pressure strike index is 0.59 (midfoot), although "
                          "RBDSinfo says Forefoot; see the io.mocap docstring", strict=False)
def test_target_mocap_foot_strike_is_forefoot(mocap_trial):
    assert mocap_trial["analysis"].foot_strike["pattern"] == mocap_trial["label"].lower()


# --------------------------------------------------------------------------------------------
# real clips with hand labels (pose estimation: slow, cached)
# --------------------------------------------------------------------------------------------


def _analyse_clip(name: str):
    from posecoach import pipeline

    clip = shared_file(f"{CLIPS}/{name}.mp4")
    labels = pd.read_csv(shared_file(f"{CLIPS}/{name}.events.csv"))
    poses = estimated_poses(f"{CLIPS}/{name}.mp4")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = pipeline.analyze_poses(poses, video_path=clip)
    return a, labels


def _label_hits(a, labels: pd.DataFrame, tol: int):
    ic = a.events[a.events["kind"] == "initial_contact"]
    hits, sides, used = 0, [], set()
    for r in labels.itertuples():
        d = (ic["frame"] - r.ic_frame).abs()
        if len(d) and d.min() <= tol:
            k = d.idxmin()
            hits += 1
            used.add(k)
            sides.append(ic.loc[k, "side"] == r.foot_lr)
    step = float(np.median(np.diff(np.sort(labels["ic_frame"].to_numpy()))))
    span = ic[(ic["frame"] >= labels["ic_frame"].min() - step / 2)
              & (ic["frame"] <= labels["ic_frame"].max() + step / 2)]
    return hits, int((~span.index.isin(used)).sum()), sides


@pytest.fixture(scope="module")
def treadmill():
    a, labels = _analyse_clip("treadmill_sprint_side_spotter_30fps")
    return a, labels[labels["ic_frame"] >= 71]  # free running (hands off the rails)


@pytest.fixture(scope="module")
def overground():
    return _analyse_clip("overground_side_static_cam_50fps")


@pytest.mark.slow
def test_overground_clip_warns_about_duplicated_pictures(overground):
    a, _ = overground
    assert any("appears about 2 times" in w for w in a.quality["warnings"])
    assert a.video["effective_fps"] == pytest.approx(25, abs=1.5)


@pytest.mark.slow
def test_treadmill_clip_warns_about_the_playback_speed_change(treadmill):
    a, _ = treadmill
    assert any("playback speed changes" in w for w in a.quality["warnings"])
    (slow,) = [s for s in a.quality["playback_sections"] if s["kind"] == "slow_motion"]
    assert 110 <= slow["first_frame"] <= 125 and 270 <= slow["last_frame"] <= 285  # x4 (the .md)
    assert slow["slow_factor"] == pytest.approx(4.0, rel=0.15)


@pytest.mark.slow
def test_lean_lesson_missed_contacts_are_not_called_slow_motion():
    """The treadmill lesson plays in real time throughout; from frame 26 to 161 the contacts
    found are about twice as far apart (every second one missed), but the pelvis bounces
    every 9 frames (360 ms) there as elsewhere (docs/accuracy.md)."""
    from posecoach import pipeline

    name = "treadmill_lean_lesson_tiktok_25fps"
    clip = shared_file(f"{CLIPS}/{name}.mp4")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = pipeline.analyze_poses(estimated_poses(f"{CLIPS}/{name}.mp4"), video_path=clip)
    assert not any("playback speed changes" in w for w in a.quality["warnings"])
    assert {s["kind"] for s in a.quality["playback_sections"]} == {"real_time", "missed_contacts"}
    (odd,) = [s for s in a.quality["playback_sections"] if s["kind"] == "missed_contacts"]
    assert odd["bounce_period_ms"] == pytest.approx(360.0, abs=40.0)  # one frame
    assert "slow_motion" not in set(a.steps["left_out_reason"])
    # the contacts there longer than the runner's step are left out whole
    inside = a.steps["ic_frame"].between(odd["first_frame"], odd["last_frame"])
    long_ = inside & (a.steps["ground_contact_ms"] > 420.0)
    assert long_.any() and (a.steps.loc[long_, "summary_use"] == "none").all()


@pytest.mark.slow
def test_labelled_contacts_regression_guard(treadmill, overground):
    """What is reached today (92 % / 60 % within one picture, 2 / 1 spurious, left/right as
    labelled); the target is the xfail below."""
    hits_t, spurious_t, sides_t = _label_hits(*treadmill, tol=1)
    hits_o, spurious_o, sides_o = _label_hits(*overground, tol=2)
    # of 24 free-running labels (local time scale in slow motion, 0a8ceae; stance velocity
    # of a contact of a few frames from its segmented stance, refine_initial_contact; the
    # earlier of height and velocity cue in slow motion, combine_initial_contact: IC 168);
    # 23 and 1 spurious while the rest on the side rail set the near foot's contact level
    # 8 cm low (see the cut clip below): ICs 116 (+2) and 223 (two copies, -4/+5) moved out;
    # 223 is back (-1: three copies merged, the whole copy's IC rather than the 3-frame
    # fragment's, events.merge_coincident_contacts)
    assert hits_t >= 22
    assert spurious_t <= 2  # the rhythm of the steps (events.drop_extra_contacts)
    assert hits_o >= 3  # of 5 (the first is outside the picture)
    assert spurious_o <= 1
    # left/right from the alternation of the feet (events.assign_sides): all found agree
    assert all(sides_t) and all(sides_o)
    assert set(treadmill[0].events["side"]) == {"left", "right"}


@pytest.mark.slow
def test_labelled_toe_offs_regression_guard(treadmill, overground):
    """Toe-offs have no target on video; what is reached today (docs/accuracy.md): every
    labelled toe-off of a detected contact found, early by at most one picture (the
    overground far foot's TO 86: three pictures, its label itself maybe one off)."""
    a, _ = treadmill
    labels = pd.read_csv(shared_file(f"{CLIPS}/treadmill_sprint_side_spotter_30fps.events.csv"))
    to = a.events[a.events["kind"] == "toe_off"]["frame"].to_numpy()
    for f in (43, 50, 55):  # the labelled TOs of contacts the detector finds
        assert f in set(labels["to_frame"])
        assert np.min(np.abs(to - f)) <= 1, f
    a, _ = overground
    to = a.events[a.events["kind"] == "toe_off"]["frame"].to_numpy()
    for f, worst in ((86, 6), (128, 2), (166, 2)):  # frame indices: pictures shown twice
        err = to[np.argmin(np.abs(to - f))] - f
        assert -worst <= err <= 2, (f, err)


@pytest.mark.slow
def test_treadmill_clip_cut_short_keeps_the_cadence():
    """The treadmill clip cut to its first 191 frames (6.4 s: 26 frames standing on the side
    rail, 3 s of sprinting, the ramp into slow motion): the rest on the rail must not set the
    near foot's contact level (it did, and every second contact was lost: 132 steps/min)."""
    from posecoach import pipeline

    name = "treadmill_sprint_side_spotter_30fps"
    clip = shared_file(f"{CLIPS}/{name}.mp4")
    labels = pd.read_csv(shared_file(f"{CLIPS}/{name}.events.csv"))
    poses = estimated_poses(f"{CLIPS}/{name}.mp4").isel(time=slice(0, 191))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = pipeline.analyze_poses(poses, video_path=clip)
    real = labels[(labels["ic_frame"] >= 40) & (labels["ic_frame"] <= 104)]  # real time
    hits, _, sides = _label_hits(a, real, tol=1)
    assert hits >= len(real) - 1 and all(sides)  # 84 comes 2 frames late (the full clip: +1)
    fps = float(a.video["fps"])
    label_spm = 60.0 * fps * (len(real) - 1) / float(np.ptp(real["ic_frame"]))
    assert a.summary["cadence_spm"]["median"] == pytest.approx(label_spm, rel=0.05)


@pytest.mark.slow
@pytest.mark.xfail(reason="target not reached: treadmill 22/24 (92 %) but 2 spurious (ICs 104 "
                          "and 116 late on the slow-motion ramp; 1.2 allowed), overground 3/5 "
                          "(IC 142 late, IC 20 outside the picture); docs/accuracy.md",
                   strict=False)
def test_target_ninety_percent_of_labelled_contacts_within_one_picture(treadmill, overground):
    hits_t, spurious_t, _ = _label_hits(*treadmill, tol=1)
    hits_o, spurious_o, _ = _label_hits(*overground, tol=2)
    assert hits_t >= 0.9 * len(treadmill[1])
    assert hits_o >= 0.9 * len(overground[1])
    assert spurious_t <= len(treadmill[1]) / 20
    assert spurious_o <= max(1, len(overground[1]) / 20)
