"""MediaPipe BlazePose (Bazarevsky et al. 2020, arXiv:2006.10204) as posecoach's pose estimator.

Two ways to run the same BlazePose models (MediaPipe 0.10.21), and an automatic
choice between them (``mode``):

``mode="multi"``: **MediaPipe Tasks ``PoseLandmarker``** with
    ``num_poses=max_people`` (default 2), in video (tracking) mode. Its ``.task`` bundle (a
    zip of ``pose_detector.tflite`` + ``pose_landmarks_detector.tflite``) is
    assembled in memory at run time from the models in the MediaPipe wheel (the
    person detector ``pose_detection.tflite`` and ``pose_landmark_full.tflite``)
    or a user-given/installed lite/heavy file. The legacy files carry no TFLite
    metadata, which Tasks needs for input normalisation, so it is added with
    MediaPipe's own metadata writer: detector input scaled to [-1, 1]
    (mean 127.5, std 127.5), landmark model input to [0, 1] (mean 0, std 255),
    exactly as the legacy graph feeds them. Every person found becomes a
    candidate; :class:`~posecoach.pose.tracking.RunnerTracker` keeps the runner.
``mode="single"`` (or ``max_people=1``): the **legacy** ``mediapipe.solutions.pose``
    (one person, about 2x faster). It follows whoever it finds first.
``mode="auto"`` (default): the legacy solution on every frame, while the Tasks
    model in image mode looks for people in one frame every ``check_interval_s``
    (1 s) of the frames already decoded. As long as it finds nobody but the
    person the legacy solution follows (:func:`someone_else`), the fast
    single-person result stands; the first time it finds two people, or one
    elsewhere, or when the single-person track jumps from one person to
    another (:meth:`BlazePoseEstimator.single_route_doubt`), the estimate
    restarts with ``mode="multi"`` (the spotter clip switches at its first
    frame; the walking clip after the single-person pass, whose track jumped at
    frames 72 and 202). Measured on the 50 fps 1080p clip (frames at 960 px,
    one core): legacy ~50 frames/s, Tasks ~19-27 frames/s; a check costs ~25 ms,
    once a second. ``dataset.attrs["person_check"]`` says which route ran and why.
    Every route resets its tracking state at fixed frames (``chunk_s``,
    ``multi_chunk_s``), so that :mod:`posecoach.pose.parallel` gives exactly the
    single-process result.

Why a single-person result is not trusted without these checks (measured on the
shared clips before the periodic resets, full model, frames scaled to at most
960 px, one core): the legacy solution locked onto the
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

Per-frame work is kept lean: frames are decoded and downscaled before their
colour conversion (:mod:`posecoach.video`,
``max_side_px``, default 960: BlazePose's detector sees 224x224 and its landmark
model 256x256 crops, so more pixels buy nothing), the model gets that frame
as is, and coordinates (normalised by the model) are scaled back to the
full-resolution picture. The same decoded frame also feeds
:class:`posecoach.camera.FrameScanner` (camera motion with every person's box
blanked, and the difference to the previous picture, on a 256 px grey copy), so
the analysis needs no second decode. A time segment (``start_s``, ``end_s``) can be
estimated on its own; :meth:`BlazePoseEstimator.estimate_candidates` +
:func:`~posecoach.pose.base.candidates_to_dataset` let separate processes share
the work and select the runner once over the joined segments
(:mod:`posecoach.pose.parallel`).

Models never download: lite/heavy must be given (``model_path``) or installed
(:mod:`posecoach.pose.models`), else :class:`~posecoach.errors.ModelNotFoundError`
says how to get them.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from posecoach._text import count
from posecoach.errors import ModelNotFoundError, PosecoachError
from posecoach.pose import models
from posecoach.pose.base import CandidateFrames, candidates_to_dataset, holes_closed
from posecoach.pose.tracking import (
    RunnerTracker,
    body_height_px,
    dedupe_candidates,
    link_tracks,
    pose_centre_px,
)

if TYPE_CHECKING:
    import xarray as xr

    from posecoach.video import VideoReader

log = logging.getLogger(__name__)

__all__ = [
    "MODES",
    "BlazePoseEstimator",
    "EstimationStopped",
    "SecondPersonSeen",
    "build_task_bundle",
    "checked_note",
    "seen_note",
    "someone_else",
    "switched_note",
]

#: Estimation routes (see the module docstring).
MODES = ("auto", "multi", "single")

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


#: The two models' names inside a Tasks pose-landmarker bundle (person detector, landmarks).
_BUNDLE_NAMES = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
#: Version of the bundle's layout; part of the cache key (bump when build_task_bundle changes).
_BUNDLE_FORMAT = 2


def cache_dir() -> Path:
    """Posecoach's cache folder.

    ``$POSECOACH_CACHE_DIR``, else ``$XDG_CACHE_HOME/posecoach``, else ``~/.cache/posecoach``.
    """
    if os.environ.get("POSECOACH_CACHE_DIR"):
        return Path(os.environ["POSECOACH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "posecoach"


def _valid_bundle(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            return (sorted(bundle.namelist()) == sorted(_BUNDLE_NAMES)
                    and bundle.testzip() is None)
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


@functools.lru_cache(maxsize=4)
def _bundle_cached(detector: str, landmark: str, _stamp: tuple) -> bytes:
    """The Tasks bundle for two model files, built once per machine.

    Adding the metadata (MediaPipe's metadata writer, pure-Python flatbuffers)
    takes ~0.8-1.1 s of CPU, in every process that runs the multi-person model
    or the person check, so the result is kept in :func:`cache_dir` under a name
    made from the SHA-256 of both model files, the MediaPipe version and
    ``_BUNDLE_FORMAT``. A cache that cannot be read or written is skipped (the
    bundle is then built in memory); a damaged file is rebuilt.
    """
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256()
    for path in (detector, landmark):
        digest.update(Path(path).read_bytes())
    digest.update(f"mediapipe {version('mediapipe')} format {_BUNDLE_FORMAT}".encode())
    cached = cache_dir() / f"pose_landmarker-{digest.hexdigest()[:24]}.task"
    try:
        data = cached.read_bytes()
        if _valid_bundle(data):
            return data
    except OSError:
        pass
    data = build_task_bundle(Path(detector), Path(landmark))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, cached)  # atomic: a parallel process sees all of it or nothing
    except OSError:
        pass
    return data


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
        for name, data in zip(_BUNDLE_NAMES, (detector, landmark), strict=True):
            # a fixed time stamp: the same models always give the same bytes
            bundle.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


class _TasksBackend:
    """Multi-person BlazePose via MediaPipe Tasks ``PoseLandmarker`` (video mode)."""

    def __init__(self, landmark_path: Path, num_poses: int, det: float, presence: float,
                 tracking: float, *, video: bool = True) -> None:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        detector = models.detector_model_path()
        stamp = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in (detector, landmark_path))
        bundle = _bundle_cached(str(detector), str(landmark_path), stamp)
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=bundle),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_poses=num_poses,
            min_pose_detection_confidence=det,
            min_pose_presence_confidence=presence,
            min_tracking_confidence=tracking,
        )
        self._create = lambda: vision.PoseLandmarker.create_from_options(options)
        try:
            self._landmarker = self._create()
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
        return self._poses(result)

    def detect(self, image: np.ndarray) -> np.ndarray:
        """All people in one frame, on its own (image mode)."""
        data = np.ascontiguousarray(image)
        return self._poses(
            self._landmarker.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=data))
        )

    @staticmethod
    def _poses(result) -> np.ndarray:
        return np.array(
            [[(lm.x, lm.y, lm.visibility) for lm in pose] for pose in result.pose_landmarks],
            dtype=np.float64,
        ).reshape(-1, _N_KEYPOINTS, 3)

    def reset(self) -> None:
        """Forget everything tracked (a new landmarker: Tasks has no reset; ~0.16 s)."""
        self._landmarker.close()
        self._landmarker = self._create()
        self._last_ms = -1

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
        result = self._pose.process(np.ascontiguousarray(image))
        if result.pose_landmarks is None:
            return np.empty((0, _N_KEYPOINTS, 3))
        return np.array(
            [[(lm.x, lm.y, lm.visibility) for lm in result.pose_landmarks.landmark]],
            dtype=np.float64,
        )

    def reset(self) -> None:
        """Forget the tracked person and the smoothing state (same as a new instance; ~6 ms)."""
        self._pose.reset()

    def close(self) -> None:
        self._pose.close()


class SecondPersonSeen(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside ``mode="auto"`` when the check finds someone else (the estimate restarts).

    Attributes
    ----------
    time_s : float
        Time of the frame where someone else was seen.
    """

    def __init__(self, time_s: float) -> None:
        super().__init__(f"another person in view at {time_s:.2f} s")
        self.time_s = float(time_s)


class EstimationStopped(Exception):  # noqa: N818 - a signal, not an error
    """Raised when ``should_stop`` asks a segment to stop early (another worker saw someone else)."""


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
        A ``pose_landmark_<model>.tflite`` to use instead of the installed one. Where its
        checksum (or else its name) tells which model it is, that one is used and recorded,
        whatever ``model`` says.
    max_people : int
        People the multi-person model may report per frame (default 2). 1 means
        ``mode="single"``.
    mode : {"auto", "multi", "single"}
        ``"multi"``: MediaPipe Tasks plus runner selection on every frame;
        ``"single"``: the legacy single-person solution; ``"auto"`` (default):
        single-person while a multi-person check every ``check_interval_s``
        sees at most one person, else multi (see the module docstring). With a
        ``model_path`` the legacy solution cannot load (not installed), "auto"
        becomes "multi".
    check_interval_s : float
        Time between two frames checked for a second person (``mode="auto"``).
    chunk_s, multi_chunk_s : float
        The model's tracking state is reset at every frame whose index is a
        multiple of ``round(chunk_s * fps)`` (single-person route; a reset costs
        ~6 ms and one person detection) or ``round(multi_chunk_s * fps)``
        (multi-person route; a new landmarker, ~0.16 s), see
        :meth:`estimate_segment`. A video estimated in parallel segments that
        start there gives exactly the result of one pass; shorter chunks let the
        segments be balanced more finely.
    scan_camera : bool
        Also measure camera motion and picture differences on the decoded
        frames (dataset variables ``camera_shift_px``, ``frame_diff_grey``).
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
        mode: str = "auto",
        check_interval_s: float = 1.0,
        chunk_s: float = 1.0,
        multi_chunk_s: float = 5.0,
        scan_camera: bool = True,
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
        if mode not in MODES:
            raise PosecoachError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if not float(check_interval_s) > 0:
            raise PosecoachError(f"check_interval_s must be positive, got {check_interval_s!r}")
        if not (float(chunk_s) > 0 and float(multi_chunk_s) > 0):
            raise PosecoachError(f"chunk_s and multi_chunk_s must be positive, got {chunk_s!r}, "
                                 f"{multi_chunk_s!r}")
        self.model = model
        self.max_people = int(max_people)
        self.mode = "single" if self.max_people == 1 else mode
        self.check_interval_s = float(check_interval_s)
        self.chunk_s = float(chunk_s)
        self.multi_chunk_s = float(multi_chunk_s)
        self.scan_camera = bool(scan_camera)
        self.min_detection_confidence = _check_unit("min_detection_confidence", min_detection_confidence)
        self.min_presence_confidence = _check_unit("min_presence_confidence", min_presence_confidence)
        self.min_tracking_confidence = _check_unit("min_tracking_confidence", min_tracking_confidence)
        self.max_side_px = None if max_side_px is None else int(max_side_px)
        self.tracker = tracker or RunnerTracker()
        # resolve the model now: a missing file is reported before any video work
        self.model_file = models.find_model(model, model_path)
        if model_path is not None:
            # the file says which model it is (its checksum, else its name): that is the one
            # that runs, and the one the pose dataset records
            found = models.identify_model(self.model_file)
            if found is not None and found != model:
                log.info("%s is the %s model: using it as such (not as %s)",
                         Path(model_path).name, found, model)
                self.model = found
        if self.mode == "single":
            self._check_legacy_model(model_path)
        elif self.mode == "auto":
            try:
                self._check_legacy_model(model_path)
            except ModelNotFoundError:
                # a model file the legacy solution cannot load: the multi-person route can
                self.mode = "multi"

    def _check_legacy_model(self, model_path: str | Path | None) -> None:
        """The legacy solution reads models only from MediaPipe's folder; never let it download."""
        installed = models.find_model(self.model)  # raises ModelNotFoundError if missing
        if model_path is not None and models.file_sha256(self.model_file) != models.file_sha256(installed):
            raise ModelNotFoundError(
                f"the single-person backend (mode 'single' or 'auto') can only use the {self.model} "
                f"model installed in {installed.parent}, not {self.model_file}. Install it with "
                f"`posecoach models install {self.model_file}`, or use mode='multi'."
            )
        self.model_file = installed

    @property
    def backend(self) -> str:
        """Name of the MediaPipe API used (for ``mode="auto"``: both, chosen per video)."""
        if self.mode == "auto":
            return f"auto: {self._backend_name('single')} unless a check sees someone else, " \
                f"else {self._backend_name('multi')}"
        return self._backend_name(self.mode)

    def _backend_name(self, route: str) -> str:
        if route == "single":
            return "mediapipe.solutions.pose (legacy, single person)"
        return f"mediapipe.tasks PoseLandmarker (num_poses={max(2, self.max_people)})"

    def _open_backend(self, route: str) -> _TasksBackend | _LegacyBackend:
        if route == "single":
            return _LegacyBackend(self.model, self.min_detection_confidence,
                                  self.min_tracking_confidence)
        return _TasksBackend(self.model_file, max(2, self.max_people), self.min_detection_confidence,
                             self.min_presence_confidence, self.min_tracking_confidence)

    def chunk_frames(self, fps: float, route: str | None = None) -> int:
        """Frames per tracking chunk of a route: its state is reset at frame indices divisible by this."""
        seconds = self.multi_chunk_s if (route or self.mode) == "multi" else self.chunk_s
        return max(1, int(round(seconds * fps)))

    def check_frames(self, fps: float) -> int:
        """Frames between two person checks (frame indices divisible by this are checked)."""
        return max(1, int(round(self.check_interval_s * fps)))

    def _open_check(self) -> _TasksBackend:
        return _TasksBackend(self.model_file, max(2, self.max_people), self.min_detection_confidence,
                             self.min_presence_confidence, self.min_tracking_confidence, video=False)

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
            Candidate poses per frame in full-resolution pixels (and, with
            ``scan_camera``, the per-frame camera step and picture difference).

        Raises
        ------
        VideoError
            If the video cannot be read.
        """
        from tqdm.auto import tqdm

        from posecoach.video import VideoReader

        reader = VideoReader(video_path, max_side_px=self.max_side_px)
        info = reader.info
        with tqdm(
            total=_expected_frames(info.n_frames, info.fps, info.duration_s, start_s, end_s),
            desc=f"pose {Path(video_path).name}",
            unit="frame",
            file=sys.stderr,
            disable=not progress,
            dynamic_ncols=True,
        ) as bar:
            try:
                frames = self.estimate_segment(video_path, start_s=start_s, end_s=end_s,
                                               route=self.mode, on_frame=bar.update, reader=reader)
                if self.mode != "auto":
                    return frames
                why = self.single_route_doubt(frames)
            except SecondPersonSeen as seen:
                why = seen_note(seen.time_s)
            if why is None:
                return frames
            bar.reset()
            frames = self.estimate_segment(video_path, start_s=start_s, end_s=end_s,
                                           route="multi", on_frame=bar.update, reader=reader)
            frames.attrs["person_check"] = switched_note(why)
            return frames

    def single_route_doubt(self, frames: CandidateFrames) -> str | None:
        """Why a single-person result cannot be trusted (None when it can).

        The single-person model follows whoever it finds, and after every chunk
        reset it finds again whoever is most visible. Linked over time
        (:func:`~posecoach.pose.tracking.link_tracks`, the runner tracker's
        parameters), its poses form one track per person it followed. A track of
        at least ``min_track_frames`` frames that begins within ``max_gap_s`` of
        the end of another means the model jumped from one person to another
        (on the walking clip: from the person on the box to the walker, then to
        the person who jumped down, while the sparse checks never saw two people
        in one frame); then the multi-person route must decide. A runner who
        leaves the picture and comes back later (several passes in front of a
        fixed camera) gives tracks separated by a longer gap and is trusted.
        """
        t = self.tracker
        time_s = holes_closed(frames.time_s, frames.frame)  # as candidates_to_dataset tracks
        tracks = link_tracks(
            [dedupe_candidates(np.asarray(c).reshape(-1, _N_KEYPOINTS, 3), t.duplicate_distance)
             for c in frames.candidates],
            time_s, max_gap_s=t.max_gap_s, gate_body_heights=t.gate_body_heights,
        )
        spans = sorted(
            (float(time_s[k.frames[0]]), float(time_s[k.frames[-1]]),
             int(frames.frame[k.frames[0]]))
            for k in tracks if len(k) >= t.min_track_frames
        )
        jumps = [b[2] for a, b in zip(spans[:-1], spans[1:], strict=True)
                 if b[0] - a[1] <= t.max_gap_s + 1e-9]
        if not jumps:
            return None
        return ("the single-person model jumped to another person at frame"
                f"{'s' if len(jumps) > 1 else ''} {', '.join(map(str, jumps))}")

    def estimate_segment(
        self,
        video_path: str | Path,
        *,
        start_s: float | None = None,
        end_s: float | None = None,
        first_frame: int | None = None,
        route: str | None = None,
        on_frame: Callable[[int], object] | None = None,
        should_stop: Callable[[], bool] | None = None,
        reader: VideoReader | None = None,
        one_thread: bool = False,
    ) -> CandidateFrames:
        """One pass over (a segment of) a video with one route, no progress bar.

        The building block of :meth:`estimate_candidates` and of the worker
        processes of :mod:`posecoach.pose.parallel`. Everything that could make a
        segment's result depend on where the pass started is tied to frame
        indices instead: the model's tracking state is reset at every
        :meth:`chunk_frames`-th frame, the person check runs on every
        :meth:`check_frames`-th frame and on every chunk's first frame, and the
        camera scan forgets the previous frame's people boxes at chunk starts.
        A pass that starts at a chunk start (with the frame before it decoded for
        the scan, ``first_frame``) therefore gives exactly the frames a pass over
        the whole video gives.

        Parameters
        ----------
        video_path : str or Path
        start_s, end_s : float, optional
            Decode only frames with ``start_s <= time_s < end_s``.
        first_frame : int, optional
            Frames with a smaller index are decoded only to prime the camera scan
            (no pose, not returned).
        route : {"auto", "multi", "single"}, optional
            Defaults to :attr:`mode`.
        on_frame : callable, optional
            Called with 1 after every estimated frame (progress).
        should_stop : callable, optional
            Polled after every frame; when it returns True the pass stops with
            :class:`EstimationStopped`.
        reader : VideoReader, optional
            An open reader of ``video_path`` (saves probing the file again).
        one_thread : bool
            Decode with one thread and let OpenCV and BLAS (``threadpoolctl``) use one
            thread during the pass (restored afterwards): when one process runs on every core, helper
            threads only add overhead (~1 ms of CPU per 1080p frame). The result is
            the same to the last bit.

        Raises
        ------
        SecondPersonSeen
            With ``route="auto"``, when a check finds someone else (:func:`someone_else`).
        EstimationStopped
            When ``should_stop()`` became true.
        VideoError
            If the video cannot be read.
        """
        from posecoach.camera import FrameScanner, pose_boxes_px
        from posecoach.video import DAMAGE_NOTE_START, VideoReader

        route = route or self.mode
        if route not in MODES:
            raise PosecoachError(f"route must be one of {', '.join(MODES)}, got {route!r}")
        import cv2

        if (reader is None or reader.max_side_px != self.max_side_px
                or (one_thread and reader.decoder_threads != 1)):
            reader = VideoReader(video_path, max_side_px=self.max_side_px,
                                 decoder_threads=1 if one_thread else 0)
        info = reader.info
        width, height = info.width_px, info.height_px
        scale_xy = np.array([width, height, 1.0])
        chunk = self.chunk_frames(info.fps, route)
        every = self.check_frames(info.fps)
        times: list[float] = []
        indices: list[int] = []
        cands: list[np.ndarray] = []
        steps: list[np.ndarray] = []
        diffs: list[float] = []
        scanner = FrameScanner() if self.scan_camera else None
        backend = self._open_backend("single" if route == "auto" else route)
        check = self._open_check() if route == "auto" else None
        n_checked = 0
        fresh = True  # the backend has seen no frame yet
        cv_threads = cv2.getNumThreads()
        blas = None
        if one_thread:
            from threadpoolctl import threadpool_limits

            cv2.setNumThreads(1)
            blas = threadpool_limits(limits=1, user_api="blas")  # no spinning helper threads
        try:
            for frame in reader.frames(start_s=start_s, end_s=end_s):
                chunk_start = frame.index % chunk == 0
                if first_frame is not None and frame.index < first_frame:
                    if scanner is not None:  # the frame before the segment, for its first step
                        scanner.update(frame.image, frame.scale, None)
                    continue
                if chunk_start and not fresh:
                    backend.reset()
                fresh = False
                # landmarks come normalised to the (downscaled) frame: scale to full size
                poses = backend.process(frame.image, frame.time_s) * scale_xy
                if check is not None and (chunk_start or frame.index % every == 0):
                    n_checked += 1
                    people = dedupe_candidates(check.detect(frame.image) * scale_xy)
                    if someone_else(people, poses):
                        raise SecondPersonSeen(frame.time_s)
                if scanner is not None:
                    step, diff = scanner.update(frame.image, frame.scale, pose_boxes_px(poses),
                                                forget_boxes=chunk_start)
                    steps.append(step)
                    diffs.append(diff)
                times.append(frame.time_s)
                indices.append(frame.index)
                cands.append(poses)
                if on_frame is not None:
                    on_frame(1)
                if should_stop is not None and should_stop():
                    raise EstimationStopped()
        finally:
            backend.close()
            if check is not None:
                check.close()
            if one_thread:
                cv2.setNumThreads(cv_threads)
                blas.restore_original_limits()
        used = "single" if route == "auto" else route
        attrs = {
            "pose_backend": self._backend_name(used),
            "pose_mode": self.mode,
            "model_file": str(self.model_file),
            "max_side_px": int(self.max_side_px or 0),
            "pose_chunk_frames": chunk,
            "person_checks": n_checked,
            "person_check": checked_note(n_checked, self.check_interval_s) if route == "auto"
            else f"{route}: no check",
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
            # damaged frames are named once for the whole clip, by candidates_to_dataset
            warnings=[w for w in dict.fromkeys(reader.warnings) if not w.startswith(DAMAGE_NOTE_START)],
            left_out={i: t for i, t in reader.left_out.items()
                      if first_frame is None or i >= first_frame},
            attrs=attrs,
            camera_step_px=np.asarray(steps, dtype=np.float64).reshape(-1, 2) if scanner else None,
            frame_diff_grey=np.asarray(diffs, dtype=np.float64) if scanner else None,
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
            The pose dataset: one entry per frame, NaN where the runner
            was not found; attrs ``source_software="mediapipe-blazepose"``,
            ``model="blazepose-<size>"``, ``source_file``, ``warnings`` (list of
            str, e.g. when a second person was ignored), ``detected_fraction``.
        """
        frames = self.estimate_candidates(
            video_path, progress=progress, start_s=start_s, end_s=end_s
        )
        return candidates_to_dataset(frames, self.tracker)


def someone_else(people: np.ndarray, followed: np.ndarray, gate_body_heights: float = 0.5) -> bool:
    """Whether a multi-person check shows anyone besides the person the single-person model follows.

    True when the check finds two or more people, or finds one whose torso centre
    is more than ``gate_body_heights`` body heights from the followed pose's (the
    single-person model then follows someone else: on the walking clip the legacy
    solution followed the person on the box while an image-mode check only ever
    found the walker).

    Parameters
    ----------
    people : ndarray, shape (k, 33, 3)
        De-duplicated candidates of the check, pixels.
    followed : ndarray, shape (0 or 1, 33, 3)
        The single-person model's pose in the same frame, pixels.
    gate_body_heights : float
        Largest torso-centre distance (body heights) still counted as the same person.
    """
    if len(people) >= 2:
        return True
    if len(people) == 0 or len(followed) == 0:
        return False
    a, b = people[0], followed[0]
    size = max(body_height_px(a), body_height_px(b))
    return bool(np.hypot(*(pose_centre_px(a) - pose_centre_px(b))) > gate_body_heights * size)


def checked_note(n_checked: int, interval_s: float) -> str:
    """``attrs["person_check"]`` when ``mode="auto"`` kept the single-person route."""
    return (f"auto: {count(n_checked, 'frame')} checked with the multi-person model (one every "
            f"{interval_s:g} s) showed nobody but the person followed, so the single-person "
            "model was used")


def seen_note(time_s: float) -> str:
    """Reason for leaving the single-person route when a check saw someone else."""
    return f"the multi-person check saw another person at {time_s:.2f} s"


def switched_note(reason: str) -> str:
    """``attrs["person_check"]`` when ``mode="auto"`` switched to the multi-person route."""
    return (f"auto: {reason}, so every frame was estimated with the multi-person model and the "
            "runner selected among them")


def _expected_frames(
    n_frames: int, fps: float, duration_s: float, start_s: float | None, end_s: float | None
) -> int | None:
    """Frames a (segment of a) video should yield, for the progress bar's ETA."""
    if start_s is None and end_s is None:
        return n_frames or None
    start = max(0.0, start_s or 0.0)
    end = min(duration_s, end_s) if end_s is not None else duration_s
    return max(0, int(round((end - start) * fps))) if fps > 0 else None
