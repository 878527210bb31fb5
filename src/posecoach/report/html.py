"""The self-contained HTML report (Jinja2): one file, images inline, no network needed.

Everything the page shows is embedded: key frames (JPEG) and plots (PNG) as base64
``data:`` URIs, styles inline, no script, no web font. Each key frame is embedded once, as
an SVG ``<image>`` in a hidden ``<defs>``, and shown by ``<use>`` in the key-frame section
and beside every rule that refers to it (the repeated copies were ~60 % of the page). A
print style sheet makes it printable to PDF from any browser.
"""

from __future__ import annotations

import base64
import datetime as _dt
import string
from collections import Counter
from pathlib import Path

import jinja2
import numpy as np

from posecoach import __version__
from posecoach._text import count, percent

GROUPS = (
    ("element", "The three elements: Pose, Fall, Pull"),
    ("key_point", "The fifteen key points"),
    ("model", "The mechanical and biological models"),
    ("practice", "Cadence, lean, arms, head and symmetry"),
)
STATUS_TEXT = {"pass": "pass", "borderline": "borderline", "fail": "needs work",
               "not_assessable": "not assessable"}
#: How the drill table names a drill's ``category`` (the rule file's ids are for the code).
DRILL_CATEGORY_TEXT = {"strength": "strength", "mobility": "mobility", "pose_drill": "Pose drill",
                       "cadence": "cadence"}
PLOT_TITLES = {
    "gait_cycle_angles": "Knee, hip and ankle angles over the gait cycle (mean ± SD)",
    "pelvis_path": "Pelvis vertical path with initial contacts",
    "contact_timeline": "Contact and flight per foot",
    "step_variability": "Step-to-step variability of the key metrics",
}


def data_uri(data: bytes, mime: str) -> str:
    """``data:`` URI of some bytes."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _unit_text(unit: str) -> str:
    return {"pct": "%", "%": "%"}.get(unit, unit)


def _digits(unit: str) -> int:
    """Decimals shown for a unit: none for ms and steps/min."""
    return 0 if unit in ("ms", "spm") else 1


def _num(v: float | None, unit: str = "", digits: int = 1) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    return f"{v:.{digits}f} {_unit_text(unit)}".strip()


def _letter_shared_numbers(rules: list[dict]) -> None:
    """Number the parts of one principle 10a, 10b, ... (the rule file splits key point 10
    into what a side view shows and what needs a front view), so that "the fifteen key
    points" do not read as sixteen numbered items with a 10 twice.
    """
    counts = Counter(r["number"] for r in rules if r["number"])
    seen: Counter = Counter()
    for r in rules:
        if counts.get(r["number"], 0) > 1:
            seen[r["number"]] += 1
            r["number"] = f"{r['number']}{string.ascii_lowercase[seen[r['number']] - 1]}"


def _value_text(r) -> str:
    if r.value is None:
        return "not judged"  # the reason says why (not measured, too few steps, slow motion ...)
    digits = _digits(r.unit)
    # as the verdict's reason shows it (never rounded onto a band edge), where it has one
    text = (f"{r.value_text} {_unit_text(r.unit)}".strip() if r.value_text
            else _num(r.value, r.unit, digits))
    extra = []
    if r.spread is not None and np.isfinite(r.spread):
        extra.append(f"IQR {_num(r.spread, r.unit, digits)}")
    if r.ci95_text:
        extra.append(f"95 % interval {r.ci95_text} {_unit_text(r.unit)}".rstrip())
    if extra:
        text += f" ({', '.join(extra)}, n={r.n})"
    return text


def _uncertain_text(r) -> str:
    """'could also be borderline' where the verdict's 95 % interval reaches another band."""
    others = [STATUS_TEXT[s] for s in r.possible_statuses if s != r.status]
    return f"could also be {' or '.join(others)}" if others else ""


