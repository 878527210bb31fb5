"""Checks on the footage and the gait that protect every time-based number.

- :func:`duplicate_pictures`: clips re-timed from a lower frame rate show each
  picture two (or more) times; the *effective* frame rate is then lower than the
  container's, and events can only be placed to within one picture.
- :func:`playback_sections`: phone "slo-mo" exports switch between real time and slow
  motion inside one clip. The runner's step time jumps by the slow-motion factor
  although nobody runs like that; such sections are found and their steps excluded
  from time-based summaries.
- :func:`plausible_running_cadence`: a whole clip in slow motion shows a running
  pattern (flight phases) at a cadence no runner has.
- :func:`flight_fits_bounce`: in the air the body flies ballistically, so a flight time
  implies a rise and fall that the pelvis's measured bounce must hold; flights far too
  long for the bounce mean contacts were missed (or time runs slow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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


@dataclass
class PlaybackSection:
    """A stretch of steps played at one speed."""

    first_frame: int
    last_frame: int
    median_step_ms: float
    slow_factor: float  # step time relative to the fastest section (1 = that speed)

    def to_dict(self) -> dict:
        return {
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "median_step_ms": self.median_step_ms,
            "slow_factor": self.slow_factor,
        }


def playback_sections(steps: pd.DataFrame) -> list[PlaybackSection]:
    """Split the steps into sections of constant playback speed.

    Consecutive steps stay in one section while their step times agree within
    :data:`PLAYBACK_JUMP_FACTOR`; a section's speed is its median step time.
    Single outlying steps (a missed contact) do not open a section.
    """
    if steps.empty or "step_time_ms" not in steps:
        return []
    s = steps.dropna(subset=["step_time_ms"]).sort_values("ic_time_s")
    if len(s) < 3:
        return []
    st = s["step_time_ms"].to_numpy(float)
    frames = s["ic_frame"].to_numpy(int)
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
    return [
        PlaybackSection(
            first_frame=int(frames[g[0]]),
            last_frame=int(frames[g[-1]]),
            median_step_ms=float(np.median(st[g])),
            slow_factor=float(np.median(st[g]) / fastest),
        )
        for g in groups
    ]


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
