"""The store: every read and write of application data goes through here.

Why one module: atomicity rules live in one place. An ingest is one transaction that writes the batch row,
removes what the upload replaces, inserts every row and writes the audit event — all or nothing.
Callers (services) pass a validated, canonical frame (see ``src/data/kinds.py``); this module never
decides *whether* a user may do something (that is the services' job), only *how* it is stored.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, delete, func, insert, inspect, or_, select, tuple_, update
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.exc import IntegrityError

from src.data import db
from src.data.kinds import get_kind

log = logging.getLogger(__name__)

OverlapPolicy = Literal["reject", "replace"]
OVERLAP_POLICIES: tuple[str, ...] = ("reject", "replace")

_CHUNK = 500  # keys per IN (...) clause: stays far below SQLite's variable limit


class IngestConflict(Exception):
    """The upload overlaps stored data and the policy is ``reject``; nothing was stored."""

    def __init__(self, message: str, overlapping: int, examples: list[str]):
        super().__init__(message)
        self.overlapping = overlapping
        self.examples = examples


@dataclass(frozen=True)
class IngestResult:
    batch_id: int
    kind: str
    rows: int
    replaced_rows: int
    range_start: datetime | None
    range_end: datetime | None


def neutralise_log_text(value: Any, limit: int = 500) -> str:
    """Escape CR/LF and other control characters so a file name cannot forge audit/log lines (CWE-117).

    The result has at most ``limit`` characters, escapes and the ``…`` marking a cut included, so it fits the
    ``String(limit)`` column it is written to: one character more was stored by SQLite but made PostgreSQL refuse
    the whole ingest (a 300-character file name).
    """
    s = str(value)
    out: list[str] = []
    used = 0
    for k, ch in enumerate(s):
        if ch == "\n":
            piece = "\\n"
        elif ch == "\r":
            piece = "\\r"
        elif ord(ch) < 32 or ord(ch) == 127:
            piece = f"\\x{ord(ch):02x}"
        else:
            piece = ch
        last = k == len(s) - 1
        if used + len(piece) > (limit if last else limit - 1):
            return "".join(out) + "…"
        out.append(piece)
        used += len(piece)
    return "".join(out)


# ----------------------------------------------------------------------------------------------- audit

def write_audit(conn: Connection, *, actor: str, role: str | None, action: str, outcome: str = "ok",
                object_type: str | None = None, object_id: str | int | None = None,
                detail: dict[str, Any] | None = None) -> None:
    """Append one audit event inside the caller's transaction (so it commits or rolls back with the change)."""
    conn.execute(insert(db.audit_event).values(
        ts_utc=db.utcnow(),
        actor=neutralise_log_text(actor, 64),
        role=role,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else neutralise_log_text(object_id, 128),
        outcome=outcome,
        detail_json=json.dumps(_json_safe(detail or {}), ensure_ascii=False, sort_keys=True),
    ))


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, str):
        return neutralise_log_text(obj, 2000)
    if isinstance(obj, datetime | pd.Timestamp):
        return obj.isoformat()
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


def audit_events(engine: Engine, *, actor: str | None = None, action: str | None = None,
                 since: datetime | None = None, until: datetime | None = None, limit: int = 5000) -> pd.DataFrame:
    """Audit events, newest first, optionally filtered."""
    t = db.audit_event
    q = select(t.c.id, t.c.ts_utc, t.c.actor, t.c.role, t.c.action, t.c.object_type, t.c.object_id,
               t.c.outcome, t.c.detail_json).order_by(t.c.id.desc()).limit(limit)
    if actor:
        q = q.where(t.c.actor == actor)
    if action:
        q = q.where(t.c.action == action)
    if since:
        q = q.where(t.c.ts_utc >= since)
    if until:
        q = q.where(t.c.ts_utc <= until)
    with db.read_conn(engine) as conn:
        rows = conn.execute(q).mappings().all()
    return pd.DataFrame(rows, columns=["id", "ts_utc", "actor", "role", "action", "object_type", "object_id",
                                       "outcome", "detail_json"])


def audit_actions(engine: Engine) -> list[str]:
    with db.read_conn(engine) as conn:
        return sorted(conn.execute(select(db.audit_event.c.action).distinct()).scalars())


# ----------------------------------------------------------------------------------------------- users

