"""Pose estimation: video -> the runner's 33 BlazePose landmarks in every frame.

- :class:`BlazePoseEstimator` (MediaPipe 0.10.21; see :mod:`posecoach.pose.blazepose`
  for how it runs and why) implements the :class:`PoseEstimator` protocol.
- :mod:`posecoach.pose.models`: find / install the lite, full and heavy model files.
- :mod:`posecoach.pose.tracking`: keep one runner when several people are in view.

MediaPipe is imported only when a model runs, so importing this package is cheap.
"""

from __future__ import annotations

from posecoach.pose import models
from posecoach.pose.base import CandidateFrames, PoseEstimator, candidates_to_dataset
from posecoach.pose.blazepose import BlazePoseEstimator
from posecoach.pose.tracking import RunnerTracker

__all__ = [
    "BlazePoseEstimator",
    "CandidateFrames",
    "PoseEstimator",
    "RunnerTracker",
    "candidates_to_dataset",
    "detected_fraction",
    "models",
]


def __getattr__(name: str):
    # re-exported lazily: importing posecoach.dataset pulls in xarray and pandas, which
    # the pose worker processes do not need
    if name == "detected_fraction":
        from posecoach.dataset import detected_fraction

        return detected_fraction
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
