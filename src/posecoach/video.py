"""Video reading with PyAV (FFmpeg): frames, true presentation times, rotation.

Phones record variable frame rate and store portrait clips as landscape pixels
plus a *display matrix* (rotation metadata). posecoach therefore

- reads every frame's presentation time (``Frame.time_s``) instead of assuming
  ``index / fps``;
- rotates each frame upright according to the display matrix, so all later
  coordinates refer to the picture as a person sees it;
- numbers frames by their position in presentation order (0-based), which is
  what ``Frame.index`` and the pose dataset's ``frame`` coordinate hold;
- scales straight to the size the pose model needs (``max_side_px``) and
  converts colour at that size (4:2:0 planes shrunk with OpenCV, else one
  swscale call), so a 4K frame is never expanded to a full-size RGB array;
- offers cheaper decoding where the exact picture does not matter
  (``skip_loop_filter``) and one-thread decoding for one process per core
  (``decoder_threads``).

Errors the user can act on raise :class:`~posecoach.errors.VideoError`.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.errors import VideoError

__all__ = ["Frame", "VideoInfo", "VideoReader", "iter_frames", "probe"]

#: Largest relative spread of frame intervals still counted as constant frame rate.
_VFR_TOLERANCE = 0.05


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds (sizes are of the upright picture).

    Attributes
    ----------
    path : Path
    width_px, height_px : int
        Size of the upright picture (after applying the rotation).
    rotation_deg : int
        Counter-clockwise rotation applied to the stored pixels to show them
        upright (0, 90, 180 or 270).
    fps : float
        Nominal frames per second: one over the median interval between frame times
        (frames missing from the times, such as a truncated file's lost B-frames or
        frames a phone dropped, leave gaps that do not lower it).
    n_frames : int
        Number of video frames in the file (counted from its packets).
    duration_s : float
        Time from the first to the last frame plus one frame interval.
    codec : str
        Decoder name (e.g. ``"h264"``).
    is_variable_frame_rate : bool
        True when the frame intervals scatter by more than 5 % (standard deviation) about
        whole multiples of the median interval.
    missing_frames : int
        Frames absent from the frame times: intervals of two or more median intervals
        (frames a recorder dropped, or a truncated file's lost B-frames) count one less
        than their length. The frames present keep their true times.
    """

    path: Path
    width_px: int
    height_px: int
    rotation_deg: int
    fps: float
    n_frames: int
    duration_s: float
    codec: str
    is_variable_frame_rate: bool
    missing_frames: int = 0

    def to_dict(self) -> dict:
        """Plain-JSON representation."""
        return {
            "path": str(self.path),
            "width": self.width_px,
            "height": self.height_px,
            "rotation_deg": self.rotation_deg,
            "fps": self.fps,
            "n_frames": self.n_frames,
            "duration_s": self.duration_s,
            "codec": self.codec,
            "is_variable_frame_rate": self.is_variable_frame_rate,
            "missing_frames": self.missing_frames,
        }


@dataclass
class Frame:
    """One decoded, upright video frame.

    Attributes
    ----------
    index : int
        0-based position of the frame in presentation order.
    time_s : float
        Presentation time relative to the first frame, in seconds.
    image : ndarray
        RGB uint8 array of shape (height, width, 3), upright.
    scale : float
        ``image`` size divided by the full upright size (1.0 when not downscaled).
        Divide coordinates measured on ``image`` by ``scale`` to get full-size pixels.
    """

    index: int
    time_s: float
    image: np.ndarray
    scale: float = 1.0


def _open(path: Path):
    import av

    if not path.exists():
        raise VideoError(f"video not found: {path}. Check the path and file name.")
    if path.is_dir():
        raise VideoError(f"{path} is a folder, not a video file.")
    if path.stat().st_size == 0:
        raise VideoError(f"{path} is empty (0 bytes). Copy the video again from the camera or phone.")
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise VideoError(
            f"{path} cannot be read as a video ({exc.strerror or exc}). It may be truncated (an "
            "interrupted copy or upload) or not a video at all. Export it again as MP4 (H.264) or MOV."
        ) from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path} has no video stream (audio or data only).")
    if container.format.name == "image2" or container.format.name.endswith("_pipe"):
        name = container.format.name
        container.close()
        raise VideoError(f"{path} is a still picture ({name}), not a video: posecoach needs a "
                         "video of the runner running, filmed from the side over several steps.")
    return container


