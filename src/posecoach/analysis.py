"""The analysis result and its JSON file (``analysis.json``).

:class:`Analysis` holds what the pipeline measured; :meth:`Analysis.to_json_dict`
turns it into the document described by ``src/posecoach/schemas/analysis.schema.json``
(JSON Schema, draft 2020-12). Numbers that could not be measured are ``null``,
never guessed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from posecoach import __version__

SCHEMA_VERSION = "1.7.0"


def _clean(value: Any) -> Any:
    """Make a value JSON-safe: NaN/inf -> None, numpy -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    return value


def load_schema() -> dict:
    """The JSON Schema of ``analysis.json``."""
    text = resources.files("posecoach").joinpath("schemas/analysis.schema.json").read_text()
    return json.loads(text)


@dataclass
class Analysis:
    """Everything measured on one clip (see :func:`posecoach.pipeline.analyze_poses`)."""

    video: dict
    runner: dict
    gait: dict
    events: pd.DataFrame
    steps: pd.DataFrame
    summary: dict
    foot_strike: dict
    quality: dict
    body: xr.Dataset | None = None
    angles: xr.Dataset | None = None
    poses: xr.Dataset | None = None
    source: dict = field(default_factory=dict)
    assessment: list[dict] | None = None
    score: dict | None = None
    rules_version: str | None = None
    priorities: list[str] | None = None
    recommended_drills: list[str] | None = None

    @property
    def is_running(self) -> bool:
        """True when the gait was classified as running (not walking or unknown)."""
        return self.gait.get("classification") == "running"

    def to_json_dict(self) -> dict:
        """The ``analysis.json`` document."""
        events = [
            {
                "side": r.side,
                "kind": r.kind,
                "frame": int(r.frame),
                "time_s": float(r.time_s),
                "confidence": float(r.confidence),
            }
            for r in self.events.itertuples()
        ]
        steps = self.steps.to_dict(orient="records") if not self.steps.empty else []
        doc = {
            "schema_version": SCHEMA_VERSION,
            "posecoach_version": __version__,
            "source": self.source,
            "video": self.video,
            "runner": self.runner,
            "gait": self.gait,
            "events": events,
            "steps": steps,
            "summary": self.summary,
            "foot_strike": self.foot_strike,
            "quality": self.quality,
        }
        if self.assessment is not None:
            doc["rules_version"] = self.rules_version
            doc["assessment"] = self.assessment
            doc["score"] = self.score
            doc["priorities"] = self.priorities or []
            doc["recommended_drills"] = self.recommended_drills or []
        return _clean(doc)

    def write_json(self, path: str | Path) -> Path:
        """Write ``analysis.json``."""
        path = Path(path)
        path.write_text(json.dumps(self.to_json_dict(), indent=2, allow_nan=False))
        return path
