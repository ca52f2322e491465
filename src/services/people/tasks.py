"""Open tasks: the upload contract and its row-level checks, storing an upload whole or nothing, demo tasks
sampled from the history's pattern, and the task lists and counts the pages show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from src.data import db, store
from src.data import people_store as ps
from src.data.kinds import ColumnSpec, KindSpec
from src.data.loader import ParseOptions, UploadLimits, UploadRejected, read_table
from src.data.parsing import Issue
from src.data.validation import ValidationReport
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import _sha, now_local

MAX_TASK_HOURS = 24.0


OPEN_TASKS_SPEC = KindSpec(
    key="open_tasks",
    title="Open tasks",
    description="Tasks waiting for a person.",
    columns=(
        ColumnSpec("task_id", "text", aliases=("task_id", "task", "id", "aufgabe_id", "auftrag_id", "aufgabe")),
        ColumnSpec("task_type", "text", aliases=("task_type", "type", "aufgabentyp", "typ", "art")),
        ColumnSpec("site", "text", required=False, aliases=("site", "home", "einrichtung", "standort")),
        ColumnSpec("priority", "count", non_negative=True, aliases=("priority", "prio", "prioritaet", "priorität")),
        ColumnSpec("due", "datetime", aliases=("due", "due_date", "deadline", "faellig", "fällig", "frist")),
        ColumnSpec("required_skill", "text", required=False,
                   aliases=("required_skill", "skill", "benoetigte_qualifikation", "qualifikation")),
        ColumnSpec("hours", "number", positive=True, aliases=("hours", "stunden", "dauer_h", "duration_h")),
    ),
    key_columns=("task_id",),
    time_column=None,
)


def validate_tasks_upload(app: AppContext, actor: Actor, *, filename: str, content: bytes,
                          options: ParseOptions | None = None) -> ValidationReport:
    """Read and check a tasks file (CSV/XLSX, columns task_id,task_type,site,priority,due,required_skill,hours).

    Row-level errors: unreadable values, empty required cells, duplicate task ids, hours above 24,
    task ids that already exist (as open tasks or in the history). Warnings: due in the past."""
    require_role(actor, "admin")
    from src.data import validation

    options = options or ParseOptions()
    s = app.settings
    limits = UploadLimits(max_bytes=s.upload_max_mb * 1024 * 1024, max_rows=min(s.upload_max_rows, 100_000),
                          max_columns=s.upload_max_columns)
    name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "tasks.csv"
    try:
        raw = read_table(filename, content, options, limits)
    except UploadRejected as exc:
        return ValidationReport("open_tasks", name, exc.issue.sheet, None, None, [exc.issue], None, 0, {},
                                {"error": 1})
    columns = [list(c) for c in zip(*raw.rows, strict=True)] if raw.rows else [[] for _ in raw.headers]
    # the generic column checks of the upload validator, with the open-task column contract
    report = validation._guarded(OPEN_TASKS_SPEC, raw.headers, columns, raw.row_numbers, file=raw.file,
                                 sheet=raw.sheet, encoding=raw.encoding, separator=raw.separator, options=options,
                                 pre_issues=raw.issues, formula_cells=raw.formula_cells, epoch=raw.excel_epoch)
    if report.frame is None:
        return report
    frame = report.frame
    rows = np.asarray(raw.row_numbers)
    header = {v: k for k, v in report.column_map.items()}
    extra: list[Issue] = []
    for i in np.flatnonzero(frame["hours"].to_numpy() > MAX_TASK_HOURS):
        extra.append(Issue("error", f"Row {rows[i]}: 'hours' is {frame['hours'].iloc[i]:g}; one task may take at "
                           f"most {MAX_TASK_HOURS:g} hours (split longer work into several tasks).", raw.file,
                           raw.sheet, int(rows[i]), header.get("hours", "hours"), None, "too_many_hours"))
    with db.read_conn(app.engine) as conn:
        taken = ps.existing_task_ids(conn, frame["task_id"].astype(str).tolist())
    for i in np.flatnonzero(frame["task_id"].astype(str).isin(taken).to_numpy())[:50]:
        extra.append(Issue("error", f"Row {rows[i]}: task id {frame['task_id'].iloc[i]!r} already exists (as an open "
                           "task or in the assignment history); task ids must be unique.", raw.file, raw.sheet,
                           int(rows[i]), header.get("task_id", "task_id"), None, "task_exists"))
    now = now_local(app)
    past = np.flatnonzero((frame["due"] < now).to_numpy())
    if len(past):
        i = past[0]
        extra.append(Issue("warning", f"{len(past)} task(s) are already past due (e.g. row {rows[i]}, due "
                           f"{frame['due'].iloc[i]:%Y-%m-%d %H:%M}).", raw.file, raw.sheet, int(rows[i]),
                           header.get("due", "due"), None, "past_due"))
    if extra:
        report.issues.extend(extra)
        for it in extra:
            report.totals[it.severity] = report.totals.get(it.severity, 0) + 1
        if any(it.severity == "error" for it in extra):
            report.frame = None
    return report


@dataclass(frozen=True)
class TasksStored:
    rows: int
    message: str


def import_tasks(app: AppContext, actor: Actor, *, filename: str, content: bytes,
                 options: ParseOptions | None = None) -> tuple[ValidationReport, TasksStored | None]:
    """Validate and store an uploaded tasks file whole, or nothing (admin)."""
    report = validate_tasks_upload(app, actor, filename=filename, content=content, options=options)
    if report.frame is None:
        return report, None
    frame = report.frame.copy()
    with db.write_tx(app.engine) as conn:
        taken = ps.existing_task_ids(conn, frame["task_id"].astype(str).tolist())
        if taken:  # stored by someone else since validation
            raise ServiceError(f"{len(taken)} task id(s) were stored meanwhile (e.g. {sorted(taken)[0]}); "
                               "nothing was stored. Check the file again.")
        n = ps.insert_tasks(conn, frame, source="upload", actor=actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.tasks_import",
                          object_type="open_tasks", object_id=report.file,
                          detail={"file": report.file, "rows": n, "sha256": _sha(content)})
    return report, TasksStored(n, f"Stored {n:,} open tasks from {report.file}.")


def next_week_start(app: AppContext) -> date:
    today = now_local(app).date()
    return today + timedelta(days=7 - today.weekday())


def generate_demo_tasks(app: AppContext, actor: Actor, *, start: date | None = None, days: int = 7,
                        n_tasks: int | None = None, seed: int | None = None) -> TasksStored:
    """Create open tasks for ``days`` days from ``start`` (default: next Monday) sampled from the pattern
    of the stored history's last year (task types, sites, skills, priorities, hours, weekdays, times of
    day), about as many per week as the history has. For demos; audited."""
    require_role(actor, "planner", "admin")
    if not 1 <= days <= 31:
        raise ServiceError("Choose between 1 and 31 days.")
    if n_tasks is not None and not 1 <= n_tasks <= 5000:
        raise ServiceError("Choose between 1 and 5,000 tasks.")
    history = store.load_frame(app.engine, "assignments")
    if history.empty:
        raise ServiceError("There is no assignment history to copy the task pattern from. Load the demo data "
                           "or upload assignment history first.")
    start = start or next_week_start(app)
    last = history["assigned_at"].max()
    recent = history[history["assigned_at"] > last - pd.Timedelta(days=365)]
    weeks = max((recent["assigned_at"].max() - recent["assigned_at"].min()).days / 7.0, 1.0)
    n = int(n_tasks or max(1, round(len(recent) / weeks * days / 7.0)))
    rng = np.random.default_rng(seed if seed is not None else int(pd.Timestamp(start).strftime("%Y%m%d")))
    sample = recent.iloc[rng.integers(0, len(recent), size=n)].reset_index(drop=True)
    # weekday of the work as in history, time of day of the sampled row's due
    first = pd.Timestamp(start)
    window = pd.date_range(first, periods=days, freq="D")
    wd_weight = recent["due"].dt.dayofweek.value_counts().reindex(range(7), fill_value=0).to_numpy(float) + 1.0
    p = wd_weight[window.dayofweek.to_numpy()]
    day = window.to_numpy()[rng.choice(days, size=n, p=p / p.sum())]
    tod = (sample["due"] - sample["due"].dt.normalize()).to_numpy()
    due = pd.to_datetime(day + tod).floor("min")
    order = np.argsort(due.to_numpy(), kind="stable")
    prefix = f"OT{first:%Y%m%d}-"
    with db.read_conn(app.engine) as conn:
        existing = ps.load_tasks(conn, status=None)
    used = {t for t in existing["task_id"] if str(t).startswith(prefix)}
    start_no = 1 + max([int(t.rsplit("-", 1)[1]) for t in used if t.rsplit("-", 1)[1].isdigit()] or [0])
    tasks = pd.DataFrame({
        "task_id": [f"{prefix}{start_no + i:04d}" for i in range(n)],
        "task_type": sample["task_type"].to_numpy()[order],
        "site": sample["site"].fillna("").to_numpy()[order],
        "priority": sample["priority"].astype(int).to_numpy()[order],
        "due": due.to_numpy()[order],
        "required_skill": sample["required_skill"].fillna("").to_numpy()[order],
        "hours": pd.to_numeric(sample["hours"], errors="coerce").fillna(1.0).to_numpy()[order],
    })
    with db.write_tx(app.engine) as conn:
        k = ps.insert_tasks(conn, tasks, source="demo", actor=actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.tasks_generate",
                          object_type="open_tasks", object_id=prefix.rstrip("-"),
                          detail={"rows": k, "start": str(start), "days": days})
    return TasksStored(k, f"Created {k:,} open tasks due {first:%a %d %b} – "
                          f"{first + pd.Timedelta(days=days - 1):%a %d %b %Y}.")


def open_tasks(app: AppContext, actor: Actor, *, start: date | None = None, end: date | None = None,
               status: str | None = "open") -> pd.DataFrame:
    """Stored tasks due in [start, end] (whole days)."""
    require_role(actor, "planner", "admin")
    s = pd.Timestamp(start).to_pydatetime() if start else None
    e = (pd.Timestamp(end) + pd.Timedelta(days=1)).to_pydatetime() if end else None
    return ps.load_tasks(app.engine, status=status, start=s, end=e)


def task_summary(app: AppContext, actor: Actor) -> dict[str, Any]:
    """Counts for the page header: open tasks and the due range, assigned tasks without outcome."""
    require_role(actor, "planner", "admin")
    tasks = ps.load_tasks(app.engine, status="open")
    final = ps.load_finalized(app.engine, with_outcome=False)
    return {"open": len(tasks), "first_due": tasks["due"].min() if len(tasks) else None,
            "last_due": tasks["due"].max() if len(tasks) else None, "awaiting_outcome": len(final)}
