"""Store of the People capability: open tasks, assignment previews, finalized assignments, ranker
settings and the shadow-mode log.

Why these tables (and not rows in the upload tables): open tasks and previews are *work in progress*
that planners create and change through the app; only finalized assignments whose outcome is known
become assignment history (``db.assignments``), the ranker's training data.

Lifecycle: ``open_tasks.status`` open → assigned (at finalize) or cancelled;
``assignment_previews.status`` draft → finalized | discarded (only a draft may change; the status
update is guarded by ``WHERE status = 'draft'`` so two finalize clicks cannot both succeed).
Every function that writes takes the caller's connection (``db.write_tx``) so the service can put the
change and its audit event into one transaction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Boolean,
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
    and_,
    func,
    insert,
    select,
    update,
)

from src.data import db

TASK_STATUSES = ("open", "assigned", "cancelled")
PREVIEW_STATUSES = ("draft", "finalized", "discarded")
TASK_COLUMNS = ["task_id", "task_type", "site", "priority", "due", "required_skill", "hours"]

open_tasks = Table(
    "people_open_tasks", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", String(64), nullable=False, unique=True),
    Column("task_type", String(128), nullable=False),
    Column("site", String(128), nullable=False, default=""),
    Column("priority", Integer, nullable=False),
    Column("due", DateTime, nullable=False),
    Column("required_skill", String(128), nullable=False, default=""),
    Column("hours", Float, nullable=False),
    Column("status", String(16), nullable=False, default="open"),
    Column("source", String(32), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    CheckConstraint("status IN ('open', 'assigned', 'cancelled')", name="ck_open_tasks_status"),
    CheckConstraint("priority >= 0", name="ck_open_tasks_priority"),
    CheckConstraint("hours >= 0", name="ck_open_tasks_hours"),
    Index("ix_open_tasks_status_due", "status", "due"),
)

previews = Table(
    "people_assignment_previews", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("method", String(16), nullable=False),
    Column("params_json", Text, nullable=False),
    Column("summary_json", Text, nullable=False, default="{}"),
    Column("status", String(16), nullable=False, default="draft"),
    Column("scored_as_of", DateTime, nullable=False),
    Column("closed_by", String(64), nullable=True),
    Column("closed_at", DateTime, nullable=True),
    CheckConstraint("status IN ('draft', 'finalized', 'discarded')", name="ck_previews_status"),
    CheckConstraint("method IN ('greedy', 'balanced', 'optimal')", name="ck_previews_method"),
)

preview_rows = Table(
    "people_assignment_preview_rows", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("preview_id", Integer, ForeignKey("people_assignment_previews.id"), nullable=False),
    Column("task_id", String(64), nullable=False),
    Column("staff_id", String(64), nullable=False, default=""),  # "" = unassigned
    Column("score", Float, nullable=True),
    Column("scorer", String(16), nullable=False, default=""),
    Column("decision", String(32), nullable=False, default=""),  # model / low_confidence / shadow_mode / ...
    Column("reason", Text, nullable=False, default=""),  # why unassigned
    Column("rule_score", Float, nullable=True),
    Column("model_score", Float, nullable=True),
    Column("model_rank", Integer, nullable=True),
    Column("overridden", Boolean, nullable=False, default=False),
    Column("override_reason", Text, nullable=True),
    Column("original_staff_id", String(64), nullable=True),
    UniqueConstraint("preview_id", "task_id", name="uq_preview_rows_task"),
)

finalized = Table(
    "people_assignments", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("preview_id", Integer, ForeignKey("people_assignment_previews.id"), nullable=False),
    Column("task_id", String(64), nullable=False, unique=True),
    Column("staff_id", String(64), nullable=False),
    Column("task_type", String(128), nullable=False),
    Column("site", String(128), nullable=False, default=""),
    Column("priority", Integer, nullable=False),
    Column("due", DateTime, nullable=False),
    Column("required_skill", String(128), nullable=False, default=""),
    Column("hours", Float, nullable=False),
    Column("score", Float, nullable=True),
    Column("scorer", String(16), nullable=False),
    Column("method", String(16), nullable=False),
    Column("overridden", Boolean, nullable=False, default=False),
    Column("assigned_by", String(64), nullable=False),
    Column("assigned_at", DateTime, nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("outcome_at", DateTime, nullable=True),
    Column("outcome_by", String(64), nullable=True),
    CheckConstraint("outcome IS NULL OR outcome IN ('success', 'failure')", name="ck_people_assignments_outcome"),
    Index("ix_people_assignments_staff_due", "staff_id", "due"),
)

ranker_settings = Table(
    "people_ranker_settings", db.metadata,
    Column("id", Integer, primary_key=True),
    Column("ml_enabled", Boolean, nullable=False),
    Column("ranking_enabled", Boolean, nullable=False),
    Column("shadow_mode", Boolean, nullable=False),
    Column("confidence_threshold", Float, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    CheckConstraint("id = 1", name="ck_ranker_settings_single_row"),
    CheckConstraint("confidence_threshold >= 0 AND confidence_threshold <= 1", name="ck_ranker_settings_threshold"),
)

shadow_log = Table(
    "people_shadow_log", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("preview_id", Integer, ForeignKey("people_assignment_previews.id"), nullable=False),
    Column("task_id", String(64), nullable=False),
    Column("rule_staff_id", String(64), nullable=True),
    Column("rule_score", Float, nullable=True),
    Column("model_staff_id", String(64), nullable=True),
    Column("model_score", Float, nullable=True),
    Column("agree", Boolean, nullable=False),
    Column("scored_at", DateTime, nullable=False),
    Column("logged_at", DateTime, nullable=False),
    Index("ix_shadow_log_task", "task_id"),
)


# ------------------------------------------------------------------------------------------- helpers

def _py(v: Any) -> Any:
    """numpy/pandas scalars → plain Python (NaN/NaT → None) for inserts."""
    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.to_pydatetime()
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else pd.Timestamp(v).to_pydatetime()
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        return None if math.isnan(float(v)) else float(v)
    if v is pd.NaT or v is pd.NA:
        return None
    return v


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    return [{c: _py(v) for c, v in zip(columns, row, strict=True)} for row in frame[list(columns)].itertuples(
        index=False, name=None)]


def _chunks(seq: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _frame(conn: Connection, query: Any, columns: Sequence[str]) -> pd.DataFrame:
    rows = conn.execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


# ------------------------------------------------------------------------------------------- open tasks

def existing_task_ids(conn: Connection, task_ids: Sequence[str]) -> set[str]:
    """Task ids already stored as open tasks or in assignment history (ids must stay unique across both)."""
    found: set[str] = set()
    ids = sorted({str(t) for t in task_ids})
    for chunk in _chunks(ids):
        found.update(conn.execute(select(open_tasks.c.task_id).where(open_tasks.c.task_id.in_(chunk))).scalars())
        found.update(conn.execute(select(db.assignments.c.task_id).where(db.assignments.c.task_id.in_(chunk)))
                     .scalars())
    return found


def insert_tasks(conn: Connection, tasks: pd.DataFrame, *, source: str, actor: str) -> int:
    """Insert canonical open tasks (columns :data:`TASK_COLUMNS`); returns the number inserted."""
    frame = tasks.copy()
    frame["site"] = frame["site"].fillna("").astype(str)
    frame["required_skill"] = frame["required_skill"].fillna("").astype(str)
    recs = _records(frame, TASK_COLUMNS)
    now = db.utcnow()
    for r in recs:
        r.update(status="open", source=source, created_by=actor, created_at=now)
    for chunk in _chunks(recs, 2000):
        conn.execute(insert(open_tasks), list(chunk))
    return len(recs)


def load_tasks(engine: Engine | Connection, *, status: str | Sequence[str] | None = "open",
               start: datetime | None = None, end: datetime | None = None,
               task_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Open tasks (default: status open), ordered by due, with ``status, source, created_at``."""
    t = open_tasks
    cols = [*TASK_COLUMNS, "status", "source", "created_by", "created_at"]
    q = select(*[t.c[c] for c in cols]).order_by(t.c.due, t.c.task_id)
    if status is not None:
        q = q.where(t.c.status.in_([status] if isinstance(status, str) else list(status)))
    if start is not None:
        q = q.where(t.c.due >= start)
    if end is not None:
        q = q.where(t.c.due < end)
    if task_ids is not None:
        q = q.where(t.c.task_id.in_([str(x) for x in task_ids]))
    if isinstance(engine, Engine):
        with db.read_conn(engine) as conn:
            df = _frame(conn, q, cols)
    else:
        df = _frame(engine, q, cols)
    df["due"] = pd.to_datetime(df["due"])
    df["created_at"] = pd.to_datetime(df["created_at"])
    df["priority"] = df["priority"].astype("int64")
    df["hours"] = df["hours"].astype(float)
    return df


