"""Tests of posecoach.assessment: rule file, verdicts, score, priorities, squad files."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from posecoach import assessment, metrics, pipeline, synthetic
from posecoach.analysis import Analysis, load_schema
from posecoach.assessment import (
    Band,
    RuleFileError,
    RuleResult,
    assess,
    band_distance,
    band_status,
    load_rules,
    rank_priorities,
    weighted_score,
)
from posecoach.errors import PosecoachError
from posecoach.metrics import METRIC_KINDS, median_ci

REPO = Path(__file__).resolve().parents[1]
#: The verdicts the issue asks for: the over-striding heel striker fails these, the
#: Pose-style runner passes them.
STRIKE_RULES = ("kp03_ball_of_foot", "kp08_land_under_knee")
OVERSTRIDE_RULES = ("kp09_short_strides", "kp13_gravity_places_foot")


# --------------------------------------------------------------------------- helpers


def _analysis(params: synthetic.RunnerParams) -> Analysis:
    ds, _ = synthetic.SyntheticRunner(params).generate(duration_s=8, fps=60, seed=1)
    ds, _ = synthetic.add_faults(ds, jitter_px=1.5, dropped_frames=4, leg_swaps=1, seed=1)
    return pipeline.analyze_poses(ds, height_m=params.height_m, speed_mps=params.speed_mps)


@pytest.fixture(scope="module")
def heel_striker() -> Analysis:
    return _analysis(synthetic.RunnerParams.heel_striker())


@pytest.fixture(scope="module")
def pose_runner() -> Analysis:
    return _analysis(synthetic.RunnerParams.pose_runner())


@pytest.fixture(scope="module")
def rules() -> assessment.RuleSet:
    return load_rules()


def entry(median: float | None, n: int = 20, iqr: float = 1.0, left=None, right=None,
          asymmetry=None) -> dict:
    return {"median": median, "iqr": iqr, "n": n, "left": median if left is None else left,
            "right": median if right is None else right, "asymmetry_pct": asymmetry}


def hand_analysis(summary: dict, *, gait: str = "running", speed_mps: float | None = 3.0,
                  steps: pd.DataFrame | None = None, reason: str = "") -> Analysis:
    """An Analysis built by hand: only what the assessment reads is filled in."""
    return Analysis(
        video={"fps": 60.0}, runner={"speed_mps": speed_mps, "facing": "right"},
        gait={"classification": gait, "reason": reason or f"test gait {gait}"},
        events=pd.DataFrame(columns=["side", "kind", "frame", "time_s", "confidence"]),
        steps=steps if steps is not None else pd.DataFrame(), summary=summary,
        foot_strike={"pattern": "unknown", "left": "unknown", "right": "unknown"},
        quality={"detected_fraction": 1.0, "warnings": []},
    )


def truth_analysis(params: synthetic.RunnerParams) -> Analysis:
    """The synthetic runner's exact ground-truth metrics as a summary (no detection error)."""
    _, truth = synthetic.SyntheticRunner(params).generate(duration_s=8, fps=60, seed=1)
    summary = {}
    for name, value in truth.metrics.items():
        v = float(np.median(value)) if np.ndim(value) else value
        if name in METRIC_KINDS and v is not None and np.isfinite(v):
            summary[name] = entry(float(v), iqr=0.0)
    return hand_analysis(summary, speed_mps=params.speed_mps)


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def default_text() -> str:
    return assessment.default_rules_path().read_text(encoding="utf-8")


def result(rule_id: str, status: str, weight: float, distance: float | None,
           distance_ci95: float | None = None) -> RuleResult:
    return RuleResult(
        id=rule_id, title=rule_id, group="practice", number=None, status=status,
        value=None if status == "not_assessable" else 1.0, unit="deg", spread=None, n=10,
        left=None, right=None, metric="trunk_lean_deg", band_text="", cue="", drills=[],
        reason="", key_frame=None, weight=weight, source="", distance=distance,
        distance_ci95=distance_ci95,
    )


# --------------------------------------------------------------------------- the rule file


def test_default_rule_file_is_complete(rules):
    assert re.fullmatch(r"\d+\.\d+\.\d+", rules.version)
    assert rules.changelog and rules.changelog[0].startswith(rules.version)
    assert len(rules.rules) >= 23
    ids = rules.ids
    assert len(set(ids)) == len(ids)
    # one rule for each of the 15 key points
    assert {r.number for r in rules.rules if r.group == "key_point"} == set(range(1, 16))
    # the three elements and the two models
    titles = " ".join(r.title for r in rules.rules if r.group == "element")
    for element in ("Pose", "Fall", "Pull"):
        assert element in titles
    model_titles = " ".join(r.title for r in rules.rules if r.group == "model")
    assert "Mechanical" in model_titles and "Biological" in model_titles
    # cadence, lean, arms, head
    metrics_used = {r.metric for r in rules.rules}
    for m in ("cadence_spm", "trunk_lean_deg", "elbow_angle_deg", "arm_swing_deg",
              "head_vertical_motion_cm", "vertical_oscillation_cm",
              "min_knee_flexion_late_stance_deg"):
        assert m in metrics_used, m
    # what a side view cannot show is declared, never measured
    assert rules.get("kp10_knees_together").view == "front"
    assert rules.get("practice_relaxation").view == "none"


def test_every_rule_has_all_required_fields(rules):
    for r in rules.rules:
        assert r.title and r.cue and r.source and r.group in assessment.GROUPS, r.id
        assert r.weight >= 0 and r.min_steps >= 1, r.id
        assert r.drills and all(d in rules.drills for d in r.drills), r.id
        assert r.view in assessment.VIEWS and r.aggregate in assessment.AGGREGATES
        assert r.key_frame in (None, *assessment.KEY_FRAMES), r.id
        if r.view == "side":
            assert r.metric in METRIC_KINDS, r.id
            assert r.unit in ("deg", "ms", "cm", "spm", "%", "m/s", "m"), (r.id, r.unit)
            for band in (r.good, r.borderline):
                assert band is not None and len(band.source) > 10, r.id
                assert band.min is not None or band.max is not None
            for sb in r.speed_bands:
                assert sb.good.source and sb.borderline.source
        # the cue is one line in plain words
        assert "\n" not in r.cue and len(r.cue) < 140, r.id


