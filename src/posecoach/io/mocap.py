"""Fukuchi et al. 2017 treadmill motion capture + force plate, as a pose dataset with true events.

The public running data set of Fukuchi, Fukuchi & Duarte (2017, PeerJ 5:e3298, CC BY 4.0)
holds 3-D marker trajectories (150 Hz) and treadmill force-plate data (300 Hz) of runners on an
instrumented treadmill. This module turns one trial into

- a posecoach pose dataset (:mod:`posecoach.dataset`): the markers are turned into joint
  centres, projected orthographically onto the sagittal plane and scaled to pixels, as if a
  distortion-free camera stood beside the treadmill; and
- the true gait events (initial contact, toe-off) from the vertical ground reaction force, so
  that the video event detector can be validated against force-plate truth.

Data layout (``RBDSnnn`` files; see ``SOURCE.md`` of the shared copy)
--------------------------------------------------------------------
``*runT25markers.txt`` : ``Time`` + ``<marker>X/Y/Z`` in mm, tab separated.
``*runT25forces.txt`` : ``Time`` (sample number, 300 Hz) ``Fx Fy Fz COPx COPy COPz Ty``.
``*runT35.c3d`` : the same markers plus the analog force-plate channels ``F1X … M1Z``.
``*static.txt`` / ``*static.c3d`` : standing calibration with the anatomical markers.
``RBDSinfo.txt`` : subject metadata with the foot-strike label per foot and speed.

Lab axes (checked on the data): X antero-posterior (the runner faces +X: the ASIS markers lie at
larger X than the PSIS markers), Y vertical up (the treadmill belt/force plate is the plane Y = 0;
the plate corners in the C3D files have Y = 0), Z medio-lateral (+Z = the runner's right side).

Joint centres
-------------
The running trials carry only technical markers (pelvis, 4-marker thigh and shank clusters, three
heel markers, MT1, MT5). The anatomical landmarks (femoral epicondyles, malleoli, MT2) are
expressed in the static trial relative to their segment's technical markers and rebuilt in every
running frame with a least-squares rigid-body fit (:func:`rigid_fit`, Söderkvist & Wedin 1993).
The hip joint centre comes from the Bell et al. (1990) regression on the pelvis markers
(:func:`bell_hip_joint_centres`), computed in the static trial and carried by the ASIS and PSIS
markers. Skin movement remains: the rebuilt thigh and shank lengths vary with a standard deviation
of about 5-9 mm (1-2 %) over a trial.

Keypoints filled: ``{left,right}_{hip,knee,ankle,heel,foot_index}``:

- hip: hip joint centre (Bell 1990), not the greater trochanter;
- knee: midpoint of the lateral and medial femoral epicondyle markers;
- ankle: midpoint of the lateral and medial malleolus markers;
- heel, foot_index (default ``foot_points="sole"``): virtual *sole landmarks*, see below;
- heel, foot_index with ``foot_points="markers"`` (the earlier behaviour): the ``Heel.Bottom``
  marker on the shoe heel counter and the 2nd metatarsal head marker (MT2) on top of the shoe.
  These sit 3-6 cm above the belt in stance at different heights (standing, heel -> MT2 reads
  +6.7..7.7 deg), and MT2 is 5-6 cm behind the toe tip.

The upper body (head, shoulders, arms) is not in this marker set and stays NaN.

Sole landmarks (what BlazePose's ``heel`` and ``foot_index`` mean)
------------------------------------------------------------------
BlazePose's ``heel`` is the back of the heel at the sole and its ``foot_index`` the tip of the
longest toe, at the sole when the foot is flat. :class:`SoleLandmarks` builds such points
rigidly attached to the foot markers (``Heel.Top/Bottom/Lateral``, ``MT1``, ``MT5``), defined
in the static trial where the shoe stands flat (:func:`sole_landmarks_static`):

- heel: the ``Heel.Bottom`` marker moved straight down to the floor plane. The marker centre
  sits about one marker radius behind the heel counter, whose lower edge is flush with the back
  of the outsole, so the point is already at the back of the shoe at the sole (no shift back);
- ball: the MT2 marker moved straight down to the floor (under the 2nd metatarsal head);
- toe (``foot_index``): the ball moved forward along the foot's long axis (horizontal heel ->
  MT2 direction) by 22 % of the foot length (the 2nd toe beyond its metatarsal head; a choice
  within the 20-25 % of foot length usually allowed for it). Foot length 0.152 x stature
  (Drillis, Contini & Bluestein 1964; Winter 2009, Fig. 4.1): 275 mm for RBDS001, as his shoe
  size says (US men's 10.5: last (10.5 + 24) / 3 in = 292 mm, foot 2/3 in shorter = 275 mm);
  offset 61 mm. The toe point then lies 289 mm ahead of the Heel.Bottom marker, about the
  292 mm shoe last: at the tip of the shoe, where an image shows the end of the foot.

The static heel -> toe line is therefore level. In every running frame the points are rebuilt
with the foot's rigid-body fit (:func:`reconstruct_landmarks`), like the other landmarks.

Width of the sole. A side view sees the bottom of the shoe's outline, which is the lowest point
across the sole's width, not its centre line. The static trial therefore also gets rows of
points across the sole (:func:`sole_landmarks_static`): under the ``Heel.Lateral`` marker and its
mirror image (heel row), under ``MT5`` and ``MT1`` (the outsole edges at the metatarsal heads),
and beside the toe tip (half the forefoot half-width), each marker moved down to the floor and
one marker radius (``MARKER_RADIUS_MM``, 7 mm) in towards the foot's axis. The keypoints take
their height from the lowest point of their row (:func:`lowest_point`) and keep their place
along the foot (back of the heel, toe tip). Why: RBDS001 lands on the outside of the forefoot
with the foot inverted. At force-plate initial contact the ``MT5`` marker is already at its
stance height (it has a sharp corner there) while ``MT1`` is still 35 mm above its own; the
sole edge under ``MT5`` is 5 / 7 mm (T25 / T35, median) above its mid-stance height, the
centre point under ``MT2`` 24 / 28 mm. Most of the "sole still 14-36 mm above its rest level at
contact" of the centre-line model was this inversion, not a timing error.

Floor height. The static trial has no floor marker, and the subject stood off the treadmill
(about 0.4 m behind the force plate's rear edge), so the floor is found from the running trial
alone (markers only, no force data): with a provisional static floor at lab ``Y = 0``, the
lower of each foot's heel and ball points over its lowest 15 % of frames (the loaded, flat
foot in stance; stance is 31-36 % of the stride here) lies at the belt height seen from the
foot markers (:func:`stance_floor_level_mm`), and the static floor is set so that this level
is the belt ``Y = 0``. RBDS001 (rows across the sole): static floor at ``Y = +13.9 / +15.2 mm``
(T25 / T35). Loaded, the shoe sits lower on its markers than standing (midsole and forefoot
compression, foot deformation), which a rigid marker fit cannot follow: the lateral forefoot
edge keeps sinking 5-7 mm for 15-25 ms after force-plate contact while the force rises. The
stance calibration puts the loaded sole on the belt, where a video shows it during stance;
``sole_floor_y_mm=0.0`` uses the standing floor instead (with it the lateral forefoot edge is
already 6-8 mm *below* the belt at contact, so the standing floor was not at the belt's
height). The compression is left in the data: clipping the points at a touch-down level would
need that level, which the markers do not show (their impact peak comes 5-13 ms after the
force plate's contact).

Toes (``toe_model``). The markers end at the metatarsal heads, so the toes are modelled:

- ``"rigid"`` (default): the toe row moves with the foot. In push-off the foot pitches over
  the ball and the tip dips below the belt (median -26 / -31 mm at force-plate toe-off, at
  most -35 / -39 mm) and is back above it 30-40 ms after toe-off; its upward motion starts
  near the real toe-off (after the pipeline's cleaning the tip's upward speed passes
  0.3 m/s 5-10 ms before it);
- ``"bending"``: the toes bend at the metatarsal heads and never point below the forefoot's
  lowest sole point (:func:`bend_toes`). This removes the dip (lowest point in stance -3 mm,
  -6 mm at worst), but the tip then rises with the metatarsal heads, which are already
  14-19 mm up at force-plate toe-off while the real toes still push: the toe lifts 15-25 ms
  before toe-off. The markers carry no information on when the toe tips leave the belt.

Checked on RBDS001 (T25 / T35, force-plate stance, rigid toes): the lower of the stance foot's
heel and toe points is within 15 mm of the belt in 72 % / 71 % of stance frames; in mid-stance
(40-60 % of contact) the toe point sits at -3 / -4.5 mm and the heel at +9 / +10 mm (the
forefoot runner's heel is already rising). At force-plate contact the heel point is 15 / 13 mm
and the toe point 18 / 24 mm above the belt: the sole line is level within 2.5 deg, a
flat landing by the foot-strike angle (Altman & Davis 2012). The strike index from the T25
centre of pressure in the first 10 ms of contact (Cavanagh & Lafortune 1980) is 0.59 (median;
IQR 0.49-0.71): a midfoot strike by that measure too, although ``RBDSinfo.txt`` labels the
subject "Forefoot".

Timing of the two systems: the force text file's ``Time`` column holds sample numbers (300 Hz)
starting with the first marker frame; the ``MT5`` corner and the heel's horizontal speed
passing half the belt speed both fall within a few milliseconds of the force plate's 50 N
crossing, so no offset between markers and forces is visible. The T25 force export is zeroed
between about -30 and +30 N (2187 samples exactly 0), so its 50 N crossings are interpolated from a zero sample: up to
one force sample (3.3 ms) early at contact and late at toe-off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from posecoach import dataset
from posecoach.errors import PoseDataError

__all__ = [
    "MocapDataError",
    "ForceEventDetector",
    "SoleLandmarks",
    "bell_hip_joint_centres",
    "contact_intervals",
    "fix_label_swaps",
    "force_events",
    "fukuchi_pose_dataset",
    "fukuchi_trial",
    "bend_toes",
    "lowest_point",
    "joint_centres_3d",
    "match_cluster_labels",
    "read_forces",
    "read_markers",
    "read_subject_info",
    "reconstruct_landmarks",
    "rigid_fit",
    "sole_landmarks_static",
    "stance_floor_level_mm",
    "static_foot_angle_deg",
    "truth_summary",
]

#: Sampling rate of the force files of Fukuchi et al. 2017 (their ``Time`` column holds sample
#: numbers, not seconds). 300 Hz per the paper and SOURCE.md; 9000 samples span the 30 s trial.
FUKUCHI_FORCE_RATE_HZ: float = 300.0

#: Height of the treadmill belt surface in lab coordinates (mm): the force plate corners in the
#: C3D files lie at Y = 0.
BELT_Y_MM: float = 0.0

#: Technical (tracking) markers of each rigid segment, per side ("R"/"L"); "{s}" is the side.
SEGMENT_CLUSTERS: dict[str, tuple[str, ...]] = {
    "thigh": (
        "{s}.Thigh.Top.Lateral",
        "{s}.Thigh.Bottom.Lateral",
        "{s}.Thigh.Top.Medial",
        "{s}.Thigh.Bottom.Medial",
    ),
    "shank": (
        "{s}.Shank.Top.Lateral",
        "{s}.Shank.Bottom.Lateral",
        "{s}.Shank.Top.Medial",
        "{s}.Shank.Bottom.Medial",
    ),
    "foot": ("{s}.Heel.Top", "{s}.Heel.Bottom", "{s}.Heel.Lateral", "{s}.MT1", "{s}.MT5"),
}

#: Anatomical landmarks of the static trial carried by each segment's cluster.
SEGMENT_LANDMARKS: dict[str, tuple[str, ...]] = {
    "thigh": ("{s}.Knee", "{s}.Knee.Medial"),
    "shank": ("{s}.Ankle", "{s}.Ankle.Medial"),
    "foot": ("{s}.MT2",),
}

PELVIS_MARKERS: tuple[str, ...] = (
    "R.ASIS",
    "L.ASIS",
    "R.PSIS",
    "L.PSIS",
    "R.Iliac.Crest",
    "L.Iliac.Crest",
)

#: Pelvis markers that carry the hip joint centres: the Bell et al. 1990 landmarks. The iliac
#: crest markers sit on more mobile soft tissue (RBDS001 T25: median rigid-fit residual 4.6 mm
#: with them, 2.6 mm without), so they are left out of the fit.
PELVIS_TRACKING: tuple[str, ...] = ("R.ASIS", "L.ASIS", "R.PSIS", "L.PSIS")

#: Foot length per unit of stature (Drillis R, Contini R, Bluestein M, 1964, "Body segment
#: parameters", Artificial Limbs 8:44-66; as drawn in Winter DA, 2009, Biomechanics and Motor
#: Control of Human Movement, 4th ed., Fig. 4.1).
FOOT_LENGTH_PER_HEIGHT: float = 0.152

#: Distance from the 2nd metatarsal head to the tip of the 2nd toe, as a fraction of foot length
#: (the 2nd ray's phalanges plus the toe pulp; midway in the 20-25 % usually quoted).
TOE_FRACTION_OF_FOOT_LENGTH: float = 0.22

#: ``Heel.Bottom`` -> ``MT2`` marker distance as a fraction of foot length, used to estimate the
#: foot length when the stature is unknown. Measured on RBDS001: 228 mm / (0.152 x 1810 mm).
MT2_MARKER_FRACTION_OF_FOOT_LENGTH: float = 0.83

#: Share of a running trial's frames in which a foot is taken as loaded and flat on the belt when
#: locating the belt under its sole (stance is 31-36 % of the stride in RBDS001 T25/T35; the
#: lowest 15 % of frames lie in the lower half of stance).
SOLE_STANCE_SHARE: float = 0.15

#: Radius of the foot markers (mm): the marker centre sits this far outside the shoe's outline.
#: 14 mm markers are the common size for foot markers; the exact size of the Fukuchi set's
#: markers is not stated in the files, and 1-2 mm here moves the sole edges by as much.
MARKER_RADIUS_MM: float = 7.0

#: Half-width of the outsole's front row (through the toe tip) as a fraction of the half-width
#: across the metatarsal heads (MT1 -> MT5 sole edges): the toe box tapers to a rounded tip.
TOE_ROW_WIDTH_FRACTION: float = 0.5

#: Toe models of :class:`SoleLandmarks`.
TOE_MODELS = ("bending", "rigid")

FOOT_POINTS = ("sole", "markers")

UPPER_BODY_NOTE = (
    "head, shoulders, elbows, wrists and hands are not in the Fukuchi 2017 marker set: "
    "their positions and confidences are NaN"
)

KEYPOINT_SOURCES: tuple[str, ...] = (
    "hip: hip joint centre, Bell et al. 1990 regression on the pelvis markers",
    "knee: midpoint of the femoral epicondyle markers (rebuilt from the thigh cluster)",
    "ankle: midpoint of the malleolus markers (rebuilt from the shank cluster)",
    "heel: Heel.Bottom marker on the shoe (measured)",
    "foot_index: 2nd metatarsal head marker MT2 (rebuilt from the foot markers), "
    "about 5-6 cm behind the toe tip",
)

SOLE_KEYPOINT_SOURCES: tuple[str, ...] = (
    *KEYPOINT_SOURCES[:3],
    "heel: virtual sole point under the Heel.Bottom marker (back of the heel), as low as the "
    "lowest point across the heel's sole (rebuilt from the foot markers)",
    "foot_index: virtual sole point at the toe tip, 22 % of the foot length ahead of the MT2 "
    "head along the foot's long axis, as low as the lowest point across the toe box "
    "(rebuilt from the foot markers)",
)


class MocapDataError(PoseDataError):
    """A motion-capture or force file is missing, malformed or cannot be read."""


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def _check_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise MocapDataError(
            f"motion-capture file not found: {path}. Check the path (the Fukuchi 2017 files are "
            "named like RBDS001runT25markers.txt, RBDS001runT35.c3d, RBDS001static.txt)."
        )
    return path


def _uniform_time(time_col: np.ndarray) -> tuple[np.ndarray, float]:
    """Rebuild an evenly spaced time axis from a rounded ``Time`` column.

    The text files round time to 1 ms, which at 150 Hz alternates steps of 6 and 7 ms. The rate
    is taken from the whole span and, when within 0.5 % of a whole number of hertz, rounded to it.
    """
    t = np.asarray(time_col, dtype=np.float64)
    if t.size < 2 or not np.all(np.isfinite(t)) or not np.all(np.diff(t) > 0):
        raise MocapDataError("the Time column must hold at least two increasing, finite values")
    rate_hz = (t.size - 1) / (t[-1] - t[0])
    if abs(rate_hz - round(rate_hz)) < 0.005 * rate_hz:
        rate_hz = float(round(rate_hz))
    return t[0] + np.arange(t.size) / rate_hz, float(rate_hz)


def _read_txt_table(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, sep="\t")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise MocapDataError(
            f"cannot read {path} as a tab-separated table ({exc}); expected a Fukuchi 2017 "
            "text export with a 'Time' column"
        ) from exc
    if table.empty or "Time" not in table.columns:
        raise MocapDataError(
            f"{path} has no 'Time' column or no rows; expected a Fukuchi 2017 text export"
        )
    return table


def _import_c3d() -> Any:
    try:
        import c3d  # noqa: PLC0415 (optional dependency, imported lazily)
    except ImportError as exc:
        raise MocapDataError(
            "reading .c3d files needs the 'c3d' package: pip install c3d "
            "(or install posecoach with the 'dev' extra)"
        ) from exc
    return c3d


def _read_c3d(path: Path) -> dict[str, Any]:
    """Read points, analog channels and force-plate parameters from a C3D file."""
    c3d = _import_c3d()
    import warnings  # noqa: PLC0415

    try:
        with open(path, "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "No analog data found in file."
            reader = c3d.Reader(handle)
            labels = [str(lab).strip() for lab in reader.point_labels]
            analog_labels = (
                [str(lab).strip() for lab in reader.analog_labels] if reader.analog_used else []
            )
            points, analog = [], []
            for _, frame_points, frame_analog in reader.read_frames():
                points.append(frame_points)
                analog.append(frame_analog)
            point_rate_hz = float(reader.point_rate)
            analog_rate_hz = float(reader.analog_rate) if reader.analog_used else float("nan")
            cal_matrix = None
            plate = reader.get("FORCE_PLATFORM")
            if plate is not None and plate.get("CAL_MATRIX") is not None:
                cal = plate.get("CAL_MATRIX").float_array
                cal_matrix = np.asarray(cal, dtype=np.float64).reshape(-1, 6, 6)[0].T
    except (ValueError, AssertionError, OSError, EOFError, KeyError) as exc:
        raise MocapDataError(f"cannot read {path} as a C3D file ({exc})") from exc
    if not points:
        raise MocapDataError(f"{path} holds no frames")
    xyz = np.asarray(points, dtype=np.float64)  # (n, m, 5): x, y, z, residual, cameras
    # C3D marks gaps with a negative residual; some exporters (as in the Fukuchi T35 file) write
    # gaps as exactly (0, 0, 0) with a positive residual instead
    invalid = (xyz[:, :, 3] < 0) | np.all(xyz[:, :, :3] == 0.0, axis=-1)
    xyz = xyz[:, :, :3].copy()
    xyz[invalid] = np.nan
    out: dict[str, Any] = {
        "labels": labels,
        "points_mm": xyz,
        "point_rate_hz": point_rate_hz,
        "analog_labels": analog_labels,
        "analog_rate_hz": analog_rate_hz,
        "cal_matrix": cal_matrix,
    }
    if analog_labels and analog and np.asarray(analog[0]).size:
        # each frame holds (channels, samples per point frame)
        out["analog"] = np.concatenate([np.asarray(a, dtype=np.float64) for a in analog], axis=1)
    return out


def read_markers(path: str | Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Read marker trajectories from a Fukuchi 2017 ``.txt`` export or a ``.c3d`` file.

    Parameters
    ----------
    path : str or Path
        ``*markers.txt`` / ``*static.txt`` (``Time`` + ``<name>X/Y/Z`` columns) or ``*.c3d``.

    Returns
    -------
    time_s : ndarray, shape (n,)
        Evenly spaced sample times in seconds, starting at 0 (the text files round time to 1 ms;
        the axis is rebuilt from the sampling rate).
    markers_mm : dict of str to ndarray, shape (n, 3)
        Lab coordinates (X antero-posterior, Y vertical, Z medio-lateral) in mm; NaN in gaps.

    Raises
    ------
    MocapDataError
        If the file is missing, malformed, or a ``.c3d`` file is given without the ``c3d``
        package installed.
    """
    path = _check_file(path)
    if path.suffix.lower() == ".c3d":
        content = _read_c3d(path)
        n = content["points_mm"].shape[0]
        time_s = np.arange(n) / content["point_rate_hz"]
        markers = {lab: content["points_mm"][:, i, :] for i, lab in enumerate(content["labels"])}
        return time_s, markers
    table = _read_txt_table(path)
    names = [c for c in table.columns if c != "Time"]
    if not names or len(names) % 3:
        raise MocapDataError(
            f"{path}: expected X/Y/Z column triples after 'Time', got {len(names)} columns"
        )
    markers = {}
    for i in range(0, len(names), 3):
        cols = names[i : i + 3]
        base = cols[0][:-1]
        if [c[-1] for c in cols] != ["X", "Y", "Z"] or any(c[:-1] != base for c in cols):
            raise MocapDataError(f"{path}: columns {cols} are not an X/Y/Z triple of one marker")
        markers[base] = table[cols].to_numpy(dtype=np.float64)
    time_s, _ = _uniform_time(table["Time"].to_numpy())
    return time_s - time_s[0], markers


