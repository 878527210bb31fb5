"""The report: self-contained HTML, key frames, plots, overlay video, headless Chromium."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import CLIPS, estimated_poses, with_damaged_packet
from posecoach import metrics, pipeline, synthetic
from posecoach.report import plots, write_overlay, write_report
from posecoach.report.html import render_html
from posecoach.report.keyframes import PHASES, KeyFrameSelector
from posecoach.video import probe

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A synthetic heel striker (60 fps, light faults), its video, analysis and verdicts."""
    out = tmp_path_factory.mktemp("report")
    p = synthetic.RunnerParams.heel_striker()
    clean, _ = synthetic.SyntheticRunner(p).generate(duration_s=5.0, fps=60.0, seed=4)
    poses, _ = synthetic.add_faults(clean, jitter_px=1.0, dropped_frames=2, leg_swaps=1, seed=4)
    video = synthetic.render_video(clean, out / "video.mp4")
    a = pipeline.analyze_poses(poses, video_path=video, height_m=p.height_m, speed_mps=p.speed_mps)
    verdicts = pipeline.judge(a)
    report = write_report(a, verdicts, out, video_path=video, title="test runner")
    return out, a, verdicts, video, report


def test_report_is_self_contained_and_complete(demo):
    out, a, verdicts, video, report = demo
    html = report.read_text()
    # nothing external: every src/href is a data URI or an in-page anchor
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    assert refs and all(r.startswith("data:") or r.startswith("#") for r in refs)
    assert not re.search(r"https?://|url\(\s*['\"]?(?!data:)", html)
    assert "<script" not in html
    for r in verdicts.results:
        assert f'id="rule-{r.id}"' in html
    # every key frame (5 per foot) is embedded once and shown by reference, in the key-frame
    # section and again beside the rules that use it
    defs = re.findall(r'<image id="(kf-[a-z_]+-[a-z_]+)"[^>]*href="data:image/jpeg;base64,', html)
    assert len(defs) == len(set(defs)) >= 10
    assert html.count("data:image/jpeg") == len(defs)
    uses = re.findall(r'<use href="#(kf-[a-z_]+-[a-z_]+)"/>', html)
    assert set(uses) == set(defs) and len(uses) > len(defs)
    assert html.count('src="data:image/png') == 4  # the four plots
    for text in ("Top priorities", "Changing running technique takes months", "Data quality", "evidence",
                 "@media print"):
        assert text in html


def _rule_section(html: str, rule_id: str) -> str:
    start = html.index(f'id="rule-{rule_id}"')
    ends = [i for i in (html.find('<div class="rule"', start), html.find("</section>", start)) if i > 0]
    return html[start:min(ends)]


def test_rule_values_and_sides_are_shown_in_their_own_units(demo):
    """The symmetry rule's value is a %, its feet's contact times are ms (they were shown
    as "left 296.0 % · right 300.4 %"); a value withheld is "not judged", not "not measured"."""
    out, a, verdicts, video, report = demo
    sym = _rule_section(report.read_text(), "practice_symmetry")
    assert re.search(r"left \d+ ms · right \d+ ms", sym), sym
    slow = pipeline.Analysis(**{**a.__dict__, "summary": {
        **a.summary, "cadence_spm": {**a.summary["cadence_spm"], "median": 70.0}}})
    html = render_html(slow, pipeline.judge(slow))
    assert "not measured" not in html.split('id="rule-', 1)[1].split("</section>", 1)[0]
    # a cadence of 70 spm is not real time: the headline numbers say they are video time
    assert html.count("video time: not real time") == 2



def test_rule_values_show_their_interval_and_an_uncertain_verdict_says_so(demo):
    """The value line gives the median's 95 % interval; where the interval reaches another
    band, the badge is followed by what else the verdict could be."""
    out, a, verdicts, video, report = demo
    with_ci = [r for r in verdicts.results if r.ci95 is not None]
    assert with_ci
    for r in with_ci:
        section = _rule_section(report.read_text(), r.id)
        assert "95 % interval" in section and f"n={r.n}" in section
    # make a certain verdict uncertain: its interval reaches the borderline band
    r = next(r for r in with_ci if r.status == "pass" and r.certain)
    assert "could also be" not in _rule_section(report.read_text(), r.id)
    changed = dataclasses.replace(r, possible_statuses=["pass", "borderline"])
    judged = dataclasses.replace(verdicts, results=[changed if x is r else x for x in verdicts.results])
    html = render_html(a, judged)
    assert "(could also be borderline)" in _rule_section(html, r.id)
    assert html.count("could also be") == report.read_text().count("could also be") + 1

