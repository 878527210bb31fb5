"""The pose-estimator interface and what every estimator hands on.

An estimator turns a video into the pose dataset (:mod:`posecoach.dataset`): one
entry per decoded frame, the runner's 33 landmarks in pixels of the upright
full-resolution picture, NaN where nobody was found.

Estimation is split in two steps so that long videos can later be cut into time
segments estimated in separate processes:

1. per segment, the model's *candidate* poses of every frame
   (:class:`CandidateFrames`, from an estimator's ``estimate_candidates``);
2. once for the whole clip, :func:`candidates_to_dataset`: join the segments
   (:meth:`CandidateFrames.concat`), keep one runner
   (:class:`~posecoach.pose.tracking.RunnerTracker`) and build the dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import xarray as xr

from posecoach import dataset
from posecoach.pose.tracking import RunnerTracker

__all__ = ["CandidateFrames", "PoseEstimator", "candidates_to_dataset"]


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

        One entry per decoded frame; NaN where no runner was found; attrs
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

    def __len__(self) -> int:
        return len(self.time_s)

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
        warnings = list(dict.fromkeys(w for p in parts for w in p.warnings))
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
        )


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
        ``detected_fraction`` and ``max_people_in_view``.
    """
    tracker = (tracker or RunnerTracker()).detect(
        frames.candidates, frames.time_s, frames.image_width_px, frames.image_height_px
    )
    n = len(frames)
    warnings = list(frames.warnings) + list(tracker.warnings_)
    found = np.isfinite(tracker.position_).any(axis=(1, 2))
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
    return dataset.from_arrays(
        tracker.position_,
        tracker.confidence_,
        frames.time_s,
        fps=frames.fps,
        image_width_px=frames.image_width_px,
        image_height_px=frames.image_height_px,
        source_software=frames.source_software,
        frame=frames.frame,
        attrs=attrs,
    )