def get_user(conn_or_engine: Engine | Connection, username: str) -> dict[str, Any] | None:
    q = select(db.users).where(db.users.c.username == username)
    if isinstance(conn_or_engine, Engine):
        with db.read_conn(conn_or_engine) as conn:
            row = conn.execute(q).mappings().first()
    else:
        row = conn_or_engine.execute(q).mappings().first()
    return dict(row) if row else None


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with db.read_conn(engine) as conn:
        return [dict(r) for r in conn.execute(select(db.users).order_by(db.users.c.username)).mappings()]


def insert_user(conn: Connection, *, username: str, display_name: str, role: str, password_hash: str) -> None:
    now = db.utcnow()
    conn.execute(insert(db.users).values(username=username, display_name=display_name, role=role,
                                         password_hash=password_hash, disabled=False, created_at=now,
                                         updated_at=now, sessions_valid_after=0.0))


def update_user(conn: Connection, username: str, **values: Any) -> int:
    values["updated_at"] = db.utcnow()
    return conn.execute(update(db.users).where(db.users.c.username == username).values(**values)).rowcount


def count_users(engine: Engine) -> int:
    with db.read_conn(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(db.users)).scalar() or 0)


def record_login_attempt(conn: Connection, username: str, ts: float, success: bool) -> None:
    conn.execute(insert(db.login_attempts).values(username=username[:128], ts=ts, success=success))


def login_attempts_since(engine: Engine, username: str, since_ts: float) -> list[tuple[float, bool]]:
    t = db.login_attempts
    with db.read_conn(engine) as conn:
        rows = conn.execute(select(t.c.ts, t.c.success).where(t.c.username == username[:128], t.c.ts >= since_ts)
                            .order_by(t.c.ts)).all()
    return [(float(r[0]), bool(r[1])) for r in rows]


# ----------------------------------------------------------------------------------------------- ingest

