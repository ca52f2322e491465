"""The ``jobs`` table: durable background work (what, who, status, progress, result, error) and its transitions.

Why every transition is one conditional ``UPDATE … WHERE status = … [AND attempt = …]``: several processes touch
a job (the app or API that submitted it, the Dask worker running it, another replica cancelling it), and a
read-then-write would let two of them both "win" — two workers claiming one job, or a worker storing results of
a job that was cancelled a moment before. The database decides: the statement whose ``WHERE`` still matches
changes the row and sees ``rowcount == 1``; every other one sees 0 and backs off.

Life of a job::

    queued ──claim──> running ──finish──> succeeded | failed | cancelled
       └──cancel──> cancelled      └──cancel──> cancelled (the worker notices at its next progress report)

``attempt`` counts claims: a worker that died mid-job is followed by Dask re-running the task, which claims the
same ``running`` row again only while ``attempt < max_attempts`` (see :func:`claim`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)

from src.data import db

STATUSES: tuple[str, ...] = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE: tuple[str, ...] = ("queued", "running")
FINAL: tuple[str, ...] = ("succeeded", "failed", "cancelled")
#: longest stored progress text / error message (a traceback never belongs in the row; it goes to the log)
MAX_TEXT = 500
MAX_ERROR = 2000

jobs = Table(
    "jobs", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("params_json", Text, nullable=False),
    Column("requested_by", String(64), nullable=False),
    #: the requester's role when submitting: the worker acts with it (services re-check roles themselves)
    Column("requested_role", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("progress_text", String(MAX_TEXT), nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    Column("started_at", DateTime, nullable=True),
    Column("finished_at", DateTime, nullable=True),
    #: last sign of life from the worker (progress or its heartbeat); a stale one means the worker is gone
    Column("heartbeat_at", DateTime, nullable=True),
    Column("result_json", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("attempt", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=2),
    Column("timeout_seconds", Integer, nullable=False),
    Column("cancelled_by", String(64), nullable=True),
    CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="ck_jobs_status"),
    CheckConstraint("progress >= 0 AND progress <= 1", name="ck_jobs_progress"),
    CheckConstraint("attempt >= 0 AND max_attempts >= 1", name="ck_jobs_attempt"),
    CheckConstraint("timeout_seconds > 0", name="ck_jobs_timeout"),
    Index("ix_jobs_status_created", "status", "created_at"),
    Index("ix_jobs_kind_created", "kind", "created_at"),
    # ids are shown to people and typed into `jobs cancel ID`: never reuse a deleted job's id on SQLite
    sqlite_autoincrement=True,
)


def _create_jobs_table(conn: Connection) -> None:
    """Schema 3 → 4: the jobs table. ``checkfirst`` keeps it idempotent (``create_all`` has usually made it)."""
    jobs.create(conn, checkfirst=True)


db.register_migration(4, "jobs table for background work (operations engine)", _create_jobs_table)


def _clip(text: str | None, limit: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _row(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["params"] = json.loads(out.pop("params_json") or "{}")
    raw = out.pop("result_json")
    out["result"] = json.loads(raw) if raw else None
    return out


def insert_job(conn: Connection, *, kind: str, params: dict[str, Any], requested_by: str, requested_role: str,
               timeout_seconds: int, max_attempts: int = 2) -> int:
    """A new ``queued`` job; returns its id. ``params`` must be JSON-able (checked here, not at run time)."""
    return conn.execute(insert(jobs).values(
        kind=kind, params_json=json.dumps(params, sort_keys=True), requested_by=requested_by,
        requested_role=requested_role, status="queued", progress=0.0, progress_text="Waiting for a worker",
        created_at=db.utcnow(), attempt=0, max_attempts=int(max_attempts), timeout_seconds=int(timeout_seconds),
    ).returning(jobs.c.id)).scalar_one()


def get_job(engine: Engine | Connection, job_id: int) -> dict[str, Any] | None:
    stmt = select(jobs).where(jobs.c.id == int(job_id))
    if isinstance(engine, Connection):
        row = engine.execute(stmt).mappings().first()
    else:
        with db.read_conn(engine) as conn:
            row = conn.execute(stmt).mappings().first()
    return _row(row) if row else None


def list_jobs(engine: Engine, *, status: str | None = None, kind: str | None = None, requested_by: str | None = None,
              limit: int = 100) -> list[dict[str, Any]]:
    """Jobs, newest first."""
    stmt = select(jobs).order_by(jobs.c.id.desc()).limit(int(limit))
    if status:
        stmt = stmt.where(jobs.c.status == status)
    if kind:
        stmt = stmt.where(jobs.c.kind == kind)
    if requested_by:
        stmt = stmt.where(jobs.c.requested_by == requested_by)
    with db.read_conn(engine) as conn:
        return [_row(r) for r in conn.execute(stmt).mappings()]


def claim(engine: Engine, job_id: int) -> tuple[str, dict[str, Any] | None]:
    """Take job ``job_id`` for this worker: ``("claimed", job)`` with ``job["attempt"]`` being this run's attempt.

    A ``queued`` job is claimed as attempt 1. A ``running`` job is claimed again only when Dask re-runs its task
    after the worker running it died, and only while ``attempt < max_attempts`` (a job that kills its worker every
    time must not loop); the attempt in the ``WHERE`` makes the re-claim a compare-and-swap. Otherwise the answer
    says why nothing was claimed: ``("final", job)`` (finished or cancelled meanwhile), ``("exhausted", job)``
    (marked failed here: its attempts are used up), ``("missing", None)``, ``("lost", job)`` (another claim won).
    """
    now = db.utcnow()
    with db.write_tx(engine) as conn:
        job = get_job(conn, job_id)
        if job is None:
            return "missing", None
        if job["status"] in FINAL:
            return "final", job
        if job["status"] == "running" and job["attempt"] >= job["max_attempts"]:
            error = (f"The worker running this job stopped {job['attempt']} time(s) (attempt {job['attempt']} of "
                     f"{job['max_attempts']}); it was not retried again. Nothing was stored.")
            conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status == "running",
                                            jobs.c.attempt == job["attempt"])
                         .values(status="failed", error=error, finished_at=now, progress_text="Failed"))
            return "exhausted", get_job(conn, job_id)
        retry = job["status"] == "running"
        text = (f"Retrying after the worker stopped (attempt {job['attempt'] + 1} of {job['max_attempts']})"
                if retry else "Started")
        changed = conn.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.status == job["status"], jobs.c.attempt == job["attempt"])
            .values(status="running", attempt=job["attempt"] + 1, started_at=now, heartbeat_at=now, progress=0.0,
                    progress_text=text)).rowcount
        if changed != 1:
            return "lost", get_job(conn, job_id)
        return "claimed", get_job(conn, job_id)


def report_progress(engine: Engine, job_id: int, attempt: int, fraction: float, text: str) -> bool:
    """Store progress (and a heartbeat) for the run holding ``attempt``; False when the job is no longer that run's
    (cancelled, timed out, taken over) — the caller must stop."""
    fraction = min(1.0, max(0.0, float(fraction)))
    with db.write_tx(engine) as conn:
        return conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status == "running",
                                               jobs.c.attempt == attempt)
                            .values(progress=fraction, progress_text=_clip(text, MAX_TEXT),
                                    heartbeat_at=db.utcnow())).rowcount == 1


def heartbeat(engine: Engine, job_id: int, attempt: int) -> bool:
    """A sign of life without new progress (long single steps); False when the run should stop."""
    with db.write_tx(engine) as conn:
        return conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status == "running",
                                               jobs.c.attempt == attempt)
                            .values(heartbeat_at=db.utcnow())).rowcount == 1


def finish(conn: Connection, job_id: int, attempt: int, status: str, *, result: dict[str, Any] | None = None,
           error: str | None = None) -> bool:
    """End the run holding ``attempt`` with ``status`` inside the caller's transaction; False when it no longer
    holds the job. Called in the transaction that stores the job's results, so a False must roll them back."""
    if status not in FINAL:
        raise ValueError(f"finish() needs a final status, not {status!r}")
    values: dict[str, Any] = {"status": status, "finished_at": db.utcnow(), "heartbeat_at": db.utcnow(),
                              "error": _clip(error, MAX_ERROR) if error else None}
    if status == "succeeded":
        values.update(progress=1.0, progress_text="Done", result_json=json.dumps(result or {}, sort_keys=True))
    else:
        values["progress_text"] = {"failed": "Failed", "cancelled": "Cancelled"}[status]
    return conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status == "running",
                                           jobs.c.attempt == attempt).values(**values)).rowcount == 1


