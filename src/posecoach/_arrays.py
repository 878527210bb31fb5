"""Small array helpers shared by several stages."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def finite_or_none(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing, not a number, NaN or infinite."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges ``[(start, stop), ...]`` of the runs of True in a 1-D array."""
    m = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def nanmid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise midpoint of two tracks, or whichever one is known (NaN if neither)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(a), b, np.where(np.isnan(b), a, 0.5 * (a + b)))