def test_drill_catalogue_plan_and_caveat(rules):
    categories = {d["category"] for d in rules.drills.values()}
    assert categories == {"strength", "mobility", "pose_drill", "cadence"}
    for name in ("pony", "change_of_support", "wall_fall", "hamstring_pull", "metronome_cadence",
                 "calf_raises", "short_foot", "step_downs"):
        assert name in rules.drills
    for d in rules.drills.values():
        assert d["name"] and d["description"] and d["dosage"]
    assert len(rules.plan) >= 4
    assert all(p["weeks"] and p["focus"] and p["sessions"] for p in rules.plan)
    assert "months" in rules.plan_warning
    for cite in ("Arendse", "Dallam", "oxygen"):
        assert cite in rules.caveat


def _plan_text(phases: list[dict]) -> str:
    return "\n".join(x for ph in phases for x in ph["sessions"])


def test_the_plan_is_tailored_to_the_runner(heel_striker, pose_runner, rules):
    """The forefoot-landing caution only for a runner changing the landing, the metronome only
    when the cadence is to change, the top priority's cue in the segments, and the drills
    named as the catalogue names them."""
    names = {d["name"] for d in rules.drills.values()}
    for a in (heel_striker, pose_runner):
        v = assess(a, rules)
        working = {r.id for r in v.results if r.status in ("fail", "borderline")}
        text = _plan_text(v.plan)
        assert "{" not in text and "{" not in v.plan_warning
        assert v.plan_warning.startswith("Changing running technique takes months")
        landing = bool(working & {"kp03_ball_of_foot", "kp04_heels_no_weight"})
        assert ("Achilles tendon" in v.plan_warning) == landing
        assert ("metronome" in text.lower()) == ("practice_cadence" in working)
        assert f'({v.priorities[0].title}): "{v.priorities[0].cue}"' in text
        for drill in ("pose_stand", "wall_fall", "short_foot", "calf_stretch"):
            assert rules.drills[drill]["name"] in text
        assert len(v.plan) == len(rules.plan)
    heel = assess(heel_striker, rules)
    assert heel.get("kp03_ball_of_foot").status == "fail" and "Achilles" in heel.plan_warning
    pose = assess(pose_runner, rules)
    assert pose.get("kp03_ball_of_foot").status == "pass"
    assert "Achilles" not in pose.plan_warning
    assert names  # the catalogue is not empty


def test_a_plan_without_priorities_leaves_out_the_lines_that_name_one(rules):
    passing = [result(r.id, "pass", r.weight, 0.0) for r in rules.rules]
    phases, warning = assessment.tailor_plan(rules, passing, [])
    text = _plan_text(phases)
    assert "top priority" not in text and "{" not in text
    assert "metronome" not in text.lower() and "Achilles" not in warning
    assert all(ph["sessions"] for ph in phases)


@pytest.mark.parametrize("old, new, match", [
    ("{drill:wall_fall}", "{drill:wall_falls}", r"names the drill 'wall_falls'.*Did you mean \{drill:wall_fall\}"),
    ('\\"{top_cue}\\"', '\\"{top_cues}\\"', r"holds \{top_cues\}, which is not a known field"),
    ('if_working_on = ["practice_cadence"]', 'if_working_on = ["practice_cadense"]',
     r"sessions\[1\]\.if_working_on names 'practice_cadense'.*Did you mean 'practice_cadence'"),
    ('if_working_on = ["kp03_ball_of_foot", "kp04_heels_no_weight"]', "",
     r"plan\.cautions\[0\]\.if_working_on must be a non-empty list"),
])
def test_the_plans_fields_are_checked(tmp_path, old, new, match):
    text = default_text()
    assert old in text
    with pytest.raises(RuleFileError, match=match):
        load_rules(write(tmp_path, text.replace(old, new, 1)))


def test_a_squad_file_may_drop_a_rule_the_inherited_plan_names(heel_striker, tmp_path):
    squad = load_rules(write(tmp_path, 'extends = "pose_method"\nversion = "1"\n[[rules]]\n'
                                       'id = "kp03_ball_of_foot"\nenabled = false\n'))
    assert "kp03_ball_of_foot" not in squad.ids
    assert "Achilles" in assess(heel_striker, squad).plan_warning  # kp04 still names it


def test_band_sources_cite_the_literature_defaults(rules):
    assert "Altman & Davis 2012" in rules.get("kp03_ball_of_foot").source
    assert "Souza 2016" in rules.get("kp08_land_under_knee").source
    assert "Heiderscheit" in rules.get("practice_cadence").source
    assert "Dallam" in rules.get("model_mechanical").good.source
    # conventions are marked as conventions
    n_conv = sum("convention" in (r.good.source + r.borderline.source).lower()
                 for r in rules.rules if r.good is not None)
    assert n_conv >= 10


def test_docs_table_is_generated_from_the_rule_file(rules):
    doc = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    start, end = "<!-- rules-table:start -->\n", "<!-- rules-table:end -->"
    assert start in doc and end in doc
    table = doc.split(start, 1)[1].split(end, 1)[0]
    assert table == assessment.rules_table_markdown(rules), (
        "docs/rules.md is out of date: paste the output of "
        "posecoach.assessment.rules_table_markdown() between the markers"
    )


# --------------------------------------------------------------------------- band maths


def test_band_status_edges_are_inclusive():
    good, border = Band(-2.0, 5.0, "s"), Band(-5.0, 8.0, "s")
    assert [band_status(v, good, border) for v in (-5.0, -2.0, 5.0, 8.0, 8.01, -5.01)] == [
        "borderline", "pass", "pass", "borderline", "fail", "fail"]
    one_sided = Band(85.0, None, "s"), Band(70.0, None, "s")
    assert band_status(1e6, *one_sided) == "pass" and band_status(69.9, *one_sided) == "fail"


def test_band_distance_is_in_units_of_the_borderline_margin():
    good, border = Band(-2.0, 5.0, "s"), Band(-5.0, 8.0, "s")
    assert band_distance(3.0, good, border) == 0.0
    assert band_distance(8.0, good, border) == pytest.approx(1.0)     # fail edge
    assert band_distance(11.0, good, border) == pytest.approx(2.0)
    assert band_distance(-3.5, good, border) == pytest.approx(0.5)    # low side, margin 3
    # open borderline side: a quarter of the good edge (at least 1 unit)
    assert band_distance(-4.0, Band(0.0, None, "s"), Band(None, None, "s")) == pytest.approx(4.0)


