"""Measure the accuracy of posecoach's gait events and write docs/accuracy.md.

One command (``make accuracy``) re-runs everything:

1. the synthetic runner (exact truth) with noise, dropped frames and leg swaps, both presets,
   30/60/120 frames/s, several seeds; low-confidence spans separately;
2. the Fukuchi et al. (2017) treadmill motion capture against its force plate (2.5 and
   3.5 m/s);
3. the two real clips with hand labels (pose estimation is cached, see ``--cache``).

Every analysis goes through :func:`posecoach.pipeline.analyze_poses`, exactly as for a user.
Data in ../shared/data are optional: when they are missing the report says so in its
sections and summary, and the synthetic part still runs.

Usage: ``.venv/bin/python scripts/accuracy.py [--out docs/accuracy.md] [--cache DIR]
[--seeds N] [--quick]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("POSECOACH_SHARED_DATA", REPO.parent / "shared" / "data"))
CLIPS = SHARED / "running-videos-licence-unknown"
FUKUCHI = SHARED / "fukuchi2017-rbds001"

EDGE_S = 0.1


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def fmt(v, nd=1, unit=""):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return f"{v:.{nd}f}{unit}"


def ok(flag: bool | None) -> str:
    return "–" if flag is None else ("yes" if flag else "**no**")


def table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# 1. synthetic runner
# --------------------------------------------------------------------------------------------


@dataclass
class SynRow:
    preset: str
    fps: float
    scenario: str
    n_events: int = 0
    missing: int = 0
    spurious: int = 0
    ic_err_frames: list = field(default_factory=list)
    ic_err_ms: list = field(default_factory=list)
    to_err_ms: list = field(default_factory=list)
    cadence_err_pct: list = field(default_factory=list)
    contact_err_ms: list = field(default_factory=list)
    hidden: int = 0
    hidden_reported: int = 0
    #: per clip, for cadence and contact time: (95 % interval, resolution, truth)
    ci: dict = field(default_factory=lambda: {"cadence_spm": [], "ground_contact_ms": []})


def run_synthetic(seeds: list[int], fpss: list[float], log) -> tuple[list[SynRow], list[SynRow]]:
    from posecoach import events, pipeline, synthetic

    presets = {"heel striker": synthetic.RunnerParams.heel_striker,
               "pose runner": synthetic.RunnerParams.pose_runner}
    faults = dict(jitter_px=1.5, dropped_frames=6, leg_swaps=2)
    main, low = [], []
    for name, make in presets.items():
        p = make()
        for fps in fpss:
            for scenario, kw, seed_list, out in (
                ("clean", {}, seeds[:1], main),
                ("noise + drops + swaps", faults, seeds, main),
                ("low-confidence spans", dict(jitter_px=1.5, low_confidence_spans=4), seeds[:3], low),
            ):
                row = SynRow(name, fps, scenario)
                for seed in seed_list:
                    ds, truth = synthetic.SyntheticRunner(p).generate(duration_s=8.0, fps=fps,
                                                                      seed=seed)
                    if kw:
                        ds, _ = synthetic.add_faults(ds, seed=seed + 100, **kw)
                    a = pipeline.analyze_poses(ds, height_m=p.height_m, speed_mps=p.speed_mps)
                    m, missing, spurious = events.match_events(
                        a.events, truth.events, t_end_s=truth.duration_s, tol_s=0.08, edge_s=EDGE_S)
                    if scenario == "low-confidence spans":
                        # an event may only be missing where the foot is not seen around it
                        t = a.body["time"].values
                        seen = {s: events.foot_signals(a.body, s).seen for s in ("left", "right")}
                        hidden = [mm for mm in missing
                                  if not events._seen_around(t, seen[mm[1]], mm[2], 2.0 / fps)]
                        row.hidden += len(hidden)
                        missing = [mm for mm in missing if mm not in hidden]
                        for r in m.itertuples():
                            if not events._seen_around(t, seen[r.side], r.time_s, 2.0 / fps):
                                row.hidden_reported += 1
                    row.n_events += len(m) + len(missing)
                    row.missing += len(missing)
                    row.spurious += len(spurious)
                    ic = m[m["kind"] == "initial_contact"]
                    row.ic_err_frames += (ic["det_frame"] - ic["ref_frame"]).abs().tolist()
                    row.ic_err_ms += (1000 * ic["err_s"]).tolist()
                    row.to_err_ms += (1000 * m[m["kind"] == "toe_off"]["err_s"]).tolist()
                    cad = a.summary.get("cadence_spm", {}).get("median")
                    gct = a.summary.get("ground_contact_ms", {}).get("median")
                    row.cadence_err_pct.append(100 * (cad / truth.cadence_spm - 1) if cad else np.nan)
                    row.contact_err_ms.append(gct - truth.ground_contact_ms if gct else np.nan)
                    for metric, true in (("cadence_spm", truth.cadence_spm),
                                         ("ground_contact_ms", truth.ground_contact_ms)):
                        e = a.summary.get(metric, {})
                        row.ci[metric].append((e.get("median_ci95"), e.get("resolution"), true))
                out.append(row)
                log(f"synthetic {name} {fps:.0f} fps {scenario}: done")
    return main, low


def synthetic_section(main: list[SynRow], low: list[SynRow], seeds: list[int]) -> tuple[str, dict]:
    rows = []
    verdict = {"found": True, "ic": True, "cadence": True, "contact": True, "spurious": True}
    for r in main:
        frame_ms = 1000.0 / r.fps
        icf = np.array(r.ic_err_frames)
        within = float((icf <= 1).mean()) if icf.size else float("nan")
        cad = float(np.nanmax(np.abs(r.cadence_err_pct)))
        gct = float(np.nanmedian(r.contact_err_ms))
        found_ok = r.missing == 0
        ic_ok = bool(icf.size and icf.max() <= 1)
        cad_ok = cad <= 0.5
        gct_ok = abs(gct) <= frame_ms
        sp_ok = r.spurious == 0
        if r.scenario != "clean":
            verdict["found"] &= found_ok
            verdict["ic"] &= ic_ok
            verdict["cadence"] &= cad_ok
            verdict["contact"] &= gct_ok
            verdict["spurious"] &= sp_ok
        rows.append([
            r.preset, f"{r.fps:.0f}", r.scenario, f"{r.n_events - r.missing}/{r.n_events}",
            r.spurious, fmt(100 * within, 0, " %"), int(icf.max()) if icf.size else "–",
            fmt(float(np.median(r.ic_err_ms)) if r.ic_err_ms else np.nan),
            fmt(float(np.median(r.to_err_ms)) if r.to_err_ms else np.nan),
            fmt(cad, 2, " %"), f"{fmt(gct)} ({fmt(frame_ms)})",
            ok(found_ok and sp_ok and ic_ok and cad_ok and gct_ok),
        ])
    head = ["runner", "fps", "faults", "events found", "spurious", "IC within 1 frame",
            "worst IC (frames)", "median IC error (ms)", "median TO error (ms)",
            "worst cadence error", "median contact-time error, ms (1 frame)", "all targets"]
    lrows = []
    for r in low:
        lrows.append([r.preset, f"{r.fps:.0f}", f"{r.n_events - r.missing - r.hidden}/"
                      f"{r.n_events - r.hidden}", r.hidden, r.hidden_reported, r.spurious,
                      fmt(float(np.median(r.ic_err_ms)) if r.ic_err_ms else np.nan)])
    lhead = ["runner", "fps", "seen events found", "events where the foot is not seen",
             "of those reported (must be 0)", "spurious", "median IC error (ms)"]
    crows = []
    for r in main:
        if r.scenario == "clean":
            continue
        cells = [r.preset, f"{r.fps:.0f}"]
        for metric in ("cadence_spm", "ground_contact_ms"):
            runs = r.ci[metric]
            have = [(ci, res or 0.0, t) for ci, res, t in runs if ci is not None]
            inside = sum(ci[0] <= t <= ci[1] for ci, _, t in have)
            widened = sum(ci[0] - res <= t <= ci[1] + res for ci, res, t in have)
            width = np.median([ci[1] - ci[0] for ci, _, _ in have]) if have else np.nan
            cells += [f"{inside}/{len(runs)}", f"{widened}/{len(runs)}", fmt(float(width), 1)]
        crows.append(cells)
    chead = ["runner", "fps", "cadence: truth inside", "inside ± resolution",
             "median width (spm)", "contact time: truth inside", "inside ± one frame",
             "median width (ms)"]
    text = f"""## 1. Synthetic runner (exact truth)

