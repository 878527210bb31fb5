"""MediaPipe BlazePose (Bazarevsky et al. 2020, arXiv:2006.10204) as posecoach's pose estimator.

Two ways to run the same BlazePose models (MediaPipe 0.10.21), chosen by
``max_people``:

``max_people >= 2`` (default, 2): **MediaPipe Tasks ``PoseLandmarker``** with
    ``num_poses=max_people``, in video (tracking) mode. Its ``.task`` bundle (a
    zip of ``pose_detector.tflite`` + ``pose_landmarks_detector.tflite``) is
    assembled in memory at run time from the models in the MediaPipe wheel (the
    person detector ``pose_detection.tflite`` and ``pose_landmark_full.tflite``)
    or a user-given/installed lite/heavy file. The legacy files carry no TFLite
    metadata, which Tasks needs for input normalisation, so it is added with
    MediaPipe's own metadata writer: detector input scaled to [-1, 1]
    (mean 127.5, std 127.5), landmark model input to [0, 1] (mean 0, std 255),
    exactly as the legacy graph feeds them. Every person found becomes a
    candidate; :class:`~posecoach.pose.tracking.RunnerTracker` keeps the runner.
``max_people == 1``: the **legacy** ``mediapipe.solutions.pose`` (one person,
    about 1.6x faster). It follows whoever it finds first.

Why the Tasks route is the default (measured on the shared clips, full model,
frames scaled to at most 960 px, one core): the legacy solution locked onto the
wrong person in both two-person clips. On
``treadmill_sprint_side_spotter_30fps`` it followed the static spotter in the
right foreground in all 402 frames (hip x ~975 px; the runner is at x ~600-750),
and on the walking clip it followed the person on the box until frame ~170,
then the walker, then the box person again after he jumped down. Tasks with
``num_poses=2`` returned both people in 100 % (spotter clip) and 57 % (walking
clip) of the frames, and the tracker then kept the runner / walker. On
single-person clips both routes give the same landmarks (median difference
2-7 px at 720-1080 px frames) and the same detection rate. Speed: legacy
~36 frames/s, Tasks ~22 frames/s (it runs the person detector on every frame
while fewer than ``num_poses`` people are tracked). Feeding the legacy solution
a crop around the runner (the other option considered) needs the candidates
that only a multi-person detector gives, and restarting its tracker on a moving
crop breaks its temporal smoothing, so it was not pursued.

Per-frame work is kept lean for a later speed-up: frames are decoded,
colour-converted and downscaled in one FFmpeg call (:mod:`posecoach.video`,
``max_side_px``, default 960: BlazePose's detector sees 224x224 and its landmark
model 256x256 crops, so more pixels buy nothing), the model gets that frame
as is, and coordinates (normalised by the model) are scaled back to the
full-resolution picture. A time segment (``start_s``, ``end_s``) can be
estimated on its own; :meth:`BlazePoseEstimator.estimate_candidates` +
:func:`~posecoach.pose.base.candidates_to_dataset` let separate processes share
the work and select the runner once over the joined segments.

Models never download: lite/heavy must be given (``model_path``) or installed
(:mod:`posecoach.pose.models`), else :class:`~posecoach.errors.ModelNotFoundError`
says how to get them.
"""

from __future__ import annotations

import functools
import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import xarray as xr

from posecoach.errors import ModelNotFoundError, PosecoachError
from posecoach.pose import models
from posecoach.pose.base import CandidateFrames, candidates_to_dataset
from posecoach.pose.tracking import RunnerTracker

__all__ = ["BlazePoseEstimator", "build_task_bundle"]

_N_KEYPOINTS = 33
_COMPLEXITY = {"lite": 0, "full": 1, "heavy": 2}
# input normalisation of the two BlazePose networks (as in MediaPipe's pose graphs)
_DETECTOR_NORM = (127.5, 127.5)  # pixels -> [-1, 1]
_LANDMARK_NORM = (0.0, 255.0)  # pixels -> [0, 1]
_N_OUTPUTS = {"detector": 2, "landmark": 5}


