"""The analysis stages end to end and the analysis.json contract."""

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from conftest import shared_file
from posecoach import pipeline, synthetic
from posecoach.analysis import load_schema
from posecoach.cli import main
from posecoach.io import load_poses, save_poses
from posecoach.video import probe


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


def test_a_clip_without_a_complete_step_still_writes_a_valid_analysis(tmp_path):
    """0.3 s of running holds one contact and no whole step: the summary is there, empty."""
    from posecoach import metrics
    p = synthetic.RunnerParams.pose_runner()
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=0.3, fps=60.0, seed=0)
    a = pipeline.analyze_poses(ds, height_m=p.height_m)
    assert len(a.steps) == 0
    doc = json.loads(a.write_json(tmp_path / "analysis.json").read_text())
    jsonschema.validate(doc, load_schema())
    assert set(doc["summary"]) == set(metrics.METRIC_KINDS)
    assert all(e["n"] == 0 and e["median"] is None for e in doc["summary"].values())


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


def test_a_speed_given_is_not_multiplied_by_steps_that_are_not_real_time():
    """--speed-kmh 14 on a clip in 4x slow motion gave a 3.1 m step: a real-time speed
    times video-time steps. Step length and vertical ratio are left out, and it says so."""
    p = synthetic.RunnerParams.pose_runner()
    filmed, _ = synthetic.SyntheticRunner(p).generate(duration_s=6.0, fps=120.0, seed=3)
    export = _as_slow_motion_export(filmed, 30.0)
    a = pipeline.analyze_poses(export, height_m=p.height_m, speed_mps=p.speed_mps)
    assert a.quality["timing_problem"]["kind"] == "slow_motion"
    for m in ("step_length_m", "vertical_ratio_pct"):
        assert a.summary[m]["median"] is None and a.summary[m]["n"] == 0
        assert a.steps[m].isna().all()
    assert any("step length and vertical ratio are left out" in w for w in a.quality["warnings"])
    # in real time they are kept
    real = pipeline.analyze_poses(filmed, height_m=p.height_m, speed_mps=p.speed_mps)
    assert real.quality["timing_problem"] is None
    assert real.summary["step_length_m"]["median"] == pytest.approx(
        p.speed_mps * 60 / real.summary["cadence_spm"]["median"], rel=0.02)


def test_a_capture_rate_below_the_videos_is_refused_before_the_pose_pass(tmp_path, capsys):
    """--capture-fps is checked against the video's own rate as soon as it is probed (a
    blank 25 fps clip: the pose pass, which would find nobody, never starts)."""
    from posecoach.video import VideoWriter

    clip = tmp_path / "blank.mp4"
    with VideoWriter(clip, fps=25, width_px=64, height_px=48) as w:
        for _ in range(10):
            w.write(np.zeros((48, 64, 3), np.uint8))
    assert main(["analyze", str(clip), "-o", str(tmp_path / "out"), "--capture-fps", "20"]) == 2
    err = capsys.readouterr().err
    assert "--capture-fps 20 is below the clip's own 25" in err and "person" not in err


# --------------------------------------------------------------------------------------------
# a saved pose dataset and the video it came from
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def poses_with_video(tmp_path_factory):
    """A Pose-style runner, 4 s at 30 fps, its stick-figure video and its poses.nc recording
    that video as its source (as ``posecoach pose`` does)."""
    folder = tmp_path_factory.mktemp("pose_run")
    ds, _ = synthetic.SyntheticRunner(synthetic.RunnerParams.pose_runner()).generate(
        duration_s=4.0, fps=30.0, seed=3)
    video = synthetic.render_video(ds, folder / "clip.mp4")
    ds.attrs["source_file"] = str(video)
    return save_poses(ds, folder / "poses.nc"), video


def test_saved_poses_are_drawn_on_the_video_they_record(poses_with_video, tmp_path):
    """``analyze poses.nc`` used to ignore the video: key frames on a plain background and
    no overlay, although the dataset names the clip and it was still there."""
    nc, video = poses_with_video
    res = pipeline.run_analyze(nc, tmp_path / "out", progress=False, workers=1)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["analysis.json", "overlay.mp4", "report.html"]
    assert res.analysis.video["n_frames"] == 120 and res.analysis.video["width"] > 0
    page = (tmp_path / "out" / "report.html").read_text()
    assert "the video was not available" not in page
    assert "clip.mp4 (poses from poses.nc)" in page
    assert probe(tmp_path / "out" / "overlay.mp4").n_frames == 120
    # the page links the annotated video beside it (the warnings send the user there)
    assert 'href="overlay.mp4"' in page


