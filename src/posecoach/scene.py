"""Scene understanding: facing, treadmill or overground, camera motion, ground line, scale.

:class:`SceneEstimator` reads a (cleaned) pixel pose dataset, optionally with the
camera's frame-to-frame motion, and fills :class:`Scene`:

- ``facing`` ("left"/"right"): the side of the image the runner faces, voted from
  the feet (toe ahead of heel), the head (nose ahead of the ears) and, overground,
  the direction of travel.
- ``setting`` ("treadmill"/"overground") and ``camera`` ("static"/"panning"/
  "unknown"): the runner's hip drifting across the picture means overground with a
  static camera; a runner who stays in place is on a treadmill when the background
  is still, or overground followed by a panning camera when the background moves.
- the ground line ``y = ground_y_px + ground_slope * (x - ground_x0_px)`` in
  (camera-motion compensated) pixels, fitted with the Theil-Sen estimator (Sen 1968)
  to the lowest foot point of each contact, so a tilted camera is handled;
- ``px_per_m`` from the runner's height: leg length (hip->knee->ankle) is
  0.491 x body height (Winter 2009, *Biomechanics and Motor Control of Human
  Movement*, 4th ed., Fig. 4.1 segment proportions: hip 0.530 H, ankle 0.039 H).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import xarray as xr
from scipy import stats

from posecoach._arrays import nanmid as _nanmid
from posecoach._text import percent
from posecoach.errors import NoPersonError

#: Body height used when the user gives none (adult mean, both sexes); a warning is raised.
DEFAULT_HEIGHT_M = 1.70
#: Leg length (greater trochanter to ankle) as a fraction of body height (Winter 2009).
LEG_LENGTH_PER_HEIGHT = 0.530 - 0.039


@dataclass
class Scene:
    """What :class:`SceneEstimator` found. Pixel quantities refer to the image."""

    facing: str
    setting: str
    camera: str
    ground_y_px: float
    ground_slope: float
    ground_x0_px: float
    px_per_m: float
    height_m: float
    height_source: str
    leg_length_px: float
    leg_length_m: float
    hip_travel_px: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain-JSON representation."""
        return asdict(self)

    @property
    def ground_tilt_deg(self) -> float:
        return float(np.degrees(np.arctan(self.ground_slope)))


def _xy(ds: xr.Dataset, name: str) -> np.ndarray:
    return ds["position"].sel(keypoint=name).values


def vote_facing(ds: xr.Dataset) -> tuple[str, float]:
    """Facing from toe-ahead-of-heel, nose-ahead-of-ears and hip travel.

    Returns
    -------
    facing : {"left", "right"}
    agreement : float
        Share (0.5..1) of the evidence that agrees with the answer.
    """
    votes = []
    for side in ("left", "right"):
        dx = _xy(ds, f"{side}_foot_index")[:, 0] - _xy(ds, f"{side}_heel")[:, 0]
        votes.append(np.sign(dx[np.isfinite(dx)]))
    ears = _nanmid(_xy(ds, "left_ear"), _xy(ds, "right_ear"))
    dx = _xy(ds, "nose")[:, 0] - ears[:, 0]
    votes.append(np.sign(dx[np.isfinite(dx)]))
    v = np.concatenate(votes) if votes else np.array([])
    v = v[v != 0]
    if v.size == 0:
        return "right", 0.5
    right = float((v > 0).mean())
    return ("right", right) if right >= 0.5 else ("left", 1.0 - right)


def leg_length_px(ds: xr.Dataset) -> float:
    """Typical leg length in pixels: the 75th percentile over frames of thigh + shank.

    A high percentile is used because 2-D projection only ever shortens a segment.
    """
    lengths = []
    for side in ("left", "right"):
        hip, knee, ankle = (_xy(ds, f"{side}_{k}") for k in ("hip", "knee", "ankle"))
        lengths.append(np.linalg.norm(knee - hip, axis=1) + np.linalg.norm(ankle - knee, axis=1))
    all_l = np.concatenate(lengths)
    all_l = all_l[np.isfinite(all_l)]
    return float(np.percentile(all_l, 75)) if all_l.size else float("nan")


