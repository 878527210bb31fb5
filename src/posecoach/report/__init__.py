"""The coaching report: key frames, plots, the self-contained HTML page and the overlay video.

- :func:`write_report`: ``report.html``, one file that opens offline (images inline).
- :func:`write_overlay`: ``overlay.mp4``, the input video with skeleton, contacts and metrics
  (:func:`start_overlay` starts it in worker processes and returns at once).
"""

from __future__ import annotations

from pathlib import Path

from posecoach.report.overlay import OverlayWorkers, start_overlay, write_overlay

__all__ = ["OverlayWorkers", "start_overlay", "write_overlay", "write_report"]


def write_report(analysis, assessment, out_dir: str | Path, *, video_path: str | Path | None = None,
                 title: str = "", poses=None, overlay_name: str | None = None) -> Path:
    """Write ``out_dir/report.html``.

    Parameters
    ----------
    analysis : posecoach.analysis.Analysis
    assessment : posecoach.assessment.Assessment
    out_dir : path
    video_path : path, optional
        The analysed video, for the key frames; without it they are drawn on a plain
        background and the report says so.
    title : str
        Shown in the header (default: the source file's name).
    poses : xarray.Dataset, optional
        Cleaned pixel poses for the key frames (:func:`posecoach.report._common.pixel_poses`);
        computed if omitted.
    overlay_name : str, optional
        The annotated video's file name in ``out_dir``, linked from the page when given.
    """
    from posecoach.report import plots
    from posecoach.report.html import render_html
    from posecoach.report.keyframes import KeyFrameSelector, render_key_frames

    selector = KeyFrameSelector().detect(analysis)
    key_frames = (render_key_frames(analysis, selector.key_frames_, video_path, poses=poses)
                  if selector.key_frames_ else [])
    html = render_html(analysis, assessment, key_frames=key_frames, plots=plots.all_plots(analysis),
                       title=title, overlay_name=overlay_name)
    path = Path(out_dir) / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
