"""Exceptions posecoach raises for problems the user can act on.

Every :class:`PosecoachError` carries a message written for the user (what went
wrong and what to do). The CLI prints it without a traceback and exits non-zero.
"""

from __future__ import annotations


class PosecoachError(Exception):
    """Base class for errors the user can act on.

    Attributes
    ----------
    exit_code : int
        Process exit code the CLI uses for this error.
    """

    exit_code: int = 1


class OutputError(PosecoachError):
    """The output folder holds earlier results, is the input's folder clash, or cannot be written."""

    exit_code = 1


class VideoError(PosecoachError):
    """A video file is missing, empty, truncated or not a video."""

    exit_code = 3


class PoseDataError(PosecoachError):
    """A pose dataset is malformed or a pose file cannot be read."""

    exit_code = 4


class ModelNotFoundError(PosecoachError):
    """A pose model file is not available on this machine."""

    exit_code = 5


class NoPersonError(PosecoachError):
    """No person (or too little of one) was found in the video."""

    exit_code = 6


class NotRunningError(PosecoachError):
    """The motion in the video is not running (e.g. walking), or too short to judge."""

    exit_code = 7


class UsageError(PosecoachError, ValueError):
    """An option's value does not fit the input (e.g. a capture rate below the clip's)."""

    exit_code = 2