# --------------------------------------------------------------------------- synthetic runner


@pytest.mark.parametrize("rule_id", ("kp03_ball_of_foot", *OVERSTRIDE_RULES))
def test_heel_striker_fails_and_pose_runner_passes(heel_striker, pose_runner, rules, rule_id):
    hs, pr = assess(heel_striker, rules).get(rule_id), assess(pose_runner, rules).get(rule_id)
    assert hs.status == "fail", hs.reason
    assert pr.status == "pass", pr.reason


def test_heel_striker_fails_shank_angle(heel_striker, pose_runner, rules):
    hs = assess(heel_striker, rules).get("kp08_land_under_knee")
    pr = assess(pose_runner, rules).get("kp08_land_under_knee")
    assert pr.status == "pass", pr.reason
    assert hs.status == "fail", hs.reason


def test_pose_runner_passes_shank_angle(pose_runner, rules):
    assert assess(pose_runner, rules).get("kp08_land_under_knee").status == "pass"


@pytest.mark.parametrize("rule_id", (*STRIKE_RULES, *OVERSTRIDE_RULES, "model_mechanical",
                                     "kp01_ankle_under_hip", "practice_cadence"))
def test_ground_truth_verdicts(rules, rule_id):
    """On the exact ground-truth metrics the bands separate the two runners."""
    hs = assess(truth_analysis(synthetic.RunnerParams.heel_striker()), rules).get(rule_id)
    pr = assess(truth_analysis(synthetic.RunnerParams.pose_runner()), rules).get(rule_id)
    assert hs.status == "fail", hs.reason
    assert pr.status == "pass", pr.reason


def test_synthetic_assessment_shape(heel_striker, pose_runner, rules):
    hs, pr = assess(heel_striker, rules), assess(pose_runner, rules)
    assert [r.id for r in hs.results] == rules.ids
    for res in (hs, pr):
        assert all(r.status in assessment.STATUSES for r in res.results)
        for r in res.results:
            if r.status == "not_assessable":
                assert r.value is None and r.reason
            else:
                assert np.isfinite(r.value) and r.n >= r_min(rules, r.id) and r.reason
                assert r.unit in r.reason and r.band_text in r.reason
        # front-view and invisible principles are never guessed from a side view
        assert res.get("kp10_knees_together").status == "not_assessable"
        assert "front" in res.get("kp10_knees_together").reason
        assert res.get("practice_relaxation").status == "not_assessable"
    assert hs.score["value_pct"] < pr.score["value_pct"]
    assert {p.id for p in hs.priorities} <= {r.id for r in hs.results if r.status == "fail"}
    assert hs.priorities[0].id in ("kp03_ball_of_foot", "kp09_short_strides", "model_mechanical",
                                   "kp13_gravity_places_foot", "practice_cadence")
    assert hs.rules_version.endswith(rules.version) and hs.caveat == rules.caveat
    assert hs.recommended_drills[: len(hs.priorities[0].drills)] == hs.priorities[0].drills


def r_min(rules, rule_id: str) -> int:
    return rules.get(rule_id).min_steps


def test_assess_does_not_modify_the_analysis(pose_runner, rules):
    before = copy.deepcopy(pose_runner.summary), dict(pose_runner.runner)
    assess(pose_runner, rules)
    assert (pose_runner.summary, pose_runner.runner) == before
    assert pose_runner.assessment is None


def test_analysis_json_carries_the_assessment(pose_runner, rules):
    jsonschema = pytest.importorskip("jsonschema")
    res = assess(pose_runner, rules)
    a = dataclasses.replace(pose_runner, assessment=[r.to_json() for r in res.results],
                            score=res.score)
    doc = json.loads(json.dumps(a.to_json_dict(), allow_nan=False))
    jsonschema.validate(doc, load_schema())
    first = doc["assessment"][0]
    assert {"id", "title", "status", "value", "unit", "cue"} <= set(first)
    assert first["id"] == rules.rules[0].id
    assert doc["score"]["value_pct"] == pytest.approx(res.score["value_pct"])
    json.dumps(res.to_json_dict(), allow_nan=False)


# --------------------------------------------------------------------------- not assessable


@pytest.mark.parametrize("gait", ("walking", "unknown"))
def test_not_running_gives_all_not_assessable(pose_runner, rules, gait):
    a = dataclasses.replace(pose_runner, gait={"classification": gait,
                                               "reason": f"no flight phase ({gait})"})
    res = assess(a, rules)
    assert {r.status for r in res.results} == {"not_assessable"}
    assert all("no flight phase" in r.reason for r in res.results)
    assert all(r.value is None for r in res.results)
    assert res.score["value_pct"] is None and res.score["n_assessed"] == 0
    assert res.priorities == []


def test_hand_built_walking_analysis(rules):
    summary = {"foot_strike_angle_deg": entry(15.0), "cadence_spm": entry(110.0)}
    res = assess(hand_analysis(summary, gait="walking", reason="no flight phase"), rules)
    assert {r.status for r in res.results} == {"not_assessable"}
    assert "running technique only" in res.get("kp03_ball_of_foot").reason


def test_missing_occluded_and_too_few_steps(rules):
    summary = {
        "foot_strike_angle_deg": entry(15.0, n=3),       # too few steps
        "shank_angle_ic_deg": entry(None, n=0),          # nothing measured (occlusion)
        "overstride_pct_leg": entry(25.0, n=4),          # exactly enough
    }
    res = assess(hand_analysis(summary), rules)
    r3 = res.get("kp03_ball_of_foot")
    assert r3.status == "not_assessable" and "too few steps" in r3.reason and "3" in r3.reason
    assert res.get("kp08_land_under_knee").status == "not_assessable"
    assert "occlusion" in res.get("kp08_land_under_knee").reason
    assert res.get("kp09_short_strides").status == "fail"
    assert "not measured" in res.get("model_mechanical").reason   # metric absent entirely
    assert res.score["n_assessed"] == 1 and res.score["value_pct"] == 0.0


