"""The annotated video: skeleton, contact markers and running metrics on every frame.

The input video is streamed frame by frame (never held in memory): each decoded frame
gets the cleaned skeleton of its pose row, a marker under each foot that is on the ground,
"IC"/"TO" labels on event frames and a panel with the clip's key metrics, and is written
straight to an H.264 MP4 (yuv420p, plays in browsers) with the input's frame count and
frame rate. Frames are drawn at most :data:`OVERLAY_MAX_SIDE_PX` pixels on their long
side, which keeps the overlay cheap next to pose estimation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posecoach.report import _common as C

#: Longest side of the overlay video's frames.
OVERLAY_MAX_SIDE_PX = 960


def _panel_lines(analysis) -> list[tuple[str, tuple[int, int, int]]]:
    s = analysis.summary

    def med(name: str) -> float | None:
        v = (s.get(name) or {}).get("median")
        return float(v) if v is not None and np.isfinite(v) else None

    lines = [("posecoach", (255, 255, 255))]
    for name, fmt in (("cadence_spm", "Cadence {:.0f} steps/min"),
                      ("ground_contact_ms", "Contact {:.0f} ms"),
                      ("flight_ms", "Flight {:.0f} ms"),
                      ("overstride_cm", "Overstride {:+.0f} cm"),
                      ("vertical_oscillation_cm", "Bounce {:.1f} cm")):
        v = med(name)
        if v is not None:
            lines.append((fmt.format(v), (230, 230, 230)))
    fs = (analysis.foot_strike or {}).get("pattern")
    if fs and fs != "unknown":
        lines.append((f"Foot strike: {fs}", (230, 230, 230)))
    if analysis.gait.get("classification") != "running":
        lines.append((f"Gait: {analysis.gait.get('classification')}", (255, 180, 80)))
    return lines


def write_overlay(analysis, video_path: str | Path, out_path: str | Path, *,
                  max_side_px: int = OVERLAY_MAX_SIDE_PX) -> Path:
    """Write ``out_path`` (MP4): the input video with skeleton, contacts and metrics.

    Parameters
    ----------
    analysis : Analysis
        With ``poses`` (pixel poses) and ``events``.
    video_path : path
        The analysed video.
    out_path : path
        Destination ``.mp4``.
    max_side_px : int
        Longest side of the output frames.

    Raises
    ------
    ReportError
        If the analysis has no pixel poses.
    """
    from posecoach.video import VideoReader, VideoWriter

    poses = C.pixel_poses(analysis)
    reader = VideoReader(video_path, max_side_px=max_side_px)
    out_w, out_h, _ = reader.output_size()
    full_w, full_h = reader.info.width_px, reader.info.height_px
    sx, sy = out_w / full_w, out_h / full_h
    rows = C.frame_rows(poses)
    pix = poses["position"].values
    names = [str(k) for k in poses["keypoint"].values]
    near = C.near_side(analysis, poses)
    t_end = float(poses["time"].values[-1]) if poses.sizes["time"] else None
    contacts = C.contact_intervals(analysis.events, end_time_s=t_end)
    frames = poses["frame"].values
    on_ground = {side: dict(zip(frames.tolist(), C.contact_mask(contacts, frames, side).tolist(),
                                strict=True)) for side in C.SIDES}
    labels: dict[int, list[str]] = {}
    for r in analysis.events.itertuples():
        labels.setdefault(int(r.frame), []).append(
            f"{r.side[0].upper()} {'IC' if r.kind == 'initial_contact' else 'TO'}")
    panel = C.text_panel(_panel_lines(analysis), size_px=max(12, out_h // 40))
    width = max(2.0, out_h / 160)
    out_path = Path(out_path)
    fps = reader.info.fps
    with VideoWriter(out_path, fps=fps, width_px=out_w, height_px=out_h, crf=26) as writer:
        for fr in reader.frames():
            img = np.ascontiguousarray(fr.image)
            row = rows.get(fr.index)
            if row is not None:
                pts = {n: pix[row, j] * (sx, sy) for j, n in enumerate(names)}
                support = next((s for s in C.SIDES if on_ground[s].get(fr.index)), None)
                C.draw_skeleton(img, pts, near=near, width_px=width, support=support)
                for side in C.SIDES:
                    if on_ground[side].get(fr.index):
                        heel, toe = pts.get(f"{side}_heel"), pts.get(f"{side}_foot_index")
                        colour = C.NEAR_RGB if side == near else C.FAR_RGB
                        C.draw_line(img, heel, toe, (255, 255, 255), int(width * 3))
                        C.draw_dot(img, toe, colour, width * 2.2, outline=(255, 255, 255))
                if fr.index in labels:
                    anchor = pts.get("nose", np.array([out_w / 2, out_h / 4]))
                    img = np.array(C.draw_labels(img, [(" ".join(labels[fr.index]),
                                               (float(anchor[0]) - 20, float(anchor[1]) - 60),
                                               (255, 235, 60))], size_px=max(12, out_h // 30)))
            C.blend_patch(img, panel, 8, 8)
            writer.write(img)
    return out_path
