"""Pose estimation on all cores: contiguous segments in worker processes, stitched.

MediaPipe's BlazePose runs on about one core (measured: CPU time / wall time
0.99 for the legacy solution, XNNPACK with one inference thread). To use every
core, :class:`ParallelPoseEstimator` cuts a video into contiguous segments, one
per process, and joins the results so that they are *exactly* those of one
process (same landmarks to the last bit, hence the same events):

1. **Why not overlap.** The obvious split lets each segment start a little
   early (overlap) so the model's tracker has found the runner by the boundary.
   Measured on the shared clips, that gives the same person but not the same
   numbers: the legacy solution's landmarks from a restarted tracker differ
   from an uninterrupted run by a median of 0.06-0.09 px, yet by 20-145 px in
   ~20 of the next 107 frames of the panning clip (frames where the legs cross
   and the model's left/right choice is a toss-up), whether the overlap is 0.5,
   1, 2 or 3 s; the gait events found from the two results then differed (extra
   contacts, left/right exchanged). The model's state never re-converges, so no
   overlap makes the results agree.
2. **Chunks instead.** :class:`~posecoach.pose.blazepose.BlazePoseEstimator`
   resets the model's tracking state at fixed frames (every 1 s of frame
   indices for the single-person route, 5 s for the multi-person one) in
   *every* pass, single-process ones included, and ties the
   person checks and the camera scan to frame indices too
   (:meth:`~posecoach.pose.blazepose.BlazePoseEstimator.estimate_segment`).
   Segments start at chunk starts, so a segment computes exactly what one pass
   computes for its frames. A reset costs ~6 ms plus one person detection
   (legacy) or ~0.16 s (multi-person landmarker): 1-3 % of a chunk.
3. **Layout** (:func:`frame_layout`): one pass over the container's packets (no
   decoding) gives every frame's time and which frames are key frames.
4. **Plan** (:func:`plan_segments`): a decoder can only start at a key frame, so
   a segment also decodes (without estimating) the frames from the key frame
   before it; the frame just before a segment is decoded for the camera scan.
   Boundaries (chunk starts) are chosen to make the largest segment's cost as
   small as possible, counting an estimated frame as 1, a decode-only frame as
   ``decode_cost`` and a new process's start as ``startup_frames`` (min-max
   partition: bisection on the cost with a greedy feasibility test; exact
   because a segment's cost grows with its end and does not grow with its start).
5. **Estimate**: the calling process estimates the first segment while worker
   processes (``spawn``: MediaPipe is not fork-safe once initialised) estimate
   the others, each on its time range (``start_s <= time_s < end_s``, with
   boundaries half-way between frame times so no frame can fall on one).
6. **Stitch** (:func:`stitch`): each segment keeps only the frames it owns, so
   every frame appears exactly once and in order; the runner is then selected
   once over the whole clip (:func:`~posecoach.pose.base.candidates_to_dataset`),
   exactly as in a single-process run.

``mode="auto"`` (see :mod:`posecoach.pose.blazepose`) works across processes:
the first process whose check sees someone else tells the others to stop (a
shared event), and all segments are estimated again with the multi-person route
by the processes already running. The result is the multi-person route's, as
in one process.

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
from typing import TYPE_CHECKING, Any

import numpy as np

from posecoach.errors import PosecoachError
from posecoach.pose.base import CandidateFrames, candidates_to_dataset
from posecoach.pose.blazepose import (
    BlazePoseEstimator,
    EstimationStopped,
    SecondPersonSeen,
    checked_note,
    seen_note,
    switched_note,
)

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "ParallelPoseEstimator",
    "Segment",
    "decode_cost_for",
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
    """One process's share of a video.

    Attributes
    ----------
    index : int
        Position of the segment (0 = start of the video, estimated by the calling process).
    first_frame, end_frame : int
        The segment estimates and owns frames ``first_frame <= frame < end_frame``
        (0-based, presentation order, as :attr:`posecoach.video.Frame.index`).
    decode_first_frame : int
        Key frame where decoding starts (``<= first_frame - 1``, or 0).
    start_s, end_s : float or None
        Time range handed to the reader (``start_s <= time_s < end_s``, half-way
        between frame times); it includes the frame before ``first_frame`` (for
        the camera scan). None = from the start / to the end.
    """

    index: int
    first_frame: int
    end_frame: int
    decode_first_frame: int
    start_s: float | None
    end_s: float | None

    @property
    def n_frames(self) -> int:
        """Frames this segment estimates and contributes."""
        return self.end_frame - self.first_frame


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
    from posecoach.video import VideoReader

    # the reader's probe (cached per file) makes the user-facing checks and has read the packets
    return VideoReader(video_path).layout()


def _decode_starts(is_key: np.ndarray) -> np.ndarray:
    """For each frame b, the key frame where decoding must start to reach frame b - 1."""
    idx = np.maximum.accumulate(np.where(is_key, np.arange(is_key.size), 0))
    return idx[np.maximum(np.arange(is_key.size) - 1, 0)]


def decode_cost_for(width_px: int, height_px: int) -> float:
    """Decoding a frame relative to decoding and estimating it, from the picture size.

    Measured on this project's 2-core machine (H.264, one decoder thread): ~5 ms
    per 1080p frame, ~20 ms per 4K frame (about 2.4 ns per pixel); the rest of an
    estimated frame (scaling, pose model, checks, scan) ~22 ms. So ~0.19 for
    1080p and ~0.47 for 4K.
    """
    decode_ms = 2.4e-6 * float(width_px) * float(height_px)
    return float(min(0.9, decode_ms / (decode_ms + 22.0)))


def segment_cost(first_frame: int, end_frame: int, decode_start: np.ndarray,
                 decode_cost: float) -> float:
    """Work of one segment: estimated frames + ``decode_cost`` x decode-only frames.

    Parameters
    ----------
    first_frame, end_frame : int
        Frames ``[first_frame, end_frame)``.
    decode_start : ndarray of int
        Per possible ``first_frame``: first frame decoded (:func:`_decode_starts`).
    decode_cost : float
        Cost of decoding a frame relative to estimating one.
    """
    return float(end_frame - first_frame) + decode_cost * float(first_frame - decode_start[first_frame])


def plan_segments(
    time_s: Sequence[float] | np.ndarray,
    n_segments: int,
    *,
    can_start: Sequence[bool] | np.ndarray | None = None,
    is_key: Sequence[bool] | np.ndarray | None = None,
    decode_cost: float = 0.2,
    startup_frames: float = 0.0,
    min_segment_frames: int = 1,
) -> list[Segment]:
    """Split frames into at most ``n_segments`` contiguous segments of balanced cost.

    Parameters
    ----------
    time_s : array of float, shape (n,)
        Frame times (strictly increasing), from :func:`frame_layout`.
    n_segments : int
        Largest number of segments (processes).
    can_start : array of bool, shape (n,), optional
        Frames a segment may start at (the estimator's chunk starts); all when omitted.
    is_key : array of bool, shape (n,), optional
        Key frames (decoding can start only there); every frame when omitted.
    decode_cost : float
        Decoding a frame without estimating it, relative to estimating one.
    startup_frames : float
        Extra cost, in estimated frames, of every segment but the first (the
        first runs in the calling process, the others wait for a new process).
    min_segment_frames : int
        Use fewer segments when they would have fewer frames than this.

    Returns
    -------
    list of Segment
        In order; their frame ranges partition ``0..n-1`` exactly (empty list when n = 0).

    Notes
    -----
    Minimises the largest :func:`segment_cost` (plus ``startup_frames`` for all
    segments but the first) by bisection on the cost bound, each bound tested
    greedily by making every segment as long as the bound allows (ending at a
    frame that may start the next one). The greedy test is exact because a
    segment's cost grows with its end and does not grow with its start (a later
    start removes an estimated frame, cost 1, and adds at most one decode-only
    frame, ``decode_cost < 1``).
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
    starts_ok = np.ones(n, dtype=bool) if can_start is None else np.asarray(can_start, dtype=bool)
    # possible ends of a segment: frames that may start the next one, and n
    ends = np.append(np.flatnonzero(starts_ok[1:]) + 1, n)
    k_max = max(1, min(int(n_segments), n // max(1, int(min_segment_frames))))
    decode_start = _decode_starts(key)
    waste = decode_cost * (np.arange(n) - decode_start)
    startup = max(0.0, float(startup_frames))

    def greedy(bound: float) -> list[tuple[int, int]] | None:
        out: list[tuple[int, int]] = []
        b = 0
        while b < n:
            if len(out) == k_max:
                return None
            extra = waste[b] + (startup if out else 0.0)
            e_max = min(n, b + int(math.floor(bound - extra + 1e-9)))
            i = int(np.searchsorted(ends, e_max, side="right")) - 1
            if i < 0 or ends[i] <= b:
                return None
            out.append((b, int(ends[i])))
            b = int(ends[i])
        return out

    lo, hi = n / k_max, float(n)  # no plan beats n / k; one segment (in this process) costs n
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
        prime = max(b - 1, 0)  # the frame before the segment, decoded for the camera scan
        segments.append(
            Segment(
                index=i,
                first_frame=b,
                end_frame=e,
                decode_first_frame=int(decode_start[b]),
                start_s=None if prime == 0 else float(0.5 * (t[prime - 1] + t[prime])),
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
    estimator: BlazePoseEstimator, video_path: str, segment: Segment, route: str,
) -> tuple[str, Any]:
    """Estimate one segment in a worker; returns ``(status, payload)``."""
    stop = _SHARED["stop"]
    try:
        frames = estimator.estimate_segment(
            video_path, start_s=segment.start_s, end_s=segment.end_s,
            first_frame=segment.first_frame, route=route, on_frame=_tick, should_stop=stop.is_set,
            one_thread=True,
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
    """Run a :class:`BlazePoseEstimator` on contiguous segments in several processes.

    The calling process estimates the first segment itself while ``workers - 1``
    spawned processes estimate the others (one process per core, none idle).

    Parameters
    ----------
    estimator : BlazePoseEstimator, optional
        What to run (default: ``BlazePoseEstimator()``).
    workers : int, optional
        Processes estimating poses, the calling one included (default: all
        cores, :func:`default_workers`). 1 runs everything in the calling process.
    min_segment_frames : int
        Fewer workers are used when each would own fewer frames than this (a
        new process costs ~1-2 s to start: Python, MediaPipe and the models).
    decode_cost : float, optional
        Decoding a frame relative to estimating one, for balancing segments.
        Default: from the picture size (:func:`decode_cost_for`).
    startup_frames : float
        Frames the calling process estimates while a new worker process starts
        (for balancing; ~1 s of a worker's start-up at ~30 ms per frame).

    Attributes
    ----------
    segments_ : list of Segment
        The plan of the last run (empty when it ran in one process).
    route_ : str
        Route that produced the result (``"single"`` or ``"multi"``).
    """

    def __init__(
        self,
        estimator: BlazePoseEstimator | None = None,
        *,
        workers: int | None = None,
        min_segment_frames: int = 100,
        decode_cost: float | None = None,
        startup_frames: float = 30.0,
    ) -> None:
        if workers is not None and int(workers) < 1:
            raise PosecoachError(f"--workers must be at least 1, got {workers!r}")
        self.estimator = estimator or BlazePoseEstimator()
        self.workers = default_workers() if workers is None else int(workers)
        self.min_segment_frames = int(min_segment_frames)
        self.decode_cost = None if decode_cost is None else float(decode_cost)
        self.startup_frames = float(startup_frames)

    def plan(self, video_path: str | Path, route: str | None = None) -> list[Segment]:
        """Segments for ``video_path`` (and a route: chunks differ) with these parameters."""
        from posecoach.video import VideoReader

        reader = VideoReader(video_path)
        time_s, is_key = reader.layout()
        info = reader.info
        # the estimator resets its model at these frames, so segments must start there
        chunk = self.estimator.chunk_frames(info.fps, route)
        decode_cost = self.decode_cost
        if decode_cost is None:
            decode_cost = decode_cost_for(info.width_px, info.height_px)
        return plan_segments(
            time_s, self.workers, can_start=np.arange(time_s.size) % chunk == 0, is_key=is_key,
            decode_cost=decode_cost, startup_frames=self.startup_frames,
            min_segment_frames=self.min_segment_frames,
        )

    def estimate_candidates(self, video_path: str | Path, *, progress: bool = True) -> CandidateFrames:
        """All people found in every frame, estimated in parallel segments.

        Raises
        ------
        VideoError
            If the video cannot be read.
        """
        video_path = Path(video_path)
        segments = self.plan(video_path) if self.workers > 1 else []
        if len(segments) <= 1:
            self.segments_ = []
            frames = self.estimator.estimate_candidates(video_path, progress=progress)
            self.route_ = "multi" if "tasks" in frames.attrs.get("pose_backend", "") else "single"
            return frames
        self.segments_ = segments
        return self._run_pool(video_path, segments, progress)

    def _run_pool(self, video_path: Path, segments: list[Segment], progress: bool) -> CandidateFrames:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, wait

        from tqdm.auto import tqdm

        ctx = mp.get_context("spawn")  # MediaPipe is not fork-safe
        counter = ctx.Value("q", 0)
        stop = ctx.Event()
        est = self.estimator
        route = est.mode
        why: str | None = None
        with (
            ProcessPoolExecutor(max_workers=len(segments) - 1, mp_context=ctx,
                                initializer=_worker_init, initargs=(counter, stop)) as pool,
            tqdm(total=sum(s.n_frames for s in segments), desc=f"pose {video_path.name}",
                 unit="frame", file=sys.stderr, disable=not progress, dynamic_ncols=True) as bar,
        ):
            def tick(k: int) -> None:  # the calling process's own frames, plus the workers'
                with counter.get_lock():
                    counter.value += k
                    done = counter.value
                if done - bar.n >= 10:
                    bar.update(done - bar.n)

            while True:
                futures = [
                    pool.submit(_worker_run, est, str(video_path), s, route) for s in segments[1:]
                ]
                first = segments[0]
                try:
                    try:
                        own: tuple[str, Any] = ("done", est.estimate_segment(
                            video_path, start_s=first.start_s, end_s=first.end_s, route=route,
                            on_frame=tick, should_stop=stop.is_set, one_thread=True))
                    except SecondPersonSeen as seen:
                        stop.set()
                        own = ("second_person", seen.time_s)
                    except EstimationStopped:
                        own = ("stopped", None)
                    pending = set(futures)
                    while pending:
                        _, pending = wait(pending, timeout=0.25)
                        bar.update(counter.value - bar.n)
                    results = [own] + [f.result() for f in futures]
                except BaseException:
                    stop.set()  # workers stop at their next frame; then the pool shuts down
                    for f in futures:
                        f.cancel()
                    raise
                bar.update(counter.value - bar.n)
                seen = [p for status, p in results if status == "second_person"]
                if route == "auto":
                    if seen:
                        why = seen_note(min(seen))
                    else:
                        frames = stitch([p for _, p in results], segments)
                        why = est.single_route_doubt(frames)
                if why is not None and route == "auto":
                    route = "multi"  # every segment again, with the multi-person model
                    segments = self.plan(video_path, route)  # its chunks are longer
                    self.segments_ = segments
                    stop.clear()
                    with counter.get_lock():
                        counter.value = 0
                    bar.reset(total=sum(s.n_frames for s in segments))
                    continue
                break
        frames = stitch([p for _, p in results], segments)
        self.route_ = "single" if route == "auto" else route
        if est.mode == "auto":
            frames.attrs["person_check"] = (
                switched_note(why) if why is not None
                else checked_note(frames.attrs["person_checks"], est.check_interval_s)
            )
        frames.attrs["pose_workers"] = len(segments)
        frames.attrs["pose_segments"] = [
            [s.first_frame, s.end_frame] for s in segments
        ]
        return frames

    def estimate(self, video_path: str | Path, *, progress: bool = True) -> xr.Dataset:
        """The pose dataset (see :class:`~posecoach.pose.PoseEstimator`), estimated in parallel."""
        frames = self.estimate_candidates(video_path, progress=progress)
        return candidates_to_dataset(frames, self.estimator.tracker)
