"""Overtime coverage requests created in the app, and every contact/response recorded for them.

Why a store of its own: the uploaded overtime history (table ``overtime``) is a closed record of the past;
requests made in the app are live — open, filled or cancelled — and their contacts are written one at a time
as the planner phones people. Reports must see both, so :func:`app_history` turns the app's records into the
canonical overtime-history shape (``src.data.kinds`` kind "overtime") and :func:`combined_history` appends them
to the uploaded rows.

Mapping of app contacts to history rows (one row per contact; ``request_id`` = :func:`request_code`):

- response ``declined`` → ``accepted=False`` with ``responded_at``;
- response ``no_answer`` → ``accepted=False`` and ``responded_at`` empty (the domain's "no answer");
- response ``accepted`` → ``accepted=True``, ``hours_worked`` = the request's hours, if the request was filled by
  this person or is still open (a provisional commitment); on a request filled by someone else or cancelled the
  acceptance is dropped (the shift was not theirs to work);
- no response yet → on an open request ``accepted=False`` without ``responded_at`` (pending until the shift
  starts, then an unanswered offer); on a filled or cancelled request the offer was withdrawn and is dropped.

Every write function takes the caller's connection so the service can put the change and its audit event in one
transaction (``db.write_tx``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)

from src.data import db, store
from src.data.kinds import get_kind

log = logging.getLogger(__name__)

REQUEST_STATUSES: tuple[str, ...] = ("open", "filled", "cancelled")
RESPONSES: tuple[str, ...] = ("accepted", "declined", "no_answer")
CHANNELS: tuple[str, ...] = ("phone", "sms", "email")
CODE_PREFIX = "OTR-"

ot_requests = Table(
    "ot_requests", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("site", String(128), nullable=False),
    Column("unit", String(128), nullable=True),
    Column("shift_date", DateTime, nullable=False),
    Column("shift_type", String(64), nullable=False),
    Column("hours", Float, nullable=False),
    Column("required_role", String(128), nullable=True),
    Column("required_skill", String(128), nullable=True),
    Column("note", Text, nullable=True),
    Column("status", String(16), nullable=False, default="open"),
    Column("filled_staff_id", String(64), nullable=True),
    Column("filled_at", DateTime, nullable=True),
    Column("closed_by", String(64), nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint("status IN ('open', 'filled', 'cancelled')", name="ck_ot_requests_status"),
    CheckConstraint("hours > 0 AND hours <= 24", name="ck_ot_requests_hours"),
    CheckConstraint("(status = 'filled') = (filled_staff_id IS NOT NULL)", name="ck_ot_requests_filled"),
    Index("ix_ot_requests_date", "shift_date"),
)

ot_contacts = Table(
    "ot_contacts", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("ot_requests.id", ondelete="CASCADE"), nullable=False),
    Column("staff_id", String(64), nullable=False),
    Column("rank", Integer, nullable=True),
    Column("score", Float, nullable=True),
    Column("channel", String(16), nullable=False),
    Column("contacted_at", DateTime, nullable=False),
    Column("contacted_by", String(64), nullable=False),
    Column("response", String(16), nullable=True),
    Column("responded_at", DateTime, nullable=True),
    Column("recorded_by", String(64), nullable=True),
    Column("delivery_ref", String(128), nullable=True),
    UniqueConstraint("request_id", "staff_id", name="uq_ot_contacts_request_staff"),
    CheckConstraint("response IS NULL OR response IN ('accepted', 'declined', 'no_answer')",
                    name="ck_ot_contacts_response"),
    CheckConstraint("channel IN ('phone', 'sms', 'email')", name="ck_ot_contacts_channel"),
    CheckConstraint("(response IS NULL) = (responded_at IS NULL)", name="ck_ot_contacts_responded"),
    CheckConstraint("responded_at IS NULL OR responded_at >= contacted_at", name="ck_ot_contacts_order"),
    Index("ix_ot_contacts_staff", "staff_id"),
)

#: why someone is away (kept to categories: no free-text health details)
ABSENCE_REASONS: tuple[str, ...] = ("sick", "leave", "training", "other")

ot_absences = Table(
    "ot_absences", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("staff_id", String(64), nullable=False),
    Column("date_from", DateTime, nullable=False),
    Column("date_to", DateTime, nullable=False),
    Column("reason", String(16), nullable=False),
    Column("note", String(200), nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint("date_to >= date_from", name="ck_ot_absences_order"),
    CheckConstraint("reason IN ('sick', 'leave', 'training', 'other')", name="ck_ot_absences_reason"),
    Index("ix_ot_absences_staff_from", "staff_id", "date_from"),
    Index("ix_ot_absences_to", "date_to"),
    sqlite_autoincrement=True,  # absences are deleted by id (page, API): a freed id must not name a newer absence
)

REQUEST_COLUMNS = [c.name for c in ot_requests.columns]
ABSENCE_COLUMNS = [c.name for c in ot_absences.columns]
CONTACT_COLUMNS = [c.name for c in ot_contacts.columns]


def request_code(request_id: int) -> str:
    """The request id shown to users and used as ``request_id`` in the history (``OTR-000042``)."""
    return f"{CODE_PREFIX}{int(request_id):06d}"


def parse_request_code(value: str | int) -> int | None:
    """``"OTR-000042"``, ``"42"`` or ``42`` → 42; anything else → None."""
    if isinstance(value, int):
        return value if value > 0 else None
    s = str(value).strip().upper()
    if s.startswith(CODE_PREFIX):
        s = s[len(CODE_PREFIX):]
    return int(s) if s.isdigit() and int(s) > 0 else None


# ----------------------------------------------------------------------------------------------- writes

def insert_request(conn: Connection, *, site: str, unit: str | None, shift_date: datetime, shift_type: str,
                   hours: float, required_role: str | None, required_skill: str | None, note: str | None,
                   created_by: str) -> int:
    return int(conn.execute(insert(ot_requests).values(
        site=site, unit=unit, shift_date=shift_date, shift_type=shift_type, hours=float(hours),
        required_role=required_role, required_skill=required_skill, note=note, status="open",
        created_by=created_by, created_at=db.utcnow(),
    ).returning(ot_requests.c.id)).scalar_one())


def lock_request(conn: Connection, request_id: int) -> dict[str, Any] | None:
    """The request row, locked for this transaction on PostgreSQL (SQLite's BEGIN IMMEDIATE already is)."""
    q = select(ot_requests).where(ot_requests.c.id == int(request_id))
    if not db.is_sqlite(conn):
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def insert_contact(conn: Connection, *, request_id: int, staff_id: str, channel: str, contacted_at: datetime,
                   contacted_by: str, rank: int | None, score: float | None) -> int:
    return int(conn.execute(insert(ot_contacts).values(
        request_id=int(request_id), staff_id=str(staff_id), channel=channel, contacted_at=contacted_at,
        contacted_by=contacted_by, rank=rank, score=score,
    ).returning(ot_contacts.c.id)).scalar_one())


def set_delivery_ref(conn: Connection, contact_id: int, ref: str) -> None:
    conn.execute(update(ot_contacts).where(ot_contacts.c.id == int(contact_id)).values(delivery_ref=ref[:128]))


def get_contact(conn: Connection, request_id: int, staff_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(ot_contacts).where(ot_contacts.c.request_id == int(request_id),
                                                 ot_contacts.c.staff_id == str(staff_id))).mappings().first()
    return dict(row) if row else None


def set_response(conn: Connection, contact_id: int, *, response: str, responded_at: datetime,
                 recorded_by: str) -> int:
    """Record a response on a contact that has none yet; returns the rows changed (0 = already answered)."""
    return conn.execute(update(ot_contacts).where(ot_contacts.c.id == int(contact_id),
                                                  ot_contacts.c.response.is_(None))
                        .values(response=response, responded_at=responded_at, recorded_by=recorded_by)).rowcount


def close_request(conn: Connection, request_id: int, *, status: str, by: str, staff_id: str | None = None,
                  at: datetime | None = None) -> int:
    """Move an *open* request to filled/cancelled; returns the rows changed (0 = it was not open any more)."""
    if status not in ("filled", "cancelled"):
        raise ValueError(f"Cannot close a request as {status!r}.")
    values: dict[str, Any] = {"status": status, "closed_by": by}
    if status == "filled":
        values.update(filled_staff_id=str(staff_id), filled_at=at or db.utcnow())
    return conn.execute(update(ot_requests).where(ot_requests.c.id == int(request_id),
                                                  ot_requests.c.status == "open").values(**values)).rowcount


def insert_absence(conn: Connection, *, staff_id: str, date_from: datetime, date_to: datetime, reason: str,
                   note: str | None, created_by: str) -> int:
    return int(conn.execute(insert(ot_absences).values(
        staff_id=str(staff_id), date_from=date_from, date_to=date_to, reason=reason, note=note,
        created_by=created_by, created_at=db.utcnow(),
    ).returning(ot_absences.c.id)).scalar_one())


def overlapping_absences(conn: Connection, staff_id: str, date_from: datetime, date_to: datetime
                         ) -> list[dict[str, Any]]:
    """Absences of ``staff_id`` that share at least one day with [date_from, date_to] (both inclusive)."""
    a = ot_absences
    rows = conn.execute(select(a).where(a.c.staff_id == str(staff_id), a.c.date_from <= date_to,
                                        a.c.date_to >= date_from).order_by(a.c.date_from)).mappings().all()
    return [dict(r) for r in rows]


def get_absence(conn: Connection, absence_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(ot_absences).where(ot_absences.c.id == int(absence_id))).mappings().first()
    return dict(row) if row else None


def delete_absence(conn: Connection, absence_id: int) -> int:
    return conn.execute(delete(ot_absences).where(ot_absences.c.id == int(absence_id))).rowcount


# ----------------------------------------------------------------------------------------------- reads

def absences_frame(engine: Engine, *, staff_id: str | None = None, start: datetime | None = None,
                   end: datetime | None = None) -> pd.DataFrame:
    """Recorded absences (by start date), optionally of one person and/or overlapping [start, end] (inclusive)."""
    a = ot_absences
    q = select(a).order_by(a.c.date_from, a.c.staff_id, a.c.id)
    if staff_id is not None:
        q = q.where(a.c.staff_id == str(staff_id))
    if start is not None:
        q = q.where(a.c.date_to >= start)
    if end is not None:
        q = q.where(a.c.date_from <= end)
    with db.read_conn(engine) as conn:
        rows = conn.execute(q).mappings().all()
    df = pd.DataFrame(rows, columns=ABSENCE_COLUMNS)
    for col in ("date_from", "date_to", "created_at"):
        df[col] = pd.to_datetime(df[col])
    return df


def committed_overtime(engine: Engine) -> pd.DataFrame:
    """Overtime shifts people in the app have taken on: accepted contacts on filled (by them) or open requests.

    Columns: staff_id, request_id (code), shift_date, shift_type, hours, status, responded_at (local time of the
    acceptance). Used to build the ranking's ``schedule`` so that someone who already took an overlapping shift is
    excluded as "already working".
    """
    r, c = ot_requests, ot_contacts
    q = (select(c.c.staff_id, r.c.id, r.c.shift_date, r.c.shift_type, r.c.hours, r.c.status, r.c.filled_staff_id,
                c.c.responded_at)
         .join(r, c.c.request_id == r.c.id)
         .where(c.c.response == "accepted", r.c.status != "cancelled").order_by(r.c.id))
    with db.read_conn(engine) as conn:
        rows = conn.execute(q).mappings().all()
    out = [{"staff_id": row["staff_id"], "request_id": request_code(row["id"]), "shift_date": row["shift_date"],
            "shift_type": row["shift_type"], "hours": float(row["hours"]), "status": row["status"],
            "responded_at": row["responded_at"]}
           for row in rows if row["status"] == "open" or row["filled_staff_id"] == row["staff_id"]]
    df = pd.DataFrame(out, columns=["staff_id", "request_id", "shift_date", "shift_type", "hours", "status",
                                    "responded_at"])
    for col in ("shift_date", "responded_at"):
        df[col] = pd.to_datetime(df[col])
    return df


def requests_frame(engine: Engine, *, status: str | None = None, request_id: int | None = None,
                   limit: int | None = None) -> pd.DataFrame:
    """App requests, newest first, with ``code``, ``contacts`` and ``responses`` counts."""
    q = select(ot_requests).order_by(ot_requests.c.id.desc())
    if status:
        q = q.where(ot_requests.c.status == status)
    if request_id is not None:
        q = q.where(ot_requests.c.id == int(request_id))
    if limit:
        q = q.limit(int(limit))
    with db.read_conn(engine) as conn:
        rows = conn.execute(q).mappings().all()
        ids = [r["id"] for r in rows]
        counts: dict[int, tuple[int, int]] = {}
        if ids:
            c = ot_contacts
            for rid, resp in conn.execute(select(c.c.request_id, c.c.response)
                                                 .where(c.c.request_id.in_(ids))):
                n, k = counts.get(rid, (0, 0))
                counts[rid] = (n + 1, k + (resp is not None))
    df = pd.DataFrame(rows, columns=REQUEST_COLUMNS)
    df.insert(1, "code", [request_code(i) for i in df["id"]])
    df["contacts"] = [counts.get(i, (0, 0))[0] for i in df["id"]]
    df["responses"] = [counts.get(i, (0, 0))[1] for i in df["id"]]
    for col in ("shift_date", "filled_at", "created_at"):
        df[col] = pd.to_datetime(df[col])
    return df


def contacts_frame(engine: Engine, *, request_id: int | None = None, staff_id: str | None = None) -> pd.DataFrame:
    """Recorded contacts (oldest first), optionally of one request or one person."""
    q = select(ot_contacts).order_by(ot_contacts.c.contacted_at, ot_contacts.c.id)
    if request_id is not None:
        q = q.where(ot_contacts.c.request_id == int(request_id))
    if staff_id is not None:
        q = q.where(ot_contacts.c.staff_id == str(staff_id))
    with db.read_conn(engine) as conn:
        rows = conn.execute(q).mappings().all()
    df = pd.DataFrame(rows, columns=CONTACT_COLUMNS)
    for col in ("contacted_at", "responded_at"):
        df[col] = pd.to_datetime(df[col])
    return df


def app_history(engine: Engine) -> pd.DataFrame:
    """The app's contacts as canonical overtime-history rows (see the module docstring for the mapping)."""
    cols = get_kind("overtime").column_names
    r, c = ot_requests, ot_contacts
    q = (select(r.c.id, r.c.site, r.c.unit, r.c.shift_date, r.c.shift_type, r.c.hours, r.c.status,
                r.c.filled_staff_id, c.c.staff_id, c.c.contacted_at, c.c.responded_at, c.c.response)
         .join(c, c.c.request_id == r.c.id).order_by(r.c.id, c.c.contacted_at, c.c.id))
    with db.read_conn(engine) as conn:
        rows = conn.execute(q).mappings().all()
    out: list[dict[str, Any]] = []
    for row in rows:
        status, resp = row["status"], row["response"]
        if resp is None and status != "open":
            continue  # offer withdrawn when the shift was filled or cancelled
        if resp == "accepted" and not (status == "open" or row["filled_staff_id"] == row["staff_id"]):
            continue
        out.append({
            "request_id": request_code(row["id"]), "shift_date": row["shift_date"], "site": row["site"],
            "shift_type": row["shift_type"], "staff_id": row["staff_id"], "contacted_at": row["contacted_at"],
            "responded_at": row["responded_at"] if resp in ("accepted", "declined") else None,
            "accepted": resp == "accepted", "hours_worked": float(row["hours"]) if resp == "accepted" else 0.0,
            "unit": row["unit"],
        })
    df = pd.DataFrame(out, columns=cols)
    for col in ("shift_date", "contacted_at", "responded_at"):
        df[col] = pd.to_datetime(df[col])
    df["accepted"] = df["accepted"].astype(bool)
    df["hours_worked"] = df["hours_worked"].astype(float)
    return df


def combined_history(engine: Engine) -> pd.DataFrame:
    """Uploaded overtime history plus the app's contacts, in the canonical overtime-history shape."""
    uploaded = store.load_frame(engine, "overtime")
    app = app_history(engine)
    if app.empty:
        return uploaded
    if uploaded.empty:
        return app
    return pd.concat([uploaded, app[uploaded.columns]], ignore_index=True)


def last_activity(engine: Engine) -> datetime | None:
    """The latest shift date or contact/response time in the uploaded history and the app's records."""
    from sqlalchemy import func

    t = db.overtime
    with db.read_conn(engine) as conn:
        values = list(conn.execute(select(func.max(t.c.shift_date), func.max(t.c.contacted_at),
                                          func.max(t.c.responded_at))).one())
        values += list(conn.execute(select(func.max(ot_requests.c.shift_date))).one())
        values += list(conn.execute(select(func.max(ot_contacts.c.contacted_at),
                                           func.max(ot_contacts.c.responded_at))).one())
    found = [pd.Timestamp(v).to_pydatetime() for v in values if v is not None]
    return max(found) if found else None


def last_request_created_utc(engine: Engine) -> datetime | None:
    """When the newest app request was created (naive UTC, like every ``created_at``)."""
    from sqlalchemy import func

    with db.read_conn(engine) as conn:
        value = conn.execute(select(func.max(ot_requests.c.created_at))).scalar()
    return None if value is None else pd.Timestamp(value).to_pydatetime()