def _with_image_metadata(model: bytes, mean: float, std: float, n_outputs: int) -> bytes:
    """Add TFLite metadata (image input normalisation) to a bare model."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info("BlazePose", "posecoach: metadata added for MediaPipe Tasks")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    for k in range(n_outputs):
        writer.add_feature_output(name=f"output_{k}")
    buffer, _ = writer.populate()
    return bytes(buffer)


@functools.lru_cache(maxsize=4)
def _bundle_cached(detector: str, landmark: str, _stamp: tuple) -> bytes:
    return build_task_bundle(Path(detector), Path(landmark))


def build_task_bundle(detector_path: Path, landmark_path: Path) -> bytes:
    """Assemble a MediaPipe Tasks pose-landmarker ``.task`` bundle in memory.

    Parameters
    ----------
    detector_path : Path
        BlazePose person detector (``pose_detection.tflite`` from the wheel).
    landmark_path : Path
        BlazePose landmark model (``pose_landmark_{lite,full,heavy}.tflite``).

    Returns
    -------
    bytes
        A zip holding ``pose_detector.tflite`` and ``pose_landmarks_detector.tflite``,
        each with image-input metadata, for ``BaseOptions(model_asset_buffer=...)``.

    Raises
    ------
    ModelNotFoundError
        If a file cannot be read as a TFLite model.
    """
    try:
        detector = _with_image_metadata(
            detector_path.read_bytes(), *_DETECTOR_NORM, _N_OUTPUTS["detector"]
        )
        landmark = _with_image_metadata(
            landmark_path.read_bytes(), *_LANDMARK_NORM, _N_OUTPUTS["landmark"]
        )
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelNotFoundError(
            f"cannot prepare the BlazePose models ({detector_path.name}, {landmark_path.name}): "
            f"{exc}. Reinstall the model (posecoach models install PATH) or MediaPipe."
        ) from exc
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as bundle:
        bundle.writestr("pose_detector.tflite", detector)
        bundle.writestr("pose_landmarks_detector.tflite", landmark)
    return out.getvalue()


class _TasksBackend:
    """Multi-person BlazePose via MediaPipe Tasks ``PoseLandmarker`` (video mode)."""

    def __init__(self, landmark_path: Path, num_poses: int, det: float, presence: float,
                 tracking: float) -> None:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        detector = models.detector_model_path()
        stamp = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in (detector, landmark_path))
        bundle = _bundle_cached(str(detector), str(landmark_path), stamp)
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=bundle),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=det,
            min_pose_presence_confidence=presence,
            min_tracking_confidence=tracking,
        )
        try:
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except RuntimeError as exc:
            raise ModelNotFoundError(
                f"MediaPipe could not load the pose model {landmark_path} ({exc}). Check that it "
                "is a BlazePose pose_landmark_*.tflite (posecoach models status)."
            ) from exc
        self._mp = mp
        self._last_ms = -1

    def process(self, image: np.ndarray, time_s: float) -> np.ndarray:
        ms = max(int(round(time_s * 1000.0)), self._last_ms + 1)  # strictly increasing
        self._last_ms = ms
        # MediaPipe needs a C-contiguous buffer; PyAV pads rows of odd widths (no copy otherwise)
        data = np.ascontiguousarray(image)
        result = self._landmarker.detect_for_video(
            self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=data), ms
        )
        return np.array(
            [[(lm.x, lm.y, lm.visibility) for lm in pose] for pose in result.pose_landmarks],
            dtype=np.float64,
        ).reshape(-1, _N_KEYPOINTS, 3)

    def close(self) -> None:
        self._landmarker.close()


class _LegacyBackend:
    """Single-person BlazePose via the legacy ``mediapipe.solutions.pose``."""

    def __init__(self, model: str, det: float, tracking: float) -> None:
        import mediapipe as mp

        # the caller checked that the model file is in MediaPipe's folder, so the
        # solution's own download step (download_utils) finds it and returns at once
        self._pose = mp.solutions.pose.Pose(
            static_image_mode=False,
            model_complexity=_COMPLEXITY[model],
            smooth_landmarks=True,
            enable_segmentation=False,
            min_detection_confidence=det,
            min_tracking_confidence=tracking,
        )

    def process(self, image: np.ndarray, time_s: float) -> np.ndarray:
        result = self._pose.process(image)
        if result.pose_landmarks is None:
            return np.empty((0, _N_KEYPOINTS, 3))
        return np.array(
            [[(lm.x, lm.y, lm.visibility) for lm in result.pose_landmarks.landmark]],
            dtype=np.float64,
        )

    def close(self) -> None:
        self._pose.close()


def _check_unit(name: str, value: float) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise PosecoachError(f"{name} must be between 0 and 1, got {value!r}")
    return float(value)


class BlazePoseEstimator:
    """Estimate the runner's 33 BlazePose landmarks in every frame of a video.

    Parameters
    ----------
    model : {"full", "lite", "heavy"}
        Landmark model size. ``full`` ships with MediaPipe; ``lite``/``heavy``
        come from ``model_path`` or an installed copy (``posecoach models install``).
    model_path : str or Path, optional
        A ``pose_landmark_<model>.tflite`` to use instead of the installed one.
    max_people : int
        People the model may report per frame. 2 or more: MediaPipe Tasks plus
        runner selection (default 2); 1: the legacy single-person solution.
    min_detection_confidence : float
        Person-detector score needed to start tracking someone (0..1).
    min_presence_confidence : float
        Landmark-model presence score needed to keep a pose (0..1; Tasks only).
    min_tracking_confidence : float
        Score below which tracking is dropped and the detector runs again (0..1).
    max_side_px : int or None
        Downscale frames so their longer side is at most this (None: full size).
    tracker : RunnerTracker, optional
        Runner selection parameters.

    Raises
    ------
    ModelNotFoundError
        At construction, if the model file is not available (nothing is downloaded).
    PosecoachError
        For out-of-range parameters.
    """

    source_software = "mediapipe-blazepose"

    def __init__(
        self,
        model: str = "full",
        model_path: str | Path | None = None,
        *,
        max_people: int = 2,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        max_side_px: int | None = 960,
        tracker: RunnerTracker | None = None,
    ) -> None:
        if int(max_people) < 1:
            raise PosecoachError(f"max_people must be at least 1, got {max_people!r}")
        if max_side_px is not None and int(max_side_px) < 64:
            raise PosecoachError(f"max_side_px must be at least 64 (or None), got {max_side_px!r}")
        self.model = model
        self.max_people = int(max_people)
        self.min_detection_confidence = _check_unit("min_detection_confidence", min_detection_confidence)
        self.min_presence_confidence = _check_unit("min_presence_confidence", min_presence_confidence)
        self.min_tracking_confidence = _check_unit("min_tracking_confidence", min_tracking_confidence)
        self.max_side_px = None if max_side_px is None else int(max_side_px)
        self.tracker = tracker or RunnerTracker()
        # resolve the model now: a missing file is reported before any video work
        self.model_file = models.find_model(model, model_path)
        if self.max_people == 1:
            self._check_legacy_model(model_path)

    def _check_legacy_model(self, model_path: str | Path | None) -> None:
        """The legacy solution reads models only from MediaPipe's folder; never let it download."""
        installed = models.find_model(self.model)  # raises ModelNotFoundError if missing
        if model_path is not None and models.file_sha256(self.model_file) != models.file_sha256(installed):
            raise ModelNotFoundError(
                f"the single-person backend (max_people=1) can only use the {self.model} model "
                f"installed in {installed.parent}, not {self.model_file}. Install it with "
                f"`posecoach models install {self.model_file}`, or use max_people >= 2."
            )
        self.model_file = installed

    @property
    def backend(self) -> str:
        """Name of the MediaPipe API used."""
        if self.max_people == 1:
            return "mediapipe.solutions.pose (legacy, single person)"
        return f"mediapipe.tasks PoseLandmarker (num_poses={self.max_people})"

    def _open_backend(self) -> _TasksBackend | _LegacyBackend:
        if self.max_people == 1:
            return _LegacyBackend(self.model, self.min_detection_confidence,
                                  self.min_tracking_confidence)
        return _TasksBackend(self.model_file, self.max_people, self.min_detection_confidence,
                             self.min_presence_confidence, self.min_tracking_confidence)

    def estimate_candidates(
        self,
        video_path: str | Path,
        *,
        progress: bool = True,
        start_s: float | None = None,
        end_s: float | None = None,
    ) -> CandidateFrames:
        """Run the model on every frame of a video (or segment) and return all people found.

        Parameters
        ----------
        video_path : str or Path
            The video.
        progress : bool
            Show a progress bar (frames done, frames/s, ETA) on stderr.
        start_s, end_s : float, optional
            Only frames with ``start_s <= time_s < end_s`` (seconds from the first frame).

        Returns
        -------
        CandidateFrames
            Candidate poses per frame in full-resolution pixels.

        Raises
        ------
        VideoError
            If the video cannot be read.
        """
        from tqdm.auto import tqdm

        from posecoach.video import VideoReader

        reader = VideoReader(video_path, max_side_px=self.max_side_px)
        info = reader.info
        width, height = info.width_px, info.height_px
        scale_xy = np.array([width, height, 1.0])
        times: list[float] = []
        indices: list[int] = []
        cands: list[np.ndarray] = []
        backend = self._open_backend()
        try:
            with tqdm(
                total=_expected_frames(info.n_frames, info.fps, info.duration_s, start_s, end_s),
                desc=f"pose {Path(video_path).name}",
                unit="frame",
                file=sys.stderr,
                disable=not progress,
                dynamic_ncols=True,
            ) as bar:
                for frame in reader.frames(start_s=start_s, end_s=end_s):
                    # landmarks come normalised to the (downscaled) frame: scale to full size
                    poses = backend.process(frame.image, frame.time_s) * scale_xy
                    times.append(frame.time_s)
                    indices.append(frame.index)
                    cands.append(poses)
                    bar.update(1)
        finally:
            backend.close()
        attrs = {
            "pose_backend": self.backend,
            "model_file": str(self.model_file),
            "max_side_px": int(self.max_side_px or 0),
        }
        if start_s is not None:
            attrs["segment_start_s"] = float(start_s)
        if end_s is not None:
            attrs["segment_end_s"] = float(end_s)
        return CandidateFrames(
            time_s=np.asarray(times, dtype=np.float64),
            frame=np.asarray(indices, dtype=np.int64),
            candidates=cands,
            fps=float(info.fps),
            image_width_px=int(width),
            image_height_px=int(height),
            source_file=str(video_path),
            model=f"blazepose-{self.model}",
            source_software=self.source_software,
            warnings=list(reader.warnings),
            attrs=attrs,
        )

    def estimate(
        self,
        video_path: str | Path,
        *,
        progress: bool = True,
        start_s: float | None = None,
        end_s: float | None = None,
    ) -> xr.Dataset:
        """Estimate the runner's pose in every frame (see :class:`~posecoach.pose.PoseEstimator`).

        Returns
        -------
        xarray.Dataset
            The pose dataset: one entry per decoded frame, NaN where the runner
            was not found; attrs ``source_software="mediapipe-blazepose"``,
            ``model="blazepose-<size>"``, ``source_file``, ``warnings`` (list of
            str, e.g. when a second person was ignored), ``detected_fraction``.
        """
        frames = self.estimate_candidates(
            video_path, progress=progress, start_s=start_s, end_s=end_s
        )
        return candidates_to_dataset(frames, self.tracker)


def _expected_frames(
    n_frames: int, fps: float, duration_s: float, start_s: float | None, end_s: float | None
) -> int | None:
    """Frames a (segment of a) video should yield, for the progress bar's ETA."""
    if start_s is None and end_s is None:
        return n_frames or None
    start = max(0.0, start_s or 0.0)
    end = min(duration_s, end_s) if end_s is not None else duration_s
    return max(0, int(round((end - start) * fps))) if fps > 0 else None
