"""Report plots (Matplotlib, object API only: no pyplot state, no backend change at import).

Each function takes an :class:`~posecoach.analysis.Analysis` and returns PNG bytes, or
``None`` when the analysis holds too little to draw it.

- :func:`gait_cycle_angles`: knee, hip and ankle angle over the normalised gait cycle
  (initial contact to the next initial contact of the same foot, 0-100 %), mean ± SD per
  side (the usual time normalisation of gait curves, e.g. Winter 2009, ch. 1).
- :func:`pelvis_path`: height of the mid-hip over time, contacts marked.
- :func:`contact_timeline`: when each foot is on the ground (contact/flight), per foot.
- :func:`step_variability`: step-to-step values of the key metrics, per foot.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from posecoach.metrics import TIME_BASED_METRICS

SIDE_COLOURS = {"left": "#1f77b4", "right": "#d62728"}
CYCLE_POINTS = 101
ANGLES = (
    ("knee_flexion_deg", "Knee flexion (deg)"),
    ("hip_flexion_deg", "Hip flexion (deg)"),
    ("ankle_dorsiflexion_deg", "Ankle dorsiflexion (deg)"),
)
VARIABILITY_METRICS = (
    ("ground_contact_ms", "Ground contact (ms)"),
    ("flight_ms", "Flight (ms)"),
    ("cadence_spm", "Cadence (steps/min)"),
    ("overstride_cm", "Overstride (cm)"),
    ("foot_strike_angle_deg", "Foot strike angle (deg)"),
    ("vertical_oscillation_cm", "Vertical oscillation (cm)"),
)


def _figure(w_in: float, h_in: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(w_in, h_in), dpi=100, layout="constrained")


def _png(fig) -> bytes:
    """PNG bytes of a figure, drawn once on an Agg canvas.

    ``savefig`` draws a constrained-layout figure twice (a pass without rendering to place
    the axes, then the picture); ``canvas.draw`` places and renders in one pass, with the
    same result. The white background is opaque, so the PNG is written as RGB.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3]
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="png")
    return buf.getvalue()


def normalised_cycles(time_s: np.ndarray, values: np.ndarray, ic_times: np.ndarray,
                      *, n_points: int = CYCLE_POINTS, max_nan_share: float = 0.2) -> np.ndarray:
    """Resample ``values`` between consecutive initial contacts onto 0-100 % of the cycle.

    Cycles longer than 1.6x the median cycle (a missed contact) or with more than
    ``max_nan_share`` unknown samples are skipped.

    Returns
    -------
    ndarray, shape (n_cycles, n_points)
    """
    ic = np.sort(np.asarray(ic_times, dtype=float))
    ic = ic[np.isfinite(ic)]
    if ic.size < 2:
        return np.empty((0, n_points))
    dur = np.diff(ic)
    med = np.median(dur)
    out = []
    grid = np.linspace(0.0, 1.0, n_points)
    for a, b in zip(ic[:-1], ic[1:], strict=True):
        if b - a > 1.6 * med:
            continue
        # the frames of the cycle and one on each side of it: the contacts fall between
        # frames, and 0 % and 100 % are interpolated at them, not clamped to the nearest
        # frame inside (a heel striker's knee read ~18 deg at 0 % and ~6 deg at 100 %)
        lo = max(int(np.searchsorted(time_s, a, side="right")) - 1, 0)
        hi = min(int(np.searchsorted(time_s, b, side="left")) + 1, len(time_s))
        t, v = time_s[lo:hi], values[lo:hi]
        ok = np.isfinite(v)
        if ok.sum() < 4 or (~ok).mean() > max_nan_share:
            continue
        out.append(np.interp(a + grid * (b - a), t[ok], v[ok]))
    return np.array(out) if out else np.empty((0, n_points))


def gait_cycle_angles(analysis) -> bytes | None:
    """Knee, hip and ankle angles over the normalised gait cycle, mean ± SD, left and right."""
    if analysis.angles is None or analysis.events is None or analysis.events.empty:
        return None
    t = analysis.angles["time"].values
    fig = _figure(10, 3.2)
    axes = fig.subplots(1, 3)
    drawn = False
    pct = np.linspace(0, 100, CYCLE_POINTS)
    for ax, (name, label) in zip(axes, ANGLES, strict=True):
        for side in ("left", "right"):
            ic = analysis.events[(analysis.events["side"] == side)
                                 & (analysis.events["kind"] == "initial_contact")]["time_s"].to_numpy(dtype=float)
            cyc = normalised_cycles(t, analysis.angles[name].sel(side=side).values, ic)
            if len(cyc) == 0:
                continue
            m, s = cyc.mean(axis=0), cyc.std(axis=0)
            ax.plot(pct, m, color=SIDE_COLOURS[side], label=f"{side} (n={len(cyc)})")
            ax.fill_between(pct, m - s, m + s, color=SIDE_COLOURS[side], alpha=0.2, linewidth=0)
            drawn = True
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("gait cycle (% from initial contact)")
        ax.grid(alpha=0.3)
    if not drawn:
        return None
    axes[0].legend(fontsize=8)
    return _png(fig)