def read_forces(
    path: str | Path, *, rate_hz: float = FUKUCHI_FORCE_RATE_HZ
) -> tuple[np.ndarray, np.ndarray]:
    """Read the vertical ground reaction force of a treadmill trial.

    Parameters
    ----------
    path : str or Path
        ``*forces.txt`` (vertical force is column ``Fy``, in N) or a ``.c3d`` trial with analog
        force-plate channels. For C3D the channels are converted to newtons with the file's
        ``FORCE_PLATFORM:CAL_MATRIX`` (the stored values are volts: about -1.6 at peak for
        ``F1Z`` with a 1000 N/V gain) and the vertical force is ``-F1Z`` (plate z axis points
        down into the plate, C3D force-plate types 2/4). Checked on RBDS001 T35: its trial mean is
        594 N against a body weight of 608 N.
    rate_hz : float
        Sampling rate used when the text file's ``Time`` column holds sample numbers (1, 2, ...),
        as in the Fukuchi 2017 exports (300 Hz). Ignored for C3D (the file states its rate).

    Returns
    -------
    time_s : ndarray, shape (n,)
        Sample times in seconds, starting at 0.
    vertical_grf_N : ndarray, shape (n,)
        Vertical ground reaction force on the runner, N (positive up).

    Raises
    ------
    MocapDataError
        If the file is missing, has no vertical force channel, or cannot be read.
    """
    path = _check_file(path)
    if path.suffix.lower() == ".c3d":
        content = _read_c3d(path)
        labels = content["analog_labels"]
        if "analog" not in content or "F1Z" not in labels:
            raise MocapDataError(
                f"{path} has no force-plate channel F1Z; give the separate forces file instead"
            )
        volts = content["analog"]
        cal = content["cal_matrix"]
        first = labels.index("F1X")
        if cal is not None and first + 6 <= volts.shape[0]:
            forces = cal @ volts[first : first + 6]  # F1X F1Y F1Z M1X M1Y M1Z in N, N mm
            fz_plate = forces[2]
        else:
            fz_plate = volts[labels.index("F1Z")]
        grf = -fz_plate
        time_s = np.arange(grf.size) / content["analog_rate_hz"]
        return time_s, grf
    table = _read_txt_table(path)
    if "Fy" not in table.columns:
        raise MocapDataError(f"{path} has no 'Fy' (vertical force) column")
    raw_t = table["Time"].to_numpy(dtype=np.float64)
    if np.allclose(raw_t, np.round(raw_t)) and np.all(np.diff(raw_t) == 1):
        if not (np.isfinite(rate_hz) and rate_hz > 0):
            raise MocapDataError(f"rate_hz must be a positive number, got {rate_hz!r}")
        time_s = (raw_t - raw_t[0]) / rate_hz
    else:
        time_s, _ = _uniform_time(raw_t)
        time_s = time_s - time_s[0]
    return time_s, table["Fy"].to_numpy(dtype=np.float64)


