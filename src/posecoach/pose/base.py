"""The pose-estimator interface and what every estimator hands on.

An estimator turns a video into the pose dataset (:mod:`posecoach.dataset`): one
entry per frame (frames the video could not deliver included), the runner's 33 landmarks in pixels of the upright
full-resolution picture, NaN where nobody was found.

Estimation is split in two steps so that long videos can later be cut into time
segments estimated in separate processes:

1. per segment, the model's *candidate* poses of every frame
   (:class:`CandidateFrames`, from an estimator's ``estimate_candidates``);
2. once for the whole clip, :func:`candidates_to_dataset`: join the segments
   (:meth:`CandidateFrames.concat`, or :func:`posecoach.pose.parallel.stitch`),
   keep one runner (:class:`~posecoach.pose.tracking.RunnerTracker`) and build
   the dataset.

The pose pass also measures, on the frames it decodes anyway, the background's
motion and the difference to the previous picture (:class:`posecoach.camera.FrameScanner`);
they travel per frame in :class:`CandidateFrames` and become the optional dataset
variables ``camera_shift_px`` (time, space) and ``frame_diff_grey`` (time), so
the analysis needs no second pass over the video.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from posecoach.pose.tracking import _N_KEYPOINTS, RunnerTracker

if TYPE_CHECKING:  # xarray is imported only where a dataset is built (not in pose workers)
    import xarray as xr

__all__ = ["CandidateFrames", "PoseEstimator", "candidates_to_dataset", "holes_closed"]


@runtime_checkable
class PoseEstimator(Protocol):
    """Anything that estimates the runner's pose in every frame of a video."""

    def estimate(
        self,
        video_path: str | Path,
        *,
        progress: bool = True,
        start_s: float | None = None,
        end_s: float | None = None,
    ) -> xr.Dataset:
        """Return the pose dataset of ``video_path`` (frames with ``start_s <= time_s < end_s``).

        One entry per frame; NaN where no runner was found (or the frame was damaged); attrs
        ``source_software``, ``model``, ``source_file`` and ``warnings`` (list of str).
        """
        ...