def test_saved_poses_whose_video_is_gone_say_so_and_still_give_the_report(poses_with_video,
                                                                          tmp_path, capfd):
    """The warnings go to a copy of file descriptor 2 (``cli._quiet_native_stderr``): capfd."""
    nc, video = poses_with_video
    moved = tmp_path / "moved.mp4"
    moved.write_bytes(video.read_bytes())
    gone = load_poses(nc)
    gone.attrs["source_file"] = str(tmp_path / "deleted.mp4")
    nc_gone = save_poses(gone, tmp_path / "gone.nc")
    assert main(["analyze", str(nc_gone), "-o", str(tmp_path / "a"), "--workers", "1"]) == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["analysis.json", "report.html"]
    err = capfd.readouterr().err
    assert "deleted.mp4, was not found" in err and "give the video with --video PATH" in err
    assert "the video was not available" in (tmp_path / "a" / "report.html").read_text()
    assert "overlay.mp4" not in (tmp_path / "a" / "report.html").read_text()  # none written
    # given with --video, the moved clip is used
    assert main(["analyze", str(nc_gone), "-o", str(tmp_path / "b"), "--workers", "1",
                 "--video", str(moved)]) == 0
    assert (tmp_path / "b" / "overlay.mp4").is_file()
    assert "not found" not in capfd.readouterr().err


def test_a_video_that_is_not_the_poses_clip_is_not_drawn_on(poses_with_video, tmp_path, capfd):
    """Another clip at the recorded path is skipped with a warning; given with --video it is
    refused: the skeleton would be drawn on the wrong pictures."""
    nc, _ = poses_with_video
    other = synthetic.render_video(load_poses(nc).isel(time=slice(0, 40)), tmp_path / "short.mp4",
                                   fps=25.0)
    ds = load_poses(nc)
    ds.attrs["source_file"] = str(other)
    nc_other = save_poses(ds, tmp_path / "other.nc")
    assert main(["analyze", str(nc_other), "-o", str(tmp_path / "a"), "--workers", "1"]) == 0
    assert not (tmp_path / "a" / "overlay.mp4").exists()
    err = capfd.readouterr().err
    assert "short.mp4 is not the video these poses were estimated on" in err
    assert "25 frames/s, the poses 30" in err and "40 frames, the poses reach frame 119" in err
    assert main(["analyze", str(nc), "-o", str(tmp_path / "b"), "--video", str(other)]) == 2
    err = capfd.readouterr().err
    assert "give the clip that 'posecoach pose' was run on" in err and "Traceback" not in err
    assert not (tmp_path / "b").exists()
    assert main(["analyze", str(other), "-o", str(tmp_path / "c"), "--video", str(other)]) == 2
    assert "--video is for a saved pose dataset" in capfd.readouterr().err
    assert main(["analyze", str(nc), "-o", str(tmp_path / "d"), "--video",
                 str(tmp_path / "nope.mp4")]) == 3
    assert "nope.mp4" in capfd.readouterr().err


def test_the_default_output_of_saved_poses_is_named_after_their_video(poses_with_video,
                                                                      tmp_path, monkeypatch):
    """``posecoach-output/<video name>``: beside the poses ``posecoach pose`` wrote there, not
    ``posecoach-output/poses`` for every clip."""
    nc, video = poses_with_video
    assert pipeline.default_output(video) == Path("posecoach-output/clip")
    assert pipeline.default_output(nc) == Path("posecoach-output/clip")
    plain = load_poses(nc)
    plain.attrs["source_file"] = ""
    assert pipeline.default_output(save_poses(plain, tmp_path / "mine.nc")) == Path(
        "posecoach-output/mine")
    (tmp_path / "broken.nc").write_text("not a NetCDF file")
    assert pipeline.default_output(tmp_path / "broken.nc") == Path("posecoach-output/broken")
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "analyze", str(nc), "--workers", "1"]) == 0
    assert sorted(p.name for p in (tmp_path / "posecoach-output" / "clip").iterdir()) == [
        "analysis.json", "overlay.mp4", "report.html"]


