"""Shared test fixtures.

Real data lives outside the repo in ``../shared/data`` (never copied in: several
clips have no known licence). Tests that need it use :func:`shared_file`, which
skips with a clear reason when the data is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("POSECOACH_SHARED_DATA", REPO.parent / "shared" / "data"))
CLIPS = SHARED_DATA / "running-videos-licence-unknown"
WALKING_CLIP = SHARED_DATA / "walking-negative-sports2d" / "demo.mp4"
FUKUCHI = SHARED_DATA / "fukuchi2017-rbds001"


def shared_file(relpath: str | Path) -> Path:
    """Return a path inside ../shared/data, or skip the test saying what is missing."""
    path = SHARED_DATA / relpath
    if not path.exists():
        pytest.skip(
            f"shared test data missing: {path} (expected ../shared/data beside the repo, "
            "or set POSECOACH_SHARED_DATA)"
        )
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data folder missing: {SHARED_DATA}")
    return SHARED_DATA