def set_task_status(conn: Connection, task_ids: Sequence[str], status: str, *, only_from: str = "open") -> int:
    """Change the status of tasks that currently have ``only_from``; returns the rows changed."""
    if status not in TASK_STATUSES:
        raise ValueError(f"unknown task status {status!r}")
    n = 0
    for chunk in _chunks([str(t) for t in task_ids]):
        n += conn.execute(update(open_tasks).where(and_(open_tasks.c.task_id.in_(chunk),
                                                        open_tasks.c.status == only_from))
                          .values(status=status)).rowcount or 0
    return n


# ------------------------------------------------------------------------------------------- previews

PREVIEW_ROW_COLUMNS = ["task_id", "staff_id", "score", "scorer", "decision", "reason", "rule_score", "model_score",
                       "model_rank", "overridden", "override_reason", "original_staff_id"]


def insert_preview(conn: Connection, *, actor: str, method: str, params: dict[str, Any], summary: dict[str, Any],
                   scored_as_of: datetime, rows: pd.DataFrame) -> int:
    """Insert a draft preview and its rows (one per task); returns the preview id."""
    pid = conn.execute(insert(previews).values(
        created_by=actor, created_at=db.utcnow(), method=method, params_json=json.dumps(params, default=str),
        summary_json=json.dumps(summary, default=str), status="draft", scored_as_of=scored_as_of,
    ).returning(previews.c.id)).scalar_one()
    frame = rows.copy()
    for c, default in (("overridden", False), ("override_reason", None), ("original_staff_id", None)):
        if c not in frame.columns:
            frame[c] = default
    recs = _records(frame, PREVIEW_ROW_COLUMNS)
    for r in recs:
        r["preview_id"] = pid
        r["staff_id"] = r["staff_id"] or ""
        r["reason"] = r["reason"] or ""
        r["scorer"] = r["scorer"] or ""
        r["decision"] = r["decision"] or ""
    for chunk in _chunks(recs, 2000):
        conn.execute(insert(preview_rows), list(chunk))
    return int(pid)


