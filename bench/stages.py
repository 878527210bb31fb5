"""Time each stage of one real ``posecoach analyze`` run.

    python bench/stages.py VIDEO OUT_DIR [--workers N]

Runs the ordinary command line (``posecoach.cli.main``) in this process with a
timer around each stage function that ``pipeline.run_analyze`` calls (pose
estimation, saving, analysis, camera scan, assessment, report, overlay: whatever
of these exists in the installed version), so the stages are those of the real
command. Prints one JSON line: seconds per stage (calls nest: ``scan_video``
runs inside ``analyze_poses``; ``start_overlay``, ``write_report`` and
``OverlayJob.result`` inside ``write_report_outputs``: the overlay's processes work
while ``write_report`` runs, so ``result`` is only the wait after it), the
command's time and the time to import posecoach.
"""

from __future__ import annotations

import functools
import importlib
import json
import sys
import time

T_START = time.perf_counter()

#: (module, attribute) of the stage functions worth timing, if present.
STAGES = [
    ("posecoach.pipeline", "estimate_poses"),
    ("posecoach.pipeline", "save_pose_outputs"),
    ("posecoach.pipeline", "analyze_poses"),
    ("posecoach.camera", "scan_video"),
    ("posecoach.pipeline", "judge"),
    ("posecoach.analysis", "Analysis.write_json"),
    ("posecoach.pipeline", "write_report_outputs"),
    ("posecoach.report", "write_report"),
    ("posecoach.report", "write_overlay"),
    ("posecoach.report", "start_overlay"),
    ("posecoach.report.overlay", "OverlayJob.result"),
]


def _wrap(times: dict[str, float], name: str, fn):
    @functools.wraps(fn)
    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            times[name] = times.get(name, 0.0) + time.perf_counter() - t

    return timed


def install_timers(times: dict[str, float]) -> list[str]:
    """Wrap every stage function that exists; return the names wrapped."""
    wrapped = []
    for module_name, attr in STAGES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        owner, _, name = attr.rpartition(".")
        target = getattr(module, owner) if owner else module
        fn = getattr(target, name, None)
        if fn is None or not callable(fn) or getattr(fn, "__wrapped__", None):
            continue
        setattr(target, name, _wrap(times, name, fn))
        wrapped.append(f"{module_name}.{attr}")
    return wrapped


def main(argv: list[str]) -> dict:
    from posecoach import cli

    t_imported = time.perf_counter()
    times: dict[str, float] = {}
    wrapped = install_timers(times)
    args = ["analyze", argv[0], "-o", argv[1], "--overwrite", "-q", *argv[2:]]
    t = time.perf_counter()
    code = cli.main(args)
    command_s = time.perf_counter() - t
    return {
        "exit_code": code,
        "import_s": t_imported - T_START,
        "command_s": command_s,
        "stages_s": times,
        "timed": wrapped,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