def test_a_short_clip_is_warned_about_once(rules):
    """Three steps (a 2-second clip): the rules say "too few steps" each, and the assessment
    adds one warning for the clip that says what to film; five steps: judged, with a warning
    that the verdicts rest on few steps; a long clip whose rule lacks steps only because
    body points were hidden gets no such warning (the rule's reason covers it)."""
    summary = {"foot_strike_angle_deg": entry(15.0, n=3), "overstride_pct_leg": entry(25.0, n=3)}
    uses = sum(r.metric in summary for r in rules.rules)
    steps = pd.DataFrame({"side": ["right", "left", "right"]})
    res = assess(hand_analysis(summary, steps=steps), rules)
    assert len(res.warnings) == 1
    w = res.warnings[0]
    assert "the clip is short: it holds 3 steps;" in w and "were not judged" in w
    assert f"{uses} of {len(rules.rules)} rules need 4 steps" in w and "film at least 8 steps" in w
    # a step left out of the summary (both feet down: a lost foot) is not counted as used
    four = hand_analysis(summary, steps=pd.DataFrame({"side": ["right", "left"] * 2}))
    four.quality["overlapping_steps"] = [55]
    (w,) = assess(four, rules).warnings
    assert "it holds 4 steps, of which 3 could be used (1 left out" in w
    assert "need 4 steps with a value and were not judged; film" in w  # none judged: no "rest on"
    some = hand_analysis({**summary, "ground_contact_ms": entry(250.0, n=4)},
                         steps=pd.DataFrame({"side": ["right", "left"] * 2}))
    (w,) = assess(some, rules).warnings
    judged = sum(r.status != "not_assessable" for r in assess(some, rules).results)
    assert judged >= 1 and f"and the {judged} judged rest on 4 steps or fewer" in w
    enough = {"foot_strike_angle_deg": entry(15.0, n=5)}
    five = pd.DataFrame({"side": ["right", "left"] * 2 + ["right"]})
    (w,) = assess(hand_analysis(enough, steps=five), rules).warnings
    assert "the clip is short: it holds 5 steps" in w and "film at least 8 steps" in w
    long_clip = pd.DataFrame({"side": ["right", "left"] * 15})
    assert assess(hand_analysis(summary, steps=long_clip), rules).warnings == []
    walking = hand_analysis(summary, steps=steps, gait="walking")  # has its own warning
    assert assess(walking, rules).warnings == []


@pytest.mark.parametrize("duration_s, expected", [(1.2, "were not judged"),
                                                  (1.8, "each verdict rests on"), (8.0, None)])
def test_judge_adds_the_short_clip_warning_to_the_analysis(duration_s, expected):
    """A synthetic runner filmed for 1.2 s (3 steps), 1.8 s (5 steps) and 8 s: the warning
    lands in quality.warnings (so in analysis.json, the report and the CLI's output) once,
    however often the clip is judged, and not at all for the 8-s clip."""
    p = synthetic.RunnerParams.pose_runner()
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=duration_s, fps=60.0, seed=0)
    a = pipeline.analyze_poses(ds, height_m=p.height_m)
    assert a.gait["classification"] == "running"
    pipeline.judge(a)
    pipeline.judge(a)
    short = [w for w in a.quality["warnings"] if "clip is short" in w]
    if expected is None:
        assert short == []
    else:
        assert len(short) == 1 and expected in short[0]


def test_slow_motion_withholds_time_verdicts_only(rules):
    summary = {"ground_contact_ms": entry(600.0), "cadence_spm": entry(80.0),
               "foot_strike_angle_deg": entry(-4.0)}
    res = assess(hand_analysis(summary), rules)
    for rid in ("kp02_short_support", "practice_cadence"):
        assert res.get(rid).status == "not_assessable"
        assert "slow motion" in res.get(rid).reason
    assert res.get("kp03_ball_of_foot").status == "pass"


def test_symmetry_of_times_is_judged_in_slow_motion_but_not_with_contacts_missed(rules):
    """A ratio of times is the same in slow motion; with flights too long for the bounce
    (contacts missed) the contact times themselves are not trusted, so neither is their
    left/right difference (the panning clip was judged 'fail' on 702 against 290 ms)."""
    steps = pd.DataFrame({"side": ["left", "right"] * 8,
                          "ground_contact_ms": [250.0, 300.0] * 8})
    base = {"ground_contact_ms": entry(275.0, n=16, left=250.0, right=300.0)}
    slow = base | {"cadence_spm": entry(80.0)}
    sym = assess(hand_analysis(slow, steps=steps), rules).get("practice_symmetry")
    assert sym.status == "fail" and sym.value == pytest.approx(50 / 275 * 100)
    missed = base | {"cadence_spm": entry(170.0), "flight_ms": entry(300.0),
                     "vertical_oscillation_cm": entry(2.0)}
    sym = assess(hand_analysis(missed, steps=steps), rules).get("practice_symmetry")
    assert sym.status == "not_assessable" and "contacts were missed" in sym.reason


# --------------------------------------------------------------------------- speed-relative bands


def test_speed_relative_bands(rules):
    summary = {"ground_contact_ms": entry(250.0)}
    easy = assess(hand_analysis(summary, speed_mps=3.0), rules).get("kp02_short_support")
    fast = assess(hand_analysis(summary, speed_mps=4.5), rules).get("kp02_short_support")
    unknown = assess(hand_analysis(summary, speed_mps=None), rules).get("kp02_short_support")
    assert easy.status == "pass" and fast.status == "borderline"
    assert "3.0 m/s" in easy.band_text and "3.5-5" in fast.band_text
    assert unknown.status == "pass" and "speed unknown" in unknown.band_text
    assert "speed unknown" in unknown.reason and "treadmill speed (--speed-kmh)" in unknown.reason
    # overground without a speed (a panning camera): not the treadmill's belt speed
    crossing = hand_analysis(summary, speed_mps=None)
    crossing.runner["setting"] = "overground"
    text = assess(crossing, rules).get("kp02_short_support").band_text
    assert "measured only with a fixed camera" in text and "running speed (--speed-kmh)" in text
    assert "treadmill" not in text
    # rules that do not depend on speed never talk about it
    r = assess(hand_analysis({"foot_strike_angle_deg": entry(0.0)}, speed_mps=None),
               rules).get("kp03_ball_of_foot")
    assert "speed" not in r.band_text


# --------------------------------------------------------------------------- score and priorities


