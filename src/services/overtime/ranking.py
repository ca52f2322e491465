"""Rank people for a shift: validate the shift, gather availability and the acceptance model, and call
``rank_candidates``; plus the shift a live ranking most likely is for (:func:`next_shift`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from src.data import store
from src.models.overtime import (
    OvertimeRules,
    RankingResult,
    ShiftRequest,
    normalise_shift_type,
    rank_candidates,
    shift_interval,
)
from src.models.overtime.rules import TIE_BREAKS
from src.services.context import Actor, AppContext, ServiceError, require_role

from .acceptance import active_acceptance_model
from .availability import availability_inputs
from .form_options import _shift_hours
from .helpers import MAX_DAYS_FROM_TODAY, ProgressCallback, _history, _parse_date, _rules, _staff, local_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShiftInput:
    """A validated shift description (from a form, the CLI or a stored request)."""

    site: str
    shift_date: date
    shift_type: str
    hours: float
    unit: str | None = None
    required_role: str | None = None
    required_skill: str | None = None


def _validate_shift(app: AppContext, *, site: str, shift_date: date | str, shift_type: str,
                    hours: float | str | None, unit: str | None, required_role: str | None,
                    required_skill: str | None, check_range: bool) -> ShiftInput:
    rules = OvertimeRules()
    hist = _history(app)
    site = (site or "").strip()
    if not site:
        raise ServiceError("Choose the site (care home) that needs cover.")
    shifts = store.load_frame(app.engine, "unit_shifts")
    staff = store.load_frame(app.engine, "staff")
    known_sites = set(hist["site"].astype(str)) | set(shifts["site"].astype(str)) | set(staff["site"].astype(str))
    match = {s.casefold(): s for s in known_sites}.get(site.casefold())
    if known_sites and match is None:
        raise ServiceError(f"Unknown site {site!r}. Known sites: {', '.join(sorted(known_sites))}.")
    site = match or site
    key = normalise_shift_type(shift_type or "")
    if key not in rules.shift_starts:
        raise ServiceError(f"Unknown shift type {shift_type!r}. Use one of: {', '.join(rules.shift_starts)} "
                           "(German spellings such as Frühdienst/Spätdienst/Nachtdienst work too).")
    day = _parse_date(shift_date, "shift date")
    if check_range:
        today = local_now(app).date()
        if abs((day - today).days) > MAX_DAYS_FROM_TODAY:
            raise ServiceError(f"The shift date {day:%Y-%m-%d} is more than a year from today.")
    if hours is None or (isinstance(hours, str) and not hours.strip()):
        h = _shift_hours(hist, rules)[key]
    else:
        try:
            h = float(hours)
        except (TypeError, ValueError):
            raise ServiceError(f"Hours must be a number, got {hours!r}.") from None
        if not math.isfinite(h) or not 0 < h <= 24:
            raise ServiceError(f"Hours must be more than 0 and at most 24, got {hours!r}.")
    unit = (unit or "").strip() or None
    if unit is not None:
        units = set(hist.loc[hist["site"] == site, "unit"].dropna().astype(str)) | set(
            shifts.loc[shifts["site"] == site, "unit"].astype(str))
        umatch = {u.casefold(): u for u in units}.get(unit.casefold())
        if units and umatch is None:
            raise ServiceError(f"Unknown unit {unit!r} at {site}. Known units: {', '.join(sorted(units))}.")
        unit = umatch or unit
    role = (required_role or "").strip() or None
    skill = (required_skill or "").strip() or None
    if skill is not None:
        try:
            from src.models.overtime.rules import parse_required_skill

            parse_required_skill(skill)
        except ValueError as exc:
            raise ServiceError(str(exc)) from None
    return ShiftInput(site=site, shift_date=day, shift_type=key, hours=h, unit=unit, required_role=role,
                      required_skill=skill)


def _rank(app: AppContext, shift: ShiftInput, *, request_id: str | None, weights: Mapping[str, float] | None,
          tie_break: str, on_progress: ProgressCallback | None, staff: pd.DataFrame | None = None,
          history: pd.DataFrame | None = None) -> RankingResult:
    req = ShiftRequest(site=shift.site, shift_date=shift.shift_date, shift_type=shift.shift_type, hours=shift.hours,
                       unit=shift.unit, required_role=shift.required_role, required_skill=shift.required_skill,
                       request_id=request_id)
    start, end = shift_interval(req, OvertimeRules())
    as_of = min(pd.Timestamp(local_now(app)), start)  # what is known now, or what was known when a past shift began
    rules = _rules(weights, tie_break, as_of)
    staff = _staff(app) if staff is None else staff
    history = _history(app) if history is None else history
    schedule, absences = availability_inputs(app, start, end, as_of=as_of, exclude_request=request_id)
    override, source = None, "historical rate"
    model, _status = active_acceptance_model(app)
    if model is not None:
        from src.models.overtime.acceptance_model import acceptance_override

        own = history if request_id is None or history.empty else \
            history.loc[history["request_id"].astype(str) != str(request_id)]
        try:
            override = acceptance_override(model, req, staff, own, rules)
        except Exception as exc:  # noqa: BLE001 - the model is optional: fall back to the transparent rate
            log.error("acceptance model failed for a ranking; using the historical rate: %s", exc)
            override = None
        if override is not None:
            source = "lightgbm"
    return rank_candidates(req, staff, history, rules, schedule=schedule, absences=absences,
                           acceptance_override=override, acceptance_source=source, on_progress=on_progress)


@dataclass(frozen=True)
class NextShift:
    """The shift a live ranking is most likely for: the first one that has not started yet."""

    day: date
    shift_type: str
    start: datetime


def next_shift(app: AppContext, actor: Actor, shift_types: Sequence[str] | None = None) -> NextShift:
    """The first shift (of ``shift_types``, default every known type) that starts after now in ``APP_TIMEZONE``.

    Why: Live rankings opened on today's early shift even at noon, when that shift had long started; a coverage
    request for it only then warned that contacts are recorded retroactively.
    """
    require_role(actor, "planner", "admin")
    rules = OvertimeRules()
    now = local_now(app)
    types = [normalise_shift_type(t) for t in (shift_types or list(rules.shift_starts))]
    starts = sorted((datetime.combine(now.date() + timedelta(days=d), rules.shift_start(t)), t)
                    for d in (0, 1, 2) for t in types if t in rules.shift_starts)
    start, stype = next(((s, t) for s, t in starts if s > now), starts[-1])
    return NextShift(day=start.date(), shift_type=stype, start=start)


def rank(app: AppContext, actor: Actor, *, site: str, shift_date: date | str, shift_type: str,
         hours: float | str | None = None, unit: str | None = None, required_role: str | None = None,
         required_skill: str | None = None, weights: Mapping[str, float] | None = None,
         tie_break: str = "seniority", on_progress: ProgressCallback | None = None) -> RankingResult:
    """Rank every person for a shift (eligible candidates with score breakdowns, excluded with reasons).

    ``hours`` defaults to the typical length of that shift type in the history. ``weights`` (factor → share,
    summing to 1) and ``tie_break`` override the defaults. Reads only; nothing is stored.
    """
    require_role(actor, "planner", "admin")
    if tie_break not in TIE_BREAKS:
        raise ServiceError(f"Tie-break must be one of {', '.join(TIE_BREAKS)}.")
    shift = _validate_shift(app, site=site, shift_date=shift_date, shift_type=shift_type, hours=hours, unit=unit,
                            required_role=required_role, required_skill=required_skill, check_range=False)
    return _rank(app, shift, request_id=None, weights=weights, tie_break=tie_break, on_progress=on_progress)