`posecoach.synthetic`: `RunnerParams.heel_striker()` (160 spm, 300 ms contact, +15° heel
strike, heel accelerating into contact) and `RunnerParams.pose_runner()` (180 spm, 220 ms,
−5° forefoot, foot slowing into contact), 8 s clips, through the full
`pipeline.analyze_poses` (cleaning with its 7.5–10 Hz zero-lag low-pass, scene estimate,
body frame, events, metrics). Faults: Gaussian jitter 1.5 px (≈ 6 mm at the clips' scale of
≈ 247 px/m), 6 dropped frames and 2 leg swaps (`add_faults`), seeds {seeds} (clean: seed
{seeds[0]}). Truth `frame` is the first frame at or after the exact event; a detection
matches the nearest event of the same side and kind within 80 ms; events within
{EDGE_S:.1f} s of the clip's ends are not judged. Cadence and contact time are the
pipeline's summary values (median over steps) against the model's exact values.
Targets: every event found, IC within one frame, cadence within 0.5 %, median contact
time within one frame, no spurious events.

{table(head, rows)}

### Low-confidence spans (separately)

4 spans of 3–12 frames in which one keypoint group (a leg, a foot or an arm) gets a
confidence of 0.05–0.3, plus 1.5 px jitter, seeds {seeds[:3]}. An event counts as "not seen"
when no confident sample of that foot lies within two frame intervals around it; the
detector must not report those, and must find the others.

{table(lhead, lrows)}

### Does the median's 95 % interval hold the truth?

Each summary median carries a 95 % interval (`median_ci95`, `metrics.median_ci`: order
statistics of the steps; for the cadence, of the slopes that give it); the report's verdicts
use it to say when a verdict is not certain. It covers the spread between steps, not a
bias of the measurement, which is why times also carry a resolution of one frame. Below:
in how many of the {len(seeds)} noisy clips per case (noise + drops + swaps, as above) the
runner's exact value lies inside the interval, and inside it widened by one resolution
step on each side. The synthetic runner repeats the same step exactly, so its steps
differ only by the detector's errors.

{table(chead, crows)}