def read_subject_info(info_path: str | Path, subject: str) -> dict[str, Any]:
    """Read one subject's row of ``RBDSinfo.txt``.

    Parameters
    ----------
    info_path : str or Path
        The ``RBDSinfo.txt`` metadata table (tab separated).
    subject : str
        Subject code, e.g. ``"RBDS001"`` (matched against the ``FileName`` column).

    Returns
    -------
    dict
        ``height_m``, ``mass_kg`` and ``foot_strike`` (dict ``"R25" -> "Forefoot"`` etc. from
        the ``RFSI25`` … ``LFSI45`` columns).

    Raises
    ------
    MocapDataError
        If the file or the subject is missing.
    """
    table = _read_table_plain(_check_file(info_path))
    if "FileName" not in table.columns:
        raise MocapDataError(f"{info_path} has no 'FileName' column; is it RBDSinfo.txt?")
    rows = table[table["FileName"].astype(str).str.startswith(subject)]
    if rows.empty:
        raise MocapDataError(f"subject {subject} is not listed in {info_path}")
    row = rows.iloc[0]
    strike = {}
    for col in table.columns:
        m = re.fullmatch(r"([RL])FSI(\d\d)", str(col))
        if m:
            strike[m.group(1) + m.group(2)] = str(row[col]).strip()
    return {
        "height_m": float(row["Height"]) / 100.0 if "Height" in row else float("nan"),
        "mass_kg": float(row["Mass"]) if "Mass" in row else float("nan"),
        "foot_strike": strike,
    }


def _read_table_plain(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep="\t")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise MocapDataError(f"cannot read {path} as a tab-separated table ({exc})") from exc


# --------------------------------------------------------------------------------------------
# Rigid-body fit and joint centres
# --------------------------------------------------------------------------------------------


