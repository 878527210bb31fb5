"""The central pose dataset: one :class:`xarray.Dataset` with named dimensions.

Every stage of posecoach reads and writes this structure (modelled on the
``movement`` package's poses dataset). It is built and validated once where data
enters (pose estimation, a file loader, the synthetic runner); later stages are
pure functions that take a dataset and return a new one.

Layout
------
Dimensions
    ``time`` (one entry per decoded video frame), ``keypoint`` (the 33 BlazePose
    landmark names, in BlazePose order) and ``space`` (``"x"``, ``"y"``).
Coordinates
    ``time`` : presentation time of each frame in seconds (``time_s``; may be
    irregular for variable-frame-rate phone video).
    ``frame`` (on ``time``) : 0-based index of the decoded frame.
    ``keypoint``, ``space`` : names.
Data variables
    ``position`` (time, keypoint, space) : image coordinates in **pixels**, x to
    the right and y **down** (image convention), in the upright (rotation
    corrected) frame. NaN where the keypoint is unknown.
    ``confidence`` (time, keypoint) : 0..1 (BlazePose *visibility*). NaN where no
    person was detected.

Attributes
----------
    ``fps`` (nominal frames per second), ``image_width_px``, ``image_height_px``,
    ``source_software`` (e.g. ``"mediapipe-blazepose"`` or ``"posecoach-synthetic"``),
    ``source_file``, ``model`` (e.g. ``"blazepose-full"``), ``posecoach_version``,
    ``ds_type`` (``"poses"``), plus any notes stages add (e.g. ``warnings``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from posecoach.errors import PoseDataError, UsageError

#: The 33 BlazePose landmarks, in the model's output order.
BLAZEPOSE_KEYPOINTS: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

#: Skeleton edges (pairs of keypoint names) used for drawing.
SKELETON_EDGES: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"),
    ("left_hip", "right_hip"),
    *(
        (f"{s}_{a}", f"{s}_{b}")
        for s in ("left", "right")
        for a, b in (
            ("shoulder", "elbow"),
            ("elbow", "wrist"),
            ("shoulder", "hip"),
            ("hip", "knee"),
            ("knee", "ankle"),
            ("ankle", "heel"),
            ("heel", "foot_index"),
            ("ankle", "foot_index"),
        )
    ),
    ("nose", "left_ear"),
    ("nose", "right_ear"),
)

SPACE: tuple[str, str] = ("x", "y")
REQUIRED_ATTRS: tuple[str, ...] = ("fps", "image_width_px", "image_height_px", "source_software")


def _version() -> str:
    from posecoach import __version__

    return __version__


def from_arrays(
    position: np.ndarray,
    confidence: np.ndarray,
    time_s: Sequence[float] | np.ndarray,
    *,
    fps: float,
    image_width_px: int,
    image_height_px: int,
    source_software: str,
    keypoints: Sequence[str] = BLAZEPOSE_KEYPOINTS,
    frame: Sequence[int] | np.ndarray | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Build a validated pose dataset from plain arrays.

    Parameters
    ----------
    position : ndarray, shape (n_time, n_keypoints, 2)
        Pixel coordinates (x right, y down); NaN where unknown.
    confidence : ndarray, shape (n_time, n_keypoints)
        Per-keypoint confidence in 0..1; NaN where no person was detected.
    time_s : sequence of float, length n_time
        Presentation time of each frame in seconds, strictly increasing.
    fps : float
        Nominal frame rate (frames per second).
    image_width_px, image_height_px : int
        Size of the upright image the coordinates refer to.
    source_software : str
        What produced the data (e.g. ``"mediapipe-blazepose"``).
    keypoints : sequence of str
        Keypoint names; defaults to the 33 BlazePose landmarks.
    frame : sequence of int, optional
        0-based decoded frame index of each time; defaults to ``0..n_time-1``.
    attrs : mapping, optional
        Extra attributes (``source_file``, ``model``, ...).

    Returns
    -------
    xarray.Dataset
        The pose dataset (see module docstring).

    Raises
    ------
    PoseDataError
        If shapes, values or attributes are inconsistent.
    """
    position = np.asarray(position, dtype=np.float64)
    confidence = np.asarray(confidence, dtype=np.float64)
    time_s = np.asarray(time_s, dtype=np.float64)
    n = len(time_s)
    frame_idx = np.arange(n, dtype=np.int64) if frame is None else np.asarray(frame, dtype=np.int64)
    if position.shape != (n, len(keypoints), 2):
        raise PoseDataError(
            f"position has shape {position.shape}, expected ({n}, {len(keypoints)}, 2) "
            "(time, keypoint, space)"
        )
    if confidence.shape != (n, len(keypoints)):
        raise PoseDataError(
            f"confidence has shape {confidence.shape}, expected ({n}, {len(keypoints)})"
        )
    all_attrs: dict[str, Any] = {
        "ds_type": "poses",
        "fps": float(fps),
        "image_width_px": int(image_width_px),
        "image_height_px": int(image_height_px),
        "source_software": str(source_software),
        "source_file": "",
        "model": "",
        "posecoach_version": _version(),
        "position_units": "pixels (x right, y down)",
        "time_units": "seconds",
    }
    if attrs:
        all_attrs.update(attrs)
    ds = xr.Dataset(
        data_vars={
            "position": (("time", "keypoint", "space"), position),
            "confidence": (("time", "keypoint"), confidence),
        },
        coords={
            "time": ("time", time_s, {"units": "s"}),
            "frame": ("time", frame_idx),
            "keypoint": ("keypoint", list(keypoints)),
            "space": ("space", list(SPACE)),
        },
        attrs=all_attrs,
    )
    validate(ds)
    return ds