Where the truth lies outside the interval but inside it widened by one frame, the median is
off by less than a frame (the contact-time column of the first table) while the steps agree
with each other more closely than that. So the report's "not certain" is about the spread
between steps only; a verdict it does not flag can still be a frame (or, for 2-D angles,
5-8°) off, the resolution the report gives under data quality.
"""
    return text, verdict


# --------------------------------------------------------------------------------------------
# 2. motion capture with force plate
# --------------------------------------------------------------------------------------------


def run_mocap(log) -> tuple[str, dict | None]:
    if not FUKUCHI.is_dir():
        return (f"## 2. Motion capture with force plate\n\n**Not run: {FUKUCHI} is missing** "
                "(the shared data folder `../shared/data` beside the repository, or "
                "`POSECOACH_SHARED_DATA`).\n", None)
    from posecoach import events, pipeline
    from posecoach.io import mocap

    trials = [("T25", FUKUCHI / "RBDS001runT25markers.txt", FUKUCHI / "RBDS001runT25forces.txt", 2.5),
              ("T35", FUKUCHI / "RBDS001runT35.c3d", None, 3.5)]
    rows, verdict, label = [], {"ic": True, "to": True, "cadence": True, "contact": True,
                                "strike": True}, ""
    notes = []
    for name, markers, forces, speed in trials:
        t0 = time.time()
        ds, truth = mocap.fukuchi_trial(markers, forces, FUKUCHI / "RBDS001static.txt", speed)
        a = pipeline.analyze_poses(ds, height_m=float(ds.attrs.get("subject_height_m", 1.81)),
                                   speed_mps=speed)
        t_end = float(ds["time"].values[-1])
        m, missing, spurious = events.match_events(a.events, truth, t_end_s=t_end, tol_s=0.1,
                                                   edge_s=EDGE_S)
        spurious = len(spurious)
        ic = 1000 * m[m["kind"] == "initial_contact"]["err_s"]
        to = 1000 * m[m["kind"] == "toe_off"]["err_s"]
        ts = mocap.truth_summary(truth)
        cad = a.summary["cadence_spm"]["median"]
        gct = a.summary["ground_contact_ms"]["median"]
        strike = a.foot_strike
        label = str(ds.attrs.get("foot_strike_label", ""))
        cad_err = 100 * (cad / ts["cadence_spm"] - 1)
        gct_err = gct - ts["ground_contact_ms"]
        checks = {"ic": float(ic.abs().median()) <= 10, "to": float(to.abs().median()) <= 15,
                  "cadence": abs(cad_err) <= 1, "contact": abs(gct_err) <= 15,
                  "strike": strike["pattern"] == label.lower()}
        for k, v in checks.items():
            verdict[k] &= v
        rows.append([f"{name} ({speed} m/s)", f"{len(m[m['kind'] == 'initial_contact'])}/"
                     f"{len(m[m['kind'] == 'initial_contact']) + sum(1 for x in missing if x[0] == 'initial_contact')}",
                     spurious, f"{fmt(float(ic.median()))} / {fmt(float(ic.abs().median()))} {ok(checks['ic'])}",
                     f"{fmt(float(to.median()))} / {fmt(float(to.abs().median()))} {ok(checks['to'])}",
                     f"{fmt(cad, 1)} vs {fmt(ts['cadence_spm'], 1)} ({fmt(cad_err, 2)} %) {ok(checks['cadence'])}",
                     f"{fmt(gct, 0)} vs {fmt(ts['ground_contact_ms'], 0)} ({fmt(gct_err, 0)} ms) {ok(checks['contact'])}",
                     f"{strike['pattern']} (L {strike['left']}, R {strike['right']}; "
                     f"angle {fmt(a.summary['foot_strike_angle_deg']['median'])}°) vs {label} "
                     f"{ok(checks['strike'])}"])
        notes.append(f"{name}: foot points `{ds.attrs.get('foot_points', '?')}`, "
                     f"{time.time() - t0:.0f} s")
        log(f"mocap {name}: done")
    head = ["trial", "ICs found", "spurious", "IC error median / median abs (ms)",
            "TO error median / median abs (ms)", "cadence (spm)", "median contact (ms)",
            "foot strike"]
    text = f"""## 2. Motion capture with force plate (Fukuchi et al. 2017, RBDS001)

Treadmill running at 2.5 and 3.5 m/s, 150 Hz markers turned into a side-view pose dataset by
`posecoach.io.mocap.fukuchi_trial` (joint centres by rigid-body fits; heel and toe as the
*virtual sole landmarks* of the mocap module as committed when this report was made:
{'; '.join(notes)}), analysed with `pipeline.analyze_poses` (height 1.81 m, belt speed given).
Truth: force-plate events (vertical GRF crossing 50 N). Matches within 100 ms.
Targets: median |IC error| ≤ 10 ms, median |TO error| ≤ 15 ms, cadence within 1 %, median
contact time within 15 ms, foot strike "{label}" as in RBDSinfo.

{table(head, rows)}