def lowest_foot_points(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Per frame and foot, the image point of the foot that is lowest (largest y).

    Returns
    -------
    x_px, y_px : ndarray, shape (n_time, 2)
        Column 0 = left foot, column 1 = right foot; NaN where unknown.
    """
    xs, ys = [], []
    for side in ("left", "right"):
        pts = np.stack([_xy(ds, f"{side}_{k}") for k in ("heel", "foot_index", "ankle")], axis=1)
        y = pts[..., 1].copy()
        y[:, 2] = np.nan  # the ankle is not on the ground; kept only as a fallback below
        has = np.isfinite(y).any(axis=1)
        idx = np.zeros(len(y), dtype=int)
        idx[has] = np.nanargmax(y[has], axis=1)
        sel = pts[np.arange(len(pts)), idx]
        sel[~has] = np.nan
        xs.append(sel[:, 0])
        ys.append(sel[:, 1])
    return np.stack(xs, axis=1), np.stack(ys, axis=1)


def fit_ground_line(
    x_px: np.ndarray, y_px: np.ndarray, *, min_x_range_px: float
) -> tuple[float, float, float]:
    """Fit the ground line to foot-contact points with Theil-Sen (Sen 1968).

    Contact points are the lowest 30 % of each foot's points (feet in stance sit
    lowest). With too little horizontal spread the slope cannot be known and a
    level line through the median is returned.

    Returns
    -------
    ground_y_px, slope, x0_px
    """
    pts_x, pts_y = [], []
    for k in range(x_px.shape[1]):
        ok = np.isfinite(x_px[:, k]) & np.isfinite(y_px[:, k])
        if ok.sum() < 3:
            continue
        yk = y_px[ok, k]
        cut = np.percentile(yk, 70)
        sel = yk >= cut
        pts_x.append(x_px[ok, k][sel])
        pts_y.append(yk[sel])
    if not pts_x:
        return float("nan"), 0.0, 0.0
    gx, gy = np.concatenate(pts_x), np.concatenate(pts_y)
    x0 = float(np.median(gx))
    if np.ptp(gx) < min_x_range_px or gx.size < 6:
        return float(np.median(gy)), 0.0, x0
    with warnings.catch_warnings():  # scipy warns about its confidence interval on exact data
        warnings.simplefilter("ignore", RuntimeWarning)
        slope, _, _, _ = stats.theilslopes(gy, gx)
    slope = float(np.clip(slope, -0.2, 0.2))  # more than ~11 deg of camera roll is not plausible
    # the line sits at the contact level: median of residual-corrected points
    level = float(np.median(gy - slope * (gx - x0)))
    return level, slope, x0


class SceneEstimator:
    """Estimate the scene from a pose dataset.

    Parameters
    ----------
    height_m : float, optional
        The runner's height. When not given, :data:`DEFAULT_HEIGHT_M` is used and a
        warning says that distances are then only as good as that guess.
    min_travel_leg_lengths : float
        Hip travel across the picture (in leg lengths) above which the runner is
        taken to move past a static camera (overground).
    min_pan_leg_lengths : float
        Accumulated camera motion (in leg lengths) above which the camera is taken
        to be panning.
    """

    def __init__(
        self,
        height_m: float | None = None,
        *,
        min_travel_leg_lengths: float = 1.5,
        min_pan_leg_lengths: float = 1.5,
    ) -> None:
        self.height_m = height_m
        self.min_travel_leg_lengths = min_travel_leg_lengths
        self.min_pan_leg_lengths = min_pan_leg_lengths

    def detect(self, ds: xr.Dataset, camera_shift_px: np.ndarray | None = None) -> SceneEstimator:
        """Estimate the scene.

        Parameters
        ----------
        ds : xarray.Dataset
            Pixel pose dataset (ideally cleaned).
        camera_shift_px : ndarray, shape (n_time, 2), optional
            Cumulative camera motion per frame (how far the background has moved
            in the image since the first frame). Unknown when not given.

        Returns
        -------
        self
            With ``scene_`` filled.

        Raises
        ------
        NoPersonError
            When no leg is seen in any frame (no scale, no ground, no events).
        """
        warnings: list[str] = []
        leg_px = leg_length_px(ds)
        if not np.isfinite(leg_px) or leg_px <= 0:
            raise NoPersonError(
                "the runner's legs (hip, knee and ankle of either side) were not seen with enough "
                "confidence in any frame, so nothing can be measured. Film from the side with the "
                "whole body in the picture, feet included, and the legs not hidden (e.g. by a "
                "treadmill's console or the picture's edge)")
        if self.height_m is None:
            height_m, height_source = DEFAULT_HEIGHT_M, "default"
            warnings.append(
                f"runner's height not given; assumed {DEFAULT_HEIGHT_M:.2f} m, so distances (cm) "
                "scale with that guess. Pass --height-cm for true values."
            )
        else:
            height_m, height_source = float(self.height_m), "user"
        leg_m = LEG_LENGTH_PER_HEIGHT * height_m
        px_per_m = leg_px / leg_m

        hip = _nanmid(_xy(ds, "left_hip"), _xy(ds, "right_hip"))
        ok = np.isfinite(hip[:, 0])
        hip_travel = float(np.nanpercentile(hip[ok, 0], 95) - np.nanpercentile(hip[ok, 0], 5)) if ok.any() else 0.0
        pan = 0.0
        if camera_shift_px is not None and np.isfinite(camera_shift_px).any():
            cx = camera_shift_px[:, 0]
            pan = float(np.nanmax(cx) - np.nanmin(cx))
        if hip_travel > self.min_travel_leg_lengths * leg_px:
            setting, camera = "overground", "static" if camera_shift_px is not None else "unknown"
        elif camera_shift_px is None:
            setting, camera = "treadmill", "unknown"
            warnings.append(
                "the runner stays in place and the camera motion is unknown: assumed a treadmill. "
                "Analyse the video (or give it with --video when analysing a saved pose file) to tell a "
                "treadmill from a panning camera."
            )
        elif pan > self.min_pan_leg_lengths * leg_px:
            setting, camera = "overground", "panning"
            warnings.append(
                "the camera pans to follow the runner: positions were compensated for camera motion, "
                "but a fixed camera gives more reliable measurements."
            )
        else:
            setting, camera = "treadmill", "static"

        facing, agreement = vote_facing(ds)
        if setting == "overground" and camera != "panning" and ok.sum() > 2:
            travel = np.polyfit(ds["time"].values[ok], hip[ok, 0], 1)[0]
            travel_facing = "right" if travel > 0 else "left"
            if travel_facing != facing and agreement < 0.8:
                facing = travel_facing
        if agreement < 0.7:
            warnings.append(
                f"the runner's facing direction is uncertain ({percent(agreement)} agreement); "
                "film a true side view"
            )

        fx, fy = lowest_foot_points(ds)
        if camera_shift_px is not None:
            fx = fx - camera_shift_px[:, :1]
            fy = fy - camera_shift_px[:, 1:2]
        # A slope needs the feet to land over at least a leg length of ground: on a treadmill
        # the contacts span less, and heel-versus-toe height differences along the foot would
        # read as a false tilt (measured: -2.9 deg on the level Fukuchi treadmill at half a leg).
        ground_y, slope, x0 = fit_ground_line(fx, fy, min_x_range_px=leg_px)
        if abs(np.degrees(np.arctan(slope))) > 3:
            warnings.append(
                f"the ground line is tilted by {np.degrees(np.arctan(slope)):.1f} deg in the picture "
                "(camera not level); angles were corrected for it"
            )
        self.scene_ = Scene(
            facing=facing, setting=setting, camera=camera, ground_y_px=ground_y,
            ground_slope=slope, ground_x0_px=x0, px_per_m=float(px_per_m), height_m=height_m,
            height_source=height_source, leg_length_px=leg_px, leg_length_m=leg_m,
            hip_travel_px=hip_travel, warnings=warnings,
        )
        return self
