"""The annotated video: skeleton, contact markers and running metrics on every frame.

The input video is streamed frame by frame (never held in memory): each decoded frame
gets the cleaned skeleton of its pose row, a marker under each foot that is on the ground,
"IC"/"TO" labels on event frames and a panel with the clip's key metrics, and is written
straight to an H.264 MP4 (yuv420p, plays in browsers) with the input's frame count and
frame rate. Frames are drawn at most :data:`OVERLAY_MAX_SIDE_PX` pixels on their long
side.

**On all cores.** Decoding, drawing and encoding cost ~10 ms of CPU per 1080p frame
even when made cheap (no deblocking when decoding, OpenCV's colour conversions, x264's
``superfast`` preset), so long clips are cut into contiguous time segments
(:func:`posecoach.pose.parallel.plan_segments`, balanced for the frames decoded only
to reach a key frame), each drawn and encoded by its own process into a temporary H.264
file; the parts are then joined into one MP4 by copying their compressed packets with
shifted time stamps (no second encoding). Every part starts with a key frame and is made
with the same encoder settings, so the joined stream is one valid H.264 stream. The
processes can start before ``report.html`` is written (:func:`start_overlay`) and work
while it is made.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.report import _common as C

#: Longest side of the overlay video's frames.
OVERLAY_MAX_SIDE_PX = 960
#: x264 settings of the overlay: ``superfast`` costs ~3.7 ms per 960x540 frame (one
#: thread) against ~5.3 for ``veryfast``, for ~2.6 against ~1.3 kB per frame of this
#: mostly still footage; ``ultrafast`` (2.2 ms) makes ten times larger files.
OVERLAY_CRF = 26
OVERLAY_PRESET = "superfast"
#: Clips shorter than this many frames per process are drawn in one process.
OVERLAY_MIN_SEGMENT_FRAMES = 150
#: A new process's start (Python, NumPy, PyAV, OpenCV, Pillow, pandas) in frames.
_STARTUP_FRAMES = 40.0


def _panel_lines(analysis) -> list[tuple[str, tuple[int, int, int]]]:
    s = analysis.summary

    def med(name: str) -> float | None:
        v = (s.get(name) or {}).get("median")
        return float(v) if v is not None and np.isfinite(v) else None

    lines = [("posecoach", (255, 255, 255))]
    for name, fmt in (("cadence_spm", "Cadence {:.0f} steps/min"),
                      ("ground_contact_ms", "Contact {:.0f} ms"),
                      ("flight_ms", "Flight {:.0f} ms"),
                      ("overstride_cm", "Overstride {:+.0f} cm"),
                      ("vertical_oscillation_cm", "Bounce {:.1f} cm")):
        v = med(name)
        if v is not None:
            lines.append((fmt.format(v), (230, 230, 230)))
    fs = (analysis.foot_strike or {}).get("pattern")
    if fs and fs != "unknown":
        lines.append((f"Foot strike: {fs}", (230, 230, 230)))
    if not analysis.is_running:
        lines.append((f"Gait: {analysis.gait.get('classification')}", (255, 180, 80)))
    return lines


@dataclass
class OverlayDrawing:
    """What is drawn on each frame, ready to be sent to another process.

    Attributes
    ----------
    frames : ndarray of int, shape (n,)
        Frame indices that have a pose row (increasing).
    points : ndarray of float, shape (n, k, 2)
        Keypoint positions on the overlay's frames (NaN when unknown).
    names : list of str
        Keypoint names (k).
    ground : ndarray of bool, shape (n, 2)
        Left and right leg's keypoints showing a foot on the ground (a contact given to the
        other foot is drawn under the leg that shows it).
    labels : dict of int to str
        Event labels ("L IC", "R TO", ...) by frame index.
    panel : ndarray of uint8, shape (h, w, 4)
        The metrics panel (RGBA), drawn at the top left of every frame.
    near : str
        Side nearer the camera.
    width_px : float
        Line width.
    size : tuple of int
        Width and height of the overlay's frames.
    """

    frames: np.ndarray
    points: np.ndarray
    names: list[str]
    ground: np.ndarray
    labels: dict[int, str]
    panel: np.ndarray
    near: str
    width_px: float
    size: tuple[int, int]
    _rows: dict[int, int] = field(default_factory=dict, init=False, repr=False)
    _blend: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_analysis(cls, analysis, size: tuple[int, int], full_size: tuple[int, int], *,
                      poses=None) -> OverlayDrawing:
        """Collect the drawing of every frame from an analysis.

        Parameters
        ----------
        analysis : Analysis
            With ``poses`` (pixel poses) and ``events``.
        size : (int, int)
            Width and height of the overlay's frames.
        full_size : (int, int)
            Width and height of the video's frames (the poses' pixels).
        poses : xarray.Dataset, optional
            Cleaned pixel poses (:func:`posecoach.report._common.pixel_poses`); computed if omitted.

        Raises
        ------
        ReportError
            If the analysis has no pixel poses.
        """
        poses = C.pixel_poses(analysis) if poses is None else poses
        out_w, out_h = size
        scale = np.array([out_w / full_size[0], out_h / full_size[1]])
        frames = poses["frame"].values.astype(np.int64)
        t_end = float(poses["time"].values[-1]) if poses.sizes["time"] else None
        # the marker goes under the leg whose keypoints show the contact (its track)
        contacts = C.with_tracks(C.contact_intervals(analysis.events, end_time_s=t_end),
                                 getattr(analysis, "steps", None))
        ground = np.stack([C.contact_mask(contacts, frames, side, column="track")
                           for side in C.SIDES], axis=1)
        labels: dict[int, list[str]] = {}
        for r in analysis.events.itertuples():
            labels.setdefault(int(r.frame), []).append(
                f"{r.side[0].upper()} {'IC' if r.kind == 'initial_contact' else 'TO'}")
        return cls(
            frames=frames,
            points=poses["position"].values[..., :2].astype(np.float64) * scale,
            names=[str(k) for k in poses["keypoint"].values],
            ground=ground.reshape(len(frames), 2),
            labels={f: " ".join(v) for f, v in labels.items()},
            panel=C.text_panel(_panel_lines(analysis), size_px=max(12, out_h // 40)),
            near=C.near_side(analysis, poses),
            width_px=max(2.0, out_h / 160),
            size=(int(out_w), int(out_h)),
        )

    def subset(self, first_frame: int, end_frame: int) -> OverlayDrawing:
        """The drawing of frames ``first_frame <= frame < end_frame`` only (to send to a worker)."""
        keep = (self.frames >= first_frame) & (self.frames < end_frame)
        return OverlayDrawing(
            frames=self.frames[keep], points=self.points[keep], names=self.names,
            ground=self.ground[keep],
            labels={f: t for f, t in self.labels.items() if first_frame <= f < end_frame},
            panel=self.panel, near=self.near, width_px=self.width_px, size=self.size,
        )

    def _blend_panel(self, img: np.ndarray, x: int = 8, y: int = 8) -> None:
        """Alpha-blend the panel at (x, y), in place (as ``C.blend_patch``, one OpenCV call)."""
        import cv2

        h, w = img.shape[:2]
        ph, pw = self.panel.shape[:2]
        ph, pw = min(ph, h - y), min(pw, w - x)
        if ph <= 0 or pw <= 0:
            return
        if self._blend is None:
            p = self.panel[:ph, :pw]
            alpha = p[..., 3].astype(np.float32) / 255.0
            self._blend = (np.ascontiguousarray(p[..., :3]), 1.0 - alpha, alpha)
        rgb, inv, alpha = self._blend
        region = img[y:y + ph, x:x + pw]
        region[...] = cv2.blendLinear(np.ascontiguousarray(region), rgb, inv, alpha)

    def draw(self, img: np.ndarray, index: int) -> np.ndarray:
        """Draw frame ``index``'s skeleton, contacts, labels and the panel on ``img``.

        ``img`` (RGB uint8, the overlay's size) is drawn on in place; the returned
        array (the same one unless a label was drawn) is the picture.
        """
        if not self._rows:
            self._rows = {int(f): i for i, f in enumerate(self.frames)}
        row = self._rows.get(int(index))
        if row is not None:
            pts = {n: p for n, p in zip(self.names, self.points[row], strict=True)
                   if np.isfinite(p).all()}
            on = self.ground[row]
            support = next((s for s, g in zip(C.SIDES, on, strict=True) if g), None)
            width = self.width_px
            C.draw_skeleton(img, pts, near=self.near, width_px=width, support=support)
            for side, g in zip(C.SIDES, on, strict=True):
                if g:
                    heel, toe = pts.get(f"{side}_heel"), pts.get(f"{side}_foot_index")
                    colour = C.NEAR_RGB if side == self.near else C.FAR_RGB
                    C.draw_line(img, heel, toe, (255, 255, 255), int(width * 3))
                    C.draw_dot(img, toe, colour, width * 2.2, outline=(255, 255, 255))
            text = self.labels.get(int(index))
            if text is not None:
                out_w, out_h = self.size
                anchor = pts.get("nose", np.array([out_w / 2, out_h / 4]))
                img = np.array(C.draw_labels(img, [(text, (float(anchor[0]) - 20, float(anchor[1]) - 60),
                                                    (255, 235, 60))], size_px=max(12, out_h // 30)))
        self._blend_panel(img)
        return img


def _draw_part(
    drawing: OverlayDrawing,
    video_path: str,
    out_path: str,
    *,
    fps: float,
    max_side_px: int,
    start_s: float | None = None,
    end_s: float | None = None,
    threads: int = 0,
) -> int:
    """Decode, draw and encode the frames with ``start_s <= time_s < end_s``; returns their count."""
    from posecoach.video import VideoReader, VideoWriter

    if threads == 1:  # this process is one of several, one per core
        import cv2
        from threadpoolctl import threadpool_limits

        cv2.setNumThreads(1)
        threadpool_limits(limits=1, user_api="blas")  # for the rest of this worker's life
    reader = VideoReader(video_path, max_side_px=max_side_px, skip_loop_filter=True,
                         keep_damaged=True)
    out_w, out_h = drawing.size
    n = 0
    previous = None
    with VideoWriter(Path(out_path), fps=fps, width_px=out_w, height_px=out_h, crf=OVERLAY_CRF,
                     preset=OVERLAY_PRESET, threads=threads) as writer:
        for fr in reader.frames(start_s=start_s, end_s=end_s):
            if previous is not None:  # a frame lost in a damaged file: hold the last picture
                for _ in range(fr.index - previous[0] - 1):
                    writer.write_rgb_fast(previous[1])
                    n += 1
            img = drawing.draw(np.ascontiguousarray(fr.image), fr.index)
            writer.write_rgb_fast(img)
            n += 1
            previous = (fr.index, img)
    return n


def join_h264(parts: list[Path], out_path: Path) -> Path:
    """Join H.264 MP4 files made with the same settings into one, without re-encoding.

    The packets of each part are copied with their time stamps shifted by the
    duration of the parts before it (each part's frames are numbered from 0 at the
    same frame rate, as :class:`~posecoach.video.VideoWriter` writes them).

    Parameters
    ----------
    parts : list of Path
        The parts in order; each must start with a key frame.
    out_path : Path
        The joined MP4.

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    ReportError
        If the parts have different codecs, sizes, time bases or decoder set-ups
        (extradata), so that their packets cannot share one stream.
    """
    import av

    inputs = [av.open(str(p)) for p in parts]
    try:
        streams = [c.streams.video[0] for c in inputs]
        first = streams[0]
        for s in streams[1:]:
            same = (s.codec_context.name, s.codec_context.width, s.codec_context.height,
                    s.time_base, bytes(s.codec_context.extradata or b"")) == (
                first.codec_context.name, first.codec_context.width, first.codec_context.height,
                first.time_base, bytes(first.codec_context.extradata or b""))
            if not same:
                raise C.ReportError("the overlay's parts were encoded differently and cannot be joined")
        tb = first.time_base
        out = av.open(str(out_path), mode="w", options={"movflags": "+faststart"})
        try:
            ost = out.add_stream_from_template(first)
            ost.time_base = tb
            offset = 0  # in the time base: end of the parts copied so far
            for c, s in zip(inputs, streams, strict=True):
                end = offset
                for packet in c.demux(s):
                    if packet.dts is None and packet.pts is None:
                        continue  # the demuxer's end-of-stream packet
                    dur = int(packet.duration or 0)
                    if dur <= 0:
                        raise C.ReportError("an overlay part has a packet without duration")
                    packet.pts = int(packet.pts) + offset
                    packet.dts = int(packet.dts) + offset
                    end = max(end, packet.pts + dur)
                    packet.stream = ost
                    packet.time_base = tb
                    out.mux(packet)
                offset = end
        finally:
            out.close()
    finally:
        for c in inputs:
            c.close()
    return out_path


def _spawn_pool(n: int) -> Any:
    """``n`` worker processes, spawned: the calling process may hold MediaPipe and threads
    (fork is unsafe then).
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"))


def _warm_up() -> int:
    """Import what drawing a part needs (run in a fresh worker before the work arrives)."""
    import av  # noqa: F401
    import cv2  # noqa: F401

    from posecoach.video import VideoReader  # noqa: F401

    return os.getpid()


class OverlayWorkers:
    """Worker processes for the overlay, started before the work is known.

    A new process needs ~0.5-0.8 s of CPU before it can draw (Python, NumPy, pandas,
    PyAV, OpenCV). Started right after pose estimation, the processes make that start
    while the calling process analyses the poses on one core, instead of after the
    analysis, when every core has work. Pass the object to :func:`start_overlay`
    (``workers=``) and close it afterwards (or use it as a context manager).

    Parameters
    ----------
    workers : int, optional
        Processes (default: all cores, :func:`posecoach.pose.parallel.default_workers`).
        With 1 no process is started: the overlay is drawn in the calling process.
    """

    def __init__(self, workers: int | None = None) -> None:
        from posecoach.pose.parallel import default_workers

        self.workers = default_workers() if workers is None else max(1, int(workers))
        self.pool: Any = None
        if self.workers > 1:
            self.pool = _spawn_pool(self.workers)
            for _ in range(self.workers):  # every process starts now and imports its modules
                self.pool.submit(_warm_up)

    def close(self) -> None:
        """Stop the processes (pending work is cancelled)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> OverlayWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OverlayJob:
    """``overlay.mp4`` being written, possibly by other processes (see :func:`start_overlay`).

    With ``segments`` (frame ranges and their time ranges), one worker process
    draws and encodes each, starting at once; without, the whole video is written
    in this process when :meth:`result` is called. Call :meth:`result` to wait for
    the file (and to clean up).
    """

    def __init__(self, drawing: OverlayDrawing, video_path: Path, out_path: Path, *, fps: float,
                 max_side_px: int, segments: list[tuple[int, int, float | None, float | None]],
                 pool: Any = None) -> None:
        self.drawing = drawing
        self.video_path = video_path
        self.out_path = out_path
        self.fps = fps
        self.max_side_px = max_side_px
        self.segments = segments
        self._pool: Any = None
        self._own_pool = pool is None  # a pool given by the caller is the caller's to close
        self._futures: list[Any] = []
        self._tmp: Path | None = None
        if segments:
            self._start_pool(pool)

    def _start_pool(self, pool: Any = None) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix=".overlay-", dir=self.out_path.parent))
        self._pool = pool or _spawn_pool(len(self.segments))
        for i, (first, end, start_s, end_s) in enumerate(self.segments):
            self._futures.append(self._pool.submit(
                _draw_part, self.drawing.subset(first, end), str(self.video_path),
                str(self._tmp / f"part{i:03d}.mp4"), fps=self.fps, max_side_px=self.max_side_px,
                start_s=start_s, end_s=end_s, threads=1))

    def result(self) -> Path:
        """Wait until ``overlay.mp4`` is complete and return its path."""
        if self._pool is None:
            _draw_part(self.drawing, str(self.video_path), str(self.out_path), fps=self.fps,
                       max_side_px=self.max_side_px)
            return self.out_path
        try:
            counts = [f.result() for f in self._futures]
            parts = [self._tmp / f"part{i:03d}.mp4" for i in range(len(self._futures))]
            for (first, end, _, _), n in zip(self.segments, counts, strict=True):
                if n != end - first:  # a damaged file: the parts' times would not add up
                    parts = []
            if len(parts) == 1:
                os.replace(parts[0], self.out_path)
            elif parts:
                join_h264(parts, self.out_path)
            else:  # pragma: no cover - truncated or damaged videos
                _draw_part(self.drawing, str(self.video_path), str(self.out_path), fps=self.fps,
                           max_side_px=self.max_side_px)
        finally:
            self.close()
        return self.out_path

    def close(self) -> None:
        """Stop the worker processes and remove the temporary parts."""
        if self._pool is not None:
            for f in self._futures:
                f.cancel()
            if self._own_pool:
                self._pool.shutdown(wait=True, cancel_futures=True)
            else:  # the caller's processes: wait for this job's parts only
                from concurrent.futures import wait

                wait(self._futures)
            self._pool = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def start_overlay(analysis, video_path: str | Path, out_path: str | Path, *,
                  max_side_px: int = OVERLAY_MAX_SIDE_PX,
                  workers: int | OverlayWorkers | None = None,
                  min_segment_frames: int = OVERLAY_MIN_SEGMENT_FRAMES, poses=None) -> OverlayJob:
    """Start writing ``out_path`` (MP4) in worker processes; :meth:`OverlayJob.result` finishes it.

    Parameters are those of :func:`write_overlay`; ``workers`` may also be
    :class:`OverlayWorkers` started earlier (they are used and left running), and
    ``poses`` the cleaned pixel poses when the caller has them already. With
    more than one worker and at least ``min_segment_frames`` frames, the workers
    (one per segment) start drawing at once and work while the caller does
    something else (e.g. writes ``report.html``); otherwise the work happens in
    ``result()``, in this process.

    Raises
    ------
    ReportError
        If the analysis has no pixel poses.
    """
    from posecoach.pose.parallel import decode_cost_for, default_workers, plan_segments
    from posecoach.video import VideoReader

    video_path, out_path = Path(video_path), Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    reader = VideoReader(video_path, max_side_px=max_side_px)
    out_w, out_h, _ = reader.output_size()
    info = reader.info
    drawing = OverlayDrawing.from_analysis(analysis, (out_w, out_h), (info.width_px, info.height_px),
                                           poses=poses)
    ready = workers if isinstance(workers, OverlayWorkers) else None
    if ready is not None:
        n_workers = ready.workers if ready.pool is not None else 1
    else:
        n_workers = default_workers() if workers is None else max(1, int(workers))
    segments: list[tuple[int, int, float | None, float | None]] = []
    # with more than one core even a short clip gets a process of its own, so that it
    # is drawn while this process writes report.html
    if n_workers > 1 and info.n_frames >= min_segment_frames:
        time_s, is_key = reader.layout()
        # decoding costs about half of a frame's overlay work (drawing + encoding the rest)
        decode_cost = min(0.9, 2.5 * decode_cost_for(info.width_px, info.height_px))
        # processes started ahead are ready: every segment then starts at once
        startup = 0.0 if ready is not None else _STARTUP_FRAMES
        plan = plan_segments(time_s, n_workers, is_key=is_key, decode_cost=decode_cost,
                             startup_frames=startup, min_segment_frames=min_segment_frames)
        n = time_s.size
        for seg in plan:
            a, b = seg.first_frame, seg.end_frame
            segments.append((a, b, None if a == 0 else float(0.5 * (time_s[a - 1] + time_s[a])),
                             None if b >= n else float(0.5 * (time_s[b - 1] + time_s[b]))))
    return OverlayJob(drawing, video_path, out_path, fps=info.fps, max_side_px=max_side_px,
                      segments=segments, pool=ready.pool if ready is not None else None)


def write_overlay(analysis, video_path: str | Path, out_path: str | Path, *,
                  max_side_px: int = OVERLAY_MAX_SIDE_PX, workers: int | None = None,
                  min_segment_frames: int = OVERLAY_MIN_SEGMENT_FRAMES) -> Path:
    """Write ``out_path`` (MP4): the input video with skeleton, contacts and metrics.

    Parameters
    ----------
    analysis : Analysis
        With ``poses`` (pixel poses) and ``events``.
    video_path : path
        The analysed video.
    out_path : path
        Destination ``.mp4``.
    max_side_px : int
        Longest side of the output frames.
    workers : int, optional
        Processes drawing and encoding (default: all cores); 1 draws in this process.
    min_segment_frames : int
        Fewer processes are used when each would get fewer frames than this; a
        clip shorter than this is drawn in this process.

    Raises
    ------
    ReportError
        If the analysis has no pixel poses.
    """
    return start_overlay(analysis, video_path, out_path, max_side_px=max_side_px, workers=workers,
                         min_segment_frames=min_segment_frames).result()
