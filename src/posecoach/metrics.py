"""Running metrics per step and summarised, from contacts, body-frame poses and angles.

A *step* here is one stance (initial contact to toe-off of one foot) together with
what follows it: the flight until the other foot lands, and the swing of the same
leg until it lands again. Every metric carries its unit in its name; definitions
are in ``docs/conventions.md``.

Time resolution: event times are interpolated between frames but are only as good
as the frame rate (about one frame, Van Hooren et al. 2023), so each summary gives
``resolution`` (one frame in ms for times; 5 deg for 2-D joint angles).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import xarray as xr

from posecoach._arrays import nanmid as _nanmid
from posecoach.kinematics import SIDES

#: Foot-strike classes from the foot angle at contact (Altman & Davis 2012, Gait Posture 35:298):
#: rearfoot above 8.0 deg, forefoot below -1.6 deg, midfoot in between.
HEEL_STRIKE_MIN_DEG = 8.0
FOREFOOT_STRIKE_MAX_DEG = -1.6
#: 2-D video measures joint angles to about 5-8 deg (Van Hooren et al. 2023).
ANGLE_RESOLUTION_DEG = 5.0

#: name -> (unit kind) for the summary; "time" metrics get one frame as resolution.
METRIC_KINDS: dict[str, str] = {
    "cadence_spm": "rate",
    "step_time_ms": "time",
    "stride_time_ms": "time",
    "ground_contact_ms": "time",
    "flight_ms": "time",
    "duty_factor_pct": "ratio",
    "step_length_m": "length",
    "speed_mps": "speed",
    "vertical_oscillation_cm": "length",
    "vertical_ratio_pct": "ratio",
    "foot_strike_angle_deg": "angle",
    "overstride_cm": "length",
    "overstride_pct_leg": "ratio",
    "shank_angle_ic_deg": "angle",
    "knee_flexion_ic_deg": "angle",
    "peak_knee_flexion_stance_deg": "angle",
    "min_knee_flexion_late_stance_deg": "angle",
    "peak_knee_flexion_swing_deg": "angle",
    "peak_hip_flexion_swing_deg": "angle",
    "ankle_range_stance_deg": "angle",
    "ankle_plantarflexion_to_deg": "angle",
    "ankle_under_hip_pct_leg": "ratio",
    "heel_to_buttock_cm": "length",
    "pull_time_ms": "time",
    "late_stance_ms": "time",
    "heel_height_midstance_cm": "length",
    "foot_speed_rel_hip_ic_mps": "speed",
    "trunk_lean_deg": "angle",
    "body_lean_deg": "angle",
    "fall_angle_to_deg": "angle",
    "shoulder_ahead_of_ankle_midstance_cm": "length",
    "hip_bend_midstance_deg": "angle",
    "elbow_angle_deg": "angle",
    "wrist_height_pct_torso": "ratio",
    "arm_swing_deg": "angle",
    "head_vertical_motion_cm": "length",
}

#: Per-step metrics made from the running speed times the step time.
SPEED_TIMES_STEP: tuple[str, ...] = ("step_length_m", "vertical_ratio_pct")

#: Metrics made from times (times, rates and what speed and step time give): a slow-motion
#: section's steps are left out of their summary, being in video time, not real time.
TIME_BASED_METRICS: frozenset[str] = frozenset(
    name for name, kind in METRIC_KINDS.items() if kind in ("time", "rate")
) | {"duty_factor_pct", "speed_mps", *SPEED_TIMES_STEP}


def pose_instant(t: np.ndarray, hip_x: np.ndarray, ankle_x: np.ndarray, ic: float, to: float) -> float:
    """Mid-stance: the instant the mid-hip passes over the support ankle (the "Pose").

    The first upward zero crossing of ``hip_x - ankle_x`` from IC to TO, with the values at IC
    and TO themselves interpolated between frames: at 30 fps a sprinter's hip passes the ankle
    within a frame, often between IC and the first frame after it, and a contact of two frames
    holds only one frame, so a search over the frames inside the contact misses the crossing.
    IC when the foot lands under or behind the hip; the middle of the contact when the
    crossing is not seen (missing data).
    """
    d = np.asarray(hip_x, dtype=float) - np.asarray(ankle_x, dtype=float)
    tw = np.r_[ic, t[_window(t, ic, to)], to]
    dw = _span(t, d, ic, to)
    for i in range(1, len(dw)):
        if np.isfinite(dw[i - 1]) and np.isfinite(dw[i]) and dw[i - 1] < 0 <= dw[i]:
            if tw[i] == tw[i - 1]:
                return float(tw[i])
            return float(tw[i - 1] + (tw[i] - tw[i - 1]) * (-dw[i - 1]) / (dw[i] - dw[i - 1]))
    first = dw[np.isfinite(dw)][:1]
    if first.size and first[0] >= 0:
        return float(ic)  # the foot landed under or behind the hip
    return 0.5 * (ic + to)


def strike_class(angle_deg: float) -> str:
    """Foot-strike class from the foot angle at contact (Altman & Davis 2012)."""
    if not np.isfinite(angle_deg):
        return "unknown"
    if angle_deg > HEEL_STRIKE_MIN_DEG:
        return "heel"
    if angle_deg < FOREFOOT_STRIKE_MAX_DEG:
        return "forefoot"
    return "midfoot"


def _interp(t: np.ndarray, y: np.ndarray, at: float) -> float:
    """Value of ``y`` at time ``at`` (linear); NaN if a neighbour is unknown."""
    if not np.isfinite(at) or at < t[0] or at > t[-1]:
        return float("nan")
    i = int(np.searchsorted(t, at))
    if i == 0:
        return float(y[0])
    i0, i1 = i - 1, min(i, len(t) - 1)
    if not (np.isfinite(y[i0]) and np.isfinite(y[i1])):
        return float("nan")
    if t[i1] == t[i0]:
        return float(y[i0])
    f = (at - t[i0]) / (t[i1] - t[i0])
    return float(y[i0] + f * (y[i1] - y[i0]))


def _window(t: np.ndarray, start: float, stop: float) -> slice:
    return slice(int(np.searchsorted(t, start)), int(np.searchsorted(t, stop, side="right")))


def _span(t: np.ndarray, y: np.ndarray, start: float, stop: float) -> np.ndarray:
    """``y`` from ``start`` to ``stop``: the frames between and the values at both ends.

    Events fall between frames: the extremes of a phase must include its ends, or the
    peak knee flexion in stance could read below the knee flexion at contact.
    """
    return np.r_[_interp(t, y, start), y[_window(t, start, stop)], _interp(t, y, stop)]


def _nanstat(fn, a: np.ndarray) -> float:
    a = a[np.isfinite(a)]
    return float(fn(a)) if a.size else float("nan")


def _angle_from_up(dx: float, dy: float) -> float:
    return float(np.degrees(np.arctan2(dx, dy)))


class StepMetrics:
    """Compute per-step metrics.

    Parameters
    ----------
    leg_length_m : float
        Leg length (for % leg length metrics).
    speed_mps : float, optional
        Known running speed (treadmill belt speed); overground it is measured from
        the hip's travel when the camera is static.
    setting : {"treadmill", "overground"}
    camera : {"static", "panning", "unknown"}
    """

    def __init__(
        self,
        *,
        leg_length_m: float,
        speed_mps: float | None = None,
        setting: str = "treadmill",
        camera: str = "static",
    ) -> None:
        self.leg_length_m = leg_length_m
        self.speed_mps = speed_mps
        self.setting = setting
        self.camera = camera

    def compute(self, body: xr.Dataset, angles: xr.Dataset, contacts: pd.DataFrame) -> StepMetrics:
        """Fill ``steps_`` (DataFrame, one row per complete contact).

        Parameters
        ----------
        body : xarray.Dataset
            Body-frame poses (metres, x forward, y up).
        angles : xarray.Dataset
            :func:`posecoach.kinematics.joint_angles` of ``body``.
        contacts : pandas.DataFrame
            ``GaitEventDetector.contacts_``.
        """
        t = body["time"].values
        frames = body["frame"].values
        # one array, looked up by name: xarray's .sel per step and keypoint cost ~0.5 ms each
        pos = body["position"].transpose("time", "keypoint", "space").sel(space=["x", "y"]).values
        column = {str(k): i for i, k in enumerate(body["keypoint"].values)}

        def xy(name: str) -> np.ndarray:
            return pos[:, column[name], :]

        side_angles = {
            s: {str(name): angles[name].sel(side=s).values for name in angles.data_vars
                if "side" in angles[name].dims}
            for s in SIDES
        }

        hip = _nanmid(xy("left_hip"), xy("right_hip"))
        shoulder = _nanmid(xy("left_shoulder"), xy("right_shoulder"))
        nose = xy("nose")
        complete = contacts[contacts["complete"]] if len(contacts) else contacts
        ics = contacts.dropna(subset=["ic_time_s"]).sort_values("ic_time_s") if len(contacts) else contacts
        ic_times = ics["ic_time_s"].to_numpy(dtype=float) if len(ics) else np.zeros(0)
        ic_sides = ics["side"].to_numpy() if len(ics) else np.zeros(0, dtype=object)

        def first_after(ic: float, side: str | None = None) -> float:
            """The earliest contact (of ``side``, or of either foot) after ``ic``."""
            later = np.flatnonzero(ic_times > ic + 1e-6)
            if side is not None:
                later = later[ic_sides[later] == side]
            return float(ic_times[later[0]]) if later.size else np.nan

        rows = []
        for _, c in complete.iterrows():
            side, other = c["side"], "right" if c["side"] == "left" else "left"
            # the keypoints that showed this contact: where the pose model put the landing
            # foot's labels on the other leg (and the contact was given back to its foot by
            # the rhythm of the steps) the labelled foot's points show the swinging foot
            leg = c["track"] if c.get("track") in SIDES else side
            ic, to = float(c["ic_time_s"]), float(c["to_time_s"])
            next_ic = first_after(ic)
            next_other = first_after(ic, other)
            next_same = first_after(ic, side)
            # a step only counts when the next contact is the other foot's (no missed contact)
            step_ok = np.isfinite(next_ic) and np.isfinite(next_other) and next_ic == next_other
            step_s = next_other - ic if step_ok else np.nan
            stride_s = next_same - ic if np.isfinite(next_same) else np.nan
            if np.isfinite(stride_s) and np.isfinite(step_s) and stride_s > 3 * step_s:
                stride_s = np.nan  # a gap in the data, not one stride
            mid = pose_instant(t, hip[:, 0], xy(f"{leg}_ankle")[:, 0], ic, to)
            r: dict[str, float | str | int] = {
                "side": side,
                "track": leg,
                "ic_frame": int(c["ic_frame"]),
                "to_frame": int(c["to_frame"]),
                "ic_time_s": ic,
                "to_time_s": to,
                "confidence": float(min(c["ic_confidence"], c["to_confidence"])),
                "ground_contact_ms": (to - ic) * 1000,
                "step_time_ms": step_s * 1000,
                "stride_time_ms": stride_s * 1000,
                "cadence_spm": 60.0 / step_s if step_ok and step_s > 0 else np.nan,
                "flight_ms": (next_other - to) * 1000 if step_ok else np.nan,
                "duty_factor_pct": 100 * (to - ic) / stride_s if np.isfinite(stride_s) else np.nan,
            }
            a_side = side_angles[leg]
            knee = a_side["knee_flexion_deg"]
            ankle_x, ankle_y = xy(f"{leg}_ankle")[:, 0], xy(f"{leg}_ankle")[:, 1]
            hip_x_ic = _interp(t, hip[:, 0], ic)
            r["overstride_cm"] = 100 * (_interp(t, ankle_x, ic) - hip_x_ic)
            r["overstride_pct_leg"] = r["overstride_cm"] / self.leg_length_m
            r["foot_strike_angle_deg"] = _interp(t, a_side["foot_angle_deg"], ic)
            r["foot_strike"] = strike_class(r["foot_strike_angle_deg"])
            r["shank_angle_ic_deg"] = _interp(t, a_side["shank_angle_deg"], ic)
            r["knee_flexion_ic_deg"] = _interp(t, knee, ic)
            r["peak_knee_flexion_stance_deg"] = _nanstat(np.max, _span(t, knee, ic, to))
            r["min_knee_flexion_late_stance_deg"] = _nanstat(np.min, _span(t, knee, mid, to))
            ank = a_side["ankle_dorsiflexion_deg"]
            r["ankle_range_stance_deg"] = _nanstat(np.ptp, _span(t, ank, ic, to))
            r["ankle_plantarflexion_to_deg"] = -_interp(t, ank, to)
            heel_h = xy(f"{leg}_heel")[:, 1]
            r["heel_height_midstance_cm"] = 100 * (
                _interp(t, heel_h, mid) - _nanstat(np.min, _span(t, heel_h, ic, to)))
            r["late_stance_ms"] = (to - mid) * 1000
            # foot moving back relative to the hip at contact (Pose key point 13)
            rel = ankle_x - hip[:, 0]
            dt = 0.5 * (t[min(len(t) - 1, int(np.searchsorted(t, ic)) + 1)] - t[max(0, int(np.searchsorted(t, ic)) - 1)])
            r["foot_speed_rel_hip_ic_mps"] = (
                (_interp(t, rel, ic + dt) - _interp(t, rel, ic - dt)) / (2 * dt) if dt > 0 else np.nan
            )
            # mid-stance: alignment over the support ankle, lean, fall
            ax_mid = _interp(t, ankle_x, mid)
            ay_mid = _interp(t, ankle_y, mid)
            hx, hy = _interp(t, hip[:, 0], mid), _interp(t, hip[:, 1], mid)
            sx, sy = _interp(t, shoulder[:, 0], mid), _interp(t, shoulder[:, 1], mid)
            r["shoulder_ahead_of_ankle_midstance_cm"] = 100 * (sx - ax_mid)
            r["trunk_lean_deg"] = _interp(t, angles["trunk_lean_deg"].values, mid)
            r["body_lean_deg"] = _angle_from_up(sx - ax_mid, sy - ay_mid)
            r["hip_bend_midstance_deg"] = _angle_from_up(sx - hx, sy - hy) - _angle_from_up(hx - ax_mid, hy - ay_mid)
            toe_to = _interp(t, xy(f"{leg}_foot_index")[:, 0], to)
            toe_to_y = _interp(t, xy(f"{leg}_foot_index")[:, 1], to)
            r["fall_angle_to_deg"] = _angle_from_up(
                _interp(t, hip[:, 0], to) - toe_to, _interp(t, hip[:, 1], to) - toe_to_y
            )
            # swing of the same leg: from toe-off to its next contact
            sw_end = next_same if np.isfinite(next_same) else to + 2 * (to - ic)
            sw = _window(t, to, sw_end)
            if sw.stop - sw.start >= 2:
                ksw = knee[sw]
                r["peak_knee_flexion_swing_deg"] = _nanstat(np.max, ksw)
                r["peak_hip_flexion_swing_deg"] = _nanstat(np.max, a_side["hip_flexion_deg"][sw])
                if np.isfinite(ksw).any():
                    k_pk = sw.start + int(np.nanargmax(ksw))
                    r["pull_time_ms"] = (t[k_pk] - to) * 1000
                    r["ankle_under_hip_pct_leg"] = (
                        100 * (ankle_x[k_pk] - hip[k_pk, 0]) / self.leg_length_m
                    )
                heel_xy = xy(f"{leg}_heel")[sw]
                d = np.linalg.norm(heel_xy - hip[sw], axis=1)
                r["heel_to_buttock_cm"] = 100 * _nanstat(np.min, d)
            # over the step (IC to next IC): bounce, head, arms
            step_end = next_ic if np.isfinite(next_ic) else to + (to - ic)
            w = _window(t, ic, step_end)
            r["vertical_oscillation_cm"] = 100 * _nanstat(np.ptp, hip[w, 1]) if step_ok else np.nan
            r["head_vertical_motion_cm"] = 100 * _nanstat(np.ptp, nose[w, 1]) if step_ok else np.nan
            elbows, wrists, swings = [], [], []
            for arm in SIDES:
                el = side_angles[arm]["elbow_angle_deg"][w]
                elbows.append(_nanstat(np.median, el))
                wy = xy(f"{arm}_wrist")[w, 1]
                torso = shoulder[w, 1] - hip[w, 1]
                with np.errstate(invalid="ignore", divide="ignore"):
                    wrists.append(_nanstat(np.median, 100 * (wy - hip[w, 1]) / torso))
                ua = np.degrees(np.arctan2(
                    xy(f"{arm}_elbow")[w, 0] - xy(f"{arm}_shoulder")[w, 0],
                    xy(f"{arm}_shoulder")[w, 1] - xy(f"{arm}_elbow")[w, 1],
                ))
                swings.append(_nanstat(np.ptp, ua))
            r["elbow_angle_deg"] = _nanstat(np.median, np.array(elbows))
            r["wrist_height_pct_torso"] = _nanstat(np.median, np.array(wrists))
            r["arm_swing_deg"] = _nanstat(np.max, np.array(swings))
            # distance and speed
            speed = self.speed_mps
            if speed is None and self.setting == "overground" and self.camera == "static":
                hw = _window(t, ic, step_end)
                hx_, ht_ = hip[hw, 0], t[hw]
                ok = np.isfinite(hx_)
                speed = abs(np.polyfit(ht_[ok], hx_[ok], 1)[0]) if ok.sum() >= 3 else None
            r["speed_mps"] = float(speed) if speed is not None else np.nan
            r["step_length_m"] = r["speed_mps"] * step_s if np.isfinite(step_s) else np.nan
            r["vertical_ratio_pct"] = (
                r["vertical_oscillation_cm"] / r["step_length_m"]
                if np.isfinite(r["step_length_m"]) and r["step_length_m"] > 0 else np.nan
            )
            r["ic_frame_index"] = int(np.searchsorted(frames, c["ic_frame"]))
            rows.append(r)
        self.steps_ = pd.DataFrame(rows)
        return self


#: Per-step values measured from a contact to the next one (or the foot's next): wrong for a
#: "step" that spans contacts the analysis missed (:func:`posecoach.quality.steps_over_missed_contacts`).
STEP_SPAN_METRICS: tuple[str, ...] = (
    "step_time_ms", "cadence_spm", "flight_ms", "stride_time_ms", "duty_factor_pct",
    "step_length_m", "vertical_ratio_pct", "vertical_oscillation_cm", "head_vertical_motion_cm",
)


#: What every message asking for a longer clip advises: twice the packaged rule file's
#: ``min_steps`` (a rule needs 4 steps with a value), i.e. 4 per foot
#: (:func:`posecoach.assessment.too_few_steps_warning` derives it from the rules in use).
FILM_STEPS = "at least 8 steps (4 per foot)"
FILM_ADVICE = f"film {FILM_STEPS} of steady running"


#: Metrics whose zero is a position, not an absence (signed offsets ahead of or behind a
#: body point, heights above a resting level): a left/right ratio of them means nothing
#: (6.8 cm ahead and 6.3 cm behind gave an "asymmetry" of 4956 %), so no
#: ``asymmetry_pct`` is given, as for angles; their left and right medians are.
OFFSET_METRICS = frozenset({
    "overstride_cm", "overstride_pct_leg", "ankle_under_hip_pct_leg", "foot_speed_rel_hip_ic_mps",
    "shoulder_ahead_of_ankle_midstance_cm", "wrist_height_pct_torso", "heel_height_midstance_cm",
})


def _ci_list(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [float(ci[0]), float(ci[1])]


def _symmetry_pct(name: str, left: float | None, right: float | None) -> float | None:
    """``|left - right| / mean(left, right) * 100`` where that means something, else None."""
    if left is None or right is None or abs(left + right) <= 1e-9:
        return None
    if METRIC_KINDS.get(name) == "angle" or name in OFFSET_METRICS:
        return None
    return float(abs(left - right) / abs(0.5 * (left + right)) * 100)


#: ``summary["cadence_spm"]["method"]``: how :func:`summarise` made the cadence
CADENCE_FROM_STRIDES = "120000 / median stride time (ms)"
CADENCE_FROM_SLOPES = (
    "60 / step time (s), the step time being Theil's slope of contact time against step number "
    "over consecutive steps (its 95 % interval from those slopes); IQR and left/right from strides"
)


def summarise(steps: pd.DataFrame, *, fps: float) -> dict[str, dict]:
    """Median (with its 95 % interval), IQR, n, left/right medians and asymmetry per metric.

    ``median_ci95`` is :func:`median_ci` of the steps' values (None with fewer than 6); for
    the cadence, of the step times that give it.

    Asymmetry is ``|left - right| / mean(left, right) * 100`` (symmetry index,
    Robinson et al. 1987), reported where both sides are known and the mean is not 0, and
    not for angles and offsets (:data:`OFFSET_METRICS`), whose zero is arbitrary.

    Every metric of :data:`METRIC_KINDS` gets an entry, with ``n`` 0 and no values when no
    step has it (a clip with no complete step still writes the whole summary).
    """
    out: dict[str, dict] = {}
    frame_ms = 1000.0 / fps
    if "side" not in steps:
        steps = steps.assign(side=pd.Series(dtype=object))
    for name, kind in METRIC_KINDS.items():
        if name not in steps:
            steps = steps.assign(**{name: np.nan})
        vals = steps[name].to_numpy(dtype=float)
        ok = np.isfinite(vals)
        entry: dict[str, float | int | None] = {
            "median": None, "iqr": None, "n": int(ok.sum()), "left": None, "right": None,
            "asymmetry_pct": None,
        }
        if ok.any():
            q1, q2, q3 = np.percentile(vals[ok], [25, 50, 75])
            entry["median"], entry["iqr"] = float(q2), float(q3 - q1)
        entry["median_ci95"] = _ci_list(median_ci(vals[ok]))
        for side in SIDES:
            sv = steps.loc[steps["side"] == side, name].to_numpy(dtype=float)
            sv = sv[np.isfinite(sv)]
            entry[side] = float(np.median(sv)) if sv.size else None
        entry["asymmetry_pct"] = _symmetry_pct(name, entry["left"], entry["right"])
        if kind == "time":
            entry["resolution"] = frame_ms
        elif kind == "angle":
            entry["resolution"] = ANGLE_RESOLUTION_DEG
        out[name] = entry
    if "cadence_spm" in out and "stride_time_ms" in steps:
        # Cadence from strides (two steps each): a per-side bias in contact timing
        # shortens one foot's steps and lengthens the other's, but cancels in a stride.
        stride = steps["stride_time_ms"].to_numpy(dtype=float)
        ok = np.isfinite(stride)
        if ok.sum() >= 2:
            c = out["cadence_spm"]
            c["median"] = float(120000.0 / np.median(stride[ok]))
            q1, q3 = np.percentile(120000.0 / stride[ok], [25, 75])
            c["iqr"], c["n"] = float(q3 - q1), int(ok.sum())
            c["median_ci95"] = _ci_list(median_ci(120000.0 / stride[ok]))
            for side in SIDES:
                sv = steps.loc[steps["side"] == side, "stride_time_ms"].to_numpy(dtype=float)
                sv = sv[np.isfinite(sv)]
                c[side] = float(120000.0 / np.median(sv)) if sv.size else None
            c["method"] = CADENCE_FROM_STRIDES
    if "cadence_spm" in out and "step_time_ms" in steps and "ic_time_s" in steps:
        found = _cadence_slopes(steps["ic_time_s"].to_numpy(dtype=float),
                                steps["step_time_ms"].to_numpy(dtype=float))
        if found is not None:
            slopes, weights, n = found
            ci = median_ci(slopes, weights)  # of the step time: the cadence's bounds swap
            out["cadence_spm"].update(
                median=float(60.0 / _weighted_median(slopes, weights)), n=n,
                median_ci95=None if ci is None else [60.0 / ci[1], 60.0 / ci[0]])
            out["cadence_spm"]["method"] = CADENCE_FROM_SLOPES
    c = out.get("cadence_spm")
    if c is not None:
        # left/right (and the median) may have been replaced above: the asymmetry and the
        # resolution follow the values given
        c["asymmetry_pct"] = _symmetry_pct("cadence_spm", c["left"], c["right"])
        if c["median"]:
            # one frame of error on a step of median length
            step_ms = 60000.0 / c["median"]
            c["resolution"] = float(60000.0 / max(step_ms - frame_ms, 1e-6) - c["median"])
    return out


#: Steps outside this range of the median step time are not steps of the running rhythm
#: (a contact split in two by the pose model, a section of another speed).
STEP_INLIER_RANGE = (2 / 3, 3 / 2)


def clip_cadence_spm(
    ic_time_s: np.ndarray, step_time_ms: np.ndarray, *, min_steps: int = 4
) -> tuple[float, int] | None:
    """The clip's cadence from the times of consecutive contacts (Theil's slope).

    Consecutive steps form chains of contact times ``t_0 .. t_n``; the step time is the
    slope of contact time against step number. Theil's (1950) estimator pairs contact
    ``i`` with contact ``i + h`` (``h`` = half the chain) and takes the median of those
    slopes: each slope spans half the chain, so one contact's timing error is divided
    by ``h`` steps (a median of per-step or per-stride cadences keeps it whole), and the
    median ignores a contact that is far off (an end contact of a chain included). Slopes
    from several chains (broken by a missed contact, a gap or a section left out) are
    pooled in a median weighted by ``h**2`` (their inverse variance).

    Steps outside :data:`STEP_INLIER_RANGE` of the median step (a contact split in two by
    the pose model) and steps that end on a contact missing from the table (cut by the
    clip's end or a gap) break the chains.

    Parameters
    ----------
    ic_time_s : numpy.ndarray
        Initial-contact time of each step (s).
    step_time_ms : numpy.ndarray
        Time from that contact to the other foot's next one (ms; NaN where the next contact
        is not the other foot's).
    min_steps : int
        Fewest usable steps for an estimate.

    Returns
    -------
    (cadence_spm, n_steps) or None
        None when fewer than ``min_steps`` steps are usable.

    References
    ----------
    Theil, H. (1950). A rank-invariant method of linear and polynomial regression analysis.
    Proc. Koninklijke Nederlandse Akademie van Wetenschappen 53, 386-392.
    """
    found = _cadence_slopes(ic_time_s, step_time_ms, min_steps=min_steps)
    if found is None:
        return None
    slopes, weights, n = found
    return float(60.0 / _weighted_median(slopes, weights)), n


def _cadence_slopes(
    ic_time_s: np.ndarray, step_time_ms: np.ndarray, *, min_steps: int = 4
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The step times (s) of :func:`clip_cadence_spm`'s chains with their weights (``h**2``)
    and the number of usable steps; None when fewer than ``min_steps`` are usable.
    """
    ic = np.asarray(ic_time_s, dtype=float)
    st = np.asarray(step_time_ms, dtype=float) / 1000.0
    order = np.argsort(ic, kind="stable")
    ic, st = ic[order], st[order]
    end = ic + st
    ok = np.isfinite(ic) & np.isfinite(st) & (st > 0)
    if ok.sum() < min_steps:
        return None
    med = float(np.median(st[ok]))
    lo, hi = STEP_INLIER_RANGE
    ok &= (st >= lo * med) & (st <= hi * med)
    # the step must end on a contact of the table
    j = np.clip(np.searchsorted(ic, end - 1e-6), 0, len(ic) - 1)
    ok &= np.abs(ic[j] - end) < 1e-6
    if ok.sum() < min_steps:
        return None
    # chains: runs of usable steps, each starting where the previous one ended
    idx = np.flatnonzero(ok)
    starts = np.r_[0, np.flatnonzero(np.abs(ic[idx[1:]] - end[idx[:-1]]) >= 1e-6) + 1]
    slopes, weights = [], []
    for a, b in zip(starts, np.r_[starts[1:], idx.size], strict=True):
        t = np.r_[ic[idx[a]], end[idx[a:b]]]  # the chain's contact times
        h = len(t) // 2
        slopes.append((t[h:] - t[:-h]) / h)
        weights.append(np.full(len(t) - h, float(h) ** 2))
    return np.concatenate(slopes), np.concatenate(weights), int(ok.sum())


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value at which the sorted weights reach half their sum (the mean of two at a tie)."""
    order = np.argsort(values)
    v, c = values[order], np.cumsum(weights[order])
    half = 0.5 * c[-1]
    k = int(np.searchsorted(c, half))
    if np.isclose(c[k], half) and k + 1 < len(v):
        return float(0.5 * (v[k] + v[k + 1]))
    return float(v[k])


#: Confidence of the interval given for each median (``median_ci95``).
CI_LEVEL = 0.95


def median_ci(values: np.ndarray, weights: np.ndarray | None = None, *,
              level: float = CI_LEVEL) -> tuple[float, float] | None:
    """A distribution-free confidence interval of the median, from order statistics.

    The number of values below the true median is binomial (n, 1/2) whatever the values'
    distribution, so the ``k``-th and ``(n - k + 1)``-th smallest values bracket it with a
    probability given by the binomial distribution (Conover 1999, section 3.2; Hahn &
    Meeker 1991, section 5.2). Without weights this is the interval of SciPy's
    ``quantile_test(...).confidence_interval`` (the same order statistics; the tests
    compare them), without its test statistic. With weights (e.g. slopes of unequal
    precision) the same order statistics are read on the weighted distribution, with
    Kish's (1965) effective number of values ``(sum w)**2 / sum w**2`` as ``n``.

    The values are taken as independent: steps of one run are not quite (a runner's
    rhythm drifts), so the interval is about the steps filmed, not the runner's day.
    It describes the spread between steps, not the measurement's own resolution
    (``resolution`` in the summary).

    Parameters
    ----------
    values : numpy.ndarray
        Non-finite values are ignored.
    weights : numpy.ndarray, optional
        Positive weights, one per value.
    level : float
        Confidence level (0-1).

    Returns
    -------
    (low, high) or None
        None when too few values can reach the level (fewer than 6 for 95 %).

    References
    ----------
    Conover, W. J. (1999). Practical nonparametric statistics (3rd ed.). Wiley.
    Hahn, G. J., & Meeker, W. Q. (1991). Statistical intervals. Wiley.
    Kish, L. (1965). Survey sampling. Wiley.
    """
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    ok = np.isfinite(x) & np.isfinite(w) & (w > 0)
    x, w = x[ok], w[ok]
    if x.size == 0:
        return None
    n = x.size if weights is None else int(np.floor(w.sum() ** 2 / (w**2).sum() + 1e-9))
    ranks = _median_ci_ranks(n, float(level))
    if ranks is None:
        return None
    order = np.argsort(x, kind="stable")
    x, rank = x[order], np.cumsum(w[order]) * (n / w.sum())  # (weighted) rank, 1 .. n
    lo, hi = (min(int(np.searchsorted(rank, k + 1 - 1e-9)), x.size - 1) for k in ranks)
    return float(x[lo]), float(x[hi])


@functools.lru_cache(maxsize=256)
def _median_ci_ranks(n: int, level: float) -> tuple[int, int] | None:
    """0-based ranks of the order statistics that bound the median of ``n`` values at
    ``level`` (those of SciPy's ``QuantileTestResult.confidence_interval``), or None.
    """
    from scipy import stats

    if n < 1:
        return None
    binom = stats.binom(n, 0.5)
    tail = (1.0 - level) / 2.0
    lo, hi = int(binom.ppf(tail)) - 1, int(binom.isf(tail))
    return (lo, hi) if lo >= 0 and hi < n else None

def foot_strike_summary(steps: pd.DataFrame) -> dict[str, str]:
    """The foot-strike class overall and per side ("unknown" without data).

    The class of the median foot angle at contact (:func:`strike_class`): the classes are
    ordered by that angle, so this is the median class, and it always agrees with the
    summary's ``foot_strike_angle_deg`` beside it. (The most frequent class, used before,
    called a clip of heel and forefoot landings "heel" beside a median angle of 7.6 deg,
    a midfoot one.)
    """

    def median_class(v: pd.Series) -> str:
        v = v.to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        return strike_class(float(np.median(v))) if v.size else "unknown"

    if steps.empty or "foot_strike_angle_deg" not in steps:
        return {"pattern": "unknown", "left": "unknown", "right": "unknown"}
    angle = steps["foot_strike_angle_deg"]
    return {
        "pattern": median_class(angle),
        "left": median_class(angle[steps["side"] == "left"]),
        "right": median_class(angle[steps["side"] == "right"]),
    }


def classify_gait(steps: pd.DataFrame) -> tuple[str, str]:
    """Running, walking or unknown, from flight time and duty factor.

    Running has a flight phase (both feet off the ground) and a duty factor below
    50 %; walking has double support (negative flight time) and a duty factor above
    50 % (Alexander 1989; Cavanagh 1990).

    Returns
    -------
    gait : {"running", "walking", "unknown"}
    reason : str
    """
    if steps.empty:
        return "unknown", "no complete steps were found"
    flight = steps["flight_ms"].to_numpy(dtype=float)
    duty = steps["duty_factor_pct"].to_numpy(dtype=float)
    flight, duty = flight[np.isfinite(flight)], duty[np.isfinite(duty)]
    if flight.size < 2 and duty.size < 2:
        return "unknown", "too few complete steps to tell running from walking"
    f_med = float(np.median(flight)) if flight.size else float("nan")
    d_med = float(np.median(duty)) if duty.size else float("nan")
    if (np.isfinite(f_med) and f_med <= 0) or (np.isfinite(d_med) and d_med > 55):
        return "walking", (
            f"no flight phase (median flight {f_med:.0f} ms, duty factor {d_med:.0f} %): this is "
            "walking, not running"
        )
    return "running", f"flight phase present (median flight {f_med:.0f} ms)"
