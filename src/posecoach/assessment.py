"""Pose Method assessment: rules as data, one verdict per principle.

The rules live in a versioned TOML file (the packaged default is
``src/posecoach/rules/pose_method.toml``; a squad can pass its own with
``--rules FILE``). This module only *reads* them: the status logic is the same
for every rule and knows nothing about running.

For each rule:

1. If the gait is not running (``analysis.gait["classification"]``), the rule is
   ``not_assessable`` with the gait's reason.
2. If the rule needs another view than the clip's (a side view unless
   ``analysis.runner["view"]`` says otherwise), it is ``not_assessable``: it
   needs a front view, or cannot be seen on video at all. Nothing is guessed.
3. The rule's metric is looked up in ``analysis.summary`` (metric names of
   ``docs/conventions.md``). A missing value (occlusion, not measured) or fewer
   than ``min_steps`` steps -> ``not_assessable`` with that reason. Time-based
   metrics are withheld when the clip cannot be real time (slow motion) or its
   flights are too long for the pelvis's bounce (contacts missed).
4. The value (the summary median; or ``|median|``, the worse side's median, or
   the left/right asymmetry, as the rule's ``aggregate`` says) is compared with
   the rule's bands: inside ``good`` -> ``pass``; inside ``borderline`` ->
   ``borderline``; otherwise ``fail``. Speed-relative rules pick their bands by
   the runner's speed; without a speed they use their default (easy-pace) bands
   and say so.
5. Where the value has a 95 % interval (:func:`posecoach.metrics.median_ci`: a
   median of at least 6 steps; :func:`asymmetry_ci`: at least 7 steps of each foot),
   the verdicts of the whole interval are ``possible_statuses``; when it reaches
   another band the verdict stands but its reason says it is not certain.

The overall score and the priorities are documented in :func:`weighted_score`
and :func:`rank_priorities`.

Examples
--------
>>> from posecoach import assessment
>>> result = assessment.assess(analysis)                        # doctest: +SKIP
>>> [(r.id, r.status) for r in result.priorities]               # doctest: +SKIP
"""

from __future__ import annotations

import copy
import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from posecoach import quality
from posecoach._arrays import finite_or_none as _finite
from posecoach._text import count
from posecoach.errors import PosecoachError
from posecoach.metrics import (
    CADENCE_FROM_SLOPES,
    CADENCE_FROM_STRIDES,
    FILM_ADVICE,
    METRIC_KINDS,
    median_ci,
)

#: Name of the packaged default rule file (``extends = "pose_method"`` refers to it).
DEFAULT_RULES_NAME = "pose_method"
STATUSES = ("pass", "borderline", "fail", "not_assessable")
GROUPS = ("element", "key_point", "model", "practice")
VIEWS = ("side", "front", "none")
KEY_FRAMES = ("initial_contact", "mid_stance", "fall", "pull", "toe_off")
AGGREGATES = ("median", "abs", "worst_side", "asymmetry")
DRILL_CATEGORIES = ("strength", "mobility", "pose_drill", "cadence")
SIDES = ("left", "right")


def _default_bands_note(why: str, give: str) -> str:
    """The note of a speed-relative rule judged with its default bands: why, and what to give."""
    return f"{why}, so the default (easy-pace) bands were used; give {give} for speed-matched bands"


#: Why a speed-relative rule uses its default bands when nothing says otherwise
#: (:func:`band_speed` gives the reason for a clip).
SPEED_UNKNOWN = _default_bands_note("speed unknown", "the treadmill speed (--speed-kmh)")

#: Beyond this many borderline margins outside the good band, a fault ranks no higher.
PRIORITY_DISTANCE_CAP = 3.0

_TOP_KEYS = {"version", "name", "changelog", "caveat", "defaults", "score", "rules", "drills",
             "plan", "extends"}
_RULE_KEYS = {"id", "title", "group", "number", "metric", "meaning", "key_frame", "weight", "cue",
              "drills", "source", "view", "min_steps", "aggregate", "bands", "speed_relative",
              "speed_bands", "enabled"}
_BAND_KEYS = {"min", "max", "source", "rationale"}
_DRILL_KEYS = {"name", "category", "description", "dosage"}
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class RuleFileError(PosecoachError):
    """A rule file is missing, not valid TOML, or has a bad or missing field."""

    exit_code = 9


# ---------------------------------------------------------------------------
# Rule data
# ---------------------------------------------------------------------------


def metric_unit(metric: str | None) -> str:
    """The display unit of a metric, from its name's unit suffix (docs/conventions.md).

    >>> metric_unit("ground_contact_ms"), metric_unit("overstride_pct_leg"), metric_unit("cadence_spm")
    ('ms', '%', 'spm')
    """
    if not metric:
        return ""
    if "_pct" in metric:
        return "%"
    suffixes = {"_deg": "deg", "_ms": "ms", "_cm": "cm", "_spm": "spm", "_mps": "m/s", "_m": "m",
                "_s": "s"}
    for suffix, unit in suffixes.items():
        if metric.endswith(suffix):
            return unit
    return ""


def _fmt(x: float | None, unit: str = "") -> str:
    """A number as people write it: no trailing zeros; ms and spm without decimals."""
    if x is None or not math.isfinite(x):
        return "?" if x is None or math.isnan(x) else ("∞" if x > 0 else "-∞")
    if unit in ("ms", "spm"):
        text = f"{x:.0f}"
    elif abs(x) >= 100:
        text = f"{x:.0f}"
    else:
        text = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def fmt_beside_bands(x: float, unit: str, edges: list[float]) -> str:
    """:func:`_fmt`, with more digits where rounding would put ``x`` on a band edge or across one.

    A value of 0.48 cm against a band "≥ 0.5 cm" reads "0.48", not "0.5"; 110.02 deg against
    "70 to 110 deg" reads "110.02".

    >>> fmt_beside_bands(0.48, "cm", [0.5]), fmt_beside_bands(12.3, "deg", [10.0, 15.0])
    ('0.48', '12.3')
    """
    text = _fmt(x, unit)
    if not math.isfinite(x):
        return text

    def same_side(shown: str) -> bool:
        v = float(shown)
        return all((v > e) == (x > e) and (v < e) == (x < e) for e in edges)

    for digits in (1, 2, 3):
        if same_side(text):
            return text
        text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return text if same_side(text) else f"{x:.3f}"


def fmt_interval(ci: tuple[float, float], unit: str, edges: list[float]) -> str:
    """``"9.1 to 13.9"``: both ends by :func:`fmt_beside_bands`, with more digits where they
    would read the same although they differ.

    >>> fmt_interval((159.74, 160.21), "spm", [170.0]), fmt_interval((159.7, 160.0), "spm", [])
    ('159.7 to 160.2', '159.7 to 160')
    """
    lo, hi = (float(x) for x in ci)
    texts = [fmt_beside_bands(lo, unit, edges), fmt_beside_bands(hi, unit, edges)]
    for digits in (1, 2, 3):
        if texts[0] != texts[1] or lo == hi:
            break
        texts = [f"{x:.{digits}f}".rstrip("0").rstrip(".") for x in (lo, hi)]
    return " to ".join(texts)


def _band_edges(*bands: Band) -> list[float]:
    return [e for b in bands for e in (b.min, b.max) if e is not None]