def test_weighted_score_is_documented_formula():
    points = {"pass": 1.0, "borderline": 0.5, "fail": 0.0}
    results = [result("a", "pass", 2.0, 0.0), result("b", "borderline", 1.0, 0.5),
               result("c", "fail", 1.0, 2.0), result("d", "not_assessable", 5.0, None)]
    score = weighted_score(results, points, "m")
    assert score["value_pct"] == pytest.approx(100 * (2 * 1 + 1 * 0.5 + 0) / 4)
    assert score["n_assessed"] == 3 and score["n_rules"] == 4 and score["method"] == "m"
    assert score["weights"] == {"a": 2.0, "b": 1.0, "c": 1.0, "d": 5.0}
    assert score["counts"]["not_assessable"] == 1
    assert weighted_score([results[-1]], points)["value_pct"] is None


def test_score_matches_results(heel_striker, rules):
    res = assess(heel_striker, rules)
    assessed = [r for r in res.results if r.assessable]
    expected = 100 * sum(r.weight * rules.points[r.status] for r in assessed) / sum(
        r.weight for r in assessed)
    assert res.score["value_pct"] == pytest.approx(expected)
    assert 0 < res.score["value_pct"] < 100


def test_priorities_fail_first_then_weight_times_distance():
    results = [result("pass", "pass", 9.0, 0.0), result("b_big", "borderline", 5.0, 0.9),
               result("f_small", "fail", 1.0, 1.1), result("f_big", "fail", 2.0, 3.0),
               result("f_mid", "fail", 3.0, 1.5), result("na", "not_assessable", 9.0, None)]
    assert [r.id for r in rank_priorities(results)] == ["f_big", "f_mid", "f_small"]
    assert [r.id for r in rank_priorities(results, n=10)] == ["f_big", "f_mid", "f_small",
                                                               "b_big"]
    assert rank_priorities([results[0], results[-1]]) == []
    # a far-out value counts as at most 3 margins, so weight decides between big faults
    far = [result("light_far", "fail", 0.5, 40.0), result("heavy", "fail", 3.0, 1.6)]
    assert [r.id for r in rank_priorities(far)] == ["heavy", "light_far"]


def test_priorities_rank_by_how_far_out_the_interval_lies_at_least():
    """A fault whose steps agree outranks one of the same median whose 95 % interval reaches
    back towards the good band; a fail that could also pass, like one with too few steps for
    an interval, comes after the fails known to lie past the band, but before the borderline
    rules."""
    results = [result("scattered", "fail", 2.0, 2.5, distance_ci95=1.1),
               result("agreed", "fail", 2.0, 2.0, distance_ci95=1.8),
               result("maybe_pass", "fail", 3.0, 3.0, distance_ci95=0.0),
               result("few_steps", "fail", 2.0, 1.5),
               result("border", "borderline", 3.0, 0.9, distance_ci95=0.7)]
    assert [r.id for r in rank_priorities(results, n=10)] == [
        "agreed", "scattered", "maybe_pass", "few_steps", "border"]
    # a clip too short for any interval is ranked by the medians, as before intervals
    short = [result("small", "fail", 1.0, 1.2), result("big", "fail", 1.0, 2.5),
             result("heavy", "fail", 3.0, 1.1)]
    assert [r.id for r in rank_priorities(short)] == ["heavy", "big", "small"]
    # equal lower bounds: the median's distance decides, then the weight
    tied = [result("near", "fail", 1.0, 1.2, distance_ci95=1.1),
            result("far", "fail", 1.0, 2.0, distance_ci95=1.1)]
    assert [r.id for r in rank_priorities(tied)] == ["far", "near"]


def test_band_distance_within_an_interval():
    good, border = Band(-2.0, 5.0, "s"), Band(-5.0, 8.0, "s")
    within = assessment.band_distance_within
    assert within((0.0, 4.0), good, border) == 0.0
    assert within((4.0, 11.0), good, border) == 0.0  # reaches the good band
    assert within((6.5, 11.0), good, border) == pytest.approx(0.5)  # its end nearer the band
    assert within((-9.0, -3.5), good, border) == pytest.approx(0.5)
    assert within((-9.0, 9.0), good, border) == 0.0  # spans the good band


@given(st.floats(-30, 30), st.floats(0, 30))
def test_band_distance_within_is_the_smallest_distance_in_the_interval(lo, width):
    good, border = Band(-2.0, 5.0, "s"), Band(-5.0, 8.0, "s")
    hi = lo + width
    grid = np.linspace(lo, hi, 301)
    smallest = min(band_distance(float(x), good, border) for x in grid)
    got = assessment.band_distance_within((lo, hi), good, border)
    assert got <= smallest + 1e-9
    # the grid's spacing bounds how far its smallest value can lie above the true one
    assert got >= smallest - (hi - lo) / 300 / 3.0 - 1e-9


# --------------------------------------------------------------------------- user rule files


SQUAD = """
extends = "pose_method"
version = "2025.1"
name = "Track squad"

[[rules]]
id = "kp09_short_strides"
[rules.bands.good]
max = 5.0
source = "squad convention (coach): land within 5 % of leg length"
[rules.bands.borderline]
max = 7.0
source = "squad convention"

[[rules]]
id = "practice_arms"
enabled = false
"""


def test_squad_file_changes_the_verdict(pose_runner, tmp_path):
    default = assess(pose_runner).get("kp09_short_strides")
    assert default.status == "pass"
    squad = load_rules(write(tmp_path, SQUAD))
    tuned = assess(pose_runner, squad).get("kp09_short_strides")
    assert tuned.status == "fail" and tuned.value == pytest.approx(default.value)
    assert "squad convention" in squad.get("kp09_short_strides").good.source
    assert "practice_arms" not in squad.ids and len(squad.ids) == len(load_rules().ids) - 1
    assert squad.version_text.startswith("Track squad 2025.1 (extends pose_method")
    # untouched rules keep the default bands
    assert squad.get("kp03_ball_of_foot") == load_rules().get("kp03_ball_of_foot")


def test_complete_user_file_changes_the_verdict(heel_striker, tmp_path):
    text = default_text()
    old = ('[rules.bands.good]\nmax = 3.0\nsource = "Midfoot or forefoot')
    assert old in text
    text = text.replace(old, '[rules.bands.good]\nmax = 8.0\nsource = "Midfoot or forefoot')
    text = text.replace('[rules.bands.borderline]\nmax = 8.0\nsource = "Still midfoot',
                        '[rules.bands.borderline]\nmax = 20.0\nsource = "Still midfoot')
    rs = load_rules(write(tmp_path, text))
    assert assess(heel_striker).get("kp03_ball_of_foot").status == "fail"
    assert assess(heel_striker, rs).get("kp03_ball_of_foot").status == "borderline"


