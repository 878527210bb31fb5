"""Body-frame coordinates and joint/segment angles (sagittal plane).

Two pure steps:

1. :func:`to_body_frame` turns a pixel pose dataset (x right, y down) into metres in
   the runner's frame: ``x`` forward (direction of travel/facing), ``y`` up from the
   ground line, with the camera's tilt removed. Left- and right-facing runners then
   share one set of formulas, which is what makes every angle symmetric by
   construction.
2. :func:`joint_angles` computes the angles below from that frame.

Angle conventions (degrees; also in ``docs/conventions.md``)
-------------------------------------------------------------
knee_flexion_deg
    180 minus the interior hip-knee-ankle angle: 0 = straight leg, positive = bent.
hip_flexion_deg
    Angle of the thigh (hip->knee) from the trunk line extended downwards
    (shoulder->hip direction), positive when the knee is in front.
thigh_angle_deg
    Angle of hip->knee from the downward vertical, positive when the knee is ahead.
shank_angle_deg
    Angle of knee->ankle from the downward vertical, positive when the ankle is
    ahead of the knee (Souza 2016's tibia angle; > 0 at contact = reaching forward).
foot_angle_deg
    Angle of heel->foot_index from the ground line, positive when the toe is up
    (heel first), negative when the toe points down (Altman & Davis 2012 use the
    foot angle at contact to classify foot strike).
ankle_dorsiflexion_deg
    90 minus the angle between shank (ankle->knee) and foot (heel->foot_index):
    0 = foot at right angles to the shank, positive = dorsiflexion (toes towards
    the shin, a smaller angle), negative = plantar flexion.
elbow_angle_deg
    Interior shoulder-elbow-wrist angle: 180 = straight arm, 90 = right angle.
trunk_lean_deg
    Angle of mid-hip->mid-shoulder from the upward vertical, positive forward.

2-D video measures these to about 5-8 degrees (Van Hooren et al. 2023, Sports Biomech).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from posecoach._arrays import nanmid

SIDES: tuple[str, str] = ("left", "right")


def to_body_frame(
    ds: xr.Dataset,
    *,
    facing: str,
    px_per_m: float,
    ground_y_px: float,
    ground_slope: float = 0.0,
    ground_x0_px: float = 0.0,
) -> xr.Dataset:
    """Express pixel positions in metres, x forward and y up from the ground line.

    Parameters
    ----------
    ds : xarray.Dataset
        Pose dataset in pixels (x right, y down).
    facing : {"left", "right"}
        Direction the runner faces/travels in the image.
    px_per_m : float
        Pixels per metre.
    ground_y_px : float
        Image row of the ground line at ``x = ground_x0_px``.
    ground_slope : float
        Slope of the ground line in the image (d y_px / d x_px); a tilted camera
        gives a non-zero slope. The frame is rotated so this line is level.
    ground_x0_px : float
        Image column where ``ground_y_px`` is measured.

    Returns
    -------
    xarray.Dataset
        Same layout; ``position`` in metres, ``attrs["frame"] = "body"``.
    """
    if facing not in SIDES:
        raise ValueError(f"facing must be 'left' or 'right', got {facing!r}")
    pos = ds["position"].values
    x = pos[..., 0] - ground_x0_px
    y = pos[..., 1] - ground_y_px
    theta = np.arctan(ground_slope)
    c, s = np.cos(theta), np.sin(theta)
    # rotate so that the ground direction (1, slope) maps to (1, 0)
    xr_ = c * x + s * y
    yr_ = -s * x + c * y
    forward = xr_ if facing == "right" else -xr_
    up = -yr_
    out = ds.copy()
    out["position"] = (("time", "keypoint", "space"), np.stack([forward, up], axis=-1) / px_per_m)
    out.attrs = {
        **ds.attrs,
        "frame": "body",
        "position_units": "m (x forward, y up from the ground line)",
        "facing": facing,
        "px_per_m": float(px_per_m),
    }
    return out


def _xy(ds: xr.Dataset, name: str) -> np.ndarray:
    return ds["position"].sel(keypoint=name).values


def _mid(ds: xr.Dataset, a: str, b: str) -> np.ndarray:
    """Midpoint of two keypoints; falls back to whichever one is known."""
    return nanmid(_xy(ds, a), _xy(ds, b))


def interior_angle_deg(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Interior angle at ``b`` of the triangle a-b-c, in degrees (0..180).

    Parameters
    ----------
    a, b, c : ndarray, shape (..., 2)
    """
    u = a - b
    v = c - b
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    dot = (u * v).sum(axis=-1)
    return np.degrees(np.abs(np.arctan2(cross, dot)))