def cancel(conn: Connection, job_id: int, cancelled_by: str, reason: str | None = None) -> bool:
    """Cancel a queued or running job; False when it had already finished. A running worker stops at its next
    progress report and stores nothing (its :func:`finish` no longer matches)."""
    now = db.utcnow()
    return conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status.in_(ACTIVE))
                        .values(status="cancelled", finished_at=now, cancelled_by=cancelled_by,
                                progress_text="Cancelled", error=_clip(reason, MAX_ERROR) if reason else None)
                        ).rowcount == 1


def fail(engine: Engine, job_id: int, error: str, *, attempt: int | None = None) -> bool:
    """Mark an active job failed (dispatch impossible, worker lost, unexpected error); False if it had finished."""
    cond = [jobs.c.id == job_id, jobs.c.status.in_(ACTIVE)]
    if attempt is not None:
        cond.append(jobs.c.attempt == attempt)
    with db.write_tx(engine) as conn:
        return conn.execute(update(jobs).where(*cond).values(
            status="failed", finished_at=db.utcnow(), error=_clip(error, MAX_ERROR), progress_text="Failed")
        ).rowcount == 1


def expire_stale(engine: Engine, *, stale_after: timedelta, now: datetime | None = None) -> list[int]:
    """Fail running jobs whose worker has gone silent for ``stale_after``, and cancel those past their timeout.

    Why here and not only in the worker: a worker killed outright (``kill -9``, a lost machine) can say nothing,
    and Dask gives up re-running a task after a few lost workers. Readers call this before showing jobs, so a
    dead job is reported as failed instead of "running" forever. Returns the ids that changed.
    """
    now = now or db.utcnow()
    # read first: pages poll every second, and a write transaction per poll would serialise them on SQLite
    with db.read_conn(engine) as conn:
        rows = conn.execute(select(jobs.c.id, jobs.c.started_at, jobs.c.heartbeat_at, jobs.c.timeout_seconds,
                                   jobs.c.attempt)
                            .where(jobs.c.status == "running")).mappings().all()
    changes = []
    for r in rows:
        started = r["started_at"] or now
        beat = r["heartbeat_at"] or started
        if now - started > timedelta(seconds=int(r["timeout_seconds"])):
            changes.append((r, {"status": "cancelled", "progress_text": "Cancelled",
                                "error": f"Cancelled: it ran past its time limit of {int(r['timeout_seconds'])} s."}))
        elif now - beat > stale_after:
            changes.append((r, {"status": "failed", "progress_text": "Failed",
                                "error": (f"The worker stopped answering (no sign of life for "
                                          f"{int((now - beat).total_seconds())} s); nothing was stored.")}))
    changed: list[int] = []
    if not changes:
        return changed
    with db.write_tx(engine) as conn:
        for r, values in changes:
            cond = [jobs.c.id == r["id"], jobs.c.status == "running", jobs.c.attempt == r["attempt"]]
            if values["status"] == "failed":  # a worker that spoke up since the read keeps its job
                cond.append(jobs.c.heartbeat_at == r["heartbeat_at"])
            n = conn.execute(update(jobs).where(*cond).values(finished_at=now, **values)).rowcount
            if n:
                changed.append(int(r["id"]))
    return changed


def active_count(engine: Engine, kind: str | None = None) -> int:
    stmt = select(func.count()).select_from(jobs).where(jobs.c.status.in_(ACTIVE))
    if kind:
        stmt = stmt.where(jobs.c.kind == kind)
    with db.read_conn(engine) as conn:
        return int(conn.execute(stmt).scalar_one())