def _environment():
    return jinja2.Environment(
        loader=jinja2.PackageLoader("posecoach.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def _drill_rows(drills: list[dict]) -> list[dict]:
    return [d | {"category": DRILL_CATEGORY_TEXT.get(d.get("category", ""), d.get("category", ""))}
            for d in drills]


def render_html(analysis, assessment, *, key_frames: list | None = None,
                plots: dict[str, bytes] | None = None, title: str = "",
                overlay_name: str | None = None) -> str:
    """The report page as a string (see :func:`posecoach.report.write_report`).

    ``overlay_name``: the annotated video written beside the page (linked by its name), if any.
    """
    from posecoach.assessment import metric_unit
    from posecoach.metrics import CADENCE_FROM_SLOPES
    from posecoach.quality import analysis_timing_problem
    from posecoach.report._common import encode_jpeg
    from posecoach.report.keyframes import PHASE_TITLES

    key_frames = key_frames or []
    plots = plots or {}
    # each key frame is embedded once (an SVG <image> in a hidden <defs>) and shown wherever
    # it is needed by <use>: the key-frame section and the rules' sections show the same
    # pictures, which as separate data URIs were ~60 % of the page's bytes
    kf_defs: list[dict] = []
    kf_ref: dict[tuple[str, str], dict] = {}
    by_side: dict[str, list[dict]] = {}
    for k in key_frames:
        if k.image is None:
            continue
        ref = {"id": f"kf-{k.side}-{k.phase}", "w": int(k.image.shape[1]), "h": int(k.image.shape[0])}
        kf_defs.append(ref | {"src": data_uri(encode_jpeg(k.image), "image/jpeg")})
        kf_ref[(k.side, k.phase)] = ref
        by_side.setdefault(k.side, []).append(ref | {
            "title": k.title, "caption": f"{PHASE_TITLES[k.phase]} (frame {k.frame})",
        })
    near = (analysis.runner or {}).get("facing")
    near_side = "left" if near == "left" else "right"  # a side view shows the facing side nearer
    results = assessment.results
    groups = []
    for gid, gtitle in GROUPS:
        rules = []
        for r in results:
            if r.group != gid:
                continue
            kf = None
            if r.key_frame:
                kf = kf_ref.get((near_side, r.key_frame)) or next(
                    (v for (s, ph), v in kf_ref.items() if ph == r.key_frame), None)
            sides = ""
            if r.left is not None or r.right is not None:
                # the sides are the metric's own (an asymmetry rule's unit is %, its sides' ms)
                su = metric_unit(r.metric) if r.metric else r.unit
                sides = f"left {_num(r.left, su, _digits(su))} · right {_num(r.right, su, _digits(su))}"
            rules.append({
                "id": r.id, "number": r.number, "title": r.title, "status": r.status,
                "status_text": STATUS_TEXT[r.status], "value_text": _value_text(r),
                "uncertain_text": _uncertain_text(r),
                "sides_text": sides, "band_text": r.band_text, "reason": r.reason, "cue": r.cue,
                "drills": [assessment.drills.get(d, {}).get("name", d) for d in r.drills],
                "kf": kf,
            })
        if rules:
            _letter_shared_numbers(rules)
            groups.append({"id": gid, "title": gtitle, "rules": rules})
    s = analysis.summary

    def med(name: str) -> float | None:
        return (s.get(name) or {}).get("median")

    def of_steps(name: str) -> str:
        """'median of 21 steps; ' (the cards show a median; how many steps it rests on)."""
        n = (s.get(name) or {}).get("n") or 0
        return f"median of {count(n, 'step')}; " if n else ""

    fs = analysis.foot_strike or {}
    # the same verdict as the warnings and the time-based rules (posecoach.quality)
    problem = analysis_timing_problem(analysis) if analysis.is_running else None
    video_time = problem.note if problem else ""
    stats = [
        {"label": "Cadence", "value": _num(med("cadence_spm"), "spm", 0),
         "detail": of_steps("cadence_spm") + "target about 180 steps/min" + video_time},
        {"label": "Ground contact", "value": _num(med("ground_contact_ms"), "ms", 0),
         "detail": f"{of_steps('ground_contact_ms')}flight {_num(med('flight_ms'), 'ms', 0)}{video_time}"},
        {"label": "Foot strike", "value": fs.get("pattern", "unknown"),
         "detail": f"left {fs.get('left', 'unknown')}, right {fs.get('right', 'unknown')}"},
        {"label": "Vertical oscillation", "value": _num(med("vertical_oscillation_cm"), "cm"),
         "detail": f"{of_steps('vertical_oscillation_cm')}overstride {_num(med('overstride_cm'), 'cm')}"},
    ]
    score = assessment.score or {}
    score_text = f"{score['value_pct']:.0f} %" if score.get("value_pct") is not None else "n/a"
    counts = score.get("counts", {})
    score_detail = (f"{score.get('n_assessed', 0)} of {score.get('n_rules', len(results))} rules assessed: "
                    f"{counts.get('pass', 0)} pass, {counts.get('borderline', 0)} borderline, "
                    f"{counts.get('fail', 0)} need work")
    priorities = [{"title": r.title, "status": r.status, "status_text": STATUS_TEXT[r.status],
                   "value_text": _value_text(r), "uncertain_text": _uncertain_text(r),
                   "cue": r.cue} for r in assessment.priorities]
    q, v = analysis.quality, analysis.video
    cleaning = q.get("cleaning", {})
    n_overlap = len(q.get("overlapping_steps") or [])
    n_slow = q.get("steps_excluded_from_timing", 0) - n_overlap
    n_gaps = len(q.get("steps_over_missed_contacts") or [])
    quality_rows = [
        ("Video", f"{v.get('width')}x{v.get('height')} px, {v.get('fps', 0):.1f} fps "
                  f"({v.get('effective_fps', v.get('fps', 0)):.1f} distinct pictures/s), "
                  f"{v.get('n_frames')} frames, {v.get('duration_s', 0):.1f} s"),
        ("Runner", f"faces {analysis.runner.get('facing')}, {analysis.runner.get('setting')}, camera "
                   f"{analysis.runner.get('camera')}, height {analysis.runner.get('height_m', 0):.2f} m "
                   f"({analysis.runner.get('height_source')})"),
        ("Runner detected", f"{percent(q.get('detected_fraction', 0))} of frames"),
        ("Repaired", f"{count(q.get('swaps_repaired', 0), 'left/right leg swap')} "
                     f"({count(q.get('frames_repaired', 0), 'frame')}), "
                     f"{count(q.get('gap_frames_filled', 0), 'frame')} with gaps filled"),
        ("Filter", f"zero-lag Butterworth low-pass at {cleaning.get('cutoff_hz') or 0:.1f} Hz"),
        ("Steps", f"{count(len(analysis.steps), 'complete contact')} measured"
                  + (f"; of them {n_overlap} left out (both feet on the ground: see the warnings)"
                     if n_overlap else "")
                  + (f"; {'' if n_overlap else 'of them '}{n_slow} left out of the times only "
                     "(a slow-motion section)" if n_slow else "")
                  + (f"; {n_gaps} with no step time, flight or stride (the next contact was missed)"
                     if n_gaps else "")
                  + ("; all times are in video time, not real time (see the warnings)"
                     if problem is not None and problem.kind != "missed_contacts" else "")),
        ("Resolution", f"times about one frame ({1000 / max(v.get('effective_fps') or v.get('fps') or 30, 1):.0f} ms); "
                       "2-D joint angles about 5-8 deg"),
    ]
    drills = assessment.drills
    # the priorities' drills, then those of the other rules that need work or are borderline
    for_priorities = {d for r in assessment.priorities for d in r.drills}
    recommended = [drills[d] for d in assessment.recommended_drills if d in drills and d in for_priorities]
    more_drills = [drills[d] for d in assessment.recommended_drills
                   if d in drills and d not in for_priorities]
    plan = assessment.plan if isinstance(assessment.plan, list) else []
    return _environment().get_template("report.html.j2").render(
        title=title or Path(str((analysis.source or {}).get("file") or "clip")).name,
        version=__version__, rules_version=assessment.rules_version,
        created=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        running=analysis.is_running,
        gait_reason=analysis.gait.get("reason", ""),
        score_text=score_text, score_detail=score_detail, stats=stats, priorities=priorities,
        keyframe_defs=kf_defs, keyframes=by_side, keyframes_from_video=all(k.from_video for k in key_frames) if key_frames else False,
        groups=groups,
        plots=[{"title": PLOT_TITLES.get(k, k), "src": data_uri(b, "image/png")} for k, b in plots.items()],
        plan=plan, plan_warning=assessment.plan_warning, recommended=_drill_rows(recommended),
        more_drills=_drill_rows(more_drills),
        all_drills=_drill_rows(list(drills.values())), overlay_name=overlay_name,
        cadence_from_slopes=(s.get("cadence_spm") or {}).get("method") == CADENCE_FROM_SLOPES,
        quality_rows=quality_rows, warnings=q.get("warnings", []),
        not_assessable=[r for r in results if r.status == "not_assessable"], caveat=assessment.caveat,
    )