def test_key_frames_come_from_the_median_step(demo):
    _, a, _, _, _ = demo
    sel = KeyFrameSelector().detect(a)
    for side in ("left", "right"):
        label = sel.steps_[side]
        assert label is not None
        d = sel.distance_[side]
        assert d[label] == d.min()  # the step closest to the medians, not the best one
        assert d.max() > d.min()
        assert [k.phase for k in sel.key_frames_ if k.side == side] == list(PHASES)
        times = [k.time_s for k in sel.key_frames_ if k.side == side]
        assert times == sorted(times)  # shown in the order they happen: Pull after toe-off


def test_plots_are_pngs(demo):
    _, a, _, _, _ = demo
    made = plots.all_plots(a)
    assert set(made) == {"gait_cycle_angles", "pelvis_path", "contact_timeline", "step_variability"}
    for png in made.values():
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_dashed_line_draws_only_visible_dashes_same_pixels():
    from posecoach._draw import draw_line
    from posecoach.report._common import draw_dashed_line

    def every_dash(image, p0, p1, colour, width, dash_px):
        length = float(np.hypot(*(p1 - p0)))
        n = max(1, int(length // (2 * dash_px)))
        for i in range(n + 1):
            a = p0 + (p1 - p0) * min(1.0, (2 * i * dash_px) / length)
            b = p0 + (p1 - p0) * min(1.0, ((2 * i + 1) * dash_px) / length)
            draw_line(image, a, b, colour, width)

    rng = np.random.default_rng(1)
    for k in range(300):
        h, w = (int(v) for v in rng.integers(20, 120, 2))
        p0, p1 = rng.uniform(-300, 400, 2), rng.uniform(-300, 400, 2)
        if k % 3 == 0:  # vertical, as the reference lines through the ankle and head
            p1 = p0 + np.array([0.0, rng.uniform(-500, 500)])
        width, dash = int(rng.integers(1, 8)), float(rng.uniform(1, 15))
        a = np.zeros((h, w, 3), np.uint8)
        b = a.copy()
        every_dash(a, p0, p1, (255, 200, 100), width, dash)
        draw_dashed_line(b, p0, p1, (255, 200, 100), width, dash)
        np.testing.assert_array_equal(a, b)


def test_report_outputs_clean_the_poses_once(demo, tmp_path, monkeypatch):
    """The overlay and the key frames share one cleaning of the raw poses."""
    from posecoach import filtering, pipeline

    _, a, verdicts, video, _ = demo
    calls = []
    real = filtering.clean

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(filtering, "clean", counted)
    files = pipeline.write_report_outputs(a, verdicts, tmp_path, video_path=video, progress=False)
    assert {f.name for f in files} == {"report.html", "overlay.mp4"}
    assert len(calls) == 1


def test_plots_use_one_blas_thread_and_restore_it(demo, monkeypatch):
    from threadpoolctl import threadpool_info

    _, a, _, _, _ = demo
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    if not blas:
        pytest.skip("no BLAS library with a thread pool is loaded")
    before = [i["num_threads"] for i in blas]
    seen = []
    real = plots.gait_cycle_angles

    def spy(analysis):
        seen.append([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])
        return real(analysis)

    monkeypatch.setattr(plots, "gait_cycle_angles", spy)
    plots.all_plots(a)
    assert seen and all(n == 1 for n in seen[0])
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


def test_gait_cycle_normalisation():
    t = np.linspace(0, 3, 301)
    y = np.sin(2 * np.pi * t)  # one cycle per second
    cyc = plots.normalised_cycles(t, y, np.array([0.0, 1.0, 2.0, 3.0]))
    assert cyc.shape == (3, 101)
    np.testing.assert_allclose(cyc[0], np.sin(2 * np.pi * np.linspace(0, 1, 101)), atol=1e-3)


def test_gait_cycle_ends_are_interpolated_at_contacts_between_frames():
    """Contacts fall between frames: 0 % and 100 % are the values at the contact instants,
    not those of the nearest frames inside the cycle (a ramp makes the difference plain)."""
    t = np.arange(0, 3.01, 1 / 30)
    y = 10.0 * t
    ics = np.array([0.51, 1.52, 2.53])  # between frames
    cyc = plots.normalised_cycles(t, y, ics)
    np.testing.assert_allclose(cyc[:, 0], 10 * ics[:-1], atol=1e-9)
    np.testing.assert_allclose(cyc[:, -1], 10 * ics[1:], atol=1e-9)


def test_a_contact_without_its_toe_off_is_not_drawn_to_the_clips_end():
    """Two contacts of a foot in a row (the first one's toe-off not found): the first one
    covers its own frame in the overlay, not every frame to the end of the clip; only a
    contact still open when the clip ends, or one the clip starts in, runs past the edge."""
    from posecoach.report import _common as C

    ev = pd.DataFrame([
        ("left", "toe_off", 2, 2 / 30),          # the clip starts in stance
        ("left", "initial_contact", 10, 10 / 30),  # its toe-off not found
        ("left", "initial_contact", 30, 1.0),
        ("left", "toe_off", 36, 1.2),
        ("left", "toe_off", 50, 50 / 30),        # a toe-off whose landing was not found
        ("left", "initial_contact", 70, 70 / 30),  # the clip ends in stance
    ], columns=["side", "kind", "frame", "time_s"])
    c = C.contact_intervals(ev, end_time_s=80 / 30)
    assert c["at_clip_edge"].tolist() == [True, False, False, True, False]  # sorted by toe-off
    frames = np.arange(81)
    on = np.flatnonzero(C.contact_mask(c, frames, "left"))
    assert on.tolist() == [0, 1, 10, *range(30, 36), 49, *range(70, 81)]


def test_step_variability_marks_the_steps_the_summary_leaves_out(demo, monkeypatch):
    _, a, _, _, _ = demo
    steps = a.steps.copy()
    steps.loc[steps.index[:3], "summary_use"] = "none"
    labels = []
    png = plots._png
    monkeypatch.setattr(plots, "_png", lambda fig: labels.append(fig._supxlabel.get_text()) or png(fig))
    assert plots.step_variability(dataclasses.replace(a, steps=steps))[:4] == b"\x89PNG"
    plots.step_variability(a)
    assert "open circles: left out of the summary" in labels[0]
    assert "open circles" not in labels[1]


def test_overlay_keeps_frame_count_and_rate(demo):
    out, a, _, video, _ = demo
    path = write_overlay(a, video, out / "overlay.mp4")
    src, ovl = probe(video), probe(path)
    assert ovl.n_frames == src.n_frames
    assert ovl.fps == pytest.approx(src.fps, rel=1e-3)
    assert ovl.codec == "h264"


def test_overlay_ground_marker_is_drawn_under_the_leg_that_shows_the_contact(demo):
    """A contact given to the other foot (the pose model put the landing foot's labels on
    the other leg) is shown by the other leg's keypoints: the marker goes there."""
    from posecoach.report.overlay import OverlayDrawing

    _, a, _, video, _ = demo
    size = probe(video)
    full = (size.width_px, size.height_px)
    before = OverlayDrawing.from_analysis(a, full, full)
    steps = a.steps.copy()
    k = len(steps) // 2
    side = steps.loc[k, "side"]
    other = "left" if side == "right" else "right"
    steps.loc[k, "track"] = other
    after = OverlayDrawing.from_analysis(dataclasses.replace(a, steps=steps), full, full)
    stance = (before.frames >= steps.loc[k, "ic_frame"]) & (before.frames < steps.loc[k, "to_frame"])
    assert stance.sum() >= 5
    col = {"left": 0, "right": 1}
    assert before.ground[stance, col[side]].all() and not after.ground[stance, col[side]].any()
    assert after.ground[stance, col[other]].all()
    np.testing.assert_array_equal(before.ground[~stance], after.ground[~stance])


def _packets(path: Path) -> tuple[list[int], list[int], list[bool]]:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
        ps = [p for p in c.demux(s) if p.pts is not None]
        return [p.pts for p in ps], [p.dts for p in ps], [p.is_keyframe for p in ps]


@pytest.mark.parametrize(("workers", "min_frames", "parts"), [(3, 60, 3), (2, 200, 1)])
def test_overlay_in_parallel_parts_is_one_stream(demo, tmp_path, workers, min_frames, parts):
    """Parts drawn by several processes are joined into one H.264 MP4 like the serial one."""
    from posecoach.report.overlay import start_overlay

    _, a, _, video, _ = demo
    job = start_overlay(a, video, tmp_path / "par.mp4", workers=workers,
                        min_segment_frames=min_frames)
    assert len(job.segments) == parts
    firsts = [seg[0] for seg in job.segments]
    par = job.result()
    ser = write_overlay(a, video, tmp_path / "ser.mp4", workers=1)
    assert not list(tmp_path.glob(".overlay-*"))  # the parts are removed
    src, info = probe(video), probe(par)
    assert info.n_frames == src.n_frames and info.fps == pytest.approx(src.fps, rel=1e-3)
    assert not info.is_variable_frame_rate
    assert (info.width_px, info.height_px) == (probe(ser).width_px, probe(ser).height_px)
    pts, dts, key = _packets(par)
    assert all(x < y for x, y in zip(dts, dts[1:], strict=False))  # decodable in order
    step = sorted(pts)[1] - sorted(pts)[0]
    assert np.all(np.diff(sorted(pts)) == step)  # one frame every 1/fps, none missing
    order = np.argsort(pts)
    assert all(np.asarray(key)[order][firsts])  # every part starts with a key frame
    # the same pictures in the same places (only the encoding of each part differs)
    from posecoach.video import iter_frames

    n = 0
    for fp, fs in zip(iter_frames(par), iter_frames(ser), strict=True):
        assert fp.index == fs.index
        assert np.abs(fp.image.astype(int) - fs.image.astype(int)).mean() < 3
        n += 1
    assert n == src.n_frames


def test_overlay_of_a_damaged_video_keeps_every_frame_time(demo, tmp_path):
    """A frame lost to damaged data is held (the picture before it is shown again), so the
    overlay keeps the input's frame count and times, in one process or in parts."""
    from posecoach.report.overlay import start_overlay

    _, a, _, video, _ = demo
    bad = with_damaged_packet(video, tmp_path / "damaged.mp4", 100)
    for workers, name in ((1, "one.mp4"), (2, "two.mp4")):
        out = start_overlay(a, bad, tmp_path / name, workers=workers, min_segment_frames=60).result()
        info = probe(out)
        assert info.n_frames == probe(video).n_frames and info.missing_frames == 0


def test_overlay_by_workers_started_ahead(demo, tmp_path):
    """Processes started before the analysis draw the parts and stay for their owner to close."""
    from posecoach.report.overlay import OverlayWorkers, start_overlay

    _, a, _, video, _ = demo
    with OverlayWorkers(2) as workers:
        job = start_overlay(a, video, tmp_path / "ahead.mp4", workers=workers, min_segment_frames=60)
        assert len(job.segments) == 2
        out = job.result()
        assert workers.pool is not None  # still running: the caller closes them
        again = start_overlay(a, video, tmp_path / "again.mp4", workers=workers,
                              min_segment_frames=60).result()
    assert workers.pool is None
    ser = write_overlay(a, video, tmp_path / "ser.mp4", workers=1)
    for path in (out, again):
        assert probe(path).n_frames == probe(ser).n_frames == probe(video).n_frames
    assert not list(tmp_path.glob(".overlay-*"))
    with OverlayWorkers(1) as one:  # one core: no process, drawn by the caller
        assert one.pool is None
        assert probe(start_overlay(a, video, tmp_path / "one.mp4", workers=one).result()).n_frames \
            == probe(video).n_frames


def test_analyze_with_workers_limits_the_overlay_processes_too(demo, tmp_path, monkeypatch):
    """``posecoach analyze --workers 1`` keeps to one process for the overlay as well (the pose
    pass is replaced by the demo's poses here: its workers are tested in test_pose_parallel)."""
    from posecoach import report
    from posecoach.report.overlay import OverlayWorkers

    _, a, _, video, _ = demo
    made = []

    class Recording(OverlayWorkers):
        def __init__(self, workers=None):
            made.append(workers)
            super().__init__(workers)

    monkeypatch.setattr(report, "OverlayWorkers", Recording)
    monkeypatch.setattr(pipeline, "estimate_poses", lambda *args, **kw: a.poses)
    res = pipeline.run_analyze(video, tmp_path / "out", progress=False, workers=1)
    assert made == [1]
    assert (tmp_path / "out" / "overlay.mp4").exists()
    assert res.analysis.quality["detected_fraction"] > 0.9


def test_joining_different_parts_fails(demo, tmp_path):
    from posecoach.report._common import ReportError
    from posecoach.report.overlay import join_h264
    from posecoach.video import VideoWriter

    parts = []
    for i, w in enumerate((64, 80)):
        parts.append(tmp_path / f"p{i}.mp4")
        with VideoWriter(parts[-1], fps=30, width_px=w, height_px=48) as vw:
            for _ in range(3):
                vw.write(np.zeros((48, w, 3), np.uint8))
    with pytest.raises(ReportError):
        join_h264(parts, tmp_path / "joined.mp4")


def test_report_without_video_says_so(demo, tmp_path):
    _, a, verdicts, _, _ = demo
    html = write_report(a, verdicts, tmp_path).read_text()
    assert "plain background" in html


def test_walking_report_has_no_verdicts(demo, tmp_path):
    _, a, _, _, _ = demo
    import copy

    walk = copy.copy(a)
    walk.gait = {"classification": "walking", "reason": "no flight phase"}
    verdicts = pipeline.judge(walk)
    assert all(r.status == "not_assessable" for r in verdicts.results)
    html = write_report(walk, verdicts, tmp_path).read_text()
    assert "This is not running" in html


def test_a_report_without_any_step_shows_no_value_without_a_unit(tmp_path):
    """0.3 s of running, no whole step: the summary cards say n/a, not 'n/a spm'."""
    p = synthetic.RunnerParams.pose_runner()
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=0.3, fps=60.0, seed=0)
    a = pipeline.analyze_poses(ds, height_m=p.height_m)
    html = write_report(a, pipeline.judge(a), tmp_path).read_text()
    assert "n/a" in html
    assert "n/a spm" not in html and "n/a ms" not in html and "n/a cm" not in html


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=180,
    )