How the sole is modelled matters: this runner lands inverted, on the lateral edge of the
forefoot, so the heel and toe landmarks take the height of the lowest point across the
sole's width (a side view sees the bottom of the shoe's outline; `io.mocap` docstring).
Even so the sole keeps sinking 5–7 mm for 15–25 ms after the force plate's contact (shoe
compression), so a height threshold alone comes late; the detector's velocity cues (IC:
the heel's ground speed falls to a fifth of the running speed; TO: the toe rises through
0.3 m/s) do not depend on that. The rigid virtual toe still dips through the belt in
push-off and lifts with the metatarsal heads, so TO comes ~5–10 ms early and contact time
short (the optional bending-toe model removes the dip but makes TO earlier still: the
markers do not show when the toe tips leave the belt). Foot strike: at the force plate's
contact the heel-to-toe line is level (+0.5 / −0.6°) and the centre-of-pressure strike
index in the first 10 ms is 0.59 (midfoot), so "midfoot" is what the data show although
RBDSinfo says Forefoot.
"""
    return text, verdict


# --------------------------------------------------------------------------------------------
# 3. real clips with hand labels
# --------------------------------------------------------------------------------------------

CLIP_SPECS = {
    "treadmill_sprint_side_spotter_30fps": {
        "tol": 1, "free_from": 71,
        "note": "30 fps sprint (contacts 3–4 frames), ~4x slow-motion middle (frames ~104–300), "
                "hands on the rails until ~frame 64 (labels before frame 71 are not free "
                "running), toe-offs hidden by the spotter (only ICs are judged)",
    },
    "overground_side_static_cam_50fps": {
        "tol": 2, "free_from": 0,
        "note": "every picture shown twice (25 distinct pictures/s), probably ~2x slow motion; "
                "tolerance ±2 frame indices = ±1 picture; the first labelled IC (frame 20) has "
                "the heel outside the picture and the runner is not yet detected",
        # labels no detector can reach from this picture; still counted (as not found)
        "unreachable": {20: "label 20 outside the picture"},
    },
}


def pose_cache_key(clip: Path) -> str:
    """What the cached poses of ``clip`` depend on: its bytes, the pose code and MediaPipe.

    Not the file's modification time: the shared data are copied anew now and then (same
    bytes, new time), while a change to the pose code must redo the estimation.
    """
    import hashlib
    from importlib.metadata import version

    h = hashlib.sha256(clip.read_bytes())
    for path in sorted((REPO / "src" / "posecoach" / "pose").glob("*.py")) + [
            REPO / "src" / "posecoach" / "video.py"]:
        h.update(path.read_bytes())
    h.update(f"mediapipe {version('mediapipe')}".encode())
    return h.hexdigest()[:16]


def estimate_cached(clip: Path, cache: Path, log):
    from posecoach.io import load_poses, save_poses
    from posecoach.pose import BlazePoseEstimator

    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"{clip.stem}-{pose_cache_key(clip)}.poses.nc"
    if target.exists():
        return load_poses(target)
    log(f"pose estimation of {clip.name} (once; cached in {cache}) ...")
    ds = BlazePoseEstimator().estimate(clip, progress=False)
    save_poses(ds, target, overwrite=True)
    return ds


def _toe_off_row(name: str, a, lab: pd.DataFrame, tol: int) -> list:
    """Labelled toe-offs against the detected ones, and labelled against detected contact times."""
    ev = a.events
    ic = ev[ev["kind"] == "initial_contact"]
    to = ev[ev["kind"] == "toe_off"]
    step = float(np.median(np.diff(np.sort(lab["ic_frame"].to_numpy()))))
    lab = lab[lab["to_frame"].notna()]

    def nearest(det: pd.DataFrame, frame: float) -> int | None:
        d = (det["frame"] - frame).abs()
        return int(det.loc[d.idxmin(), "frame"]) if len(d) and d.min() <= step / 2 else None

    errs: list[int | None] = []  # per labelled TO: detected minus labelled frame
    pairs = []
    for r in lab.itertuples():
        t_det = nearest(to, r.to_frame)
        errs.append(None if t_det is None else t_det - int(r.to_frame))
        i_det = nearest(ic, r.ic_frame)
        if t_det is not None and i_det is not None and abs(i_det - r.ic_frame) <= tol:
            pairs.append((int(r.to_frame - r.ic_frame), t_det - i_det))
    paired = [e for e in errs if e is not None]
    contact = (f"{np.median([p[0] for p in pairs]):.0f} / {np.median([p[1] for p in pairs]):.0f} "
               f"(n = {len(pairs)})" if pairs else "–")
    per_label = " ".join(f"{int(f)}: " + ("–" if e is None else f"{e:+d}")
                         for f, e in zip(lab["to_frame"], errs, strict=True))
    return [name, len(lab), len(paired), per_label,
            f"{np.median(paired):+.1f}" if paired else "–", contact]


def run_video(cache: Path, log) -> tuple[str, dict | None]:
    missing = [c for c in CLIP_SPECS if not (CLIPS / f"{c}.mp4").exists()
               or not (CLIPS / f"{c}.events.csv").exists()]
    if missing:
        return (f"## 3. Real video with hand labels\n\n**Not run: {CLIPS} is missing "
                f"{', '.join(missing)}** (the shared data folder `../shared/data` beside the "
                "repository, or `POSECOACH_SHARED_DATA`).\n", None)
    from posecoach import pipeline

    rows, wrows, trows = [], [], []
    verdict = {"found": True, "spurious": True, "warnings": True, "clips": {}}
    pool = {"found": 0, "labels": 0, "spurious": 0}
    for name, spec in CLIP_SPECS.items():
        clip = CLIPS / f"{name}.mp4"
        poses = estimate_cached(clip, cache, log)
        a = pipeline.analyze_poses(poses, video_path=clip)
        lab = pd.read_csv(CLIPS / f"{name}.events.csv")
        lab = lab[lab["ic_frame"] >= spec["free_from"]]
        ic = a.events[a.events["kind"] == "initial_contact"]
        tol = spec["tol"]
        found = same = 0
        used: set = set()
        errs = []
        for r in lab.itertuples():
            d = (ic["frame"] - r.ic_frame).abs()
            if len(d) and d.min() <= tol:
                k = d.idxmin()
                found += 1
                used.add(k)
                same += ic.loc[k, "side"] == r.foot_lr
                errs.append(int(ic.loc[k, "frame"] - r.ic_frame))
            elif len(d):
                errs.append(int(ic.loc[d.idxmin(), "frame"] - r.ic_frame))
        step = float(np.median(np.diff(np.sort(lab["ic_frame"].to_numpy())))) if len(lab) > 1 else 10
        span = ic[(ic["frame"] >= lab["ic_frame"].min() - step / 2)
                  & (ic["frame"] <= lab["ic_frame"].max() + step / 2)]
        spurious = int((~span.index.isin(used)).sum())
        n = len(lab)
        share = found / n if n else float("nan")
        verdict["found"] &= share >= 0.9
        verdict["spurious"] &= spurious <= n / 20
        unreach = spec.get("unreachable", {})
        verdict["clips"][name] = {"found": found, "labels": n, "spurious": spurious,
                                  "ceiling": n - sum(f in unreach for f in lab["ic_frame"]),
                                  "unreachable": "; ".join(unreach.values())}
        pool["found"] += found
        pool["labels"] += n
        pool["spurious"] += spurious
        rows.append([name, n, f"{found} ({100 * share:.0f} %)", f"±{tol}", spurious,
                     f"{same}/{found} agree, {found - same}/{found} inverted",
                     " ".join(f"{e:+d}" for e in errs)])
        trows.append(_toe_off_row(name, a, pd.read_csv(CLIPS / f"{name}.events.csv"), tol))
        warns = a.quality["warnings"]
        dup = any("appears about" in w for w in warns)
        speed = any("playback speed changes" in w for w in warns)
        slowmo = any("not plausible in real time" in w for w in warns)
        if name.startswith("overground"):
            verdict["warnings"] &= dup
        else:
            verdict["warnings"] &= speed
        yn = {True: "yes", False: "no"}
        wrows.append([name, yn[dup], yn[speed], yn[slowmo],
                      "<br>".join(w.replace("|", "/") for w in warns)])
        log(f"video {name}: done")
    verdict["pool"] = pool
    pn = pool["labels"]
    rows.append(["**pooled** (both clips)", pn,
                 f"{pool['found']} ({100 * pool['found'] / pn:.0f} %)" if pn else "–",
                 "one picture", pool["spurious"], "", ""])
    head = ["clip", "labelled ICs (free running)", "found within tolerance", "tolerance (frames)",
            "spurious ICs", "left/right vs labels", "frame error of the nearest detection per label"]
    thead = ["clip", "labelled TOs", "TOs paired", "frame error per labelled TO (label frame: error)",
             "median TO error (frames)", "contact time, labels / detected (median, frames)"]
    whead = ["clip", "duplicated pictures warned (expected: overground)",
             "playback-speed change warned (expected: treadmill)",
             "implausible (slow-motion) cadence warned", "all warnings"]
    text = f"""## 3. Real video with hand labels

