"""The analysis stages end to end and the analysis.json contract."""

import json

import jsonschema
import numpy as np
import pytest

from conftest import shared_file
from posecoach import pipeline, synthetic
from posecoach.analysis import load_schema
from posecoach.io import save_poses


@pytest.fixture(scope="module")
def synthetic_poses():
    p = synthetic.RunnerParams.pose_runner()
    ds, truth = synthetic.SyntheticRunner(p).generate(duration_s=6.0, fps=60.0, seed=2)
    ds, _ = synthetic.add_faults(ds, jitter_px=1.0, dropped_frames=3, leg_swaps=1, seed=2)
    return p, ds, truth


def test_analysis_json_follows_the_schema(synthetic_poses, tmp_path):
    p, ds, truth = synthetic_poses
    a = pipeline.analyze_poses(ds, height_m=p.height_m, speed_mps=p.speed_mps)
    path = a.write_json(tmp_path / "analysis.json")
    doc = json.loads(path.read_text())
    jsonschema.validate(doc, load_schema())
    assert doc["runner"]["facing"] == p.facing and doc["runner"]["setting"] == p.setting
    assert doc["runner"]["height_source"] == "user"
    ic = [e for e in doc["events"] if e["kind"] == "initial_contact"]
    assert len(ic) >= len(truth.events_of("left", "initial_contact")) + len(
        truth.events_of("right", "initial_contact")) - 1
    assert doc["quality"]["swaps_repaired"] >= 1


def test_analyze_a_saved_pose_file_via_cli(synthetic_poses, tmp_path):
    from posecoach.cli import main

    p, ds, truth = synthetic_poses
    nc = save_poses(ds, tmp_path / "poses.nc")
    code = main(["-q", "analyze", str(nc), "-o", str(tmp_path / "out"), "--height-cm",
                 str(p.height_m * 100), "--speed-kmh", str(p.speed_mps * 3.6)])
    assert code == 0
    doc = json.loads((tmp_path / "out" / "analysis.json").read_text())
    assert doc["summary"]["cadence_spm"]["median"] == pytest.approx(truth.cadence_spm, rel=0.01)
    assert any("without the video" in w for w in doc["quality"]["warnings"])


def _as_slow_motion_export(ds, playback_fps: float):
    """A pose dataset filmed at ``ds.attrs["fps"]`` as a slow-motion export stores it:
    the same frames, played (and timed) at ``playback_fps``."""
    factor = ds.attrs["fps"] / playback_fps
    out = ds.assign_coords(time=ds["time"].copy(data=ds["time"].values * factor))
    out.attrs = {**ds.attrs, "fps": playback_fps}
    return out


def test_capture_fps_puts_a_slow_motion_export_back_into_real_time(tmp_path):
    """A Pose runner filmed at 240 frames/s and exported to play at 30 (8x slow motion):
    without --capture-fps the cadence is 8x too low and flagged as not real time; with it
    the numbers are those of the poses analysed in their own (real) time, the file's rate
    is kept as video.fps, and a capture rate below the clip's own is refused."""
    from posecoach.cli import main

    p = synthetic.RunnerParams.pose_runner()
    filmed, truth = synthetic.SyntheticRunner(p).generate(duration_s=4.0, fps=240.0, seed=3)
    export = _as_slow_motion_export(filmed, 30.0)
    nc = save_poses(export, tmp_path / "slomo.nc")
    assert main(["-q", "analyze", str(nc), "-o", str(tmp_path / "plain"),
                 "--height-cm", str(p.height_m * 100)]) == 0
    plain = json.loads((tmp_path / "plain" / "analysis.json").read_text())
    assert plain["summary"]["cadence_spm"]["median"] == pytest.approx(truth.cadence_spm / 8, rel=0.02)
    assert any("not plausible in real time" in w for w in plain["quality"]["warnings"])

    assert main(["-q", "analyze", str(nc), "-o", str(tmp_path / "real"), "--capture-fps", "240",
                 "--height-cm", str(p.height_m * 100)]) == 0
    doc = json.loads((tmp_path / "real" / "analysis.json").read_text())
    jsonschema.validate(doc, load_schema())
    assert doc["summary"]["cadence_spm"]["median"] == pytest.approx(truth.cadence_spm, rel=0.005)
    # exactly what the 240 frames/s poses give when analysed in their own time
    native = pipeline.analyze_poses(filmed, height_m=p.height_m).summary
    for name in ("ground_contact_ms", "flight_ms", "cadence_spm", "vertical_oscillation_cm"):
        assert doc["summary"][name]["median"] == pytest.approx(native[name]["median"], rel=1e-9)
    assert doc["video"]["fps"] == 30.0 and doc["video"]["capture_fps"] == 240.0
    # duration_s is the file's, like fps (960 frames playing at 30 frames/s)
    assert doc["video"]["duration_s"] == pytest.approx(plain["video"]["duration_s"], rel=1e-12)
    assert doc["video"]["duration_s"] == pytest.approx(960 / 30.0, rel=1e-9)
    assert any("filmed at 240" in w for w in doc["quality"]["warnings"])
    assert not any("not plausible in real time" in w for w in doc["quality"]["warnings"])
    # a capture rate below the clip's own is a usage error (exit 2), not a silent mistake
    assert main(["-q", "analyze", str(nc), "-o", str(tmp_path / "bad"), "--capture-fps", "25"]) == 2
    # a rate too high gives an impossible cadence: the warning points at --capture-fps itself
    # (it used to advise passing --capture-fps, which the user had done)
    assert main(["-q", "analyze", str(nc), "-o", str(tmp_path / "high"), "--capture-fps", "600",
                 "--height-cm", str(p.height_m * 100)]) == 0
    high = json.loads((tmp_path / "high" / "analysis.json").read_text())["quality"]["warnings"]
    assert any("--capture-fps 600 is probably too high" in w for w in high), high
    assert not any("pass it with --capture-fps" in w for w in high)
    # far too high: too few frames per contact to find any; the warning says to check it
    assert main(["-q", "analyze", str(nc), "-o", str(tmp_path / "higher"), "--capture-fps",
                 "2400"]) == 7
    higher = json.loads((tmp_path / "higher" / "analysis.json").read_text())["quality"]["warnings"]
    assert any("check --capture-fps 2400" in w for w in higher), higher