def _page_requests(netlog: Path) -> list[str]:
    """URLs the page itself asked the network stack for, from a Chromium NetLog.

    Chromium's own background traffic (update checks, time sync) runs with an empty network
    isolation key; requests made for a file:// page carry "file://" in theirs.
    """
    import json

    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [e["params"]["url"] for e in log["events"]
            if e["type"] == start and "file://" in e["params"].get("network_isolation_key", "")]


_PROBE = """<script>
  window.addEventListener('load', () => {
    const imgs = [...document.images];
    const ok = imgs.filter(i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0);
    const net = performance.getEntriesByType('resource').filter(e => !e.name.startsWith('data:'));
    document.body.setAttribute('data-images', imgs.length + '/' + ok.length);
    document.body.setAttribute('data-fetched', String(net.length));
    // key frames: SVG <image> defined once, shown by <use>; each must decode, each use show
    const defs = [...document.querySelectorAll('svg image')];
    const uses = [...document.querySelectorAll('svg use')];
    const shown = uses.filter(u => {
      const r = u.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && document.getElementById(u.getAttribute('href').slice(1));
    });
    let decoded = 0, done = 0;
    const report = () => document.body.setAttribute('data-keyframes',
      defs.length + '/' + decoded + '/' + uses.length + '/' + shown.length);
    if (!defs.length) report();
    for (const d of defs) {
      const probe = new Image();
      probe.onload = () => { if (probe.naturalWidth > 0) decoded++; if (++done === defs.length) report(); };
      probe.onerror = () => { if (++done === defs.length) report(); };
      probe.src = d.getAttribute('href');
    }
  });
</script></body>"""

