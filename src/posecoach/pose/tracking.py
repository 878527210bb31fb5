"""Keep ONE runner when several people are in view.

The pose model returns, for every frame, zero or more *candidate* poses (33
BlazePose landmarks with pixel coordinates and visibility each), in no stable
order. :class:`RunnerTracker` turns them into the runner's single track:

1. **Duplicates**: candidates of one frame whose torso centres lie within
   ``duplicate_distance`` body heights of each other are the same person; the
   one with the higher mean visibility is kept.
2. **Linking** (tracking by detection, as in SORT: Bewley et al. 2016, "Simple
   online and realtime tracking", ICIP): each candidate is matched to an open
   track by the Hungarian method (Kuhn 1955; Munkres 1957,
   :func:`scipy.optimize.linear_sum_assignment`) on the distance between its
   torso centre and the track's constant-velocity prediction, in units of the
   track's body height. Matches farther than ``gate_body_heights``, or with a
   body size that changed by more than 1.5x, are refused; a track stays open for
   ``max_gap_s`` without detections.
3. **Scoring**: the runner is "the person who moves like a runner and is
   largest / most central over time". Per frame a track earns
   ``size * (0.5 + 0.5 * centrality)`` (``size`` = body height / image height,
   ``centrality`` = 1 at the image centre line, 0 at the left/right edge). The
   sum over its frames is multiplied by a *gait* factor and a *travel* factor
   (:func:`track_score`). Gait: seen from the side, a runner's or walker's feet
   pass each other every step (the foot-to-pelvis distance oscillates at the
   stride frequency, which Zeni et al. 2008, Gait & Posture 27:710, use to find
   gait events), so the signed horizontal ankle-to-ankle distance changes sign
   (:func:`leg_alternation`); a spotter standing by, or someone jumping or
   waving while facing the camera, keeps one foot on one side. Travel: a runner
   crosses a fixed camera's picture (:func:`travel_body_heights`); neutral on a
   treadmill or with a panning camera.
4. **Selection**: the best track is kept; further tracks that do not overlap
   it in time, have a similar body size and a gait are appended (the
   runner found again after leaving the picture or being lost). Frames where
   only someone else was found are left empty (NaN).

Everything is plain numpy on arrays; :class:`RunnerTracker` holds the
parameters and the results (attributes ending in ``_``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from posecoach._text import count, percent

__all__ = [
    "RunnerTracker",
    "Track",
    "body_height_px",
    "body_heights_px",
    "dedupe_candidates",
    "leg_alternation",
    "link_tracks",
    "pose_centre_px",
    "pose_centres_px",
    "track_score",
    "travel_body_heights",
]

_N_KEYPOINTS = 33
_TORSO = (11, 12, 23, 24)  # shoulders and hips (BlazePose indices)
_LEFT_ANKLE, _RIGHT_ANKLE = 27, 28
_VELOCITY_HISTORY = 6  # torso centres kept per track for the velocity estimate


@dataclass
class Track:
    """One person followed over frames.

    Attributes
    ----------
    frames : ndarray of int, shape (m,)
        Positions (0-based, in the candidate sequence) of the frames it was seen in.
    poses : ndarray, shape (m, 33, 3)
        ``x_px, y_px, visibility`` of each landmark in those frames.
    """

    frames: np.ndarray
    poses: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)


def pose_centre_px(pose: np.ndarray) -> np.ndarray:
    """Torso centre (mean of shoulders and hips) of one pose, in pixels.

    Parameters
    ----------
    pose : ndarray, shape (33, 2 or 3)
        Landmarks ``x_px, y_px[, visibility]``.

    Returns
    -------
    ndarray, shape (2,)
        ``(x_px, y_px)``; the mean of all finite landmarks when the torso is unknown.
    """
    return pose_centres_px(np.asarray(pose)[None])[0]


def pose_centres_px(poses: np.ndarray) -> np.ndarray:
    """:func:`pose_centre_px` of every pose in a stack, shape (m, 33, 2 or 3) -> (m, 2)."""
    poses = np.asarray(poses, dtype=np.float64)
    if len(poses) == 0:
        return np.zeros((0, 2))
    out = poses[:, list(_TORSO), :2].mean(axis=1)
    unknown = ~np.isfinite(out).all(axis=1)
    if unknown.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pose: NaN centre
            out[unknown] = np.nanmean(poses[unknown, :, :2], axis=1)
    return out


def body_height_px(pose: np.ndarray) -> float:
    """Vertical extent of a pose's landmarks (a robust body size), in pixels.

    Falls back to 3x the shoulder-to-hip distance when that is larger (a crouched
    or lying person; the trunk is about a third of standing height).
    """
    return float(body_heights_px(np.asarray(pose)[None])[0])


def body_heights_px(poses: np.ndarray) -> np.ndarray:
    """:func:`body_height_px` of every pose in a stack, shape (m, 33, 2 or 3) -> (m,)."""
    poses = np.asarray(poses, dtype=np.float64)
    if len(poses) == 0:
        return np.zeros(0)
    y = poses[:, :, 1]
    seen = np.isfinite(y).any(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows are handled below
        span = np.where(seen, np.nanmax(y, axis=1) - np.nanmin(y, axis=1), 0.0)
        shoulders = np.nanmean(poses[:, [11, 12], :2], axis=1)
        hips = np.nanmean(poses[:, [23, 24], :2], axis=1)
    d = shoulders - hips
    trunk = np.hypot(d[:, 0], d[:, 1])
    trunk = np.where(np.isfinite(trunk), trunk, 0.0)
    return np.maximum(np.maximum(span, 3.0 * trunk), 1.0)


def dedupe_candidates(poses: np.ndarray, duplicate_distance: float = 0.25) -> np.ndarray:
    """Drop candidates of one frame that are the same person as a better one.

    Parameters
    ----------
    poses : ndarray, shape (k, 33, 3)
        Candidate poses of one frame.
    duplicate_distance : float
        Torso centres closer than this many body heights are one person.

    Returns
    -------
    ndarray, shape (k', 33, 3)
        The kept candidates, highest mean visibility first.
    """
    if len(poses) <= 1:
        return poses
    order = np.argsort(-np.nanmean(poses[:, :, 2], axis=1))
    centres, heights = pose_centres_px(poses), body_heights_px(poses)
    kept: list[int] = []
    for i in order:
        c = centres[i]
        h = heights[i]
        if all(
            np.hypot(*(c - centres[j])) > duplicate_distance * max(h, heights[j])
            for j in kept
        ):
            kept.append(int(i))
    return poses[kept]


def _median_velocity(history: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """Median of the step velocities in a short history (one bad pose cannot throw it)."""
    if len(history) < 2:
        return np.zeros(2)
    steps = [
        (c1 - c0) / (t1 - t0)
        for (t0, c0), (t1, c1) in zip(history[:-1], history[1:], strict=True)
        if t1 > t0
    ]
    return np.median(np.array(steps), axis=0) if steps else np.zeros(2)


def _assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost assignment of rows to columns (Hungarian: ``scipy.optimize``).

    With one row or one column the answer is the cheapest entry (ties: the first,
    as SciPy chooses), found without importing ``scipy.optimize`` (~0.8 s): one
    person in view, the usual case, never needs it.
    """
    if cost.shape[0] == 1 or cost.shape[1] == 1:
        k = int(np.argmin(cost))
        return (np.array([k if cost.shape[0] > 1 else 0]),
                np.array([k if cost.shape[1] > 1 else 0]))
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment(cost)


def link_tracks(
    candidates: Sequence[np.ndarray],
    time_s: np.ndarray,
    *,
    max_gap_s: float = 0.5,
    gate_body_heights: float = 0.5,
    max_size_ratio: float = 1.5,
) -> list[Track]:
    """Link per-frame candidate poses into tracks (Hungarian matching, SORT-style).

    Parameters
    ----------
    candidates : sequence of ndarray, each (k_i, 33, 3)
        Candidate poses per frame (already de-duplicated).
    time_s : ndarray, shape (n,)
        Frame times.
    max_gap_s : float
        Longest time a track may go unseen and still be continued.
    gate_body_heights : float
        Largest distance, in body heights, between a candidate's torso centre and
        a track's predicted centre for them to match.
    max_size_ratio : float
        Largest change of body height between matched poses.

    Returns
    -------
    list of Track
        In order of first appearance.
    """
    time_s = np.asarray(time_s, dtype=np.float64)
    frames: list[list[int]] = []
    poses: list[list[np.ndarray]] = []
    state: list[dict] = []  # per track: last time, centre, velocity, size
    for i, cand in enumerate(candidates):
        t = float(time_s[i])
        cand = np.asarray(cand, dtype=np.float64).reshape(-1, _N_KEYPOINTS, 3)
        open_ids = [k for k, s in enumerate(state) if t - s["t"] <= max_gap_s + 1e-9]
        centres = pose_centres_px(cand)
        sizes = body_heights_px(cand)
        matched: dict[int, int] = {}
        if open_ids and len(cand):
            cost = np.full((len(open_ids), len(cand)), 1e6)
            for a, k in enumerate(open_ids):
                s = state[k]
                pred = s["c"] + s["v"] * (t - s["t"])
                for b in range(len(cand)):
                    ratio = sizes[b] / s["h"]
                    if not (1 / max_size_ratio <= ratio <= max_size_ratio):
                        continue
                    d = float(np.hypot(*(centres[b] - pred))) / s["h"]
                    if d <= gate_body_heights:
                        cost[a, b] = d
            rows, cols = _assignment(cost)
            matched = {int(c): open_ids[r] for r, c in zip(rows, cols, strict=True) if cost[r, c] < 1e6}
        for b in range(len(cand)):
            k = matched.get(b)
            if k is None:
                state.append(
                    {"t": t, "c": centres[b], "v": np.zeros(2), "h": sizes[b], "hist": [(t, centres[b])]}
                )
                frames.append([i])
                poses.append([cand[b]])
                continue
            s = state[k]
            s["hist"].append((t, centres[b]))
            del s["hist"][:-_VELOCITY_HISTORY]
            s.update(t=t, c=centres[b], v=_median_velocity(s["hist"]), h=0.8 * s["h"] + 0.2 * sizes[b])
            frames[k].append(i)
            poses[k].append(cand[b])
    return [
        Track(frames=np.asarray(f, dtype=np.int64), poses=np.stack(p))
        for f, p in zip(frames, poses, strict=True)
    ]


def leg_alternation(track: Track) -> float:
    """How far each foot gets in front of the other, in body heights.

    With ``s = (x_left_ankle - x_right_ankle) / body height`` per frame, returns
    ``max(0, min(P90(s), -P10(s)))``: positive only when the sign of ``s`` flips,
    i.e. the feet pass each other as in running or walking seen from the side
    (about 0.3-0.5 body heights). A person standing by, or one jumping or waving
    while facing the camera, keeps one foot on one side: near 0. Left/right label
    swaps of the pose model lower it but do not zero it.
    """
    if len(track) < 2:
        return 0.0
    sep = track.poses[:, _LEFT_ANKLE, 0] - track.poses[:, _RIGHT_ANKLE, 0]
    heights = body_heights_px(track.poses)
    rel = sep / heights
    rel = rel[np.isfinite(rel)]
    if rel.size < 2:
        return 0.0
    p10, p90 = np.percentile(rel, [10, 90])
    return float(max(0.0, min(p90, -p10)))


def travel_body_heights(track: Track) -> float:
    """Horizontal distance the torso covers in the image (5th-95th percentile), in body heights."""
    if len(track) < 2:
        return 0.0
    x = pose_centres_px(track.poses)[:, 0]
    x = x[np.isfinite(x)]
    if x.size < 2:
        return 0.0
    heights = body_heights_px(track.poses)
    p5, p95 = np.percentile(x, [5, 95])
    return float((p95 - p5) / np.median(heights))


def track_score(
    track: Track, image_width_px: int, image_height_px: int, *, full_alternation: float = 0.3
) -> float:
    """Runner-likeness of a track: size and centrality over time, times gait motion.

    Parameters
    ----------
    track : Track
    image_width_px, image_height_px : int
        Size of the image the coordinates refer to.
    full_alternation : float
        :func:`leg_alternation` (body heights) that earns the full gait factor.

    Returns
    -------
    float
        ``presence * gait * (1 + travel) / 2`` with ``presence = sum_frames(size *
        (0.5 + 0.5 * centrality))``, ``gait = clip(alternation / full_alternation,
        0.1, 1)`` and ``travel = clip(travel_body_heights, 0, 1)`` (a runner
        crosses a fixed camera's picture; on a treadmill or with a panning
        camera nobody travels and the term is neutral between people).
    """
    if len(track) == 0:
        return 0.0
    size = body_heights_px(track.poses) / float(image_height_px)
    cx = pose_centres_px(track.poses)[:, 0]
    half = image_width_px / 2.0
    centrality = np.clip(1.0 - np.abs(cx - half) / half, 0.0, 1.0)
    presence = float(np.nansum(np.minimum(size, 1.0) * (0.5 + 0.5 * centrality)))
    gait = float(np.clip(leg_alternation(track) / full_alternation, 0.1, 1.0))
    travel = float(np.clip(travel_body_heights(track), 0.0, 1.0))
    return presence * gait * (1.0 + travel) / 2.0


class RunnerTracker:
    """Pick the runner's track out of per-frame candidate poses.

    Parameters
    ----------
    max_gap_s : float
        A person unseen for longer than this starts a new track.
    gate_body_heights : float
        Largest frame-to-frame jump of the torso centre (body heights) for a match.
    full_alternation : float
        :func:`leg_alternation` (body heights) counted as fully runner-like.
    min_track_frames : int
        Tracks shorter than this are ignored (flickering false detections).
    duplicate_distance : float
        Candidates closer than this (body heights) in one frame are one person.

    Attributes
    ----------
    tracks_ : list of Track
        All tracks found.
    scores_ : ndarray
        :func:`track_score` of each track.
    runner_ : list of int
        Indices into ``tracks_`` of the kept runner (best first).
    position_ : ndarray, shape (n, 33, 2)
        The runner's landmarks in pixels; NaN where the runner was not found.
    confidence_ : ndarray, shape (n, 33)
        Visibility (0..1); NaN where the runner was not found.
    people_per_frame_ : ndarray of int, shape (n,)
        People (tracks of at least ``min_track_frames`` frames) seen in each frame.
    warnings_ : list of str
        What the user should know (e.g. "2 people were in view ...").
    """

    def __init__(
        self,
        *,
        max_gap_s: float = 0.5,
        gate_body_heights: float = 0.5,
        full_alternation: float = 0.3,
        min_track_frames: int = 5,
        duplicate_distance: float = 0.25,
    ) -> None:
        self.max_gap_s = max_gap_s
        self.gate_body_heights = gate_body_heights
        self.full_alternation = full_alternation
        self.min_track_frames = min_track_frames
        self.duplicate_distance = duplicate_distance

    def detect(
        self,
        candidates: Sequence[np.ndarray],
        time_s: Sequence[float] | np.ndarray,
        image_width_px: int,
        image_height_px: int,
    ) -> RunnerTracker:
        """Link candidates into tracks and keep the runner.

        Parameters
        ----------
        candidates : sequence of ndarray, each (k_i, 33, 3)
            Candidate poses (``x_px, y_px, visibility``) per frame, any order.
        time_s : sequence of float, length n
            Frame times in seconds.
        image_width_px, image_height_px : int
            Image size the coordinates refer to.

        Returns
        -------
        RunnerTracker
            ``self``, with the result attributes filled.
        """
        time_s = np.asarray(time_s, dtype=np.float64)
        n = len(time_s)
        if len(candidates) != n:
            raise ValueError(f"{len(candidates)} candidate lists for {n} frame times")
        clean = [
            dedupe_candidates(np.asarray(c, dtype=np.float64).reshape(-1, _N_KEYPOINTS, 3),
                              self.duplicate_distance)
            for c in candidates
        ]
        self.tracks_ = link_tracks(
            clean, time_s, max_gap_s=self.max_gap_s, gate_body_heights=self.gate_body_heights
        )
        self.people_per_frame_ = np.zeros(n, dtype=np.int64)
        for track in self.tracks_:
            if len(track) >= self.min_track_frames:
                self.people_per_frame_[track.frames] += 1
        self.scores_ = np.array(
            [
                track_score(t, image_width_px, image_height_px, full_alternation=self.full_alternation)
                if len(t) >= self.min_track_frames else 0.0
                for t in self.tracks_
            ]
        )
        self.runner_ = self._select()
        self.position_ = np.full((n, _N_KEYPOINTS, 2), np.nan)
        self.confidence_ = np.full((n, _N_KEYPOINTS), np.nan)
        for k in self.runner_:
            track = self.tracks_[k]
            self.position_[track.frames] = track.poses[:, :, :2]
            self.confidence_[track.frames] = np.clip(track.poses[:, :, 2], 0.0, 1.0)
        self.warnings_ = self._warnings(n)
        return self

    def _select(self) -> list[int]:
        if not self.tracks_:
            return []
        best = int(np.argmax(self.scores_))
        if self.scores_[best] <= 0:
            # only very short tracks: keep the longest one rather than nothing
            best = int(np.argmax([len(t) for t in self.tracks_]))
            return [best]
        chosen = [best]
        used = np.zeros(max(int(t.frames.max()) for t in self.tracks_) + 1, dtype=bool)
        used[self.tracks_[best].frames] = True
        ref_size = float(np.median(body_heights_px(self.tracks_[best].poses)))
        for k in np.argsort(-self.scores_):
            k = int(k)
            track = self.tracks_[k]
            if k == best or self.scores_[k] <= 0 or used[track.frames].any():
                continue
            size = float(np.median(body_heights_px(track.poses)))
            gait_ok = leg_alternation(track) >= 0.5 * self.full_alternation
            if gait_ok and 1 / 1.5 <= size / ref_size <= 1.5:
                chosen.append(k)
                used[track.frames] = True
        return chosen

    def _warnings(self, n: int) -> list[str]:
        out: list[str] = []
        if n == 0:
            return out
        multi = self.people_per_frame_ >= 2
        if multi.any():
            kept = np.isfinite(self.position_[:, 0, 0])
            others = int(self.people_per_frame_.max())
            centre = np.nanmedian(
                np.concatenate([pose_centres_px(self.tracks_[k].poses) for k in self.runner_]),
                axis=0,
            )
            out.append(
                f"{others} people were in view in {percent(multi.mean())} of the frames; kept the one "
                "that moves like a runner and is largest/most central over time (torso centre "
                f"near x={centre[0]:.0f} px, y={centre[1]:.0f} px) and ignored the others"
            )
            only_others = int(((self.people_per_frame_ >= 1) & ~kept).sum())
            if only_others:
                out.append(
                    f"{count(only_others, 'frame')} showed only another person; "
                    f"{'it is' if only_others == 1 else 'they are'} left empty"
                )
        return out