@dataclass
class CandidateFrames:
    """Every person the model found in each frame of (a segment of) a video.

    Attributes
    ----------
    time_s : ndarray, shape (n,)
        Presentation time of each frame (relative to the video's first frame).
    frame : ndarray of int, shape (n,)
        0-based decode index of each frame.
    candidates : list of ndarray, each (k_i, 33, 3)
        ``x_px, y_px, visibility`` of each person found, in the upright
        full-resolution picture; ``k_i = 0`` where nobody was found.
    fps : float
        Nominal frame rate of the video.
    image_width_px, image_height_px : int
        Upright full-resolution picture size.
    source_file : str
    model : str
        E.g. ``"blazepose-full"``.
    source_software : str
        E.g. ``"mediapipe-blazepose"``.
    warnings : list of str
        Problems met while reading the video.
    attrs : dict
        Further attributes for the dataset (backend, model file, ...).
    camera_step_px : ndarray, shape (n, 2), optional
        Background shift since the previous decoded frame (full-size pixels; 0
        for the first frame of a segment and where phase correlation was not
        trusted). Summed over a whole clip it gives ``camera_shift_px``.
    frame_diff_grey : ndarray, shape (n,), optional
        Mean absolute grey difference to the previous decoded frame (0..255,
        NaN for the first frame of a segment).
    left_out : dict
        Frame index -> time (s) of frames the video could not deliver cleanly
        (damaged data, :attr:`~posecoach.video.VideoReader.left_out`); they are
        not among ``frame``.
    """

    time_s: np.ndarray
    frame: np.ndarray
    candidates: list[np.ndarray]
    fps: float
    image_width_px: int
    image_height_px: int
    source_file: str = ""
    model: str = ""
    source_software: str = "mediapipe-blazepose"
    warnings: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    camera_step_px: np.ndarray | None = None
    frame_diff_grey: np.ndarray | None = None
    left_out: dict[int, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time_s)

    def select(self, mask: np.ndarray) -> CandidateFrames:
        """The frames where ``mask`` (bool, shape (n,)) is true, in order."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(self),):
            raise ValueError(f"mask of shape {mask.shape} for {len(self)} frames")
        idx = np.flatnonzero(mask)
        return CandidateFrames(
            time_s=self.time_s[idx],
            frame=self.frame[idx],
            candidates=[self.candidates[i] for i in idx],
            fps=self.fps,
            image_width_px=self.image_width_px,
            image_height_px=self.image_height_px,
            source_file=self.source_file,
            model=self.model,
            source_software=self.source_software,
            warnings=list(self.warnings),
            attrs=dict(self.attrs),
            camera_step_px=None if self.camera_step_px is None
            else np.reshape(self.camera_step_px, (-1, 2))[idx],
            frame_diff_grey=None if self.frame_diff_grey is None else self.frame_diff_grey[idx],
            left_out=dict(self.left_out),
        )

    def with_lost_frames(self) -> CandidateFrames:
        """Every frame from the first to the last, with nobody found in frames the video
        did not deliver (left out as damaged, see :class:`~posecoach.video.VideoReader`).

        Without these rows the later stages, which sample the poses at the frame rate,
        would filter and differentiate across the hole as if it were one frame interval;
        with them it is a gap like any frame without a person (bounded interpolation, or a
        break in the filtered stretches). The rows' times are interpolated from their
        neighbours' by frame index; their camera step is 0 (the next delivered frame's
        step spans the hole) and their picture difference NaN.
        """
        if len(self) < 2 or int(self.frame[-1] - self.frame[0]) == len(self) - 1:
            return self
        frame = np.arange(int(self.frame[0]), int(self.frame[-1]) + 1, dtype=np.int64)
        row = np.searchsorted(self.frame, frame)
        have = self.frame[np.minimum(row, len(self) - 1)] == frame
        empty = np.zeros((0, _N_KEYPOINTS, 3))
        step = diff = None
        if self.camera_step_px is not None:
            step = np.zeros((frame.size, 2))
            step[have] = np.reshape(self.camera_step_px, (-1, 2))
        if self.frame_diff_grey is not None:
            diff = np.full(frame.size, np.nan)
            diff[have] = self.frame_diff_grey
        time_s = np.interp(frame, self.frame, self.time_s)
        for i, t in self.left_out.items():  # the true times, where the reader gave them
            if frame[0] <= i <= frame[-1]:
                time_s[i - frame[0]] = t
        return replace(
            self,
            time_s=time_s,
            frame=frame,
            candidates=[self.candidates[r] if h else empty for r, h in zip(row, have, strict=True)],
            warnings=list(self.warnings),
            attrs=dict(self.attrs),
            camera_step_px=step,
            frame_diff_grey=diff,
            left_out=dict(self.left_out),
        )

    @classmethod
    def concat(cls, parts: Sequence[CandidateFrames]) -> CandidateFrames:
        """Join segments of one video (in any order; a frame seen twice is kept once)."""
        if not parts:
            raise ValueError("no segments to join")
        first = parts[0]
        time_s = np.concatenate([p.time_s for p in parts])
        frame = np.concatenate([p.frame for p in parts])
        cands = [c for p in parts for c in p.candidates]
        order = np.argsort(frame, kind="stable")
        _, keep = np.unique(frame[order], return_index=True)
        idx = order[keep]
        delivered = set(frame[idx].tolist())
        warnings = list(dict.fromkeys(w for p in parts for w in p.warnings))
        scanned = all(p.camera_step_px is not None and p.frame_diff_grey is not None for p in parts)
        return cls(
            time_s=time_s[idx],
            frame=frame[idx],
            candidates=[cands[i] for i in idx],
            fps=first.fps,
            image_width_px=first.image_width_px,
            image_height_px=first.image_height_px,
            source_file=first.source_file,
            model=first.model,
            source_software=first.source_software,
            warnings=warnings,
            attrs=dict(first.attrs),
            camera_step_px=np.concatenate(
                [np.reshape(p.camera_step_px, (-1, 2)) for p in parts])[idx] if scanned else None,
            frame_diff_grey=np.concatenate([p.frame_diff_grey for p in parts])[idx]
            if scanned else None,
            left_out={i: t for p in parts for i, t in p.left_out.items() if i not in delivered},
        )


def holes_closed(time_s: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Frame times with every hole in the frame indices shortened to one frame interval.

    The interval is the median one between consecutive frame indices (the runner tracker
    links poses across short gaps only; a hole of frames the video never delivered is
    not a gap in what it saw).
    """
    t = np.asarray(time_s, dtype=np.float64)
    f = np.asarray(frame)
    if t.size < 2 or int(f[-1] - f[0]) == t.size - 1:
        return t
    dt, df = np.diff(t), np.diff(f)
    one = df == 1
    step = float(np.median(dt[one])) if one.any() else float(np.median(dt / df))
    return t[0] + np.concatenate([[0.0], np.cumsum(np.where(one, dt, step))])


