"""Tests for posecoach.video: reading, rotation, frame times, bad input."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import with_damaged_packet
from posecoach.errors import VideoError
from posecoach.video import VideoReader, VideoWriter, iter_frames, probe


def _pattern(i: int, w: int = 64, h: int = 48) -> np.ndarray:
    """A frame whose left half is dark and right half bright, with a bright top-left marker.

    The asymmetric pattern makes rotations distinguishable; ``i`` shifts a grey bar so
    frames differ.
    """
    img = np.full((h, w, 3), 40, np.uint8)
    img[:, w // 2 :] = 200
    img[:8, :8] = (255, 0, 0)
    img[:, (i * 3) % w, :] = 128
    return img


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 30-frame 64x48 H.264 clip at 30 fps of the moving-bar pattern."""
    path = tmp_path_factory.mktemp("v") / "clip.mp4"
    with VideoWriter(path, fps=30, width_px=64, height_px=48, crf=10) as w:
        for i in range(30):
            w.write(_pattern(i))
    return path


def _remux_with_rotation(src: Path, dst: Path, degrees: int) -> Path:
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ins = inp.streams.video[0]
        ost = out.add_stream_from_template(ins)
        ost.set_display_rotation(degrees)
        for packet in inp.demux(ins):
            if packet.dts is None:
                continue
            packet.stream = ost
            out.mux(packet)
    return dst


def test_probe_reports_properties(clip):
    info = probe(clip)
    assert (info.width_px, info.height_px) == (64, 48)
    assert info.n_frames == 30
    assert info.fps == pytest.approx(30.0, rel=1e-3)
    assert info.duration_s == pytest.approx(1.0, rel=1e-3)
    assert info.codec == "h264"
    assert info.rotation_deg == 0
    assert not info.is_variable_frame_rate
    assert info.missing_frames == 0


def test_frames_have_times_indices_and_content(clip):
    frames = list(iter_frames(clip))
    assert [f.index for f in frames] == list(range(30))
    np.testing.assert_allclose([f.time_s for f in frames], np.arange(30) / 30, atol=1e-6)
    img = frames[0].image
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8
    assert img[24, 5:20].mean() < 90 and img[24, 40:60].mean() > 150  # dark left, bright right


def test_segment_seek_keeps_global_indices(clip):
    frames = list(iter_frames(clip, start_s=0.5, end_s=0.8))
    assert [f.index for f in frames] == list(range(15, 24))
    assert frames[0].time_s == pytest.approx(0.5, abs=1e-6)


def test_downscale_keeps_aspect(clip):
    f = next(iter_frames(clip, max_side_px=32))
    assert f.image.shape == (24, 32, 3)
    assert f.scale == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize("degrees", [90, -90, 180])