Pose estimation: `posecoach.pose.BlazePoseEstimator()` (BlazePose full, MediaPipe 0.10.21),
cached per clip; analysis: `pipeline.analyze_poses(poses, video_path=clip)`. Labels by eye
(`*.events.csv`/`.md`, not measured truth). A label counts as found when a detected IC of
either side lies within the tolerance; spurious = detected ICs between the first and last
labelled IC (± half a step) that match no label. Targets: ≥ 90 % found, ≤ 1 spurious per
20 labels, left/right consistent with the labels (reported).

{table(head, rows)}

Caveats: {'; '.join(f"`{k}`: {v['note']}" for k, v in CLIP_SPECS.items())}.

Toe-offs and contact times (no target; every label with a toe-off, free running or not).
A labelled toe-off is paired with the nearest detected toe-off of either side within half a
step; a contact time is compared where the label's IC and TO and the detected IC and TO
were all paired (frame indices; the overground clip shows every picture twice, so its
errors come in steps of 2):

{table(thead, trows)}

Quality warnings of the analysis (duplicated pictures must be flagged on the overground clip,
the playback-speed change on the treadmill clip):

{table(whead, wrows)}
"""
    return text, verdict


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def summary_section(syn: dict, moc: dict | None, vid: dict | None) -> str:
    def line(name, res):
        return f"| {name} | {ok(res)} |"

    out = ["## Summary against the targets", "", "| target | met |", "|---|---|"]
    out += [line("synthetic (noise, drops, swaps; 30/60/120 fps): every event found", syn["found"]),
            line("synthetic: no spurious events", syn["spurious"]),
            line("synthetic: every IC within one frame", syn["ic"]),
            line("synthetic: cadence within 0.5 %", syn["cadence"]),
            line("synthetic: median contact time within one frame", syn["contact"])]
    if moc is None:
        out.append("| motion capture | **not run: shared data missing** |")
    else:
        out += [line("mocap: median abs IC error ≤ 10 ms", moc["ic"]),
                line("mocap: median abs TO error ≤ 15 ms", moc["to"]),
                line("mocap: cadence within 1 %", moc["cadence"]),
                line("mocap: median contact time within 15 ms", moc["contact"]),
                line("mocap: foot strike as RBDSinfo (forefoot)", moc["strike"])]
    if vid is None:
        out.append("| real video | **not run: shared data missing** |")
    else:
        out += [f"| video: ≥ 90 % of labelled free-running ICs found | {_video_found(vid)} |",
                f"| video: ≤ 1 spurious IC per 20 | {_video_spurious(vid)} |",
                line("video: duplicated pictures / playback-speed change warned", vid["warnings"])]
    return "\n".join(out) + "\n"


def _short(name: str) -> str:
    return name.split("_")[0]


def _video_found(vid: dict) -> str:
    """Per-clip and pooled verdicts on the share of labels found (unreachable labels named)."""
    parts = []
    for name, c in vid["clips"].items():
        txt = f"{_short(name)} {ok(c['found'] >= 0.9 * c['labels'])} ({c['found']}/{c['labels']}"
        if c["ceiling"] < c["labels"]:
            txt += f"; ceiling {c['ceiling']}/{c['labels']}: {c['unreachable']}, unreachable"
        parts.append(txt + ")")
    p = vid["pool"]
    parts.append(f"pooled {ok(p['found'] >= 0.9 * p['labels'])} ({p['found']}/{p['labels']})")
    return ", ".join(parts)


def _video_spurious(vid: dict) -> str:
    """Per-clip and pooled verdicts on spurious ICs per 20 labels."""
    parts = [f"{_short(name)} {ok(c['spurious'] <= c['labels'] / 20)} "
             f"({c['spurious']}/{c['labels']})" for name, c in vid["clips"].items()]
    p = vid["pool"]
    parts.append(f"pooled {ok(p['spurious'] <= p['labels'] / 20)} ({p['spurious']}/{p['labels']})")
    return ", ".join(parts)


METHOD = """## Method (what the detector does)

