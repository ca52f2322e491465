"""Saved staffing plans: one header row per plan, its per-interval requirement rows and its shift starts.

Why a store module of its own: a saved plan is what a planner hands on ("the plan for week 12"), so it must be
readable later exactly as it was computed — the parameters used (as JSON), the volume source, every interval's
requirement and achieved service level, and the people per shift start. Saving is one transaction together
with its audit event (the caller passes the connection from :func:`src.data.db.write_tx`).

Floats that are NaN/inf (no SL for an e-mail queue, ASA of an unstable interval) are stored as NULL, so the
same rows work on SQLite and PostgreSQL.

Schema version 2 added :data:`V2_INTERVAL_COLUMNS` (P(wait), e-mail backlog, and what the shift plan's people
achieve: productive agents, ASA, P(abandon)). Plans saved before that have NULL there; readers show them empty.
"""

from __future__ import annotations

import json
import logging
import math
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
    func,
    insert,
    select,
)

from src.data import db

log = logging.getLogger(__name__)

PLAN_SOURCES: tuple[str, ...] = ("forecast", "history", "upload", "care")

staffing_plans = Table(
    "staffing_plans", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("source", String(32), nullable=False),
    Column("source_detail", String(500), nullable=False, default=""),
    Column("volume_basis", String(16), nullable=False, default="point"),
    Column("params_json", Text, nullable=False),
    Column("scenario_json", Text, nullable=False, default="{}"),
    Column("queues", Integer, nullable=False),
    Column("intervals", Integer, nullable=False),
    Column("range_start", DateTime, nullable=True),
    Column("range_end", DateTime, nullable=True),
    Column("agent_hours", Float, nullable=True),
    Column("paid_hours", Float, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint("source IN ('forecast', 'history', 'upload', 'care')", name="ck_staffing_plans_source"),
    CheckConstraint("length(name) > 0", name="ck_staffing_plans_name"),
    CheckConstraint("intervals >= 0 AND queues >= 0", name="ck_staffing_plans_counts"),
)

staffing_plan_intervals = Table(
    "staffing_plan_intervals", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Integer, ForeignKey("staffing_plans.id", ondelete="CASCADE"), nullable=False),
    Column("queue", String(128), nullable=False),
    Column("ds", DateTime, nullable=False),
    Column("volume", Float, nullable=False),
    Column("aht_seconds", Float, nullable=True),
    Column("traffic", Float, nullable=True),
    Column("agents_raw", Integer, nullable=False),
    Column("agents", Integer, nullable=False),
    Column("agents_fractional", Float, nullable=True),
    Column("service_level", Float, nullable=True),
    Column("asa_seconds", Float, nullable=True),
    Column("occupancy", Float, nullable=True),
    Column("p_abandon", Float, nullable=True),
    Column("planned", Float, nullable=True),
    Column("planned_service_level", Float, nullable=True),
    # schema version 2 (NULL in plans saved before): keep each added column nullable, see V2_INTERVAL_COLUMNS
    Column("p_wait", Float, nullable=True),
    Column("backlog_hours", Float, nullable=True),
    Column("planned_productive_agents", Float, nullable=True),
    Column("planned_asa_seconds", Float, nullable=True),
    Column("planned_p_abandon", Float, nullable=True),
    UniqueConstraint("plan_id", "queue", "ds", name="uq_staffing_plan_intervals_key"),
    CheckConstraint("agents >= agents_raw AND agents_raw >= 0", name="ck_staffing_plan_intervals_agents"),
    CheckConstraint("volume >= 0", name="ck_staffing_plan_intervals_volume"),
    Index("ix_staffing_plan_intervals_plan", "plan_id"),
)

staffing_plan_shifts = Table(
    "staffing_plan_shifts", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Integer, ForeignKey("staffing_plans.id", ondelete="CASCADE"), nullable=False),
    Column("queue", String(128), nullable=False),
    Column("pattern", String(128), nullable=False),
    Column("start", DateTime, nullable=False),
    Column("end", DateTime, nullable=False),
    Column("paid_hours", Float, nullable=False),
    Column("people", Integer, nullable=False),
    CheckConstraint("people > 0", name="ck_staffing_plan_shifts_people"),
    CheckConstraint("paid_hours >= 0", name="ck_staffing_plan_shifts_paid"),
    Index("ix_staffing_plan_shifts_plan", "plan_id"),
)

#: interval columns added by schema version 2
V2_INTERVAL_COLUMNS = ("p_wait", "backlog_hours", "planned_productive_agents", "planned_asa_seconds",
                       "planned_p_abandon")
INTERVAL_FIELDS = ("queue", "ds", "volume", "aht_seconds", "traffic", "agents_raw", "agents", "agents_fractional",
                   "service_level", "asa_seconds", "occupancy", "p_abandon", "planned", "planned_service_level",
                   *V2_INTERVAL_COLUMNS)
SHIFT_FIELDS = ("queue", "pattern", "start", "end", "paid_hours", "people")


def _add_v2_interval_columns(conn: Connection) -> None:
    """Schema 1 → 2: the quality columns of saved plan intervals (existing rows keep NULL = not recorded)."""
    db.add_missing_columns(conn, staffing_plan_intervals, V2_INTERVAL_COLUMNS)


db.register_migration(2, "saved staffing plan intervals: P(wait), backlog and the shift plan's ASA/P(abandon)",
                      _add_v2_interval_columns)