def test_too_short_clip_is_not_judged(tmp_path):
    p = synthetic.RunnerParams.pose_runner()
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=0.5, fps=60.0, seed=0)
    a = pipeline.analyze_poses(ds, height_m=p.height_m)
    assert a.gait["classification"] == "unknown"
    assert any("at least" in w for w in a.quality["warnings"])


@pytest.mark.slow
@pytest.mark.realdata
def test_walking_clip_is_reported_as_not_running(tmp_path):
    clip = shared_file("walking-negative-sports2d/demo.mp4")
    res = pipeline.run_analyze(clip, tmp_path / "out", progress=False)
    a = res.analysis
    assert a.gait["classification"] == "walking"
    # the event detector finds too few steps on this walk; the double-support check decides
    assert a.gait["double_support"]["share"] >= 0.08
    assert any("not running" in w and "film the runner running" in w for w in a.quality["warnings"])
    assert np.isfinite(a.quality["detected_fraction"])


@pytest.mark.slow
@pytest.mark.realdata
def test_walking_clip_gets_no_running_verdicts(tmp_path):
    """Whatever the gait classification, a walking clip must never be judged as a run."""
    clip = shared_file("walking-negative-sports2d/demo.mp4")
    res = pipeline.run_analyze(clip, tmp_path / "out", progress=False)
    assert res.analysis.gait["classification"] != "running"
    assert all(r.status == "not_assessable" for r in res.assessment.results)
    assert res.analysis.quality["warnings"]


def test_saved_poses_keep_the_pose_pass_scan(synthetic_poses, tmp_path):
    """Analysed later from poses.nc (no video), the pose pass's scan is still used."""
    from posecoach import camera
    from posecoach.io import load_poses

    p, ds, _ = synthetic_poses
    n = ds.sizes["time"]
    diff = np.where(np.arange(n) % 2 == 1, 0.05, 8.0)  # every picture shown twice
    diff[0] = np.nan
    scanned = ds.assign({
        camera.SHIFT_VAR: (("time", "space"), np.zeros((n, 2))),
        camera.DIFF_VAR: ("time", diff),
    })
    back = load_poses(save_poses(scanned, tmp_path / "poses.nc"))
    a = pipeline.analyze_poses(back, height_m=p.height_m)
    assert not any("without the video" in w for w in a.quality["warnings"])
    assert a.quality["duplicate_picture_share"] > 0.4
    assert any("appears about 2 times" in w for w in a.quality["warnings"])
    assert a.video["effective_fps"] == pytest.approx(ds.attrs["fps"] / 2, rel=0.05)
    # without a stored scan nothing changes: the warning says what could not be checked
    plain = pipeline.analyze_poses(ds, height_m=p.height_m)
    assert "duplicate_picture_share" not in plain.quality
    assert any("without the video" in w for w in plain.quality["warnings"])


def test_a_capture_rate_below_the_videos_is_refused_before_the_pose_pass(tmp_path, capsys):
    """--capture-fps is checked against the video's own rate as soon as it is probed (a
    blank 25 fps clip: the pose pass, which would find nobody, never starts)."""
    from posecoach.cli import main
    from posecoach.video import VideoWriter

    clip = tmp_path / "blank.mp4"
    with VideoWriter(clip, fps=25, width_px=64, height_px=48) as w:
        for _ in range(10):
            w.write(np.zeros((48, 64, 3), np.uint8))
    assert main(["analyze", str(clip), "-o", str(tmp_path / "out"), "--capture-fps", "20"]) == 2
    err = capsys.readouterr().err
    assert "--capture-fps 20 is below the clip's own 25" in err and "person" not in err
