"""posecoach's stages in order, one short function per job.

``run_pose``: video -> pose dataset (saved). ``run_demo``: the built-in synthetic
runners -> the same outputs a real clip gives. The CLI only calls these.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from posecoach import __version__, dataset
from posecoach._arrays import nanmid
from posecoach._text import count, percent
from posecoach.analysis import Analysis
from posecoach.errors import NoPersonError, OutputError, PosecoachError, UsageError
from posecoach.video import DAMAGE_NOTE_START

log = logging.getLogger("posecoach")

#: Below this share of frames with a detected person, the clip is refused.
MIN_DETECTED_FRACTION = 0.2


@dataclass
class PoseResult:
    """What :func:`run_pose` produced."""

    poses: xr.Dataset
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def detected_fraction(self) -> float:
        return dataset.detected_fraction(self.poses)

    @property
    def n_frames(self) -> int:
        return int(self.poses.sizes["time"])


@dataclass
class AnalyzeResult:
    """What :func:`run_analyze` produced."""

    analysis: Analysis
    files: list[Path] = field(default_factory=list)
    assessment: object | None = None


@dataclass
class DemoResult:
    """What :func:`run_demo` produced."""

    files: list[Path] = field(default_factory=list)
    main_file: Path | None = None


#: The files each command writes in its output folder.
POSE_FILES = ["poses.nc", "poses.csv", "poses.json"]
#: The suffixes of the pose files (never a video's)
POSE_FILE_SUFFIXES = frozenset(Path(n).suffix for n in POSE_FILES)
ANALYZE_FILES = ["analysis.json", "report.html"]
VIDEO_ANALYZE_FILES = ANALYZE_FILES + ["overlay.mp4"] + POSE_FILES
#: ``analyze`` on a saved pose dataset whose video was found (the poses are not saved again)
POSES_WITH_VIDEO_FILES = ANALYZE_FILES + ["overlay.mp4"]


#: Where results go when no output folder is given.
DEFAULT_OUTPUT_ROOT = Path("posecoach-output")


def default_output(source: Path) -> Path:
    """The output folder when none is given: ``posecoach-output/<name>``.

    ``<name>`` is the video's name; for a saved pose dataset, the name of the video it
    records (``attrs["source_file"]``): ``posecoach analyze posecoach-output/run/poses.nc``
    then writes beside the poses, where ``posecoach analyze run.mp4`` would have, instead
    of in ``posecoach-output/poses`` for every clip. A dataset that records no video (or
    cannot be read: the analysis says why) gives its own name.
    """
    source = Path(source)
    name = source.stem
    if source.suffix.lower() == ".nc":
        with contextlib.suppress(Exception):  # the analysis reports a broken file itself
            with xr.open_dataset(source, engine="h5netcdf") as f:
                recorded = str(f.attrs.get("source_file") or "")
            name = Path(recorded).stem or name
    return DEFAULT_OUTPUT_ROOT / name


def prepare_output(out_dir: Path, names: list[str], *, overwrite: bool,
                   source: Path | list[Path] | None = None) -> Path:
    """Create ``out_dir`` and make sure nothing there is overwritten by accident.

    Parameters
    ----------
    out_dir : Path
        The output folder (created with its parents when missing).
    names : list of str
        Every file (or folder) the command writes in ``out_dir``.
    overwrite : bool
        Replace those of ``names`` that exist (results of an earlier run).
    source : Path or list of Path, optional
        The command's input (or inputs): none may be one of the files written, even
        with ``overwrite`` (a video called ``overlay.mp4`` analysed into its own folder).

    Raises
    ------
    OutputError
        If one of ``names`` already exists and ``overwrite`` is false, if ``source`` is
        one of them, or if the folder cannot be created or written in.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"output {out_dir} is a file; give a folder name with -o")
    clash = [n for n in names if (out_dir / n).exists()]
    sources = [] if source is None else [source] if isinstance(source, str | Path) else source
    for src in (Path(x) for x in sources):
        same = [n for n in clash if src.exists() and (out_dir / n).resolve() == src.resolve()]
        if same:
            raise OutputError(
                f"the input {src} is the file posecoach would write as {same[0]} in {out_dir}; "
                "give another output folder with -o (or rename the input file)"
            )
    if clash and not overwrite:
        raise OutputError(
            f"{out_dir} already holds {', '.join(clash)}. Choose another folder with -o, "
            "or pass --overwrite to replace them."
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as exc:
        raise OutputError(
            f"cannot write in the output folder {out_dir} ({exc.strerror or exc}); choose a folder "
            "you can write to with -o"
        ) from exc
    return out_dir


@contextlib.contextmanager
def output_folder(out_dir: Path, names: list[str], *, overwrite: bool,
                  source: Path | list[Path] | None = None) -> Iterator[Path]:
    """:func:`prepare_output`, and the folder removed again if the command fails before
    writing anything in a folder it created (no empty folders left by a failed run).
    """
    created = not Path(out_dir).exists()
    path = prepare_output(out_dir, names, overwrite=overwrite, source=source)
    try:
        yield path
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                path.rmdir()  # only if empty
        raise


def estimate_poses(
    video_path: Path,
    *,
    model: str = "full",
    model_path: Path | None = None,
    progress: bool = True,
    workers: int | None = None,
) -> xr.Dataset:
    """Stage 1: find the runner's 33 BlazePose keypoints in every frame of a video.

    ``workers`` processes share the video in contiguous time segments (default: all
    cores; 1 = in this process); see :mod:`posecoach.pose.parallel`.
    """
    from posecoach.pose import BlazePoseEstimator
    from posecoach.pose.parallel import ParallelPoseEstimator

    estimator = BlazePoseEstimator(model=model, model_path=model_path)
    poses = ParallelPoseEstimator(estimator, workers=workers).estimate(video_path, progress=progress)
    check_person_found(poses, video_path)
    return poses


def check_person_found(poses: xr.Dataset, source: Path) -> None:
    """Refuse poses with the runner in too few frames (:data:`MIN_DETECTED_FRACTION`).

    Raises
    ------
    NoPersonError
        With what to do, and the video's damage note where frames were left out.
    """
    found = dataset.detected_fraction(poses)
    # frames left out as damaged count as frames without a person: say so with the error
    damage = [f" Also, {w}." for w in poses.attrs.get("warnings", []) if w.startswith(DAMAGE_NOTE_START)]
    if found == 0:
        raise NoPersonError(
            f"no person was found in {source}. Film the runner from the side with the whole body "
            "in view and good light." + "".join(damage)
        )
    if found < MIN_DETECTED_FRACTION:
        raise NoPersonError(
            f"a person was found in only {percent(found)} of the frames of {source}; too little to "
            "measure. Keep the whole body in view for the whole clip." + "".join(damage)
        )


def save_pose_outputs(poses: xr.Dataset, out_dir: Path) -> list[Path]:
    """Write the pose dataset (NetCDF), its CSV export and a short JSON summary."""
    from posecoach.io import export_csv, save_poses

    files = [
        save_poses(poses, out_dir / "poses.nc", overwrite=True),
        export_csv(poses, out_dir / "poses.csv", overwrite=True),
    ]
    summary = {
        "posecoach_version": __version__,
        "source_file": poses.attrs.get("source_file", ""),
        "model": poses.attrs.get("model", ""),
        "fps": poses.attrs["fps"],
        "n_frames": int(poses.sizes["time"]),
        "detected_fraction": dataset.detected_fraction(poses),
        "warnings": list(poses.attrs.get("warnings", [])),
    }
    path = out_dir / "poses.json"
    path.write_text(json.dumps(summary, indent=2))
    files.append(path)
    return files


def run_pose(
    video_path: Path,
    out_dir: Path,
    *,
    model: str = "full",
    model_path: Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
    workers: int | None = None,
) -> PoseResult:
    """``posecoach pose``: estimate poses in a video and save them in ``out_dir``."""
    from posecoach.video import probe

    if Path(video_path).suffix.lower() in POSE_FILE_SUFFIXES:
        raise UsageError(f"{video_path} holds poses, not a video: 'posecoach pose' estimates them "
                         "from a video; to analyse saved poses run 'posecoach analyze "
                         f"{Path(video_path).with_suffix('.nc')}'")
    probe(video_path)  # fail early, with a clear message, on a bad file
    with output_folder(out_dir, POSE_FILES, overwrite=overwrite, source=video_path) as out_dir:
        poses = estimate_poses(video_path, model=model, model_path=model_path, progress=progress,
                               workers=workers)
        files = save_pose_outputs(poses, out_dir)
    return PoseResult(poses=poses, files=files, warnings=list(poses.attrs.get("warnings", [])))


def analyze_poses(
    poses: xr.Dataset,
    *,
    video_path: Path | None = None,
    height_m: float | None = None,
    speed_mps: float | None = None,
    video_info: dict | None = None,
) -> Analysis:
    """Stages 2-6: clean -> scene -> body frame and angles -> events -> steps and summary.

    Parameters
    ----------
    poses : xarray.Dataset
        Pixel pose dataset (from :func:`estimate_poses` or a file).
    video_path : Path, optional
        The video the poses came from: used for camera motion (treadmill vs panning)
        and repeated pictures. Without it those are unknown and a warning says so.
    height_m : float, optional
        Runner's height (sets the scale); a documented default is used otherwise.
    speed_mps : float, optional
        Treadmill belt speed, or overground the running speed (it replaces the one measured
        with a fixed camera, with a warning).
    """
    from posecoach import camera, events, filtering, kinematics, metrics, quality, scene
    from posecoach import gait as gait_check

    dataset.validate(poses)
    fps = float(poses.attrs["fps"])
    warnings_: list[str] = list(poses.attrs.get("warnings", []))
    # 2. cleaning
    cleaned, cleaning = filtering.clean(poses)
    if cleaning.border_spans:
        spans = ", ".join(f"{x['start_frame']}-{x['end_frame']}" for x in cleaning.border_spans)
        warnings_.append(
            f"the runner is partly outside the picture while coming into or leaving it (frames "
            f"{spans}); the pose model only guesses the parts it cannot see, so those frames are not "
            "used (film with the whole body in the picture for the steps you want measured)")
    # 3. scene: camera motion, facing, treadmill/overground, ground line, scale
    # a saved pose dataset carries the pose pass's scan: without the video it still
    # gives camera motion (treadmill/panning) and repeated pictures
    scan = (camera.scan_video(video_path, poses) if video_path is not None
            else camera.scan_from_poses(poses))
    sc = scene.SceneEstimator(height_m).detect(cleaned, scan.shift_px if scan else None).scene_
    warnings_ += sc.warnings
    pixels = cleaned
    if scan is not None and sc.camera == "panning":
        pixels = camera.compensate(cleaned, scan.shift_px)
    body = kinematics.to_body_frame(
        pixels, facing=sc.facing, px_per_m=sc.px_per_m, ground_y_px=sc.ground_y_px,
        ground_slope=sc.ground_slope, ground_x0_px=sc.ground_x0_px,
    )
    angles = kinematics.joint_angles(body)
    if speed_mps is not None and sc.setting == "overground" and sc.camera == "static":
        warnings_.append(
            f"--speed-kmh {3.6 * speed_mps:.1f} was used as the running speed (speed, step length, "
            "speed-matched bands) instead of the speed measured from the video: the runner moves "
            "through the picture of a fixed camera (overground, not a treadmill); leave "
            "--speed-kmh out to use the measured one")
    # 4. events
    detector = events.GaitEventDetector().detect(body, angles)
    warnings_ += detector.warnings_
    # 5. steps and metrics
    steps = metrics.StepMetrics(
        leg_length_m=sc.leg_length_m, speed_mps=speed_mps, setting=sc.setting, camera=sc.camera,
    ).compute(body, angles, detector.contacts_).steps_
    # 6. quality: repeated pictures, playback speed, plausibility, gait type
    q: dict = {
        "detected_fraction": dataset.detected_fraction(poses),
        "swaps_repaired": cleaning.swaps_repaired,
        "frames_repaired": len(cleaning.swap_frames),
        "gap_frames_filled": cleaning.gap_frames_filled,
        "cleaning": cleaning.to_dict(),
    }
    effective_fps = fps
    if scan is not None:
        dup = quality.duplicate_pictures(scan.frame_diff, fps)
        q["duplicate_picture_share"] = dup.share
        if dup.repeat > 1:
            effective_fps = dup.effective_fps
            warnings_.append(
                f"every picture appears about {dup.repeat} times ({percent(dup.share)} of frames repeat the "
                f"previous one): the clip holds {effective_fps:.1f} distinct pictures per second, not "
                f"{fps:.0f}, so event times are only good to {1000 / effective_fps:.0f} ms"
            )
    else:
        warnings_.append("analysed from pose data without the video: repeated pictures and camera "
                         "motion could not be checked (give the video with --video)")
    pelvis = nanmid(dataset.keypoint_xy(body, "left_hip"), dataset.keypoint_xy(body, "right_hip"))
    sections = quality.playback_sections(steps, t=body["time"].values, frames=body["frame"].values,
                                         pelvis_height=pelvis[:, 1])
    q["playback_sections"] = [x.to_dict() for x in sections]
    slow_motion = np.zeros(len(steps), dtype=bool)
    slow = [x for x in sections if x.kind == "slow_motion"]
    for x in sections:
        if x.kind == "missed_contacts":
            warnings_.append(
                f"from frame {x.first_frame} to {x.last_frame} the contacts found are about "
                f"{x.slow_factor:.1f} times as far apart as elsewhere, but the pelvis still rises and "
                f"falls every {x.bounce_period_ms:.0f} ms, as fast as elsewhere: contacts were missed "
                "there (it is not slow motion). Check them in the overlay video")
    if slow:
        desc = "; ".join(f"frames {x.first_frame}-{x.last_frame} about {x.slow_factor:.1f}x slower"
                         for x in slow)
        warnings_.append(
            f"the playback speed changes inside the clip (slow motion: {desc}); times from those "
            "sections are not real time and were left out of the time-based summary"
        )
        for x in slow:
            slow_motion |= x.holds(steps["ic_frame"].to_numpy())
    # a step over a missed contact of each foot: no step time, flight or stride of its own
    gaps = quality.steps_over_missed_contacts(steps, sections)
    if gaps.any():
        steps = steps.copy()
        steps.loc[gaps, list(metrics.STEP_SPAN_METRICS)] = np.nan
    gait, reason = metrics.classify_gait(steps[~slow_motion])
    support = gait_check.double_support(body, fps=fps)
    gait, reason = gait_check.combine(gait, reason, support)
    # in a running clip, a step with both feet down is a lost foot: left out of the summary
    overlap = (quality.overlapping_steps(steps, effective_fps, sections) if gait == "running"
               else np.zeros(len(steps), dtype=bool))
    q["overlapping_steps"] = []
    if overlap.any():
        q["overlapping_steps"] = [int(f) for f in steps.loc[overlap, "ic_frame"]]
        warnings_.append(quality.overlap_message(q["overlapping_steps"], len(steps)))
    # the steps left out whole are not named again
    q["steps_over_missed_contacts"] = ([int(f) for f in steps.loc[gaps & ~overlap, "ic_frame"]]
                                       if gaps.any() else [])
    if q["steps_over_missed_contacts"]:
        warnings_.append(
            f"{count(len(q['steps_over_missed_contacts']), 'step')} lasted "
            f"{quality.STEP_GAP_FACTOR:g} times the usual step or longer (from the contacts at frames "
            f"{', '.join(map(str, q['steps_over_missed_contacts']))}): contacts were missed "
            "there, so their step time, flight and stride were left out")
    used = steps[~overlap]
    timing_steps = steps[~overlap & ~slow_motion]
    steps = steps.assign(**summary_use_columns(overlap, slow_motion, gaps))
    q["steps_excluded_from_timing"] = int(len(steps) - len(timing_steps))
    summary = metrics.summarise(used, fps=effective_fps)
    timing = metrics.summarise(timing_steps, fps=effective_fps)
    for name in metrics.TIME_BASED_METRICS:
        if name in timing:
            summary[name] = timing[name]
    capture_given = "playback_fps" in poses.attrs  # --capture-fps (dataset.at_capture_rate)
    problem = None
    if gait == "running":
        problem = quality.timing_problem(
            summary, capture_fps=fps if capture_given else None,
            playback_fps=float(poses.attrs.get("playback_fps", fps)))
    q["timing_problem"] = problem.to_dict() if problem else None
    if problem:
        warnings_.append(problem.warning)
        if speed_mps is not None:
            # the speed given is real time, the step times are not: their product is no length
            mixed = [m for m in metrics.SPEED_TIMES_STEP if m in steps]
            steps = steps.assign(**{m: np.nan for m in mixed})
            empty = metrics.summarise(steps.iloc[:0], fps=effective_fps)
            summary.update({m: empty[m] for m in mixed})
            warnings_.append(
                "step length and vertical ratio are left out: they multiply the speed given with "
                f"--speed-kmh ({3.6 * speed_mps:.1f} km/h, real time) by step times that are not "
                "real time here")
    if gait == "walking":
        warnings_.append(f"{reason}. posecoach judges running technique only; no running verdicts "
                         f"are given: film the runner running ({metrics.FILM_STEPS}).")
    elif gait == "unknown":
        hint = metrics.FILM_ADVICE
        if capture_given:
            hint = (f"check --capture-fps {fps:g} (too high a rate leaves too few frames per "
                    f"contact), or {hint}")
        warnings_.append(f"{reason}; {hint}")
    q["warnings"] = warnings_
    info = dict(video_info or {})
    # after dataset.at_capture_rate, fps is the capture rate and the file plays at playback_fps
    playback_fps = float(poses.attrs.get("playback_fps", fps))
    info.setdefault("fps", playback_fps)
    if capture_given:
        info["capture_fps"] = fps
    info.setdefault("n_frames", int(poses.sizes["time"]))
    info.setdefault("width", int(poses.attrs["image_width_px"]))
    info.setdefault("height", int(poses.attrs["image_height_px"]))
    # the file's duration (like fps): times scaled back from real time to playback time
    t = poses["time"].values * (fps / playback_fps)
    info.setdefault("duration_s", float(t[-1] - t[0] + 1 / playback_fps) if len(t) else 0.0)
    info["effective_fps"] = effective_fps
    runner = {
        "facing": sc.facing, "setting": sc.setting, "camera": sc.camera,
        "height_m": sc.height_m, "height_source": sc.height_source,
        "leg_length_m": sc.leg_length_m, "px_per_m": sc.px_per_m,
        "ground_tilt_deg": sc.ground_tilt_deg,
        "speed_mps": speed_mps if speed_mps is not None else summary.get("speed_mps", {}).get("median"),
        "speed_source": "user" if speed_mps is not None else (
            "measured" if summary.get("speed_mps", {}).get("median") is not None else "unknown"),
    }
    return Analysis(
        video=info, runner=runner, gait={"classification": gait, "reason": reason,
                                          "double_support": support.to_dict()},
        events=detector.events_, steps=steps, summary=summary,
        foot_strike=metrics.foot_strike_summary(used), quality=q, body=body, angles=angles,
        poses=poses,
        source={"file": poses.attrs.get("source_file", ""), "pose_source": poses.attrs["source_software"],
                "model": poses.attrs.get("model", "")},
    )


#: ``steps[i].summary_use`` in analysis.json: which of a step's values the summary uses
SUMMARY_USE = {
    "all": "every value of the step is in the summary",
    "not_times": "its angles and distances are; its times, rates, speed and step length are not "
                 "(a slow-motion section: not real time)",
    "none": "none of its values (both feet were on the ground: the pose model lost a foot)",
}
#: ``steps[i].left_out_reason``: why some of a step's values are not in the summary
LEFT_OUT_REASONS = {
    "both_feet_down": "both feet on the ground (the pose model lost a foot): the whole step",
    "slow_motion": "in a slow-motion section: its times, rates, speed and step length",
    "over_missed_contacts": "it spans contacts the analysis missed: its step time, flight, stride, "
                            "bounce and step length are null",
}


def summary_use_columns(overlap: np.ndarray, slow_motion: np.ndarray,
                        gaps: np.ndarray) -> dict[str, list]:
    """Per step, which of its values the summary uses, and why not all (the steps table).

    Parameters
    ----------
    overlap, slow_motion, gaps : numpy.ndarray of bool
        Per step: ``quality.overlapping_steps`` (left out of the summary),
        a step in a slow-motion playback section (left out of the time-based summary),
        ``quality.steps_over_missed_contacts`` (its span values set to null).

    Returns
    -------
    dict
        ``summary_use`` (a key of :data:`SUMMARY_USE`) and ``left_out_reason``
        (a key of :data:`LEFT_OUT_REASONS` or None), one entry per step.
    """
    use, reason = [], []
    for o, s, g in zip(np.asarray(overlap, bool), np.asarray(slow_motion, bool),
                       np.asarray(gaps, bool), strict=True):
        use.append("none" if o else "not_times" if s else "all")
        reason.append("both_feet_down" if o else "slow_motion" if s
                      else "over_missed_contacts" if g else None)
    return {"summary_use": use, "left_out_reason": reason}


def judge(analysis: Analysis, rules_path: Path | None = None):
    """Stage 7: the Pose Method verdicts (rules as data) attached to the analysis."""
    from posecoach import assessment

    result = assessment.assess(analysis, assessment.load_rules(rules_path))
    analysis.assessment = [r.to_json() for r in result.results]
    analysis.score = result.score
    analysis.rules_version = result.rules_version
    analysis.priorities = [r.id for r in result.priorities]
    analysis.recommended_drills = list(result.recommended_drills)
    warnings_ = analysis.quality.setdefault("warnings", [])
    warnings_ += [w for w in result.warnings if w not in warnings_]
    return result


#: How far up from a pose dataset's folder a recorded relative video path is looked for:
#: ``posecoach pose clips/run.mp4`` run in ``C`` writes ``C/posecoach-output/run/poses.nc``
#: recording ``clips/run.mp4``, which is ``C/clips/run.mp4``: two folders up.
RECORDED_VIDEO_LEVELS_UP = 3


def recorded_video_candidates(recorded: str, poses_path: Path | None = None) -> list[Path]:
    """Where the video a pose dataset records may be, in the order they are tried.

    ``source_file`` is stored as the user typed it (an absolute path would put their user
    name and folders into a file they may share), so a relative one is relative to the
    folder ``posecoach pose`` was run in. That folder is usually the dataset's own folder
    or one of the :data:`RECORDED_VIDEO_LEVELS_UP` above it (``-o OUT`` or the default
    ``posecoach-output/<name>``), so from another folder the path is tried there too,
    after the path as it is (relative to the current folder).
    """
    rec = Path(recorded)
    out = [rec]
    if not rec.is_absolute() and poses_path is not None:
        folder = Path(os.path.abspath(poses_path)).parent
        for base in [folder, *folder.parents][: RECORDED_VIDEO_LEVELS_UP + 1]:
            if base / rec not in out:
                out.append(base / rec)
    return out


def video_of_poses(poses: xr.Dataset, video: Path | None = None,
                   poses_path: Path | None = None) -> tuple[Path | None, str]:
    """The video a saved pose dataset was estimated on, to draw the key frames and the
    overlay on, or None and why it is not used.

    ``video`` (``posecoach analyze POSES.nc --video PATH``) when given, else the file the
    dataset records (``attrs["source_file"]``, written by ``posecoach pose``), looked for
    as :func:`recorded_video_candidates` says (``poses_path``: the dataset's file). A video
    is used only if it holds the pictures the poses describe: the same frame rate and
    (upright) picture size, and every frame index of the poses. A different clip would
    put the skeleton on the wrong pictures, so it is not used (a recorded one) or refused
    (a given one).

    Returns
    -------
    (Path, "") or (None, reason)
        ``reason`` is "" when the dataset records no video (synthetic or imported poses).

    Raises
    ------
    UsageError
        If ``video`` is given and does not match the poses.
    VideoError
        If ``video`` is given and cannot be read.
    """
    recorded = str(poses.attrs.get("source_file") or "")
    if video is not None:
        differs = _differs_from_poses(poses, Path(video))
        if differs:
            raise UsageError(f"--video {video} is not the video these poses were estimated on (it "
                             f"has {differs}); give the clip that 'posecoach pose' was run on")
        return Path(video), ""
    if not recorded:
        return None, ""
    advice = ("the key frames are drawn on a plain background and no overlay.mp4 is written; "
              "give the video with --video PATH")
    found = [c for c in recorded_video_candidates(recorded, poses_path) if c.is_file()]
    if not found:
        return None, f"the video these poses were estimated on, {recorded}, was not found: {advice}"
    problems = []
    for path in found:
        try:
            differs = _differs_from_poses(poses, path)
        except PosecoachError as exc:
            problems.append(f"{path} cannot be read ({exc})")
            continue
        if not differs:
            return path, ""
        problems.append(f"{path} is not the video these poses were estimated on (it has {differs})")
    return None, f"{'; '.join(problems)}: {advice}"


def _pose_dataset_hint(path: Path) -> str:
    """How to analyse the poses beside ``path`` (a file ``posecoach pose`` wrote, or not)."""
    for nc in (path.with_suffix(".nc"), path.with_name("poses.nc")):
        if nc.is_file():
            return f"'posecoach analyze {nc}'"
    return "'posecoach analyze' the poses.nc that 'posecoach pose' wrote with it, or the video"


def _differs_from_poses(poses: xr.Dataset, path: Path) -> str:
    """How the video at ``path`` differs from the pictures the poses describe ("" if not).

    Raises :class:`posecoach.errors.VideoError` if it cannot be read.
    """
    from posecoach.video import probe

    info = probe(path)
    fps = float(poses.attrs["fps"])
    frames = poses["frame"].values
    differs = []
    if abs(info.fps - fps) > 1e-3 * fps:
        differs.append(f"{info.fps:g} frames/s, the poses {fps:g}")
    size = (poses.attrs.get("image_width_px"), poses.attrs.get("image_height_px"))
    if None not in size and (info.width_px, info.height_px) != tuple(int(x) for x in size):
        differs.append(f"{info.width_px}x{info.height_px} pixels, the poses {size[0]}x{size[1]}")
    if len(frames) and int(np.max(frames)) >= info.n_frames:
        differs.append(f"{info.n_frames} frames, the poses reach frame {int(np.max(frames))}")
    return "; ".join(differs)


def _report_title(source: Path, video_path: Path | None) -> str:
    """The report's title: the file analysed, and the clip a saved pose dataset came from."""
    if video_path is None or Path(video_path) == Path(source):
        return Path(source).name
    return f"{Path(video_path).name} (poses from {Path(source).name})"


def run_analyze(
    source: Path,
    out_dir: Path,
    *,
    height_m: float | None = None,
    speed_mps: float | None = None,
    rules_path: Path | None = None,
    model: str | None = None,
    model_path: Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
    workers: int | None = None,
    capture_fps: float | None = None,
    video: Path | None = None,
) -> AnalyzeResult:
    """``posecoach analyze``: a video (or a saved pose dataset) -> ``OUT/analysis.json``.

    ``model`` (None: "full") and ``model_path`` choose the pose model for a video; a saved
    pose dataset was estimated already, so a warning says they are not used.

    ``capture_fps``: the rate a slow-motion clip was filmed at; its times are then put
    back into real time before the analysis (:func:`posecoach.dataset.at_capture_rate`;
    the saved pose files keep the file's own times). ``video``: with a saved pose
    dataset, the video it was estimated on when it has moved (by default the one it
    records is used if it is still there: :func:`video_of_poses`).
    """
    from posecoach.assessment import load_rules
    from posecoach.io import load_poses
    from posecoach.report import OverlayWorkers
    from posecoach.video import probe

    source = Path(source)
    if source.suffix.lower() in POSE_FILE_SUFFIXES - {".nc"}:
        what = ("posecoach's analysis result, not poses" if source.name == "analysis.json"
                else "a pose export for other tools")
        raise UsageError(f"{source} is {what}; posecoach reads poses back from the pose "
                         f"dataset: {_pose_dataset_hint(source)}")
    load_rules(rules_path)  # a broken rule file is reported before the long work starts
    is_poses = source.suffix.lower() == ".nc"
    if video is not None and not is_poses:
        raise UsageError(f"--video is for a saved pose dataset (.nc); {source} is the video itself")
    names, inputs = VIDEO_ANALYZE_FILES, [source]
    video_path, video_info = None, None
    if is_poses:
        poses = load_poses(source)
        check_person_found(poses, source)
        if model is not None or model_path is not None:
            log.warning("warning: --model and --model-path choose the pose model for a video; the "
                        "poses in %s were estimated already (model: %s) and are used as they are. "
                        "To estimate them anew, analyse the video with --model", source,
                        poses.attrs.get("model") or "not recorded")
        video_path, why = video_of_poses(poses, video, poses_path=source)
        if why:
            log.warning("warning: %s", why)
        names = ANALYZE_FILES if video_path is None else POSES_WITH_VIDEO_FILES
        if video_path is not None:
            inputs.append(video_path)
            video_info = {k: v for k, v in probe(video_path).to_dict().items() if k != "path"}
    files: list[Path] = []
    overlay_workers = None
    with output_folder(out_dir, names, overwrite=overwrite, source=inputs) as out_dir:
        try:
            if is_poses and video_path is not None:
                overlay_workers = OverlayWorkers(workers)
            elif not is_poses:
                info = probe(source)
                if capture_fps is not None:  # before the long pose pass
                    dataset.check_capture_rate(capture_fps, info.fps)
                poses = estimate_poses(source, model=model or "full", model_path=model_path,
                                       progress=progress, workers=workers)
                # the overlay's processes start up while this one analyses the poses; --workers
                # limits them too (a user who keeps cores free keeps them free throughout)
                overlay_workers = OverlayWorkers(workers)
                files += save_pose_outputs(poses, out_dir)
                video_path = source
                video_info = {k: v for k, v in info.to_dict().items() if k != "path"}
            if capture_fps is not None:
                poses = dataset.at_capture_rate(poses, capture_fps)
            result = analyze_poses(poses, video_path=video_path, height_m=height_m,
                                   speed_mps=speed_mps, video_info=video_info)
            verdicts = judge(result, rules_path)
            files.append(result.write_json(out_dir / "analysis.json"))
            files += write_report_outputs(result, verdicts, out_dir, video_path=video_path,
                                          title=_report_title(source, video_path), progress=progress,
                                          overlay_workers=overlay_workers)
        finally:
            if overlay_workers is not None:
                overlay_workers.close()
    return AnalyzeResult(analysis=result, files=files, assessment=verdicts)


def write_report_outputs(
    analysis: Analysis, verdicts, out_dir: Path, *, video_path: Path | None, title: str = "",
    progress: bool = True, overlay_workers=None,
) -> list[Path]:
    """Stage 8: ``report.html`` (always) and ``overlay.mp4`` (when the video is known).

    ``overlay_workers`` (:class:`posecoach.report.OverlayWorkers`, optional): processes
    started earlier for the overlay (default: started here).
    """
    from posecoach.report import start_overlay, write_report
    from posecoach.report._common import pixel_poses

    # the overlay and the key frames draw the same cleaned poses: clean them once
    poses = pixel_poses(analysis) if analysis.poses is not None else None
    overlay = None
    if video_path is not None:
        if progress:
            log.info("Writing the report and the annotated video ...")
        # the overlay's processes draw and encode while this one writes report.html
        overlay = start_overlay(analysis, video_path, out_dir / "overlay.mp4", workers=overlay_workers,
                                poses=poses)
    elif progress:
        log.info("Writing the report ...")
    try:
        files = [write_report(analysis, verdicts, out_dir, video_path=video_path, title=title,
                              poses=poses, overlay_name="overlay.mp4" if overlay is not None else None)]
        if overlay is not None:
            files.append(overlay.result())
    finally:
        if overlay is not None:
            overlay.close()
    return files


def run_demo(out_dir: Path, *, overwrite: bool = False, progress: bool = True) -> DemoResult:
    """``posecoach demo``: the built-in synthetic runners, analysed end to end.

    Two runners are made by :mod:`posecoach.synthetic`: an over-striding heel
    striker and a Pose-style runner. Each gets its stick-figure video, its pose
    dataset and its exact ground truth, then the full analysis, verdicts, report
    and annotated video. Pose estimation itself is not run on the stick figure (it
    is not a person); the synthetic keypoints, with realistic noise, dropped frames,
    low-confidence spans and leg swaps, stand in for its output.
    """
    from posecoach import synthetic

    out_dir = prepare_output(out_dir, ["heel_striker", "pose_runner"], overwrite=overwrite)
    result = DemoResult()
    for name, params in (
        ("heel_striker", synthetic.RunnerParams.heel_striker()),
        ("pose_runner", synthetic.RunnerParams.pose_runner()),
    ):
        sub = out_dir / name
        sub.mkdir(exist_ok=True)
        log.info("Demo: synthetic %s ...", name.replace("_", " "))
        clean, truth = synthetic.SyntheticRunner(params).generate(duration_s=8.0, fps=60.0, seed=1)
        poses, faults = synthetic.add_faults(
            clean, jitter_px=1.5, dropped_frames=6, low_confidence_spans=2, leg_swaps=2, seed=1
        )
        video = synthetic.render_video(clean, sub / "video.mp4")
        result.files.append(video)
        result.files.extend(save_pose_outputs(poses, sub))
        truth_path = sub / "ground_truth.json"
        truth_path.write_text(json.dumps(truth.to_dict(), indent=2, default=str))
        result.files.append(truth_path)
        analysis = analyze_poses(poses, video_path=video, height_m=params.height_m,
                                 speed_mps=params.speed_mps)
        verdicts = judge(analysis)
        result.files.append(analysis.write_json(sub / "analysis.json"))
        title = f"synthetic {name.replace('_', ' ')} (posecoach demo)"
        files = write_report_outputs(analysis, verdicts, sub, video_path=video, title=title,
                                     progress=progress)
        result.files += files
        result.main_file = result.main_file or files[0]
    return result


def environment_info() -> dict[str, str]:
    """Versions of posecoach and its key dependencies, and the pose models found."""
    import av
    import numpy
    import scipy

    info = {
        "posecoach": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "xarray": xr.__version__,
        "pyav": av.__version__,
        "ffmpeg (libavformat)": ".".join(map(str, av.library_versions.get("libavformat", ()))),
    }
    try:
        import mediapipe

        info["mediapipe"] = mediapipe.__version__
    except ImportError as exc:  # pragma: no cover - mediapipe is a dependency
        info["mediapipe"] = f"not importable ({exc})"
    try:
        from posecoach.pose import models

        for name, where in models.status().items():
            info[f"model {name}"] = str(where) if where else "not installed (see: posecoach models install)"
    except ImportError:  # pragma: no cover - while the pose package is being built
        pass
    return info