def angle_from_down_deg(prox: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Angle of the segment prox->dist from the downward vertical, positive when
    ``dist`` is forward of ``prox`` (body frame: x forward, y up).
    """
    d = dist - prox
    return np.degrees(np.arctan2(d[..., 0], -d[..., 1]))


def angle_from_up_deg(prox: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Angle of prox->dist from the upward vertical, positive when ``dist`` is forward."""
    d = dist - prox
    return np.degrees(np.arctan2(d[..., 0], d[..., 1]))


def angle_from_ground_deg(back: np.ndarray, front: np.ndarray) -> np.ndarray:
    """Angle of back->front from the (level) ground, positive when ``front`` is higher."""
    d = front - back
    return np.degrees(np.arctan2(d[..., 1], d[..., 0]))


def joint_angles(body: xr.Dataset) -> xr.Dataset:
    """Joint and segment angles over time for both sides (see module docstring).

    Parameters
    ----------
    body : xarray.Dataset
        Pose dataset in the body frame (from :func:`to_body_frame`).

    Returns
    -------
    xarray.Dataset
        Variables with dims (time, side): ``knee_flexion_deg``, ``hip_flexion_deg``,
        ``thigh_angle_deg``, ``shank_angle_deg``, ``foot_angle_deg``,
        ``ankle_dorsiflexion_deg``, ``elbow_angle_deg``; with dim (time):
        ``trunk_lean_deg``. NaN where a keypoint is unknown.
    """
    if body.attrs.get("frame") != "body":
        raise ValueError("joint_angles needs a body-frame dataset (see to_body_frame)")
    mid_hip = _mid(body, "left_hip", "right_hip")
    mid_sh = _mid(body, "left_shoulder", "right_shoulder")
    trunk_down = mid_hip - mid_sh  # direction shoulder -> hip
    out: dict[str, list[np.ndarray]] = {k: [] for k in (
        "knee_flexion_deg", "hip_flexion_deg", "thigh_angle_deg", "shank_angle_deg",
        "foot_angle_deg", "ankle_dorsiflexion_deg", "elbow_angle_deg",
    )}
    for side in SIDES:
        hip, knee, ankle = (_xy(body, f"{side}_{k}") for k in ("hip", "knee", "ankle"))
        heel, toe = _xy(body, f"{side}_heel"), _xy(body, f"{side}_foot_index")
        sh, el, wr = (_xy(body, f"{side}_{k}") for k in ("shoulder", "elbow", "wrist"))
        out["knee_flexion_deg"].append(180.0 - interior_angle_deg(hip, knee, ankle))
        thigh = angle_from_down_deg(hip, knee)
        trunk_axis = np.degrees(np.arctan2(trunk_down[..., 0], -trunk_down[..., 1]))
        out["hip_flexion_deg"].append(thigh - trunk_axis)
        out["thigh_angle_deg"].append(thigh)
        out["shank_angle_deg"].append(angle_from_down_deg(knee, ankle))
        out["foot_angle_deg"].append(angle_from_ground_deg(heel, toe))
        shank_up = knee - ankle
        foot = toe - heel
        cross = shank_up[..., 0] * foot[..., 1] - shank_up[..., 1] * foot[..., 0]
        dot = (shank_up * foot).sum(axis=-1)
        out["ankle_dorsiflexion_deg"].append(90.0 - np.degrees(np.abs(np.arctan2(cross, dot))))
        out["elbow_angle_deg"].append(interior_angle_deg(sh, el, wr))
    coords = {"time": body["time"].values, "side": list(SIDES)}
    data_vars = {k: (("time", "side"), np.stack(v, axis=1)) for k, v in out.items()}
    data_vars["trunk_lean_deg"] = (("time",), angle_from_up_deg(mid_hip, mid_sh))
    ds = xr.Dataset(data_vars, coords=coords)
    ds = ds.assign_coords(frame=("time", body["frame"].values))
    for name in ds.data_vars:
        ds[name].attrs["units"] = "deg"
    return ds
