"""Shared test fixtures.

Real data lives outside the repo in ``../shared/data`` (never copied in: several
clips have no known licence). Tests that need it use :func:`shared_file`, which
skips with a clear reason when the data is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests check correctness, not speed: a loaded CI machine must not fail them on
# Hypothesis' per-example deadline (speed is measured by the benchmark in bench/).
settings.register_profile("posecoach", deadline=None, print_blob=True)
settings.load_profile("posecoach")

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


_POSE_CACHE = REPO / ".pytest_cache" / "posecoach-poses"


def _pose_code_digest() -> str:
    """Hash of the pose-estimation code and MediaPipe's version, so cached poses are redone
    when either changes (as ``scripts/accuracy.py``'s ``pose_cache_key`` does)."""
    import hashlib
    from importlib.metadata import version

    h = hashlib.sha256()
    for path in sorted((REPO / "src" / "posecoach" / "pose").glob("*.py")) + [
        REPO / "src" / "posecoach" / "video.py"
    ]:
        h.update(path.read_bytes())
    h.update(f"mediapipe {version('mediapipe')}".encode())
    return h.hexdigest()[:12]


def estimated_poses(relpath: str | Path, **estimator_kwargs):
    """Pose dataset of a shared clip, estimated once and cached on disk across test runs.

    The cache (``.pytest_cache/posecoach-poses``, never committed) is keyed by the clip's
    bytes (not its modification time: the shared data are copied anew now and then), the
    estimator's arguments and a digest of the pose code; a file lock lets parallel test
    workers share one estimation.
    """
    import fcntl
    import hashlib

    from posecoach.io import load_poses, save_poses
    from posecoach.pose import BlazePoseEstimator

    clip = shared_file(relpath)
    key = hashlib.sha256(
        f"{clip.name}|{hashlib.sha256(clip.read_bytes()).hexdigest()}|"
        f"{sorted(estimator_kwargs.items())}|{_pose_code_digest()}".encode()
    ).hexdigest()[:16]
    _POSE_CACHE.mkdir(parents=True, exist_ok=True)
    target = _POSE_CACHE / f"{clip.stem}-{key}.nc"
    with open(_POSE_CACHE / f"{clip.stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            ds = BlazePoseEstimator(**estimator_kwargs).estimate(clip, progress=False)
            save_poses(ds, target, overwrite=True)
        return load_poses(target)


def with_damaged_packet(src: Path, dst: Path, k: int) -> Path:
    """A copy of ``src`` whose ``k``-th packet (decoding order) is overwritten with zeros, as a
    damaged block in the middle of a file: the decoder rejects that packet."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ins = inp.streams.video[0]
        ost = out.add_stream_from_template(ins)
        for i, packet in enumerate(p for p in inp.demux(ins) if p.dts is not None):
            if i == k:
                zeros = av.Packet(bytes(packet.size))
                zeros.pts, zeros.dts, zeros.time_base = packet.pts, packet.dts, packet.time_base
                zeros.is_keyframe = packet.is_keyframe
                packet = zeros
            packet.stream = ost
            out.mux(packet)
    return dst