def pelvis_path(analysis) -> bytes | None:
    """Mid-hip height over time (cm above the ground line), initial contacts marked."""
    if analysis.body is None:
        return None
    pos = analysis.body["position"]
    hip = pos.sel(keypoint=["left_hip", "right_hip"]).values[..., 1]
    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        y = 100 * np.nanmean(hip, axis=1)
    t = analysis.body["time"].values
    if not np.isfinite(y).any():
        return None
    fig = _figure(10, 2.8)
    ax = fig.subplots()
    ax.plot(t, y, color="#444", linewidth=1.2, label="mid-hip height")
    for side in ("left", "right"):
        ic = analysis.events[(analysis.events["side"] == side)
                             & (analysis.events["kind"] == "initial_contact")]["time_s"].to_numpy(dtype=float)
        ax.plot(ic, np.interp(ic, t, np.nan_to_num(y, nan=np.nanmedian(y))), "v",
                color=SIDE_COLOURS[side], label=f"{side} initial contact")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("height (cm)")
    vo = (analysis.summary.get("vertical_oscillation_cm") or {}).get("median")
    ax.set_title("Pelvis vertical path" + (f" (median oscillation {vo:.1f} cm)" if vo else ""),
                 fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=3)
    return _png(fig)


def contact_timeline(analysis) -> bytes | None:
    """Contact (bars) and flight (gaps) per foot over time."""
    from posecoach.report._common import contact_intervals

    if analysis.events is None or analysis.events.empty:
        return None
    t_end = float(analysis.body["time"].values[-1]) if analysis.body is not None else None
    c = contact_intervals(analysis.events, end_time_s=t_end)
    if c.empty:
        return None
    fig = _figure(10, 1.9)
    ax = fig.subplots()
    t0 = float(analysis.body["time"].values[0]) if analysis.body is not None else 0.0
    # a contact runs on past the clip's edge only at the edge; inside the clip an event not
    # found is drawn as a mark at the one that was, not as a bar to the clip's end
    known = np.isfinite(c["ic_time_s"]) & np.isfinite(c["to_time_s"])
    edge = c["at_clip_edge"].astype(bool)
    start = c["ic_time_s"].where(np.isfinite(c["ic_time_s"]), t0)
    stop = c["to_time_s"].where(np.isfinite(c["to_time_s"]), t_end if t_end is not None else np.nan)
    marked = False
    for k, side in enumerate(("right", "left")):
        mine = c["side"] == side
        bars = [(a, b - a) for a, b in zip(start[mine & (known | edge)], stop[mine & (known | edge)],
                                           strict=True) if np.isfinite(a) and np.isfinite(b)]
        ax.broken_barh(bars, (k - 0.35, 0.7), color=SIDE_COLOURS[side])
        lone = c[mine & ~known & ~edge]
        at = lone["ic_time_s"].where(np.isfinite(lone["ic_time_s"]), lone["to_time_s"])
        if len(at):
            ax.plot(at, np.full(len(at), k), "|", ms=14, mew=2, color=SIDE_COLOURS[side],
                    label=None if marked else "contact whose toe-off (or landing) was not found")
            marked = True
    if marked:
        ax.legend(fontsize=7, loc="upper right")
    ax.set_yticks([0, 1], ["right foot", "left foot"])
    ax.set_xlabel("time (s) - bars: foot on the ground; gaps on both rows: flight")
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)


def step_variability(analysis) -> bytes | None:
    """Step-to-step values of the key metrics, per foot."""
    steps: pd.DataFrame = analysis.steps
    if steps is None or steps.empty:
        return None
    names = [(m, lab) for m, lab in VARIABILITY_METRICS
             if m in steps and np.isfinite(steps[m].to_numpy(float)).any()]
    if not names:
        return None
    fig = _figure(10, 1.9 * ((len(names) + 2) // 3))
    axes = np.atleast_1d(fig.subplots((len(names) + 2) // 3, 3)).ravel()
    use = steps["summary_use"] if "summary_use" in steps else pd.Series("all", index=steps.index)
    any_out = False
    for ax, (m, lab) in zip(axes, names, strict=False):
        # the steps the summary leaves out (slow motion for times, both feet down): hollow
        out = (use == "none") | ((use == "not_times") & (m in TIME_BASED_METRICS))
        for side in ("left", "right"):
            s = steps[steps["side"] == side]
            ax.plot(s["ic_time_s"], s[m], "-", lw=0.8, color=SIDE_COLOURS[side])
            kept, left_out = s[~out[s.index]], s[out[s.index]]
            ax.plot(kept["ic_time_s"], kept[m], "o", ms=3, color=SIDE_COLOURS[side], label=side)
            if len(left_out):
                any_out = True
                ax.plot(left_out["ic_time_s"], left_out[m], "o", ms=4, mfc="none", mew=0.8,
                        color=SIDE_COLOURS[side])
        ax.set_title(lab, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.supxlabel("time of initial contact (s)" + (
        "; open circles: left out of the summary (slow motion, or both feet down)"
        if any_out else ""), fontsize=9)
    return _png(fig)


def all_plots(analysis) -> dict[str, bytes]:
    """Every plot that can be drawn, by name."""
    out = {}
    from threadpoolctl import threadpool_limits

    # Matplotlib inverts 3x3 transforms thousands of times per figure (np.linalg.inv); each
    # call woke OpenBLAS's helper thread, which then spun ~0.6 CPU s per report beside the
    # overlay's processes. One BLAS thread inside the block (restored after); same pixels.
    with threadpool_limits(limits=1, user_api="blas"):
        for name, fn in (("gait_cycle_angles", gait_cycle_angles), ("pelvis_path", pelvis_path),
                         ("contact_timeline", contact_timeline),
                         ("step_variability", step_variability)):
            png = fn(analysis)
            if png:
                out[name] = png
    return out
