"""Checks on the footage and the gait that protect every time-based number.

- :func:`duplicate_pictures`: clips re-timed from a lower frame rate show each
  picture two (or more) times; the *effective* frame rate is then lower than the
  container's, and events can only be placed to within one picture.
- :func:`playback_sections`: phone "slo-mo" exports switch between real time and slow
  motion inside one clip. The runner's step time jumps by the slow-motion factor
  although nobody runs like that; such sections are found and their steps excluded
  from time-based summaries. Missed contacts make steps long too; the pelvis's bounce
  (:func:`bounce_period_s`) tells the two apart: it slows down only in slow motion.
- :func:`plausible_running_cadence`: a whole clip in slow motion shows a running
  pattern (flight phases) at a cadence no runner has.
- :func:`flight_fits_bounce`: in the air the body flies ballistically, so a flight time
  implies a rise and fall that the pelvis's measured bounce must hold; flights far too
  long for the bounce mean contacts were missed (or time runs slow).
- :func:`overlapping_steps`: a runner is never on both feet at once; a contact that is
  still on the ground well after the other foot lands is a lost foot (or a walking step).
- :func:`timing_problem`: the one verdict on whether a clip's times can be trusted, read
  by the pipeline's warnings, the assessment's time-based rules and the report's headline
  numbers, so the three always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal

from posecoach._arrays import finite_or_none

#: Cadence band of real running, steps/min (jogging ~140 to sprinting ~300).
RUNNING_CADENCE_MIN_SPM = 120.0
RUNNING_CADENCE_MAX_SPM = 320.0
#: Standard gravity (m/s^2).
G_MPS2 = 9.81
#: Largest plausible ratio of the flight's ballistic rise (g T^2 / 8) to the pelvis's
#: measured vertical oscillation. Physics gives at most 1 (the pelvis also sinks in stance);
#: the margin covers a guessed body height (the centimetre scale) and the pelvis not being
#: the centre of mass. Measured: 0.07-0.6 on the synthetic runners, the treadmill sprint
#: (whole and cut short) and the treadmill lesson; 1.4 and 2.0 on the overground and
#: panning clips, whose cadence (70, 114 steps/min) already marks them as not real time;
#: 2.6 on the cut sprint while every second contact of one foot was missed (cde2796).
FLIGHT_BOUNCE_MAX_RATIO = 1.5
#: A step time this many times the clip's shortest section is a change of playback speed.
PLAYBACK_JUMP_FACTOR = 1.8
#: How far below zero (in pictures) a flight may read before the step's contacts overlap:
#: the toe-off and the other foot's contact are each placed to about one picture, so a
#: true flight of zero can read -2 pictures. Measured: every step of the synthetic runners
#: (30-120 fps, with noise, drops and swaps; shortest flight 59 ms), the treadmill sprint
#: (27 steps, shortest 86 ms), the overground (3, 362 ms) and panning (5, 53 ms) clips is
#: above it; the portrait clip has one step at -993 ms (a 1.7 s "contact"), the treadmill
#: lesson four of 31 at -91 to -664 ms (and four within a picture of zero).
OVERLAP_TOLERANCE_PICTURES = 2.0


@dataclass
class DuplicateReport:
    """Result of :func:`duplicate_pictures`."""

    share: float  # share of frames that repeat the previous picture
    effective_fps: float
    repeat: int  # typical number of times each picture is shown (1 = no duplicates)


def duplicate_pictures(frame_diff: np.ndarray, fps: float, *, ratio: float = 0.3) -> DuplicateReport:
    """Find frames that repeat the previous picture.

    A frame is a repeat when its difference to the previous frame is below ``ratio``
    times the larger of its neighbours' differences (a still scene has no such dip,
    so a paused runner is not counted).

    Parameters
    ----------
    frame_diff : ndarray
        Mean absolute grey difference to the previous frame, per frame.
    fps : float
        Container frame rate.
    """
    d = np.asarray(frame_diff, dtype=float)
    if d.size < 5 or not np.isfinite(d).any():
        return DuplicateReport(0.0, fps, 1)
    dup = np.zeros(d.size, dtype=bool)
    for i in range(1, d.size - 1):
        both = [d[i - 1] if i > 1 else np.nan, d[i + 1]]
        nb = max((x for x in both if np.isfinite(x)), default=np.nan)  # NaN: frame not delivered
        if np.isfinite(d[i]) and np.isfinite(nb) and nb > 0.2 and d[i] < ratio * nb:
            dup[i] = True
    share = float(dup[1:].mean())
    if share < 0.2:
        return DuplicateReport(share, fps, 1)
    repeat = int(round(1.0 / max(1e-6, 1.0 - share)))
    return DuplicateReport(share, fps * (1.0 - share), max(repeat, 2))


#: What a stretch of steps is (``PlaybackSection.kind``).
SECTION_KINDS = {
    "real_time": "its steps are as long as those of the fastest section",
    "slow_motion": "its steps and the pelvis's bounce are slower than in the fastest section: "
                   "the clip plays slower there",
    "missed_contacts": "its steps are longer than in the fastest section, but the pelvis bounces "
                       "at that section's rate: contacts were missed there",
}
#: Autocorrelation the pelvis's bounce must reach, and rise by above its neighbouring
#: dips, to count. Measured: 0.47 and 0.57 on the treadmill lesson (where the contacts
#: are found, and where every second one is missed), 0.67 on the overground clip's slow
#: motion; the treadmill sprint's bounce (0.25 at most, a spotter beside the runner) and
#: the panning clip's are not clear, so their sections keep the step times' reading.
BOUNCE_MIN_CORRELATION = 0.3


@dataclass
class PlaybackSection:
    """A stretch of steps played at one speed.

    ``kind`` is one of :data:`SECTION_KINDS`; ``bounce_period_ms`` the pelvis's bounce
    period there (:func:`bounce_period_s`), None when it was not measured or not clear.
    """

    first_frame: int
    last_frame: int
    median_step_ms: float
    slow_factor: float  # step time relative to the fastest section (1 = that speed)
    kind: str = "real_time"
    bounce_period_ms: float | None = None

    def holds(self, ic_frames: np.ndarray) -> np.ndarray:
        """Which of the steps (by their IC frame) lie in this section."""
        ic_frames = np.asarray(ic_frames)
        return (ic_frames >= self.first_frame) & (ic_frames <= self.last_frame)

    @property
    def usual_step_ms(self) -> float:
        """The runner's step time here, in the clip's time: the median step, or, where
        contacts were missed, the fastest section's (the one the bounce keeps).
        """
        if self.kind == "missed_contacts":
            return self.median_step_ms / self.slow_factor
        return self.median_step_ms

    def to_dict(self) -> dict:
        return {
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "median_step_ms": self.median_step_ms,
            "slow_factor": self.slow_factor,
            "kind": self.kind,
            "bounce_period_ms": self.bounce_period_ms,
        }


def bounce_period_s(t: np.ndarray, height: np.ndarray, *, min_s: float,
                    max_s: float) -> float | None:
    """The pelvis's bounce period: the first clear peak of its height's autocorrelation.

    The pelvis rises and falls once per step (Cavagna, Saibene & Margaria 1964), so the
    period is the step time in the clip's own time, whatever contacts were found. The
    autocorrelation, which Moe-Nilssen & Helbostad (2004) use on trunk signals for step
    regularity, is normalised by the overlap at each lag; its first peak from ``min_s``
    to ``max_s`` reaching :data:`BOUNCE_MIN_CORRELATION`, with as much prominence, is
    the period (placed between samples by the parabola through the peak and its
    neighbours).

    Parameters
    ----------
    t : numpy.ndarray
        Times (s), increasing.
    height : numpy.ndarray
        The pelvis's height (any unit); NaN where unknown.
    min_s, max_s : float
        The periods searched (s).

    Returns
    -------
    float or None
        None when a fifth of the samples are missing or no peak is clear enough.

    References
    ----------
    Cavagna, G. A., Saibene, F. P., & Margaria, R. (1964). Mechanical work in running.
    J Appl Physiol 19, 249-256.
    Moe-Nilssen, R., & Helbostad, J. L. (2004). Estimation of gait cycle characteristics
    by trunk accelerometry. J Biomech 37, 121-126.
    """
    t, y = np.asarray(t, dtype=float), np.asarray(height, dtype=float)
    ok = np.isfinite(y) & np.isfinite(t)
    if len(y) < 8 or ok.sum() < 0.8 * len(y):
        return None
    y = signal.detrend(np.interp(t, t[ok], y[ok]))
    dt = float(np.median(np.diff(t)))
    n = len(y)
    hi = min(int(np.ceil(max_s / dt)), n // 2)
    if hi < 2 or not np.any(y):
        return None
    ac = np.correlate(y, y, "full")[n - 1 : n + hi] / (n - np.arange(hi + 1))
    ac = ac / ac[0]
    peaks, _ = signal.find_peaks(ac, height=BOUNCE_MIN_CORRELATION,
                                 prominence=BOUNCE_MIN_CORRELATION)
    peaks = peaks[peaks * dt >= min_s]
    if not peaks.size:
        return None
    k = int(peaks[0])
    if k + 1 >= len(ac):
        return k * dt
    # the peak between samples: the vertex of the parabola through it and its neighbours
    a, b, c = ac[k - 1], ac[k], ac[k + 1]
    return float((k + 0.5 * (a - c) / (a - 2 * b + c)) * dt)


def _read_bounce(section: PlaybackSection, fastest_step_ms: float, t: np.ndarray,
                 frames: np.ndarray, height: np.ndarray) -> PlaybackSection:
    """``section`` with its bounce period, and, when its steps are slow, its kind.

    A slow section whose pelvis bounces faster than the geometric middle of the fastest
    section's step time and its own is ``missed_contacts``: in slow motion the bounce
    slows with the steps, with contacts missed it does not. Without a clear bounce the
    step times decide.
    """
    fast_s, own_s = fastest_step_ms / 1000.0, section.median_step_ms / 1000.0
    # from the section's first contact to the end of its last step
    last = min(int(np.searchsorted(frames, section.last_frame)), len(t) - 1)
    t_end = t[last] + own_s
    inside = (frames >= section.first_frame) & (t <= t_end)
    period = bounce_period_s(t[inside], height[inside], min_s=0.5 * fast_s, max_s=1.5 * own_s)
    kind = section.kind
    if kind == "slow_motion" and period is not None and period < np.sqrt(fast_s * own_s):
        kind = "missed_contacts"
    return PlaybackSection(section.first_frame, section.last_frame, section.median_step_ms,
                           section.slow_factor, kind,
                           None if period is None else 1000.0 * period)


def playback_sections(steps: pd.DataFrame, *, t: np.ndarray | None = None,
                      frames: np.ndarray | None = None,
                      pelvis_height: np.ndarray | None = None) -> list[PlaybackSection]:
    """Split the steps into sections of constant playback speed.

    Consecutive steps stay in one section while their step times agree within
    :data:`PLAYBACK_JUMP_FACTOR`; a section's speed is its median step time.
    Single outlying steps (a missed contact) do not open a section. A section
    :data:`PLAYBACK_JUMP_FACTOR` times slower than the fastest is ``slow_motion``,
    unless the pelvis (when given) bounces at the fastest section's rate there
    (``missed_contacts``, see :func:`bounce_period_s`).

    Parameters
    ----------
    steps : pandas.DataFrame
        ``StepMetrics.steps_`` (``step_time_ms``, ``ic_time_s``, ``ic_frame``).
    t, frames, pelvis_height : numpy.ndarray, optional
        Per frame of the clip: time (s), frame number, and the pelvis's height.
    """
    if steps.empty or "step_time_ms" not in steps:
        return []
    s = steps.dropna(subset=["step_time_ms"]).sort_values("ic_time_s")
    if len(s) < 3:
        return []
    st = s["step_time_ms"].to_numpy(float)
    ic_frames = s["ic_frame"].to_numpy(int)
    # smooth over three steps so one odd step does not split a section
    med = np.array([np.median(st[max(0, i - 1) : i + 2]) for i in range(len(st))])
    groups: list[list[int]] = [[0]]
    for i in range(1, len(st)):
        ref = np.median(med[groups[-1]])
        if max(med[i], ref) / max(min(med[i], ref), 1e-9) > PLAYBACK_JUMP_FACTOR:
            groups.append([i])
        else:
            groups[-1].append(i)
    fastest = min(float(np.median(st[g])) for g in groups)
    sections = []
    for g in groups:
        slow_factor = float(np.median(st[g]) / fastest)
        sections.append(PlaybackSection(
            first_frame=int(ic_frames[g[0]]),
            last_frame=int(ic_frames[g[-1]]),
            median_step_ms=float(np.median(st[g])),
            slow_factor=slow_factor,
            kind="slow_motion" if slow_factor > PLAYBACK_JUMP_FACTOR else "real_time",
        ))
    if t is None or frames is None or pelvis_height is None:
        return sections
    return [_read_bounce(x, fastest, np.asarray(t, dtype=float), np.asarray(frames),
                         np.asarray(pelvis_height, dtype=float)) for x in sections]


#: A step longer than this many times its playback section's median step spans a contact
#: the analysis missed (a missed pair of contacts makes one "step" of about three).
STEP_GAP_FACTOR = PLAYBACK_JUMP_FACTOR


def steps_over_missed_contacts(steps: pd.DataFrame, sections: list[PlaybackSection], *,
                               factor: float = STEP_GAP_FACTOR) -> np.ndarray:
    """Steps whose step time spans a contact the analysis missed.

    A step counts only to the other foot's next contact (``posecoach.metrics``), so one
    missed contact already ends no step; but where a contact of each foot is missed the
    next contact is the other foot's again, three steps later. Such a step is ``factor``
    times or more as long as the usual step of its playback section
    (:attr:`PlaybackSection.usual_step_ms`: in a slow-motion section its steps are long
    too; where contacts were missed, the fastest section's step).
    """
    out = np.zeros(len(steps), dtype=bool)
    if steps.empty or "step_time_ms" not in steps or not sections:
        return out
    st = steps["step_time_ms"].to_numpy(dtype=float)
    frames = steps["ic_frame"].to_numpy()
    for x in sections:
        with np.errstate(invalid="ignore"):
            out |= x.holds(frames) & (st >= factor * x.usual_step_ms)
    return out


def plausible_running_cadence(cadence_spm: float | None) -> bool:
    """Whether a cadence (with a flight phase) is one a runner can have in real time."""
    return cadence_spm is None or not np.isfinite(cadence_spm) or (
        RUNNING_CADENCE_MIN_SPM <= cadence_spm <= RUNNING_CADENCE_MAX_SPM
    )


def flight_rise_cm(flight_ms: float) -> float:
    """How far the body rises (and falls) in a flight of ``flight_ms``: ``g T^2 / 8``.

    In the air the centre of mass moves ballistically (Cavagna, Saibene & Margaria 1964,
    J Appl Physiol 19:249-256): from take-off to landing at the same height it rises
    ``g (T/2)^2 / 2``.
    """
    return float(100.0 * G_MPS2 * (flight_ms / 1000.0) ** 2 / 8.0)


def flight_fits_bounce(flight_ms: float | None, vertical_oscillation_cm: float | None, *,
                       max_ratio: float = FLIGHT_BOUNCE_MAX_RATIO) -> bool:
    """Whether the median flight time fits the pelvis's measured bounce.

    The pelvis rises and falls at least as far as the body flies (:func:`flight_rise_cm`;
    it also sinks in stance). A flight whose rise is ``max_ratio`` times the measured
    vertical oscillation or more cannot be real-time running: the "flight" holds contacts
    the detector missed (every second contact of a foot lost halves the cadence and turns
    a step into a flight), or the clip plays slower than it was filmed. Unknown values pass.
    """
    if flight_ms is None or vertical_oscillation_cm is None:
        return True
    f, vo = float(flight_ms), float(vertical_oscillation_cm)
    if not (np.isfinite(f) and np.isfinite(vo)) or f <= 0 or vo <= 0:
        return True
    return flight_rise_cm(f) < max_ratio * vo


def flight_bounce_message(flight_ms: float, vertical_oscillation_cm: float,
                          cadence_spm: float | None) -> str:
    """What a user is told when :func:`flight_fits_bounce` fails."""
    cad = (f" (a cadence of {cadence_spm:.0f} steps/min may then be half the true one)"
           if cadence_spm is not None and np.isfinite(cadence_spm) else "")
    return (f"the median flight of {flight_ms:.0f} ms would carry the body "
            f"{flight_rise_cm(flight_ms):.0f} cm up and down in the air, but the pelvis rises and "
            f"falls only {vertical_oscillation_cm:.1f} cm per step: contacts were probably missed"
            f"{cad}, or the clip plays slower than it was filmed; times and cadence were not "
            "judged. Check the contacts in the overlay video, and film the runner whole, feet "
            "included, in real time")


def overlapping_steps(steps: pd.DataFrame, effective_fps: float,
                      sections: list[PlaybackSection] | None = None, *,
                      tolerance_pictures: float = OVERLAP_TOLERANCE_PICTURES) -> np.ndarray:
    """Steps whose foot was still on the ground well after the other foot landed.

    Running has no double support: between one foot's toe-off and the other's contact
    both feet are in the air (Novacheck 1998, Gait Posture 7:77-95), so a step's flight
    time is positive. A flight below ``-tolerance_pictures`` pictures says the two feet
    were on the ground together for longer than the events' own timing error: a walking
    step, or (far more often in a clip judged as running) a contact the pose model lost,
    whose toe-off was then taken from a later stance. Its contact, flight and stance
    values are not the runner's.

    A step whose next contact is not known (no step time: the other foot's next contact
    was missed) has no flight to read; its contact overlaps the other foot's when it
    lasts longer than the usual step of its playback section
    (:attr:`PlaybackSection.usual_step_ms`), by the same tolerance: the other foot
    landed during it, unseen.

    Parameters
    ----------
    steps : pandas.DataFrame
        ``StepMetrics.steps_`` (``flight_ms``, NaN where the next contact is unknown;
        ``step_time_ms``, ``ground_contact_ms`` and ``ic_frame`` for the second test).
    effective_fps : float
        Distinct pictures per second (a clip that shows every picture twice places
        events only to within a picture).
    sections : list of PlaybackSection, optional
        :func:`playback_sections` of the steps; without them only flights are read.

    Returns
    -------
    numpy.ndarray of bool, one per step.
    """
    if steps.empty or "flight_ms" not in steps:
        return np.zeros(len(steps), dtype=bool)
    flight = steps["flight_ms"].to_numpy(dtype=float)
    tolerance_ms = tolerance_pictures * 1000.0 / max(float(effective_fps), 1e-9)
    with np.errstate(invalid="ignore"):
        out = np.isfinite(flight) & (flight < -tolerance_ms)
        if sections and {"step_time_ms", "ground_contact_ms", "ic_frame"} <= set(steps):
            unknown_next = ~np.isfinite(steps["step_time_ms"].to_numpy(dtype=float))
            contact = steps["ground_contact_ms"].to_numpy(dtype=float)
            frames = steps["ic_frame"].to_numpy()
            for x in sections:
                out |= (x.holds(frames) & unknown_next
                        & (contact > x.usual_step_ms + tolerance_ms))
    return out


def overlap_message(frames: list[int], n_steps: int) -> str:
    """What a user is told about :func:`overlapping_steps` (IC frames of the steps)."""
    shown = ", ".join(str(f) for f in frames[:8]) + (", ..." if len(frames) > 8 else "")
    many = len(frames) > 1
    return (f"{len(frames)} of {n_steps} steps had both feet on the ground together (the "
            f"contact{'s' if many else ''} at frame{'s' if many else ''} {shown} still on the ground "
            "after the other foot landed), which a runner never does: the pose model probably lost "
            f"a foot there (or the runner walked); {'those steps were' if many else 'that step was'} "
            f"left out of the summary. Check {'them' if many else 'it'} in the overlay video")


@dataclass(frozen=True)
class TimingProblem:
    """Why a clip's times (contact, flight, step time, cadence) cannot be trusted.

    Attributes
    ----------
    kind : {"slow_motion", "capture_fps", "missed_contacts"}
        ``slow_motion``: a cadence no runner has in real time (or, below the running
        band, contacts missed); ``capture_fps``: the same with ``--capture-fps`` given, so
        that rate is off; ``missed_contacts``: flights too long for the bounce.
    warning : str
        The sentence for ``quality.warnings``.
    reason : str
        Why a time-based rule is not judged.
    note : str
        A short note beside a headline time or cadence (starts with a space).
    """

    kind: str
    warning: str
    reason: str
    note: str

    def to_dict(self) -> dict:
        """The verdict for ``analysis.json`` (``quality.timing_problem``)."""
        return {"kind": self.kind, "message": self.warning}


def timing_problem(summary: dict, *, capture_fps: float | None = None,
                   playback_fps: float | None = None) -> TimingProblem | None:
    """The verdict on a running clip's times, from its summary, or None when they can be used.

    First the cadence (:func:`plausible_running_cadence`: a whole clip in slow motion, or
    with every second contact missed below the running band), then, for a cadence inside
    the band, the flights against the bounce (:func:`flight_fits_bounce`: a halved cadence
    can stay inside the band). A slow-motion clip also fails the flight check (its flights
    are long in video time), so only the first problem found is reported.

    Parameters
    ----------
    summary : dict
        ``Analysis.summary`` (``cadence_spm``, ``flight_ms``, ``vertical_oscillation_cm``).
    capture_fps : float, optional
        The rate the user said the clip was filmed at (``--capture-fps``), if given.
    playback_fps : float, optional
        The file's own frame rate (needed with ``capture_fps``).
    """
    def med(name: str) -> float | None:
        return finite_or_none((summary.get(name) or {}).get("median"))

    cad, flight, bounce = med("cadence_spm"), med("flight_ms"), med("vertical_oscillation_cm")
    if not plausible_running_cadence(cad):
        if capture_fps is not None:
            own = cad * float(playback_fps or capture_fps) / capture_fps
            return TimingProblem(
                "capture_fps",
                warning=(f"a cadence of {cad:.0f} steps/min with a flight phase is not plausible in "
                         f"real time: --capture-fps {capture_fps:g} is probably "
                         f"{'too high' if own < cad else 'too low'} (the clip's own times give "
                         f"{own:.0f} steps/min); check the rate the clip was filmed at"),
                reason=(f"times are not real time here: a cadence of {cad:.0f} steps/min is "
                        f"impossible with --capture-fps {capture_fps:g}; check the rate the clip "
                        "was filmed at"),
                note=" (not real time: check --capture-fps)")
        low = cad < RUNNING_CADENCE_MIN_SPM
        return TimingProblem(
            "slow_motion",
            warning=(f"a cadence of {cad:.0f} steps/min with a flight phase is not plausible in real "
                     "time: the clip is probably slow motion (or re-timed); times and cadence are in "
                     "video time (if you know the rate it was filmed at, pass it with --capture-fps)"
                     + (". Contacts the analysis missed also lower the cadence: check them in the "
                        "overlay video" if low else "")),
            reason=(f"times are not real time here: a cadence of {cad:.0f} steps/min is impossible, "
                    "so the clip is probably slow motion or re-timed"
                    + (" (or contacts were missed: check them in the overlay video)" if low else "")
                    + "; give the rate it was filmed at (--capture-fps), or film in real time, to "
                    "judge this"),
            note=" (video time: not real time, probably slow motion"
                 + (" or contacts missed" if low else "") + ")")
    if not flight_fits_bounce(flight, bounce):
        return TimingProblem(
            "missed_contacts",
            warning=flight_bounce_message(flight, bounce, cad),
            reason=(f"times are not reliable here: a median flight of {flight:.0f} ms would lift the "
                    f"body {flight_rise_cm(flight):.0f} cm, but the pelvis rises and falls only "
                    f"{bounce:.1f} cm, so contacts were missed or the clip is slow motion; check the "
                    "contacts in the overlay video, or film the runner whole and in real time, to "
                    "judge this"),
            note=" (not trusted: flights too long for the bounce, contacts probably missed)")
    return None


def analysis_timing_problem(analysis) -> TimingProblem | None:
    """:func:`timing_problem` of an analysis: its summary, and the rates in its ``video``
    (``capture_fps`` when ``--capture-fps`` was given, ``fps`` the file's own rate).
    """
    video = getattr(analysis, "video", None) or {}
    return timing_problem(analysis.summary or {}, capture_fps=finite_or_none(video.get("capture_fps")),
                          playback_fps=finite_or_none(video.get("fps")))
