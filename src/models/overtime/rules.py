"""Parameters of the overtime domain: the shift being covered and the rules that rank people for it.

Both are frozen dataclasses validated in ``__post_init__`` so that a bad configuration fails where it is
built (a page form, the CLI, a test) rather than deep inside the ranking.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Literal

import pandas as pd

from src.data import kinds

#: the five ranking factors, in display order
FACTORS: tuple[str, ...] = ("availability", "acceptance", "fairness", "site_preference", "reliability")

#: default factor weights (issue 6): availability 40 %, acceptance 25 %, fairness 20 %, site 10 %, reliability 5 %
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"availability": 0.40, "acceptance": 0.25, "fairness": 0.20, "site_preference": 0.10, "reliability": 0.05}
)

#: default start time of each canonical shift type, and the accepted spellings: defined with the dataset kinds
#: (``src.data.kinds``) because roster uploads are validated against the same vocabulary
DEFAULT_SHIFT_STARTS = kinds.DEFAULT_SHIFT_STARTS
SHIFT_TYPE_ALIASES = kinds.SHIFT_TYPE_ALIASES
normalise_shift_type = kinds.normalise_shift_type

TieBreak = Literal["seniority", "staff_id", "fewest_hours"]
TIE_BREAKS: tuple[str, ...] = ("seniority", "staff_id", "fewest_hours")
SiteScope = Literal["own", "preferred", "any"]
SITE_SCOPES: tuple[str, ...] = ("own", "preferred", "any")

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class FrozenDict(dict):
    """A read-only dict that still pickles, deep-copies and hashes (Streamlit caches pickle results;
    ``MappingProxyType`` cannot be pickled)."""

    def _readonly(self, *args: object, **kwargs: object) -> None:
        raise TypeError("This mapping is read-only; build a new one with dataclasses.replace().")

    __setitem__ = __delitem__ = _readonly  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda kv: str(kv[0]))))

    def __reduce__(self) -> tuple[type, tuple[dict]]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict) -> FrozenDict:
        return self


def _parse_hhmm(value: str | time) -> time:
    if isinstance(value, time):
        return value
    m = _HHMM.match(str(value).strip())
    if not m:
        raise ValueError(f"Shift start {value!r} is not a HH:MM time.")
    return time(int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True)
class ShiftRequest:
    """One unfilled shift that needs an overtime volunteer.

    ``start`` defaults to the configured start of ``shift_type`` on ``shift_date`` (see
    :meth:`OvertimeRules.shift_start`). ``required_skill`` may carry a minimum level (``"medication:3"``).
    ``request_id`` (optional) lets a re-ranking of a stored request ignore that request's own history rows.
    """

    site: str
    shift_date: date | datetime | pd.Timestamp | str
    shift_type: str
    hours: float
    unit: str | None = None
    start: datetime | pd.Timestamp | None = None
    required_role: str | tuple[str, ...] | None = None
    required_skill: str | None = None
    request_id: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.required_role, list | tuple):
            object.__setattr__(self, "required_role", tuple(str(r) for r in self.required_role))
        if not str(self.site).strip():
            raise ValueError("ShiftRequest.site must not be empty.")
        if not str(self.shift_type).strip():
            raise ValueError("ShiftRequest.shift_type must not be empty.")
        hours = float(self.hours)
        if not math.isfinite(hours) or not 0 < hours <= 24:
            raise ValueError(f"ShiftRequest.hours must be in (0, 24], got {self.hours!r}.")
        object.__setattr__(self, "hours", hours)
        day = pd.Timestamp(self.shift_date)
        if pd.isna(day):
            raise ValueError("ShiftRequest.shift_date is missing.")
        object.__setattr__(self, "shift_date", day.tz_localize(None).normalize() if day.tz else day.normalize())
        if self.start is not None:
            start = pd.Timestamp(self.start)
            if pd.isna(start):
                raise ValueError("ShiftRequest.start is not a valid datetime.")
            object.__setattr__(self, "start", start.tz_localize(None) if start.tz else start)
        if self.required_skill is not None:
            _, level = parse_required_skill(self.required_skill)  # validates the level
            del level


def parse_required_skill(value: str) -> tuple[str, int | None]:
    """Split ``"name"`` / ``"name:level"`` into a folded skill name and an optional minimum level 1..5."""
    name, _, level = str(value).partition(":")
    name = name.strip().lower()
    if not name:
        raise ValueError(f"Required skill {value!r} has no name.")
    if not level.strip():
        return name, None
    try:
        lvl = int(level.strip())
    except ValueError:
        raise ValueError(f"Required skill level in {value!r} is not an integer 1..5.") from None
    if not 1 <= lvl <= 5:
        raise ValueError(f"Required skill level in {value!r} must be 1..5.")
    return name, lvl


@dataclass(frozen=True)
class OvertimeRules:
    """Hard limits and scoring parameters for ranking overtime candidates.

    - ``max_weekly_hours``: the hours of the shift's ISO week — rostered hours (contract hours for someone with no
      roster that week) + overtime already committed + this shift — must not exceed it (48 h is the German ArbZG
      ceiling averaged over time).
    - ``min_rest_hours``: minimum rest between the end of one shift and the start of the next (ArbZG § 5: 11 h).
    - ``weights``: factor → weight, each >= 0, summing to 1 within 1e-9; totals are points out of 100.
    - ``lookback_days``: offers made in the last N days before ``as_of`` feed acceptance, fairness, reliability.
    - ``prior_acceptance`` / ``prior_strength``: Beta prior (a = p·s, b = (1-p)·s pseudo-counts) so one
      accepted offer out of one is (1 + 1) / (1 + 2) = 0.667 rather than 100 %, and nobody with no history is 0 %.
    - ``charge_no_answer``: unanswered offers are charged like declines (the usual OT-equalisation rule: a
      person who cannot be reached is charged as if they had refused); set False to charge only explicit declines.
    - ``tie_break``: order of equal totals: "seniority" (earlier hire date first), "staff_id", or
      "fewest_hours" (fewest charged hours pro rata first); staff_id always breaks remaining ties.
    - ``site_scope``: who may be asked for a site: "preferred" (default: the person's own site or one of their
      preferred sites — so contact-centre staff are never asked to cover a care home), "own" (own site only),
      or "any".
    - ``as_of``: the moment of the ranking; only what was known before it counts (no look-ahead). None means the
      start of the requested shift.
    """

    max_weekly_hours: float = 48.0
    min_rest_hours: float = 11.0
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    lookback_days: int = 90
    prior_acceptance: float = 0.5
    prior_strength: float = 2.0
    charge_no_answer: bool = True
    tie_break: TieBreak = "seniority"
    site_scope: SiteScope = "preferred"
    as_of: datetime | pd.Timestamp | None = None
    shift_starts: Mapping[str, str | time] = field(default_factory=lambda: dict(DEFAULT_SHIFT_STARTS))
    #: hours charged for an offer when the history does not say how long the shift was
    default_shift_hours: float = 8.0
    #: contract hours that part-timers' hours are scaled to (hours per 40 contract hours)
    pro_rata_reference_hours: float = 40.0
    #: availability: rest beyond the minimum that earns the full rest score (11 h + 13 h = a full day off)
    rest_buffer_hours: float = 13.0
    #: reliability: median response time (minutes) that halves the score (0 min → 1, 60 → 0.5, 120 → 0.25)
    response_half_life_minutes: float = 60.0
    #: reliability value when someone has never been contacted (labelled "no history (prior)")
    prior_reliability: float = 0.5
    #: site preference values: own site, a listed preferred site, any other site
    own_site_score: float = 1.0
    preferred_site_score: float = 0.75
    other_site_score: float = 0.0

    def __post_init__(self) -> None:
        weights = {str(k): float(v) for k, v in dict(self.weights).items()}
        missing = [f for f in FACTORS if f not in weights]
        unknown = [k for k in weights if k not in FACTORS]
        if missing or unknown:
            raise ValueError(
                f"Weights must name exactly the factors {', '.join(FACTORS)}"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        bad = {k: v for k, v in weights.items() if not math.isfinite(v) or v < 0}
        if bad:
            raise ValueError(f"Weights must be finite and >= 0; got {bad}.")
        total = sum(weights.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"Weights must sum to 1 (within 1e-9); they sum to {total!r}.")
        object.__setattr__(self, "weights", FrozenDict({f: weights[f] for f in FACTORS}))

        starts = {normalise_shift_type(k): _parse_hhmm(v) for k, v in dict(self.shift_starts).items()}
        object.__setattr__(self, "shift_starts", FrozenDict(starts))

        for name in ("max_weekly_hours", "default_shift_hours", "pro_rata_reference_hours",
                     "response_half_life_minutes"):
            value = float(getattr(self, name))
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}.")
        for name in ("min_rest_hours", "rest_buffer_hours", "prior_strength"):
            value = float(getattr(self, name))
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}.")
        if self.rest_buffer_hours <= 0:
            raise ValueError("rest_buffer_hours must be > 0.")
        for name in ("prior_acceptance", "prior_reliability", "own_site_score", "preferred_site_score",
                     "other_site_score"):
            value = float(getattr(self, name))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}.")
        if int(self.lookback_days) != self.lookback_days or self.lookback_days < 1:
            raise ValueError(f"lookback_days must be a positive integer, got {self.lookback_days!r}.")
        if self.tie_break not in TIE_BREAKS:
            raise ValueError(f"tie_break must be one of {', '.join(TIE_BREAKS)}; got {self.tie_break!r}.")
        if self.site_scope not in SITE_SCOPES:
            raise ValueError(f"site_scope must be one of {', '.join(SITE_SCOPES)}; got {self.site_scope!r}.")
        if self.as_of is not None:
            as_of = pd.Timestamp(self.as_of)
            if pd.isna(as_of):
                raise ValueError("as_of is not a valid datetime.")
            object.__setattr__(self, "as_of", as_of.tz_localize(None) if as_of.tz else as_of)

    def shift_start(self, shift_type: str) -> time:
        """Configured start time of ``shift_type`` (any accepted spelling); ValueError for unknown types."""
        key = normalise_shift_type(shift_type)
        try:
            return self.shift_starts[key]
        except KeyError:
            known = ", ".join(sorted(self.shift_starts))
            raise ValueError(
                f"Unknown shift type {shift_type!r}; known types: {known} (or give the request an explicit start)."
            ) from None

    def with_as_of(self, as_of: datetime | pd.Timestamp | None) -> OvertimeRules:
        """Copy of these rules evaluated at another moment (for backtests and the live page)."""
        return replace(self, as_of=as_of)


def shift_interval(request: ShiftRequest, rules: OvertimeRules) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start and end of the requested shift; a night shift ends on the next day."""
    if request.start is not None:
        start = pd.Timestamp(request.start)
    else:
        t = rules.shift_start(request.shift_type)
        start = pd.Timestamp(request.shift_date) + pd.Timedelta(hours=t.hour, minutes=t.minute)
    return start, start + pd.Timedelta(hours=request.hours)