@pytest.mark.parametrize("change, field", [
    (('metric = "shank_angle_ic_deg"', 'metric = "shank_angle_deg_ic"'),
     "(id 'kp08_land_under_knee').metric"),
    (('[rules.bands.borderline]\nmax = 10.0', '[rules.bands.borderline]\nmax = 4.0'),
     "(id 'kp08_land_under_knee').bands.borderline"),
    (('drills = ["wall_fall", "metronome_cadence", "change_of_support"]',
      'drills = ["wall_falls"]'), "(id 'kp08_land_under_knee').drills"),
    (('group = "key_point"\nnumber = 8', 'group = "keypoint"\nnumber = 8'),
     "(id 'kp08_land_under_knee').group"),
    (('weight = 3.0\ncue = "Let the foot land', 'weight = "high"\ncue = "Let the foot land'),
     "(id 'kp08_land_under_knee').weight"),
    (('[rules.bands.good]\nmax = 5.0\nsource = "POSE_METHOD.md default: shank',
      '[rules.bands.good]\nmax = 5.0\nsorce = "POSE_METHOD.md default: shank'),
     "(id 'kp08_land_under_knee').bands.good.sorce"),
    (('version = "1.1.0"', ''), "version is missing"),
    (('category = "cadence"', 'category = "tempo"'), "drills.metronome_cadence.category"),
    (('id = "kp09_short_strides"', 'id = "kp08_land_under_knee"'), "rules[11].id"),
    (('below_mps = 5.0\ngood = { max = 230.0', 'below_mps = 3.0\ngood = { max = 230.0'),
     "(id 'kp02_short_support').speed_bands[1].below_mps"),
])
def test_broken_rule_file_names_the_field(tmp_path, change, field):
    old, new = change
    text = default_text()
    assert old in text
    path = write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(RuleFileError) as err:
        load_rules(path)
    msg = str(err.value)
    assert field in msg, msg
    assert str(path) in msg
    assert isinstance(err.value, PosecoachError) and err.value.exit_code != 0


def test_broken_rule_file_messages_help(tmp_path):
    with pytest.raises(RuleFileError, match="not valid TOML"):
        load_rules(write(tmp_path, 'version = "1.0.0"\n[[rules]\nid = "x"\n'))
    with pytest.raises(RuleFileError, match="does not exist"):
        load_rules(tmp_path / "missing.toml")
    with pytest.raises(RuleFileError, match="Did you mean 'shank_angle_ic_deg'"):
        load_rules(write(tmp_path, default_text().replace(
            'metric = "shank_angle_ic_deg"', 'metric = "shank_angle_deg_ic"')))
    with pytest.raises(RuleFileError, match="extends"):
        load_rules(write(tmp_path, 'extends = "lydiard"\nversion = "1"\n'))
    with pytest.raises(RuleFileError, match="version"):
        load_rules(write(tmp_path, 'extends = "pose_method"\n'))
    no_source = SQUAD.replace('source = "squad convention (coach): land within 5 % of leg '
                              'length"\n', "")
    with pytest.raises(RuleFileError, match=r"kp09_short_strides'\)\.bands\.good\.source"):
        load_rules(write(tmp_path, no_source))
    with pytest.raises(RuleFileError, match="unknown rule id"):
        load_rules(write(tmp_path, 'extends = "pose_method"\nversion = "1"\n[[rules]]\n'
                                   'id = "kp99"\nenabled = false\n'))


def test_squad_file_can_add_a_rule_with_other_aggregates(tmp_path):
    text = """
extends = "pose_method"
version = "1"
[[rules]]
id = "squad_overstride_worst_foot"
title = "Worse foot lands close under the hips"
group = "practice"
metric = "overstride_cm"
aggregate = "worst_side"
weight = 1.0
cue = "Both feet land under you."
drills = ["wall_fall"]
source = "squad"
[rules.bands.good]
max = 10.0
source = "squad convention"
[rules.bands.borderline]
max = 20.0
source = "squad convention"

[[rules]]
id = "squad_lean_size"
title = "Trunk close to vertical either way"
group = "practice"
metric = "trunk_lean_deg"
aggregate = "abs"
weight = 1.0
cue = "Upright."
drills = ["wall_fall"]
source = "squad"
good = 1
"""
    with pytest.raises(RuleFileError, match="squad_lean_size'\\)\\.good"):
        load_rules(write(tmp_path, text))
    text = text.replace("good = 1\n", '[rules.bands]\ngood = { max = 5, source = "s" }\n'
                                      'borderline = { max = 10, source = "s" }\n')
    rs = load_rules(write(tmp_path, text))
    steps = pd.DataFrame({"side": ["left"] * 4 + ["right"] * 4,
                          "overstride_cm": [5, 6, 5, 6, 25, 24, 26, 25.0],
                          "trunk_lean_deg": [-7.0] * 8})
    summary = {"overstride_cm": entry(15.5, n=8, left=5.5, right=25.0),
               "trunk_lean_deg": entry(-7.0, n=8)}
    res = assess(hand_analysis(summary, steps=steps), rs)
    worst = res.get("squad_overstride_worst_foot")
    assert worst.status == "fail" and worst.value == 25.0 and worst.n == 4
    assert "right foot" in worst.reason
    lean = res.get("squad_lean_size")
    assert lean.status == "borderline" and lean.value == 7.0