def _check_frame_times(path: Path, pts: list[int], untimed: int, stream) -> None:
    """Refuse a video whose frames carry no usable times, saying how to repair it.

    posecoach times every step from the frames' presentation times. A raw stream
    (``.h264`` as some cameras write it) has none; a badly muxed file may give many
    frames the same time (all at 0 s). Either would fail much later, after the whole
    pose pass, with an error that says nothing useful.
    """
    # an example for the command only (the message asks for the true rate): the codec's or
    # the container's stated rate before the average, which broken times make meaningless
    rates = [r for r in (stream.codec_context.framerate, stream.guessed_rate, stream.average_rate)
             if r and 1 <= float(r) <= 1000]
    rate_txt = f"{float(rates[0]):.3g}" if rates else "25"
    if untimed and not pts:
        raise VideoError(
            f"{path} has no frame times (a raw video stream without a container?), so its steps "
            "cannot be timed. Put it into a container at the rate it was filmed at, e.g. "
            f"`ffmpeg -framerate {rate_txt} -i {path.name} -c copy {path.stem}.mp4` (use the true "
            "frame rate), and analyse that file."
        )
    shared = sum(c for c in Counter(pts).values() if c > 1)
    if shared:
        raise VideoError(
            f"{path}: the frame times are broken ({shared} of {len(pts)} frames share a time with "
            "another), so its steps cannot be timed. Re-encode it with "
            "fresh times at the rate it was filmed at, e.g. "
            f"`ffmpeg -i {path.name} -vf \"setpts=N/({rate_txt}*TB)\" -r {rate_txt} {path.stem}-fixed.mp4` "
            "(use the true frame rate), and analyse that file."
        )


#: Probe results of recently opened files (see :func:`_file_key`), newest last.
_PROBES: dict[tuple, tuple] = {}
_PROBE_CACHE_SIZE = 8


def _file_key(path: Path) -> tuple | None:
    """Identity of a file's current content for the probe cache (None: not cacheable)."""
    try:
        st = path.stat()
        return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    except OSError:
        return None


def _rotation_of(frame) -> int:
    """Counter-clockwise rotation (0/90/180/270) from a frame's display matrix."""
    rot = int(round(float(getattr(frame, "rotation", 0) or 0))) % 360
    return int(90 * round(rot / 90)) % 360