def test_a_recorded_relative_video_is_found_from_another_folder(poses_with_video, tmp_path,
                                                                 monkeypatch):
    """``posecoach pose clip.mp4 -o P1`` run in C records "clip.mp4" (as typed: no user
    folders in a shared file); ``analyze C/P1/poses.nc`` run elsewhere still finds C/clip.mp4,
    and skips a different clip of that name on the way up."""
    nc, video = poses_with_video
    c = tmp_path / "C"
    (c / "P1").mkdir(parents=True)
    (c / "clip.mp4").write_bytes(video.read_bytes())
    ds = load_poses(nc)
    ds.attrs["source_file"] = "clip.mp4"
    nc_rel = save_poses(ds, c / "P1" / "poses.nc")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert pipeline.video_of_poses(load_poses(nc_rel), poses_path=nc_rel) == (c / "clip.mp4", "")
    # without the dataset's own path only the current folder is looked in
    found, why = pipeline.video_of_poses(load_poses(nc_rel))
    assert found is None and "clip.mp4, was not found" in why
    # the default layout: C/posecoach-output/clip/poses.nc recording "videos/clip.mp4"; a
    # different clip of that name nearer to the dataset is not used
    (c / "videos").mkdir()
    (c / "videos" / "clip.mp4").write_bytes(video.read_bytes())
    deep = c / "posecoach-output" / "clip"
    (deep / "videos").mkdir(parents=True)
    synthetic.render_video(ds.isel(time=slice(0, 30)), deep / "videos" / "clip.mp4")
    ds.attrs["source_file"] = "videos/clip.mp4"
    nc_deep = save_poses(ds, deep / "poses.nc")
    assert pipeline.video_of_poses(load_poses(nc_deep), poses_path=nc_deep) == (
        c / "videos" / "clip.mp4", "")
    pipeline.run_analyze(nc_deep, elsewhere / "out", progress=False, workers=1)
    assert (elsewhere / "out" / "overlay.mp4").is_file()
    assert "the video was not available" not in (elsewhere / "out" / "report.html").read_text()


def test_a_speed_given_for_an_overground_run_replaces_the_measured_one_with_a_warning():
    """--speed-kmh is the belt speed on a treadmill; overground it is the running speed,
    which replaces the one measured with a fixed camera: the user hears that (and how to
    get the measured one); where nothing is measured (camera motion unknown) it just helps."""
    from posecoach import camera
    p = synthetic.RunnerParams.pose_runner(setting="overground")
    ds, _ = synthetic.SyntheticRunner(p).generate(duration_s=4.0, fps=60.0, seed=0)
    n = ds.sizes["time"]
    fixed = ds.assign({camera.SHIFT_VAR: (("time", "space"), np.zeros((n, 2))),
                       camera.DIFF_VAR: ("time", np.full(n, 8.0))})  # a fixed camera's scan
    measured = pipeline.analyze_poses(fixed, height_m=p.height_m)
    assert (measured.runner["setting"], measured.runner["camera"]) == ("overground", "static")
    assert measured.runner["speed_source"] == "measured"
    assert not any("--speed-kmh" in w for w in measured.quality["warnings"])
    given = pipeline.analyze_poses(fixed, height_m=p.height_m, speed_mps=12 / 3.6)
    assert given.runner["speed_source"] == "user" and given.runner["speed_mps"] == 12 / 3.6
    (w,) = [w for w in given.quality["warnings"] if "--speed-kmh" in w]
    assert "--speed-kmh 12.0 was used as the running speed" in w and "overground" in w
    assert "leave --speed-kmh out" in w
    unknown_camera = pipeline.analyze_poses(ds, height_m=p.height_m, speed_mps=12 / 3.6)
    assert not any("--speed-kmh" in w for w in unknown_camera.quality["warnings"])
    treadmill = synthetic.RunnerParams.pose_runner()
    ds, _ = synthetic.SyntheticRunner(treadmill).generate(duration_s=4.0, fps=60.0, seed=0)
    belt = pipeline.analyze_poses(ds, height_m=p.height_m, speed_mps=treadmill.speed_mps)
    assert not any("--speed-kmh" in w for w in belt.quality["warnings"])


def test_the_schema_names_every_summary_use_and_reason():
    items = load_schema()["properties"]["steps"]["items"]["properties"]
    assert items["summary_use"]["enum"] == list(pipeline.SUMMARY_USE)
    assert items["left_out_reason"]["enum"] == [*pipeline.LEFT_OUT_REASONS, None]
    cols = pipeline.summary_use_columns(
        np.array([True, False, False, False]), np.array([True, True, False, False]),
        np.array([True, False, True, False]))
    assert cols == {"summary_use": ["none", "not_times", "all", "all"],
                    "left_out_reason": ["both_feet_down", "slow_motion", "over_missed_contacts",
                                        None]}


def test_analysis_json_names_the_rules_the_priorities_and_the_drills(synthetic_poses, tmp_path):
    """docs/rules.md: analysis.json names the rule version used; the priorities and drills
    the report shows are in it too (they were only in report.html)."""
    p, ds, _ = synthetic_poses
    a = pipeline.analyze_poses(ds, height_m=p.height_m, speed_mps=p.speed_mps)
    result = pipeline.judge(a)
    doc = json.loads(a.write_json(tmp_path / "analysis.json").read_text())
    jsonschema.validate(doc, load_schema())
    assert doc["rules_version"] == result.rules_version and "Pose Method" in doc["rules_version"]
    assert doc["priorities"] == [r.id for r in result.priorities]
    assert doc["recommended_drills"] == list(result.recommended_drills)
    ids = {r["id"] for r in doc["assessment"]}
    assert set(doc["priorities"]) <= ids