def test_asymmetry_aggregate(rules):
    steps = pd.DataFrame({"side": ["left", "right"] * 4, "ground_contact_ms": [250.0, 280.0] * 4})
    summary = {"ground_contact_ms": entry(265.0, n=8, left=250.0, right=280.0, asymmetry=11.3)}
    r = assess(hand_analysis(summary, steps=steps), rules).get("practice_symmetry")
    assert r.status == "fail" and r.value == pytest.approx(30 / 265 * 100) and r.unit == "%"
    # one frame (40 ms at 25 fps) of the 30 ms difference is forgiven: symmetric
    summary["ground_contact_ms"]["resolution"] = 40.0
    r = assess(hand_analysis(summary, steps=steps), rules).get("practice_symmetry")
    assert r.status == "pass" and r.value == 0.0 and "40 ms" in r.reason
    summary["ground_contact_ms"]["resolution"] = 10.0
    r = assess(hand_analysis(summary, steps=steps), rules).get("practice_symmetry")
    assert r.value == pytest.approx(20 / 265 * 100) and r.status == "borderline"
    one_side = steps[steps.side == "left"]
    summary = {"ground_contact_ms": entry(250.0, n=4, left=250.0, right=None)}
    summary["ground_contact_ms"]["right"] = None
    r = assess(hand_analysis(summary, steps=one_side), rules).get("practice_symmetry")
    assert r.status == "not_assessable" and "both feet" in r.reason


# --------------------------------------------------------------------------- real clip


def segment(analysis: Analysis, first_frame: int, last_frame: int) -> Analysis:
    """The analysis restricted to the steps whose initial contact lies in a frame range."""
    from posecoach.metrics import summarise

    steps = analysis.steps
    sub = steps[(steps["ic_frame"] >= first_frame) & (steps["ic_frame"] <= last_frame)]
    fps = float(analysis.video.get("effective_fps") or analysis.video["fps"])
    return dataclasses.replace(analysis, steps=sub.reset_index(drop=True),
                               summary=summarise(sub, fps=fps))


@pytest.mark.slow
@pytest.mark.realdata
def test_lean_lesson_bent_segment_scores_worse_than_upright(rules):
    """SOURCE.md: a vertical-line (upright) segment around frames 45-90 and a bent-at-the-hips
    posture around frames 180-225 of the treadmill lean lesson clip."""
    from conftest import shared_file

    clip = shared_file("running-videos-licence-unknown/treadmill_lean_lesson_tiktok_25fps.mp4")
    poses = pipeline.estimate_poses(clip, progress=False)
    whole = pipeline.analyze_poses(poses, video_path=clip)
    res = assess(whole, rules)
    assert all(r.status in assessment.STATUSES and r.reason for r in res.results)
    # a 1.8 s segment holds 2-4 steps: judge the segments with min_steps = 2
    few = dataclasses.replace(rules, rules=[dataclasses.replace(r, min_steps=2)
                                            for r in rules.rules])
    upright, bent = assess(segment(whole, 45, 90), few), assess(segment(whole, 180, 225), few)
    rank = {"pass": 0, "borderline": 1, "fail": 2}
    for rid in ("practice_lean", "kp14_aligned"):
        u, b = upright.get(rid), bent.get(rid)
        assert u.assessable and b.assessable, (u.reason, b.reason)
        assert (rank[b.status], b.distance) > (rank[u.status], u.distance), (u.reason, b.reason)
        assert b.value > u.value + 5.0
    assert bent.get("practice_lean").status == "fail"
    assert upright.get("practice_lean").status == "pass", upright.get("practice_lean").reason


def test_a_value_is_never_rounded_onto_or_across_a_band_edge():
    """"Measured 0.5 cm ... outside the good band (good >= 0.5 cm)" read as a contradiction."""
    assert assessment.fmt_beside_bands(0.48, "cm", [0.5]) == "0.48"
    assert assessment.fmt_beside_bands(110.02, "deg", [70.0, 110.0]) == "110.02"
    assert assessment.fmt_beside_bands(12.34, "deg", [10.0, 15.0]) == "12.3"
    assert assessment.fmt_beside_bands(-5.0, "deg", [-5.0, 8.0]) == "-5"
    assert assessment.fmt_beside_bands(299.6, "ms", [300.0]) == "299.6"


def test_a_speed_in_video_time_does_not_pick_speed_matched_bands(rules):
    """On a slow-motion clip (cadence 70 spm) the measured 1.8 m/s is in video time; the
    bands for easy pace were picked from it as a fact."""
    rule = next(r for r in rules.rules if r.speed_bands)
    summary = {rule.metric: entry(1.0), "cadence_spm": entry(70.0)}
    slow = hand_analysis(summary, speed_mps=1.8)
    slow.runner.update(speed_source="measured", setting="overground")
    text = assessment.assess_rule(rule, slow).band_text
    assert "runner at 1.8 m/s" not in text and "in video time, not real time (slow motion" in text
    assert "--capture-fps" in text and "treadmill" not in text
    given = hand_analysis(summary, speed_mps=1.8)
    given.runner["speed_source"] = "user"  # a treadmill speed the user gave is real
    assert "runner at 1.8 m/s" in assessment.assess_rule(rule, given).band_text
    real = hand_analysis({**summary, "cadence_spm": entry(170.0)}, speed_mps=1.8)
    real.runner["speed_source"] = "measured"
    assert "runner at 1.8 m/s" in assessment.assess_rule(rule, real).band_text


# --------------------------------------------------------------- the verdict's 95 % interval

SQUAD_CI_RULES = """
extends = "pose_method"
version = "1"
{rules}
"""
_CI_RULE = """
[[rules]]
id = "squad_{agg}"
title = "Overstride ({agg})"
group = "practice"
metric = "overstride_cm"
aggregate = "{agg}"
weight = 1.0
cue = "Land under you."
drills = ["wall_fall"]
source = "squad"
[rules.bands]
good = {{ max = 5, source = "s" }}
borderline = {{ max = 10, source = "s" }}
"""


def test_statuses_within_an_interval():
    good, border = Band(-2.0, 5.0, "s"), Band(-5.0, 8.0, "s")
    within = assessment.statuses_within
    assert within((0.0, 4.0), good, border) == ["pass"]
    assert within((5.0, 8.0), good, border) == ["pass", "borderline"]  # edges are inclusive
    assert within((5.5, 7.0), good, border) == ["borderline"]
    assert within((-6.0, 9.0), good, border) == ["pass", "borderline", "fail"]
    assert within((9.0, 12.0), good, border) == ["fail"]
    assert within((-3.0, -3.0), good, border) == ["borderline"]