def _upright(image: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Rotate an (H, W, C) image counter-clockwise by ``rotation_deg`` (multiple of 90)."""
    k = (rotation_deg // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=k)) if k else image


def _plane(frame, k: int, width: int, height: int) -> np.ndarray:
    """One plane of a decoded frame as an (height, width) uint8 view (row padding dropped)."""
    plane = frame.planes[k]
    return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:height, :width]


def _area_shrink(plane: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average a plane down to ``(height, width)``: halvings first, then the rest.

    OpenCV's area resampling has a fast path for an exact factor of 2 (a 4K luma
    plane to 1920 px and again to 960 px: 0.7 ms, against 3.6 ms for the single
    factor-4 step, which takes the generic path). Two 2x2 box averages are one 4x4
    box average, up to the rounding of the intermediate plane (at most one grey
    level, 0.27 on average for a 4K frame); a frame at most twice the target size
    (1080p to 960 px) gets the single call it always got.
    """
    import cv2

    while plane.shape[1] >= 2 * width and plane.shape[0] >= 2 * height and (
        plane.shape[1] // 2 != width or plane.shape[0] // 2 != height
    ):
        plane = cv2.resize(plane, (plane.shape[1] // 2, plane.shape[0] // 2),
                           interpolation=cv2.INTER_AREA)
    return cv2.resize(plane, (width, height), interpolation=cv2.INTER_AREA)


def _small_rgb(frame, width: int, height: int) -> np.ndarray:
    """Downscale a decoded frame and convert it to RGB, cheaply.

    For 8-bit 4:2:0 video (nearly every phone and camera clip) the Y, U and V planes
    are shrunk first (area averaging) and converted to RGB at the small size, which
    costs about a fifth of FFmpeg's combined convert-and-scale for a 1080p frame
    (0.7 vs 3.5-5 ms, measured in docs/performance.md). Other formats go through
    swscale. ``width`` and ``height`` must be even.
    """
    import cv2

    if frame.format.name not in ("yuv420p", "yuvj420p") or width % 2 or height % 2:
        return frame.to_ndarray(width=width, height=height, format="rgb24", interpolation="AREA")
    w, h = frame.width, frame.height
    y = _area_shrink(_plane(frame, 0, w, h), width, height)
    u = _area_shrink(_plane(frame, 1, (w + 1) // 2, (h + 1) // 2), width // 2, height // 2)
    v = _area_shrink(_plane(frame, 2, (w + 1) // 2, (h + 1) // 2), width // 2, height // 2)
    i420 = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(height * 3 // 2, width)
    return cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420)


class VideoReader:
    """Read a video file frame by frame, upright, with true presentation times.

    Parameters
    ----------
    path : str or Path
        The video file.
    max_side_px : int, optional
        Downscale frames (keeping aspect ratio) so their longer side is at most
        this many pixels; colour conversion and scaling happen in one step.
    skip_loop_filter : bool
        Decode without H.264/HEVC's deblocking filter (FFmpeg's
        ``skip_loop_filter=all``): ~30 % less decoding work (4K: 20.4 -> 14.4 ms per
        frame, one thread); the block edges it would smooth are mostly averaged away
        when frames are shrunk. Later frames predict from the unfiltered pictures, so
        errors build up until the next key frame: for pictures to look at (the
        overlay), not for measuring.
    decoder_threads : int
        Threads of the FFmpeg decoder (0: FFmpeg chooses, frame and slice threads
        for every core). 1 saves the threads' overhead (~0.5 ms of CPU per 1080p
        frame) when every core already runs a process of its own. Decoding is
        bit-exact either way.
    keep_damaged : bool
        Also yield pictures the decoder marks as damaged (a corrupt packet in the file,
        or a reference picture lost with it), as FFmpeg concealed them: for pictures to
        look at (the overlay). By default they are left out (no pose is measured on
        them) and named in :attr:`warnings`.

    Attributes
    ----------
    info : VideoInfo
        Properties of the file, read when the reader is created.
    warnings : list of str
        Problems met while decoding (e.g. a truncated file), for the user.
    left_out : dict
        Frame index -> time (s) of every frame left out so far because the file's data
        were damaged (or lost; see ``keep_damaged``), also named in :attr:`warnings`.
    """

    def __init__(self, path: str | Path, *, max_side_px: int | None = None,
                 skip_loop_filter: bool = False, decoder_threads: int = 0,
                 keep_damaged: bool = False) -> None:
        self.path = Path(path)
        self.keep_damaged = bool(keep_damaged)
        self.max_side_px = max_side_px
        self.skip_loop_filter = bool(skip_loop_filter)
        self.decoder_threads = max(0, int(decoder_threads))
        self.warnings: list[str] = []
        self.left_out: dict[int, float] = {}
        self._pts: list[int] = []
        self._key: np.ndarray = np.zeros(0, dtype=bool)
        self._time_base = Fraction(1, 90000)
        key = _file_key(self.path)
        cached = _PROBES.get(key) if key is not None else None
        if cached is None:
            self.info = self._probe()
            if key is not None:
                while len(_PROBES) >= _PROBE_CACHE_SIZE:
                    _PROBES.pop(next(iter(_PROBES)))
                _PROBES[key] = (self.info, tuple(self._pts), self._key, self._time_base,
                                tuple(self.warnings))
        else:
            self.info, pts, self._key, self._time_base, warnings = cached
            self._pts, self.warnings = list(pts), list(warnings)

    def layout(self) -> tuple[np.ndarray, np.ndarray]:
        """Presentation time of every frame and which frames are key frames, from the packets.

        Times are relative to the first frame (as :attr:`Frame.time_s`), frames in
        presentation order (0-based index = :attr:`Frame.index`); the first frame
        always counts as a key frame (decoding can start there).

        Returns
        -------
        time_s : ndarray of float, shape (n,)
        is_key : ndarray of bool, shape (n,)
        """
        pts = np.asarray(self._pts, dtype=np.int64)
        tb = float(self._time_base)
        time_s = pts * tb - (pts[0] * tb if pts.size else 0.0)
        is_key = self._key.copy()
        if is_key.size:
            is_key[0] = True
        return time_s.astype(np.float64), is_key

    def _probe(self) -> VideoInfo:
        import av

        container = _open(self.path)
        try:
            stream = container.streams.video[0]
            tb = stream.time_base or Fraction(1, 90000)
            pts: list[int] = []
            keys: list[bool] = []
            untimed = 0
            try:
                for packet in container.demux(stream):
                    if packet.size and packet.pts is not None:
                        pts.append(int(packet.pts))
                        keys.append(bool(packet.is_keyframe))
                    elif packet.size:
                        untimed += 1
            except av.FFmpegError as exc:
                self.warnings.append(f"reading packets stopped early ({exc}); the file may be truncated")
            _check_frame_times(self.path, pts, untimed, stream)
            order = np.argsort(np.asarray(pts, dtype=np.int64), kind="stable")
            self._pts = [pts[i] for i in order]
            self._key = np.asarray(keys, dtype=bool)[order]
            self._time_base = Fraction(tb)
            pts = self._pts
            # read again from the start: a new container, not a seek (seeking to 0 fails in a
            # file whose first frame is not a key frame, e.g. a damaged one)
            container.close()
            container = _open(self.path)
            stream = container.streams.video[0]
            rotation = 0
            width, height = stream.codec_context.width, stream.codec_context.height
            try:
                # the first frame the decoder gives (a damaged first packet is skipped)
                first = next(_decode_packets(container, stream, []))
                rotation = _rotation_of(first)
                width, height = first.width, first.height
            except (StopIteration, av.FFmpegError) as exc:
                why = str(exc) or "every packet was rejected"
                raise VideoError(
                    f"{self.path} has a video stream but no frame could be decoded ({why}). The file "
                    "is probably truncated or damaged; copy or export it again."
                ) from exc
            if not width or not height:
                raise VideoError(f"{self.path}: the video stream reports no picture size.")
            if rotation in (90, 270):
                width, height = height, width
            n = len(pts)
            times = np.asarray(pts, dtype=np.float64) * float(tb)
            declared_s = float(stream.duration * tb) if stream.duration else (
                container.duration / 1e6 if container.duration else 0.0
            )
            covered_s = float(times[-1] - times[0]) if n >= 2 else 0.0
            if declared_s > 1.0 and covered_s < 0.9 * declared_s - 0.2:
                self.warnings.append(
                    f"the file's header says {declared_s:.1f} s but only {covered_s:.1f} s of frames are "
                    "present: the file is probably truncated (an interrupted copy or upload); only the "
                    "frames present are analysed"
                )
            if n >= 2:
                # the typical interval, not the mean: frames missing from the times (the
                # B-frames cut off a truncated file, frames a phone dropped) leave gaps of
                # whole intervals, which would make the mean rate too low; such gaps are not
                # a variable rate either. The times are strictly increasing here
                # (_check_frame_times), so the median interval is positive.
                dt_ticks = np.diff(np.asarray(pts, dtype=np.int64))
                step_exact = Fraction(float(np.median(dt_ticks))) * Fraction(tb)  # 50.0, not 49.99999999999996
                step = float(step_exact)
                dt = dt_ticks * float(tb)
                fps = float(1 / step_exact)
                k = np.maximum(np.round(dt / step), 1.0)
                vfr = bool(np.std(dt - k * step) > _VFR_TOLERANCE * step)
                missing = int(np.sum(k - 1.0))
                duration = float(times[-1] - times[0]) + 1.0 / fps
            else:
                fps = float(stream.average_rate or stream.guessed_rate or 0) or 30.0
                vfr = False
                missing = 0
                duration = n / fps
            return VideoInfo(
                path=self.path,
                width_px=int(width),
                height_px=int(height),
                rotation_deg=rotation,
                fps=float(fps),
                n_frames=n,
                duration_s=float(duration),
                codec=stream.codec_context.name,
                is_variable_frame_rate=vfr,
                missing_frames=missing,
            )
        finally:
            container.close()

    def output_size(self) -> tuple[int, int, float]:
        """Return (width, height, scale) of the frames this reader yields (upright)."""
        w, h = self.info.width_px, self.info.height_px
        if self.max_side_px and max(w, h) > self.max_side_px:
            scale = self.max_side_px / max(w, h)
            # even sizes keep swscale and encoders happy
            return max(2, int(round(w * scale / 2)) * 2), max(2, int(round(h * scale / 2)) * 2), scale
        return w, h, 1.0

    def _picture(self, frame) -> np.ndarray:
        """A decoded frame as this reader's upright RGB picture (:meth:`output_size`)."""
        out_w, out_h, _ = self.output_size()
        rotation = self.info.rotation_deg
        # the decoder's own (stored) size, before rotation
        dec_w, dec_h = (out_h, out_w) if rotation in (90, 270) else (out_w, out_h)
        if (frame.width, frame.height) == (dec_w, dec_h):
            image = frame.to_ndarray(format="rgb24")
        else:
            image = _small_rgb(frame, dec_w, dec_h)
        return _upright(image, rotation)

    def frames(self, *, start_s: float | None = None, end_s: float | None = None,
               only: Container[int] | None = None) -> Iterator[Frame]:
        """Yield upright frames in presentation order.

        Parameters
        ----------
        start_s, end_s : float, optional
            Only frames with ``start_s <= time_s < end_s`` (times relative to the
            first frame). Seeking makes a late segment cheap to reach.
        only : container of int, optional
            Only the frames with these indices; the others are decoded (as the
            codec needs them) but never converted to RGB.
        """
        import av

        out_w, out_h, scale = self.output_size()
        scale_x = scale_y = scale
        if scale != 1.0:
            full_w, full_h = self.info.width_px, self.info.height_px
            scale_x, scale_y = out_w / full_w, out_h / full_h
        container = _open(self.path)
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if self.decoder_threads:
                stream.codec_context.thread_count = self.decoder_threads
            if self.skip_loop_filter:
                stream.codec_context.options = {"skip_loop_filter": "all"}
            tb = float(stream.time_base or Fraction(1, 90000))
            t0 = self._pts[0] * tb if self._pts else None
            if start_s is not None and start_s > 0 and t0 is not None:
                container.seek(int((t0 + start_s) / tb), stream=stream, backward=True, any_frame=False)
            count = 0
            lost: list[int | None] = []  # time stamps of packets the decoder rejected
            left_out: dict[int, float] = {}  # frame index -> time, frames damaged or lost
            previous = None
            times = None  # every frame's time (self.layout()), once a frame needs it
            # after damage, pictures predicted from a lost or damaged one are wrong (without
            # the decoder noticing) until the next key frame, where decoding starts afresh
            damaged = False
            try:
                for frame in _decode_packets(container, stream, lost):
                    if frame.pts is not None and self._pts:
                        index = bisect.bisect_left(self._pts, int(frame.pts))
                        time_s = frame.pts * tb - t0
                    else:
                        index = count
                        time_s = float(frame.time or 0.0) - (t0 or 0.0)
                    count += 1
                    if end_s is not None and time_s >= end_s - 1e-9:
                        break
                    before = start_s is not None and time_s < start_s - 1e-9
                    if self._pts:
                        # frames the decoder never gave back (their packet was rejected, or
                        # they were predicted from one; with frame threads the error is
                        # reported for a later packet): before the first frame it gave, too
                        if times is None:
                            times = self.layout()[0]
                        if previous is None:
                            lo = 0 if start_s is None else int(np.searchsorted(times, start_s - 1e-9))
                        else:
                            lo = previous + 1
                        for i in range(lo, index):
                            if start_s is None or times[i] >= start_s - 1e-9:
                                left_out[i] = float(times[i])
                        damaged = damaged or index > lo
                    previous = max(index, previous if previous is not None else index)
                    damaged = damaged or bool(lost)
                    lost.clear()
                    if damaged and index < len(self._key) and self._key[index]:
                        damaged = False  # decoding starts afresh at a key frame
                    damaged = damaged or frame.is_corrupt
                    if before:
                        continue
                    if only is not None and index not in only:
                        continue
                    if damaged and not self.keep_damaged:
                        left_out[index] = float(time_s)
                        continue
                    yield Frame(
                        index=index,
                        time_s=float(time_s),
                        image=self._picture(frame),
                        scale=float(np.sqrt(scale_x * scale_y)),
                    )
            except av.FFmpegError as exc:
                if count == 0:
                    raise VideoError(
                        f"{self.path}: no frame could be decoded ({exc}). The file is damaged or truncated."
                    ) from exc
                self.warnings.append(
                    f"decoding stopped at frame {count} of {self.info.n_frames} ({exc}); the file is "
                    "probably truncated, so only the frames before that point are analysed"
                )
            if count == 0 and (lost or left_out):
                raise VideoError(
                    f"{self.path}: no frame could be decoded (every packet read was damaged). "
                    "The file is damaged: copy or export it again."
                )
            if left_out:  # (a rejected packet whose frames all came back lost nothing here)
                self.left_out.update(left_out)
                self.warnings.append(damage_note(left_out, kept=self.keep_damaged))
        finally:
            container.close()

    def pictures(self, indices: Iterable[int]) -> dict[int, np.ndarray]:
        """Some frames' pictures (upright RGB at :meth:`output_size`), decoding as little as possible.

        A decoder can only start at a key frame, so the wanted frames are read in one pass
        per group of pictures, from its key frame to the last wanted frame in it. Inside a
        pass only the frames that others are predicted from, and the wanted ones, are
        decoded (FFmpeg's ``skip_frame``, set packet by packet: non-reference frames, most
        B-frames, are skipped), with one decoding thread. The pictures are the same to
        the byte as :meth:`frames` gives; on an H.264 clip about a quarter of the frames up
        to the last wanted one are decoded. Any frame the decoder does not give back that
        way is read with :meth:`frames`.

        Parameters
        ----------
        indices : iterable of int
            Frame indices (as :attr:`Frame.index`); those outside the video are ignored.

        Returns
        -------
        dict
            Frame index -> picture, for every index found.
        """
        import av

        time_s, is_key = self.layout()
        n = len(time_s)
        if n == 0:  # no packet times: frames are numbered as decoded
            only = {int(i) for i in indices}
            return {fr.index: fr.image for fr in self.frames(only=only) if fr.index in only}
        wanted = sorted({int(i) for i in indices if 0 <= int(i) < n})
        if not wanted:
            return {}
        key_rows = np.flatnonzero(is_key)
        passes: dict[int, list[int]] = {}
        for f in wanted:  # one pass per key frame
            passes.setdefault(int(key_rows[np.searchsorted(key_rows, f, side="right") - 1]), []).append(f)
        got: dict[int, np.ndarray] = {}
        try:
            container = _open(self.path)
        except VideoError:
            container = None
        if container is not None:
            try:
                stream = container.streams.video[0]
                ctx = stream.codec_context
                ctx.thread_count = 1  # skip_frame is decided packet by packet
                for frames in passes.values():
                    need = {int(self._pts[f]): f for f in frames}
                    last = max(need)
                    container.seek(min(need), stream=stream, backward=True, any_frame=False)
                    groups_past_last = 0
                    for packet in container.demux(stream):
                        ctx.skip_frame = "DEFAULT" if packet.pts in need else "NONREF"
                        for frame in ctx.decode(packet):
                            f = need.pop(frame.pts, None) if frame.pts is not None else None
                            if f is not None:
                                got[f] = self._picture(frame)
                        if not need:
                            break
                        # a wanted frame the decoder never gives back: stop at the next group
                        if packet.pts is not None and packet.pts > last and packet.is_keyframe:
                            groups_past_last += 1
                            if groups_past_last > 1:
                                break
                    ctx.skip_frame = "DEFAULT"
            except av.FFmpegError:
                pass  # the rest is read below, where a damaged file gets its warning
            finally:
                container.close()
        half = 0.5 / max(self.info.fps, 1.0)
        for frames in passes.values():
            rest = [f for f in frames if f not in got]
            if not rest:
                continue
            for fr in self.frames(start_s=max(0.0, float(time_s[rest[0]]) - half),
                                  end_s=float(time_s[rest[-1]]) + half, only=set(rest)):
                got[fr.index] = fr.image
        return got


#: How :func:`damage_note` begins (to tell it from other warnings).
DAMAGE_NOTE_START = "the video holds damaged data"


def damage_note(left_out: dict[int, float], *, kept: bool = False, extra: str = "") -> str:
    """The warning for frames lost (or, unless ``kept``, damaged and left out) while decoding.

    Parameters
    ----------
    left_out : dict
        Frame index -> time (s) of each such frame (:attr:`VideoReader.left_out`).
    kept : bool
        The damaged pictures were given out (``keep_damaged``); only lost ones are named.
    extra : str
        A further remark, after the frames.
    """
    frames = sorted(left_out)
    runs: list[list[int]] = []
    for i in frames:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    listed = ", ".join(
        f"{a} ({left_out[a]:.2f} s)" if a == b else f"{a}-{b} ({left_out[a]:.2f}-{left_out[b]:.2f} s)"
        for a, b in runs[:5])
    more = f" and {len(runs) - 5} more stretches" if len(runs) > 5 else ""
    one = len(frames) == 1
    how = "was lost" if one else "were lost"
    if not kept:
        how = (f"{'was' if one else 'were'} lost or damaged (up to the next key frame) and left "
               "out: no pose there")
    extra = f" ({extra})" if extra else ""
    return (f"{DAMAGE_NOTE_START}: frame{'' if one else 's'} {listed}{more} {how}{extra}; the "
            "other frames are analysed. If the file was copied or uploaded, copy or export it again")


def _decode_packets(container: Any, stream: Any, lost: list[int | None]) -> Iterator[Any]:
    """``container.decode(stream)``, but a packet the decoder rejects is skipped.

    PyAV's own loop ends at the first packet the decoder refuses (``InvalidDataError``:
    a block of damaged bytes in the middle of a file), losing every frame after it,
    while FFmpeg's command line reports such a packet and goes on. This goes on too,
    appending the rejected packet's time stamp to ``lost``. An error reading the file
    itself (its end cut off) still ends the loop, after the frames the decoder holds
    for reordering have been flushed.
    """
    import av

    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                lost.append(packet.pts)
                continue
            yield from frames
    except av.FFmpegError as exc:
        try:
            held = stream.codec_context.decode(None)
        except av.FFmpegError:
            held = []
        yield from held
        raise exc


def probe(path: str | Path) -> VideoInfo:
    """Read a video's properties (size upright, rotation, fps, frame count, codec).

    Raises
    ------
    VideoError
        If the file is missing, empty, not a video, or has no decodable frame.
    """
    return VideoReader(path).info


def iter_frames(
    path: str | Path,
    *,
    max_side_px: int | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
) -> Iterator[Frame]:
    """Yield the upright frames of a video (see :meth:`VideoReader.frames`)."""
    yield from VideoReader(path, max_side_px=max_side_px).frames(start_s=start_s, end_s=end_s)


@dataclass
class VideoWriter:
    """Write RGB frames to an H.264 MP4 that plays in browsers (yuv420p).

    Parameters
    ----------
    path : Path
        Output file (``.mp4``).
    fps : float
        Frame rate.
    width_px, height_px : int
        Frame size (rounded down to even numbers, as H.264 requires).
    crf : int
        Constant rate factor (lower is better quality).
    preset : str
        x264 speed preset (``"ultrafast"`` ... ``"veryslow"``): faster presets cost less
        CPU per frame and give larger files at the same ``crf``.
    threads : int
        Encoder threads (0: x264 chooses, one per core); 1 when several processes
        encode at once.
    """

    path: Path
    fps: float
    width_px: int
    height_px: int
    crf: int = 23
    preset: str = "veryfast"
    threads: int = 0
    _container: object = field(default=None, init=False, repr=False)
    _stream: object = field(default=None, init=False, repr=False)
    _count: int = field(default=0, init=False, repr=False)

    def __enter__(self) -> VideoWriter:
        import av

        self.path = Path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(self.path), mode="w")
        rate = Fraction(self.fps).limit_denominator(1001)
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width = self.width_px - self.width_px % 2
        stream.height = self.height_px - self.height_px % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": self.preset, "movflags": "+faststart"}
        if self.threads:
            stream.codec_context.thread_count = int(self.threads)
            stream.options = {**stream.options, "threads": str(int(self.threads))}
        self._stream = stream
        self._count = 0
        return self

    def write(self, image: np.ndarray) -> None:
        """Append one RGB uint8 frame (cropped to the even size if needed)."""
        import av

        h, w = self._stream.height, self._stream.width
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w, :3]), format="rgb24")
        self._encode(frame)

    def write_rgb_fast(self, image: np.ndarray) -> None:
        """Append one RGB uint8 frame, converted to yuv420p with OpenCV.

        About 4x cheaper than :meth:`write`'s swscale conversion (0.9 against 3.8 ms
        for a 960x540 frame, one thread). Both use BT.601, limited range, and give the
        same luma; chroma is subsampled by plain 2x2 averages (swscale filters it, which
        blurs colour edges). ``image`` must have the writer's (even) size.
        """
        import av
        import cv2

        h, w = self._stream.height, self._stream.width
        if image.shape[:2] != (h, w):
            raise ValueError(f"frame is {image.shape[1]}x{image.shape[0]}, the video {w}x{h}")
        i420 = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2YUV_I420)
        self._encode(av.VideoFrame.from_ndarray(i420, format="yuv420p"))

    def _encode(self, frame) -> None:
        frame.pts = self._count
        frame.time_base = Fraction(1) / self._stream.codec_context.framerate
        self._count += 1
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def __exit__(self, *exc) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
