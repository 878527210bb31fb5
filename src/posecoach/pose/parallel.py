"""Pose estimation on all cores: contiguous time segments in worker processes, stitched.

MediaPipe's BlazePose runs on about one core (measured: CPU time / wall time
0.99 for the legacy solution, XNNPACK with one inference thread). To use every
core, :class:`ParallelPoseEstimator` cuts a video into contiguous segments, one
per worker process, and joins the results:

1. **Layout** (:func:`frame_layout`): one pass over the container's packets (no
   decoding) gives every frame's presentation time and which frames are key
   frames.
2. **Plan** (:func:`plan_segments`): each segment *owns* a contiguous range of
   frames; all but the first also estimate ``overlap_s`` (0.5 s) of frames
   before their range, so that the model's tracker has found the runner and its
   landmark smoothing has settled before the first owned frame (measured on the
   shared clips: the legacy solution's landmarks differ from a run started at
   frame 0 by 2-4 px in the first frames and by < 1 px after ~0.4 s; the
   multi-person route by 0 px). A decoder can only start at a key frame, so a
   segment also decodes (without estimating) the frames from the key frame
   before its start. Boundaries are chosen to make the largest segment's cost
   as small as possible, counting an estimated frame as 1 and a decode-only
   frame as ``decode_cost`` (min-max partition by bisection on the cost with a
   greedy feasibility test; exact because a segment's cost grows with its end
   and does not grow with its start).
3. **Estimate**: worker processes (``spawn``: MediaPipe is not fork-safe once
   initialised) run :meth:`BlazePoseEstimator.estimate_segment` on their time
   range (``start_s <= time_s < end_s``, with boundaries half-way between
   frame times so no frame can fall on one).
4. **Stitch** (:func:`stitch`): each segment keeps only the frames it owns, so
   every frame appears exactly once and in order; the runner is then selected
   once over the whole clip (:func:`~posecoach.pose.base.candidates_to_dataset`),
   exactly as in a single-process run.

``mode="auto"`` (see :mod:`posecoach.pose.blazepose`) works across processes:
the first worker whose check sees two people tells the others to stop (a shared
event), and all segments are estimated again with the multi-person route by the
already running workers.

With one worker (or a clip too short to be worth splitting:
``min_segment_frames``) everything runs in the calling process.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from posecoach.errors import PosecoachError
from posecoach.pose.base import CandidateFrames, candidates_to_dataset
from posecoach.pose.blazepose import (
    BlazePoseEstimator,
    EstimationStopped,
    SecondPersonSeen,
    checked_note,
    switched_note,
)

__all__ = [
    "ParallelPoseEstimator",
    "Segment",
    "default_workers",
    "frame_layout",
    "plan_segments",
    "segment_cost",
    "stitch",
]


def default_workers() -> int:
    """Cores this process may run on (``os.sched_getaffinity``, else ``os.cpu_count()``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Segment:
    """One worker's share of a video.

    Attributes
    ----------
    index : int
        Position of the segment (0 = start of the video).
    first_frame, end_frame : int
        The segment owns frames ``first_frame <= frame < end_frame`` (0-based,
        presentation order, as :attr:`posecoach.video.Frame.index`).
    pose_first_frame : int
        First frame it estimates (``<= first_frame``; the frames before
        ``first_frame`` are the overlap that lets the tracker settle).
    decode_first_frame : int
        Key frame at or before ``pose_first_frame`` where decoding starts.
    start_s, end_s : float or None
        Time range handed to the estimator (``start_s <= time_s < end_s``), half-way
        between frame times; None = from the start / to the end.
    """

    index: int
    first_frame: int
    end_frame: int
    pose_first_frame: int
    decode_first_frame: int
    start_s: float | None
    end_s: float | None

    @property
    def n_owned(self) -> int:
        """Frames this segment contributes."""
        return self.end_frame - self.first_frame

    @property
    def n_estimated(self) -> int:
        """Frames it runs the pose model on (owned plus overlap)."""
        return self.end_frame - self.pose_first_frame


def frame_layout(video_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Presentation time of every frame and which frames are key frames, from packets only.

    Times are relative to the first frame, as :class:`posecoach.video.VideoReader`
    reports them; frames are in presentation order (0-based index = ``Frame.index``).

    Returns
    -------
    time_s : ndarray of float, shape (n,)
    is_key : ndarray of bool, shape (n,)

    Raises
    ------
    VideoError
        If the file cannot be read as a video.
    """
    import av

    from posecoach.video import probe

    probe(video_path)  # the user-facing checks and messages
    container = av.open(str(video_path))
    try:
        stream = container.streams.video[0]
        tb = float(stream.time_base or 1 / 90000)
        pts: list[int] = []
        key: list[bool] = []
        try:
            for packet in container.demux(stream):
                if packet.size and packet.pts is not None:
                    pts.append(int(packet.pts))
                    key.append(bool(packet.is_keyframe))
        except av.FFmpegError:
            pass  # truncated: the reader warns; plan over the packets present
    finally:
        container.close()
    order = np.argsort(np.asarray(pts, dtype=np.int64), kind="stable")
    pts_sorted = np.asarray(pts, dtype=np.int64)[order]
    is_key = np.asarray(key, dtype=bool)[order]
    if pts_sorted.size:
        is_key[0] = True  # decoding can always start at the first frame
    time_s = pts_sorted * tb - (pts_sorted[0] * tb if pts_sorted.size else 0.0)
    return time_s.astype(np.float64), is_key


def _pose_starts(time_s: np.ndarray, overlap_s: float) -> np.ndarray:
    """For each possible first owned frame b, the first frame estimated (overlap before b)."""
    starts = np.searchsorted(time_s, time_s - overlap_s - 1e-9, side="left")
    starts[0] = 0
    return starts


def _decode_starts(pose_start: np.ndarray, is_key: np.ndarray) -> np.ndarray:
    """For each frame, the last key frame at or before it (where decoding starts)."""
    idx = np.where(is_key, np.arange(is_key.size), 0)
    return np.maximum.accumulate(idx)[pose_start]


def segment_cost(
    first_frame: int, end_frame: int, pose_start: np.ndarray, decode_start: np.ndarray,
    decode_cost: float,
) -> float:
    """Work of one segment: estimated frames + ``decode_cost`` x decode-only frames.

    Parameters
    ----------
    first_frame, end_frame : int
        Owned frames ``[first_frame, end_frame)``.
    pose_start, decode_start : ndarray of int
        Per possible ``first_frame``: first frame estimated, first frame decoded.
    decode_cost : float
        Cost of decoding a frame relative to estimating one.
    """
    a = int(pose_start[first_frame])
    return float(end_frame - a) + decode_cost * float(a - int(decode_start[first_frame]))


def plan_segments(
    time_s: Sequence[float] | np.ndarray,
    n_segments: int,
    *,
    is_key: Sequence[bool] | np.ndarray | None = None,
    overlap_s: float = 0.5,
    decode_cost: float = 0.15,
    min_segment_frames: int = 1,
) -> list[Segment]:
    """Split frames into at most ``n_segments`` contiguous segments of balanced cost.

    Parameters
    ----------
    time_s : array of float, shape (n,)
        Frame times (strictly increasing), from :func:`frame_layout`.
    n_segments : int
        Largest number of segments (workers).
    is_key : array of bool, shape (n,), optional
        Key frames (decoding can start only there); every frame when omitted.
    overlap_s : float
        Time estimated before each segment's first owned frame (tracker warm-up).
    decode_cost : float
        Decoding a frame without estimating it, relative to estimating one.
    min_segment_frames : int
        Use fewer segments when they would own fewer frames than this.

    Returns
    -------
    list of Segment
        In order; their owned ranges partition ``0..n-1`` exactly (empty list when n = 0).

    Notes
    -----
    Minimises the largest :func:`segment_cost` (bisection on the cost bound, each
    bound tested greedily by making every segment as long as the bound allows).
    The greedy test is exact because a segment's cost grows with its end and does
    not grow with its start (moving the start later removes an estimated frame,
    cost 1, and adds at most one decode-only frame, ``decode_cost < 1``).
    """
    t = np.asarray(time_s, dtype=np.float64)
    n = int(t.size)
    if n == 0:
        return []
    if n > 1 and not np.all(np.diff(t) > 0):
        raise ValueError("frame times must be strictly increasing")
    if not 0 <= decode_cost < 1:
        raise ValueError(f"decode_cost must be in [0, 1), got {decode_cost!r}")
    key = np.ones(n, dtype=bool) if is_key is None else np.asarray(is_key, dtype=bool).copy()
    key[0] = True
    k_max = max(1, min(int(n_segments), n // max(1, int(min_segment_frames))))
    pose_start = _pose_starts(t, max(0.0, float(overlap_s)))
    decode_start = _decode_starts(pose_start, key)
    waste = decode_cost * (pose_start - decode_start)

    def greedy(bound: float) -> list[tuple[int, int]] | None:
        out: list[tuple[int, int]] = []
        b = 0
        while b < n:
            if len(out) == k_max:
                return None
            e = min(n, int(math.floor(bound - waste[b] + 1e-9)) + int(pose_start[b]))
            if e <= b:
                return None
            out.append((b, e))
            b = e
        return out

    lo, hi = n / k_max, float(n)  # no plan beats n / k; one segment costs n
    best = greedy(hi)
    for _ in range(60):
        if hi - lo < 1e-3:
            break
        mid = 0.5 * (lo + hi)
        plan = greedy(mid)
        if plan is None:
            lo = mid
        else:
            hi, best = mid, plan
    assert best is not None  # one segment always fits the bound n
    segments = []
    for i, (b, e) in enumerate(best):
        a = int(pose_start[b])
        segments.append(
            Segment(
                index=i,
                first_frame=b,
                end_frame=e,
                pose_first_frame=a,
                decode_first_frame=int(decode_start[b]),
                start_s=None if a == 0 else float(0.5 * (t[a - 1] + t[a])),
                end_s=None if e >= n else float(0.5 * (t[e - 1] + t[e])),
            )
        )
    return segments


def stitch(parts: Sequence[CandidateFrames], segments: Sequence[Segment]) -> CandidateFrames:
    """Join segment results: each keeps only the frames it owns (every frame once, in order).

    Parameters
    ----------
    parts : sequence of CandidateFrames
        The result of each segment, in the order of ``segments``.
    segments : sequence of Segment

    Returns
    -------
    CandidateFrames
        Frames in increasing order; attrs of the first part, with
        ``person_checks`` summed and the segments recorded.
    """
    if len(parts) != len(segments) or not parts:
        raise ValueError(f"{len(parts)} results for {len(segments)} segments")
    kept = [
        part.select((part.frame >= seg.first_frame) & (part.frame < seg.end_frame))
        for part, seg in zip(parts, segments, strict=True)
    ]
    out = CandidateFrames.concat(kept)
    out.attrs["person_checks"] = int(sum(int(p.attrs.get("person_checks", 0)) for p in parts))
    for key in ("segment_start_s", "segment_end_s"):
        out.attrs.pop(key, None)
    return out


# ------------------------------------------------------------------ worker processes

_SHARED: dict[str, Any] = {}


def _worker_init(counter, stop) -> None:
    """Keep the shared progress counter and stop event in the worker process."""
    _SHARED["counter"] = counter
    _SHARED["stop"] = stop


def _tick(k: int) -> None:
    counter = _SHARED["counter"]
    with counter.get_lock():
        counter.value += k


def _worker_run(
    estimator: BlazePoseEstimator, video_path: str, start_s: float | None, end_s: float | None,
    route: str,
) -> tuple[str, Any]:
    """Estimate one segment in a worker; returns ``(status, payload)``."""
    stop = _SHARED["stop"]
    try:
        frames = estimator.estimate_segment(
            video_path, start_s=start_s, end_s=end_s, route=route, on_frame=_tick,
            should_stop=stop.is_set,
        )
    except SecondPersonSeen as seen:
        stop.set()
        return "second_person", seen.time_s
    except EstimationStopped:
        return "stopped", None
    except BaseException:
        stop.set()  # the others need not finish: the run fails
        raise
    return "done", frames


class ParallelPoseEstimator:
    """Run a :class:`BlazePoseEstimator` on contiguous segments in worker processes.

    Parameters
    ----------
    estimator : BlazePoseEstimator, optional
        What to run (default: ``BlazePoseEstimator()``).
    workers : int, optional
        Worker processes (default: all cores, :func:`default_workers`). 1 runs
        in the calling process.
    overlap_s : float
        Time estimated before each segment's first frame (tracker warm-up).
    min_segment_frames : int
        Fewer workers are used when each would own fewer frames than this (a
        worker costs ~1-2 s to start: Python, MediaPipe and the models).
    decode_cost : float
        Decoding a frame relative to estimating one, for balancing segments.

    Attributes
    ----------
    segments_ : list of Segment
        The plan of the last run.
    route_ : str
        Route that produced the result (``"single"`` or ``"multi"``).
    """

    def __init__(
        self,
        estimator: BlazePoseEstimator | None = None,
        *,
        workers: int | None = None,
        overlap_s: float = 0.5,
        min_segment_frames: int = 150,
        decode_cost: float = 0.15,
    ) -> None:
        if workers is not None and int(workers) < 1:
            raise PosecoachError(f"--workers must be at least 1, got {workers!r}")
        if overlap_s < 0:
            raise PosecoachError(f"overlap_s must not be negative, got {overlap_s!r}")
        self.estimator = estimator or BlazePoseEstimator()
        self.workers = default_workers() if workers is None else int(workers)
        self.overlap_s = float(overlap_s)
        self.min_segment_frames = int(min_segment_frames)
        self.decode_cost = float(decode_cost)

    def plan(self, video_path: str | Path) -> list[Segment]:
        """Segments for ``video_path`` with this estimator's parameters."""
        time_s, is_key = frame_layout(video_path)
        return plan_segments(
            time_s, self.workers, is_key=is_key, overlap_s=self.overlap_s,
            decode_cost=self.decode_cost, min_segment_frames=self.min_segment_frames,
        )

    def estimate_candidates(self, video_path: str | Path, *, progress: bool = True) -> CandidateFrames:
        """All people found in every frame, estimated in parallel segments.

        Raises
        ------
        VideoError
            If the video cannot be read.
        """
        video_path = Path(video_path)
        if self.workers == 1:
            self.segments_ = []
            frames = self.estimator.estimate_candidates(video_path, progress=progress)
            self.route_ = "multi" if "tasks" in frames.attrs.get("pose_backend", "") else "single"
            return frames
        segments = self.plan(video_path)
        self.segments_ = segments
        if len(segments) <= 1:
            frames = self.estimator.estimate_candidates(video_path, progress=progress)
            self.route_ = "multi" if "tasks" in frames.attrs.get("pose_backend", "") else "single"
            return frames
        return self._run_pool(video_path, segments, progress)

    def _run_pool(self, video_path: Path, segments: list[Segment], progress: bool) -> CandidateFrames:
        import multiprocessing as mp
        from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait

        from tqdm.auto import tqdm

        ctx = mp.get_context("spawn")
        counter = ctx.Value("q", 0)
        stop = ctx.Event()
        est = self.estimator
        route = est.mode
        seen_s: float | None = None
        with (
            ProcessPoolExecutor(max_workers=len(segments), mp_context=ctx, initializer=_worker_init,
                                initargs=(counter, stop)) as pool,
            tqdm(total=sum(s.n_estimated for s in segments), desc=f"pose {video_path.name}",
                 unit="frame", file=sys.stderr, disable=not progress, dynamic_ncols=True) as bar,
        ):
            while True:
                futures = [
                    pool.submit(_worker_run, est, str(video_path), s.start_s, s.end_s, route)
                    for s in segments
                ]
                try:
                    pending = set(futures)
                    while pending:
                        done, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                        bar.update(counter.value - bar.n)
                        if any(f.exception() is not None for f in done):
                            break
                    results = [f.result() for f in futures]
                except BaseException:
                    stop.set()
                    for f in futures:
                        f.cancel()
                    raise
                bar.update(counter.value - bar.n)
                seen = [p for status, p in results if status == "second_person"]
                if route == "auto" and seen:
                    seen_s = min(seen)
                    route = "multi"
                    stop.clear()
                    with counter.get_lock():
                        counter.value = 0
                    bar.reset()
                    continue
                break
        parts = [p for _, p in results]
        frames = stitch(parts, segments)
        self.route_ = "single" if route == "auto" else route
        if est.mode == "auto":
            frames.attrs["person_check"] = (
                switched_note(seen_s) if seen_s is not None
                else checked_note(frames.attrs["person_checks"], est.check_interval_s)
            )
        frames.attrs["pose_workers"] = len(segments)
        frames.attrs["pose_segments"] = [
            [s.first_frame, s.end_frame, s.pose_first_frame] for s in segments
        ]
        return frames

    def estimate(self, video_path: str | Path, *, progress: bool = True) -> xr.Dataset:
        """The pose dataset (see :class:`~posecoach.pose.PoseEstimator`), estimated in parallel."""
        frames = self.estimate_candidates(video_path, progress=progress)
        return candidates_to_dataset(frames, self.estimator.tracker)