def _records(kind: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Turn a canonical frame into insertable dicts (NaN/NaT → None, numpy → python)."""
    table = db.KIND_TABLES[kind]
    cols = [c.name for c in table.columns if c.name in frame.columns]
    out = frame[cols].astype(object).where(frame[cols].notna(), None)
    records = out.to_dict("records")
    for rec in records:
        for k, v in rec.items():
            if isinstance(v, pd.Timestamp):
                rec[k] = v.to_pydatetime()
            elif isinstance(v, np.integer):
                rec[k] = int(v)
            elif isinstance(v, np.floating):
                rec[k] = None if math.isnan(v) else float(v)
            elif isinstance(v, np.bool_):
                rec[k] = bool(v)
    if kind == "workload":
        for rec in records:
            if rec.get("site") is None:
                rec["site"] = ""
    if kind == "staff":
        for rec in records:
            if rec.get("preferred_sites") is None:
                rec["preferred_sites"] = ""
    return records


def _chunks(seq: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _overlap_conditions(kind: str, frame: pd.DataFrame) -> list[Any]:
    """WHERE clauses selecting the stored rows that this upload would replace/duplicate.

    Time series (workload, unit shifts): per series, the stored rows inside the upload's time range — a
    re-upload of a period replaces that period. Staff: same staff_id. Assignments: same task_id.
    Overtime: same request_id (a request's contacts are replaced as a whole). Roster: per site, the stored shifts
    dated inside the upload's first..last day for that site — a site's roster is published for a period, so a
    corrected one replaces the whole period (shifts dropped from the new file disappear) and leaves other sites'
    rosters alone; a stored shift with the same (staff_id, date, start) at another site counts as overlapping too.
    """
    table = db.KIND_TABLES[kind]
    spec = get_kind(kind)
    conds: list[Any] = []
    if kind in ("workload", "unit_shifts"):
        series_cols = list(spec.series_columns)
        f = frame.copy()
        if "site" in series_cols and "site" in f:
            f["site"] = f["site"].fillna("") if kind == "workload" else f["site"]
        elif "site" in series_cols:
            f["site"] = ""
        tcol = spec.time_column
        for key, grp in f.groupby(series_cols, dropna=False, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            clause = and_(*[table.c[c] == v for c, v in zip(series_cols, key, strict=True)],
                          table.c[tcol] >= grp[tcol].min().to_pydatetime(),
                          table.c[tcol] <= grp[tcol].max().to_pydatetime())
            conds.append(clause)
    elif kind == "roster":
        for site, grp in frame.groupby("site", sort=True):
            conds.append(and_(table.c.site == site, table.c.date >= grp["date"].min().to_pydatetime(),
                              table.c.date <= grp["date"].max().to_pydatetime()))
        # the same person's same shift stored under another site (they moved homes): replaced too, never a clash
        keys = sorted({(str(s), d.to_pydatetime(), b.to_pydatetime())
                       for s, d, b in zip(frame["staff_id"], frame["date"], frame["start"], strict=True)})
        key = tuple_(table.c.staff_id, table.c.date, table.c.start)
        conds.extend(key.in_(list(chunk)) for chunk in _chunks(keys, 200))
    else:
        key_col = {"staff": "staff_id", "assignments": "task_id", "overtime": "request_id"}[kind]
        keys = sorted(set(frame[key_col].astype(str)))
        for chunk in _chunks(keys):
            conds.append(table.c[key_col].in_(list(chunk)))
    return conds


def _count_overlap(conn: Connection, kind: str, conds: list[Any]) -> tuple[int, list[str]]:
    table = db.KIND_TABLES[kind]
    spec = get_kind(kind)
    total = 0
    examples: list[str] = []
    for chunk in _chunks(conds, 200):
        where = or_(*chunk)
        total += int(conn.execute(select(func.count()).select_from(table).where(where)).scalar() or 0)
        if len(examples) < 5:
            cols = [table.c[c] for c in spec.key_columns]
            for row in conn.execute(select(*cols).where(where).limit(5 - len(examples))):
                examples.append(", ".join(f"{c}={v}" for c, v in zip(spec.key_columns, row, strict=True)))
    return total, examples


@dataclass(frozen=True)
class Overlap:
    """The stored rows an upload overlaps — what ``policy="replace"`` would delete (see :func:`overlap_of`)."""

    rows: int
    first: datetime | None  # earliest / latest time (``time_column``) among those rows
    last: datetime | None
    people: tuple[str, ...] = ()  # distinct staff_id among those rows (kinds with people)
    people_not_in_file: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


def overlap_of(engine: Engine, kind: str, frame: pd.DataFrame) -> Overlap:
    """The stored rows that storing ``frame`` would replace (or be rejected for), without storing anything.

    Why: a roster re-upload with *replace* removed 288 stored rows for an 87-row file (every shift of the site's
    period, also of people not in the file); the admin has to see that number before pressing Store. Uses the same
    :func:`_overlap_conditions` as :func:`ingest_frame_in`, so the preview and the store agree.
    """
    if not len(frame):
        return Overlap(rows=0, first=None, last=None)
    table = db.KIND_TABLES[kind]
    spec = get_kind(kind)
    conds = _overlap_conditions(kind, frame)
    with db.read_conn(engine) as conn:
        rows, examples = _count_overlap(conn, kind, conds)
        if not rows:
            return Overlap(rows=0, first=None, last=None)
        first = last = None
        people: set[str] = set()
        sites: set[str] = set()
        for chunk in _chunks(conds, 200):
            where = or_(*chunk)
            if spec.time_column:
                tcol = table.c[spec.time_column]
                lo, hi = conn.execute(select(func.min(tcol), func.max(tcol)).where(where)).one()
                first = lo if first is None or (lo is not None and lo < first) else first
                last = hi if last is None or (hi is not None and hi > last) else last
            if "staff_id" in table.c:
                people.update(str(v) for v in conn.execute(select(table.c.staff_id).where(where).distinct()).scalars())
            if "site" in table.c:
                sites.update(str(v) for v in conn.execute(select(table.c.site).where(where).distinct()).scalars()
                             if v is not None and v != "")
    in_file = set(frame["staff_id"].astype(str)) if "staff_id" in frame else set()
    return Overlap(rows=rows, first=first, last=last, people=tuple(sorted(people)),
                   people_not_in_file=tuple(sorted(people - in_file)) if "staff_id" in frame else (),
                   sites=tuple(sorted(sites)), examples=tuple(examples))


def ingest_frame(engine: Engine, *, kind: str, frame: pd.DataFrame, file_name: str, sha256: str, actor: str,
                 role: str, policy: OverlapPolicy = "reject", audit_detail: dict[str, Any] | None = None
                 ) -> IngestResult:
    """Store a validated canonical frame as one batch, in one transaction.

    ``policy="reject"`` raises :class:`IngestConflict` if any row overlaps stored data (nothing stored);
    ``policy="replace"`` deletes the overlapping stored rows first (see :func:`_overlap_conditions`).
    Any failure rolls everything back, including the batch row and the audit event.
    """
    with db.write_tx(engine) as conn:
        return ingest_frame_in(conn, kind=kind, frame=frame, file_name=file_name, sha256=sha256, actor=actor,
                               role=role, policy=policy, audit_detail=audit_detail)


def ingest_frame_in(conn: Connection, *, kind: str, frame: pd.DataFrame, file_name: str, sha256: str, actor: str,
                    role: str, policy: OverlapPolicy = "reject", audit_detail: dict[str, Any] | None = None
                    ) -> IngestResult:
    """:func:`ingest_frame` inside the caller's write transaction (for use cases that change more than data)."""
    if policy not in OVERLAP_POLICIES:
        raise ValueError(f"Unknown overlap policy {policy!r}; choose one of {OVERLAP_POLICIES}")
    spec = get_kind(kind)
    table = db.KIND_TABLES[kind]
    records = _records(kind, frame)
    tcol = spec.time_column
    range_start = frame[tcol].min().to_pydatetime() if tcol and len(frame) else None
    range_end = frame[tcol].max().to_pydatetime() if tcol and len(frame) else None
    conds = _overlap_conditions(kind, frame) if len(frame) else []
    overlapping, examples = _count_overlap(conn, kind, conds) if conds else (0, [])
    if overlapping and policy == "reject":
        raise IngestConflict(
            f"{overlapping} stored {spec.title.lower()} rows overlap this upload (e.g. {examples[0]}). "
            "Nothing was stored. Choose 'replace' to overwrite the overlapping range, or remove those rows "
            "from the file.", overlapping, examples)
    replaced = 0
    if overlapping:
        for chunk in _chunks(conds, 200):
            replaced += conn.execute(delete(table).where(or_(*chunk))).rowcount or 0
    batch_id = conn.execute(insert(db.upload_batches).values(
        kind=kind, file_name=neutralise_log_text(file_name, 255), sha256=sha256, rows=len(records),
        replaced_rows=replaced, policy=policy, uploaded_by=actor, uploaded_at=db.utcnow(),
        range_start=range_start, range_end=range_end,
    ).returning(db.upload_batches.c.id)).scalar_one()
    for rec in records:
        rec["batch_id"] = batch_id
    for chunk in _chunks(records, 5000):
        conn.execute(insert(table), list(chunk))
    write_audit(conn, actor=actor, role=role, action="data.ingest", object_type=kind, object_id=batch_id,
                detail={"file": file_name, "sha256": sha256, "rows": len(records), "replaced_rows": replaced,
                        "policy": policy, **(audit_detail or {})})
    log.info("ingested batch %s kind=%s rows=%s replaced=%s", batch_id, kind, len(records), replaced)
    return IngestResult(batch_id=batch_id, kind=kind, rows=len(records), replaced_rows=replaced,
                        range_start=range_start, range_end=range_end)


def batch_with_sha(engine: Engine, kind: str, sha256: str) -> dict[str, Any] | None:
    t = db.upload_batches
    with db.read_conn(engine) as conn:
        row = conn.execute(select(t).where(t.c.kind == kind, t.c.sha256 == sha256).order_by(t.c.id.desc())
                           ).mappings().first()
    return dict(row) if row else None


class BatchNotFound(LookupError):
    """No upload batch has this id."""


class BatchInUse(Exception):
    """Other records reference the batch or its rows; nothing was deleted."""

    def __init__(self, message: str, dependents: list[tuple[str, int]]):
        super().__init__(message)
        self.dependents = dependents


@dataclass(frozen=True)
class DeletedBatch:
    batch_id: int
    kind: str
    file_name: str
    rows_deleted: int
    uploaded_by: str
    uploaded_at: datetime


def _referencing_foreign_keys(conn: Connection, referred: set[str]) -> list[tuple[str, list[str], str, list[str]]]:
    """Every foreign key in the *database* that points at one of the ``referred`` tables.

    Read from the live schema (not :data:`db.metadata`) so that a constraint added by any store module, a
    migration or by hand is seen too: those are exactly the constraints the database would enforce.
    Returns ``(table, constrained_columns, referred_table, referred_columns)``.
    """
    insp = inspect(conn)
    out = []
    for table_name in insp.get_table_names():
        for fk in insp.get_foreign_keys(table_name):
            if fk.get("referred_table") in referred and fk.get("constrained_columns"):
                out.append((table_name, list(fk["constrained_columns"]), fk["referred_table"],
                            list(fk["referred_columns"])))
    return out


def batch_dependents(conn: Connection, batch_id: int, kind: str) -> list[tuple[str, int]]:
    """Records outside the batch that reference the batch row or one of its data rows, as ``(what, count)``.

    The batch's own data rows (``<kind table>.batch_id``) are what a delete removes, so they are not dependents.
    """
    data_table = db.KIND_TABLES[kind]
    batches = db.upload_batches
    found: list[tuple[str, int]] = []
    for table_name, cols, referred, ref_cols in _referencing_foreign_keys(conn, {batches.name, data_table.name}):
        if table_name == data_table.name and referred == batches.name and cols == ["batch_id"]:
            continue  # the rows being deleted
        own = table_name == data_table.name
        dep = sa_table(table_name, *[sa_column(c) for c in {*cols, *(["batch_id"] if own else [])}])
        dep_key = tuple_(*[dep.c[c] for c in cols]) if len(cols) > 1 else dep.c[cols[0]]
        if referred == batches.name:
            parents = select(*[batches.c[c] for c in ref_cols]).where(batches.c.id == batch_id)
        else:
            parents = select(*[data_table.c[c] for c in ref_cols]).where(data_table.c.batch_id == batch_id)
        q = select(func.count()).select_from(dep).where(dep_key.in_(parents))
        if own:  # rows of the same table in the same batch are deleted with it
            q = q.where(dep.c.batch_id != batch_id)
        n = int(conn.execute(q).scalar() or 0)
        if n:
            found.append((f"{table_name}.{', '.join(cols)} → {referred}", n))
    return found


def describe_batch(engine: Engine, batch_id: int) -> dict[str, Any]:
    """The batch row plus ``rows_stored`` (its rows still stored now) and ``dependents`` (see
    :func:`batch_dependents`). Raises :class:`BatchNotFound`."""
    t = db.upload_batches
    with db.read_conn(engine) as conn:
        row = conn.execute(select(t).where(t.c.id == batch_id)).mappings().first()
        if row is None:
            raise BatchNotFound(f"Upload batch {batch_id} does not exist.")
        info = dict(row)
        table = db.KIND_TABLES[info["kind"]]
        info["rows_stored"] = int(conn.execute(select(func.count()).select_from(table)
                                               .where(table.c.batch_id == batch_id)).scalar() or 0)
        info["dependents"] = batch_dependents(conn, batch_id, info["kind"])
    return info


def _in_use_message(batch_id: int, dependents: list[tuple[str, int]]) -> str:
    what = "; ".join(f"{n:,} row(s) in {name}" for name, n in dependents)
    return (f"Upload batch {batch_id} cannot be deleted: other records depend on it ({what}). "
            "Nothing was deleted.")


def delete_batch(engine: Engine, *, batch_id: int, actor: str, role: str) -> DeletedBatch:
    """Delete one upload batch — its data rows and the batch row — and audit it, in one transaction.

    Raises :class:`BatchNotFound` for an unknown id and :class:`BatchInUse` when other records reference the
    batch or its rows (named in the message); in both cases nothing is deleted. Rows that this batch replaced
    when it was stored are gone and are not restored.
    """
    t = db.upload_batches
    try:
        with db.write_tx(engine) as conn:
            row = conn.execute(select(t).where(t.c.id == batch_id).with_for_update()).mappings().first()
            if row is None:
                raise BatchNotFound(f"Upload batch {batch_id} does not exist.")
            kind = row["kind"]
            dependents = batch_dependents(conn, batch_id, kind)
            if dependents:
                raise BatchInUse(_in_use_message(batch_id, dependents), dependents)
            table = db.KIND_TABLES[kind]
            rows_deleted = conn.execute(delete(table).where(table.c.batch_id == batch_id)).rowcount or 0
            conn.execute(delete(t).where(t.c.id == batch_id))
            write_audit(conn, actor=actor, role=role, action="data.delete_batch", object_type=kind,
                        object_id=batch_id,
                        detail={"batch_id": batch_id, "kind": kind, "file": row["file_name"],
                                "rows_deleted": rows_deleted, "uploaded_by": row["uploaded_by"],
                                "uploaded_at": row["uploaded_at"]})
    except IntegrityError as exc:  # a dependent row was written between the check and the delete
        raise BatchInUse(f"Upload batch {batch_id} cannot be deleted: other records depend on it. "
                         "Nothing was deleted.", []) from exc
    log.info("deleted batch %s kind=%s rows=%s by %s", batch_id, kind, rows_deleted, neutralise_log_text(actor, 64))
    return DeletedBatch(batch_id=batch_id, kind=kind, file_name=row["file_name"], rows_deleted=rows_deleted,
                        uploaded_by=row["uploaded_by"], uploaded_at=row["uploaded_at"])


# ----------------------------------------------------------------------------------------------- reads

def upload_history(engine: Engine, limit: int = 200) -> pd.DataFrame:
    t = db.upload_batches
    with db.read_conn(engine) as conn:
        rows = conn.execute(select(t).order_by(t.c.id.desc()).limit(limit)).mappings().all()
    cols = [c.name for c in t.columns]
    return pd.DataFrame(rows, columns=cols)


def dataset_summary(engine: Engine) -> pd.DataFrame:
    """One row per dataset kind: rows stored, series count, first and last date, batches."""
    out = []
    with db.read_conn(engine) as conn:
        for kind, table in db.KIND_TABLES.items():
            spec = get_kind(kind)
            rows = int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
            first = last = None
            if spec.time_column and rows:
                first, last = conn.execute(select(func.min(table.c[spec.time_column]),
                                                  func.max(table.c[spec.time_column]))).one()
            series = None
            if spec.series_columns and rows:
                cols = [table.c[c] for c in spec.series_columns]
                series = int(conn.execute(select(func.count()).select_from(select(*cols).distinct().subquery()))
                             .scalar() or 0)
            batches = int(conn.execute(select(func.count()).select_from(db.upload_batches)
                                       .where(db.upload_batches.c.kind == kind)).scalar() or 0)
            out.append({"kind": kind, "dataset": spec.title, "rows": rows, "series": series,
                        "first": first, "last": last, "batches": batches})
    return pd.DataFrame(out)


def load_frame(engine: Engine, kind: str, *, where: dict[str, Any] | None = None,
               start: datetime | None = None, end: datetime | None = None) -> pd.DataFrame:
    """Read a stored dataset as a canonical frame (optionally filtered by equality and time range)."""
    spec = get_kind(kind)
    table = db.KIND_TABLES[kind]
    cols = [table.c[c] for c in spec.column_names if c in table.c]
    q = select(*cols)
    for col, value in (where or {}).items():
        if isinstance(value, list | tuple | set):
            q = q.where(table.c[col].in_(list(value)))
        else:
            q = q.where(table.c[col] == value)
    if spec.time_column and start is not None:
        q = q.where(table.c[spec.time_column] >= start)
    if spec.time_column and end is not None:
        q = q.where(table.c[spec.time_column] <= end)
    if spec.time_column:
        q = q.order_by(*[table.c[c] for c in spec.series_columns], table.c[spec.time_column])
    with db.read_conn(engine) as conn:
        df = pd.read_sql(q, conn)
    for c in spec.columns:
        if c.name in df and c.type in ("datetime", "date"):
            df[c.name] = pd.to_datetime(df[c.name])
        if c.name in df and c.type in ("bool", "outcome"):
            df[c.name] = df[c.name].astype(bool)
    return df


def distinct_values(engine: Engine, kind: str, column: str) -> list[str]:
    table = db.KIND_TABLES[kind]
    with db.read_conn(engine) as conn:
        return [v for v in conn.execute(select(table.c[column]).distinct().order_by(table.c[column])).scalars()
                if v is not None]


def table_row_count(engine: Engine, kind: str) -> int:
    with db.read_conn(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(db.KIND_TABLES[kind])).scalar() or 0)


def keys_exist(engine: Engine, kind: str, keys: list[tuple[Any, ...]]) -> int:
    """How many of ``keys`` (tuples over the kind's key columns) are stored already."""
    table = db.KIND_TABLES[kind]
    cols = [table.c[c] for c in get_kind(kind).key_columns]
    n = 0
    with db.read_conn(engine) as conn:
        for chunk in _chunks(keys, 200):
            n += int(conn.execute(select(func.count()).select_from(table)
                                  .where(tuple_(*cols).in_(list(chunk)))).scalar() or 0)
    return n