def _num(v: Any) -> float | None:
    """A finite float or None (NULL) — NaN/inf are not portable across backends."""
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _ts(v: Any) -> datetime:
    return pd.Timestamp(v).to_pydatetime()


def _records(frame: pd.DataFrame, fields: tuple[str, ...], plan_id: int) -> list[dict[str, Any]]:
    out = []
    cols = {f: (frame[f].tolist() if f in frame else [None] * len(frame)) for f in fields}
    for i in range(len(frame)):
        row: dict[str, Any] = {"plan_id": plan_id}
        for f in fields:
            v = cols[f][i]
            if f in ("ds", "start", "end"):
                row[f] = _ts(v)
            elif f in ("queue", "pattern"):
                row[f] = str(v)[:128]
            elif f in ("agents_raw", "agents", "people"):
                row[f] = int(v)
            else:
                row[f] = _num(v)
        out.append(row)
    return out


def insert_plan(conn: Connection, *, name: str, source: str, source_detail: str, volume_basis: str,
                params: dict[str, Any], scenario: dict[str, Any], intervals: pd.DataFrame,
                shifts: pd.DataFrame | None, paid_hours: float | None, created_by: str) -> int:
    """Insert a plan with its interval rows and shift starts inside the caller's transaction; return its id."""
    if source not in PLAN_SOURCES:
        raise ValueError(f"Unknown plan source {source!r}; use one of {', '.join(PLAN_SOURCES)}.")
    ds = pd.to_datetime(intervals["ds"]) if len(intervals) else pd.Series(dtype="datetime64[ns]")
    hours = None
    if "agent_hours" in intervals:
        hours = _num(intervals["agent_hours"].sum())
    plan_id = conn.execute(insert(staffing_plans).values(
        name=name[:200], source=source, source_detail=source_detail[:500], volume_basis=volume_basis,
        params_json=json.dumps(params, sort_keys=True, default=str),
        scenario_json=json.dumps(scenario, sort_keys=True, default=str),
        queues=int(intervals["queue"].nunique()) if len(intervals) else 0, intervals=len(intervals),
        range_start=ds.min().to_pydatetime() if len(ds) else None,
        range_end=ds.max().to_pydatetime() if len(ds) else None,
        agent_hours=hours, paid_hours=_num(paid_hours), created_by=created_by, created_at=db.utcnow(),
    )).inserted_primary_key[0]
    rows = _records(intervals, INTERVAL_FIELDS, int(plan_id))
    for i in range(0, len(rows), 1000):
        conn.execute(insert(staffing_plan_intervals), rows[i:i + 1000])
    if shifts is not None and len(shifts):
        conn.execute(insert(staffing_plan_shifts), _records(shifts, SHIFT_FIELDS, int(plan_id)))
    log.info("staffing plan %s saved: %d intervals", plan_id, len(rows))
    return int(plan_id)


def list_plans(engine: Engine, limit: int = 200) -> pd.DataFrame:
    """Saved plans, newest first (header rows only)."""
    t = staffing_plans
    cols = [t.c.id, t.c.name, t.c.source, t.c.source_detail, t.c.volume_basis, t.c.queues, t.c.intervals,
            t.c.range_start, t.c.range_end, t.c.agent_hours, t.c.paid_hours, t.c.created_by, t.c.created_at]
    with db.read_conn(engine) as conn:
        rows = conn.execute(select(*cols).order_by(t.c.id.desc()).limit(limit)).mappings().all()
    return pd.DataFrame(rows, columns=[c.name for c in cols])


def count_plans(engine: Engine) -> int:
    with db.read_conn(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(staffing_plans)).scalar() or 0)


def load_plan(engine: Engine, plan_id: int) -> dict[str, Any] | None:
    """A saved plan: ``header`` (dict, params/scenario decoded), ``intervals`` and ``shifts`` frames; None if absent."""
    with db.read_conn(engine) as conn:
        head = conn.execute(select(staffing_plans).where(staffing_plans.c.id == plan_id)).mappings().first()
        if head is None:
            return None
        iv = conn.execute(select(*[staffing_plan_intervals.c[f] for f in INTERVAL_FIELDS])
                          .where(staffing_plan_intervals.c.plan_id == plan_id)
                          .order_by(staffing_plan_intervals.c.queue, staffing_plan_intervals.c.ds)).all()
        sh = conn.execute(select(*[staffing_plan_shifts.c[f] for f in SHIFT_FIELDS])
                          .where(staffing_plan_shifts.c.plan_id == plan_id)
                          .order_by(staffing_plan_shifts.c.queue, staffing_plan_shifts.c.start)).all()
    header = dict(head)
    header["params"] = json.loads(header.pop("params_json"))
    header["scenario"] = json.loads(header.pop("scenario_json") or "{}")
    intervals = pd.DataFrame(iv, columns=list(INTERVAL_FIELDS))
    for c in INTERVAL_FIELDS:
        if c not in ("queue", "ds") and c in intervals:
            intervals[c] = pd.to_numeric(intervals[c], errors="coerce")
    intervals["ds"] = pd.to_datetime(intervals["ds"])
    shifts = pd.DataFrame(sh, columns=list(SHIFT_FIELDS))
    if len(shifts):
        shifts["start"] = pd.to_datetime(shifts["start"])
        shifts["end"] = pd.to_datetime(shifts["end"])
    return {"header": header, "intervals": intervals, "shifts": shifts}