def validate(ds: xr.Dataset) -> xr.Dataset:
    """Check that ``ds`` is a well-formed pose dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        Candidate pose dataset.

    Returns
    -------
    xarray.Dataset
        The same dataset, for chaining.

    Raises
    ------
    PoseDataError
        With a message that says what is wrong.
    """
    if not isinstance(ds, xr.Dataset):
        raise PoseDataError(f"expected an xarray.Dataset, got {type(ds).__name__}")
    for var, dims in (("position", ("time", "keypoint", "space")), ("confidence", ("time", "keypoint"))):
        if var not in ds:
            raise PoseDataError(f"pose dataset has no '{var}' variable")
        if ds[var].dims != dims:
            raise PoseDataError(f"'{var}' has dims {ds[var].dims}, expected {dims}")
    if list(ds["space"].values) != list(SPACE):
        raise PoseDataError(f"space coordinate must be {SPACE}, got {list(ds['space'].values)}")
    if "frame" not in ds.coords:
        raise PoseDataError("pose dataset has no 'frame' coordinate")
    missing = [a for a in REQUIRED_ATTRS if a not in ds.attrs]
    if missing:
        raise PoseDataError(f"pose dataset lacks attributes {missing}")
    fps = ds.attrs["fps"]
    if not (_is_number(fps) and np.isfinite(fps) and fps > 0):
        raise PoseDataError(f"fps must be a positive number, got {fps!r}")
    for name in ("image_width_px", "image_height_px"):
        if not (_is_number(ds.attrs[name]) and ds.attrs[name] > 0):
            raise PoseDataError(f"{name} must be a positive number, got {ds.attrs[name]!r}")
    notes = ds.attrs.get("warnings", [])
    if not (isinstance(notes, (list, tuple)) and all(isinstance(w, str) for w in notes)):
        raise PoseDataError(f"the 'warnings' attribute must be a list of texts, got {notes!r}")
    t = ds["time"].values
    if t.size and not np.all(np.isfinite(t)):
        raise PoseDataError("time contains non-finite values")
    if t.size > 1 and not np.all(np.diff(t) > 0):
        raise PoseDataError("time must be strictly increasing")
    if t.size > 1:
        # every later stage times events with these: a clip with dropped frames still has a
        # median step of one frame, but times in ms or an fps from another clip do not
        step = float(np.median(np.diff(t)))
        if not 0.5 <= step * fps <= 2.0:
            raise PoseDataError(
                f"the times (a median step of {step:g} s between frames) do not fit fps = {fps:g} "
                f"(one frame = {1 / fps:g} s): 'time' must be in seconds and fps the frames per "
                "second of the same clip")
    frames = ds["frame"].values
    if frames.size and not (np.issubdtype(frames.dtype, np.integer) and frames.min() >= 0
                            and np.all(np.diff(frames) > 0)):
        raise PoseDataError("'frame' must hold the decoded frames' indices: whole numbers from "
                            "0, increasing along time (each frame once)")
    conf = ds["confidence"].values
    finite = conf[np.isfinite(conf)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise PoseDataError("confidence must lie in 0..1")
    pos = ds["position"].values
    if np.isinf(pos).any():
        raise PoseDataError("position contains infinite values (use NaN for unknown)")
    if np.isfinite(pos).any() and np.nanmax(np.abs(pos)) <= 2.0 and min(
            ds.attrs["image_width_px"], ds.attrs["image_height_px"]) > 20:
        raise PoseDataError(
            "the positions all lie within 0..2, which looks like coordinates normalised to the "
            "picture's size: 'position' must be in pixels (multiply x by image_width_px and y "
            "by image_height_px)")
    return ds


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def check_capture_rate(capture_fps: float, playback_fps: float) -> None:
    """Raise :class:`~posecoach.errors.UsageError` unless ``capture_fps`` can be the rate a
    clip playing at ``playback_fps`` was filmed at (slow motion: at least that rate).
    """
    if not (np.isfinite(capture_fps) and capture_fps >= playback_fps * (1 - 1e-6)):
        raise UsageError(
            f"--capture-fps {capture_fps:g} is below the clip's own {playback_fps:g} frames/s: it "
            "is the rate a slow-motion clip was filmed at (e.g. 240 for a phone's slow motion "
            "played at 30), at least the rate it plays at"
        )


def at_capture_rate(ds: xr.Dataset, capture_fps: float) -> xr.Dataset:
    """The dataset in real time, for a slow-motion clip filmed at ``capture_fps``.

    A phone's slow-motion export (filmed at 120 or 240 frames/s, played at 30) stores
    playback times: every time is ``capture_fps / fps`` times too long. This returns a
    new dataset whose times are divided by that factor and whose ``fps`` is the capture
    rate; frame indices, positions and confidences are unchanged. The file's own rate is
    kept in ``attrs["playback_fps"]`` and a note is added to ``attrs["warnings"]``.

    Parameters
    ----------
    ds : xarray.Dataset
        A pose dataset in the file's (playback) time.
    capture_fps : float
        The rate the clip was filmed at; at least the file's ``fps`` (this undoes slow
        motion, not time-lapse).

    Raises
    ------
    UsageError
        If ``capture_fps`` is below the dataset's ``fps`` (:func:`check_capture_rate`).
    """
    playback = float(ds.attrs["fps"])
    check_capture_rate(capture_fps, playback)
    factor = capture_fps / playback
    out = ds.assign_coords(time=ds["time"].copy(data=ds["time"].values / factor))
    note = (f"times are real time: the clip plays at {playback:g} frames/s and was filmed at "
            f"{capture_fps:g} (--capture-fps), so every time was divided by {factor:.3g}")
    out.attrs = {**ds.attrs, "fps": float(capture_fps), "playback_fps": playback,
                 "warnings": [*list(ds.attrs.get("warnings", [])), note]}
    return out


def keypoint_xy(ds: xr.Dataset, name: str) -> np.ndarray:
    """Return the (n_time, 2) pixel track of one keypoint."""
    return ds["position"].sel(keypoint=name).values


def detected_frames(ds: xr.Dataset) -> np.ndarray:
    """Which frames hold a person (any finite keypoint): bool, shape (time,)."""
    return np.isfinite(ds["position"].values).any(axis=(1, 2))


def detected_fraction(ds: xr.Dataset) -> float:
    """Fraction of frames in which a person was detected (any finite keypoint)."""
    if ds.sizes["time"] == 0:
        return 0.0
    return float(detected_frames(ds).mean())