def test_rotation_metadata_gives_upright_frames(clip, tmp_path, degrees):
    """A clip whose metadata says 'rotate' comes out rotated as a player would show it."""
    rotated = _remux_with_rotation(clip, tmp_path / f"rot{degrees}.mp4", degrees)
    info = probe(rotated)
    assert info.rotation_deg == degrees % 360
    if degrees % 180:
        assert (info.width_px, info.height_px) == (48, 64)  # portrait
    plain = next(iter_frames(clip)).image
    upright = next(iter_frames(rotated)).image
    np.testing.assert_array_equal(upright, np.rot90(plain, k=(degrees // 90) % 4))


def test_portrait_phone_clip_with_sideways_pixels(tmp_path):
    """Pixels stored sideways (landscape) plus a -90 deg display matrix, as phones do."""
    stored = tmp_path / "stored.mp4"
    upright = _pattern(0, w=48, h=64)  # a portrait picture
    with VideoWriter(stored, fps=30, width_px=64, height_px=48, crf=10) as w:
        for _ in range(5):
            w.write(np.rot90(upright, k=1))  # stored rotated 90 deg counter-clockwise
    phone = _remux_with_rotation(stored, tmp_path / "phone.mp4", -90)
    info = probe(phone)
    assert (info.width_px, info.height_px) == (48, 64)
    got = next(iter_frames(phone)).image
    assert got.shape == upright.shape
    # red marker back at the top-left, bright half back on the right
    assert got[2, 2, 0] > 200 and got[2, 2, 1] < 60
    assert got[32, 40].mean() > 150 and got[32, 5].mean() < 90


def _write_timed(path: Path, times_ms: list[int], *, rate: int = 50, faststart: bool = False,
                 b_frames: int = 0, gop: int = 250) -> Path:
    """An H.264 clip of the moving-bar pattern with the given presentation times (ms)."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as out:
        st = out.add_stream("libx264", rate=rate)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        st.options = {"bf": str(b_frames), "g": str(gop)}
        st.codec_context.time_base = Fraction(1, 1000)
        st.time_base = Fraction(1, 1000)
        for i, t in enumerate(times_ms):
            fr = av.VideoFrame.from_ndarray(_pattern(i), format="rgb24")
            fr.pts = t
            fr.time_base = Fraction(1, 1000)
            for p in st.encode(fr):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return path


def test_variable_frame_rate_times_are_true(tmp_path):
    """Frame times come from the container, not index / fps."""
    times_ms = [0, 33, 66, 100, 150, 200, 216, 233, 300, 400]
    path = _write_timed(tmp_path / "vfr.mp4", times_ms, rate=30)
    info = probe(path)
    assert info.is_variable_frame_rate
    got = [f.time_s for f in iter_frames(path)]
    np.testing.assert_allclose(got, np.array(times_ms) / 1000, atol=2e-3)


def test_a_dropped_frame_is_not_a_lower_frame_rate(tmp_path):
    """A 50 fps clip with one frame missing from its times (as a phone or screen recorder
    drops one) is still 50 fps and constant-rate; the frame times stay the true ones."""
    times_ms = [20 * i for i in range(30) if i != 12]
    info = probe(_write_timed(tmp_path / "dropped.mp4", times_ms))
    assert info.fps == 50.0  # the mean interval would say 48.3
    assert not info.is_variable_frame_rate
    assert info.missing_frames == 1 and info.n_frames == 29
    got = [f.time_s for f in iter_frames(tmp_path / "dropped.mp4")]
    np.testing.assert_allclose(got, np.array(times_ms) / 1000, atol=1e-9)


def test_a_truncated_file_keeps_its_frame_rate(tmp_path):
    """Cutting a file with B-frames off mid-way loses the B-frames shown before the last
    frame that is left: a gap in the frame times, not a lower or variable frame rate."""
    data = _write_timed(tmp_path / "full.mp4", [20 * i for i in range(100)], faststart=True,
                        b_frames=3).read_bytes()
    gaps = readable = 0
    for frac in np.arange(0.26, 0.95, 0.03):
        cut = tmp_path / "cut.mp4"
        cut.write_bytes(data[: int(len(data) * frac)])
        try:
            reader = VideoReader(cut)
        except VideoError as exc:
            assert "truncated" in str(exc)
            continue
        readable += 1
        # frames missing inside the time span the file's frames cover
        gaps += int(round(reader.info.duration_s * 50) > reader.info.n_frames)
        assert reader.info.fps == 50.0, frac
        assert not reader.info.is_variable_frame_rate, frac
    assert readable >= 10 and gaps >= 3  # the case above did occur


def test_a_raw_stream_without_frame_times_is_refused_with_the_repair(clip, tmp_path):
    """A raw H.264 stream (as some cameras write it) has no frame times: a clear error
    naming the ffmpeg command that puts it into a container, not a crash after the pose pass."""
    raw = tmp_path / "camera.h264"
    with av.open(str(clip)) as inp, av.open(str(raw), "w", format="h264") as out:
        ost = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = ost
                out.mux(packet)
    with pytest.raises(VideoError, match="no frame times") as err:
        probe(raw)
    assert "ffmpeg -framerate" in str(err.value) and "camera.mp4" in str(err.value)


def test_frames_that_all_share_one_time_are_refused_with_the_repair(tmp_path):
    """A badly muxed file whose frames all sit at 0 s (frames encoded without times)."""
    good = _write_timed(tmp_path / "good.mp4", [40 * i for i in range(10)])
    path = tmp_path / "zero.mp4"
    with av.open(str(good)) as inp, av.open(str(path), "w") as out:
        ost = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.size:
                packet.pts = packet.dts = 0
                packet.stream = ost
                out.mux(packet)
    with av.open(str(path)) as c:  # the fixture is what it says
        assert {p.pts for p in c.demux(video=0) if p.size} == {0}
    with pytest.raises(VideoError, match="frame times are broken") as err:
        probe(path)
    assert "10 of 10 frames" in str(err.value) and "setpts=N/(" in str(err.value)


def test_a_still_picture_is_not_a_video(tmp_path):
    from PIL import Image

    for name in ("photo.jpg", "photo.png"):
        Image.fromarray(_pattern(0)).save(tmp_path / name)
        with pytest.raises(VideoError, match="still picture"):
            probe(tmp_path / name)


@pytest.mark.parametrize("b_frames", [0, 2])
@pytest.mark.parametrize("threads", [0, 1])
def test_damaged_data_mid_file_loses_only_the_pictures_it_damages(tmp_path, b_frames, threads):
    """A damaged packet in the middle of a clip used to end decoding there ("probably
    truncated": everything after it lost). Now the damaged stretch, up to the next key frame
    (pictures predicted from a lost one are wrong although the decoder does not say so), is
    left out and named in a warning, and every picture given out is exactly the undamaged
    file's; with ``keep_damaged`` (the overlay) only the lost packet's picture is missing."""
    src = _write_timed(tmp_path / "clean.mp4", [20 * i for i in range(60)], b_frames=b_frames)
    keys = np.flatnonzero(VideoReader(src).layout()[1])  # key frames, presentation order
    clean = {f.index: f.image for f in VideoReader(src).frames()}
    bad = with_damaged_packet(src, tmp_path / "damaged.mp4", 25)
    reader = VideoReader(bad, decoder_threads=threads)
    got = {f.index: f.image for f in reader.frames()}
    missing = sorted(set(clean) - set(got))
    assert missing and missing[-1] < 40 and len(got) >= 45  # not everything after frame 25
    next_key = min(k for k in keys if k > missing[0])
    assert missing == list(range(missing[0], next_key))  # one stretch, up to the key frame
    assert all(np.array_equal(got[i], clean[i]) for i in got)
    (note,) = reader.warnings
    assert f"frames {missing[0]}-{missing[-1]} " in note and "truncated" not in note
    kept = VideoReader(bad, decoder_threads=threads, keep_damaged=True)
    assert len(list(kept.frames())) == 59
    # a segment that starts after the damage has nothing to report
    late = VideoReader(bad, decoder_threads=threads)
    assert min(f.index for f in late.frames(start_s=next_key * 0.02)) == next_key
    assert not late.warnings


def test_a_damaged_first_key_frame_loses_its_group_only(tmp_path):
    """The first packet (the key frame) damaged: the probe still reads the file (it used to
    seek back to 0 or decode only the first packet, and failed), the frames up to the next
    key frame, which the decoder never gives back, are named as left out, and the rest is
    read exactly as in the undamaged file."""
    src = _write_timed(tmp_path / "clean.mp4", [20 * i for i in range(60)], gop=20)
    keys = np.flatnonzero(VideoReader(src).layout()[1])
    assert keys[0] == 0 and keys[1] < 40
    clean = {f.index: f.image for f in VideoReader(src).frames()}
    reader = VideoReader(with_damaged_packet(src, tmp_path / "damaged.mp4", 0))
    assert reader.info.n_frames == 60 and reader.info.fps == 50.0
    got = {f.index: f.image for f in reader.frames()}
    assert sorted(got) == list(range(keys[1], 60))
    assert all(np.array_equal(got[i], clean[i]) for i in got)
    assert sorted(reader.left_out) == list(range(keys[1]))
    (note,) = reader.warnings
    assert f"frames 0-{keys[1] - 1} (0.00-" in note


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match="not found"):
        probe(tmp_path / "nope.mp4")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    with pytest.raises(VideoError, match="empty"):
        probe(p)


def test_text_file_renamed_mp4(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("this is a shopping list, not a video\n" * 20)
    with pytest.raises(VideoError, match="cannot be read as a video"):
        probe(p)


def test_truncated_file(clip, tmp_path):
    data = clip.read_bytes()
    p = tmp_path / "cut.mp4"
    p.write_bytes(data[: len(data) // 2])
    # either refused outright with a clear message or read with a truncation warning
    try:
        reader = VideoReader(p)
    except VideoError as exc:
        assert "truncated" in str(exc)
        return
    frames = list(reader.frames())
    assert len(frames) < 30
    assert reader.warnings or reader.info.n_frames < 30


def test_writer_output_decodes(tmp_path):
    p = tmp_path / "out.mp4"
    with VideoWriter(p, fps=25, width_px=65, height_px=49) as w:  # odd sizes are trimmed
        for i in range(10):
            w.write(_pattern(i, w=65, h=49))
    info = probe(p)
    assert (info.width_px, info.height_px, info.n_frames) == (64, 48, 10)
    assert info.fps == pytest.approx(25, rel=1e-3)


@pytest.mark.parametrize("size", [(64, 48), (70, 42)])  # 42/2 = 21: a chroma row count that is odd
def test_fast_downscale_matches_swscale(tmp_path, size):
    """The plane-wise 4:2:0 downscale gives the picture swscale gives (within a few grey levels)."""
    w, h = size
    path = tmp_path / "big.mp4"
    rng = np.random.default_rng(1)
    base = np.kron(rng.uniform(0, 255, size=(h // 2, w // 2, 3)), np.ones((2, 2, 1))).astype(np.uint8)
    with VideoWriter(path, fps=30, width_px=w * 4, height_px=h * 4, crf=8) as vw:
        for _ in range(3):
            vw.write(np.kron(base, np.ones((4, 4, 1), np.uint8)))
    fast = next(iter_frames(path, max_side_px=w)).image
    with av.open(str(path)) as c:
        ref = next(c.decode(video=0)).to_ndarray(width=fast.shape[1], height=fast.shape[0],
                                                 format="rgb24", interpolation="AREA")
    assert fast.shape == ref.shape
    assert np.abs(fast.astype(int) - ref.astype(int)).mean() < 6


@pytest.mark.parametrize(
    ("src", "dst", "max_diff", "mean_diff"),
    [((1080, 1920), (540, 960), 0, 0),  # exactly 2x: the one call it always was
     ((2160, 3840), (540, 960), 1, 0.5),  # 4K: two exact halvings = a 4x4 box, up to rounding
     # halve, then 1.33x: a slightly wider filter than one box (on fine-grained noise)
     ((1440, 2560), (540, 960), 6, 1.0),
     ((501, 1001), (125, 250), 6, 1.0),  # odd sizes
     ((720, 1280), (540, 960), 0, 0)],  # less than 2x: one call
)
def test_area_shrink_matches_one_area_resize(src, dst, max_diff, mean_diff):
    import cv2

    from posecoach.video import _area_shrink

    rng = np.random.default_rng(3)
    # smooth content, as in pictures (white noise would make rounding the only signal)
    plane = cv2.GaussianBlur(rng.integers(0, 256, src, dtype=np.uint8), (0, 0), 2)
    fast = _area_shrink(plane, dst[1], dst[0])
    ref = cv2.resize(plane, (dst[1], dst[0]), interpolation=cv2.INTER_AREA)
    assert fast.shape == ref.shape == dst
    diff = np.abs(fast.astype(int) - ref.astype(int))
    assert diff.max() <= max_diff
    assert diff.mean() <= mean_diff


def test_frames_only_some_indices(clip):
    r = VideoReader(clip)
    got = list(r.frames(only={3, 17, 29}))
    assert [f.index for f in got] == [3, 17, 29]
    full = {f.index: f.image for f in r.frames()}
    for f in got:
        np.testing.assert_array_equal(f.image, full[f.index])
    assert [f.index for f in r.frames(start_s=0.3, only={5, 12})] == [12]


def test_skip_loop_filter_gives_every_frame(clip):
    plain = list(VideoReader(clip).frames())
    fast = list(VideoReader(clip, skip_loop_filter=True).frames())
    assert [f.index for f in fast] == [f.index for f in plain]
    assert [f.time_s for f in fast] == [f.time_s for f in plain]
    for a, b in zip(plain, fast, strict=True):
        assert np.abs(a.image.astype(int) - b.image.astype(int)).mean() < 6


def test_writer_fast_conversion_matches_swscale(tmp_path):
    """write_rgb_fast (OpenCV's RGB -> I420) keeps the colours at least as well as write (swscale)."""
    rng = np.random.default_rng(3)
    base = np.kron(rng.uniform(0, 255, size=(12, 16, 3)), np.ones((4, 4, 1))).astype(np.uint8)
    out = {}
    for name in ("write", "write_rgb_fast"):
        p = tmp_path / f"{name}.mp4"
        with VideoWriter(p, fps=30, width_px=64, height_px=48, crf=4, preset="superfast",
                         threads=1) as w:
            for _ in range(3):
                getattr(w, name)(base)
        frames = list(iter_frames(p))
        assert len(frames) == 3 and probe(p).fps == pytest.approx(30, rel=1e-3)
        out[name] = frames[0].image.astype(int)
    # same luma; OpenCV subsamples chroma by plain 2x2 averages, swscale with a filter
    # that blurs colour edges, so the fast path is the closer to the picture
    err = {k: np.abs(v - base.astype(int)).mean() for k, v in out.items()}
    assert err["write_rgb_fast"] < 3
    assert err["write_rgb_fast"] <= err["write"]
    with pytest.raises(ValueError), VideoWriter(tmp_path / "x.mp4", fps=30, width_px=64,
                                                 height_px=48) as w:
        w.write_rgb_fast(base[:40])


@pytest.mark.parametrize("rotation", [0, 90])
def test_pictures_equal_frames_and_skip_unwanted_non_reference_frames(clip, tmp_path, rotation):
    """Some frames' pictures, decoded via reference frames only, are those frames() gives."""
    # rotation: a phone clip, pixels stored on their side and a display matrix to turn them
    video = _remux_with_rotation(clip, tmp_path / "turned.mp4", rotation) if rotation else clip
    reader = VideoReader(video, decoder_threads=1)
    assert reader.info.rotation_deg == rotation
    n = reader.info.n_frames
    wanted = {1, 7, 8, n - 1}
    got = reader.pictures([*wanted, n + 5, -1])  # indices outside the video are ignored
    assert set(got) == wanted
    for fr in reader.frames():
        if fr.index in wanted:
            np.testing.assert_array_equal(got[fr.index], fr.image)
    small = VideoReader(video, max_side_px=32).pictures([8])
    (ref,) = [fr.image for fr in VideoReader(video, max_side_px=32).frames(only={8}) if fr.index == 8]
    np.testing.assert_array_equal(small[8], ref)
    assert reader.pictures([]) == {}