def get_preview(engine: Engine | Connection, preview_id: int) -> dict[str, Any] | None:
    q = select(previews).where(previews.c.id == int(preview_id))
    if isinstance(engine, Engine):
        with db.read_conn(engine) as conn:
            row = conn.execute(q).mappings().first()
    else:
        row = engine.execute(q).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["params"] = json.loads(out.pop("params_json") or "{}")
    out["summary"] = json.loads(out.pop("summary_json") or "{}")
    return out


def list_previews(engine: Engine, limit: int = 50) -> pd.DataFrame:
    cols = ["id", "created_by", "created_at", "method", "status", "closed_by", "closed_at"]
    with db.read_conn(engine) as conn:
        return _frame(conn, select(*[previews.c[c] for c in cols]).order_by(previews.c.id.desc()).limit(limit),
                      cols)


def load_preview_rows(engine: Engine | Connection, preview_id: int) -> pd.DataFrame:
    q = select(*[preview_rows.c[c] for c in PREVIEW_ROW_COLUMNS]).where(
        preview_rows.c.preview_id == int(preview_id)).order_by(preview_rows.c.id)
    if isinstance(engine, Engine):
        with db.read_conn(engine) as conn:
            df = _frame(conn, q, PREVIEW_ROW_COLUMNS)
    else:
        df = _frame(engine, q, PREVIEW_ROW_COLUMNS)
    df["overridden"] = df["overridden"].astype(bool)
    for c in ("score", "rule_score", "model_score"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


def update_preview_row(conn: Connection, preview_id: int, task_id: str, **values: Any) -> int:
    return conn.execute(update(preview_rows).where(and_(preview_rows.c.preview_id == int(preview_id),
                                                        preview_rows.c.task_id == str(task_id)))
                        .values(**{k: _py(v) for k, v in values.items()})).rowcount or 0


def close_preview(conn: Connection, preview_id: int, status: str, actor: str) -> bool:
    """Move a *draft* preview to ``status``; False if it was not a draft any more (lost a race)."""
    if status not in ("finalized", "discarded"):
        raise ValueError(f"cannot close a preview as {status!r}")
    n = conn.execute(update(previews).where(and_(previews.c.id == int(preview_id), previews.c.status == "draft"))
                     .values(status=status, closed_by=actor, closed_at=db.utcnow())).rowcount
    return bool(n)


# ------------------------------------------------------------------------------------------- finalized

FINAL_COLUMNS = ["task_id", "staff_id", "task_type", "site", "priority", "due", "required_skill", "hours", "score",
                 "scorer", "method", "overridden", "assigned_by", "assigned_at", "outcome", "outcome_at",
                 "outcome_by", "preview_id"]


#: key of the PostgreSQL transaction-level advisory lock that serialises finalizing (any 64-bit number that
#: no other lock in this database uses)
FINALIZE_LOCK_KEY = 0x5746_5046_494E_414C  # "WFPFINAL"


def lock_finalize(conn: Connection) -> None:
    """Serialise finalizing: only one transaction at a time may check the people's finalized load and add to
    it. On PostgreSQL a transaction-level advisory lock (released at commit or rollback); statements after it
    see what a finalize committed before (READ COMMITTED). SQLite's ``BEGIN IMMEDIATE`` already serialises
    every write transaction."""
    if not db.is_sqlite(conn):
        conn.execute(select(func.pg_advisory_xact_lock(FINALIZE_LOCK_KEY)))


def insert_finalized(conn: Connection, rows: pd.DataFrame) -> int:
    cols = [c for c in FINAL_COLUMNS if c in rows.columns and c not in ("outcome", "outcome_at", "outcome_by")]
    recs = _records(rows, cols)
    for chunk in _chunks(recs, 2000):
        conn.execute(insert(finalized), list(chunk))
    return len(recs)


def load_finalized(engine: Engine | Connection, *, start: datetime | None = None, end: datetime | None = None,
                   with_outcome: bool | None = None, task_ids: Sequence[str] | None = None) -> pd.DataFrame:
    t = finalized
    q = select(*[t.c[c] for c in FINAL_COLUMNS]).order_by(t.c.due, t.c.task_id)
    if start is not None:
        q = q.where(t.c.due >= start)
    if end is not None:
        q = q.where(t.c.due < end)
    if with_outcome is True:
        q = q.where(t.c.outcome.is_not(None))
    elif with_outcome is False:
        q = q.where(t.c.outcome.is_(None))
    if task_ids is not None:
        q = q.where(t.c.task_id.in_([str(x) for x in task_ids]))
    if isinstance(engine, Engine):
        with db.read_conn(engine) as conn:
            df = _frame(conn, q, FINAL_COLUMNS)
    else:
        df = _frame(engine, q, FINAL_COLUMNS)
    for c in ("due", "assigned_at", "outcome_at"):
        df[c] = pd.to_datetime(df[c])
    df["hours"] = pd.to_numeric(df["hours"], errors="coerce")
    df["overridden"] = df["overridden"].astype(bool)
    return df


def set_outcome(conn: Connection, task_id: str, outcome: str, actor: str) -> int:
    return conn.execute(update(finalized).where(finalized.c.task_id == str(task_id))
                        .values(outcome=outcome, outcome_at=db.utcnow(), outcome_by=actor)).rowcount or 0


# ------------------------------------------------------------------------------------------- settings

SETTINGS_FIELDS = ("ml_enabled", "ranking_enabled", "shadow_mode", "confidence_threshold")


def read_settings(engine: Engine) -> dict[str, Any] | None:
    """The stored ranker settings row (None when never saved: the caller uses the environment defaults)."""
    with db.read_conn(engine) as conn:
        row = conn.execute(select(ranker_settings).where(ranker_settings.c.id == 1)).mappings().first()
    return dict(row) if row else None


def write_settings(conn: Connection, values: dict[str, Any], actor: str) -> None:
    vals = {k: _py(values[k]) for k in SETTINGS_FIELDS}
    vals.update(updated_by=actor, updated_at=db.utcnow())
    n = conn.execute(update(ranker_settings).where(ranker_settings.c.id == 1).values(**vals)).rowcount
    if not n:
        conn.execute(insert(ranker_settings).values(id=1, **vals))


# ------------------------------------------------------------------------------------------- shadow log

SHADOW_COLUMNS = ["preview_id", "task_id", "rule_staff_id", "rule_score", "model_staff_id", "model_score", "agree",
                  "scored_at", "logged_at"]


def insert_shadow(conn: Connection, rows: pd.DataFrame) -> int:
    recs = _records(rows, [c for c in SHADOW_COLUMNS if c != "logged_at"])
    now = db.utcnow()
    for r in recs:
        r["logged_at"] = now
    for chunk in _chunks(recs, 2000):
        conn.execute(insert(shadow_log), list(chunk))
    return len(recs)


def load_shadow(engine: Engine, limit: int = 20_000) -> pd.DataFrame:
    with db.read_conn(engine) as conn:
        df = _frame(conn, select(*[shadow_log.c[c] for c in SHADOW_COLUMNS]).order_by(shadow_log.c.id.desc())
                    .limit(limit), SHADOW_COLUMNS)
    df["agree"] = df["agree"].astype(bool)
    return df


def shadow_pairs(engine: Engine) -> pd.DataFrame:
    """Preview rows of *finalized* previews that were scored in shadow mode, joined to recorded outcomes:
    ``task_id, staff_id, rule_score, model_score, model_rank, outcome`` (the input of ``shadow_report``)."""
    r, p, f = preview_rows, previews, finalized
    q = (select(r.c.task_id, r.c.staff_id, r.c.rule_score, r.c.model_score, r.c.model_rank, f.c.outcome)
         .select_from(r.join(p, p.c.id == r.c.preview_id)
                      .join(f, and_(f.c.task_id == r.c.task_id, f.c.preview_id == r.c.preview_id)))
         .where(and_(p.c.status == "finalized", r.c.decision == "shadow_mode", r.c.model_score.is_not(None))))
    cols = ["task_id", "staff_id", "rule_score", "model_score", "model_rank", "outcome"]
    with db.read_conn(engine) as conn:
        return _frame(conn, q, cols)
