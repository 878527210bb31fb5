"""posecoach's stages in order, one short function per job.

``run_pose``: video -> pose dataset (saved). ``run_demo``: the built-in synthetic
runners -> the same outputs a real clip gives. The CLI only calls these.
"""

from __future__ import annotations

import json
import logging
import platform
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from posecoach import __version__, dataset
from posecoach.errors import NoPersonError, PosecoachError

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
class DemoResult:
    """What :func:`run_demo` produced."""

    files: list[Path] = field(default_factory=list)
    main_file: Path | None = None


def prepare_output(out_dir: Path, names: list[str], *, overwrite: bool) -> Path:
    """Create ``out_dir`` and make sure no earlier result there is overwritten by accident.

    Raises
    ------
    PosecoachError
        If one of ``names`` already exists in ``out_dir`` and ``overwrite`` is false.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise PosecoachError(f"output {out_dir} is a file; give a folder name with -o")
    clash = [n for n in names if (out_dir / n).exists()]
    if clash and not overwrite:
        raise PosecoachError(
            f"{out_dir} already holds results ({', '.join(clash)}). Choose another folder with -o, "
            "or pass --overwrite to replace them."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def estimate_poses(
    video_path: Path,
    *,
    model: str = "full",
    model_path: Path | None = None,
    progress: bool = True,
) -> xr.Dataset:
    """Stage 1: find the runner's 33 BlazePose keypoints in every frame of a video."""
    from posecoach.pose import BlazePoseEstimator

    estimator = BlazePoseEstimator(model=model, model_path=model_path)
    poses = estimator.estimate(video_path, progress=progress)
    found = dataset.detected_fraction(poses)
    if found == 0:
        raise NoPersonError(
            f"no person was found in {video_path}. Film the runner from the side with the whole body "
            "in view and good light."
        )
    if found < MIN_DETECTED_FRACTION:
        raise NoPersonError(
            f"a person was found in only {found:.0%} of the frames of {video_path}; too little to "
            "measure. Keep the whole body in view for the whole clip."
        )
    return poses


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
) -> PoseResult:
    """``posecoach pose``: estimate poses in a video and save them in ``out_dir``."""
    from posecoach.video import probe

    probe(video_path)  # fail early, with a clear message, on a bad file
    out_dir = prepare_output(out_dir, ["poses.nc", "poses.csv"], overwrite=overwrite)
    poses = estimate_poses(video_path, model=model, model_path=model_path, progress=progress)
    files = save_pose_outputs(poses, out_dir)
    return PoseResult(poses=poses, files=files, warnings=list(poses.attrs.get("warnings", [])))


def run_demo(out_dir: Path, *, overwrite: bool = False, progress: bool = True) -> DemoResult:
    """``posecoach demo``: the built-in synthetic runners, analysed end to end.

    Two runners are made by :mod:`posecoach.synthetic`: an over-striding heel
    striker and a Pose-style runner. Each gets its stick-figure video, its pose
    dataset and its exact ground truth. Pose estimation itself is not run on the
    stick figure (it is not a person); the synthetic keypoints, with realistic
    noise and faults, stand in for its output.
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
        result.main_file = result.main_file or video
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
