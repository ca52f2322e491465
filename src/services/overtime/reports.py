"""Overtime reports: fairness (per person and over time), the dashboard, one person's overtime, their rostered
week, and the staff list for pickers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from src.data import overtime_store, store
from src.data.overtime_store import request_code
from src.models.overtime import (
    DEFAULT_WINDOWS,
    FACTORS,
    DashboardStats,
    FairnessReport,
    StaffDetail,
    acceptance_trend,
    fairness_by_window,
    fairness_report,
    fairness_timeseries,
    overtime_dashboard,
    recent_requests,
    response_time_distribution,
)
from src.models.overtime import (
    staff_detail as _staff_detail,
)
from src.services.context import Actor, AppContext, ServiceError, require_role

from .availability import rostered_shifts
from .helpers import ProgressCallback, _history, _parse_date, _staff, as_of_timestamp
from .workflow import answer_label


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