`posecoach.events.GaitEventDetector` (module docstring has the details and references):
per foot, heel and toe get their own contact level, tracked over time by a rolling low
quantile; stance is a hysteresis on the lowest foot point (thresholds scaled by the swing
height and the measured noise); contacts in which the foot does not move backwards relative
to the pelvis are rejected (Zeni et al. 2008). Each event is timed from the crossing of a
small band above the contact height; the time from crossing to event comes from a forward
model of the measurement: a canonical touch-down (ramp) or toe-off (parabola, the toe rolls
off its tip; Leitch et al. 2011) is sampled at the clip's frame rate, low-passed with the
cleaning stage's filter and measured exactly like the data, with the approach speed / lift
acceleration taken as the median over all of the foot's contacts; the remaining bias is
extrapolated to a band of zero (Richardson). A contact played slower than the foot's typical
one (a phone's slow-motion section: its stance speed relative to the pelvis is lower than the
foot's upper-quartile one by more than 1.5x) is timed with the approach speed divided by that
local time scale. The times are then refined within 60 ms by
velocity cues that need no band and so are not delayed by noise or by a compressing sole:
IC where the heel's forward speed over the ground falls to 0.2 of the running speed
(foot-velocity methods: Zeni et al. 2008, O'Connor et al. 2007; in a contact of a few frames
whose height-based IC and TO meet, the running speed is the fastest backward heel motion
within the segmented contact and the search starts from it; in a slow-motion contact, whose
velocities are k times smaller in video time while the pose noise is not, the earlier of the
height-based IC and the velocity cue is kept; in real time the IC is the mean of the two
weighted by their inverse variance, each cue's timing error being its signal's noise over
its rate of change at the crossing, with the height-based IC first moved by the foot's
median difference between the cues so the velocity cue's calibration stays, and where the
two disagree far more than usual the one the neighbouring contacts' rhythm agrees with is
kept), TO where the toe rises
through 0.3 m/s (toe vertical motion, Leitch et al. 2011; a toe still below the stance
threshold at the window's end, one that rose a little and stopped, is followed until it
clears the ground). Events are reported only where the foot is seen
(confident samples around them, inside the picture; the frames of a runner crossing the
picture's side edge are masked whole by the cleaning stage) and not within 60 ms of the
ends of the runner's time in view. A 2-D pose model mixes up the legs, so the contacts of both
feet are then sorted out by the rhythm of the steps (expected step: the median interval in
real time times each contact's time scale): copies of one landing on both tracks (overlapping,
or less than a third of a step apart) are kept once; contacts that break the rhythm and whose
foot barely moves with the ground are dropped (a shortest path over the contacts); left and
right alternate, the parity voted by the tracks (Viterbi). Peak knee extension
(Fellin et al. 2010) and the heel's forward extreme (Zeni et al. 2008) set the confidence.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "accuracy.md")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get(
        "POSECOACH_ACCURACY_CACHE", "/tmp/posecoach-accuracy-cache")))
    ap.add_argument("--seeds", type=int, default=15, help="seeds per synthetic case")
    ap.add_argument("--quick", action="store_true", help="60 fps and 2 seeds only (a smoke run)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    t_start = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - t_start:6.1f} s] {msg}", file=sys.stderr, flush=True)

    if not SHARED.is_dir():
        log(f"NOTE: shared data folder {SHARED} is missing: only the synthetic part runs")
    seeds = list(range(2 if args.quick else args.seeds))
    fpss = [60.0] if args.quick else [30.0, 60.0, 120.0]
    main_rows, low_rows = run_synthetic(seeds, fpss, log)
    syn_text, syn_verdict = synthetic_section(main_rows, low_rows, seeds)
    moc_text, moc_verdict = run_mocap(log)
    vid_text, vid_verdict = run_video(args.cache, log)
    from posecoach import __version__

    head = f"""# Accuracy of the gait events

Generated by `scripts/accuracy.py` (`make accuracy`) on {dt.date.today().isoformat()},
posecoach {__version__}, in {time.time() - t_start:.0f} s. Do not edit by hand: re-run the
script. Shared data: `{SHARED}` ({'present' if SHARED.is_dir() else '**missing: the motion-capture and video sections were not run**'}).

"""
    text = "\n".join([head, summary_section(syn_verdict, moc_verdict, vid_verdict), METHOD,
                      syn_text, moc_text, vid_text, KNOWN])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    log(f"wrote {args.out}")
    return 0


