"""posecoach: judge running technique against the Pose Method from a side-view video."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
