"""The ``posecoach`` command line. It parses arguments and calls :mod:`posecoach.pipeline`.

Exit codes: 0 success; 1 other user-facing error; 2 usage error; 3 video problem;
4 pose data problem; 5 model missing; 6 no person found; 7 not running / too short;
70 internal error (a bug: please report it); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from posecoach import __version__
from posecoach._text import count
from posecoach.errors import NotRunningError, PosecoachError

log = logging.getLogger("posecoach")

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


def _add_common(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    # Sub-commands must not reset what was given before the command (argparse quirk).
    default = False if top else argparse.SUPPRESS
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", default=default,
                   help="print only errors (no progress bar)")
    g.add_argument("-v", "--verbose", action="store_true", default=default,
                   help="print details (and tracebacks)")


def _worker_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def _number_within(lo: float, hi: float, hint: str):
    """An argparse type: a number from ``lo`` to ``hi``; the error names the unit expected."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number ({hint})") from None
        if not lo <= value <= hi:  # NaN fails too
            raise argparse.ArgumentTypeError(f"{text} is outside {lo:g}-{hi:g} ({hint})")
        return value

    return parse


def _path(text: str) -> Path:
    """An argparse type: a file or folder name, never empty (``Path("")`` would be the current
    folder, e.g. from an unset shell variable in ``-o "$OUT"``).
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: give a file or folder name")
    return Path(text)


def _add_workers(p: argparse.ArgumentParser, *, draws: bool) -> None:
    what = "pose estimation and for drawing the annotated video" if draws else "pose estimation"
    p.add_argument("--workers", type=_worker_count, default=None, metavar="N",
                   help=f"processes for {what} (default: all cores, {os.cpu_count()} here)")


def _add_video_job_args(p: argparse.ArgumentParser, *, draws: bool) -> None:
    """Options shared by the commands that run pose estimation on a video."""
    p.add_argument("--model", choices=("lite", "full", "heavy"), default=None,
                   help="BlazePose model size (default: full, shipped with MediaPipe)")
    p.add_argument("--model-path", type=_path, default=None,
                   help="a BlazePose landmark .tflite file to use instead of the installed one")
    p.add_argument("--overwrite", action="store_true",
                   help="replace results already in the output folder")
    _add_workers(p, draws=draws)
    _add_common(p)


def _add_command(sub, name: str, **kwargs) -> argparse.ArgumentParser:
    """A sub-command's parser, which the parsed arguments name (``args.subparser``): its usage
    goes with an error about its arguments, and its help where an action is missing.
    """
    p = sub.add_parser(name, **kwargs)
    p.set_defaults(subparser=p)
    return p


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="posecoach",
        description=(
            "Judge running technique against the Pose Method from a side-view video. "
            "Film the runner from the side, whole body in view, 60 fps or more."
        ),
        epilog="Run 'posecoach COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"posecoach {__version__}")
    _add_common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _add_command(sub, "pose", help="estimate the runner's pose in every frame and save it")
    p.add_argument("video", type=_path, help="the video file (MP4, MOV, ...)")
    p.add_argument("-o", "--output", type=_path, default=None,
                   help="output folder (default: posecoach-output/<video name>)")
    _add_video_job_args(p, draws=False)

    p = _add_command(sub, "analyze", help="measure the running in a video (or saved poses) and judge it")
    p.add_argument("source", type=_path, help="a video file, or a pose dataset (.nc) from 'posecoach pose'")
    p.add_argument("-o", "--output", type=_path, default=None,
                   help="output folder (default: posecoach-output/<video name>; for a pose "
                        "dataset, the name of the video it was estimated on)")
    p.add_argument("--height-cm", type=_number_within(100, 230, "the runner's height in "
                                                      "centimetres, e.g. 178"), default=None,
                   help="runner's height in cm (sets the scale; default assumes 170 cm and warns)")
    p.add_argument("--speed-kmh", type=_number_within(3, 40, "the speed in km/h, e.g. 12"),
                   default=None,
                   help="treadmill belt speed in km/h, or overground the running speed (gives "
                        "step length and speed, and picks speed-matched bands)")
    p.add_argument("--rules", type=_path, default=None,
                   help="a rule file (TOML) with your own bands, weights or cues; see docs/rules.md")
    p.add_argument("--capture-fps", type=_number_within(1, 10000, "frames per second, e.g. 240"),
                   default=None, metavar="FPS",
                   help="for a slow-motion clip: the rate it was filmed at (e.g. 240 for a phone's "
                        "slow motion that plays at 30); times are then real time")
    p.add_argument("--video", type=_path, default=None, metavar="PATH",
                   help="with a pose dataset (.nc): the video it was estimated on, for the key "
                        "frames and overlay.mp4 (default: the video it records, if still there: its "
                        "path as given to 'posecoach pose', looked for from here and from the "
                        "dataset's folder and the 3 folders above it)")
    _add_video_job_args(p, draws=True)

    p = _add_command(sub, "demo", help="run posecoach on its built-in synthetic runners")
    p.add_argument("-o", "--output", type=_path, default=Path("posecoach-demo"),
                   help="output folder (default: posecoach-demo)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier demo's results")
    _add_common(p)

    p = _add_command(sub, "info", help="print versions and which pose model files are installed")
    _add_common(p)

    p = _add_command(sub, "models", help="manage BlazePose model files (lite/full/heavy)")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    pi = _add_command(msub, "install", help="install lite/heavy .tflite files from a file, folder or npm .tgz")
    pi.add_argument("source", type=_path,
                    help="a pose_landmark_{lite,full,heavy}.tflite, a folder holding them, or the "
                         "@mediapipe/pose npm package .tgz (get it with: npm pack @mediapipe/pose)")
    pi.add_argument("--model", choices=("lite", "full", "heavy"), default=None,
                    help="which model a single file is, when neither its contents nor its name "
                         "tell")
    _add_common(pi)
    ps = _add_command(msub, "status", help="list the model files found")
    _add_common(ps)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from posecoach import pipeline

    # A progress bar is for a person watching: in a log file or a pipe its
    # hundreds of carriage-return updates are noise (as pip and FFmpeg do).
    progress = not args.quiet and _is_terminal(sys.stderr)
    if getattr(args, "workers", None):
        from posecoach.pose.parallel import default_workers

        cores = default_workers()
        if args.workers > cores:
            # each worker is a process with its own model (~170 MB); more than the cores
            # only costs memory and start-up time
            log.warning("warning: --workers %d is more than the %s this process may use; "
                        "using %d", args.workers, count(cores, "core"), cores)
            args.workers = cores
    if args.command == "pose":
        out = args.output or pipeline.default_output(args.video)
        result = pipeline.run_pose(
            args.video, out, model=args.model or "full", model_path=args.model_path,
            overwrite=args.overwrite, progress=progress, workers=args.workers,
        )
        for w in result.warnings:
            log.warning("warning: %s", w)
        log.info("Detected the runner in %.0f %% of %d frames.", 100 * result.detected_fraction,
                 result.n_frames)
        for path in result.files:
            log.info("wrote %s", path)
        return 0
    if args.command == "analyze":
        out = args.output or pipeline.default_output(args.source)
        result = pipeline.run_analyze(
            args.source, out,
            height_m=args.height_cm / 100 if args.height_cm else None,
            speed_mps=args.speed_kmh / 3.6 if args.speed_kmh else None,
            rules_path=args.rules, model=args.model, model_path=args.model_path, overwrite=args.overwrite,
            progress=progress, workers=args.workers, capture_fps=args.capture_fps,
            video=args.video,
        )
        a = result.analysis
        for w in a.quality["warnings"]:
            log.warning("warning: %s", w)
        cad = a.summary.get("cadence_spm", {}).get("median")
        gct = a.summary.get("ground_contact_ms", {}).get("median")
        n_ic = int((a.events["kind"] == "initial_contact").sum())
        log.info("Gait: %s. %s found. Cadence %s steps/min, ground contact %s ms, foot "
                 "strike %s.", a.gait["classification"], count(n_ic, "contact"),
                 f"{cad:.0f}" if cad else "n/a", f"{gct:.0f}" if gct else "n/a",
                 a.foot_strike["pattern"])
        if a.score and a.score.get("value_pct") is not None:
            log.info("Pose Method score %.0f %% (%d rules assessed).", a.score["value_pct"],
                     a.score.get("n_assessed", 0))
        for path in result.files:
            log.info("wrote %s", path)
        if not a.is_running:
            # the files are written (they say why); the exit code tells a script so too
            log.info("No running verdicts: %s", a.gait.get("reason") or f"the gait is {a.gait['classification']}")
            return NotRunningError.exit_code
        return 0
    if args.command == "demo":
        result = pipeline.run_demo(args.output, overwrite=args.overwrite, progress=progress)
        for path in result.files:
            log.info("wrote %s", path)
        log.info("Demo finished: open %s (and the pose_runner report beside it)", result.main_file)
        return 0
    if args.command == "info":
        for key, value in pipeline.environment_info().items():
            print(f"{key}: {value}")
        return 0
    if args.command == "models":
        from posecoach.pose import models

        if args.models_command == "install":
            for path in models.install(args.source, model=args.model):
                log.info("installed %s", path)
            return 0
        if args.models_command == "status":
            for name, where in models.status().items():
                print(f"{name}: {where or 'not installed'}")
            return 0
    # a command that needs an action (``posecoach models``) was given none: a usage error
    getattr(args, "subparser", parser).print_help(sys.stderr)
    return 2


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed or unusual streams
        return False


@contextlib.contextmanager
def _quiet_native_stderr():
    """Hide what native libraries (MediaPipe's C++ logging, TFLite) print to stderr.

    Python's own ``sys.stderr`` (posecoach's messages, the progress bar) keeps
    writing to the terminal through a duplicate of the original descriptor; only
    writes that go straight to file descriptor 2 are dropped. ``-v`` shows them.
    """
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no stderr at all
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    old_stderr = sys.stderr
    stream = os.fdopen(saved, "w", buffering=1, encoding=getattr(old_stderr, "encoding", None) or "utf-8",
                       errors="replace")
    handlers = [h for h in log.handlers if isinstance(h, logging.StreamHandler)]
    try:
        old_stderr.flush()
        os.dup2(devnull, 2)
        sys.stderr = stream
        for h in handlers:
            h.setStream(stream)
        yield
    finally:
        stream.flush()
        os.dup2(saved, 2)
        sys.stderr = old_stderr
        for h in handlers:
            h.setStream(old_stderr)
        stream.close()
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``posecoach`` command; returns the exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # with the usage of the command they were given to, not the top level's
        getattr(args, "subparser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    _configure_logging(args)
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.verbose:
            return _run(args, parser)
        with _quiet_native_stderr():
            return _run(args, parser)
    except PosecoachError as exc:
        log.error("posecoach: error: %s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("posecoach: interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - last line of defence: no raw traceback for users
        if args.verbose:
            log.exception("posecoach: internal error")
        else:
            log.error(
                "posecoach: internal error: %s: %s\nThis is a bug in posecoach. Run again with -v for "
                "details and please report it with the output.", type(exc).__name__, exc,
            )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
