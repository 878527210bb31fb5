"""Angle conventions of posecoach.kinematics on hand-built poses with known angles."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from posecoach import dataset, kinematics

KP = dataset.BLAZEPOSE_KEYPOINTS


def _pose(points: dict[str, tuple[float, float]], *, facing="right", ground_y=500.0):
    """One-frame pixel dataset; ``points`` are (forward_px, up_px) and are mapped to the image
    for the given facing, so the same body gives the same angles either way."""
    pos = np.full((1, len(KP), 2), np.nan)
    for name, (fwd, up) in points.items():
        x = 400 + (fwd if facing == "right" else -fwd)
        pos[0, KP.index(name)] = (x, ground_y - up)
    conf = np.where(np.isnan(pos[..., 0]), np.nan, 1.0)
    return dataset.from_arrays(pos, conf, [0.0], fps=60, image_width_px=800, image_height_px=600,
                               source_software="test")


def _body(side_pts, facing="right"):
    pts = {}
    for side in ("left", "right"):
        pts.update({f"{side}_{k}": v for k, v in side_pts.items()})
    ds = _pose(pts, facing=facing)
    return kinematics.to_body_frame(ds, facing=facing, px_per_m=100.0, ground_y_px=500.0)


# A leg with the knee bent 30 deg (shank 30 deg back from the thigh line), trunk leaning 10 deg forward.
LEG = {
    "shoulder": (100 * np.sin(np.radians(10)), 100 + 100 * np.cos(np.radians(10))),
    "hip": (0.0, 100.0),
    "knee": (0.0, 50.0),
    "ankle": (-50 * np.sin(np.radians(30)), 50 - 50 * np.cos(np.radians(30))),
    "heel": (-50 * np.sin(np.radians(30)) - 5, 50 - 50 * np.cos(np.radians(30))),
    "foot_index": (-50 * np.sin(np.radians(30)) + 15, 50 - 50 * np.cos(np.radians(30)) - 20 * np.tan(np.radians(20))),
    "elbow": (100 * np.sin(np.radians(10)), 150.0),
    "wrist": (100 * np.sin(np.radians(10)) + 30, 150.0),
}


@pytest.mark.parametrize("facing", ["right", "left"])
def test_known_angles_both_facings(facing):
    ang = kinematics.joint_angles(_body(LEG, facing))
    for side in ("left", "right"):
        a = ang.sel(side=side).isel(time=0)
        assert float(a["knee_flexion_deg"]) == pytest.approx(30.0, abs=1e-6)
        assert float(a["shank_angle_deg"]) == pytest.approx(-30.0, abs=1e-6)  # ankle behind knee
        assert float(a["thigh_angle_deg"]) == pytest.approx(0.0, abs=1e-6)
        assert float(a["hip_flexion_deg"]) == pytest.approx(10.0, abs=1e-6)
        assert float(a["elbow_angle_deg"]) == pytest.approx(90.0, abs=1e-6)
        assert float(a["foot_angle_deg"]) == pytest.approx(-20.0, abs=1e-6)  # toe down
    assert float(ang["trunk_lean_deg"][0]) == pytest.approx(10.0, abs=1e-6)


def test_ground_tilt_is_removed():
    """A camera rolled by 5 deg: rotating the image must not change the angles."""
    ds = _pose({f"{s}_{k}": v for s in ("left", "right") for k, v in LEG.items()})
    th = np.radians(5)
    pos = ds["position"].values.copy()
    x, y = pos[..., 0] - 400, pos[..., 1] - 500
    pos[..., 0] = 400 + np.cos(th) * x - np.sin(th) * y
    pos[..., 1] = 500 + np.sin(th) * x + np.cos(th) * y
    tilted = ds.copy()
    tilted["position"] = (("time", "keypoint", "space"), pos)
    body = kinematics.to_body_frame(tilted, facing="right", px_per_m=100, ground_y_px=500,
                                    ground_slope=np.tan(th), ground_x0_px=400)
    ang = kinematics.joint_angles(body).sel(side="left").isel(time=0)
    assert float(ang["shank_angle_deg"]) == pytest.approx(-30.0, abs=1e-6)
    assert float(ang["foot_angle_deg"]) == pytest.approx(-20.0, abs=1e-6)


def test_ankle_right_angle_is_zero():
    leg = {"hip": (0, 100), "knee": (0, 50), "ankle": (0, 5), "heel": (-5, 0), "foot_index": (15, 0)}
    ang = kinematics.joint_angles(_body(leg)).sel(side="right").isel(time=0)
    assert float(ang["ankle_dorsiflexion_deg"]) == pytest.approx(0.0, abs=1e-6)  # foot at 90 deg to shank
    leg["foot_index"] = (15, 20 * np.tan(np.radians(10)))  # toe lifted 10 deg -> 10 deg dorsiflexion
    ang = kinematics.joint_angles(_body(leg)).sel(side="right").isel(time=0)
    assert float(ang["ankle_dorsiflexion_deg"]) == pytest.approx(10.0, abs=1e-6)


@given(
    knee=st.floats(0, 120), lean=st.floats(-20, 30), facing=st.sampled_from(["left", "right"]),
)
def test_knee_and_lean_property(knee, lean, facing):
    """For any knee bend and lean, both facings and both sides read the same angles."""
    k = np.radians(knee)
    leg = {
        "shoulder": (100 * np.sin(np.radians(lean)), 100 + 100 * np.cos(np.radians(lean))),
        "hip": (0.0, 100.0), "knee": (0.0, 50.0),
        "ankle": (-50 * np.sin(k), 50 - 50 * np.cos(k)),
    }
    ang = kinematics.joint_angles(_body(leg, facing))
    np.testing.assert_allclose(ang["knee_flexion_deg"].values, knee, atol=1e-6)
    np.testing.assert_allclose(ang["trunk_lean_deg"].values, lean, atol=1e-6)