def rigid_fit(
    reference_mm: np.ndarray, current_mm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares rigid transform from a reference marker set to each frame.

    Finds, per frame, the rotation ``R`` and translation ``t`` minimising
    ``sum_i |R @ ref_i + t - cur_i|^2`` over the markers visible in that frame, by the singular
    value decomposition of the cross-covariance matrix with a reflection guard (Söderkvist I,
    Wedin P-Å, 1993, "Determining the movements of the skeleton using well-configured markers",
    J Biomech 26(12):1473-1477; Kabsch W, 1976, Acta Cryst A32:922-923).

    Parameters
    ----------
    reference_mm : ndarray, shape (m, 3)
        Marker positions in the reference (static) pose.
    current_mm : ndarray, shape (n, m, 3) or (m, 3)
        Marker positions in each frame; NaN for markers not seen.

    Returns
    -------
    rotation : ndarray, shape (n, 3, 3)
        Proper rotations (det +1); NaN where fewer than 3 non-collinear markers are visible.
    translation_mm : ndarray, shape (n, 3)
    rms_residual_mm : ndarray, shape (n,)
        Root-mean-square distance between fitted and measured markers (cluster deformation).
    """
    ref = np.asarray(reference_mm, dtype=np.float64)
    cur = np.asarray(current_mm, dtype=np.float64)
    if cur.ndim == 2:
        cur = cur[None]
    if ref.ndim != 2 or ref.shape[1] != 3 or cur.shape[1:] != ref.shape:
        raise ValueError(f"shapes do not match: reference {ref.shape}, current {cur.shape}")
    seen = np.isfinite(cur).all(axis=-1) & np.isfinite(ref).all(axis=-1)[None]
    weight = seen.astype(np.float64)[..., None]  # (n, m, 1)
    count = weight.sum(axis=1)  # (n, 1)
    safe = np.maximum(count, 1.0)
    ref_b = np.where(seen[..., None], ref[None], 0.0)
    cur_b = np.where(seen[..., None], cur, 0.0)
    ref_c = ref_b.sum(axis=1) / safe
    cur_c = cur_b.sum(axis=1) / safe
    a = (ref_b - ref_c[:, None]) * weight
    b = (cur_b - cur_c[:, None]) * weight
    cov = np.einsum("nmi,nmj->nij", a, b)
    u, s, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(np.einsum("nji,nkj->nik", vt, u)))
    d[d == 0] = 1.0
    fix = np.ones((cov.shape[0], 3))
    fix[:, 2] = d
    rotation = np.einsum("nji,nj,nkj->nik", vt, fix, u)  # V diag(1,1,d) U^T
    translation = cur_c - np.einsum("nij,nj->ni", rotation, ref_c)
    scale = np.maximum(s[:, 0], 1e-12)
    bad = (count[:, 0] < 3) | (s[:, 1] / scale < 1e-6)  # too few or collinear markers
    rotation[bad] = np.nan
    translation[bad] = np.nan
    fitted = np.einsum("nij,mj->nmi", rotation, ref) + translation[:, None]
    sq = np.where(seen, ((fitted - cur) ** 2).sum(axis=-1), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(sq.sum(axis=1) / count[:, 0])
    rms[bad] = np.nan
    return rotation, translation, rms


def _static_mean(markers_mm: Mapping[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    missing = [n for n in names if n not in markers_mm]
    if missing:
        raise MocapDataError(f"the static trial lacks markers {missing}")
    return np.stack([np.nanmean(markers_mm[n], axis=0) for n in names])


def reconstruct_landmarks(
    static_mm: Mapping[str, np.ndarray],
    trial_mm: Mapping[str, np.ndarray],
    cluster: tuple[str, ...],
    landmarks: Mapping[str, np.ndarray] | tuple[str, ...],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Rebuild landmarks in every trial frame from a segment's technical markers.

    The landmarks' static positions are carried rigidly with the cluster (calibrated anatomical
    system technique, Cappozzo et al. 1995, Clin Biomech 10:171-178), using :func:`rigid_fit`.

    Parameters
    ----------
    static_mm : mapping of str to ndarray (n_static, 3)
        Static calibration markers (averaged over its frames, NaN ignored).
    trial_mm : mapping of str to ndarray (n, 3)
        Running trial markers.
    cluster : tuple of str
        Technical markers present in both trials.
    landmarks : tuple of str, or mapping of str to ndarray (3,)
        Names of static-trial markers to rebuild, or landmark positions given directly in the
        static lab frame (e.g. a computed hip joint centre).

    Returns
    -------
    rebuilt_mm : dict of str to ndarray, shape (n, 3)
    rms_residual_mm : ndarray, shape (n,)
        Fit residual of the cluster per frame.
    """
    missing = [c for c in cluster if c not in trial_mm]
    if missing:
        raise MocapDataError(f"the running trial lacks markers {missing}")
    ref = _static_mean(static_mm, cluster)
    cur = np.stack([np.asarray(trial_mm[c], dtype=np.float64) for c in cluster], axis=1)
    rotation, translation, rms = rigid_fit(ref, cur)
    if isinstance(landmarks, Mapping):
        points = {k: np.asarray(v, dtype=np.float64) for k, v in landmarks.items()}
    else:
        points = dict(zip(landmarks, _static_mean(static_mm, tuple(landmarks)), strict=True))
    rebuilt = {k: np.einsum("nij,j->ni", rotation, p) + translation for k, p in points.items()}
    return rebuilt, rms


def bell_hip_joint_centres(markers_mm: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Hip joint centres from the pelvis markers (Bell et al. 1990 regression).

    In the pelvic frame (origin midway between the ASIS; z from left to right ASIS; x anterior,
    in the plane of both ASIS and the PSIS midpoint; y = z × x, superior), each hip joint centre
    lies at ``(-0.19, -0.30, ±0.36) × PW`` where PW is the inter-ASIS distance (Bell AL,
    Pedersen DR, Brand RA, 1990, "A comparison of the accuracy of several hip center location
    prediction methods", J Biomech 23(6):617-621; pelvic frame as Wu et al. 2002, J Biomech
    35:543-548).

    Parameters
    ----------
    markers_mm : mapping of str to ndarray (..., 3)
        Must hold ``R.ASIS``, ``L.ASIS``, ``R.PSIS``, ``L.PSIS``.

    Returns
    -------
    right_mm, left_mm : ndarray, shape (..., 3)
    """
    missing = [m for m in ("R.ASIS", "L.ASIS", "R.PSIS", "L.PSIS") if m not in markers_mm]
    if missing:
        raise MocapDataError(f"cannot place the hip joint centres: markers {missing} missing")
    r_asis = np.asarray(markers_mm["R.ASIS"], dtype=np.float64)
    l_asis = np.asarray(markers_mm["L.ASIS"], dtype=np.float64)
    mid_psis = (np.asarray(markers_mm["R.PSIS"]) + np.asarray(markers_mm["L.PSIS"])) / 2.0
    origin = (r_asis + l_asis) / 2.0
    across = r_asis - l_asis
    width = np.linalg.norm(across, axis=-1, keepdims=True)
    z = across / width
    fwd = origin - mid_psis
    x = fwd - np.sum(fwd * z, axis=-1, keepdims=True) * z
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(z, x)
    base = origin + width * (-0.19 * x - 0.30 * y)
    return base + width * 0.36 * z, base - width * 0.36 * z


def match_cluster_labels(
    reference_mm: np.ndarray, current_mm: np.ndarray, *, tolerance_mm: float = 10.0
) -> tuple[np.ndarray, float, float]:
    """Detect swapped marker labels in a cluster by its inter-marker distances.

    Distances between markers on one rigid segment are invariant, so a labelling error (e.g.
    MT1 and MT5 exchanged in a trial) shows as a mismatch between the static and the trial's
    median distance matrix. All label permutations are tried; the identity is kept unless its
    mismatch exceeds ``tolerance_mm`` and another permutation at least halves it (mirror-image
    permutations, which keep all distances, therefore never replace a correct labelling).

    Parameters
    ----------
    reference_mm : ndarray, shape (m, 3)
        Cluster in the static trial (m <= 7).
    current_mm : ndarray, shape (n, m, 3)
        Cluster in the running trial, NaN in gaps.
    tolerance_mm : float
        RMS distance mismatch accepted as skin movement.

    Returns
    -------
    order : ndarray of int, shape (m,)
        ``current_mm[:, order]`` matches ``reference_mm`` marker by marker.
    mismatch_before_mm, mismatch_after_mm : float
        RMS distance mismatch with the given and with the chosen labels.
    """
    from itertools import permutations  # noqa: PLC0415

    ref = np.asarray(reference_mm, dtype=np.float64)
    cur = np.asarray(current_mm, dtype=np.float64)
    m = ref.shape[0]
    d_ref = np.linalg.norm(ref[:, None] - ref[None], axis=-1)
    with np.errstate(invalid="ignore"):
        d_cur = np.nanmedian(np.linalg.norm(cur[:, :, None] - cur[:, None], axis=-1), axis=0)
    iu = np.triu_indices(m, 1)

    def mismatch(order: tuple[int, ...]) -> float:
        d = d_cur[np.ix_(order, order)]
        return float(np.sqrt(np.nanmean((d[iu] - d_ref[iu]) ** 2)))

    identity = tuple(range(m))
    before = mismatch(identity)
    if not np.isfinite(before) or before <= tolerance_mm or m > 7:
        return np.arange(m), before, before
    best = min(permutations(range(m)), key=mismatch)
    after = mismatch(best)
    if after <= 0.5 * before:
        return np.asarray(best), before, after
    return np.arange(m), before, before


def _all_clusters() -> list[tuple[str, ...]]:
    clusters = [PELVIS_MARKERS]
    for s in ("R", "L"):
        clusters += [tuple(c.format(s=s) for c in names) for names in SEGMENT_CLUSTERS.values()]
    return clusters


def fix_label_swaps(
    static_mm: Mapping[str, np.ndarray], trial_mm: Mapping[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Return the trial markers with swapped cluster labels corrected, and what was changed.

    Uses :func:`match_cluster_labels` on every tracked cluster (pelvis, thigh, shank, foot).

    Parameters
    ----------
    static_mm, trial_mm : mapping of str to ndarray
        Static and running-trial markers.

    Returns
    -------
    fixed_mm : dict of str to ndarray
        New dict; relabelled markers are exchanged, all others are the same arrays.
    messages : list of str
        One message per corrected cluster (empty when nothing changed).
    """
    fixed = dict(trial_mm)
    messages = []
    for cluster in _all_clusters():
        if not all(c in static_mm and c in trial_mm for c in cluster):
            continue
        ref = _static_mean(static_mm, cluster)
        cur = np.stack([np.asarray(trial_mm[c], dtype=np.float64) for c in cluster], axis=1)
        order, before, after = match_cluster_labels(ref, cur)
        if np.array_equal(order, np.arange(len(cluster))):
            continue
        changes = [f"{cluster[int(o)]} -> {cluster[i]}" for i, o in enumerate(order) if o != i]
        for i, o in enumerate(order):
            fixed[cluster[i]] = np.asarray(trial_mm[cluster[int(o)]])
        messages.append(
            "marker labels swapped in the running trial, corrected: "
            + ", ".join(changes)
            + f" (distance mismatch to the static trial {before:.0f} -> {after:.0f} mm)"
        )
    return fixed, messages


# --------------------------------------------------------------------------------------------
# Virtual sole landmarks (BlazePose heel and foot_index)
# --------------------------------------------------------------------------------------------


def sole_landmarks_static(
    static_mm: Mapping[str, np.ndarray],
    side: str,
    *,
    floor_y_mm: float,
    toe_offset_mm: float,
) -> dict[str, np.ndarray]:
    """Virtual sole landmarks of one foot in the static (standing) trial.

    With the shoe flat on the floor plane ``Y = floor_y_mm`` (lab Y vertical):

    - ``heel``: the ``Heel.Bottom`` marker moved straight down to the floor (the back of the
      shoe at the sole: BlazePose's ``heel``);
    - ``ball``: the ``MT2`` marker moved straight down to the floor (under the 2nd metatarsal
      head);
    - ``toe``: ``ball`` moved ``toe_offset_mm`` forward along the foot's long axis, the
      horizontal heel -> MT2 direction (heel to 2nd metatarsal head, the usual long axis of the
      foot, as the foot vector of the conventional gait model, Davis et al. 1991, Hum Mov Sci
      10:575-587): the tip of the longest toe at the sole, BlazePose's ``foot_index``.

    All three lie on the floor, so the static heel -> toe line is level. When the static trial
    also holds ``Heel.Lateral``, ``MT1`` and ``MT5``, the rows across the sole are added (a side
    view sees the lowest of them as the bottom of the shoe's outline):

    - ``heel_lateral``: the ``Heel.Lateral`` marker moved down to the floor and one marker
      radius (``MARKER_RADIUS_MM``) towards the foot's axis (the marker centre sits a radius
      outside the heel counter); ``heel_medial``: its mirror image across the long axis;
    - ``ball_lateral`` / ``ball_medial``: the ``MT5`` / ``MT1`` markers moved down to the floor
      and one marker radius inwards: the outsole's edges under the 5th and 1st metatarsal heads;
    - ``toe_lateral`` / ``toe_medial``: the toe tip moved sideways by ``TOE_ROW_WIDTH_FRACTION``
      of the forefoot half-width (the toe box tapers to a rounded tip).

    "Lateral" is the horizontal direction across the long axis towards ``MT5``.

    Parameters
    ----------
    static_mm : mapping of str to ndarray (n, 3)
        Static trial markers (averaged over frames, NaN ignored); needs ``{side}.Heel.Bottom``
        and ``{side}.MT2``.
    side : {"R", "L"}
    floor_y_mm : float
        Height of the floor under the shoes in the static trial, lab Y (mm).
    toe_offset_mm : float
        Distance from the 2nd metatarsal head to the toe tip (mm).

    Returns
    -------
    dict of str to ndarray, shape (3,)
        ``heel``, ``ball``, ``toe`` (and, with the edge markers, ``heel_lateral``,
        ``heel_medial``, ``ball_lateral``, ``ball_medial``, ``toe_lateral``, ``toe_medial``) in
        static lab coordinates (mm).

    Raises
    ------
    MocapDataError
        If the markers are missing or the heel and MT2 markers coincide in the horizontal plane.
    """
    heel, mt2 = _static_mean(static_mm, (f"{side}.Heel.Bottom", f"{side}.MT2"))
    axis = mt2 - heel
    axis[1] = 0.0
    length = float(np.linalg.norm(axis))
    if not length > 1.0:
        raise MocapDataError(
            f"cannot find the long axis of the {side} foot: the Heel.Bottom and MT2 markers of "
            "the static trial are not apart horizontally; check the static file"
        )
    axis /= length
    heel_sole = heel.copy()
    heel_sole[1] = floor_y_mm
    ball = mt2.copy()
    ball[1] = floor_y_mm
    toe = ball + toe_offset_mm * axis
    points = {"heel": heel_sole, "ball": ball, "toe": toe}
    edges = (f"{side}.Heel.Lateral", f"{side}.MT1", f"{side}.MT5")
    if not all(e in static_mm for e in edges):
        return points
    heel_lat, mt1, mt5 = _static_mean(static_mm, edges)
    lateral = np.array([-axis[2], 0.0, axis[0]])  # horizontal, across the long axis
    if float((mt5 - mt1) @ lateral) < 0.0:
        lateral = -lateral  # towards the little toe

    def inward(marker: np.ndarray, sign: float) -> np.ndarray:
        # the marker centre moved straight down to the floor and one radius towards the axis
        # (the marker sits on the side of the shoe, its centre a radius outside the outline)
        q = marker - sign * MARKER_RADIUS_MM * lateral
        q[1] = floor_y_mm
        return q

    heel_lateral = inward(heel_lat, 1.0)
    across = float((heel_lateral - heel_sole) @ lateral)
    ball_lat, ball_med = inward(mt5, 1.0), inward(mt1, -1.0)
    forefoot_half = 0.5 * max(float((ball_lat - ball_med) @ lateral), 0.0)
    toe_half = TOE_ROW_WIDTH_FRACTION * forefoot_half
    points.update(
        {
            "heel_lateral": heel_lateral,
            "heel_medial": heel_lateral - 2.0 * across * lateral,  # mirrored across the axis
            "ball_lateral": ball_lat,
            "ball_medial": ball_med,
            "toe_lateral": toe + toe_half * lateral,
            "toe_medial": toe - toe_half * lateral,
        }
    )
    return points


def stance_floor_level_mm(
    heel_y_mm: np.ndarray, ball_y_mm: np.ndarray, *, stance_share: float = SOLE_STANCE_SHARE
) -> float:
    """Height of the belt under a running foot's sole points, from their trajectories alone.

    A running foot is loaded and flat on the belt for about a third of the stride (its stance);
    then the lower of its heel and ball (metatarsal head) sole points lies on the belt. The
    ``stance_share`` quantile of that lower point over the whole trial falls in the lower half
    of the stance frames and is taken as the belt height seen from the foot markers (a contact
    level from the height distribution, in the spirit of the foot-height methods reviewed by
    Zeni et al. 2008, Gait Posture 27:710-714). The toe point is left out: it dips below the
    belt in push-off (rigid toes).

    Parameters
    ----------
    heel_y_mm, ball_y_mm : ndarray, shape (n,)
        Vertical position of the rebuilt heel and ball sole points (mm), NaN in gaps.
    stance_share : float
        Quantile in (0, 0.5).

    Returns
    -------
    float
        Level (mm, lab Y); NaN when no frame has both points.
    """
    if not 0.0 < stance_share < 0.5:
        raise MocapDataError(f"stance_share must lie in (0, 0.5), got {stance_share!r}")
    low = np.fmin(np.asarray(heel_y_mm, dtype=np.float64), np.asarray(ball_y_mm, dtype=np.float64))
    low = low[np.isfinite(low)]
    return float(np.quantile(low, stance_share)) if low.size else float("nan")


def lowest_point(points: list[np.ndarray], anchor: np.ndarray | None = None) -> np.ndarray:
    """Per frame, the lowest (least lab ``Y``) of several points across the sole's width.

    A side view sees the shoe's outline: its bottom edge at a given place along the foot is
    the lowest of the sole points across the width there (the lateral edge when the foot is
    inverted, as when a forefoot runner lands on the outside of the forefoot).

    Parameters
    ----------
    points : list of ndarray, shape (n, 3)
        Points of one row across the sole (e.g. heel centre, lateral and medial edge).
    anchor : ndarray, shape (n, 3), optional
        When given, the result keeps the anchor's ``X`` and ``Z`` (where the keypoint is along
        the foot, e.g. the back of the heel) and takes only the height from the lowest point.

    Returns
    -------
    ndarray, shape (n, 3)
        NaN where every point is NaN.
    """
    stack = np.stack([np.asarray(p, dtype=np.float64) for p in points])  # (k, n, 3)
    heights = np.where(np.isfinite(stack[..., 1]), stack[..., 1], np.inf)
    pick = np.argmin(heights, axis=0)
    out = np.take_along_axis(stack, pick[None, :, None], axis=0)[0]
    if anchor is not None:
        out = np.array(anchor, dtype=np.float64, copy=True)
        out[:, 1] = np.take_along_axis(stack[..., 1], pick[None], axis=0)[0]
    return out


def bend_toes(hinge_mm: np.ndarray, tip_mm: np.ndarray, floor_mm: np.ndarray) -> np.ndarray:
    """Toe tip of toes that bend at the metatarsal heads instead of dipping below the sole.

    The toes hinge on the ball (2nd metatarsal head) and keep their length. When the rigid
    toe tip would lie below ``floor_mm`` (the lowest sole point under the metatarsal heads:
    the foot pitches toe-down over the ball in push-off), the toe is turned up about the
    ball in its own vertical plane until the tip is level with that point, as the real toes
    and the shoe's toe box are held flat on the belt by the dorsiflexing metatarsophalangeal
    joints while the forefoot is loaded (Bojsen-Møller & Lamoreux 1979, Acta Orthop Scand
    50:471-479; Stefanyshyn & Nigg 1997, J Biomech 30:1081-1085: 30-50 deg of MTP
    dorsiflexion in running push-off). Otherwise the rigid tip is kept. The toes therefore
    never point further down than the forefoot's sole; in swing, when the whole foot is
    above the belt, this only changes how the toe hangs, not when it lands or lifts.

    Parameters
    ----------
    hinge_mm, tip_mm : ndarray, shape (n, 3)
        Ball (hinge) and rigid toe tip, lab mm (Y up).
    floor_mm : ndarray, shape (n,)
        Lowest height the tip may take (mm), the forefoot's lowest sole point.

    Returns
    -------
    ndarray, shape (n, 3)
        The toe tip; equal to ``tip_mm`` where it is not below ``floor_mm``.
    """
    hinge = np.asarray(hinge_mm, dtype=np.float64)
    tip = np.asarray(tip_mm, dtype=np.float64)
    floor = np.asarray(floor_mm, dtype=np.float64)
    toe = tip - hinge
    length = np.linalg.norm(toe, axis=-1)
    with np.errstate(invalid="ignore"):
        bend = tip[:, 1] < floor
    rise = np.clip(floor - hinge[:, 1], -length, 0.0)  # at most level with the hinge
    flat = np.hypot(toe[:, 0], toe[:, 2])
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.sqrt(np.maximum(length**2 - rise**2, 0.0)) / flat
    out = tip.copy()
    new = hinge + np.stack([toe[:, 0] * scale, rise, toe[:, 2] * scale], axis=-1)
    ok = bend & np.isfinite(new).all(axis=-1) & (flat > 0)
    out[ok] = new[ok]
    return out


class SoleLandmarks:
    """Virtual sole landmarks (heel, ball, toe tip) rebuilt in every running frame.

    The static-trial points of :func:`sole_landmarks_static` (three rows across the sole: heel,
    metatarsal heads, toe tip) are carried with each foot's technical markers (``Heel.Top``,
    ``Heel.Bottom``, ``Heel.Lateral``, ``MT1``, ``MT5``) by the rigid-body fit of
    :func:`reconstruct_landmarks` (Söderkvist & Wedin 1993). The keypoints are the bottom of the
    shoe's side-view outline (:func:`lowest_point`): ``heel`` at the back of the heel with the
    height of the lowest heel-row point, ``foot_index`` at the toe tip with the height of the
    lowest toe-row point, ``ball`` the lowest point under the metatarsal heads. With
    ``toe_model="bending"`` the toe row hinges on the ball (:func:`bend_toes`). The static floor
    height is either given or found from the running trial's markers
    (:func:`stance_floor_level_mm` on the heel and ball points): the floor is placed so that the
    loaded sole meets the belt plane ``Y = BELT_Y_MM``.

    Parameters
    ----------
    foot_length_mm : float or None
        Foot length (mm); None estimates it from the static heel -> MT2 marker distance
        (divided by ``MT2_MARKER_FRACTION_OF_FOOT_LENGTH``). Give ``FOOT_LENGTH_PER_HEIGHT``
        x stature when the stature is known.
    toe_fraction : float
        Toe tip ahead of the 2nd metatarsal head, as a fraction of the foot length.
    floor_y_mm : float or None
        Static floor height (lab Y, mm); None finds it from the running stance.
    stance_share : float
        See :func:`stance_floor_level_mm`.
    toe_model : {"rigid", "bending"}
        ``"rigid"`` (default): the toes move with the foot markers (the tip dips below the belt
        in push-off); ``"bending"``: the toes bend at the metatarsal heads and never point
        below the forefoot's lowest sole point (:func:`bend_toes`). See the module docstring
        for what each does to the push-off on RBDS001.

    Attributes
    ----------
    foot_length_mm_, toe_offset_mm_ : float
        Foot length and MT2 head -> toe tip distance used (mm).
    floor_y_mm_ : float
        Static floor height used (lab Y, mm).
    floor_method_ : str
        ``"running stance"`` or ``"given"``.
    stance_levels_mm_ : dict of str to float
        ``"right"``/``"left"``: belt level under each loaded sole seen from the foot markers with
        the static floor at ``Y = 0`` (:func:`stance_floor_level_mm`); computed in both modes.
    static_points_mm_ : dict of str to dict
        ``"right"``/``"left"`` -> ``heel``, ``ball``, ``toe`` in the static trial (mm).
    points_mm_ : dict of str to ndarray, shape (n, 3)
        ``right_heel``, ``right_foot_index``, ``right_ball`` (lowest points of the rows, see
        above) and ``right_toe_rigid`` (the rigid toe tip on the foot's axis), the same for
        ``left_``, lab mm.
    sole_points_mm_ : dict of str to dict
        ``"right"``/``"left"`` -> every static sole point (``heel``, ``heel_lateral``, ...,
        ``toe_medial``) rebuilt rigidly in each frame, shape (n, 3), lab mm (toes not bent).
    fit_rms_mm_ : dict of str to ndarray, shape (n,)
        Rigid-fit residual of each foot cluster (``"R.foot"``, ``"L.foot"``).
    """

    def __init__(
        self,
        foot_length_mm: float | None = None,
        toe_fraction: float = TOE_FRACTION_OF_FOOT_LENGTH,
        floor_y_mm: float | None = None,
        stance_share: float = SOLE_STANCE_SHARE,
        toe_model: str = "rigid",
    ) -> None:
        self.foot_length_mm = foot_length_mm
        self.toe_fraction = toe_fraction
        self.floor_y_mm = floor_y_mm
        self.stance_share = stance_share
        self.toe_model = toe_model

    def _foot_length(self, static_mm: Mapping[str, np.ndarray]) -> float:
        if self.foot_length_mm is not None:
            if not (np.isfinite(self.foot_length_mm) and self.foot_length_mm > 0):
                raise MocapDataError(
                    f"foot_length_mm must be a positive number, got {self.foot_length_mm!r}"
                )
            return float(self.foot_length_mm)
        spans = []
        for s in ("R", "L"):
            heel, mt2 = _static_mean(static_mm, (f"{s}.Heel.Bottom", f"{s}.MT2"))
            spans.append(float(np.hypot(mt2[0] - heel[0], mt2[2] - heel[2])))
        return float(np.mean(spans)) / MT2_MARKER_FRACTION_OF_FOOT_LENGTH

    def fit(
        self, static_mm: Mapping[str, np.ndarray], trial_mm: Mapping[str, np.ndarray]
    ) -> SoleLandmarks:
        """Define the points in ``static_mm`` and rebuild them in every frame of ``trial_mm``.

        Swapped foot-marker labels in the trial are corrected first (:func:`fix_label_swaps`).

        Raises
        ------
        MocapDataError
            If markers are missing, parameters are invalid, or the floor cannot be found.
        """
        if self.floor_y_mm is not None and not np.isfinite(self.floor_y_mm):
            raise MocapDataError(f"floor_y_mm must be a finite number, got {self.floor_y_mm!r}")
        if not 0.0 <= self.toe_fraction < 1.0:
            raise MocapDataError(f"toe_fraction must lie in [0, 1), got {self.toe_fraction!r}")
        if self.toe_model not in TOE_MODELS:
            raise MocapDataError(f"toe_model must be one of {TOE_MODELS}, got {self.toe_model!r}")
        trial_mm, _ = fix_label_swaps(static_mm, trial_mm)
        foot_length = self._foot_length(static_mm)
        toe_offset = self.toe_fraction * foot_length

        def rebuild(floor: float) -> tuple[dict, dict, dict, dict]:
            statics, points, rms, rows = {}, {}, {}, {}
            for s, side in (("R", "right"), ("L", "left")):
                static_pts = sole_landmarks_static(
                    static_mm, s, floor_y_mm=floor, toe_offset_mm=toe_offset
                )
                cluster = tuple(c.format(s=s) for c in SEGMENT_CLUSTERS["foot"])
                got, seg_rms = reconstruct_landmarks(static_mm, trial_mm, cluster, static_pts)
                statics[side] = static_pts
                rows[side] = got
                heel_row = [got[k] for k in ("heel", "heel_lateral", "heel_medial") if k in got]
                ball_row = [got[k] for k in ("ball", "ball_lateral", "ball_medial") if k in got]
                toe_row = [got[k] for k in ("toe", "toe_lateral", "toe_medial") if k in got]
                ball_low = lowest_point(ball_row)
                if self.toe_model == "bending":
                    tip = bend_toes(got["ball"], got["toe"], ball_low[:, 1])
                    toe_row = [p + (tip - got["toe"]) for p in toe_row]
                points[f"{side}_heel"] = lowest_point(heel_row, anchor=got["heel"])
                points[f"{side}_foot_index"] = lowest_point(toe_row, anchor=toe_row[0])
                points[f"{side}_ball"] = ball_low
                points[f"{side}_toe_rigid"] = got["toe"]
                rms[f"{s}.foot"] = seg_rms
            return statics, points, rms, rows

        statics, points, rms, rows = rebuild(0.0)
        levels = {
            side: stance_floor_level_mm(
                points[f"{side}_heel"][:, 1],
                points[f"{side}_ball"][:, 1],
                stance_share=self.stance_share,
            )
            for side in ("right", "left")
        }
        if self.floor_y_mm is None:
            found = [v for v in levels.values() if np.isfinite(v)]
            if not found:
                raise MocapDataError(
                    "cannot find the belt under the feet (no frame with both sole points); "
                    "give floor_y_mm (e.g. 0.0, the lab floor) instead"
                )
            floor, method = BELT_Y_MM - float(np.mean(found)), "running stance"
        else:
            floor, method = float(self.floor_y_mm), "given"
        if floor != 0.0:
            statics, points, rms, rows = rebuild(floor)
        self.foot_length_mm_ = foot_length
        self.toe_offset_mm_ = toe_offset
        self.floor_y_mm_ = floor
        self.floor_method_ = method
        self.stance_levels_mm_ = levels
        self.static_points_mm_ = statics
        self.points_mm_ = points
        self.sole_points_mm_ = rows
        self.fit_rms_mm_ = rms
        return self


def joint_centres_3d(
    static_mm: Mapping[str, np.ndarray],
    trial_mm: Mapping[str, np.ndarray],
    *,
    foot_points: str = "sole",
    sole: SoleLandmarks | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[str]]:
    """3-D lab positions of the posecoach keypoints for every trial frame.

    Swapped cluster labels are corrected first (:func:`fix_label_swaps`).

    Parameters
    ----------
    static_mm, trial_mm : mapping of str to ndarray
        Static calibration and running-trial markers (see :func:`read_markers`).
    foot_points : {"sole", "markers"}
        ``"sole"``: heel and foot_index are virtual sole landmarks (:class:`SoleLandmarks`);
        ``"markers"``: the ``Heel.Bottom`` marker and the rebuilt ``MT2`` marker.
    sole : SoleLandmarks, optional
        Estimator for ``foot_points="sole"``, fitted here in place (read its attributes
        afterwards for the floor height and toe offset used); default ``SoleLandmarks()``.

    Returns
    -------
    keypoints_mm : dict of str to ndarray, shape (n, 3)
        ``left_hip`` … ``right_foot_index`` (BlazePose names; see module docstring).
    fit_rms_mm : dict of str to ndarray, shape (n,)
        Rigid-fit residual per segment (``"pelvis"``, ``"R.thigh"``, ...).
    warnings : list of str
        Label corrections made and clusters that fit poorly (median residual > 10 mm).
    """
    if foot_points not in FOOT_POINTS:
        raise MocapDataError(f"foot_points must be 'sole' or 'markers', got {foot_points!r}")
    trial_mm, warnings = fix_label_swaps(static_mm, trial_mm)
    static_pelvis = {m: np.nanmean(static_mm[m], axis=0) for m in PELVIS_MARKERS if m in static_mm}
    hjc_r, hjc_l = bell_hip_joint_centres(static_pelvis)
    hips, pelvis_rms = reconstruct_landmarks(
        static_mm, trial_mm, PELVIS_TRACKING, {"right_hip": hjc_r, "left_hip": hjc_l}
    )
    out = dict(hips)
    rms = {"pelvis": pelvis_rms}
    for s, side in (("R", "right"), ("L", "left")):
        rebuilt = {}
        for segment, cluster in SEGMENT_CLUSTERS.items():
            names = tuple(c.format(s=s) for c in cluster)
            lms = tuple(lm.format(s=s) for lm in SEGMENT_LANDMARKS[segment])
            got, seg_rms = reconstruct_landmarks(static_mm, trial_mm, names, lms)
            rebuilt.update(got)
            rms[f"{s}.{segment}"] = seg_rms
        out[f"{side}_knee"] = (rebuilt[f"{s}.Knee"] + rebuilt[f"{s}.Knee.Medial"]) / 2.0
        out[f"{side}_ankle"] = (rebuilt[f"{s}.Ankle"] + rebuilt[f"{s}.Ankle.Medial"]) / 2.0
        out[f"{side}_heel"] = np.asarray(trial_mm[f"{s}.Heel.Bottom"], dtype=np.float64)
        out[f"{side}_foot_index"] = rebuilt[f"{s}.MT2"]
    if foot_points == "sole":
        sole = sole if sole is not None else SoleLandmarks()
        sole.fit(static_mm, trial_mm)
        for side in ("right", "left"):
            out[f"{side}_heel"] = sole.points_mm_[f"{side}_heel"]
            out[f"{side}_foot_index"] = sole.points_mm_[f"{side}_foot_index"]
    for segment, seg_rms in rms.items():
        median = float(np.nanmedian(seg_rms)) if np.isfinite(seg_rms).any() else float("nan")
        if not median <= 10.0:
            warnings.append(f"{segment} markers fit the static trial poorly ({median:.0f} mm)")
    return out, rms, warnings


# --------------------------------------------------------------------------------------------
# Projection to a pose dataset
# --------------------------------------------------------------------------------------------


def _subject_code(path: Path) -> str | None:
    m = re.search(r"RBDS\d{3}", path.name)
    return m.group(0) if m else None


def _speed_from_name(path: Path) -> float | None:
    m = re.search(r"run[T](\d{2})", path.name)
    return int(m.group(1)) / 10.0 if m else None


def static_foot_angle_deg(static_mm: Mapping[str, np.ndarray], side: str) -> float:
    """Sagittal angle of the heel -> foot_index line while standing, toe up positive.

    The keypoints are markers on the shoe (heel counter bottom, MT2 on the upper), so even a
    flat foot shows a positive angle; foot-strike angles are read relative to this standing
    value (Altman & Davis 2012, Gait Posture 35:298-300, calibrate against standing).

    Parameters
    ----------
    static_mm : mapping of str to ndarray
        Static trial markers.
    side : {"R", "L"}

    Returns
    -------
    float
        Degrees; NaN when the markers are missing.
    """
    heel, toe = f"{side}.Heel.Bottom", f"{side}.MT2"
    if heel not in static_mm or toe not in static_mm:
        return float("nan")
    h = np.nanmean(static_mm[heel], axis=0)
    t = np.nanmean(static_mm[toe], axis=0)
    return float(np.degrees(np.arctan2(t[1] - h[1], t[0] - h[0])))


def project_sagittal(
    points_mm: Mapping[str, np.ndarray],
    *,
    px_per_m: float,
    centre_x_mm: float,
    half_width_m: float,
    ground_row_px: int,
    mirror: bool,
) -> dict[str, np.ndarray]:
    """Orthographic projection of lab points onto the X-Y (sagittal) plane, in pixels.

    ``x_px = W/2 ± (X - centre_x) * px_per_m / 1000`` (``-`` when ``mirror``, i.e. viewed from
    the runner's left) and ``y_px = ground_row_px - (Y - BELT_Y_MM) * px_per_m / 1000`` (y down,
    belt surface on row ``ground_row_px``).

    Parameters
    ----------
    points_mm : mapping of str to ndarray (n, 3)
    px_per_m : float
    centre_x_mm : float
        Lab X shown at the image centre column.
    half_width_m : float
        Half the image width in metres.
    ground_row_px : int
        Image row of the treadmill belt surface.
    mirror : bool
        View from the runner's left side (lab +X to the image left) instead of the right.

    Returns
    -------
    dict of str to ndarray, shape (n, 2)
    """
    scale = px_per_m / 1000.0
    sign = -1.0 if mirror else 1.0
    centre_px = half_width_m * px_per_m
    out = {}
    for name, p in points_mm.items():
        x_px = centre_px + sign * (p[:, 0] - centre_x_mm) * scale
        y_px = ground_row_px - (p[:, 1] - BELT_Y_MM) * scale
        out[name] = np.stack([x_px, y_px], axis=-1)
    return out


def fukuchi_pose_dataset(
    markers_path: str | Path,
    static_path: str | Path,
    *,
    px_per_m: float = 500.0,
    facing: str | None = None,
    speed_mps: float | None = None,
    info_path: str | Path | None = None,
    foot_points: str = "sole",
    sole_floor_y_mm: float | None = None,
    toe_model: str = "rigid",
) -> xr.Dataset:
    """Turn a Fukuchi 2017 running trial into a posecoach pose dataset.

    The lab markers become joint centres (module docstring), are projected orthographically on
    the sagittal X-Y plane and scaled to pixels, y down, with the treadmill belt on a fixed image
    row (``attrs["ground_row_px"]``). Without mirroring the view is from the runner's right
    (lab +Z points to the camera), so the runner faces right; ``facing="left"`` mirrors x, which
    is exactly the orthographic view from the other side.

    Parameters
    ----------
    markers_path : str or Path
        ``*runT25markers.txt`` or ``*runT35.c3d``.
    static_path : str or Path
        ``*static.txt`` or ``*static.c3d`` (standing calibration with anatomical markers).
    px_per_m : float
        Image scale, pixels per metre.
    facing : {"left", "right"} or None
        Direction the runner should face in the image; None keeps the natural view (from the
        right side: facing right).
    speed_mps : float, optional
        Treadmill speed; default from the file name (``runT25`` -> 2.5 m/s).
    info_path : str or Path, optional
        ``RBDSinfo.txt``; default: the one beside ``markers_path``. When missing, height and
        foot-strike label are unknown (NaN / "") and ``attrs["warnings"]`` says so.
    foot_points : {"sole", "markers"}
        ``"sole"`` (default): heel and foot_index are virtual sole landmarks as BlazePose means
        them (:class:`SoleLandmarks`, foot length 0.152 x stature); ``"markers"``: the
        ``Heel.Bottom`` and ``MT2`` markers on the shoe (the earlier behaviour).
    sole_floor_y_mm : float or None
        Static floor height (lab Y, mm) for the sole landmarks; None finds it from the running
        stance (module docstring); ``0.0`` puts it at the belt plane (unloaded shoe).
    toe_model : {"rigid", "bending"}
        Toes of the sole landmarks (:class:`SoleLandmarks`, module docstring).

    Returns
    -------
    xarray.Dataset
        A valid pose dataset (:func:`posecoach.dataset.validate`). Attributes beyond the
        standard ones: ``setting="treadmill"``, ``speed_mps``, ``px_per_m``, ``facing``,
        ``ground_row_px`` (the belt surface), ``subject``, ``subject_height_m``,
        ``subject_mass_kg``, ``foot_strike_label`` (plus ``_right``/``_left``),
        ``static_foot_angle_deg_right`` / ``_left`` (the heel -> foot_index angle standing,
        toe up positive: 0 for the sole landmarks, +6.7..7.7 for the markers),
        ``foot_points``, with ``"sole"`` also ``sole_floor_y_mm``, ``sole_floor_method``,
        ``sole_stance_level_mm_right`` / ``_left`` (belt under the loaded sole with the static
        floor at Y = 0), ``foot_length_mm``, ``toe_offset_mm``, ``toe_model``;
        ``keypoint_sources``,
        ``notes``, ``warnings`` (e.g. corrected marker label swaps).

    Raises
    ------
    MocapDataError
        If files are missing or malformed, or the arguments are invalid.
    """
    markers_path, static_path = Path(markers_path), Path(static_path)
    if facing not in (None, "left", "right"):
        raise MocapDataError(f"facing must be 'left', 'right' or None, got {facing!r}")
    if not (np.isfinite(px_per_m) and px_per_m > 0):
        raise MocapDataError(f"px_per_m must be a positive number, got {px_per_m!r}")
    if speed_mps is None:
        speed_mps = _speed_from_name(markers_path)
        if speed_mps is None:
            raise MocapDataError(
                f"cannot tell the treadmill speed from the name {markers_path.name}; "
                "pass speed_mps=..."
            )
    if foot_points not in FOOT_POINTS:
        raise MocapDataError(f"foot_points must be 'sole' or 'markers', got {foot_points!r}")
    time_s, trial = read_markers(markers_path)
    _, static = read_markers(static_path)
    fps = float(round(1.0 / np.median(np.diff(time_s)), 6))

    warnings: list[str] = []
    subject = _subject_code(markers_path) or ""
    info_file = Path(info_path) if info_path is not None else markers_path.parent / "RBDSinfo.txt"
    height_m, mass_kg = float("nan"), float("nan")
    strike_r = strike_l = ""
    if subject and info_file.is_file():
        info = read_subject_info(info_file, subject)
        height_m, mass_kg = info["height_m"], info["mass_kg"]
        key = f"{int(round(speed_mps * 10)):02d}"
        strike_r = info["foot_strike"].get("R" + key, "")
        strike_l = info["foot_strike"].get("L" + key, "")
    else:
        warnings.append(f"subject metadata not found ({info_file}): height and strike unknown")
    if strike_r == strike_l:
        strike = strike_r
    else:
        strike = f"right: {strike_r}; left: {strike_l}"

    foot_length_mm = FOOT_LENGTH_PER_HEIGHT * height_m * 1000.0 if np.isfinite(height_m) else None
    sole = SoleLandmarks(
        foot_length_mm=foot_length_mm, floor_y_mm=sole_floor_y_mm, toe_model=toe_model
    )
    points_mm, _, fit_warnings = joint_centres_3d(static, trial, foot_points=foot_points, sole=sole)
    warnings = fit_warnings + warnings

    # image geometry: belt on a fixed row, room for a standing subject above it
    body_m = height_m if np.isfinite(height_m) else 2.0
    ground_row_px = int(round((body_m + 0.25) * px_per_m))
    height_px = ground_row_px + int(round(0.1 * px_per_m))
    hip_x = np.concatenate([points_mm["right_hip"][:, 0], points_mm["left_hip"][:, 0]])
    centre_x_mm = float(np.nanmedian(hip_x))
    all_x = np.concatenate([p[:, 0] for p in points_mm.values()])
    reach_m = float(np.nanmax(np.abs(all_x - centre_x_mm))) / 1000.0
    half_width_m = max(1.2, reach_m + 0.1)
    width_px = int(round(2 * half_width_m * px_per_m))

    def _facing(mirror: bool) -> str:
        pelvis = {m: trial[m] for m in ("R.ASIS", "L.ASIS", "R.PSIS", "L.PSIS")}
        proj = project_sagittal(
            pelvis,
            px_per_m=px_per_m,
            centre_x_mm=centre_x_mm,
            half_width_m=half_width_m,
            ground_row_px=ground_row_px,
            mirror=mirror,
        )
        ahead = np.nanmedian(
            (proj["R.ASIS"][:, 0] + proj["L.ASIS"][:, 0])
            - (proj["R.PSIS"][:, 0] + proj["L.PSIS"][:, 0])
        )
        return "right" if ahead > 0 else "left"

    mirror = facing is not None and _facing(False) != facing
    projected = project_sagittal(
        points_mm,
        px_per_m=px_per_m,
        centre_x_mm=centre_x_mm,
        half_width_m=half_width_m,
        ground_row_px=ground_row_px,
        mirror=mirror,
    )
    facing_found = _facing(mirror)

    foot_attrs: dict[str, Any] = {"foot_points": foot_points}
    if foot_points == "sole":
        static_angles = []
        for side in ("right", "left"):
            pts = sole.static_points_mm_[side]
            rise, run = pts["toe"][1] - pts["heel"][1], pts["toe"][0] - pts["heel"][0]
            static_angles.append(float(np.degrees(np.arctan2(rise, run))))
        foot_attrs.update(
            {
                "sole_floor_y_mm": float(sole.floor_y_mm_),
                "sole_floor_method": sole.floor_method_,
                "sole_stance_level_mm_right": float(sole.stance_levels_mm_["right"]),
                "sole_stance_level_mm_left": float(sole.stance_levels_mm_["left"]),
                "foot_length_mm": float(sole.foot_length_mm_),
                "toe_offset_mm": float(sole.toe_offset_mm_),
                "toe_model": sole.toe_model,
            }
        )
        sources = SOLE_KEYPOINT_SOURCES
        foot_note = (
            "heel/foot_index: virtual sole landmarks rigid with the foot markers, defined in the "
            f"static trial on a floor at Y = {sole.floor_y_mm_:.1f} mm ({sole.floor_method_}); "
            f"toe tip {sole.toe_offset_mm_:.0f} mm ahead of the MT2 head "
            f"(foot length {sole.foot_length_mm_:.0f} mm); heights from the lowest point across "
            "the sole; "
            + (
                "rigid toes dip below the belt in push-off"
                if sole.toe_model == "rigid"
                else "toes bend at the metatarsal heads (lift with them in push-off)"
            )
        )
    else:
        static_angles = [static_foot_angle_deg(static, s) for s in ("R", "L")]
        sources = KEYPOINT_SOURCES
        foot_note = "heel/foot_index: Heel.Bottom and MT2 markers on the shoe, not at the sole"

    names = dataset.BLAZEPOSE_KEYPOINTS
    position = np.full((time_s.size, len(names), 2), np.nan)
    for name, xy in projected.items():
        position[:, names.index(name)] = xy
    known = np.isfinite(position).all(axis=-1)
    position[~known] = np.nan
    confidence = np.where(known, 1.0, np.nan)
    attrs = {
        "source_file": str(markers_path),
        "static_file": str(static_path),
        "model": "fukuchi2017-markers",
        "setting": "treadmill",
        "speed_mps": float(speed_mps),
        "px_per_m": float(px_per_m),
        "facing": facing_found,
        "ground_row_px": int(ground_row_px),
        "subject": subject,
        "subject_height_m": float(height_m),
        "subject_mass_kg": float(mass_kg),
        "foot_strike_label": strike,
        "foot_strike_label_right": strike_r,
        "foot_strike_label_left": strike_l,
        "static_foot_angle_deg_right": static_angles[0],
        "static_foot_angle_deg_left": static_angles[1],
        **foot_attrs,
        "keypoint_sources": list(sources),
        "notes": [
            UPPER_BODY_NOTE,
            foot_note,
            "orthographic projection of lab X (antero-posterior) and Y (vertical); "
            f"{'viewed from the left side' if mirror else 'viewed from the right side'}",
            "data: Fukuchi, Fukuchi & Duarte 2017, PeerJ 5:e3298, CC BY 4.0",
        ],
        "warnings": warnings,
    }
    return dataset.from_arrays(
        position,
        confidence,
        time_s,
        fps=fps,
        image_width_px=width_px,
        image_height_px=height_px,
        source_software="fukuchi2017-mocap",
        attrs=attrs,
    )


# --------------------------------------------------------------------------------------------
# Force-plate events
# --------------------------------------------------------------------------------------------


def contact_intervals(
    time_s: np.ndarray,
    grf_N: np.ndarray,
    threshold_N: float,
    *,
    min_contact_ms: float = 50.0,
    min_gap_ms: float = 20.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Contact intervals where the vertical force exceeds a threshold.

    Initial contact and toe-off are the upward and downward crossings of the threshold, linearly
    interpolated between samples (the usual force-plate definition of gait events, e.g.
    Milner & Paquette 2015, Gait Posture 41:1011-1014, use 20-50 N). Crossings separated by a
    dip shorter than ``min_gap_ms`` (noise around the threshold near contact onset or end) are
    merged, and intervals shorter than ``min_contact_ms`` (spikes in flight) dropped.

    Parameters
    ----------
    time_s, grf_N : ndarray, shape (n,)
        Sample times (s) and vertical ground reaction force (N).
    threshold_N : float
        Force threshold (N).
    min_contact_ms, min_gap_ms : float
        Shortest contact kept, shortest flight kept (ms).

    Returns
    -------
    start_s, end_s : ndarray, shape (k,)
        Start (initial contact) and end (toe-off) of each contact, s.
    start_seen, end_seen : ndarray of bool, shape (k,)
        False where the contact began before the first sample or ended after the last (the
        event itself was not recorded).
    """
    t = np.asarray(time_s, dtype=np.float64)
    f = np.asarray(grf_N, dtype=np.float64)
    if t.shape != f.shape or t.ndim != 1 or t.size < 2:
        raise MocapDataError("time_s and grf_N must be 1-D arrays of the same length (>= 2)")
    f = np.where(np.isfinite(f), f, 0.0)
    on = f > threshold_N
    edges = np.diff(on.astype(np.int8))
    ups = np.flatnonzero(edges == 1) + 1  # first sample above
    downs = np.flatnonzero(edges == -1) + 1  # first sample at or below

    def _cross(i: np.ndarray) -> np.ndarray:
        f0, f1 = f[i - 1], f[i]
        frac = (threshold_N - f0) / (f1 - f0)
        return t[i - 1] + frac * (t[i] - t[i - 1])

    starts = list(_cross(ups))
    ends = list(_cross(downs))
    start_seen = [True] * len(starts)
    end_seen = [True] * len(ends)
    if on[0]:
        starts.insert(0, t[0])
        start_seen.insert(0, False)
    if on[-1]:
        ends.append(t[-1])
        end_seen.append(False)
    intervals = [
        [s, e, ss, es] for s, e, ss, es in zip(starts, ends, start_seen, end_seen, strict=True)
    ]
    merged: list[list[Any]] = []
    for iv in intervals:
        if merged and (iv[0] - merged[-1][1]) * 1000.0 < min_gap_ms:
            merged[-1][1], merged[-1][3] = iv[1], iv[3]
        else:
            merged.append(iv)
    # a contact cut by the start or end of the recording may be short and still real
    kept = [
        iv for iv in merged if (iv[1] - iv[0]) * 1000.0 >= min_contact_ms or not (iv[2] and iv[3])
    ]
    if not kept:
        empty = np.array([], dtype=np.float64)
        return empty, empty, np.array([], dtype=bool), np.array([], dtype=bool)
    arr = np.array([[iv[0], iv[1]] for iv in kept], dtype=np.float64)
    seen = np.array([[iv[2], iv[3]] for iv in kept], dtype=bool)
    return arr[:, 0], arr[:, 1], seen[:, 0], seen[:, 1]


def _foot_low_y_px(ds: xr.Dataset, side: str) -> np.ndarray:
    """Image row of the lowest point of one foot per frame (y down: larger = lower)."""
    heel = ds["position"].sel(keypoint=f"{side}_heel", space="y").values
    toe = ds["position"].sel(keypoint=f"{side}_foot_index", space="y").values
    return np.fmax(heel, toe)


def assign_sides(start_s: np.ndarray, end_s: np.ndarray, ds: xr.Dataset | None) -> list[str]:
    """Which foot is on the single treadmill plate during each contact.

    In running only one foot touches the belt at a time; the foot whose lowest point (heel or
    foot_index) is lower in the image, on average over the contact, is the one on the plate.

    Parameters
    ----------
    start_s, end_s : ndarray, shape (k,)
        Contact intervals (s).
    ds : xarray.Dataset or None
        Pose dataset on the same clock; None gives ``"unknown"`` for every contact.

    Returns
    -------
    list of str
        ``"left"``, ``"right"`` or ``"unknown"`` per contact.
    """
    if ds is None:
        return ["unknown"] * len(start_s)
    t = ds["time"].values
    low_r, low_l = _foot_low_y_px(ds, "right"), _foot_low_y_px(ds, "left")
    sides = []
    for s, e in zip(start_s, end_s, strict=True):
        inside = (t >= s) & (t <= e)
        if not inside.any():
            inside = np.abs(t - (s + e) / 2.0) == np.min(np.abs(t - (s + e) / 2.0))
        r, lft = low_r[inside], low_l[inside]
        both = np.isfinite(r) & np.isfinite(lft)
        if not both.any():
            sides.append("unknown")
            continue
        diff = float(np.mean(r[both] - lft[both]))
        sides.append("right" if diff > 0 else "left" if diff < 0 else "unknown")
    return sides


class ForceEventDetector:
    """Initial contact and toe-off from a treadmill's vertical ground reaction force.

    Parameters
    ----------
    threshold_N : float or None
        Absolute force threshold (N); default 50 N.
    threshold_fraction : float or None
        Threshold as a fraction of the peak force (e.g. 0.05); overrides ``threshold_N`` when
        given (useful when the absolute force scale is uncertain).
    min_contact_ms, min_gap_ms : float
        See :func:`contact_intervals`.

    Attributes
    ----------
    threshold_N_ : float
        Threshold actually used (N).
    events_ : pandas.DataFrame
        Columns ``kind`` (``"initial_contact"``/``"toe_off"``), ``time_s``, ``side``
        (``"left"``/``"right"``; ``"unknown"`` without a pose dataset), sorted by time. Events
        outside the recording (a contact already under way at the start) are not listed.
    """

    def __init__(
        self,
        threshold_N: float | None = 50.0,
        threshold_fraction: float | None = None,
        *,
        min_contact_ms: float = 50.0,
        min_gap_ms: float = 20.0,
    ) -> None:
        self.threshold_N = threshold_N
        self.threshold_fraction = threshold_fraction
        self.min_contact_ms = min_contact_ms
        self.min_gap_ms = min_gap_ms

    def detect(
        self, time_s: np.ndarray, grf_N: np.ndarray, ds: xr.Dataset | None = None
    ) -> ForceEventDetector:
        """Find the events; ``ds`` (pose dataset on the same clock) gives each contact's side."""
        grf = np.asarray(grf_N, dtype=np.float64)
        if self.threshold_fraction is not None:
            if not 0 < self.threshold_fraction < 1:
                raise MocapDataError(
                    f"threshold_fraction must lie in (0, 1), got {self.threshold_fraction!r}"
                )
            threshold = float(self.threshold_fraction * np.nanmax(grf))
        elif self.threshold_N is not None and np.isfinite(self.threshold_N):
            threshold = float(self.threshold_N)
        else:
            raise MocapDataError("give threshold_N (newtons) or threshold_fraction (of the peak)")
        start, end, start_seen, end_seen = contact_intervals(
            time_s, grf, threshold, min_contact_ms=self.min_contact_ms, min_gap_ms=self.min_gap_ms
        )
        sides = assign_sides(start, end, ds)
        rows = []
        for s, e, ss, es, side in zip(start, end, start_seen, end_seen, sides, strict=True):
            if ss:
                rows.append(("initial_contact", float(s), side))
            if es:
                rows.append(("toe_off", float(e), side))
        events = pd.DataFrame(rows, columns=["kind", "time_s", "side"])
        self.threshold_N_ = threshold
        self.events_ = events.sort_values("time_s", kind="stable").reset_index(drop=True)
        return self


def force_events(
    time_s: np.ndarray,
    grf_N: np.ndarray,
    *,
    threshold_N: float | None = 50.0,
    threshold_fraction: float | None = None,
    ds: xr.Dataset | None = None,
) -> pd.DataFrame:
    """Gait events from vertical GRF (see :class:`ForceEventDetector`).

    Parameters
    ----------
    time_s, grf_N : ndarray, shape (n,)
        Force sample times (s) and vertical force (N).
    threshold_N, threshold_fraction : float or None
        Absolute threshold (N) or fraction of peak (overrides ``threshold_N``).
    ds : xarray.Dataset, optional
        Pose dataset on the same clock, to tell which foot is on the plate.

    Returns
    -------
    pandas.DataFrame
        Columns ``kind``, ``time_s``, ``side``.
    """
    detector = ForceEventDetector(threshold_N, threshold_fraction)
    return detector.detect(time_s, grf_N, ds).events_


def fukuchi_trial(
    markers_path: str | Path,
    forces_path: str | Path | None,
    static_path: str | Path,
    speed_mps: float,
    *,
    px_per_m: float = 500.0,
    facing: str | None = None,
    threshold_N: float | None = 50.0,
    threshold_fraction: float | None = None,
    foot_points: str = "sole",
    sole_floor_y_mm: float | None = None,
    toe_model: str = "rigid",
) -> tuple[xr.Dataset, pd.DataFrame]:
    """Load one Fukuchi 2017 trial as a pose dataset plus force-plate gait events.

    Parameters
    ----------
    markers_path : str or Path
        Marker file (``.txt`` or ``.c3d``).
    forces_path : str or Path or None
        Force file; None to read the force plate from ``markers_path`` (C3D).
    static_path : str or Path
        Static calibration trial.
    speed_mps : float
        Treadmill speed (m/s).
    px_per_m, facing, foot_points, sole_floor_y_mm, toe_model
        See :func:`fukuchi_pose_dataset`.
    threshold_N, threshold_fraction
        See :class:`ForceEventDetector`.

    Returns
    -------
    ds : xarray.Dataset
        Pose dataset (attrs also hold ``forces_file`` and ``force_threshold_N``).
    truth_events : pandas.DataFrame
        Columns ``kind``, ``time_s``, ``side``.
    """
    ds = fukuchi_pose_dataset(
        markers_path,
        static_path,
        px_per_m=px_per_m,
        facing=facing,
        speed_mps=speed_mps,
        foot_points=foot_points,
        sole_floor_y_mm=sole_floor_y_mm,
        toe_model=toe_model,
    )
    source = Path(forces_path) if forces_path is not None else Path(markers_path)
    if forces_path is None and source.suffix.lower() != ".c3d":
        raise MocapDataError(
            f"{source.name} holds no forces; give the forces file (e.g. *forces.txt)"
        )
    time_s, grf = read_forces(source)
    detector = ForceEventDetector(threshold_N, threshold_fraction).detect(time_s, grf, ds)
    ds.attrs["forces_file"] = str(source)
    ds.attrs["force_threshold_N"] = float(detector.threshold_N_)
    return ds, detector.events_


def truth_summary(events: pd.DataFrame) -> dict[str, float]:
    """Cadence, ground contact and flight time from a gait event table.

    Parameters
    ----------
    events : pandas.DataFrame
        Columns ``kind`` and ``time_s`` (as from :func:`force_events`).

    Returns
    -------
    dict
        ``n_initial_contacts``, ``n_contacts`` (complete IC -> TO pairs), ``cadence_spm``
        (60 / median step time, step = IC to the next IC of either foot), ``step_time_ms``
        (median), ``ground_contact_ms`` (median IC -> TO), ``flight_ms`` (median TO -> next IC);
        NaN where there are too few events.
    """
    if not {"kind", "time_s"} <= set(events.columns):
        raise MocapDataError("events need 'kind' and 'time_s' columns")
    ev = events.sort_values("time_s", kind="stable")
    kinds = ev["kind"].to_numpy()
    times = ev["time_s"].to_numpy(dtype=np.float64)
    ic = times[kinds == "initial_contact"]
    contact = [
        b - a
        for k0, k1, a, b in zip(kinds[:-1], kinds[1:], times[:-1], times[1:], strict=True)
        if k0 == "initial_contact" and k1 == "toe_off"
    ]
    flight = [
        b - a
        for k0, k1, a, b in zip(kinds[:-1], kinds[1:], times[:-1], times[1:], strict=True)
        if k0 == "toe_off" and k1 == "initial_contact"
    ]
    step = np.diff(ic)
    step_ms = float(np.median(step) * 1000.0) if step.size else float("nan")
    return {
        "n_initial_contacts": float(ic.size),
        "n_contacts": float(len(contact)),
        "cadence_spm": 60000.0 / step_ms if step.size else float("nan"),
        "step_time_ms": step_ms,
        "ground_contact_ms": float(np.median(contact) * 1000.0) if contact else float("nan"),
        "flight_ms": float(np.median(flight) * 1000.0) if flight else float("nan"),
    }
