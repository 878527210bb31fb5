"""Anti-aliased drawing at sub-pixel positions, shared by the synthetic renderer and the report.

OpenCV draws with fixed-point coordinates: ``SHIFT`` fractional bits, so a point is given as
its pixel position times ``ONE``. OpenCV is imported inside the functions (no import cost
for code that never draws).
"""

from __future__ import annotations

import numpy as np

#: OpenCV fixed-point sub-pixel bits, and the fixed-point value of one pixel.
SHIFT = 4
ONE = 1 << SHIFT


def fixed_point(xy) -> tuple[int, int]:
    """A pixel position (x, y) as OpenCV fixed-point integers."""
    return int(round(float(xy[0]) * ONE)), int(round(float(xy[1]) * ONE))


def known(*pts) -> bool:
    """Whether every point is given and finite."""
    return all(p is not None and np.all(np.isfinite(p)) for p in pts)


def draw_line(image: np.ndarray, p0, p1, colour, width: int) -> None:
    """Anti-aliased line with sub-pixel end points (skipped if a point is unknown)."""
    import cv2

    if known(p0, p1):
        cv2.line(image, fixed_point(p0), fixed_point(p1), colour, max(1, int(width)),
                 cv2.LINE_AA, SHIFT)


def draw_dot(image: np.ndarray, p, colour, radius: float, *, outline=None) -> None:
    """Filled anti-aliased circle (skipped if the point is unknown)."""
    import cv2

    if not known(p):
        return
    r = max(1, int(round(radius * ONE)))
    cv2.circle(image, fixed_point(p), r, colour, -1, cv2.LINE_AA, SHIFT)
    if outline is not None:
        cv2.circle(image, fixed_point(p), r, outline, max(1, int(radius / 3)), cv2.LINE_AA, SHIFT)
