"""Overtime use cases: rank people for a shift, run a coverage request, and report fairness.

One function per user action, shared by the Overtime pages and the ``overtime`` CLI commands. Every function
checks the role first (planner or admin), reads what it needs from the store — the uploaded overtime history
*and* the contacts recorded in the app (``overtime_store.combined_history``) — and calls the pure domain in
``src.models.overtime``. Every change (request, contact, response, fill, cancel) is written together with its
audit event in one transaction, so nothing is half-stored.

Coverage workflow: :func:`create_request` → :func:`request_view` (ranked contact list) → :func:`contact` (offer
sent through an :class:`OfferSender`; only eligible people may be contacted) → :func:`record_response`
(accepted / declined / no answer with the response time; an acceptance fills the shift by default) →
:func:`fill_request` / :func:`cancel_request`.

Times: contact and response times are local wall-clock times in ``settings.timezone`` (naive), like the uploaded
history; audit timestamps stay UTC.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pandas as pd

from src.data import db, overtime_store, store
from src.data.overtime_store import CHANNELS, RESPONSES, parse_request_code, request_code
from src.models.overtime import (
    DEFAULT_WINDOWS,
    FACTORS,
    DashboardStats,
    FairnessReport,
    OvertimeRules,
    RankingResult,
    ShiftRequest,
    StaffDetail,
    acceptance_trend,
    fairness_by_window,
    fairness_report,
    fairness_timeseries,
    normalise_shift_type,
    overtime_dashboard,
    rank_candidates,
    recent_requests,
    response_time_distribution,
    shift_interval,
)
from src.models.overtime import (
    staff_detail as _staff_detail,
)
from src.models.overtime.rules import TIE_BREAKS
from src.services import model_files
from src.services.context import Actor, AppContext, ServiceError, require_role

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]

#: how far back/ahead a coverage request's shift date may lie
MAX_DAYS_FROM_TODAY = 366
#: hours of a shift type when the history has no accepted shift of that type
FALLBACK_SHIFT_HOURS = 8.0
RESPONSE_LABELS = {"accepted": "accepted", "declined": "declined", "no_answer": "no answer"}


# ----------------------------------------------------------------------------------------------- offer delivery

@dataclass(frozen=True)
class Offer:
    """An overtime offer to one person (what an SMS or e-mail would say)."""

    request_code: str
    staff_id: str
    staff_name: str
    channel: str
    site: str
    unit: str | None
    shift_date: date
    shift_type: str
    start: datetime
    hours: float

    def text(self) -> str:
        where = self.site + (f", {self.unit}" if self.unit else "")
        return (f"Overtime offer {self.request_code}: {self.shift_type} shift on {self.shift_date:%a %d.%m.%Y} "
                f"from {self.start:%H:%M} ({self.hours:g} h) at {where}. Please reply yes or no.")


@dataclass(frozen=True)
class DeliveryReceipt:
    channel: str
    reference: str
    delivered: bool = True


class OfferSender(Protocol):
    """Delivers offers (SMS, e-mail, …). Raise an exception when delivery fails: nothing is recorded then."""

    def send(self, offer: Offer) -> DeliveryReceipt: ...


class LoggingOfferSender:
    """The delivery used until an SMS/e-mail gateway is connected: it logs the offer (ids only, no text)."""

    def __init__(self) -> None:
        self.sent: list[Offer] = []

    def send(self, offer: Offer) -> DeliveryReceipt:
        ref = f"log-{uuid.uuid4().hex[:12]}"
        self.sent.append(offer)
        log.info("overtime offer %s sent to staff %s via %s (ref %s)", offer.request_code, offer.staff_id,
                 offer.channel, ref)
        return DeliveryReceipt(channel=offer.channel, reference=ref, delivered=True)


_DEFAULT_SENDER = LoggingOfferSender()


# ----------------------------------------------------------------------------------------------- helpers

def local_now(app: AppContext) -> datetime:
    """Naive local wall-clock time in the configured time zone (the history's convention)."""
    return datetime.now(ZoneInfo(app.settings.timezone)).replace(tzinfo=None, microsecond=0)


def _staff(app: AppContext) -> pd.DataFrame:
    staff = store.load_frame(app.engine, "staff")
    if staff.empty:
        raise ServiceError("No staff data is stored yet. An administrator must upload the staff list "
                           "(Data page, or `python -m src.cli ingest staff FILE`) first.")
    return staff


def _history(app: AppContext) -> pd.DataFrame:
    return overtime_store.combined_history(app.engine)


def _parse_date(value: date | datetime | str, what: str = "date") -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ServiceError(f"The {what} {value!r} is not a date in the form YYYY-MM-DD.") from None


def _rules(weights: Mapping[str, float] | None = None, tie_break: str = "seniority",
           as_of: datetime | pd.Timestamp | None = None) -> OvertimeRules:
    try:
        return OvertimeRules(weights=dict(weights) if weights else OvertimeRules().weights,
                             tie_break=tie_break, as_of=as_of)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ServiceError(str(exc)) from None


@dataclass(frozen=True)
class AsOfDefault:
    """The reports' default "as of" day and where it comes from, so the pages can say which it is.

    Why not "the day after the last activity": recording one coverage request today moved that day by weeks, so
    the 90-day window and every number on the page ("1,487 h worked" → "930 h") changed without notice. Activity
    recorded in the app no longer moves the default; only a new upload of overtime history does.
    """

    day: date
    source: str  # "history" (last day of the uploaded overtime history) or "today" (nothing uploaded)
    history_end: date | None
    timezone: str

    def describe(self) -> str:
        """"the last day of the uploaded overtime history (31.10.2026)" / "today (Europe/Berlin)"."""
        if self.source == "history" and self.history_end is not None:
            return f"the last day of the uploaded overtime history ({self.history_end:%Y-%m-%d})"
        return f"today ({self.timezone})"


def default_as_of(app: AppContext, actor: Actor) -> AsOfDefault:
    """The default "as of" day of the overtime reports (pages, REST, CLI): the last day of the *uploaded* overtime
    history (its latest shift date, contact or response), capped at today; today when no history is uploaded.

    Stable on purpose: coverage requests, contacts and answers recorded in the app do not move it (they are
    counted when the chosen day covers them; the pages say how many offers lie after the chosen day).
    """
    require_role(actor, "planner", "admin")
    tz = app.settings.timezone
    today = local_now(app).date()
    uploaded = store.load_frame(app.engine, "overtime")
    last = None
    if not uploaded.empty:
        stamps = pd.concat([pd.to_datetime(uploaded[c], errors="coerce")
                            for c in ("shift_date", "contacted_at", "responded_at") if c in uploaded.columns])
        if stamps.notna().any():
            last = stamps.max().date()
    if last is None:
        return AsOfDefault(day=today, source="today", history_end=None, timezone=tz)
    return AsOfDefault(day=min(last, today), source="history", history_end=last, timezone=tz)


def default_as_of_date(app: AppContext, actor: Actor) -> date:
    """The day of :func:`default_as_of` (for the REST API and the CLI, where ``as_of`` is optional)."""
    return default_as_of(app, actor).day


def as_of_timestamp(app: AppContext, as_of_date: date | str | None, actor: Actor) -> pd.Timestamp:
    """End of ``as_of_date`` (what was known by then), capped at now; None → :func:`default_as_of_date`."""
    d = default_as_of_date(app, actor) if as_of_date is None else _parse_date(as_of_date, "as-of date")
    now = local_now(app) + timedelta(seconds=1)  # include what was recorded in this very second
    if d > now.date():
        raise ServiceError(f"The as-of date {d:%Y-%m-%d} lies in the future; choose today or an earlier day.")
    return pd.Timestamp(min(datetime.combine(d + timedelta(days=1), datetime.min.time()), now))


# ----------------------------------------------------------------------------------------------- options

@dataclass(frozen=True)
class OvertimeOptions:
    """What the forms offer: known sites and their units, shift types with typical hours, roles and skills."""

    sites: list[str]
    units: dict[str, list[str]]
    shift_types: list[str]
    shift_hours: dict[str, float]
    roles: list[str]
    skills: list[str]
    default_date: date
    staff_count: int
    history_rows: int
    as_of_default: AsOfDefault | None = None


def _shift_hours(history: pd.DataFrame, rules: OvertimeRules) -> dict[str, float]:
    out = {k: FALLBACK_SHIFT_HOURS for k in rules.shift_starts}
    if not history.empty:
        acc = history.loc[history["accepted"].astype(bool) & (history["hours_worked"] > 0)]
        if not acc.empty:
            med = acc.groupby(acc["shift_type"].map(normalise_shift_type))["hours_worked"].median()
            out.update({str(k): float(v) for k, v in med.items() if k in out})
    return out


def options(app: AppContext, actor: Actor) -> OvertimeOptions:
    require_role(actor, "planner", "admin")
    rules = OvertimeRules()
    staff = store.load_frame(app.engine, "staff")
    hist = _history(app)
    shifts = store.load_frame(app.engine, "unit_shifts")
    pairs = pd.concat([hist[["site", "unit"]], shifts[["site", "unit"]]], ignore_index=True).dropna()
    sites = sorted(set(hist["site"].astype(str)) | set(shifts["site"].astype(str)))
    if not sites and not staff.empty:
        sites = sorted(set(staff["site"].astype(str)))
    units = {s: sorted(set(g["unit"].astype(str))) for s, g in pairs.groupby("site")}
    skills: set[str] = set()
    for cell in staff.get("skills", pd.Series(dtype=object)).dropna():
        for tok in str(cell).replace(";", "|").split("|"):
            if tok.strip():
                skills.add(tok.split(":")[0].strip())
    as_of_default = default_as_of(app, actor)
    return OvertimeOptions(
        sites=sites, units=units, shift_types=list(rules.shift_starts), shift_hours=_shift_hours(hist, rules),
        roles=sorted(set(staff["role"].astype(str))) if not staff.empty else [], skills=sorted(skills),
        default_date=as_of_default.day, staff_count=len(staff), history_rows=len(hist), as_of_default=as_of_default,
    )


# ----------------------------------------------------------------------------------------------- ranking

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


def roster_label(shift_type: str | None, site: str, unit: str | None) -> str:
    """How a rostered shift is named in exclusion reasons: ``rostered early shift at Haus A/Wohnbereich 1``."""
    kind = f"{shift_type} shift" if shift_type else "shift"
    where = site + (f"/{unit}" if unit else "")
    return f"rostered {kind} at {where}"


def rostered_shifts(app: AppContext, start: datetime | pd.Timestamp, end: datetime | pd.Timestamp, *,
                    staff_id: str | None = None) -> pd.DataFrame:
    """Stored roster shifts that start in [start, end): staff_id, date, shift_type, start, end, site, unit, hours,
    label (see :func:`roster_label`), ordered by start."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    frame = store.load_frame(app.engine, "roster", where={"staff_id": staff_id} if staff_id else None,
                             start=lo.normalize().to_pydatetime(), end=hi.to_pydatetime())
    frame = frame.loc[(frame["start"] >= lo) & (frame["start"] < hi)]
    frame = frame.sort_values(["start", "staff_id"], kind="mergesort").reset_index(drop=True)
    frame["label"] = [roster_label(t, s, u) for t, s, u in zip(frame["shift_type"], frame["site"], frame["unit"],
                                                                strict=True)]
    return frame


def availability_inputs(app: AppContext, start: pd.Timestamp, end: pd.Timestamp, *, as_of: pd.Timestamp | None = None,
                        exclude_request: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ranking's ``schedule`` and ``absences`` around a shift [start, end) from the store.

    - ``schedule`` (staff_id, start, end, label, rostered, hours):
      - the **rostered** shifts (uploaded roster, kind ``roster``; label e.g. "rostered early shift at Haus A/WB 1",
        ``rostered`` true, ``hours`` = paid hours) from the Monday of the shift's ISO week — or two days before
        the shift, if earlier — to two days after it: the overlap and minimum-rest rules see them, and the
        maximum-weekly-hours rule adds up that week's rostered hours instead of assuming the contract hours (see
        ``rank_candidates``). The roster is read as stored now: it is a plan, and a past ranking "as of" a moment
        uses the current plan too.
      - overtime shifts people took on in the app (an accepted offer on a request they filled or that is still
        open), from two days before to two days after the shift. A live ranking counts every stored acceptance; a
        ranking "as of" a past moment only those recorded before it. ``exclude_request`` (a request code) leaves
        that request out. Accepted overtime from the uploaded history reaches the ranking through the history.
    - ``absences`` (staff_id, date, reason): one row per day of every recorded absence touching the shift.
    """
    lo, hi = start.normalize() - pd.Timedelta(days=2), end + pd.Timedelta(days=2)
    committed = overtime_store.committed_overtime(app.engine)
    rules = OvertimeRules()
    live = as_of is None or as_of >= pd.Timestamp(local_now(app)) - pd.Timedelta(minutes=1)
    rows = []
    for r in committed.itertuples(index=False):
        if r.request_id == exclude_request or not (lo <= r.shift_date <= hi):
            continue
        if not live and (pd.isna(r.responded_at) or r.responded_at >= as_of):
            continue
        try:
            s, e = shift_interval(ShiftRequest(site="-", shift_date=r.shift_date, shift_type=r.shift_type,
                                               hours=r.hours), rules)
        except (KeyError, ValueError):
            continue
        rows.append({"staff_id": r.staff_id, "start": s, "end": e, "label": f"overtime shift {r.request_id}",
                     "rostered": False, "hours": float(r.hours)})
    week_start = start.normalize() - pd.Timedelta(days=start.weekday())
    roster = rostered_shifts(app, min(week_start, lo), max(week_start + pd.Timedelta(days=7), hi))
    columns = ["staff_id", "start", "end", "label", "rostered", "hours"]
    overtime = pd.DataFrame(rows, columns=columns)
    rostered = roster.assign(rostered=True)[columns]
    if rostered.empty or overtime.empty:  # (concatenating an empty frame is deprecated in pandas)
        schedule = overtime if rostered.empty else rostered.reset_index(drop=True)
    else:
        schedule = pd.concat([rostered, overtime], ignore_index=True)
    schedule["rostered"] = schedule["rostered"].astype(bool)

    first, last = start.normalize(), (end - pd.Timedelta(microseconds=1)).normalize()
    ab = overtime_store.absences_frame(app.engine, start=first.to_pydatetime(), end=last.to_pydatetime())
    days = []
    for a in ab.itertuples(index=False):
        for day in pd.date_range(max(a.date_from.normalize(), first), min(a.date_to.normalize(), last), freq="D"):
            days.append({"staff_id": a.staff_id, "date": day, "reason": a.reason})
    absences = pd.DataFrame(days, columns=["staff_id", "date", "reason"])
    return schedule, absences


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


# ----------------------------------------------------------------------------------------------- workflow

def answer_label(response: str | None, request_status: str) -> str:
    """An offer's answer in words: accepted / declined / no answer, else by the request's state — "waiting" while it
    is open, "not needed" once someone else filled it, "withdrawn" when it was cancelled (a "–" read as if the
    person had never answered)."""
    if isinstance(response, str) and response in RESPONSE_LABELS:
        return RESPONSE_LABELS[response]
    return {"filled": "not needed", "cancelled": "withdrawn"}.get(request_status, "waiting")


@dataclass(frozen=True)
class RequestView:
    """A stored request, its contacts (with names and response minutes) and a fresh ranking for it."""

    request: dict[str, Any]
    contacts: pd.DataFrame
    ranking: RankingResult | None

    @property
    def code(self) -> str:
        return str(self.request["code"])

    @property
    def is_open(self) -> bool:
        return self.request["status"] == "open"

    def answers(self) -> list[str]:
        """Each contact's :func:`answer_label` (row order of ``contacts``)."""
        return [answer_label(r if pd.notna(r) else None, str(self.request["status"]))
                for r in self.contacts["response"]]

    def contact_list(self) -> pd.DataFrame:
        """Ranked candidates with their contact status (``not contacted`` / ``waiting`` / the response)."""
        cols = ["rank", "staff_id", "name", "site", "role", "total", "status", "contacted_at", "responded_at",
                "response_minutes"]
        if self.ranking is None:
            return pd.DataFrame(columns=cols)
        frame = self.ranking.to_frame()[["rank", "staff_id", "name", "site", "role", "total"]]
        c = self.contacts.set_index("staff_id") if not self.contacts.empty else None
        status, cat, rat, mins = [], [], [], []
        for sid in frame["staff_id"]:
            if c is not None and sid in c.index:
                row = c.loc[sid]
                status.append(RESPONSE_LABELS.get(row["response"], "waiting") if pd.notna(row["response"])
                              else "waiting")
                cat.append(row["contacted_at"])
                rat.append(row["responded_at"])
                mins.append(row["response_minutes"])
            else:
                status.append("not contacted")
                cat.append(pd.NaT)
                rat.append(pd.NaT)
                mins.append(math.nan)
        return frame.assign(status=status, contacted_at=pd.to_datetime(cat), responded_at=pd.to_datetime(rat),
                            response_minutes=mins)[cols]


def _request_row(app: AppContext, request_id: int | str) -> dict[str, Any]:
    rid = parse_request_code(request_id)
    if rid is None:
        raise ServiceError(f"{request_id!r} is not a request id (expected e.g. OTR-000012).")
    frame = overtime_store.requests_frame(app.engine, request_id=rid)
    if frame.empty:
        raise ServiceError(f"Request {request_code(rid)} does not exist.")
    return frame.iloc[0].to_dict()


def _shift_of(row: Mapping[str, Any]) -> ShiftInput:
    return ShiftInput(site=row["site"], shift_date=pd.Timestamp(row["shift_date"]).date(),
                      shift_type=row["shift_type"], hours=float(row["hours"]), unit=row["unit"] or None,
                      required_role=row["required_role"] or None, required_skill=row["required_skill"] or None)


def _named_contacts(app: AppContext, rid: int, staff: pd.DataFrame | None = None) -> pd.DataFrame:
    contacts = overtime_store.contacts_frame(app.engine, request_id=rid)
    staff = store.load_frame(app.engine, "staff") if staff is None else staff
    names = staff.set_index("staff_id")["name"] if not staff.empty else pd.Series(dtype=object)
    contacts.insert(3, "name", contacts["staff_id"].map(names).fillna(""))
    contacts["response_minutes"] = (contacts["responded_at"] - contacts["contacted_at"]).dt.total_seconds() / 60.0
    return contacts


def create_request(app: AppContext, actor: Actor, *, site: str, shift_date: date | str, shift_type: str,
                   hours: float | str | None = None, unit: str | None = None, required_role: str | None = None,
                   required_skill: str | None = None, note: str | None = None) -> RequestView:
    """Store an open coverage request (audited) and return it with its ranked contact list."""
    require_role(actor, "planner", "admin")
    shift = _validate_shift(app, site=site, shift_date=shift_date, shift_type=shift_type, hours=hours, unit=unit,
                            required_role=required_role, required_skill=required_skill, check_range=True)
    _staff(app)  # a request nobody can be ranked for is useless: fail before storing
    note = (note or "").strip()[:500] or None
    with db.write_tx(app.engine) as conn:
        rid = overtime_store.insert_request(
            conn, site=shift.site, unit=shift.unit,
            shift_date=datetime.combine(shift.shift_date, datetime.min.time()), shift_type=shift.shift_type,
            hours=shift.hours, required_role=shift.required_role, required_skill=shift.required_skill, note=note,
            created_by=actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.request.create",
                          object_type="ot_request", object_id=request_code(rid),
                          detail={"site": shift.site, "unit": shift.unit, "shift_date": shift.shift_date.isoformat(),
                                  "shift_type": shift.shift_type, "hours": shift.hours,
                                  "required_role": shift.required_role, "required_skill": shift.required_skill})
    log.info("overtime request %s created by %s", request_code(rid), actor.username)
    return request_view(app, actor, rid)


def request_view(app: AppContext, actor: Actor, request_id: int | str, *,
                 weights: Mapping[str, float] | None = None, tie_break: str = "seniority",
                 on_progress: ProgressCallback | None = None) -> RequestView:
    """A request with its contacts and (while it is open) the current ranking for its shift."""
    require_role(actor, "planner", "admin")
    if tie_break not in TIE_BREAKS:  # also when no ranking is made (filled/cancelled): one answer per value
        raise ServiceError(f"Tie-break must be one of {', '.join(TIE_BREAKS)}.")
    row = _request_row(app, request_id)
    staff = store.load_frame(app.engine, "staff")
    contacts = _named_contacts(app, int(row["id"]), staff)
    ranking = None
    if row["status"] == "open" and not staff.empty:
        ranking = _rank(app, _shift_of(row), request_id=row["code"], weights=weights, tie_break=tie_break,
                        on_progress=on_progress, staff=staff)
    return RequestView(request=row, contacts=contacts, ranking=ranking)


def list_requests(app: AppContext, actor: Actor, *, status: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Coverage requests made in the app, newest first (code, shift, status, contacts, responses, filled by)."""
    require_role(actor, "planner", "admin")
    if status is not None and status not in overtime_store.REQUEST_STATUSES:
        raise ServiceError(f"Status must be one of {', '.join(overtime_store.REQUEST_STATUSES)}.")
    return overtime_store.requests_frame(app.engine, status=status, limit=limit)


def _check_open(row: Mapping[str, Any] | None, code: str) -> Mapping[str, Any]:
    if row is None:
        raise ServiceError(f"Request {code} does not exist.")
    if row["status"] == "filled":
        raise ServiceError(f"Request {code} is already filled (by {row['filled_staff_id']}).")
    if row["status"] == "cancelled":
        raise ServiceError(f"Request {code} was cancelled.")
    return row


def contact(app: AppContext, actor: Actor, request_id: int | str, staff_ids: Sequence[str], *,
            channel: str = "phone", sender: OfferSender | None = None,
            contacted_at: datetime | None = None) -> list[str]:
    """Record that ``staff_ids`` were offered the shift (and send the offer for sms/e-mail). Returns the ids.

    Only people who are eligible right now may be contacted (their exclusion reasons are shown otherwise);
    a person is contacted once per request. All contacts and their audit events are stored together, after every
    offer was delivered — if a delivery fails, nothing is recorded.
    """
    require_role(actor, "planner", "admin")
    if channel not in CHANNELS:
        raise ServiceError(f"Channel must be one of {', '.join(CHANNELS)}.")
    ids = [str(s).strip() for s in staff_ids if str(s).strip()]
    if not ids:
        raise ServiceError("Choose at least one person to contact.")
    if len(set(ids)) != len(ids):
        raise ServiceError("A person is listed twice.")
    view = request_view(app, actor, request_id)
    code = view.code
    _check_open(view.request, code)
    now = local_now(app)
    when = contacted_at or now
    if when > now + timedelta(minutes=5):
        raise ServiceError("The contact time lies in the future.")
    assert view.ranking is not None
    candidates = {c.staff_id: c for c in view.ranking.candidates}
    excluded = {e.staff_id: e for e in view.ranking.excluded}
    done = set(view.contacts["staff_id"])
    problems = []
    for sid in ids:
        if sid in done:
            problems.append(f"{sid} was already contacted for {code}")
        elif sid in excluded:
            problems.append(f"{sid} ({excluded[sid].name}) cannot take this shift: {'; '.join(excluded[sid].reasons)}")
        elif sid not in candidates:
            problems.append(f"{sid} is not in the staff list")
    if problems:
        raise ServiceError("Nobody was contacted. " + " · ".join(problems))
    sender = sender or _DEFAULT_SENDER
    r = view.request
    start, _ = view.ranking.shift_start, view.ranking.shift_end
    with db.write_tx(app.engine) as conn:
        _check_open(overtime_store.lock_request(conn, int(r["id"])), code)
        for sid in ids:
            cand = candidates[sid]
            cid = overtime_store.insert_contact(conn, request_id=int(r["id"]), staff_id=sid, channel=channel,
                                                contacted_at=when, contacted_by=actor.username, rank=cand.rank,
                                                score=round(cand.total, 4))
            ref = None
            if channel != "phone":
                receipt = sender.send(Offer(
                    request_code=code, staff_id=sid, staff_name=cand.name, channel=channel, site=r["site"],
                    unit=r["unit"], shift_date=pd.Timestamp(r["shift_date"]).date(), shift_type=r["shift_type"],
                    start=start.to_pydatetime(), hours=float(r["hours"])))
                if not receipt.delivered:
                    raise ServiceError(f"The offer to {sid} could not be delivered by {channel}; nobody was "
                                       "contacted.")
                ref = receipt.reference
                overtime_store.set_delivery_ref(conn, cid, ref)
            store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.contact",
                              object_type="ot_request", object_id=code,
                              detail={"staff_id": sid, "channel": channel, "rank": cand.rank,
                                      "score": round(cand.total, 2), "contacted_at": when, "delivery_ref": ref})
    log.info("request %s: %d contact(s) recorded by %s", code, len(ids), actor.username)
    return ids


@dataclass(frozen=True)
class ResponseOutcome:
    request_code: str
    staff_id: str
    response: str
    response_minutes: float
    filled: bool
    message: str


def record_response(app: AppContext, actor: Actor, request_id: int | str, staff_id: str, response: str, *,
                    responded_at: datetime | None = None, fill: bool = True) -> ResponseOutcome:
    """Record a contacted person's answer (accepted / declined / no_answer) and its time (default now).

    With ``fill`` (default) an acceptance fills the shift in the same transaction; the others' pending offers are
    then withdrawn. A response is recorded once; the request must still be open.
    """
    require_role(actor, "planner", "admin")
    if response not in RESPONSES:
        raise ServiceError(f"Response must be one of {', '.join(RESPONSES)}.")
    row = _request_row(app, request_id)
    code = str(row["code"])
    now = local_now(app)
    when = responded_at or now
    if when > now + timedelta(minutes=5):
        raise ServiceError("The response time lies in the future.")
    sid = str(staff_id).strip()
    filled = False
    with db.write_tx(app.engine) as conn:
        _check_open(overtime_store.lock_request(conn, int(row["id"])), code)
        c = overtime_store.get_contact(conn, int(row["id"]), sid)
        if c is None:
            raise ServiceError(f"{sid} was not contacted for {code}; record the contact first.")
        if c["response"] is not None:
            raise ServiceError(f"{sid} already answered {code} ({RESPONSE_LABELS[c['response']]}).")
        if when < c["contacted_at"]:
            raise ServiceError(f"The response time {when:%Y-%m-%d %H:%M} is before the contact "
                               f"({c['contacted_at']:%Y-%m-%d %H:%M}).")
        overtime_store.set_response(conn, int(c["id"]), response=response, responded_at=when,
                                    recorded_by=actor.username)
        minutes = (when - c["contacted_at"]).total_seconds() / 60.0
        store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.response",
                          object_type="ot_request", object_id=code,
                          detail={"staff_id": sid, "response": response, "responded_at": when,
                                  "response_minutes": round(minutes, 1)})
        if response == "accepted" and fill:
            _fill(conn, actor, int(row["id"]), code, sid)
            filled = True
    person = store.load_frame(app.engine, "staff", where={"staff_id": sid})
    who = f"{person['name'].iloc[0]} ({sid})" if len(person) else sid
    msg = f"{who} {RESPONSE_LABELS[response]} after {minutes:.0f} min."
    if filled:
        msg += f" {code} is filled."
    return ResponseOutcome(code, sid, response, minutes, filled, msg)


def _fill(conn: Any, actor: Actor, rid: int, code: str, sid: str) -> None:
    if overtime_store.close_request(conn, rid, status="filled", by=actor.username, staff_id=sid) != 1:
        raise ServiceError(f"Request {code} is not open any more.")
    store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.fill", object_type="ot_request",
                      object_id=code, detail={"staff_id": sid})


def fill_request(app: AppContext, actor: Actor, request_id: int | str, staff_id: str) -> None:
    """Give the shift to a person who accepted it (when the acceptance was recorded without filling)."""
    require_role(actor, "planner", "admin")
    row = _request_row(app, request_id)
    code = str(row["code"])
    sid = str(staff_id).strip()
    with db.write_tx(app.engine) as conn:
        _check_open(overtime_store.lock_request(conn, int(row["id"])), code)
        c = overtime_store.get_contact(conn, int(row["id"]), sid)
        if c is None or c["response"] != "accepted":
            raise ServiceError(f"{sid} has not accepted {code}; only someone who accepted can fill it.")
        _fill(conn, actor, int(row["id"]), code, sid)


def cancel_request(app: AppContext, actor: Actor, request_id: int | str, reason: str = "") -> None:
    """Cancel an open request (the gap was closed otherwise); pending offers are withdrawn."""
    require_role(actor, "planner", "admin")
    row = _request_row(app, request_id)
    code = str(row["code"])
    with db.write_tx(app.engine) as conn:
        _check_open(overtime_store.lock_request(conn, int(row["id"])), code)
        overtime_store.close_request(conn, int(row["id"]), status="cancelled", by=actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.cancel",
                          object_type="ot_request", object_id=code, detail={"reason": (reason or "")[:500]})


# ----------------------------------------------------------------------------------------------- reports

def offers_after(history: pd.DataFrame, as_of: pd.Timestamp, sites: Sequence[str] | None = None) -> int:
    """How many offers (uploaded or recorded in the app) were made after ``as_of`` — not counted by a report up to
    ``as_of``, so the pages can say so instead of leaving them out silently."""
    if history.empty:
        return 0
    h = history
    if sites:
        keys = {str(x).casefold() for x in sites}
        h = h.loc[h["site"].astype(str).str.casefold().isin(keys)]
    return int((pd.to_datetime(h["contacted_at"]) >= as_of).sum())


def _check_days(days: int) -> int:
    try:
        d = int(days)
    except (TypeError, ValueError):
        raise ServiceError(f"Days must be a whole number, got {days!r}.") from None
    if d != days or not 1 <= d <= 3660:
        raise ServiceError(f"Days must be a whole number between 1 and 3660, got {days!r}.")
    return d


@dataclass(frozen=True, eq=False)
class FairnessView:
    report: FairnessReport
    windows: pd.DataFrame
    timeseries: pd.DataFrame
    as_of: pd.Timestamp
    sites: tuple[str, ...] = field(default_factory=tuple)
    #: offers made after ``as_of`` (e.g. recorded in the app since the history ends): not in these numbers
    later_offers: int = 0


def fairness(app: AppContext, actor: Actor, *, days: int = 90, as_of_date: date | str | None = None,
             basis: str = "charged", sites: Sequence[str] | None = None, periods: int = 26,
             windows: Sequence[int] = DEFAULT_WINDOWS, on_progress: ProgressCallback | None = None) -> FairnessView:
    """Per-person overtime hours (pro rata) with flags, Gini/Jain/max-mean, the 0–100 score, every window's
    metrics and the rolling metrics over time (``periods`` weekly points; 0 skips them)."""
    require_role(actor, "planner", "admin")
    days = _check_days(days)
    if basis not in ("charged", "worked"):
        raise ServiceError("Basis must be 'charged' or 'worked'.")
    as_of = as_of_timestamp(app, as_of_date, actor)
    staff, hist = _staff(app), _history(app)
    site_list = list(sites) if sites else None
    report = fairness_report(staff, hist, as_of, days, basis=basis, sites=site_list)  # type: ignore[arg-type]
    if on_progress:
        on_progress(0.1, "fairness per window")
    by_window = fairness_by_window(staff, hist, as_of, windows, basis=basis, sites=site_list)  # type: ignore[arg-type]
    series = pd.DataFrame(columns=["date", "score", "gini", "jain", "max_mean", "total"])
    if periods > 0:
        series = fairness_timeseries(
            staff, hist, as_of, days, periods=periods, basis=basis, sites=site_list,  # type: ignore[arg-type]
            on_progress=(lambda f, t: on_progress(0.2 + 0.8 * f, t)) if on_progress else None)
    return FairnessView(report=report, windows=by_window, timeseries=series, as_of=as_of,
                        sites=tuple(site_list or ()), later_offers=offers_after(hist, as_of, site_list))


@dataclass(frozen=True, eq=False)
class DashboardView:
    stats: DashboardStats
    trend: pd.DataFrame
    responses: pd.DataFrame
    recent: pd.DataFrame
    open_requests: pd.DataFrame
    as_of: pd.Timestamp
    #: offers made after ``as_of``: not in these numbers
    later_offers: int = 0


def dashboard(app: AppContext, actor: Actor, *, days: int = 90, as_of_date: date | str | None = None,
              sites: Sequence[str] | None = None) -> DashboardView:
    """Headline numbers, acceptance trend (weekly over a year), response-time buckets, recent requests and the
    app's open coverage requests."""
    require_role(actor, "planner", "admin")
    days = _check_days(days)
    as_of = as_of_timestamp(app, as_of_date, actor)
    staff, hist = _staff(app), _history(app)
    site_list = list(sites) if sites else None
    if site_list:
        keys = {s.casefold() for s in site_list}
        hist = hist.loc[hist["site"].astype(str).str.casefold().isin(keys)]
    stats = overtime_dashboard(staff, hist, as_of, days, sites=site_list)
    trend = acceptance_trend(hist, as_of, freq="W", days=max(days, 365))
    responses = response_time_distribution(hist, as_of, days=days)
    recent = recent_requests(hist, as_of, limit=15)
    # "Taken by": the name a planner knows, with the id ("Anna Berg (S0042)")
    names = dict(zip(staff["staff_id"].astype(str), staff["name"].astype(str), strict=True))
    recent["accepted_by"] = [", ".join(f"{names[i]} ({i})" if i in names else i for i in str(cell).split(", ") if i)
                             or None for cell in recent["accepted_by"]]
    open_req = overtime_store.requests_frame(app.engine, status="open", limit=50)
    return DashboardView(stats=stats, trend=trend, responses=responses, recent=recent, open_requests=open_req,
                         as_of=as_of, later_offers=offers_after(hist, as_of))


def staff_list(app: AppContext, actor: Actor) -> pd.DataFrame:
    """staff_id, name, site, role, contract_hours, ot_willing of everyone (for pickers)."""
    require_role(actor, "planner", "admin")
    staff = store.load_frame(app.engine, "staff")
    cols = ["staff_id", "name", "site", "role", "contract_hours", "ot_willing"]
    return staff[cols].sort_values(["site", "name"]).reset_index(drop=True) if not staff.empty else \
        pd.DataFrame(columns=cols)


@dataclass(frozen=True, eq=False)
class StaffView:
    detail: StaffDetail
    contacts: pd.DataFrame
    as_of: pd.Timestamp


def staff_detail(app: AppContext, actor: Actor, staff_id: str, *, days: int = 90,
                 as_of_date: date | str | None = None) -> StaffView:
    """One person's overtime: hours worked and charged, acceptance rate, response time, preferences, recent
    shifts and offers, plus the contacts recorded for them in the app."""
    require_role(actor, "planner", "admin")
    days = _check_days(days)
    as_of = as_of_timestamp(app, as_of_date, actor)
    try:
        detail = _staff_detail(_staff(app), _history(app), str(staff_id).strip(), as_of, days)
    except KeyError:
        raise ServiceError(f"Unknown staff id {staff_id!r}.") from None
    contacts = overtime_store.contacts_frame(app.engine, staff_id=detail.staff_id)
    statuses: dict[int, str] = {}
    if len(contacts):
        reqs = overtime_store.requests_frame(app.engine)
        statuses = dict(zip(reqs["id"], reqs["status"], strict=True))
    contacts["answer"] = [answer_label(r if pd.notna(r) else None, str(statuses.get(i, "open")))
                          for r, i in zip(contacts["response"], contacts["request_id"], strict=True)]
    contacts["request_id"] = [request_code(i) for i in contacts["request_id"]]
    return StaffView(detail=detail, contacts=contacts, as_of=as_of)


class UnknownStaff(ServiceError):
    """No staff member has this id. A :class:`ServiceError` (pages show the message as before); its own type so
    the REST API can answer 404 where the id is the resource looked up."""


@dataclass(frozen=True, eq=False)
class RosterWeek:
    """One person's rostered shifts in one ISO week, and the hours the weekly-maximum rule will count for them."""

    staff_id: str
    week_start: date
    shifts: pd.DataFrame  # date, shift_type, start, end, site, unit, hours
    contract_hours: float

    @property
    def rostered_hours(self) -> float:
        return float(self.shifts["hours"].sum()) if len(self.shifts) else 0.0

    @property
    def counted_hours(self) -> float:
        """What the maximum-weekly-hours rule starts from: the rostered hours, or the contract without a roster."""
        return self.rostered_hours if len(self.shifts) else self.contract_hours


def roster_week(app: AppContext, actor: Actor, staff_id: str, day: date | str) -> RosterWeek:
    """The rostered shifts of ``staff_id`` in the ISO week (Monday–Sunday) containing ``day``."""
    require_role(actor, "planner", "admin")
    sid = str(staff_id or "").strip()
    person = store.load_frame(app.engine, "staff", where={"staff_id": sid})
    if person.empty:
        raise UnknownStaff(f"Unknown staff id {staff_id!r}.")
    d = _parse_date(day, "week")
    monday = d - timedelta(days=d.weekday())
    shifts = rostered_shifts(app, pd.Timestamp(monday), pd.Timestamp(monday + timedelta(days=7)), staff_id=sid)
    return RosterWeek(staff_id=sid, week_start=monday, contract_hours=float(person["contract_hours"].iloc[0]),
                      shifts=shifts[["date", "shift_type", "start", "end", "site", "unit", "hours"]])


def factor_names() -> tuple[str, ...]:
    return FACTORS


# ----------------------------------------------------------------------------------------------- absences

ABSENCE_REASONS = overtime_store.ABSENCE_REASONS
#: longest absence recorded in one entry (a longer one is entered in parts)
MAX_ABSENCE_DAYS = 366
MAX_ABSENCE_NOTE = 200


class UnknownAbsence(ServiceError):
    """No recorded absence has this id. A :class:`ServiceError` (pages show the message as before); its own type
    so the REST API can answer 404 instead of the 422 it uses for other refusals."""


@dataclass(frozen=True)
class Absence:
    id: int
    staff_id: str
    name: str
    date_from: date
    date_to: date
    reason: str
    note: str | None
    created_by: str

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def describe(self) -> str:
        span = f"{self.date_from:%Y-%m-%d}" + (f" to {self.date_to:%Y-%m-%d}" if self.date_to != self.date_from
                                               else "")
        return f"{self.name or self.staff_id} ({self.staff_id}) absent {span} ({self.reason})"


def _absence_of(row: Mapping[str, Any], name: str) -> Absence:
    return Absence(id=int(row["id"]), staff_id=str(row["staff_id"]), name=name,
                   date_from=pd.Timestamp(row["date_from"]).date(), date_to=pd.Timestamp(row["date_to"]).date(),
                   reason=str(row["reason"]), note=row.get("note") or None, created_by=str(row["created_by"]))


def record_absence(app: AppContext, actor: Actor, *, staff_id: str, date_from: date | str,
                   date_to: date | str | None = None, reason: str, note: str | None = None) -> Absence:
    """Record that a person is away (sick, leave, training, other) from ``date_from`` to ``date_to`` (inclusive;
    default one day). Rankings then exclude them for shifts on those days. Audited; overlapping entries for the
    same person are refused."""
    require_role(actor, "planner", "admin")
    sid = str(staff_id or "").strip()
    if not sid:
        raise ServiceError("Choose the person who is absent.")
    person = store.load_frame(app.engine, "staff", where={"staff_id": sid})
    if person.empty:
        raise ServiceError(f"Unknown staff id {sid!r}.")
    if reason not in ABSENCE_REASONS:
        raise ServiceError(f"Reason must be one of {', '.join(ABSENCE_REASONS)}, got {reason!r}.")
    first = _parse_date(date_from, "first day of the absence")
    last = first if date_to is None or (isinstance(date_to, str) and not date_to.strip()) else \
        _parse_date(date_to, "last day of the absence")
    if last < first:
        raise ServiceError(f"The absence ends ({last:%Y-%m-%d}) before it starts ({first:%Y-%m-%d}).")
    if (last - first).days + 1 > MAX_ABSENCE_DAYS:
        raise ServiceError(f"An absence may span at most {MAX_ABSENCE_DAYS} days; enter longer ones in parts.")
    today = local_now(app).date()
    if abs((first - today).days) > MAX_DAYS_FROM_TODAY:
        raise ServiceError(f"The absence starts {first:%Y-%m-%d}, more than a year from today.")
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_ABSENCE_NOTE:
        raise ServiceError(f"The note is too long ({len(note)} characters; at most {MAX_ABSENCE_NOTE}).")
    d0, d1 = datetime.combine(first, datetime.min.time()), datetime.combine(last, datetime.min.time())
    name = str(person["name"].iloc[0])
    with db.write_tx(app.engine) as conn:
        clash = overtime_store.overlapping_absences(conn, sid, d0, d1)
        if clash:
            c = _absence_of(clash[0], name)
            raise ServiceError(f"{name} ({sid}) is already recorded as absent "
                               f"{c.date_from:%Y-%m-%d}–{c.date_to:%Y-%m-%d} ({c.reason}); delete or adjust that "
                               "entry first.")
        aid = overtime_store.insert_absence(conn, staff_id=sid, date_from=d0, date_to=d1, reason=reason, note=note,
                                            created_by=actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.absence.create",
                          object_type="ot_absence", object_id=str(aid),
                          detail={"staff_id": sid, "date_from": first.isoformat(), "date_to": last.isoformat(),
                                  "reason": reason, "has_note": note is not None})
    log.info("absence %d recorded for staff %s by %s", aid, sid, actor.username)
    return Absence(id=aid, staff_id=sid, name=name, date_from=first, date_to=last, reason=reason, note=note,
                   created_by=actor.username)


def delete_absence(app: AppContext, actor: Actor, absence_id: int | str) -> Absence:
    """Remove a recorded absence (entered by mistake, or the person came back early). Audited."""
    require_role(actor, "planner", "admin")
    try:
        aid = int(str(absence_id).strip())
    except ValueError:
        raise ServiceError(f"{absence_id!r} is not an absence id.") from None
    with db.write_tx(app.engine) as conn:
        row = overtime_store.get_absence(conn, aid)
        if row is None:
            raise UnknownAbsence(f"Absence {aid} does not exist (maybe it was already deleted).")
        overtime_store.delete_absence(conn, aid)
        gone = _absence_of(row, "")
        store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.absence.delete",
                          object_type="ot_absence", object_id=str(aid),
                          detail={"staff_id": gone.staff_id, "date_from": gone.date_from.isoformat(),
                                  "date_to": gone.date_to.isoformat(), "reason": gone.reason})
    return gone


def list_absences(app: AppContext, actor: Actor, *, staff_id: str | None = None, start: date | str | None = None,
                  end: date | str | None = None) -> pd.DataFrame:
    """Recorded absences (id, staff_id, name, date_from, date_to, days, reason, note, created_by, created_at),
    optionally of one person and/or touching the days ``start``..``end``."""
    require_role(actor, "planner", "admin")
    lo = None if start is None else datetime.combine(_parse_date(start, "start date"), datetime.min.time())
    hi = None if end is None else datetime.combine(_parse_date(end, "end date"), datetime.min.time())
    ab = overtime_store.absences_frame(app.engine, staff_id=None if staff_id is None else str(staff_id).strip(),
                                       start=lo, end=hi)
    staff = store.load_frame(app.engine, "staff")
    names = staff.set_index("staff_id")["name"] if not staff.empty else pd.Series(dtype=object)
    ab.insert(2, "name", ab["staff_id"].map(names).fillna(""))
    ab.insert(5, "days", ((ab["date_to"] - ab["date_from"]).dt.days + 1).astype("Int64"))
    return ab


# ----------------------------------------------------------------------------------------------- acceptance model

ACCEPTANCE_DIR = "overtime"
_ACC_PREFIX = "a"
_ACC_VERSION_RE = model_files.version_pattern(_ACC_PREFIX)
_acc_cache: dict[tuple[str, str], Any] = {}
_acc_lock = threading.Lock()


@dataclass(frozen=True)
class AcceptanceModelInfo:
    """A stored acceptance model: its held-out comparison with the historical rate and whether rankings use it."""

    version: str
    created_at: str
    created_by: str
    report: dict[str, Any]
    in_use: bool
    seconds: float | None = None

    @property
    def beats_rate(self) -> bool:
        return bool(self.report.get("use_model"))

    def comparison(self) -> pd.DataFrame:
        """Rows: LightGBM model, historical rate; columns: log_loss, auc (held-out offers)."""
        r = self.report
        return pd.DataFrame({"predictor": ["LightGBM model", "Historical rate (smoothed)"],
                             "log_loss": [r.get("logloss_model"), r.get("logloss_rate")],
                             "auc": [r.get("auc_model"), r.get("auc_rate")]})


def _acc_root(app: AppContext) -> Path:
    return Path(app.settings.models_dir) / ACCEPTANCE_DIR


def _acc_info(vdir: Path, active: str | None, seconds: float | None = None) -> AcceptanceModelInfo:
    doc = model_files.read_manifest(vdir)
    return AcceptanceModelInfo(version=doc["version"], created_at=str(doc.get("created_at", "")),
                               created_by=str(doc.get("created_by", "")), report=dict(doc.get("report") or {}),
                               in_use=doc["version"] == active, seconds=seconds)


def _load_acceptance(vdir: Path) -> Any:
    from src.models.overtime.acceptance_model import FEATURES, AcceptanceModel, AcceptanceModelReport

    doc = model_files.read_manifest(vdir)
    key = (vdir.name, str(doc["files"].get("model.txt")))
    with _acc_lock:
        if key in _acc_cache:
            return _acc_cache[key]
    data = model_files.load_version(vdir, ("model.txt", "metadata.json"), lightgbm=("model.txt",))
    try:
        meta = json.loads(data["metadata.json"].decode("utf-8"))
        if tuple(meta["features"]) != FEATURES:
            raise ValueError("it was trained on a different feature set; train it again")
        r = meta["report"]
        report = AcceptanceModelReport(
            n_train=int(r["n_train"]), n_test=int(r["n_test"]), split_at=pd.Timestamp(r["split_at"]),
            logloss_model=float(r["logloss_model"]), logloss_rate=float(r["logloss_rate"]),
            auc_model=math.nan if r.get("auc_model") is None else float(r["auc_model"]),
            auc_rate=math.nan if r.get("auc_rate") is None else float(r["auc_rate"]), use_model=bool(r["use_model"]))
        model = AcceptanceModel.from_model_string(data["model.txt"].decode("utf-8"), report)
    except Exception as exc:  # noqa: BLE001 - any parse failure means "unusable model"
        raise model_files.ModelFileError(f"Acceptance model {vdir.name} cannot be loaded: {exc}") from None
    with _acc_lock:
        _acc_cache[key] = model
    return model


def active_acceptance_model(app: AppContext) -> tuple[Any | None, str]:
    """(the acceptance model rankings use, or None; status text). Never raises: a broken model means "use the
    historical rate"."""
    root = _acc_root(app)
    version = model_files.read_active(root, _ACC_VERSION_RE)
    if version is None:
        return None, "historical rate (no acceptance model in use)"
    try:
        model = _load_acceptance(root / version)
    except (model_files.ModelFileError, OSError) as exc:
        log.error("acceptance model %s unusable: %s", version, exc)
        return None, f"historical rate (model {version} unusable: {exc})"
    if not model.report.use_model:
        return None, "historical rate (the model did not beat it)"
    return model, f"lightgbm (model {version})"


def acceptance_model_status(app: AppContext, actor: Actor) -> AcceptanceModelInfo | None:
    """The newest stored acceptance model (with its held-out comparison and whether rankings use it), or None."""
    require_role(actor, "planner", "admin")
    root = _acc_root(app)
    if not root.exists():
        return None
    active = model_files.read_active(root, _ACC_VERSION_RE)
    for vdir in sorted((p for p in root.iterdir() if p.is_dir() and _ACC_VERSION_RE.match(p.name)), reverse=True):
        try:
            return _acc_info(vdir, active)
        except model_files.ModelFileError as exc:
            log.warning("skipping acceptance model %s: %s", vdir.name, exc)
    return None


def train_acceptance_model(app: AppContext, actor: Actor, *,
                           on_progress: ProgressCallback | None = None) -> AcceptanceModelInfo:
    """Train the LightGBM acceptance model on the stored overtime history (uploaded + recorded in the app),
    compare it with the smoothed historical rate on the latest 25 % of requests and store it under
    ``models_dir/overtime/<version>/`` (LightGBM text + JSON metadata, sha256 manifest). Rankings use it when,
    and only when, its held-out log loss beats the rate; otherwise they keep (or go back to) the rate. Audited."""
    require_role(actor, "admin")
    from src.models.overtime.acceptance_model import FEATURES, fit_acceptance_model

    progress = on_progress or (lambda _f, _t: None)
    t0 = datetime.now(UTC)
    progress(0.02, "Reading staff and overtime history")
    staff, hist = _staff(app), _history(app)
    if hist.empty:
        raise ServiceError("There is no overtime history to learn from yet. Upload it on the Data page first.")
    as_of = pd.Timestamp(local_now(app))
    rules = OvertimeRules()

    def inner(f: float, text: str) -> None:
        progress(0.05 + 0.8 * f, text[:1].upper() + text[1:])

    try:
        model = fit_acceptance_model(staff, hist, rules, as_of=as_of, n_jobs=1, on_progress=inner)
    except ValueError as exc:
        raise ServiceError(f"Cannot train an acceptance model on this history: {exc}") from None
    progress(0.9, "Saving the model")
    report = model.report.to_dict()
    fingerprint = model_files.sha256_bytes(
        hist.sort_values(["request_id", "staff_id"]).to_csv(index=False).encode("utf-8"))
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {"kind": "overtime_acceptance_lightgbm", "features": list(FEATURES), "report": report,
            "history_rows": len(hist), "staff_rows": len(staff), "data_sha256": fingerprint,
            "trained_as_of": as_of.isoformat(), "lookback_days": rules.lookback_days,
            "prior_acceptance": rules.prior_acceptance, "prior_strength": rules.prior_strength,
            "created_by": actor.username, "created_at": created_at}
    root = _acc_root(app)
    version = model_files.new_version_id(_ACC_PREFIX)
    saved = model_files.save_version(
        root, version, {"model.txt": model.model_string().encode("utf-8"),
                        "metadata.json": json.dumps(meta, indent=2, allow_nan=False).encode("utf-8")},
        {"created_at": created_at, "created_by": actor.username, "kind": meta["kind"], "report": report})
    use = bool(report["use_model"])
    previous = model_files.read_active(root, _ACC_VERSION_RE)
    try:
        with db.write_tx(app.engine) as conn:
            store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.acceptance_model.train",
                              object_type="ot_acceptance_model", object_id=version,
                              detail={**report, "in_use": use, "previous": previous, "history_rows": len(hist),
                                      "data_sha256": fingerprint})
            model_files.write_active(root, version if use else None)
    except BaseException:
        shutil.rmtree(saved.path, ignore_errors=True)
        raise
    seconds = (datetime.now(UTC) - t0).total_seconds()
    progress(1.0, "Rankings now use the model" if use else "The model did not beat the historical rate; "
             "rankings keep using the rate")
    log.info("acceptance model %s trained by %s in %.1fs (log loss %.4f vs rate %.4f, in use: %s)", version,
             actor.username, seconds, report["logloss_model"], report["logloss_rate"], use)
    return _acc_info(saved.path, version if use else None, seconds)
