"""Benchmark clips made from a real clip, in a scratch folder (never in the repository).

- ``repeat_clip``: the same clip N times in one file, by copying its compressed
  packets with shifted timestamps (no re-encoding, so decoding cost per frame is
  unchanged and the key-frame pattern repeats).
- ``upscale_clip``: the clip re-encoded at a larger size (H.264, libx264,
  CRF 18, x264's default key-frame interval), e.g. 4K from 1080p.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path


def _is_fresh(dst: Path, src: Path) -> bool:
    return dst.exists() and dst.stat().st_size > 0 and dst.stat().st_mtime >= src.stat().st_mtime


def repeat_clip(src: Path, dst: Path, times: int) -> Path:
    """Write ``src``'s video stream ``times`` times in a row into ``dst`` (packet copy)."""
    import av

    if _is_fresh(dst, src):
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.stem + ".partial" + dst.suffix)
    with av.open(str(src)) as probe:
        stream = probe.streams.video[0]
        pts = [p.pts for p in probe.demux(stream) if p.size and p.pts is not None]
        rate = stream.average_rate or stream.guessed_rate or Fraction(30)
        step = int(round(1 / (float(rate) * float(stream.time_base))))
        span = max(pts) - min(pts) + step  # presentation time of one copy
    with av.open(str(tmp), "w", format="mp4") as out:
        out_stream = None
        for k in range(times):
            with av.open(str(src)) as inp:
                in_stream = inp.streams.video[0]
                if out_stream is None:
                    out_stream = out.add_stream_from_template(in_stream)
                for packet in inp.demux(in_stream):
                    if not packet.size or packet.pts is None or packet.dts is None:
                        continue
                    packet.pts += k * span
                    packet.dts += k * span
                    packet.stream = out_stream
                    out.mux(packet)
    tmp.replace(dst)
    return dst


def upscale_clip(src: Path, dst: Path, width_px: int, height_px: int, crf: int = 18) -> Path:
    """Re-encode ``src`` at ``width_px`` x ``height_px`` (bicubic) with libx264."""
    import av

    if _is_fresh(dst, src):
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.stem + ".partial" + dst.suffix)
    with av.open(str(src)) as inp, av.open(str(tmp), "w", format="mp4") as out:
        in_stream = inp.streams.video[0]
        rate = in_stream.average_rate or Fraction(30)
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height = width_px, height_px
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for i, frame in enumerate(inp.decode(in_stream)):
            big = frame.reformat(width=width_px, height=height_px, format="yuv420p",
                                 interpolation="BICUBIC")
            big.pts = i
            big.time_base = 1 / Fraction(rate)
            for packet in stream.encode(big):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(dst)
    return dst
