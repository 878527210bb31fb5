"""Scene estimation on synthetic runners with known facing, setting, ground line and scale."""

import numpy as np
import pytest

from posecoach import synthetic
from posecoach.scene import DEFAULT_HEIGHT_M, SceneEstimator


def _runner(**changes):
    p = synthetic.RunnerParams.pose_runner(**changes)
    return p, *synthetic.SyntheticRunner(p).generate(duration_s=4.0, fps=60.0, seed=0)


@pytest.mark.parametrize("facing", ["left", "right"])
@pytest.mark.parametrize("setting", ["treadmill", "overground"])
def test_facing_and_setting(facing, setting):
    p, ds, truth = _runner(facing=facing, setting=setting)
    still_camera = np.zeros((ds.sizes["time"], 2))
    sc = SceneEstimator(p.height_m).detect(ds, still_camera).scene_
    assert sc.facing == facing
    assert sc.setting == setting
    assert sc.camera == "static"


def test_scale_and_ground_line_match_truth():
    p, ds, truth = _runner(setting="overground", ground_tilt_deg=4.0)
    sc = SceneEstimator(p.height_m).detect(ds, np.zeros((ds.sizes["time"], 2))).scene_
    assert sc.px_per_m == pytest.approx(truth.px_per_m, rel=0.03)
    assert sc.ground_tilt_deg == pytest.approx(4.0, abs=0.5)
    # the fitted line passes through the truth's ground line where the feet are
    x = sc.ground_x0_px
    y_truth = truth.ground_y_px + truth.ground_slope * (x - truth.ground_x0_px)
    assert sc.ground_y_px == pytest.approx(y_truth, abs=3.0)
    assert any("tilted" in w for w in sc.warnings)


def test_panning_camera_is_told_apart_from_treadmill():
    p, ds, truth = _runner(setting="treadmill")
    n = ds.sizes["time"]
    pan = np.stack([-np.linspace(0, 2000, n), np.zeros(n)], axis=1)  # background sweeps left
    sc = SceneEstimator(p.height_m).detect(ds, pan).scene_
    assert (sc.setting, sc.camera) == ("overground", "panning")


def test_default_height_warns():
    p, ds, truth = _runner()
    sc = SceneEstimator().detect(ds).scene_
    assert sc.height_source == "default" and sc.height_m == DEFAULT_HEIGHT_M
    assert any("height" in w for w in sc.warnings)
    assert any("treadmill" in w for w in sc.warnings)  # camera motion unknown without the video