KNOWN = """## What fails, and why

- **Synthetic runners with noise: rare tails miss the strict IC target (15 seeds).** Over
  15 seeds (630-705 events per case) three of the six noisy cases have one IC (of 315-360)
  two frames off; the median and 99.7-100 % of the ICs are within a frame. Left: heel
  striker 60 fps seed 5, both cues ~18 ms late (1.06 frames: noise, ~3 SD; the clean clip
  is within 0.2 ms); one IC each at 120 fps just over one frame (8.5 ms late / 18 ms early).
  This round:
  - The heel striker's first contact at 30 fps (seed 10, 0.1 s into the clip) was 74 ms
    late: noise kept the filtered heel near its band after the contact, and the velocity
    cue's ±60 ms window around that late time opened after the heel had stopped, so there
    was no cue. Where the heel is already below the cue's level as the window opens, the
    last crossing within 60 ms before it is now the cue (`refine_initial_contact(back_s=)`,
    real time only: in slow motion a search further back had put treadmill IC 142 two
    frames early); the IC is 1 ms early. Nothing else in this file changed.
  - IC: the velocity cue alone had 0-3 % of the ICs two or three frames off (21 in 2,010).
    The Pose runner's foot slows before contact, so its velocity approaches the cue's level
    slowly and hovers near it, and noise moves the crossing by 15-35 ms; the heel striker's
    height-based IC is the noisy one (its band must clear the noise). The IC is now the mean
    of both cues weighted by their inverse variance, each variance predicted per contact
    from the rate at which its signal crosses its level (height rate against position noise;
    velocity rate against the position noise times the derivative gain of the cleaning filter
    and a central difference): 21 -> 5 two-frame ICs, IC spread 5.1 -> 3.7 ms (Pose runner,
    120 fps), 4.1 -> 3.5 ms (heel striker, 120 fps), motion capture median IC error 8.1/8.2 ->
    7.9/7.7 ms, real video unchanged. (Weights estimated from the scatter of one clip's 8-16
    contacts had been tried and were too noisy; the rates need no scatter.) Where the two
    cues of a contact differ far more than the foot's usual difference (4 robust SD and 1.5
    frames), the cue closer to the middle of the neighbouring contacts is kept
    (`events.resolve_disagreeing_cues`; heel striker 60 fps seed 3: the heel bounced back
    above the band after contact, height-based IC 58 ms late, weighted mean 27 ms late, now
    the velocity cue, 1 ms early); 5 -> 4 two-frame ICs, nothing else changed.
  - Every event is found and none is spurious: the one toe-off that was not (heel striker,
    60 fps, seed 13: the filtered toe rose 1 cm on push-off noise, rested there for 5 frames
    and lifted off 100 ms later, out of the 60 ms window of the velocity cue) is now followed
    until the toe clears the stance threshold (`events.refine_toe_off`).
  - Cadence meets its target everywhere (worst clip 0.14-0.20 %, was 0.57 %): the summary's
    cadence is Theil's slope of contact time against step number over consecutive steps,
    in which one contact's timing error is shared by half the chain, instead of 120 000 /
    the median stride time, which keeps each contact's error whole.
  - The Pose runner's ICs still come ~6 ms early at every frame rate: the IC velocity cue
    fires when the heel's ground speed falls to a fifth of the running speed, and this
    runner's foot slows before contact (a lower share would fix it but make the force-plate
    ICs later: the real heel still moves ~1 m/s over the belt at contact); 0.2 is the
    compromise measured on both.
- **Motion capture at 3.5 m/s: contact time 15–20 ms short.** TO comes ~10 ms early because
  the rigid virtual toe lifts with the metatarsal heads (section 2); IC is ~8 ms late.
- **Motion capture foot strike: midfoot, not the labelled forefoot** (section 2: the data
  show a level foot at contact).
- **Real video: 92 % (treadmill) and 60 % (overground) of the labelled ICs within one
  picture; 2 and 1 spurious (pooled 25/29 = 86 %, 3 spurious; the spurious target allows
  one per 20 labels).** The treadmill's two spurious contacts are its two misses, ICs 104
  and 116 on the ramp into slow motion (below). The treadmill clip was at
  23/24 and 1 spurious until each foot's contact level stopped counting the runner's rest
  on the side rail (frames 0-25, the near foot still and ~18 cm lower than on the belt; and
  the step-off at the end): pooled with the 3-4-frame sprint stances that rest had put the
  near foot's level 8 cm below every one of its belt stances (their own levels lie within
  -1..+3 cm of the new one). On the full clip the old level cost little in real time (same
  toe-offs, contact time 87 -> 84 ms), but on a clip cut to its first 191 frames it hid
  every second contact and halved the cadence (132 instead of ~270 steps/min), which is
  what a user's short treadmill clip looks like (tests/test_events.py,
  tests/test_accuracy_realdata.py). With the right level
  two slow-motion contacts moved out of tolerance: 116 now at 118 (the earlier of its two
  cues, kept in slow motion, lies at 117.01 frames: the first picture at or after it is 118;
  it was at 116.75) and 223, where
  the pose model put the landing foot on one track, then the other, then both (frames
  217-229): three copies, a 3-frame fragment on the near track with no toe-off (IC at
  218.4 frames), a whole stance on the far track (221.3, frames 218-228) and one on the near
  track again (227.2, frames 226-240). Merging copies less than a third of a step apart
  keeps the IC of the copy whose foot moves fastest with the ground, and the fragment's
  "stance speed", a slope over three frames, read 13.9 m/s against 6.2 and 4.6 (real time),
  so the merged contact took the fragment's IC and the third copy, now 0.37 of a step from
  it, stayed apart: two contacts, 219 and 228 (−4, +5), both spurious. A whole copy now
  goes before a fragment (`events.merge_coincident_contacts`): one contact at 222 (−1).
  This rule was found by looking at this one contact; elsewhere it changes one IC by a
  frame (the unlabelled treadmill lesson clip, 187 -> 188) and nothing else (the synthetic
  and force-plate tables are the same to the digit; the portrait and panning clips' events
  are unchanged). Treadmill:
  the slow-motion middle (frames ~104–300, ~4x
  slower) is timed with each contact's local time scale (its stance speed against the foot's
  real-time one). Contacts are sorted out by the rhythm of the steps: a landing seen on
  both legs' tracks a few frames apart is kept once, a contact that splits a step
  and whose foot barely moves with the ground is dropped (209; overground 199), and left and
  right follow the alternation of the feet with the parity voted by the tracks, which undoes
  the leg-swap repair's wrong assignments (223, 308, 316: all found contacts now agree with
  the labels). IC 91 (3-4 frame contact, the right heel's height noisy by ~4 cm) came 3
  frames late: its height-based IC and TO met, so no stance velocity could be measured for
  the velocity cue; such a contact now takes the fastest backward heel motion within the
  segmented contact as its stance velocity and is searched from the segment's start (IC 91
  on the label). IC 168 (slow motion) came two frames late: the heel's image keeps moving
  forward over the belt at ~40-60 % of the belt speed for two frames after the label, and
  its noisy velocity hovers just above the cue's threshold. In slow motion (local time
  scale k > 1.5) the velocities are k times smaller in video time while the pose noise is
  not, so the velocity cue, meant to undo the height-based IC's (late) delays, is there
  allowed only to move the IC earlier: the earlier of the two cues is kept (168 one frame
  late, within tolerance; its spurious contact gone; 301, on the ramp back to real time, has
  k = 1 and is unchanged). Taking the earlier cue everywhere had put 301 two frames early.
  Judging the two cues by the rhythm of the steps does not help: for 168 the velocity cue
  gives the more even steps (26.8/28.2 against 25.3/29.7 frames to the neighbouring
  contacts; the labels say 26/30), for 301 the height cue (the ramp changes the rhythm).
  Also left on the treadmill: IC 104 (on the slow-motion ramp, badly tracked), 3 frames
  late and also a spurious contact. Searching the IC velocity cue from the
  start of the segmented stance for every contact fixed IC 91 but moved slow-motion
  contacts early (142, 198; so did searching back 50-100 ms only where the cue is not found
  in its window: 91 fixed, 142 two frames early), and a per-contact (instead of pooled)
  noise estimate did not narrow the far foot's thresholds (its stances are noisy in real
  time too); none of these is used. Overground: IC 142
  is 5 frames late and also the one spurious contact. The pose data do not show that
  contact: the heel's image keeps sinking (4.7 cm above its resting height at the label,
  2 cm at +4 frames) and keeps moving forward in the picture at ~0.8 m/s (static camera,
  so over the ground) until 4-5 frames after the label; the velocity cue falls to its
  threshold at 146.4 and the height-based IC at 148.1. With two contacts of that foot timed
  in the clip the foot's offset between the cues is not known (it needs three), so the
  velocity cue is kept (the weighted mean was 145.8, 4 frames late, while the frames of the
  runner leaving the picture, now masked, still gave that foot a third contact). The
  cue's ±60 ms window is not the
  cause (no earlier crossing exists), and the rhythm of the steps would put the contact at
  ~140. What does mark these heel strikes is the foot's pitch: the toe-up angle of the
  heel-to-toe line (23-29°) starts to fall one or two frames before the labelled frame for
  ICs 60, 100 and 142 (the forefoot comes down about the heel while BlazePose's heel point
  still sinks), but for IC 182 it falls from 4 frames before the label; with four labelled
  heel strikes in one clip and none in the force-plate data (RBDS001 lands level) there is
  nothing to validate such a cue on, so it is not used. IC 20 has the heel outside the picture
  (unreachable: the ceiling is 4/5).
- **Real-video toe-offs come early (no target; section 3's toe-off table).** Treadmill: the
  three labelled toe-offs that have a detected contact (all before the runner lets go of the
  handrails) are each one frame early, contacts 2 frames against the labels' 3 (at 30 fps one
  frame is a third of a sprint contact). Overground: 1, 1 and 3 pictures early (the far foot's
  TO 86, whose label itself may be a picture off), the labelled contact times 27 frame indices
  against 24 detected. Early toe-offs match the force-plate trials (TO ~5-10 ms early: the
  toe point lifts with the metatarsal heads) but here they are a whole frame or more, so the
  contact times of real clips read short; with 8 labelled toe-offs nothing is tuned on them.
- **Synthetic slow motion, heel striker: the height-based IC comes late in a 4x slow section
  once there is noise.** Its heel speeds up into contact, so the constant-speed touch-down
  model is off by a time that the local time scale multiplies too; the velocity cue keeps the
  clean case within a frame. The Pose runner (flat landing, like the treadmill sprinter) is
  timed better with the local time scale (tests/test_events.py).
- **Walking clip: no complete walking step is segmented by the event detector.** The
  walker's feet rise only a few centimetres in the picture and the pose tracks jump (other
  people); whether the clip is called walking is decided separately (`metrics.classify_gait`,
  not measured here), and no running verdicts are given.
"""


if __name__ == "__main__":
    sys.exit(main())
