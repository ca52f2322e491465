"""Helpers shared by every overtime use case: the local clock, reading staff and history, parsing dates, the
ranking rules, and the reports' default "as of" day.

Imports none of the other overtime modules, so all of them can import it without a circle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from src.data import overtime_store, store
from src.models.overtime import OvertimeRules
from src.services.context import Actor, AppContext, ServiceError, require_role

ProgressCallback = Callable[[float, str], None]

#: how far back/ahead a coverage request's shift date may lie
MAX_DAYS_FROM_TODAY = 366


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
