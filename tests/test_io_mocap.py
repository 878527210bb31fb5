"""Tests for the Fukuchi 2017 motion-capture loader (posecoach.io.mocap)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import shared_file
from posecoach import dataset
from posecoach.errors import PosecoachError
from posecoach.io import mocap

# --------------------------------------------------------------------------------------------
# Pure unit tests (no data needed)
# --------------------------------------------------------------------------------------------


def _rotation(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle_rad) * k + (1 - np.cos(angle_rad)) * k @ k


def test_rigid_fit_recovers_known_rotation_and_translation():
    rng = np.random.default_rng(1)
    ref = rng.normal(scale=60.0, size=(5, 3))
    rots = np.stack([_rotation(rng.normal(size=3), a) for a in (0.3, 1.2, 2.9)])
    trans = np.array([[100.0, -20.0, 5.0], [0.0, 900.0, 10.0], [-3.0, 4.0, 1500.0]])
    cur = np.einsum("nij,mj->nmi", rots, ref) + trans[:, None]
    cur[1, 2] = np.nan  # one marker missing in frame 1: four remain, fit still exact
    rot, t, rms = mocap.rigid_fit(ref, cur)
    np.testing.assert_allclose(rot, rots, atol=1e-9)
    np.testing.assert_allclose(t, trans, atol=1e-7)
    np.testing.assert_allclose(rms, 0.0, atol=1e-7)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0)


def test_rigid_fit_least_squares_with_noise_and_too_few_markers():
    rng = np.random.default_rng(2)
    ref = rng.normal(scale=50.0, size=(4, 3))
    true_rot = _rotation([1.0, 2.0, 0.5], 0.7)
    cur = ref @ true_rot.T + np.array([10.0, 20.0, 30.0])
    noisy = cur + rng.normal(scale=0.5, size=cur.shape)
    two_only = cur.copy()
    two_only[:2] = np.nan
    rot, _, rms = mocap.rigid_fit(ref, np.stack([noisy, two_only]))
    angle_err = np.degrees(np.arccos((np.trace(rot[0].T @ true_rot) - 1) / 2))
    assert angle_err < 1.0
    assert 0.1 < rms[0] < 1.5  # residual of the noise, not zero, not large
    assert np.isnan(rot[1]).all() and np.isnan(rms[1])  # 2 markers cannot fix a rotation


def test_rigid_fit_never_returns_a_reflection():
    ref = np.array([[0.0, 0, 0], [100, 0, 0], [0, 80, 0], [0, 0, 60]])
    mirrored = ref * np.array([1.0, 1.0, -1.0])  # no proper rotation maps ref onto this
    rot, _, rms = mocap.rigid_fit(ref, mirrored)
    assert np.linalg.det(rot[0]) == pytest.approx(1.0)
    assert rms[0] > 10.0


def test_match_cluster_labels_finds_a_swap_and_keeps_a_good_labelling():
    ref = np.array([[0.0, 90, 0], [0, 45, 0], [30, 55, 45], [210, 60, -40], [200, 55, 70]])
    frames = np.repeat(ref[None], 20, axis=0) + np.random.default_rng(3).normal(0, 0.5, (20, 5, 3))
    order, before, after = mocap.match_cluster_labels(ref, frames)
    assert list(order) == [0, 1, 2, 3, 4] and before < 2.0
    swapped = frames[:, [0, 1, 2, 4, 3]]
    order, before, after = mocap.match_cluster_labels(ref, swapped)
    assert list(order) == [0, 1, 2, 4, 3]
    assert before > 10.0 and after < 2.0
    np.testing.assert_allclose(swapped[:, order], frames)


def test_bell_hip_joint_centres_on_a_known_pelvis():
    # pelvis frame = lab frame: x anterior, y up, z right; inter-ASIS width 200 mm
    markers = {
        "R.ASIS": np.array([0.0, 1000.0, 100.0]),
        "L.ASIS": np.array([0.0, 1000.0, -100.0]),
        "R.PSIS": np.array([-150.0, 1020.0, 40.0]),
        "L.PSIS": np.array([-150.0, 1020.0, -40.0]),
    }
    right, left = mocap.bell_hip_joint_centres(markers)
    # x is the anterior direction projected perpendicular to z; PSIS are higher, so x tilts a bit
    assert right[2] == pytest.approx(72.0) and left[2] == pytest.approx(-72.0)
    assert right[0] < -30.0 and right[1] < 1000.0 - 50.0
    np.testing.assert_allclose(np.linalg.norm(right - left), 144.0)
    width = 200.0
    origin = np.array([0.0, 1000.0, 0.0])
    np.testing.assert_allclose(
        np.linalg.norm(right - origin), width * np.sqrt(0.19**2 + 0.30**2 + 0.36**2)
    )


def _square_wave(rate_hz: float = 300.0) -> tuple[np.ndarray, np.ndarray, list, list]:
    """GRF of 1000 N contacts with 10 ms linear ramps; threshold 50 N crossings are exact."""
    t = np.arange(0, 3.0, 1 / rate_hz)
    f = np.zeros_like(t)
    ramp_s = 0.010
    contacts = [(0.20, 0.45), (0.80, 1.05), (1.40, 1.65), (2.00, 2.25)]
    for a, b in contacts:
        up = np.clip((t - a) / ramp_s, 0, 1)
        down = np.clip((b - t) / ramp_s, 0, 1)
        f = np.maximum(f, 1000.0 * np.minimum(up, down))
    ic = [a + ramp_s * 0.05 for a, _ in contacts]  # 50 N is 5 % up the ramp
    to = [b - ramp_s * 0.05 for _, b in contacts]
    return t, f, ic, to


def test_force_events_finds_known_crossings_of_a_square_wave():
    t, f, ic, to = _square_wave()
    # noise that must be ignored: a 2-sample spike in flight and a 1-sample dip in contact
    f[(t > 0.60) & (t < 0.607)] = 200.0
    f[np.argmin(np.abs(t - 1.50))] = 0.0
    events = mocap.force_events(t, f, threshold_N=50.0)
    assert list(events.columns) == ["kind", "time_s", "side"]
    assert list(events["kind"]) == ["initial_contact", "toe_off"] * 4
    np.testing.assert_allclose(events["time_s"].to_numpy()[0::2], ic, atol=1e-9)
    np.testing.assert_allclose(events["time_s"].to_numpy()[1::2], to, atol=1e-9)
    assert set(events["side"]) == {"unknown"}  # no markers given
    summary = mocap.truth_summary(events)
    assert summary["ground_contact_ms"] == pytest.approx(249.0)
    assert summary["flight_ms"] == pytest.approx(351.0)
    assert summary["cadence_spm"] == pytest.approx(100.0)
    assert summary["n_contacts"] == 4


def test_force_events_fraction_of_peak_and_contact_cut_by_the_recording():
    t, f, ic, to = _square_wave()
    start = t >= 0.30  # recording starts mid-contact: its toe-off is seen, its start is not
    detector = mocap.ForceEventDetector(threshold_N=None, threshold_fraction=0.05)
    events = detector.detect(t[start], f[start]).events_
    assert detector.threshold_N_ == pytest.approx(50.0)
    assert events["kind"].iloc[0] == "toe_off"
    assert events["time_s"].iloc[0] == pytest.approx(to[0])
    assert (events["kind"] == "initial_contact").sum() == 3


def test_truth_summary_uses_medians():
    events = pd.DataFrame(
        {
            "kind": ["initial_contact", "toe_off"] * 3,
            "time_s": [0.0, 0.25, 0.40, 0.64, 0.80, 1.06],
            "side": ["left", "left", "right", "right", "left", "left"],
        }
    )
    s = mocap.truth_summary(events)
    assert s["ground_contact_ms"] == pytest.approx(250.0)
    assert s["flight_ms"] == pytest.approx(155.0)
    assert s["step_time_ms"] == pytest.approx(400.0)
    assert s["cadence_spm"] == pytest.approx(150.0)


def test_bad_input_raises_posecoach_errors(tmp_path):
    with pytest.raises(PosecoachError, match="not found"):
        mocap.read_markers(tmp_path / "nope.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("Time\tA.X\tA.Y\n0\t1\t2\n")
    with pytest.raises(PosecoachError, match="X/Y/Z"):
        mocap.read_markers(bad)
    with pytest.raises(PosecoachError, match="Fy"):
        mocap.read_forces(bad)
    with pytest.raises(PosecoachError, match="threshold"):
        mocap.force_events(np.arange(10.0), np.zeros(10), threshold_N=None)


def _static_feet(yaw_deg: float = 8.0) -> dict[str, np.ndarray]:
    """Both feet standing flat, markers as in the Fukuchi set (mm), long axis yawed outwards."""
    foot = {  # x forward from the heel marker, y up from the floor, z to the foot's lateral side
        "Heel.Top": (10.0, 90.0, 0.0),
        "Heel.Bottom": (0.0, 42.0, 0.0),
        "Heel.Lateral": (30.0, 60.0, 42.0),
        "MT1": (222.0, 64.0, -40.0),
        "MT2": (228.0, 73.0, 2.0),
        "MT5": (200.0, 56.0, 66.0),
    }
    out = {}
    for s, z0, lateral in (("R", 1360.0, 1.0), ("L", 1090.0, -1.0)):
        yaw = np.radians(yaw_deg) * lateral  # toes out: rotate the axis towards the lateral side
        for name, (x, y, z) in foot.items():
            zz = z * lateral
            xr_ = x * np.cos(yaw) - zz * np.sin(yaw)
            zr = x * np.sin(yaw) + zz * np.cos(yaw)
            out[f"{s}.{name}"] = np.array([[630.0 + xr_, y, z0 + zr]] * 3)
    return out


def test_sole_landmarks_static_lie_on_the_floor_along_the_foot_axis():
    static = _static_feet(yaw_deg=8.0)
    for s in ("R", "L"):
        pts = mocap.sole_landmarks_static(static, s, floor_y_mm=12.0, toe_offset_mm=60.0)
        heel_marker, mt2 = static[f"{s}.Heel.Bottom"][0], static[f"{s}.MT2"][0]
        for name in ("heel", "ball", "toe"):
            assert pts[name][1] == pytest.approx(12.0)  # on the floor: the sole line is level
        np.testing.assert_allclose(pts["heel"][[0, 2]], heel_marker[[0, 2]])  # straight down
        np.testing.assert_allclose(pts["ball"][[0, 2]], mt2[[0, 2]])
        step = pts["toe"] - pts["ball"]
        assert np.linalg.norm(step) == pytest.approx(60.0)
        axis = (mt2 - heel_marker)[[0, 2]]
        cos = step[[0, 2]] @ axis / (np.linalg.norm(step) * np.linalg.norm(axis))
        assert cos == pytest.approx(1.0)  # ahead along the heel -> MT2 axis, yaw included
    static["R.MT2"] = static["R.Heel.Bottom"] + np.array([0.0, 30.0, 0.0])
    with pytest.raises(PosecoachError, match="long axis"):
        mocap.sole_landmarks_static(static, "R", floor_y_mm=0.0, toe_offset_mm=60.0)


def test_stance_floor_level_finds_the_loaded_sole_height():
    rng = np.random.default_rng(4)
    phase = (np.arange(3000) % 100) / 100.0
    stance = phase < 0.35  # a third of the stride on the belt, as in running
    heel = np.where(stance, -12.0, 80.0 + 60.0 * np.sin(np.pi * phase)) + rng.normal(0, 1.0, 3000)
    ball = np.where(stance, -11.0, 60.0) + rng.normal(0, 1.0, 3000)
    ball[::7] = np.nan  # gaps are ignored
    level = mocap.stance_floor_level_mm(heel, ball)
    assert level == pytest.approx(-12.0, abs=1.5)
    with pytest.raises(PosecoachError, match="stance_share"):
        mocap.stance_floor_level_mm(heel, ball, stance_share=0.7)


def test_sole_landmarks_follow_a_rigid_foot_and_find_the_belt():
    static = _static_feet(yaw_deg=5.0)
    n = 200
    stance = (np.arange(n) % 100) < 35
    pitch = np.where(stance, 0.0, np.radians(np.linspace(-20.0, 10.0, n)))  # toe up positive
    lift = np.where(stance, -10.0, 100.0)  # the loaded shoe sits 10 mm lower than standing
    c, s_ = np.cos(pitch), np.sin(pitch)
    zero, one = np.zeros(n), np.ones(n)
    rotations = np.stack(  # about the lab z axis (medio-lateral), through the heel (x = 630)
        [np.stack([c, -s_, zero], 1), np.stack([s_, c, zero], 1), np.stack([zero, zero, one], 1)],
        axis=1,
    )
    pivot = np.array([630.0, 0.0, 0.0])
    shift = pivot - np.einsum("nij,j->ni", rotations, pivot)
    shift += np.stack([np.full(n, 1000.0), lift, zero], axis=1)
    trial = {
        name: np.einsum("nij,j->ni", rotations, xyz[0]) + shift for name, xyz in static.items()
    }
    sole = mocap.SoleLandmarks(foot_length_mm=275.0).fit(static, trial)
    assert sole.floor_method_ == "running stance"
    assert sole.floor_y_mm_ == pytest.approx(10.0, abs=0.5)
    assert sole.toe_offset_mm_ == pytest.approx(0.22 * 275.0)
    for side, s in (("right", "R"), ("left", "L")):
        expect = {
            k: np.einsum("nij,j->ni", rotations, v) + shift
            for k, v in sole.static_points_mm_[side].items()
        }
        for k, v in expect.items():  # every sole point is carried rigidly
            np.testing.assert_allclose(sole.sole_points_mm_[side][k], v, atol=1e-6)
        # keypoints: along the foot where the heel / toe tip is, as low as the lowest point of
        # the row across the sole (a pitched foot's lateral heel point sits ahead of the back)
        for key, row in (("heel", "heel"), ("foot_index", "toe")):
            got = sole.points_mm_[f"{side}_{key}"]
            low = np.min([expect[f"{row}{e}"][:, 1] for e in ("", "_lateral", "_medial")], axis=0)
            np.testing.assert_allclose(got[:, [0, 2]], expect[row][:, [0, 2]], atol=1e-6)
            np.testing.assert_allclose(got[:, 1], low, atol=1e-6)
        np.testing.assert_allclose(sole.points_mm_[f"{side}_toe_rigid"], expect["toe"], atol=1e-6)
        np.testing.assert_allclose(sole.fit_rms_mm_[f"{s}.foot"], 0.0, atol=1e-6)
        # flat and loaded: the sole points sit on the belt (Y = 0)
        np.testing.assert_allclose(sole.points_mm_[f"{side}_heel"][stance, 1], 0.0, atol=0.5)
        np.testing.assert_allclose(sole.points_mm_[f"{side}_ball"][stance, 1], 0.0, atol=0.5)
    given = mocap.SoleLandmarks(floor_y_mm=0.0).fit(static, trial)
    assert given.floor_method_ == "given" and given.floor_y_mm_ == 0.0
    assert given.stance_levels_mm_["right"] == pytest.approx(-10.0, abs=0.5)
    # without a stature the foot length comes from the heel -> MT2 marker distance
    assert given.foot_length_mm_ == pytest.approx(np.hypot(228.0, 2.0) / 0.83, rel=1e-3)


def test_sole_landmarks_static_rows_across_the_sole():
    static = _static_feet(yaw_deg=8.0)
    for s in ("R", "L"):
        pts = mocap.sole_landmarks_static(static, s, floor_y_mm=5.0, toe_offset_mm=60.0)
        assert {"heel_lateral", "heel_medial", "ball_lateral", "ball_medial"} <= set(pts)
        for p in pts.values():
            assert p[1] == pytest.approx(5.0)  # every point on the floor
        axis = (pts["toe"] - pts["ball"]) / 60.0
        lateral = np.array([-axis[2], 0.0, axis[0]])
        mt5, mt1 = static[f"{s}.MT5"][0], static[f"{s}.MT1"][0]
        if (mt5 - mt1) @ lateral < 0:
            lateral = -lateral
        r = mocap.MARKER_RADIUS_MM
        # edge points: the marker straight down, one marker radius in towards the axis
        np.testing.assert_allclose(
            pts["ball_lateral"][[0, 2]], (mt5 - r * lateral)[[0, 2]], atol=1e-9
        )
        np.testing.assert_allclose(
            pts["ball_medial"][[0, 2]], (mt1 + r * lateral)[[0, 2]], atol=1e-9
        )
        # medial heel edge: the lateral one mirrored across the long axis
        off_lat = (pts["heel_lateral"] - pts["heel"]) @ lateral
        off_med = (pts["heel_medial"] - pts["heel"]) @ lateral
        assert off_lat == pytest.approx(-off_med) and off_lat > 20.0
        half = 0.5 * (pts["ball_lateral"] - pts["ball_medial"]) @ lateral
        toe_off = (pts["toe_lateral"] - pts["toe"]) @ lateral
        assert toe_off == pytest.approx(mocap.TOE_ROW_WIDTH_FRACTION * half)
        np.testing.assert_allclose(
            pts["toe_medial"] - pts["toe"], -(pts["toe_lateral"] - pts["toe"])
        )
    # without the edge markers only the centre line is made
    reduced = {k: v for k, v in static.items() if not k.endswith(("MT1", "MT5"))}
    assert set(mocap.sole_landmarks_static(reduced, "R", floor_y_mm=0.0, toe_offset_mm=60.0)) == {
        "heel",
        "ball",
        "toe",
    }


def test_lowest_point_picks_per_frame_and_keeps_the_anchor():
    a = np.array([[0.0, 5.0, 0.0], [0.0, 1.0, 0.0], [np.nan, np.nan, np.nan]])
    b = np.array([[10.0, 2.0, 3.0], [10.0, 4.0, 3.0], [10.0, 7.0, 3.0]])
    got = mocap.lowest_point([a, b])
    np.testing.assert_allclose(got, [[10.0, 2.0, 3.0], [0.0, 1.0, 0.0], [10.0, 7.0, 3.0]])
    anchored = mocap.lowest_point([a, b], anchor=a)
    np.testing.assert_allclose(anchored[:2], [[0.0, 2.0, 0.0], [0.0, 1.0, 0.0]])


def test_bend_toes_keeps_the_tip_at_the_forefoot_level_and_the_toe_length():
    hinge = np.array([[0.0, 10.0, 0.0], [0.0, 10.0, 0.0], [0.0, 40.0, 0.0], [0.0, -5.0, 0.0]])
    length = 60.0
    down = np.radians(30.0)  # rigid toe pointing 30 deg below the horizontal
    tip = hinge + length * np.array([np.cos(down), -np.sin(down), 0.0])
    floor = np.array([0.0, -50.0, 20.0, 0.0])
    got = mocap.bend_toes(hinge, tip, floor)
    np.testing.assert_allclose(np.linalg.norm(got - hinge, axis=1), length)  # same toe length
    assert got[0, 1] == pytest.approx(0.0)  # bent up to the floor
    np.testing.assert_allclose(got[1], tip[1])  # not below the floor: rigid
    assert got[2, 1] == pytest.approx(20.0) and got[2, 0] > 0  # the hinge 40 mm up: bent to 20
    assert got[3, 1] == pytest.approx(-5.0)  # the hinge itself below: the toe lies level
    np.testing.assert_allclose(got[:, 2], 0.0)  # stays in the toe's vertical plane


def test_an_inverted_foot_shows_its_lateral_edge_and_bending_toes_stay_up():
    static = _static_feet(yaw_deg=0.0)
    n = 3
    roll = np.radians([0.0, 20.0, 0.0])  # about the long axis (lab X): lateral edge down (R foot)
    pitch = np.radians([0.0, 0.0, -30.0])  # toe down over the ball (push-off)
    trial = {}
    for name, xyz in static.items():
        p = np.repeat(xyz[:1], n, axis=0)
        pivot = np.array([830.0, 0.0, 1360.0 if name.startswith("R") else 1090.0])
        rel = p - pivot  # under the forefoot, on the foot's axis
        c, s_ = np.cos(roll), np.sin(roll)
        y = c * rel[:, 1] - s_ * rel[:, 2]  # +Z (the right foot's lateral side) goes down
        z = s_ * rel[:, 1] + c * rel[:, 2]
        cp, sp = np.cos(pitch), np.sin(pitch)
        x2 = cp * rel[:, 0] - sp * y
        y2 = sp * rel[:, 0] + cp * y
        trial[name] = np.stack([x2, y2, z], axis=1) + pivot
    rigid = mocap.SoleLandmarks(foot_length_mm=275.0, floor_y_mm=0.0).fit(static, trial)
    rows = rigid.sole_points_mm_["right"]
    # frame 1: inverted: the outline's bottom is the lateral edge, below the centre line
    assert rigid.points_mm_["right_heel"][1, 1] == pytest.approx(rows["heel_lateral"][1, 1])
    assert rows["heel_lateral"][1, 1] < rows["heel"][1, 1] - 5.0
    assert rigid.points_mm_["right_foot_index"][1, 1] == pytest.approx(rows["toe_lateral"][1, 1])
    assert rigid.points_mm_["right_ball"][1, 1] == pytest.approx(rows["ball_lateral"][1, 1])
    # frame 2: pitched toe-down: the rigid toe dips below the ball, the bending one does not
    bending = mocap.SoleLandmarks(foot_length_mm=275.0, floor_y_mm=0.0, toe_model="bending")
    bending.fit(static, trial)
    ball_low = bending.points_mm_["right_ball"][2, 1]
    assert rigid.points_mm_["right_foot_index"][2, 1] < ball_low - 20.0
    # level with the lowest metatarsal-head point (the toe row's corners differ by the small yaw)
    assert bending.points_mm_["right_foot_index"][2, 1] == pytest.approx(ball_low, abs=0.5)
    np.testing.assert_allclose(
        bending.points_mm_["right_foot_index"][:2], rigid.points_mm_["right_foot_index"][:2]
    )
    with pytest.raises(PosecoachError, match="toe_model"):
        mocap.SoleLandmarks(toe_model="floppy").fit(static, trial)


# --------------------------------------------------------------------------------------------
# Real data: Fukuchi et al. 2017, subject RBDS001
# --------------------------------------------------------------------------------------------

SANITY = {  # SOURCE.md quick check
    "T25": {"n": 77, "contact_ms": 277.0, "cadence_spm": 156.5, "flight_ms": 107.0},
    "T35": {"n": 85, "contact_ms": 217.0, "cadence_spm": 171.0, "flight_ms": 133.0},
}


@pytest.fixture(scope="module")
def t25():
    ds, events = mocap.fukuchi_trial(
        shared_file("fukuchi2017-rbds001/RBDS001runT25markers.txt"),
        shared_file("fukuchi2017-rbds001/RBDS001runT25forces.txt"),
        shared_file("fukuchi2017-rbds001/RBDS001static.txt"),
        2.5,
    )
    return ds, events


@pytest.fixture(scope="module")
def t35():
    pytest.importorskip("c3d", reason="reading .c3d needs the 'c3d' package (dev extra)")
    ds, events = mocap.fukuchi_trial(
        shared_file("fukuchi2017-rbds001/RBDS001runT35.c3d"),
        None,
        shared_file("fukuchi2017-rbds001/RBDS001static.c3d"),
        3.5,
        threshold_N=None,
        threshold_fraction=0.05,
    )
    return ds, events


@pytest.mark.realdata
@pytest.mark.parametrize("trial", ["t25", "t35"])
def test_dataset_is_valid_and_described(trial, request):
    ds, _ = request.getfixturevalue(trial)
    dataset.validate(ds)
    a = ds.attrs
    assert a["fps"] == 150.0 and ds.sizes["time"] == 4500
    assert a["source_software"] == "fukuchi2017-mocap" and a["setting"] == "treadmill"
    assert a["speed_mps"] == {"t25": 2.5, "t35": 3.5}[trial]
    assert a["px_per_m"] == 500.0 and a["subject_height_m"] == pytest.approx(1.81)
    assert a["foot_strike_label"] == "Forefoot"
    assert a["facing"] == "right"
    assert any("not in the Fukuchi 2017 marker set" in n for n in a["notes"])
    # the right foot's MT1/MT5 labels are exchanged in both running trials; corrected and said
    assert any("R.MT1" in w and "swapped" in w for w in a["warnings"])
    legs = [f"{s}_{p}" for s in ("left", "right") for p in ("hip", "knee", "ankle", "heel")]
    legs += ["left_foot_index", "right_foot_index"]
    pos = ds["position"].sel(keypoint=legs).values
    assert np.isfinite(pos).mean() > 0.999
    assert np.isnan(ds["position"].sel(keypoint=["nose", "left_shoulder"]).values).all()
    assert np.isnan(ds["confidence"].sel(keypoint="right_wrist").values).all()
    assert np.nanmin(ds["confidence"].sel(keypoint=legs).values) == 1.0
    # everything inside the image; only the sole points reach the belt row, and only the rigid
    # toe point dips well below it (push-off)
    assert np.nanmin(pos) >= 0 and np.nanmax(pos[..., 0]) < a["image_width_px"]
    assert np.nanmax(pos[..., 1]) < a["image_height_px"]
    mm_per_px = 1000.0 / a["px_per_m"]
    y = ds["position"].sel(space="y")
    upper = [k for k in legs if not k.endswith(("heel", "foot_index"))]
    assert float(y.sel(keypoint=upper).max()) < a["ground_row_px"]
    heel_below = float(y.sel(keypoint=["left_heel", "right_heel"]).max()) - a["ground_row_px"]
    toe_below = float(y.sel(keypoint=["left_foot_index", "right_foot_index"]).max())
    assert heel_below * mm_per_px < 10.0
    assert (toe_below - a["ground_row_px"]) * mm_per_px < 50.0
    # what the foot keypoints are
    assert a["foot_points"] == "sole" and a["sole_floor_method"] == "running stance"
    assert a["toe_model"] == "rigid"
    assert 5.0 < a["sole_floor_y_mm"] < 25.0
    assert a["foot_length_mm"] == pytest.approx(0.152 * 1810.0)
    assert a["toe_offset_mm"] == pytest.approx(0.22 * 0.152 * 1810.0)
    assert a["static_foot_angle_deg_right"] == pytest.approx(0.0, abs=1e-9)
    assert any("sole" in src for src in a["keypoint_sources"])
    # the hip is above the knee, the knee above the ankle (y down)
    assert (y.sel(keypoint="right_hip") < y.sel(keypoint="right_knee")).all()
    assert (y.sel(keypoint="right_knee") < y.sel(keypoint="right_ankle")).all()


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("markers", "static", "max_std_mm"),
    [
        ("RBDS001runT25markers.txt", "RBDS001static.txt", 8.0),
        ("RBDS001runT35.c3d", "RBDS001static.c3d", 11.0),
    ],
)
def test_segment_lengths_stay_nearly_constant(markers, static, max_std_mm):
    if markers.endswith(".c3d"):
        pytest.importorskip("c3d", reason="reading .c3d needs the 'c3d' package (dev extra)")
    _, trial = mocap.read_markers(shared_file(f"fukuchi2017-rbds001/{markers}"))
    _, stat = mocap.read_markers(shared_file(f"fukuchi2017-rbds001/{static}"))
    kp, rms, _ = mocap.joint_centres_3d(stat, trial)
    for side in ("left", "right"):
        thigh = np.linalg.norm(kp[f"{side}_hip"] - kp[f"{side}_knee"], axis=1)
        shank = np.linalg.norm(kp[f"{side}_knee"] - kp[f"{side}_ankle"], axis=1)
        for length, lo, hi in ((thigh, 440, 490), (shank, 410, 450)):
            assert lo < np.nanmedian(length) < hi
            assert np.nanstd(length) < max_std_mm  # skin movement only
            spread = np.nanpercentile(length, 99) - np.nanpercentile(length, 1)
            assert spread < 0.08 * np.nanmedian(length)
    for segment, r in rms.items():
        assert np.nanmedian(r) < 5.0, segment  # clusters fit the static trial


def _height_mm(ds, keypoint: str) -> np.ndarray:
    """Height above the belt (mm) of a keypoint, from its image row."""
    mm_per_px = 1000.0 / ds.attrs["px_per_m"]
    row = ds["position"].sel(keypoint=keypoint, space="y").values
    return (ds.attrs["ground_row_px"] - row) * mm_per_px


def _contacts(events):
    """(side, initial contact s, toe-off s) of every complete force-plate contact."""
    ic = events[events["kind"] == "initial_contact"]
    to = events[events["kind"] == "toe_off"]
    out = []
    for _, row in ic.iterrows():
        later = to[to["time_s"] > row["time_s"]]
        if not later.empty:
            out.append((row["side"], row["time_s"], later["time_s"].iloc[0]))
    return out


@pytest.mark.realdata
@pytest.mark.parametrize("trial", ["t25", "t35"])
def test_sole_points_are_on_the_belt_in_stance_and_up_in_swing(trial, request):
    ds, events = request.getfixturevalue(trial)
    t = ds["time"].values
    low = {
        side: np.fmin(_height_mm(ds, f"{side}_heel"), _height_mm(ds, f"{side}_foot_index"))
        for side in ("left", "right")
    }
    near = {side: np.abs(h) < 15.0 for side, h in low.items()}
    stance_frames = {"left": np.zeros(t.size, bool), "right": np.zeros(t.size, bool)}
    shares, mid_swing = [], []
    for side, ic_s, to_s in _contacts(events):
        inside = (t >= ic_s) & (t <= to_s)
        stance_frames[side] |= inside
        shares.append(near[side][inside].mean())
        other = "left" if side == "right" else "right"
        mid_swing.append(np.interp((ic_s + to_s) / 2.0, t, low[other]))
    # RBDS001 (T25 / T35): 69 % / 69 % of stance frames within 15 mm, the worst contact 63 / 64 %
    # (the rest is the rigid toe dipping in push-off and the forefoot landing first)
    assert len(shares) >= 75
    assert np.mean(shares) > 0.6 and np.min(shares) > 0.5
    # swing foot at the other foot's mid-stance: RBDS001 min 37 / 157 mm, median 85 / 220 mm
    assert np.min(mid_swing) > 25.0 and np.median(mid_swing) > 60.0
    for side in ("left", "right"):
        swing = ~stance_frames[side] & np.isfinite(low[side])
        swing[: np.argmax(stance_frames[side])] = False  # before the first complete contact
        assert near[side][swing].mean() < 0.25  # RBDS001: 10-19 %


@pytest.mark.realdata
@pytest.mark.parametrize("trial", ["t25", "t35"])
def test_foot_lands_flat_and_loads_the_forefoot_first(trial, request):
    ds, events = request.getfixturevalue(trial)
    t = ds["time"].values
    angles: dict[str, list[float]] = {"left": [], "right": []}
    toe_first = []
    for side, ic_s, _ in _contacts(events):
        heel_h, toe_h = _height_mm(ds, f"{side}_heel"), _height_mm(ds, f"{side}_foot_index")
        heel_x = ds["position"].sel(keypoint=f"{side}_heel", space="x").values
        toe_x = ds["position"].sel(keypoint=f"{side}_foot_index", space="x").values
        run_mm = np.interp(ic_s, t, toe_x - heel_x) * 1000.0 / ds.attrs["px_per_m"]
        rise_mm = np.interp(ic_s, t, toe_h - heel_h)
        angles[side].append(np.degrees(np.arctan2(rise_mm, run_mm)))  # facing right: +x ahead
        early = (t >= ic_s) & (t <= ic_s + 0.027)
        toe_first.append(np.min(toe_h[early] - heel_h[early]) < 0.0)
    # foot angle at force-plate IC (heel -> toe vs the belt, toe up positive; 0 = as standing).
    # RBDS001 median right / left: T25 -0.9 / +0.7 deg, T35 +0.6 / +2.3 deg: a flat landing,
    # not a heel strike (> 8 deg, Altman & Davis 2012); then the forefoot takes the load first
    for side, values in angles.items():
        assert abs(np.median(values)) < 3.0, side
    assert np.mean(toe_first) > 0.9  # RBDS001: every contact


@pytest.fixture(scope="module")
def t25_sole():
    """Rigid and bending-toe sole landmarks of T25 with its force-plate contacts."""
    _, static = mocap.read_markers(shared_file("fukuchi2017-rbds001/RBDS001static.txt"))
    t, trial = mocap.read_markers(shared_file("fukuchi2017-rbds001/RBDS001runT25markers.txt"))
    tf, grf = mocap.read_forces(shared_file("fukuchi2017-rbds001/RBDS001runT25forces.txt"))
    start, end, _, _ = mocap.contact_intervals(tf, grf, 50.0)
    foot = mocap.FOOT_LENGTH_PER_HEIGHT * 1810.0
    rigid = mocap.SoleLandmarks(foot_length_mm=foot).fit(static, trial)
    bending = mocap.SoleLandmarks(foot_length_mm=foot, toe_model="bending").fit(static, trial)
    contacts = []
    for a, b in zip(start, end, strict=True):
        if 0.2 < a and b < t[-1] - 0.2:
            inside = (t >= a) & (t <= b)
            heel = {
                s: np.nanmean(rigid.points_mm_[f"{s}_heel"][inside, 1]) for s in ("left", "right")
            }
            contacts.append((min(heel, key=heel.get), a, b))
    return t, rigid, bending, contacts


@pytest.mark.realdata
def test_forefoot_lands_on_its_lateral_edge(t25_sole):
    t, rigid, _, contacts = t25_sole
    lateral, centre, keypoint = [], [], []
    for side, a, b in contacts:
        rows = rigid.sole_points_mm_[side]
        mid = (t >= a + 0.3 * (b - a)) & (t <= a + 0.6 * (b - a))
        for out, y in (
            (lateral, rows["ball_lateral"][:, 1]),
            (centre, rows["ball"][:, 1]),
            (keypoint, rigid.points_mm_[f"{side}_ball"][:, 1]),
        ):
            out.append(np.interp(a, t, y) - np.median(y[mid]))
    # at the force plate's contact the outsole edge under MT5 is near its stance height
    # (RBDS001 T25 median 5.4 mm) while the centre line under MT2 is far above it (23.8 mm):
    # the foot lands inverted, on the outside of the forefoot
    assert np.median(lateral) < 9.0
    assert np.median(centre) > np.median(lateral) + 12.0
    assert np.median(keypoint) < 9.0  # the outline's bottom follows the lowest edge


@pytest.mark.realdata
def test_bending_toes_do_not_dip_through_the_belt(t25_sole):
    t, rigid, bending, contacts = t25_sole
    low_rigid, low_bending = [], []
    for side, a, b in contacts:
        inside = (t >= a) & (t <= b)
        low_rigid.append(np.nanmin(rigid.points_mm_[f"{side}_foot_index"][inside, 1]))
        low_bending.append(np.nanmin(bending.points_mm_[f"{side}_foot_index"][inside, 1]))
    # RBDS001 T25 medians: rigid -31 mm (push-off dip), bending -3 mm
    assert np.median(low_rigid) < -20.0
    assert np.median(low_bending) > -8.0
    # the heels and metatarsal heads are the same in both
    np.testing.assert_allclose(rigid.points_mm_["right_heel"], bending.points_mm_["right_heel"])
    np.testing.assert_allclose(rigid.points_mm_["right_ball"], bending.points_mm_["right_ball"])


@pytest.mark.realdata
def test_static_sole_line_is_level_and_on_the_floor(t25):
    ds, _ = t25
    floor = ds.attrs["sole_floor_y_mm"]
    _, static = mocap.read_markers(shared_file("fukuchi2017-rbds001/RBDS001static.txt"))
    # rebuild the sole points in the static trial's own frames through the rigid foot fit
    sole = mocap.SoleLandmarks(foot_length_mm=ds.attrs["foot_length_mm"], floor_y_mm=floor)
    sole.fit(static, static)
    for side, s in (("right", "R"), ("left", "L")):
        heel, toe = sole.points_mm_[f"{side}_heel"], sole.points_mm_[f"{side}_foot_index"]
        angle = np.degrees(np.arctan2(toe[:, 1] - heel[:, 1], toe[:, 0] - heel[:, 0]))
        assert np.abs(angle).max() < 1.0
        np.testing.assert_allclose(heel[:, 1], floor, atol=1.0)
        np.testing.assert_allclose(toe[:, 1], floor, atol=1.0)
        marker = np.nanmean(static[f"{s}.Heel.Bottom"], axis=0)
        assert np.nanmean(heel[:, 0]) == pytest.approx(marker[0], abs=1.0)  # straight down
        assert 15.0 < marker[1] - floor < 45.0  # the marker sits on the heel counter
        mt2 = np.nanmean(static[f"{s}.MT2"], axis=0)
        ahead = np.nanmean(toe[:, 0]) - mt2[0]  # runner faces lab +X
        assert ahead == pytest.approx(ds.attrs["toe_offset_mm"], abs=5.0)


@pytest.mark.realdata
def test_marker_foot_points_keep_the_earlier_behaviour(t25):
    _, events = t25
    ds = mocap.fukuchi_pose_dataset(
        shared_file("fukuchi2017-rbds001/RBDS001runT25markers.txt"),
        shared_file("fukuchi2017-rbds001/RBDS001static.txt"),
        foot_points="markers",
    )
    dataset.validate(ds)
    assert ds.attrs["foot_points"] == "markers" and "sole_floor_y_mm" not in ds.attrs
    assert 6.0 < ds.attrs["static_foot_angle_deg_right"] < 8.5  # markers on the shoe, not sole
    t = ds["time"].values
    checked = 0
    for side, ic_s, to_s in _contacts(events):
        mid_s = (ic_s + to_s) / 2.0
        other = "left" if side == "right" else "right"
        assert 20.0 < np.interp(mid_s, t, _height_mm(ds, f"{side}_heel")) < 60.0  # on the shoe
        assert np.interp(mid_s, t, _height_mm(ds, f"{other}_heel")) > 200.0
        checked += 1
    assert checked >= 75
    with pytest.raises(PosecoachError, match="foot_points"):
        mocap.fukuchi_pose_dataset(
            shared_file("fukuchi2017-rbds001/RBDS001runT25markers.txt"),
            shared_file("fukuchi2017-rbds001/RBDS001static.txt"),
            foot_points="toes",
        )


@pytest.mark.realdata
@pytest.mark.parametrize("trial", ["t25", "t35"])
def test_force_events_alternate_and_match_the_sanity_numbers(trial, request):
    _, events = request.getfixturevalue(trial)
    expect = SANITY[trial.upper()]
    kinds = events["kind"].to_numpy()
    assert np.all(kinds[1:] != kinds[:-1])  # IC and TO alternate
    ic_sides = events.loc[events["kind"] == "initial_contact", "side"].to_numpy()
    assert set(ic_sides) == {"left", "right"}
    assert np.all(ic_sides[1:] != ic_sides[:-1])  # left and right feet alternate
    contacts = events.groupby((events["kind"] == "initial_contact").cumsum())["side"].nunique()
    assert (contacts == 1).all()  # IC and its TO on the same foot
    s = mocap.truth_summary(events)
    assert abs(s["n_contacts"] - expect["n"]) <= 1
    assert s["ground_contact_ms"] == pytest.approx(expect["contact_ms"], rel=0.03)
    assert s["cadence_spm"] == pytest.approx(expect["cadence_spm"], rel=0.02)
    assert s["flight_ms"] == pytest.approx(expect["flight_ms"], rel=0.05)


@pytest.mark.realdata
def test_forces_agree_with_body_weight_in_both_formats():
    pytest.importorskip("c3d", reason="reading .c3d needs the 'c3d' package (dev extra)")
    weight_n = 62.0 * 9.81
    for name in ("RBDS001runT25forces.txt", "RBDS001runT35.c3d"):
        time_s, grf = mocap.read_forces(shared_file(f"fukuchi2017-rbds001/{name}"))
        assert time_s.size == 9000 and np.median(np.diff(time_s)) == pytest.approx(1 / 300)
        # on a treadmill the mean vertical force over many strides is body weight
        assert np.mean(grf) == pytest.approx(weight_n, rel=0.05)
        assert 2.0 * weight_n < grf.max() < 3.0 * weight_n


@pytest.mark.realdata
def test_static_txt_and_c3d_give_the_same_markers():
    pytest.importorskip("c3d", reason="reading .c3d needs the 'c3d' package (dev extra)")
    t_txt, txt = mocap.read_markers(shared_file("fukuchi2017-rbds001/RBDS001static.txt"))
    t_c3d, c3d = mocap.read_markers(shared_file("fukuchi2017-rbds001/RBDS001static.c3d"))
    assert set(txt) == set(c3d) and len(txt) == 48
    np.testing.assert_allclose(t_txt, t_c3d, atol=1e-9)
    for name in txt:
        np.testing.assert_allclose(txt[name], c3d[name], atol=0.01)


@pytest.mark.realdata
def test_facing_left_mirrors_the_image(t25):
    ds_right, _ = t25
    ds_left = mocap.fukuchi_pose_dataset(
        shared_file("fukuchi2017-rbds001/RBDS001runT25markers.txt"),
        shared_file("fukuchi2017-rbds001/RBDS001static.txt"),
        facing="left",
    )
    assert ds_left.attrs["facing"] == "left"
    width = ds_left.attrs["image_width_px"]
    xr_ = ds_right["position"].sel(space="x").values
    xl = ds_left["position"].sel(space="x").values
    np.testing.assert_allclose(xl, width - xr_, atol=1e-6)
    np.testing.assert_allclose(
        ds_left["position"].sel(space="y").values, ds_right["position"].sel(space="y").values
    )