_NO_CHROMIUM = ("Debian chromium is not installed (apt-get install chromium); CI installs it in "
                ".ci/run")


@pytest.mark.skipif(CHROMIUM is None, reason=_NO_CHROMIUM)
def test_network_checks_detect_a_fetch(tmp_path):
    """Negative control: the two network checks below do see a page that fetches something."""
    page = tmp_path / "fetches.html"
    page.write_text('<html><body><img src="http://127.0.0.1:9/x.png">' + _PROBE + "</html>")
    netlog = tmp_path / "net.json"
    res = _chromium(["--virtual-time-budget=3000", f"--log-net-log={netlog}", "--dump-dom",
                     page.as_uri()], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert 'data-fetched="1"' in res.stdout
    assert _page_requests(netlog) == ["http://127.0.0.1:9/x.png"]


@pytest.mark.skipif(CHROMIUM is None, reason=_NO_CHROMIUM)
def test_report_renders_in_headless_chromium(demo, tmp_path):
    """Render offline: every image decodes and has a size on the page, nothing is fetched."""
    out, _, _, _, report = demo
    probe_html = tmp_path / "probe.html"
    # the report plus a script that writes what the browser saw into the DOM
    probe_html.write_text(report.read_text().replace("</body>", _PROBE))
    netlog = tmp_path / "net.json"
    res = _chromium(["--virtual-time-budget=5000", f"--log-net-log={netlog}", "--dump-dom",
                     probe_html.as_uri()], tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    m = re.search(r'data-images="(\d+)/(\d+)"', res.stdout)
    assert m, "the browser did not run the check"
    total, visible = int(m.group(1)), int(m.group(2))
    assert total == 4 and visible == total  # the plots decode and take up space
    m = re.search(r'data-keyframes="(\d+)/(\d+)/(\d+)/(\d+)"', res.stdout)
    assert m, "the browser did not check the key frames"
    defs, decoded, uses, shown = map(int, m.groups())
    assert defs >= 10 and decoded == defs  # each key frame decodes
    assert uses > defs and shown == uses  # and every place that shows one has its size
    assert 'data-fetched="0"' in res.stdout  # nothing fetched (resource timing, after load)
    assert _page_requests(netlog) == []  # nor at the network layer
    shot = tmp_path / "shot.png"
    res = _chromium([f"--screenshot={shot}", "--window-size=1200,1800", report.as_uri()], tmp_path)
    assert shot.exists() and shot.stat().st_size > 20_000
    import cv2

    pixels = cv2.imread(str(shot))
    assert pixels is not None and pixels.shape[:2] == (1800, 1200)
    assert float(pixels.std()) > 20  # not a blank page


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("clip", [
    "treadmill_sprint_side_spotter_30fps", "overground_side_static_cam_50fps",
    "overground_side_portrait_30fps", "track_side_panning_screenrec_30fps",
    "treadmill_lean_lesson_tiktok_25fps",
])
def test_every_real_clip_gets_a_report(clip, tmp_path):
    path = CLIPS / f"{clip}.mp4"
    poses = estimated_poses(f"running-videos-licence-unknown/{clip}.mp4")
    a = pipeline.analyze_poses(poses, video_path=path)
    verdicts = pipeline.judge(a)
    assert {r.status for r in verdicts.results} <= {"pass", "borderline", "fail", "not_assessable"}
    assert len(verdicts.results) == len({r.id for r in verdicts.results}) >= 23
    html = write_report(a, verdicts, tmp_path, video_path=path, title=clip).read_text()
    assert all(f'id="rule-{r.id}"' in html for r in verdicts.results)


def test_the_two_parts_of_key_point_ten_are_numbered_10a_and_10b(demo, tmp_path):
    """The rule file splits key point 10 (knees low: side view; knees together: front view);
    the report must not list "the fifteen key points" as sixteen with a 10 twice."""
    _, a, verdicts, _, _ = demo
    html = write_report(a, verdicts, tmp_path).read_text()
    assert re.search(r"<h3>10a\. Knees and thighs low", html)
    assert re.search(r"<h3>10b\. Knees together and relaxed", html)
    assert not re.search(r"<h3>10\. ", html) and re.search(r"<h3>11\. ", html)


def test_a_step_left_out_of_the_summary_is_not_the_representative_one(demo):
    """A step with both feet down (the pose model lost a foot: ``quality.overlapping_steps``)
    is not shown as a foot's typical step, even where it is the closest to the medians."""
    import copy

    _, a, _, _, _ = demo
    chosen = KeyFrameSelector().detect(a).steps_
    lost = copy.copy(a)
    lost.quality = dict(a.quality, overlapping_steps=[int(a.steps.loc[chosen["left"], "ic_frame"])])
    again = KeyFrameSelector().detect(lost)
    assert again.steps_["left"] is not None and again.steps_["left"] != chosen["left"]
    assert again.steps_["right"] == chosen["right"]
    every_left = copy.copy(a)
    every_left.quality = dict(a.quality, overlapping_steps=[
        int(f) for f in a.steps.loc[a.steps["side"] == "left", "ic_frame"]])
    none = KeyFrameSelector().detect(every_left)
    assert none.steps_["left"] is None and not any(k.side == "left" for k in none.key_frames_)


def _text_of(html: str) -> str:
    """The page's words (no style sheet, no tags)."""
    body = html.split("</style>", 1)[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_the_page_reads_plainly_for_a_coach(demo, tmp_path):
    """Drill kinds in words, each summary card's number of steps, every percentage written
    like the values ("10 %"), the not-assessed list linking its rules, and the terms the
    values use (IQR, 95 % interval, the cadence's method) explained."""
    _, a, verdicts, _, _ = demo
    html = write_report(a, verdicts, tmp_path).read_text()
    drills = html.split('id="drills"', 1)[1].split("</section>", 1)[0]
    kinds = set(re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td><td>[^<]+</td><td>[^<]+</td></tr>",
                           drills))  # the drill tables (the plan's rows hold a list)
    assert kinds == {"strength", "mobility", "Pose drill", "cadence"}
    text = _text_of(html)
    n = a.summary["ground_contact_ms"]["n"]
    assert f"median of {n} steps; flight" in text
    assert f"median of {a.summary['cadence_spm']['n']} steps; target about 180" in text
    assert not re.search(r"\d%", text)  # "≤ 10 %", never "≤ 10%"
    for r in verdicts.results:
        if r.status == "not_assessable":
            assert f'<a href="#rule-{r.id}">' in html
    assert a.summary["cadence_spm"]["method"] == metrics.CADENCE_FROM_SLOPES
    for term in ("IQR</strong> (interquartile range)", "95 % interval</strong>", "Theil's slope"):
        assert term in html


def test_the_page_links_the_annotated_video_only_when_one_is_written(demo, tmp_path):
    _, a, verdicts, _, _ = demo
    assert "overlay.mp4" not in write_report(a, verdicts, tmp_path).read_text()
    html = write_report(a, verdicts, tmp_path, overlay_name="overlay.mp4").read_text()
    # the one link that leaves the page is to the video beside it, by its bare name
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    assert [r for r in refs if not r.startswith(("data:", "#"))] == ["overlay.mp4"]


def test_recommended_drills_are_split_into_the_priorities_and_the_rest(demo, tmp_path):
    """'Recommended for your priorities' listed the drills of every rule that needs work or is
    borderline (13 of the 17 for a heel striker): the priorities' own come first, apart."""
    _, a, verdicts, _, _ = demo
    html = write_report(a, verdicts, tmp_path).read_text()
    drills = html.split('id="drills"', 1)[1].split("</section>", 1)[0]
    mine, rest = drills.split("Recommended for your priorities", 1)[1].split(
        "Also for the other items that need work or are borderline", 1)
    rest = rest.split("Progression over weeks", 1)[0]
    names = {d: verdicts.drills[d]["name"] for d in verdicts.recommended_drills}
    for_priorities = {d for r in verdicts.priorities for d in r.drills}
    assert for_priorities and set(names) - for_priorities
    for d, name in names.items():
        assert (f"<td>{name}</td>" in mine) == (d in for_priorities)
        assert (f"<td>{name}</td>" in rest) == (d not in for_priorities)


def test_the_steps_row_counts_within_the_measured_steps(demo, tmp_path):
    """'27 complete contacts measured; 7 more left out of timing' read as 7 more contacts."""
    import copy

    _, a, verdicts, _, _ = demo
    b = copy.copy(a)
    ic = [int(f) for f in a.steps["ic_frame"]]
    b.quality = dict(a.quality, overlapping_steps=ic[:2], steps_excluded_from_timing=5,
                     steps_over_missed_contacts=ic[5:6])
    text = _text_of(write_report(b, verdicts, tmp_path).read_text())
    assert (f"{len(a.steps)} complete contacts measured; of them 2 left out (both feet on the ground: "
            "see the warnings); 3 left out of the times only (a slow-motion section); 1 with no step "
            "time, flight or stride (the next contact was missed)") in text