def candidates_to_dataset(
    frames: CandidateFrames, tracker: RunnerTracker | None = None
) -> xr.Dataset:
    """Keep one runner among the candidates and build the pose dataset.

    Parameters
    ----------
    frames : CandidateFrames
        Candidate poses of every frame.
    tracker : RunnerTracker, optional
        Runner selection (default parameters when omitted).

    Returns
    -------
    xarray.Dataset
        The pose dataset; attrs include ``warnings`` (list of str),
        ``detected_fraction`` and ``max_people_in_view``. When ``frames`` carries
        the camera scan, also the variables ``camera_shift_px`` (time, space:
        background shift since the first frame, full-size pixels) and
        ``frame_diff_grey`` (time).
    """
    from posecoach import dataset
    from posecoach.video import damage_note

    delivered = frames
    frames = frames.with_lost_frames()
    # the runner is tracked over the frames the video delivered, with the holes left by
    # damaged data closed up: a hole is a lack of pictures, not of the runner, and must not
    # split the runner's track in two (of which only one might be kept)
    tracker = (tracker or RunnerTracker()).detect(
        delivered.candidates, holes_closed(delivered.time_s, delivered.frame),
        frames.image_width_px, frames.image_height_px
    )
    n = len(frames)
    have = np.isin(frames.frame, delivered.frame)
    position = np.full((n, *tracker.position_.shape[1:]), np.nan)
    confidence = np.full((n, *tracker.confidence_.shape[1:]), np.nan)
    position[have], confidence[have] = tracker.position_, tracker.confidence_
    warnings = list(frames.warnings) + list(tracker.warnings_)
    if frames.left_out:  # one note for the whole clip (segments each saw a part)
        inside = n and any(frames.frame[0] < i < frames.frame[-1] for i in frames.left_out)
        warnings.insert(0, damage_note(
            frames.left_out, extra="nothing links the legs across such a stretch, so left and right "
            "after it may be exchanged" if inside else ""))
    found = np.isfinite(position).any(axis=(1, 2))
    detected = float(found.mean()) if n else 0.0
    if n and not found.any():
        warnings.append("no person was found in any frame")
    attrs = {
        **frames.attrs,
        "source_file": frames.source_file,
        "model": frames.model,
        "warnings": warnings,
        "detected_fraction": detected,
        "max_people_in_view": int(tracker.people_per_frame_.max()) if n else 0,
    }
    ds = dataset.from_arrays(
        position,
        confidence,
        frames.time_s,
        fps=frames.fps,
        image_width_px=frames.image_width_px,
        image_height_px=frames.image_height_px,
        source_software=frames.source_software,
        frame=frames.frame,
        attrs=attrs,
    )
    if frames.camera_step_px is not None and frames.frame_diff_grey is not None:
        steps = np.nan_to_num(np.reshape(np.asarray(frames.camera_step_px, dtype=np.float64), (-1, 2)))
        ds["camera_shift_px"] = (("time", "space"), np.cumsum(steps, axis=0),
                                 {"units": "pixels", "long_name": "background shift since the first "
                                  "frame (phase correlation, people blanked)"})
        ds["frame_diff_grey"] = ("time", np.asarray(frames.frame_diff_grey, dtype=np.float64),
                                 {"units": "grey levels (0-255)", "long_name": "mean absolute "
                                  "difference to the previous picture"})
    return ds