@pytest.mark.parametrize("values, status, possible", [
    # 12 steps close together: the whole interval is in the band of the median
    ([3.0, 3.2, 2.9, 3.1, 3.0, 3.3, 2.8, 3.1, 3.0, 3.2, 2.9, 3.0], "pass", ["pass"]),
    # the same median but steps from 1 to 9 cm: it could be borderline
    ([3.0, 1.0, 9.0, 2.0, 4.0, 8.0, 3.0, 1.5, 7.0, 2.5, 3.5, 6.0], "pass", ["pass", "borderline"]),
])
def test_a_verdict_says_when_its_interval_reaches_another_band(tmp_path, values, status, possible):
    rs = load_rules(write(tmp_path, SQUAD_CI_RULES.format(rules=_CI_RULE.format(agg="median"))))
    steps = pd.DataFrame({"side": ["left", "right"] * 6, "overstride_cm": values})
    summary = metrics.summarise(steps, fps=60)
    r = assess(hand_analysis(summary, steps=steps), rs).get("squad_median")
    assert r.status == status and r.possible_statuses == possible
    assert r.ci95 == tuple(summary["overstride_cm"]["median_ci95"])
    assert r.certain is (len(possible) == 1)
    assert ("Not certain" in r.reason) is (len(possible) > 1)
    if len(possible) > 1:
        assert "reaches into the borderline band" in r.reason
    doc = r.to_json()
    assert doc["ci95"] == list(r.ci95) and doc["possible_statuses"] == possible
    # how far out the median lies at least: 0 where the interval reaches the good band
    assert doc["distance_ci95"] == r.distance_ci95
    assert (r.distance_ci95 == 0.0) is ("pass" in possible)


def test_the_interval_follows_the_aggregate(tmp_path):
    """|median|: the interval of the size (through 0 it starts at 0); the worse foot: the
    interval of that foot's steps; an asymmetry: :func:`assessment.asymmetry_ci`."""
    text = SQUAD_CI_RULES.format(rules="".join(_CI_RULE.format(agg=a) for a in ("abs", "worst_side")))
    rs = load_rules(write(tmp_path, text))
    values = [-2.0, 3.0, -1.0, 4.0, 1.0, 6.0, 0.5, 7.0, -0.5, 6.5, 1.5, 8.0, 0.0, 7.5]
    steps = pd.DataFrame({"side": ["left", "right"] * 7, "overstride_cm": values})
    summary = {"overstride_cm": entry(1.0, n=14, left=0.0, right=6.5) | {"median_ci95": [-1.0, 4.0]}}
    res = assess(hand_analysis(summary, steps=steps), rs)
    size = res.get("squad_abs")
    assert size.ci95 == (0.0, 4.0) and size.possible_statuses == ["pass"]
    worst = res.get("squad_worst_side")
    assert worst.value == 6.5 and worst.ci95 == median_ci(np.asarray(values[1::2]))
    assert worst.status == "borderline" and worst.possible_statuses == ["pass", "borderline"]
    steps["ground_contact_ms"] = [250.0, 280.0] * 7
    summary["ground_contact_ms"] = entry(265.0, n=14, left=250.0, right=280.0) | {
        "median_ci95": [250.0, 280.0]}
    sym = assess(hand_analysis(summary, steps=steps), load_rules()).get("practice_symmetry")
    assert sym.status == "fail"  # 11 % between the feet, every step alike
    assert sym.ci95 == pytest.approx((30 / 265 * 100,) * 2) and sym.certain
    steps.loc[steps.index[-2:], "ground_contact_ms"] = np.nan  # 6 steps of each foot: none
    sym = assess(hand_analysis(summary, steps=steps), load_rules()).get("practice_symmetry")
    assert sym.status == "fail" and sym.ci95 is None and sym.certain is None


@given(st.lists(st.floats(150, 350), min_size=7, max_size=30),
       st.lists(st.floats(150, 350), min_size=7, max_size=30), st.floats(0, 40))
def test_asymmetry_interval_holds_the_asymmetry_of_the_medians(left, right, resolution):
    lo, hi = assessment.asymmetry_ci(np.asarray(left), np.asarray(right), resolution)
    point = assessment.symmetry_index(float(np.median(left)), float(np.median(right)), resolution)
    assert 0 <= lo <= point + 1e-9 and point <= hi + 1e-9
    assert hi <= 200.0  # the index's own range for positive values


def test_a_wide_asymmetry_interval_stays_within_the_index_range():
    """Few, scattered steps (the sprint clip: 3.2 % with an interval of 0-410 %, which the
    index cannot reach): the far end is the index of the far corner, not the widest gap
    over the medians' mean."""
    left = np.array([40.0, 60, 100, 100, 110, 130, 200])
    right = np.array([30.0, 50, 60, 64, 70, 90, 190])
    lo, hi = assessment.asymmetry_ci(left, right)
    assert lo == 0.0
    assert hi == pytest.approx(assessment.symmetry_index(200.0, 30.0)) and hi < 200.0


def test_asymmetry_interval_covers_the_true_asymmetry():
    """2,000 runners whose right foot's contacts are 15 ms longer (N(250, 15) against
    N(265, 15) ms, 8 steps a foot): the interval holds the true 5.8 % at least 95 % of the
    time (the Bonferroni interval is conservative)."""
    rng = np.random.default_rng(2)
    truth = 15 / 257.5 * 100
    hits = 0
    for _ in range(2000):
        lo, hi = assessment.asymmetry_ci(rng.normal(250, 15, 8), rng.normal(265, 15, 8))
        hits += lo <= truth <= hi
    assert hits / 2000 >= 0.95


def test_a_verdict_says_how_its_value_was_made_from_the_steps(rules):
    """The cadence is not a median of steps (a lesson clip's report said 'median of 16 steps'
    beside a Theil slope): the reason names the slope, or the strides it came from."""
    from posecoach.metrics import CADENCE_FROM_SLOPES, CADENCE_FROM_STRIDES

    theil = entry(170.0, n=16) | {"method": CADENCE_FROM_SLOPES}  # as metrics.summarise writes
    r = assess(hand_analysis({"cadence_spm": theil}), rules).get("practice_cadence")
    assert "(16 steps: the slope of contact time over consecutive steps" in r.reason
    strides = entry(170.0, n=7) | {"method": CADENCE_FROM_STRIDES}
    r = assess(hand_analysis({"cadence_spm": strides}), rules).get("practice_cadence")
    assert "(median of 7 strides" in r.reason
    r = assess(hand_analysis({"ground_contact_ms": entry(250.0, n=9)}), rules).get(
        "kp02_short_support")
    assert "(median of 9 steps" in r.reason
