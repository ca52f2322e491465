"""Recorded absences (sick, leave, training, other): rankings exclude people on the days they are away."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from src.data import db, overtime_store, store
from src.services.context import Actor, AppContext, ServiceError, require_role

from .helpers import MAX_DAYS_FROM_TODAY, _parse_date, local_now

log = logging.getLogger(__name__)


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
