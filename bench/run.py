"""posecoach performance benchmark: one command, one table (see docs/performance.md).

    .venv/bin/python bench/run.py            # or: make bench
    .venv/bin/python bench/run.py --repeats 3 --clip PATH

On one real clip (default: the 50 fps 1080p overground clip in ../shared/data)
and clips made from it in a scratch folder (default /tmp/posecoach-bench; never
in the repository): the clip 4 times over (packet copy) and a 4K upscale of it,
also 4 times over. Every measurement runs the real command in a fresh process:

(a) a bare loop of MediaPipe Pose over OpenCV-decoded frames (bench/bare_loop.py);
(b) ``posecoach pose`` with 1 worker and with all workers;
(c) ``posecoach analyze`` (everything it does in this version), and the same run
    with a timer on each stage (bench/stages.py);
plus the peak memory of the whole process tree (sum over the main process and
its workers of the resident set, and of the proportional set size, sampled every
20 ms) of ``posecoach analyze`` on the clip and on the clip 4 times over, and
``posecoach pose`` on the 4K clip against the 1080p clip.

With ``--repeats R`` every run is repeated R times (round robin) and the
fastest is kept (other users of the machine only ever make a run slower);
before each run it waits up to ``--wait-idle`` seconds for other processes to
leave the cores idle, and it records how many cores they kept busy during the
run (column ``others``). Memory is sampled only in runs of its own (``MEMORY_RUNS``: analyze
on the clip and on the clip x4): the sampler costs a tenth to nearly half a core, which
the timed runs must not lose.
Prints a table with the ratios and writes bench/results/<time>.json and
bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from clips import repeat_clip, upscale_clip  # noqa: E402

SHARED = Path(os.environ.get("POSECOACH_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_CLIP = SHARED / "running-videos-licence-unknown" / "overground_side_static_cam_50fps.mp4"
PY = REPO / ".venv" / "bin" / "python"
POSECOACH = REPO / ".venv" / "bin" / "posecoach"

#: What the issue asks for (docs/performance.md).
TARGETS = {
    "parallel_vs_bare": 1.7,
    "pose_share_of_analyze": 0.85,
    "memory_4x_vs_1x": 1.2,
    "per_frame_4k_vs_1080p": 1.5,
}


# ----------------------------------------------------------------------------- memory


def _children(pids: set[int]) -> set[int]:
    """All descendants of ``pids`` (by scanning /proc for parent ids)."""
    parent_of: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            parent_of[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree = set(pids)
    grown = True
    while grown:
        new = {p for p, pp in parent_of.items() if pp in tree and p not in tree}
        tree |= new
        grown = bool(new)
    return tree


def _rss_pss_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class TreeMemory(threading.Thread):
    """Sample the summed RSS and PSS of a process and all its descendants."""

    def __init__(self, pid: int, interval_s: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval_s = pid, interval_s
        self.peak_rss_kb = self.peak_pss_kb = self.max_processes = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            tree = _children({self.pid})
            sums = [_rss_pss_kb(p) for p in tree]
            self.peak_rss_kb = max(self.peak_rss_kb, sum(s[0] for s in sums))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(s[1] for s in sums))
            self.max_processes = max(self.max_processes, sum(1 for s in sums if s[0]))
            self._halt.wait(self.interval_s)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has been busy (all cores, from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def others_load(window_s: float = 2.0) -> float:
    """Cores kept busy by other processes over a short window (this one is idle meanwhile)."""
    b = busy_cpu_s()
    time.sleep(window_s)
    return (busy_cpu_s() - b) / window_s


def wait_for_quiet(max_wait_s: float, threshold_cores: float = 0.3) -> float:
    """Wait (up to ``max_wait_s``) until other processes use less than ``threshold_cores``."""
    deadline = time.monotonic() + max_wait_s
    load = others_load()
    while load > threshold_cores and time.monotonic() < deadline:
        print(f"    waiting: other processes keep {load:.1f} cores busy ...", flush=True)
        time.sleep(8.0)
        load = others_load()
    return load


#: Runs whose process tree's memory is sampled. Sampling (scanning /proc and reading
#: smaps_rollup every 20 ms) costs 0.1-0.45 of a core, which would be taken from the runs
#: being timed, so memory is measured in runs of its own and the timed runs are not sampled.
MEMORY_RUNS = ("analyze_x1", "analyze_x4_memory")


def run_measured(cmd: list[str], *, cwd: Path, sample_memory: bool = False) -> dict:
    """Run a command, timing it and the machine's load; sample its tree's memory if asked."""
    ours0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0 = busy_cpu_s()
    t = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    mem = TreeMemory(proc.pid) if sample_memory else None
    if mem is not None:
        mem.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    if mem is not None:
        mem.stop()
    ours1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours_s = (ours1.ru_utime - ours0.ru_utime) + (ours1.ru_stime - ours0.ru_stime)
    others_s = max(0.0, busy_cpu_s() - busy0 - ours_s)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{err[-3000:]}")
    last = [line for line in out.splitlines() if line.startswith("{")]
    return {
        "wall_s": wall,
        "cpu_s": ours_s,
        "others_cores": others_s / wall,
        "peak_rss_mb": mem.peak_rss_kb / 1024 if mem is not None else float("nan"),
        "peak_pss_mb": mem.peak_pss_kb / 1024 if mem is not None else float("nan"),
        "max_processes": mem.max_processes if mem is not None else 0,
        "json": json.loads(last[-1]) if last else None,
    }


# ----------------------------------------------------------------------------- runs


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f
                               if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return info


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def compare_poses(a: Path, b: Path) -> dict:
    """How far two pose files of one clip differ (frames, detections, pixels)."""
    import numpy as np

    from posecoach.io import load_poses

    da, db = load_poses(a), load_poses(b)
    pa, pb = da["position"].values, db["position"].values
    same_frames = bool(np.array_equal(da["frame"].values, db["frame"].values))
    both = np.isfinite(pa).all(axis=(1, 2)) & np.isfinite(pb).all(axis=(1, 2))
    dist = np.linalg.norm(pa[both] - pb[both], axis=2)
    return {
        "same_frames": same_frames,
        "frames": int(da.sizes["time"]),
        "detected_a": float(np.isfinite(pa).any(axis=(1, 2)).mean()),
        "detected_b": float(np.isfinite(pb).any(axis=(1, 2)).mean()),
        "median_px": float(np.median(dist)) if dist.size else float("nan"),
        "p99_px": float(np.percentile(dist, 99)) if dist.size else float("nan"),
        "person_check_a": da.attrs.get("person_check", ""),
        "person_check_b": db.attrs.get("person_check", ""),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="the real clip to use")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/posecoach-bench"),
                        help="folder for the derived clips and outputs")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="'all workers'")
    parser.add_argument("--repeats", type=int, default=1, help="runs per measurement (fastest kept)")
    parser.add_argument("--no-4k", action="store_true", help="skip the 4K clip")
    parser.add_argument("--wait-idle", type=float, default=60.0, metavar="S",
                        help="before each run, wait up to S seconds for other processes to "
                             "leave the cores idle (default 60)")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)

    if not args.clip.exists():
        print(f"benchmark clip missing: {args.clip}\nThe benchmark needs the shared test data beside "
              "the repository (../shared/data) or --clip PATH to any side-view running clip.",
              file=sys.stderr)
        return 2
    from posecoach.video import probe

    scratch = args.scratch
    scratch.mkdir(parents=True, exist_ok=True)
    print(f"clips in {scratch} (made once, remade when the source changes) ...", flush=True)
    clips = {"1080p_x1": args.clip, "1080p_x4": repeat_clip(args.clip, scratch / "clip_x4.mp4", 4)}
    info = probe(args.clip)
    if not args.no_4k:
        big = upscale_clip(args.clip, scratch / "clip_4k_x1.mp4", 3840, 2160)
        clips["4k_x4"] = repeat_clip(big, scratch / "clip_4k_x4.mp4", 4)
    frames = {k: probe(v).n_frames for k, v in clips.items()}
    out = scratch / "out"
    w = args.workers
    x4 = clips["1080p_x4"]
    # the bare loop, the parallel pose pass and its 4K run follow each other, so that each
    # repeat gives ratios of runs made within a minute (the machine's speed drifts)
    plan = {
        "bare_loop": [PY, HERE / "bare_loop.py", x4],
        "pose_all_workers": [POSECOACH, "pose", x4, "-o", out / "poseN", "--overwrite", "-q",
                             "--workers", str(w)],
    }
    if "4k_x4" in clips:
        plan["pose_4k_all_workers"] = [POSECOACH, "pose", clips["4k_x4"], "-o", out / "pose4k",
                                       "--overwrite", "-q", "--workers", str(w)]
    plan |= {
        "pose_1_worker": [POSECOACH, "pose", x4, "-o", out / "pose1", "--overwrite", "-q",
                          "--workers", "1"],
        "analyze_x4": [POSECOACH, "analyze", x4, "-o", out / "an4", "--overwrite", "-q",
                       "--workers", str(w)],
        "analyze_x1": [POSECOACH, "analyze", clips["1080p_x1"], "-o", out / "an1", "--overwrite",
                       "-q", "--workers", str(w)],
        "analyze_x4_memory": [POSECOACH, "analyze", x4, "-o", out / "an4m", "--overwrite", "-q",
                              "--workers", str(w)],
        "analyze_x4_stages": [PY, HERE / "stages.py", x4, out / "stages", "--workers", str(w)],
    }
    results: dict[str, dict] = {}
    load_before = load_average()
    t0 = time.perf_counter()
    for r in range(args.repeats):
        for name, cmd in plan.items():
            print(f"[{r + 1}/{args.repeats}] {name} ...", flush=True)
            if args.wait_idle > 0:
                wait_for_quiet(args.wait_idle)
            res = run_measured(cmd, cwd=REPO, sample_memory=name in MEMORY_RUNS)
            res["runs_wall_s"] = results.get(name, {}).get("runs_wall_s", []) + [res["wall_s"]]
            best = results.get(name)
            if best is None or res["wall_s"] < best["wall_s"]:
                res["peak_rss_mb"] = max(res["peak_rss_mb"], (best or {}).get("peak_rss_mb", 0))
                res["peak_pss_mb"] = max(res["peak_pss_mb"], (best or {}).get("peak_pss_mb", 0))
                results[name] = res
            else:
                best["runs_wall_s"] = res["runs_wall_s"]
                best["peak_rss_mb"] = max(best["peak_rss_mb"], res["peak_rss_mb"])
                best["peak_pss_mb"] = max(best["peak_pss_mb"], res["peak_pss_mb"])
    total_s = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)

    n4 = frames["1080p_x4"]
    bare = results["bare_loop"]
    fps = {
        "bare_loop_end_to_end": n4 / bare["wall_s"],
        "bare_loop_inner": n4 / bare["json"]["loop_s"],
        "pose_1_worker": n4 / results["pose_1_worker"]["wall_s"],
        "pose_all_workers": n4 / results["pose_all_workers"]["wall_s"],
        "analyze": n4 / results["analyze_x4"]["wall_s"],
    }
    stages = results["analyze_x4_stages"]["json"]
    stage_s = dict(stages["stages_s"])
    pose_s = stage_s.get("estimate_poses", float("nan"))
    stages_wall = results["analyze_x4_stages"]["wall_s"]
    ratios = {
        "parallel_vs_bare": fps["pose_all_workers"] / fps["bare_loop_end_to_end"],
        "parallel_vs_bare_inner_loop": fps["pose_all_workers"] / fps["bare_loop_inner"],
        "parallel_vs_1_worker": fps["pose_all_workers"] / fps["pose_1_worker"],
        "one_worker_vs_bare": fps["pose_1_worker"] / fps["bare_loop_end_to_end"],
        "pose_share_of_analyze": pose_s / stages_wall,
        "memory_4x_vs_1x": results["analyze_x4_memory"]["peak_rss_mb"]
        / results["analyze_x1"]["peak_rss_mb"],
        "memory_4x_vs_1x_pss": results["analyze_x4_memory"]["peak_pss_mb"]
        / results["analyze_x1"]["peak_pss_mb"],
    }
    per_frame_ms = {"1080p": 1000 * results["pose_all_workers"]["wall_s"] / n4}
    if "4k_x4" in clips:
        per_frame_ms["4k"] = 1000 * results["pose_4k_all_workers"]["wall_s"] / frames["4k_x4"]
        ratios["per_frame_4k_vs_1080p"] = per_frame_ms["4k"] / per_frame_ms["1080p"]
    # the same ratios per repeat (runs a minute apart), median over the repeats
    runs_w = {k: v["runs_wall_s"] for k, v in results.items()}
    ratios["parallel_vs_bare_paired"] = float(statistics.median(
        [b / p for b, p in zip(runs_w["bare_loop"], runs_w["pose_all_workers"], strict=True)]))
    if "4k_x4" in clips:
        ratios["per_frame_4k_vs_1080p_paired"] = float(statistics.median(
            [(k / frames["4k_x4"]) / (p / n4)
             for k, p in zip(runs_w["pose_4k_all_workers"], runs_w["pose_all_workers"], strict=True)]))
    check = compare_poses(out / "pose1" / "poses.nc", out / "poseN" / "poses.nc")

    report = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "clip": str(args.clip),
        "clip_info": {k: v for k, v in info.to_dict().items() if k != "path"},
        "frames": frames,
        "workers": w,
        "repeats": args.repeats,
        "bench_s": total_s,
        "children_max_rss_mb": children.ru_maxrss / 1024,
        "fps": fps,
        "per_frame_ms": per_frame_ms,
        "ratios": ratios,
        "targets": TARGETS,
        "stages_s": {**stage_s, "command": stages["command_s"], "import": stages["import_s"],
                     "process_wall": stages_wall},
        "pose_1_vs_all_workers": check,
        "runs": {k: {kk: vv for kk, vv in v.items()} for k, v in results.items()},
    }
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in (f"{stamp}.json", "latest.json"):
        (args.results / name).write_text(json.dumps(report, indent=2, default=str))
    print_table(report)
    print(f"\nwrote {args.results / (stamp + '.json')}")
    if os.environ.get("POSECOACH_BENCH_KEEP") != "1":
        shutil.rmtree(out, ignore_errors=True)
    return 0


def _ok(value: float, target: float, *, at_most: bool = False) -> str:
    good = value <= target if at_most else value >= target
    return "ok" if good else "MISSED"


def print_table(rep: dict) -> None:
    fps, ratios, runs = rep["fps"], rep["ratios"], rep["runs"]
    n4 = rep["frames"]["1080p_x4"]
    ci = rep["clip_info"]
    print(f"\nposecoach benchmark  {rep['time']}  {rep['machine'].get('cpu', '')}, "
          f"{rep['machine']['cores']} cores, load before/after {rep['load_average_before']} / "
          f"{rep['load_average_after']}")
    print(f"clip: {Path(rep['clip']).name} ({ci['width']}x{ci['height']}, {ci['fps']:.0f} fps) "
          f"x4 = {n4} frames; workers = {rep['workers']}; fastest of {rep['repeats']} run(s)\n")
    rows = [
        ("(a) bare loop: OpenCV + mp.solutions.pose, whole script", "bare_loop",
         runs["bare_loop"]["wall_s"], fps["bare_loop_end_to_end"], 1.0),
        ("    bare loop, inner loop only (no imports/model load)", None,
         runs["bare_loop"]["json"]["loop_s"], fps["bare_loop_inner"],
         fps["bare_loop_inner"] / fps["bare_loop_end_to_end"]),
        ("(b) posecoach pose --workers 1", "pose_1_worker", runs["pose_1_worker"]["wall_s"],
         fps["pose_1_worker"], fps["pose_1_worker"] / fps["bare_loop_end_to_end"]),
        (f"(b) posecoach pose --workers {rep['workers']}", "pose_all_workers",
         runs["pose_all_workers"]["wall_s"], fps["pose_all_workers"], ratios["parallel_vs_bare"]),
        (f"(c) posecoach analyze --workers {rep['workers']}", "analyze_x4",
         runs["analyze_x4"]["wall_s"], fps["analyze"], fps["analyze"] / fps["bare_loop_end_to_end"]),
    ]
    print(f"{'run':58s} {'wall s':>7s} {'fps':>7s} {'x bare':>7s} {'peak MB':>8s} {'CPU s':>6s} "
          f"{'others':>6s}")
    for name, key, wall, f, ratio in rows:
        r = runs.get(key, {}) if key else {}
        print(f"{name:58s} {wall:7.1f} {f:7.1f} {ratio:7.2f} {r.get('peak_rss_mb', float('nan')):8.0f} "
              f"{r.get('cpu_s', float('nan')):6.1f} {r.get('others_cores', float('nan')):6.2f}")
    print("('others': cores other processes kept busy during the run, on average)")
    print("\nstages of posecoach analyze (seconds; nested: scan_video in analyze_poses; "
          "start_overlay, write_report and result (waiting for the overlay's processes, which "
          "work during write_report) in write_report_outputs):")
    st = rep["stages_s"]
    for k, v in st.items():
        print(f"  {k:24s} {v:7.2f}")
    print("\nmemory, posecoach analyze (peak of the summed process tree):")
    for key, label in (("analyze_x1", "clip x1"), ("analyze_x4_memory", "clip x4")):
        r = runs[key]
        print(f"  {label}: RSS {r['peak_rss_mb']:.0f} MB, PSS {r['peak_pss_mb']:.0f} MB, "
              f"{r['max_processes']} processes, {r['wall_s']:.1f} s")
    if "per_frame_4k_vs_1080p" in ratios:
        pf = rep["per_frame_ms"]
        print(f"\n4K vs 1080p, posecoach pose --workers {rep['workers']}: {pf['4k']:.1f} vs "
              f"{pf['1080p']:.1f} ms per frame")
    chk = rep["pose_1_vs_all_workers"]
    print(f"\n1 vs {rep['workers']} workers: same frames {chk['same_frames']}, detected "
          f"{chk['detected_a']:.3f} / {chk['detected_b']:.3f}, landmark distance median "
          f"{chk['median_px']:.2f} px, 99th percentile {chk['p99_px']:.1f} px")
    t = rep["targets"]
    print("\ntargets:")
    print(f"  pose all workers / bare loop      {ratios['parallel_vs_bare']:5.2f} >= "
          f"{t['parallel_vs_bare']}  {_ok(ratios['parallel_vs_bare'], t['parallel_vs_bare'])}"
          f"   (vs the bare inner loop only: {ratios['parallel_vs_bare_inner_loop']:.2f}; "
          f"paired runs, median: {ratios['parallel_vs_bare_paired']:.2f})")
    print(f"  pose share of analyze wall time   {ratios['pose_share_of_analyze']:5.2f} >= "
          f"{t['pose_share_of_analyze']}  "
          f"{_ok(ratios['pose_share_of_analyze'], t['pose_share_of_analyze'])}")
    print(f"  peak memory 4x / 1x (RSS sum)     {ratios['memory_4x_vs_1x']:5.2f} <= "
          f"{t['memory_4x_vs_1x']}  "
          f"{_ok(ratios['memory_4x_vs_1x'], t['memory_4x_vs_1x'], at_most=True)}"
          f"   (PSS: {ratios['memory_4x_vs_1x_pss']:.2f})")
    if "per_frame_4k_vs_1080p" in ratios:
        print(f"  per frame 4K / 1080p              {ratios['per_frame_4k_vs_1080p']:5.2f} <= "
              f"{t['per_frame_4k_vs_1080p']}  "
              f"{_ok(ratios['per_frame_4k_vs_1080p'], t['per_frame_4k_vs_1080p'], at_most=True)}"
              f"   (paired runs, median: {ratios['per_frame_4k_vs_1080p_paired']:.2f})")


if __name__ == "__main__":
    sys.exit(main())