@dataclass(frozen=True)
class Band:
    """A closed interval ``[min, max]`` (either end may be open) with its source."""

    min: float | None
    max: float | None
    source: str

    def contains(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def overlaps(self, low: float, high: float) -> bool:
        """Whether some value from ``low`` to ``high`` lies in the band."""
        return (self.min is None or high >= self.min) and (self.max is None or low <= self.max)

    def text(self, unit: str = "") -> str:
        """``"-2 to 5 deg"``, ``"≤ 8 deg"``, ``"≥ 85 deg"`` or ``"≤ 10 %"`` (a space before every
        unit, as the measured values are written).
        """
        u = f" {unit}" if unit else ""
        if self.min is not None and self.max is not None:
            return f"{_fmt(self.min, unit)} to {_fmt(self.max, unit)}{u}"
        if self.max is not None:
            return f"≤ {_fmt(self.max, unit)}{u}"
        return f"≥ {_fmt(self.min, unit)}{u}"


@dataclass(frozen=True)
class SpeedBands:
    """Bands used for speeds below ``below_mps`` (and above the previous entry's)."""

    below_mps: float
    good: Band
    borderline: Band


@dataclass(frozen=True)
class Rule:
    """One principle of the method, as read from the rule file (see ``docs/rules.md``)."""

    id: str
    title: str
    group: str
    number: int | None
    metric: str | None
    meaning: str
    key_frame: str | None
    weight: float
    cue: str
    drills: tuple[str, ...]
    source: str
    view: str
    min_steps: int
    aggregate: str
    good: Band | None
    borderline: Band | None
    speed_bands: tuple[SpeedBands, ...] = ()

    @property
    def unit(self) -> str:
        return "%" if self.aggregate == "asymmetry" else metric_unit(self.metric)

    @property
    def speed_relative(self) -> bool:
        return bool(self.speed_bands)

    def bands_for(self, speed_mps: float | None, unknown: str = SPEED_UNKNOWN
                  ) -> tuple[Band | None, Band | None, str]:
        """The (good, borderline) bands for a running speed, and a note on the choice.

        Without a speed a speed-relative rule falls back to its default bands and the note
        is ``unknown``: that, why the speed is not known and how to give it
        (:func:`band_speed`).
        """
        if not self.speed_bands:
            return self.good, self.borderline, ""
        if speed_mps is None or not math.isfinite(speed_mps):
            return self.good, self.borderline, unknown
        lower, sb = 0.0, self.speed_bands[-1]
        for candidate in self.speed_bands:  # the last one has below_mps = inf (validated)
            if speed_mps < candidate.below_mps:
                sb = candidate
                break
            lower = candidate.below_mps
        if math.isinf(sb.below_mps):
            where = f"speeds of {_fmt(lower)} m/s and faster"
        elif lower == 0:
            where = f"speeds below {_fmt(sb.below_mps)} m/s"
        else:
            where = f"speeds of {_fmt(lower)}-{_fmt(sb.below_mps)} m/s"
        return sb.good, sb.borderline, f"bands for {where}, runner at {speed_mps:.1f} m/s"

    def band_text(self, speed_mps: float | None = None, unknown: str = SPEED_UNKNOWN) -> str:
        """Human text of the good and borderline bands (for the given speed; ``unknown``:
        see :meth:`bands_for`).
        """
        if self.view != "side" or self.good is None:
            return "no bands: " + _VIEW_REASONS.get(self.view, "not measured from this view")
        good, borderline, note = self.bands_for(speed_mps, unknown)
        text = (f"good {good.text(self.unit)}; borderline {borderline.text(self.unit)}; "
                "otherwise needs work")
        if self.aggregate == "abs":
            text = "size of the value: " + text
        elif self.aggregate == "worst_side":
            text = "worse foot: " + text
        return f"{text}; {note}" if note else text


@dataclass
class RuleSet:
    """A validated rule file: rules, drill catalogue, transition plan and caveat."""

    version: str
    name: str
    rules: list[Rule]
    drills: dict[str, dict]
    #: phases ``{"weeks", "focus", "sessions"}``, each session ``{"text", "if_working_on"}``
    #: (:func:`tailor_plan` fills in and selects them for a clip)
    plan: list[dict]
    plan_warning: str
    caveat: str
    score_method: str
    points: dict[str, float]
    changelog: list[str] = field(default_factory=list)
    path: str = ""
    extends: str | None = None
    base_version: str | None = None
    #: lines added to ``plan_warning`` for a runner working on their rules
    plan_cautions: list[dict] = field(default_factory=list)

    @property
    def version_text(self) -> str:
        """``"Pose Method (posecoach default) 1.0.0"``, with the base for a squad file."""
        text = f"{self.name} {self.version}"
        if self.extends:
            text += f" (extends {self.extends} {self.base_version})"
        return text

    def get(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.rules]


# ---------------------------------------------------------------------------
# Loading and validating a rule file
# ---------------------------------------------------------------------------


def default_rules_path() -> Path:
    """Path of the packaged default rule file (``rules/pose_method.toml``)."""
    return Path(str(resources.files("posecoach").joinpath(f"rules/{DEFAULT_RULES_NAME}.toml")))


def _read_toml(path: Path) -> dict:
    if not path.exists():
        raise RuleFileError(f"rule file {path} does not exist. Check the path given to --rules.")
    if path.is_dir():
        raise RuleFileError(f"rule file {path} is a folder. Give the path of a .toml rule file.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RuleFileError(f"rule file {path} is not UTF-8 text ({exc}). Save it as UTF-8.") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(
            f"rule file {path} is not valid TOML: {exc}. Fix the syntax there "
            "(see docs/rules.md for an example)."
        ) from exc


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and validate a rule file.

    Parameters
    ----------
    path : str or Path, optional
        A TOML rule file. ``None`` loads the packaged default
        (``rules/pose_method.toml``). A file with ``extends = "pose_method"``
        changes or adds rules on top of the default (merged by rule ``id``;
        ``enabled = false`` drops a rule).

    Returns
    -------
    RuleSet

    Raises
    ------
    RuleFileError
        If the file is missing, not TOML, or a field is missing or wrong; the
        message names the field.
    """
    base_path = default_rules_path()
    path = base_path if path is None else Path(path)
    doc = _read_toml(path)
    extends = doc.get("extends")
    if extends is None:
        return parse_rules(doc, origin=str(path))
    if extends != DEFAULT_RULES_NAME:
        raise RuleFileError(
            f"rule file {path}: extends = {extends!r} is not known. The only base is "
            f"{DEFAULT_RULES_NAME!r} (the packaged default); or leave 'extends' out and give a "
            "complete rule file."
        )
    base_doc = _read_toml(base_path)
    base = parse_rules(base_doc, origin=str(base_path))
    merged = merge_rule_docs(base_doc, doc, origin=str(path))
    ruleset = parse_rules(merged, origin=str(path), retired_rule_ids=[r.id for r in base.rules])
    ruleset.extends, ruleset.base_version = extends, base.version
    return ruleset


def _deep_merge(base: dict, override: Mapping) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_rule_docs(base: dict, override: dict, *, origin: str) -> dict:
    """Apply a squad file (``extends = "pose_method"``) to the base rule document.

    Top-level tables are merged key by key; rules are merged by ``id`` (tables
    deep-merged, lists replaced); a rule with ``enabled = false`` is dropped; a
    new ``id`` adds a rule. A band whose limits change must give its own
    ``source``, so the report never shows the default's source for a squad's
    number.
    """
    if "version" not in override:
        raise RuleFileError(f"rule file {origin}: 'version' is missing. Add e.g. version = \"1.0.0\".")
    merged = {k: copy.deepcopy(v) for k, v in base.items() if k != "rules"}
    for key, value in override.items():
        if key in ("rules", "extends"):
            continue
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping) and key != "plan":
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    if "name" not in override:
        merged["name"] = f"{base.get('name', DEFAULT_RULES_NAME)}, tuned ({Path(origin).name})"
    rules = [copy.deepcopy(r) for r in base.get("rules", [])]
    index = {r.get("id"): i for i, r in enumerate(rules)}
    extra = override.get("rules", [])
    if not isinstance(extra, list):
        raise RuleFileError(f"rule file {origin}: 'rules' must be an array of tables ([[rules]]).")
    drop: set[str] = set()
    for k, rule in enumerate(extra):
        if not isinstance(rule, Mapping) or not isinstance(rule.get("id"), str):
            raise RuleFileError(f"rule file {origin}: rules[{k}].id is missing; every [[rules]] "
                                "entry names the rule it changes or adds with id = \"...\".")
        rid = rule["id"]
        if rule.get("enabled", True) is False:
            drop.add(rid)
            continue
        if rid in index:
            old = rules[index[rid]]
            for bname, band in (rule.get("bands") or {}).items():
                old_band = (old.get("bands") or {}).get(bname, {})
                if isinstance(band, Mapping) and ("min" in band or "max" in band) and not (
                    "source" in band or "rationale" in band
                ) and any(band.get(x) != old_band.get(x) for x in ("min", "max")):
                    raise RuleFileError(
                        f"rule file {origin}: rules[{k}] (id {rid!r}).bands.{bname}.source is "
                        "missing: a band whose limits you change needs its own source or "
                        "rationale (e.g. source = \"squad convention, coach J. Doe 2025\")."
                    )
            if "speed_bands" in rule:
                old.pop("speed_bands", None)
            if "bands" in rule:
                # Changing the limits replaces the band: an old min must not linger under a new max.
                old["bands"] = {**(old.get("bands") or {}), **copy.deepcopy(rule["bands"])}
                rule = {k2: v for k2, v in rule.items() if k2 != "bands"}
            rules[index[rid]] = _deep_merge(old, rule)
        else:
            rules.append(copy.deepcopy(dict(rule)))
            index[rid] = len(rules) - 1
    unknown = drop - set(index)
    if unknown:
        raise RuleFileError(f"rule file {origin}: enabled = false for unknown rule id(s) "
                            f"{sorted(unknown)}; use ids from the default file (docs/rules.md).")
    merged["rules"] = [r for r in rules if r.get("id") not in drop]
    return merged


class _Checker:
    """Field checks that raise :class:`RuleFileError` naming the field."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, problem: str, hint: str = "") -> None:
        msg = f"rule file {self.origin}: {where} {problem}"
        hint = hint or "See docs/rules.md for the format"
        end = "" if hint.endswith((".", "?", "!")) else "."
        raise RuleFileError(f"{msg}. {hint}{end}")

    @staticmethod
    def join(where: str, key: str) -> str:
        return f"{where}.{key}" if where else key

    def keys(self, table: Mapping, allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                self.fail(self.join(where, key), "is not a known field",
                          f"Did you mean {close[0]!r}?" if close else
                          f"Known fields: {', '.join(sorted(allowed))}")

    def text(self, table: Mapping, key: str, where: str, *, required: bool = True) -> str | None:
        if key not in table:
            if required:
                self.fail(self.join(where, key), "is missing", "Add it as a quoted string")
            return None
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(self.join(where, key), f"must be a non-empty string, got {value!r}")
        return value.strip()

    def number(self, table: Mapping, key: str, where: str, *, required: bool = True,
               minimum: float | None = None) -> float | None:
        w = self.join(where, key)
        if key not in table:
            if required:
                self.fail(w, "is missing", "Add it as a number")
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            self.fail(w, f"must be a number, got {value!r}")
        if minimum is not None and value < minimum:
            self.fail(w, f"must be at least {minimum}, got {value!r}")
        return float(value)

    def choice(self, value: Any, options: tuple[str, ...], where: str) -> str:
        if value not in options:
            close = difflib.get_close_matches(str(value), options, n=1)
            self.fail(where, f"is {value!r}, which is not one of {', '.join(options)}",
                      f"Did you mean {close[0]!r}?" if close else "")
        return value

    def table(self, doc: Mapping, key: str, where: str) -> Mapping:
        value = doc.get(key)
        if not isinstance(value, Mapping):
            self.fail(self.join(where, key), "is missing or not a table")
        return value


def _parse_band(chk: _Checker, band: Any, where: str) -> Band:
    if not isinstance(band, Mapping):
        chk.fail(where, "must be a table like { max = 5, source = \"...\" }")
    chk.keys(band, _BAND_KEYS, where)
    lo = chk.number(band, "min", where, required=False)
    hi = chk.number(band, "max", where, required=False)
    if lo is None and hi is None:
        chk.fail(where, "needs 'min', 'max' or both")
    if lo is not None and hi is not None and lo > hi:
        chk.fail(where, f"has min {lo} above max {hi}")
    source = band.get("source", band.get("rationale"))
    if not isinstance(source, str) or not source.strip():
        chk.fail(f"{where}.source", "is missing",
                 "Every band says where its numbers come from (a citation, or 'coaching "
                 "convention' and why)")
    return Band(min=lo, max=hi, source=source.strip())


def _check_nested(chk: _Checker, good: Band, borderline: Band, where: str) -> None:
    lo_ok = borderline.min is None or (good.min is not None and borderline.min <= good.min)
    hi_ok = borderline.max is None or (good.max is not None and borderline.max >= good.max)
    if not (lo_ok and hi_ok):
        chk.fail(f"{where}.borderline", f"({borderline.text()}) must contain the good band "
                 f"({good.text()})", "Widen 'borderline' or narrow 'good'")


def _parse_rule(chk: _Checker, raw: Any, k: int, defaults: Mapping, known_drills: set[str],
                known_metrics: set[str]) -> Rule:
    where = f"rules[{k}]"
    if not isinstance(raw, Mapping):
        chk.fail(where, "must be a table ([[rules]])")
    rid = chk.text(raw, "id", where)
    if not _ID_RE.match(rid):
        chk.fail(f"{where}.id", f"{rid!r} must be lower-case letters, digits and '_'")
    where = f"rules[{k}] (id {rid!r})"
    chk.keys(raw, _RULE_KEYS, where)
    group = chk.choice(raw.get("group"), GROUPS, f"{where}.group")
    number = raw.get("number")
    if group == "key_point":
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 15:
            chk.fail(f"{where}.number", f"must be the key point number 1-15, got {number!r}")
    elif number is not None:
        chk.fail(f"{where}.number", "is only for group = \"key_point\"")
    view = chk.choice(raw.get("view", defaults.get("view", "side")), VIEWS, f"{where}.view")
    aggregate = chk.choice(raw.get("aggregate", defaults.get("aggregate", "median")), AGGREGATES,
                           f"{where}.aggregate")
    metric = chk.text(raw, "metric", where, required=view == "side")
    if metric is not None and metric not in known_metrics:
        close = difflib.get_close_matches(metric, sorted(known_metrics), n=1)
        chk.fail(f"{where}.metric", f"{metric!r} is not a metric posecoach measures",
                 f"Did you mean {close[0]!r}?" if close else "See docs/conventions.md for the names")
    key_frame = raw.get("key_frame")
    if key_frame is not None:
        chk.choice(key_frame, KEY_FRAMES, f"{where}.key_frame")
    weight = chk.number(raw, "weight", where, minimum=0.0)
    min_steps = raw.get("min_steps", defaults.get("min_steps", 4))
    if isinstance(min_steps, bool) or not isinstance(min_steps, int) or min_steps < 1:
        chk.fail(f"{where}.min_steps", f"must be a whole number of steps >= 1, got {min_steps!r}")
    drills = raw.get("drills")
    if not isinstance(drills, list) or not all(isinstance(d, str) for d in drills):
        chk.fail(f"{where}.drills", "must be a list of drill ids, e.g. [\"pony\", \"wall_fall\"]")
    for d in drills:
        if d not in known_drills:
            close = difflib.get_close_matches(d, sorted(known_drills), n=1)
            chk.fail(f"{where}.drills", f"names {d!r}, which is not in the [drills] catalogue",
                     f"Did you mean {close[0]!r}?" if close else "Add it under [drills.<id>]")
    good = borderline = None
    speed_bands: list[SpeedBands] = []
    bands = raw.get("bands")
    if view == "side":
        if not isinstance(bands, Mapping):
            chk.fail(f"{where}.bands", "is missing",
                     "A side-view rule needs [rules.bands.good] and [rules.bands.borderline]")
        chk.keys(bands, {"good", "borderline"}, f"{where}.bands")
        for name in ("good", "borderline"):
            if name not in bands:
                chk.fail(f"{where}.bands.{name}", "is missing")
        good = _parse_band(chk, bands["good"], f"{where}.bands.good")
        borderline = _parse_band(chk, bands["borderline"], f"{where}.bands.borderline")
        _check_nested(chk, good, borderline, f"{where}.bands")
        raw_sb = raw.get("speed_bands", [])
        if not isinstance(raw_sb, list):
            chk.fail(f"{where}.speed_bands", "must be an array of tables ([[rules.speed_bands]])")
        previous = 0.0
        for j, sb in enumerate(raw_sb):
            w = f"{where}.speed_bands[{j}]"
            if not isinstance(sb, Mapping):
                chk.fail(w, "must be a table")
            chk.keys(sb, {"below_mps", "good", "borderline"}, w)
            below = chk.number(sb, "below_mps", w)
            if below <= previous:
                chk.fail(f"{w}.below_mps", f"must be above the previous entry's ({previous}); "
                         "list speed bands from slow to fast, the last with below_mps = inf")
            previous = below
            for name in ("good", "borderline"):
                if name not in sb:
                    chk.fail(f"{w}.{name}", "is missing")
            g = _parse_band(chk, sb["good"], f"{w}.good")
            b = _parse_band(chk, sb["borderline"], f"{w}.borderline")
            _check_nested(chk, g, b, w)
            speed_bands.append(SpeedBands(below_mps=below, good=g, borderline=b))
        if speed_bands and not math.isinf(speed_bands[-1].below_mps):
            chk.fail(f"{where}.speed_bands[{len(speed_bands) - 1}].below_mps",
                     "must be inf in the last entry, so every speed has bands")
        if raw.get("speed_relative", False) and not speed_bands:
            chk.fail(f"{where}.speed_bands", "is missing although speed_relative = true",
                     "Add [[rules.speed_bands]] entries or remove speed_relative")
        if raw.get("speed_relative") is False and speed_bands:
            chk.fail(f"{where}.speed_relative", "is false but speed_bands are given")
    if "enabled" in raw and raw["enabled"] is not True:
        chk.fail(f"{where}.enabled", "= false is only for squad files with extends = "
                 f"\"{DEFAULT_RULES_NAME}\"", "Delete the rule instead")
    return Rule(
        id=rid, title=chk.text(raw, "title", where), group=group,
        number=number if group == "key_point" else None, metric=metric,
        meaning=chk.text(raw, "meaning", where, required=False) or "",
        key_frame=key_frame, weight=weight, cue=chk.text(raw, "cue", where),
        drills=tuple(drills), source=chk.text(raw, "source", where), view=view,
        min_steps=min_steps, aggregate=aggregate, good=good, borderline=borderline,
        speed_bands=tuple(speed_bands),
    )


#: ``{drill:ID}`` (the drill's catalogue name), ``{top_priority}`` and ``{top_cue}`` (the
#: first priority's title and cue) in the plan's texts
_PLAN_FIELD = re.compile(r"\{([^{}]*)\}")
_PLAN_FIELDS = ("top_priority", "top_cue")


def _check_plan_text(chk: _Checker, text: str, where: str, drills: Mapping[str, dict]) -> None:
    for name in _PLAN_FIELD.findall(text):
        if name.startswith("drill:"):
            if name[6:] not in drills:
                close = difflib.get_close_matches(name[6:], sorted(drills), n=1)
                chk.fail(where, f"names the drill {name[6:]!r}, which is not in the catalogue",
                         f"Did you mean {{drill:{close[0]}}}?" if close else "Use an id of [drills]")
        elif name not in _PLAN_FIELDS:
            chk.fail(where, f"holds {{{name}}}, which is not a known field",
                     "Known: {drill:ID}, {top_priority}, {top_cue}")


def _parse_plan_line(chk: _Checker, raw: Any, where: str, drills: Mapping[str, dict], *,
                     table_only: bool = False) -> dict:
    """``"text"`` or ``{ text = "...", if_working_on = ["rule_id", ...] }`` of the plan."""
    if isinstance(raw, str) and not table_only:
        raw = {"text": raw}
    if not isinstance(raw, Mapping):
        chk.fail(where, "must be a table { text = \"...\", if_working_on = [\"rule_id\"] }"
                 + ("" if table_only else " or a string"))
    chk.keys(raw, {"text", "if_working_on"}, where)
    text = chk.text(raw, "text", where)
    _check_plan_text(chk, text, f"{where}.text", drills)
    ids = raw.get("if_working_on", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or (
            table_only and not ids):
        chk.fail(f"{where}.if_working_on", "must be a non-empty list of rule ids" if table_only
                 else "must be a list of rule ids")
    return {"text": text, "if_working_on": list(ids)}


def parse_rules(doc: Mapping, *, origin: str = "<rules>",
                retired_rule_ids: Iterable[str] = ()) -> RuleSet:
    """Validate a parsed rule document (a TOML table) and build a :class:`RuleSet`.

    ``retired_rule_ids``: rule ids the plan may name although no rule has them (the
    default file's rules a squad file drops with ``enabled = false``; its plan is
    inherited and names them).

    Raises
    ------
    RuleFileError
        Naming the first bad or missing field.
    """
    chk = _Checker(origin)
    chk.keys(doc, _TOP_KEYS, "")
    version = chk.text(doc, "version", "")
    name = chk.text(doc, "name", "", required=False) or Path(origin).stem
    caveat = chk.text(doc, "caveat", "")
    changelog = doc.get("changelog", [])
    if not isinstance(changelog, list) or not all(isinstance(c, str) for c in changelog):
        chk.fail("changelog", "must be a list of strings")
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, Mapping):
        chk.fail("defaults", "must be a table")
    chk.keys(defaults, {"min_steps", "view", "aggregate"}, "defaults")
    # score
    score = chk.table(doc, "score", "")
    chk.keys(score, {"method", "points"}, "score")
    method = chk.text(score, "method", "score")
    points_raw = chk.table(score, "points", "score")
    chk.keys(points_raw, {"pass", "borderline", "fail"}, "score.points")
    points = {s: chk.number(points_raw, s, "score.points", minimum=0.0)
              for s in ("pass", "borderline", "fail")}
    if not points["pass"] >= points["borderline"] >= points["fail"]:
        chk.fail("score.points", "must satisfy pass >= borderline >= fail")
    # drills
    drills_raw = chk.table(doc, "drills", "")
    drills: dict[str, dict] = {}
    for did, d in drills_raw.items():
        w = f"drills.{did}"
        if not _ID_RE.match(did):
            chk.fail(w, "id must be lower-case letters, digits and '_'")
        if not isinstance(d, Mapping):
            chk.fail(w, "must be a table")
        chk.keys(d, _DRILL_KEYS, w)
        entry = {k: chk.text(d, k, w) for k in ("name", "description", "dosage")}
        entry["category"] = chk.choice(d.get("category"), DRILL_CATEGORIES, f"{w}.category")
        drills[did] = entry
    # plan
    plan_raw = chk.table(doc, "plan", "")
    chk.keys(plan_raw, {"warning", "cautions", "phases"}, "plan")
    plan_warning = chk.text(plan_raw, "warning", "plan")
    _check_plan_text(chk, plan_warning, "plan.warning", drills)
    cautions_raw = plan_raw.get("cautions", [])
    if not isinstance(cautions_raw, list):
        chk.fail("plan.cautions", "must be an array of tables ([[plan.cautions]])")
    plan_cautions = [_parse_plan_line(chk, c, f"plan.cautions[{j}]", drills, table_only=True)
                     for j, c in enumerate(cautions_raw)]
    phases = plan_raw.get("phases")
    if not isinstance(phases, list) or not phases:
        chk.fail("plan.phases", "is missing or empty", "Add [[plan.phases]] entries")
    plan: list[dict] = []
    for j, ph in enumerate(phases):
        w = f"plan.phases[{j}]"
        if not isinstance(ph, Mapping):
            chk.fail(w, "must be a table")
        chk.keys(ph, {"weeks", "focus", "sessions"}, w)
        sessions = ph.get("sessions")
        if not isinstance(sessions, list) or not sessions:
            chk.fail(f"{w}.sessions", "must be a non-empty list of strings or tables "
                     "({ text = \"...\", if_working_on = [\"rule_id\"] })")
        plan.append({"weeks": chk.text(ph, "weeks", w), "focus": chk.text(ph, "focus", w),
                     "sessions": [_parse_plan_line(chk, x, f"{w}.sessions[{i}]", drills)
                                  for i, x in enumerate(sessions)]})
    # rules
    rules_raw = doc.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        chk.fail("rules", "is missing or empty", "Add [[rules]] entries")
    rules: list[Rule] = []
    seen: set[str] = set()
    for k, raw in enumerate(rules_raw):
        rule = _parse_rule(chk, raw, k, defaults, set(drills), set(METRIC_KINDS))
        if rule.id in seen:
            chk.fail(f"rules[{k}].id", f"{rule.id!r} is used twice", "Rule ids must be unique")
        seen.add(rule.id)
        rules.append(rule)
    lines = [(f"plan.cautions[{j}]", c) for j, c in enumerate(plan_cautions)] + [
        (f"plan.phases[{j}].sessions[{i}]", x)
        for j, ph in enumerate(plan) for i, x in enumerate(ph["sessions"])]
    known = seen | set(retired_rule_ids)
    for where, line in lines:
        unknown = sorted(set(line["if_working_on"]) - known)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(seen), n=1)
            chk.fail(f"{where}.if_working_on", f"names {unknown[0]!r}, which is not a rule id",
                     f"Did you mean {close[0]!r}?" if close else "Use the ids of [[rules]] entries")
    return RuleSet(
        version=version, name=name, rules=rules, drills=drills, plan=plan,
        plan_warning=plan_warning, plan_cautions=plan_cautions, caveat=caveat,
        score_method=method, points=points,
        changelog=list(changelog), path=origin,
    )


# ---------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------


def band_status(value: float, good: Band, borderline: Band) -> str:
    """``"pass"`` inside ``good``, ``"borderline"`` inside ``borderline``, else ``"fail"``.

    >>> band_status(4.0, Band(None, 5.0, ""), Band(None, 10.0, ""))
    'pass'
    >>> band_status(12.0, Band(None, 5.0, ""), Band(None, 10.0, ""))
    'fail'
    """
    if good.contains(value):
        return "pass"
    if borderline.contains(value):
        return "borderline"
    return "fail"


def band_distance(value: float, good: Band, borderline: Band) -> float:
    """How far a value lies outside the good band, in units of the borderline margin.

    0 inside the good band; 1 at the edge of the borderline band; above 1 in the
    fail zone. The margin is the distance from the good edge to the borderline
    edge on the side where the value lies; where the borderline band is open on
    that side, a quarter of the good edge's size (at least 1 unit) stands in.

    >>> band_distance(12.0, Band(None, 5.0, ""), Band(None, 10.0, ""))
    1.4
    """
    if good.contains(value):
        return 0.0
    if good.max is not None and value > good.max:
        edge, outer, gap = good.max, borderline.max, value - good.max
        margin = (outer - edge) if outer is not None else np.nan
    else:
        edge, outer, gap = good.min, borderline.min, good.min - value
        margin = (edge - outer) if outer is not None else np.nan
    if not np.isfinite(margin) or margin <= 0:
        margin = max(abs(edge) * 0.25, 1.0)
    return float(gap / margin)


@dataclass
class RuleResult:
    """The verdict on one rule (see the agreed interface in ``docs/rules.md``)."""

    id: str
    title: str
    group: str
    number: int | None
    status: str
    value: float | None
    unit: str
    spread: float | None
    n: int
    left: float | None
    right: float | None
    metric: str | None
    band_text: str
    cue: str
    drills: list[str]
    reason: str
    key_frame: str | None
    weight: float
    source: str
    meaning: str = ""
    resolution: float | None = None
    distance: float | None = None
    #: the value as shown (:func:`fmt_beside_bands`: never rounded onto or across a band edge)
    value_text: str = ""
    #: 95 % interval of the value (:func:`posecoach.metrics.median_ci`), None without one
    ci95: tuple[float, float] | None = None
    #: ``ci95`` as shown ("A to B", never rounded onto or across a band edge)
    ci95_text: str = ""
    #: the statuses of the values in ``ci95`` (pass/borderline/fail order); one means certain
    possible_statuses: list[str] = field(default_factory=list)
    #: the smallest :func:`band_distance` of the values in ``ci95``
    #: (:func:`band_distance_within`): how far out the fault lies at least, with 95 %
    distance_ci95: float | None = None

    @property
    def certain(self) -> bool | None:
        """Whether the whole 95 % interval gets this verdict (None without an interval)."""
        return None if not self.possible_statuses else self.possible_statuses == [self.status]

    @property
    def assessable(self) -> bool:
        return self.status != "not_assessable"

    def to_json(self) -> dict:
        """The ``analysis.json`` entry: ``{id, title, status, value, unit, cue}`` and the rest."""
        doc = {
            "id": self.id, "title": self.title, "status": self.status, "value": self.value,
            "unit": self.unit, "cue": self.cue, "group": self.group, "number": self.number,
            "spread": self.spread, "n": self.n, "left": self.left, "right": self.right,
            "metric": self.metric, "band_text": self.band_text, "drills": list(self.drills),
            "reason": self.reason, "key_frame": self.key_frame, "weight": self.weight,
            "source": self.source, "meaning": self.meaning, "resolution": self.resolution,
            "distance": self.distance,
            "ci95": None if self.ci95 is None else [_json_num(x) for x in self.ci95],
            "possible_statuses": list(self.possible_statuses),
            "distance_ci95": self.distance_ci95,
        }
        return {k: _json_num(v) for k, v in doc.items()}


def _json_num(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


@dataclass
class Assessment:
    """The verdicts on one analysis, the score, the priorities and the coaching material."""

    results: list[RuleResult]
    score: dict
    priorities: list[RuleResult]
    drills: dict[str, dict]
    plan: list[dict]
    rules_version: str
    caveat: str
    plan_warning: str = ""
    recommended_drills: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def get(self, rule_id: str) -> RuleResult:
        for r in self.results:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def to_json_dict(self) -> dict:
        """Everything, JSON-ready (the pipeline stores ``results`` and ``score`` in analysis.json)."""
        return {
            "rules_version": self.rules_version, "score": self.score,
            "results": [r.to_json() for r in self.results],
            "priorities": [r.id for r in self.priorities],
            "recommended_drills": list(self.recommended_drills), "drills": self.drills,
            "plan": self.plan, "plan_warning": self.plan_warning, "caveat": self.caveat,
        }


_VIEW_REASONS = {
    "front": "needs a front (or back) view; a side view cannot show it, so it is not guessed",
    "none": "cannot be seen in joint positions on video; a coach or the runner has to judge it",
}


def _side_values(steps: Any, metric: str, side: str) -> np.ndarray:
    """The finite values of ``metric`` in ``side``'s steps (empty without them)."""
    try:
        vals = steps.loc[steps["side"] == side, metric].to_numpy(dtype=float)
    except (KeyError, TypeError, AttributeError):
        return np.empty(0)
    return vals[np.isfinite(vals)]


def _iqr(vals: np.ndarray) -> float | None:
    if vals.size < 2:
        return None
    q1, q3 = np.percentile(vals, [25, 75])
    return float(q3 - q1)


def _ci_pair(ci: Any) -> tuple[float, float] | None:
    """A ``[low, high]`` from the summary as a tuple of finite numbers, else None."""
    try:
        lo, hi = (_finite(x) for x in ci)
    except (TypeError, ValueError):
        return None
    return None if lo is None or hi is None else (lo, hi)


def _abs_ci(ci: tuple[float, float] | None) -> tuple[float, float] | None:
    """The interval of ``|x|`` for ``x`` in ``ci``."""
    if ci is None:
        return None
    lo, hi = ci
    if lo >= 0:
        return ci
    if hi <= 0:
        return (-hi, -lo)
    return (0.0, max(-lo, hi))


def statuses_within(ci: tuple[float, float], good: Band, borderline: Band) -> list[str]:
    """The verdicts (:func:`band_status`) of the values from ``ci[0]`` to ``ci[1]``.

    The status changes only at band edges, so the ends, the edges between them and a
    point between each two of those cover every value.

    >>> statuses_within((4.0, 7.0), Band(None, 5.0, ""), Band(None, 10.0, ""))
    ['pass', 'borderline']
    """
    lo, hi = ci
    points = sorted({lo, hi, *(e for e in _band_edges(good, borderline) if lo < e < hi)})
    points += [0.5 * (a + b) for a, b in zip(points, points[1:], strict=False)]
    found = {band_status(x, good, borderline) for x in points}
    return [st for st in ("pass", "borderline", "fail") if st in found]


def band_distance_within(ci: tuple[float, float], good: Band, borderline: Band) -> float:
    """The smallest :func:`band_distance` of the values from ``ci[0]`` to ``ci[1]``.

    0 when the interval reaches the good band; otherwise the distance of its end nearer
    the good band (the distance grows away from the good band on either side). For a
    95 % interval it is how far outside the good band the value lies at least, with 95 %:
    a lower confidence bound of the fault's size, which :func:`rank_priorities` ranks by.

    >>> band_distance_within((12.0, 20.0), Band(None, 5.0, ""), Band(None, 10.0, ""))
    1.4
    >>> band_distance_within((4.0, 20.0), Band(None, 5.0, ""), Band(None, 10.0, ""))
    0.0
    """
    if good.overlaps(*ci):
        return 0.0
    return min(band_distance(float(x), good, borderline) for x in ci)


def _real_time_problem(rule: Rule, analysis: Any) -> str | None:
    """Why a time-based rule cannot be judged on this clip (slow motion, or flights too long
    for the bounce: contacts missed), or None.
    """
    if METRIC_KINDS.get(rule.metric) not in ("time", "rate"):
        return None
    problem = quality.analysis_timing_problem(analysis)
    if problem is None or (rule.aggregate == "asymmetry" and problem.kind != "missed_contacts"):
        return None  # ratios of times are the same in slow motion, not with contacts missed
    return problem.reason


def _measure(rule: Rule, analysis: Any, good: Band, borderline: Band) -> dict:
    """The value the bands are applied to, with spread, n and sides; or a reason it is missing."""
    entry = analysis.summary.get(rule.metric)
    if entry is None:
        return {"reason": f"not measured: this analysis has no {rule.metric!r}"}
    n = int(entry.get("n") or 0)
    left, right = _finite(entry.get("left")), _finite(entry.get("right"))
    out = {"n": n, "left": left, "right": right, "resolution": _finite(entry.get("resolution"))}
    median = _finite(entry.get("median"))
    if n == 0 or median is None:
        out["reason"] = ("not measured: no step gave a value (the body points it needs were hidden "
                         "or not found, e.g. occlusion or the body out of frame)")
        return out
    if n < rule.min_steps:
        out["reason"] = (f"too few steps: {count(n, 'step')} with a value, {rule.min_steps} "
                         "needed; film more steps")
        return out
    per_side_min = math.ceil(rule.min_steps / 2)
    ci = _ci_pair(entry.get("median_ci95"))
    if rule.aggregate == "median":
        out.update(value=median, spread=_finite(entry.get("iqr")), ci=ci,
                   how=_how_summarised(entry, n))
    elif rule.aggregate == "abs":
        out.update(value=abs(median), spread=_finite(entry.get("iqr")), ci=_abs_ci(ci),
                   how=f"size of the median of {n} steps")
    else:
        per_side = {s: _side_values(getattr(analysis, "steps", None), rule.metric, s)
                    for s in SIDES}
        counts = {s: v.size for s, v in per_side.items()}
        usable = [s for s in SIDES if counts[s] >= per_side_min and
                  _finite(entry.get(s)) is not None]
        if rule.aggregate == "asymmetry":
            res = out["resolution"]
            asym = symmetry_index(left, right, res) if len(usable) == 2 else None
            if asym is None:
                out["reason"] = (f"needs both feet: at least {per_side_min} steps of each foot "
                                 "with a value")
                return out
            u = metric_unit(rule.metric)
            allowance = f", less {_fmt(res, u)} {u} of measurement resolution" if res else ""
            ci = asymmetry_ci(per_side["left"], per_side["right"], res)
            out.update(value=asym, spread=None, resolution=None, ci=ci,
                       how=f"left {_fmt(left, u)} vs right {_fmt(right, u)} {u}{allowance}")
        else:  # worst_side
            if not usable:
                out["reason"] = (f"too few steps per foot: {per_side_min} of one foot needed")
                return out
            worst = max(usable, key=lambda s: band_distance(entry[s], good, borderline))
            vals = per_side[worst]
            out.update(value=float(entry[worst]), spread=_iqr(vals), ci=median_ci(vals),
                       n=counts[worst],
                       how=f"median of the {worst} foot's {counts[worst]} steps (the worse foot)")
    return out


def _how_summarised(entry: dict, n: int) -> str:
    """How a summary value was made from the steps, for a verdict's reason: the median, or
    for the cadence the method its entry names (``metrics.summarise``).
    """
    method = entry.get("method")
    if method == CADENCE_FROM_SLOPES:
        return f"{n} steps: the slope of contact time over consecutive steps"
    if method == CADENCE_FROM_STRIDES:
        return f"median of {n} strides"
    return f"median of {n} steps"


def symmetry_index(left: float | None, right: float | None,
                   resolution: float | None = None) -> float | None:
    """Left/right asymmetry in %, allowing for the measurement's resolution.

    ``max(|L - R| - resolution, 0) / |mean(L, R)| * 100``: the symmetry index of
    Robinson et al. (1987, J Manipulative Physiol Ther 10:172), with the
    difference first reduced by one resolution step (e.g. one frame for a time),
    so a difference that the video cannot resolve is not called asymmetry.
    None without both sides or with a mean of 0.

    >>> symmetry_index(200.0, 260.0, 40.0)  # 25 fps: 60 ms apart, 40 ms of it is one frame
    8.695652173913043
    """
    if left is None or right is None:
        return None
    mean = 0.5 * (left + right)
    if abs(mean) < 1e-9:
        return None
    return float(max(abs(left - right) - (resolution or 0.0), 0.0) / abs(mean) * 100.0)


def asymmetry_ci(left: np.ndarray, right: np.ndarray, resolution: float | None = None, *,
                 level: float = 0.95) -> tuple[float, float] | None:
    """An interval of :func:`symmetry_index` from each foot's steps, or None.

    Each foot's median gets its :func:`posecoach.metrics.median_ci` at ``1 - (1 - level) / 2``
    (97.5 %), so both lie in theirs at once with at least ``level`` (Bonferroni); the
    interval is the smallest and the largest index (with its resolution allowance) over
    that box of left and right values: 0 where the two intervals overlap. None with fewer
    than 7 steps of either foot (the fewest a 97.5 % interval of a median needs).

    >>> asymmetry_ci(np.full(8, 250.0), np.full(8, 280.0))  # every step alike: the index itself
    (11.320754716981133, 11.320754716981133)
    """
    per_foot = 1.0 - (1.0 - level) / 2.0
    left, right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    left, right = left[np.isfinite(left)], right[np.isfinite(right)]
    cl, cr = median_ci(left, level=per_foot), median_ci(right, level=per_foot)
    if cl is None or cr is None or abs(float(np.median(left)) + float(np.median(right))) < 1e-9:
        return None
    # the index grows with the gap between the feet and shrinks with their mean, so over
    # the box of both intervals it is largest at one far corner and smallest (0 where the
    # intervals overlap) at the near one; taken there (not over the point estimates' mean),
    # it stays within the index's own range (at most 200 % for positive values)
    far = max(symmetry_index(cl[1], cr[0], resolution) or 0.0,
              symmetry_index(cl[0], cr[1], resolution) or 0.0)
    if cl[0] > cr[1]:
        near = symmetry_index(cl[0], cr[1], resolution) or 0.0
    elif cr[0] > cl[1]:
        near = symmetry_index(cl[1], cr[0], resolution) or 0.0
    else:
        near = 0.0
    return near, far


def _not_assessable(rule: Rule, reason: str, band_text: str, measured: dict | None = None) -> RuleResult:
    m = measured or {}
    return RuleResult(
        id=rule.id, title=rule.title, group=rule.group, number=rule.number,
        status="not_assessable", value=None, unit=rule.unit, spread=None, n=int(m.get("n", 0)),
        left=m.get("left"), right=m.get("right"), metric=rule.metric, band_text=band_text,
        cue=rule.cue, drills=list(rule.drills), reason=reason, key_frame=rule.key_frame,
        weight=rule.weight, source=rule.source, meaning=rule.meaning,
        resolution=m.get("resolution"),
    )


_ZONE_TEXT = {"pass": "the good band", "borderline": "the borderline band",
              "fail": "the needs-work zone"}

_VERDICT_TEXT = {
    "pass": "inside the good band",
    "borderline": "outside the good band but inside the borderline band",
    "fail": "outside the borderline band: needs work",
}


def band_speed(analysis: Any) -> tuple[float | None, str]:
    """The running speed that picks speed-matched bands, or None and why it is not known.

    A measured speed is in video time, so on a clip that is not real time (implausible
    cadence: slow motion) it is not used. The reason says how to give the speed: the
    belt speed on a treadmill; overground the running speed, which posecoach measures
    only with a fixed camera.
    """
    runner = analysis.runner or {}
    speed = _finite(runner.get("speed_mps"))
    if speed is not None and runner.get("speed_source") == "user":
        return speed, ""
    if speed is not None:
        problem = quality.analysis_timing_problem(analysis)
        if problem is None or problem.kind == "missed_contacts":
            return speed, ""
        return None, _default_bands_note(
            "the speed measured from the video is in video time, not real time "
            f"({problem.kind.replace('_', ' ')}: see the warnings)",
            "the rate it was filmed at (--capture-fps) or the running speed (--speed-kmh)")
    if runner.get("setting") == "overground":
        return None, _default_bands_note("speed unknown (it is measured only with a fixed camera)",
                                         "the running speed (--speed-kmh)")
    return None, SPEED_UNKNOWN


def assess_rule(rule: Rule, analysis: Any) -> RuleResult:
    """The verdict on one rule for one analysis (the generic logic of the module docstring)."""
    speed, unknown = band_speed(analysis)
    band_text = rule.band_text(speed, unknown)
    gait = (analysis.gait or {}).get("classification", "unknown")
    if gait != "running":
        why = (analysis.gait or {}).get("reason") or f"the gait is {gait}"
        hint = ("posecoach judges running technique only" if gait == "walking"
                else FILM_ADVICE)
        return _not_assessable(rule, f"not judged: {why}; {hint}", band_text)
    clip_view = (analysis.runner or {}).get("view", "side")
    if rule.view != clip_view:
        reason = _VIEW_REASONS.get(rule.view, f"needs a {rule.view} view; this clip is a "
                                              f"{clip_view} view")
        return _not_assessable(rule, reason, band_text)
    good, borderline, _ = rule.bands_for(speed, unknown)
    measured = _measure(rule, analysis, good, borderline)
    if "reason" in measured:
        return _not_assessable(rule, measured["reason"], band_text, measured)
    slow = _real_time_problem(rule, analysis)
    if slow:
        return _not_assessable(rule, slow, band_text, measured)
    value = measured["value"]
    status = band_status(value, good, borderline)
    spread = measured.get("spread")
    unit = rule.unit
    spread_text = f", IQR {_fmt(spread, unit)}" if spread is not None else ""
    edges = _band_edges(good, borderline)
    value_text = fmt_beside_bands(float(value), unit, edges)
    reason = (f"{rule.meaning + ' ' if rule.meaning else ''}Measured {value_text} {unit} "
              f"({measured['how']}{spread_text}): {_VERDICT_TEXT[status]} ({band_text}).")
    ci = measured.get("ci")
    possible = statuses_within(ci, good, borderline) if ci is not None else []
    ci_text = "" if ci is None else fmt_interval(ci, unit, edges)
    if len(possible) > 1:
        others = " and ".join(_ZONE_TEXT[st] for st in possible if st != status)
        what = "difference between the feet" if rule.aggregate == "asymmetry" else "median"
        reason += (f" Not certain: the 95 % interval of the {what}, {ci_text} {unit}, reaches "
                   f"into {others} (more steps narrow it).")
    return RuleResult(
        id=rule.id, title=rule.title, group=rule.group, number=rule.number, status=status,
        value=float(value), unit=unit, spread=spread, n=int(measured["n"]),
        left=measured["left"], right=measured["right"], metric=rule.metric, band_text=band_text,
        cue=rule.cue, drills=list(rule.drills), reason=reason, key_frame=rule.key_frame,
        weight=rule.weight, source=rule.source, meaning=rule.meaning,
        resolution=measured.get("resolution"), distance=band_distance(value, good, borderline),
        value_text=value_text, ci95=ci, ci95_text=ci_text, possible_statuses=possible,
        distance_ci95=None if ci is None else band_distance_within(ci, good, borderline),
    )


def weighted_score(results: list[RuleResult], points: Mapping[str, float], method: str = "") -> dict:
    """The transparent overall score.

    ``value_pct = 100 * sum(weight * points[status]) / sum(weight)`` over the
    rules that could be assessed (default points: pass 1, borderline 0.5,
    fail 0). Rules that could not be assessed are left out, never counted as
    fails. ``value_pct`` is None when nothing (of positive weight) was assessed.
    """
    assessed = [r for r in results if r.assessable]
    total = sum(r.weight for r in assessed)
    earned = sum(r.weight * points[r.status] for r in assessed)
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    return {
        "value_pct": float(100.0 * earned / total) if total > 0 else None,
        "method": method or "100 x sum(weight x points) / sum(weight) over assessed rules",
        "points": dict(points),
        "n_assessed": len(assessed),
        "n_rules": len(results),
        "counts": counts,
        "weights": {r.id: r.weight for r in results},
        "weights_assessed": float(total),
    }


def rank_priorities(results: list[RuleResult], n: int = 3) -> list[RuleResult]:
    """The ``n`` most important things to work on.

    Failing rules first, then borderline ones; within each, by
    ``weight x min(distance, PRIORITY_DISTANCE_CAP)`` (:func:`band_distance`,
    1 = at the fail edge), largest first, where ``distance`` is the smallest
    distance within the value's 95 % interval (``distance_ci95``,
    :func:`band_distance_within`) when it has one: a fault known to lie far out
    ranks above one whose steps scatter back towards the good band, as items
    are ranked by the lower bound of their rating's confidence interval rather
    than by its estimate (Miller 2009, "How not to sort by average rating").
    A verdict without an interval (too few steps) is not known to lie past the
    good band: its lower bound counts as 0, like an interval reaching the band.
    Ties by the median's distance (so on a clip too short for any interval the
    ranking is by the median), then by weight, then by rule order. The cap
    (3 margins into the fail zone) keeps one far-out, possibly noisy value from
    outranking heavier faults. Passing and unassessable rules are never
    priorities.
    """
    order = {"fail": 0, "borderline": 1}

    def size(distance: float | None, weight: float) -> float:
        return weight * min(distance or 0.0, PRIORITY_DISTANCE_CAP)

    ranked = [(order[r.status], -size(r.distance_ci95, r.weight), -size(r.distance, r.weight),
               -r.weight, i, r)
              for i, r in enumerate(results) if r.status in order]
    ranked.sort(key=lambda t: t[:5])
    return [t[-1] for t in ranked[:n]]


def _recommended_drills(results: list[RuleResult], priorities: list[RuleResult]) -> list[str]:
    """Drill ids for the priorities first, then for the other failing/borderline rules."""
    out: list[str] = []
    rest = [r for r in rank_priorities(results, n=len(results)) if r not in priorities]
    for r in [*priorities, *rest]:
        for d in r.drills:
            if d not in out:
                out.append(d)
    return out


#: Statuses of the rules a runner is working on (the plan's ``if_working_on``).
WORKING_ON = ("fail", "borderline")


def tailor_plan(rules: RuleSet, results: list[RuleResult],
                priorities: list[RuleResult]) -> tuple[list[dict], str]:
    """The transition plan and its warning for one runner.

    A line with ``if_working_on`` is kept only when one of those rules needs work or is
    borderline (the runner is changing it); the cautions that are kept follow the
    warning. ``{drill:ID}`` becomes the drill's catalogue name (as the drill table
    shows it); ``{top_priority}`` and ``{top_cue}`` the first priority's title and cue,
    and a line that names them is left out when there is no priority.

    Returns
    -------
    (phases, warning)
        ``phases`` as the rule file's, each session a string.
    """
    working = {r.id for r in results if r.status in WORKING_ON}
    top = priorities[0] if priorities else None

    def fill(line: dict) -> str | None:
        if line["if_working_on"] and not working & set(line["if_working_on"]):
            return None
        names = _PLAN_FIELD.findall(line["text"])
        if top is None and any(n in _PLAN_FIELDS for n in names):
            return None
        values = {"top_priority": top.title if top else "", "top_cue": top.cue if top else ""}
        return _PLAN_FIELD.sub(
            lambda m: (rules.drills[m.group(1)[6:]]["name"] if m.group(1).startswith("drill:")
                       else values[m.group(1)]), line["text"])

    phases = []
    for ph in rules.plan:
        sessions = [t for t in (fill(x) for x in ph["sessions"]) if t]
        if sessions:
            phases.append({"weeks": ph["weeks"], "focus": ph["focus"], "sessions": sessions})
    warning = " ".join([fill({"text": rules.plan_warning, "if_working_on": []}) or "",
                        *[t for t in (fill(c) for c in rules.plan_cautions) if t]]).strip()
    return phases, warning


def assess(analysis: Any, rules: RuleSet | None = None) -> Assessment:
    """Judge an analysis against a rule set.

    Parameters
    ----------
    analysis : posecoach.analysis.Analysis
        Uses ``gait``, ``summary``, ``steps`` and ``runner`` (speed, view).
        Not modified.
    rules : RuleSet, optional
        From :func:`load_rules`; the packaged default when None.

    Returns
    -------
    Assessment
        ``results`` (one :class:`RuleResult` per rule, in file order),
        ``score`` (:func:`weighted_score`), ``priorities`` (top 3,
        :func:`rank_priorities`), the drill catalogue, the transition plan, the
        rule file's version, the evidence caveat and ``warnings`` for the whole clip
        (:func:`too_few_steps_warning`; :func:`posecoach.pipeline.judge` adds them to
        ``analysis.quality["warnings"]``).
    """
    rules = rules if rules is not None else load_rules()
    results = [assess_rule(rule, analysis) for rule in rules.rules]
    priorities = rank_priorities(results, n=3)
    steps = getattr(analysis, "steps", None)
    n_steps = 0 if steps is None else len(steps)
    # steps with both feet down (a lost foot) are not in the summary the rules judge
    n_left_out = len((getattr(analysis, "quality", None) or {}).get("overlapping_steps") or [])
    plan, plan_warning = tailor_plan(rules, results, priorities)
    return Assessment(
        results=results,
        score=weighted_score(results, rules.points, rules.score_method),
        priorities=priorities,
        drills=copy.deepcopy(rules.drills),
        plan=plan,
        rules_version=rules.version_text,
        caveat=rules.caveat,
        plan_warning=plan_warning,
        recommended_drills=_recommended_drills(results, priorities),
        warnings=[w for w in [too_few_steps_warning(results, rules, n_steps, n_left_out)] if w],
    )


def too_few_steps_warning(results: list[RuleResult], rules: RuleSet, n_steps: int,
                          n_left_out: int = 0) -> str | None:
    """One warning for the whole clip when it holds too few steps for steady verdicts.

    Each rule that lacked steps already says so in its own reason, and every verdict
    carries its ``n``; but a short clip (a 2-second phone clip holds three to five steps)
    leaves most rules unjudged, or judged on a handful of steps, and the user should hear
    that once, with what to film instead. Given when the clip holds fewer than twice the
    largest ``min_steps`` of the rules (at least that many per foot) and something was
    measured (a clip that is not running has its own warning). In a longer clip a rule
    short of steps lacks visible body points, which its own reason covers. None otherwise.

    ``n_left_out`` of the ``n_steps`` steps were left out of the summary (both feet on the
    ground: ``quality.overlapping_steps``); the verdicts rest on the others, so those count.
    """
    need = max((rule.min_steps for rule in rules.rules if rule.metric is not None), default=0)
    used = n_steps - n_left_out
    if used >= 2 * need or not any(r.n > 0 for r in results):
        return None
    film = (f"film at least {2 * need} steps ({need} per foot) of steady running: about 10 s on "
            "a treadmill, or 4 strides past the camera")
    holds = (f"it holds {n_steps} steps, of which {used} could be used ({n_left_out} left out, see "
             "above)" if n_left_out else f"it holds {count(n_steps, 'step')}")
    per_rule = {rule.id: rule.min_steps for rule in rules.rules}
    starved = [r for r in results if r.status == "not_assessable" and r.metric is not None
               and 0 < r.n < per_rule.get(r.id, 0)]
    if starved:
        judged = sum(r.status != "not_assessable" for r in results)
        one = len(starved) == 1
        rest = (f", and the {judged} judged rest on {used} steps or fewer, so one odd step moves "
                f"{'it' if judged == 1 else 'them'}" if judged else "")
        return (f"the clip is short: {holds}; {len(starved)} of {len(results)} rules "
                f"{'needs' if one else 'need'} {need} steps with a value and "
                f"{'was' if one else 'were'} not judged{rest}; {film}")
    return (f"the clip is short: {holds}, so each verdict rests on {used} steps or fewer and one "
            f"odd step moves it; {film}")


# ---------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_table_markdown(rules: RuleSet | None = None) -> str:
    """The Markdown tables of ``docs/rules.md``: every rule, its metric, bands and sources."""
    rules = rules if rules is not None else load_rules()
    lines = [
        f"Rule file: {rules.version_text}, {len(rules.rules)} rules.",
        "",
        "| # | id | principle | metric | good | borderline | view | weight | key frame |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rules.rules:
        num = str(r.number) if r.number is not None else {"element": "E", "model": "M",
                                                            "practice": "P"}.get(r.group, "")
        metric = f"`{r.metric}`" if r.metric else "—"
        if r.aggregate != "median":
            metric += f" ({r.aggregate})"
        good = r.good.text(r.unit) if r.good else "—"
        border = r.borderline.text(r.unit) if r.borderline else "—"
        if r.speed_bands:
            good += " *"
            border += " *"
        lines.append(f"| {num} | `{r.id}` | {_md(r.title)} | {metric} | {_md(good)} | "
                     f"{_md(border)} | {r.view} | {_fmt(r.weight)} | {r.key_frame or '—'} |")
    lines += ["", "\\* speed-relative: the default shown is used when the speed is unknown "
              "(the verdict says so); otherwise:", "",
              "| id | speed | good | borderline |", "|---|---|---|---|"]
    for r in rules.rules:
        lower = 0.0
        for sb in r.speed_bands:
            where = (f"≥ {_fmt(lower)} m/s" if math.isinf(sb.below_mps) else
                     f"{_fmt(lower)}–{_fmt(sb.below_mps)} m/s")
            lines.append(f"| `{r.id}` | {where} | {sb.good.text(r.unit)} | "
                         f"{sb.borderline.text(r.unit)} |")
            lower = sb.below_mps
    lines += ["", "Sources of each rule and band:", ""]
    for r in rules.rules:
        lines.append(f"- **`{r.id}`** — {_md(r.source)}")
        if r.good is not None:
            lines.append(f"  - good: {_md(r.good.source)}")
            lines.append(f"  - borderline: {_md(r.borderline.source)}")
    return "\n".join(lines) + "\n"
