"""Use cases around data: validate an upload, ingest it, delete a batch, summarise what is stored, demo data.

The flow the Data page, the CLI and the REST API share: ``validate_upload`` (no side effects, any logged-in
user) → show the report → ``ingest_upload`` (admin; validates again — never trusts an earlier report — and
stores all rows or nothing). Rejected ingests are audited in their own transaction so the attempt persists.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from src.data import db, store
from src.data.kinds import KINDS, get_kind
from src.data.loader import ParseOptions, UploadLimits
from src.data.parsing import Issue
from src.data.store import IngestConflict, IngestResult, OverlapPolicy
from src.data.upload_worker import WorkerSlotsBusy, load_upload, worker_slot
from src.data.validation import ValidationReport, validate_frame
from src.data.validation import validate_upload as _validate
from src.services.context import SYSTEM, Actor, AppContext, PermissionDenied, ServiceError, require_role

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample"


def upload_limits(app: AppContext) -> UploadLimits:
    s = app.settings
    return UploadLimits(max_bytes=s.upload_max_mb * 1024 * 1024, max_rows=s.upload_max_rows,
                        max_columns=s.upload_max_columns)


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


#: workbooks and large files are parsed in a throw-away worker process with memory, CPU and time limits:
#: the only defence against parser bombs nobody has thought of yet (THREATS.md T9.1)
ISOLATE_ABOVE_BYTES = 2 * 1024 * 1024
#: upload workers one server runs at once (each is CPU-bound: one per core); more uploads get :class:`UploadBusy`
UPLOAD_WORKERS = max(1, os.cpu_count() or 1)
#: what :class:`UploadBusy` asks the client to wait (a typical workbook is read in a few seconds)
UPLOAD_RETRY_AFTER_S = 15


class UploadBusy(ServiceError):
    """Every upload worker of this server is busy reading other files; nothing was read. Retry after
    ``retry_after_s`` seconds (the REST API answers 503 with ``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def upload_slots_dir(app: AppContext) -> Path:
    """Where the upload worker slots (lock files) of this deployment live: beside its outputs, the per-deployment
    writable folder every process of the server (app, REST API, CLI) shares."""
    return Path(app.settings.outputs_dir) / ".upload-workers"


def _check(app: AppContext, kind: str, filename: str, content: bytes,
           options: ParseOptions | None) -> ValidationReport:
    limits = upload_limits(app)
    # wall-clock times are checked against the configured zone's clock changes, whatever the caller passed
    options = replace(options or ParseOptions(), timezone=app.settings.timezone)
    if filename.lower().endswith((".xlsx", ".xlsm")) or len(content) > ISOLATE_ABOVE_BYTES:
        try:
            with worker_slot(upload_slots_dir(app), UPLOAD_WORKERS):
                report = load_upload(kind, filename, content, options=options, limits=limits, isolated=True)
        except WorkerSlotsBusy as exc:
            log.warning("upload of %s refused: %s", store.neutralise_log_text(filename, 200), exc)
            raise UploadBusy(f"The server is busy reading {exc.slots} other upload(s); {filename} was not read. "
                             f"Retry in {UPLOAD_RETRY_AFTER_S} seconds.", UPLOAD_RETRY_AFTER_S) from None
    else:
        report = _validate(kind, filename, content, options=options, limits=limits)
    return _check_staff_references(app, report)


def _check_staff_references(app: AppContext, report: ValidationReport) -> ValidationReport:
    """Roster rows whose staff id is not in the staff list get one **warning** (not an error).

    Why a warning: rosters and staff lists come from different systems and are often uploaded in either order; the
    rows are stored, rankings simply do not see them until the person is in the staff list (rankings start from the
    staff list). Only a clean report is checked (with errors nothing is stored anyway).
    """
    if report.kind != "roster" or report.frame is None or report.frame.empty:
        return report
    known = set(store.load_frame(app.engine, "staff")["staff_id"].astype(str))
    ids = report.frame["staff_id"].astype(str)
    unknown = ids[~ids.isin(known)].value_counts(sort=False)
    if unknown.empty:
        return report
    column = next((h for h, c in report.column_map.items() if c == "staff_id"), "staff_id")
    shown = ", ".join(f"{sid} ({n} row{'s' if n != 1 else ''})" for sid, n in list(unknown.items())[:10])
    more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
    message = (f"Column '{column}': {len(unknown)} staff id{'s are' if len(unknown) != 1 else ' is'} not in the staff "
               f"list: {shown}{more}. Their {int(unknown.sum())} shift(s) are stored, but overtime rankings only see "
               "them once those people are in the staff list (upload it on this page).")
    first_info = next((k for k, i in enumerate(report.issues) if i.severity == "info"), len(report.issues))
    report.issues.insert(first_info, Issue("warning", message, report.file, report.sheet, None, column,
                                           ", ".join(map(str, unknown.index[:10])), "unknown_staff"))
    report.totals["warning"] = report.totals.get("warning", 0) + 1
    return report


def validate_upload(app: AppContext, actor: Actor, *, kind: str, filename: str, content: bytes,
                    options: ParseOptions | None = None) -> ValidationReport:
    """Parse and validate a file without storing anything."""
    require_role(actor, "planner", "admin")
    get_kind(kind)
    return _check(app, kind, filename, content, options)


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"')


def _unquote(value: Any) -> Any:
    """A report value without the quotes of its Python repr (``'twelve'`` → ``twelve``, ``2025-03-03, 'calls'`` →
    ``2025-03-03, calls``); a quoted part whose quotes matter — empty, leading/trailing spaces, control
    characters — keeps them, so an invisible difference stays visible."""
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        try:
            inner = ast.literal_eval(match.group(0))
        except (ValueError, SyntaxError):
            return match.group(0)
        ok = isinstance(inner, str) and inner and inner == inner.strip() and inner.isprintable()
        return inner if ok else match.group(0)

    return _QUOTED.sub(one, value)


def report_table(report: ValidationReport) -> pd.DataFrame:
    """The validation report as the Data page shows it: errors first, then warnings and notes, each by row and
    column (file-level notes first); values without their quotes; without the file column (one file per report).

    Why: the rows came in the order the checks ran (row 6 before row 3), and values read ``'twelve'``.
    """
    frame = report.to_frame()
    if frame.empty:
        return frame.drop(columns=["file"])
    order = frame.assign(_sev=frame["severity"].map(_SEVERITY_ORDER).fillna(3),
                         _row=frame["row"].astype("Float64").fillna(-1.0))
    order = order.sort_values(["_sev", "_row", "column"], kind="stable", na_position="first")
    out = order.drop(columns=["_sev", "_row", "file"]).reset_index(drop=True)
    out["value"] = out["value"].map(_unquote)
    return out


@dataclass(frozen=True)
class IngestOutcome:
    report: ValidationReport
    result: IngestResult | None
    message: str

    @property
    def stored(self) -> bool:
        return self.result is not None


def _audit_rejection(app: AppContext, actor: Actor, kind: str, filename: str, sha: str, reason: str,
                     errors: int) -> None:
    with db.write_tx(app.engine) as conn:
        store.write_audit(conn, actor=actor.username, role=actor.role, action="data.ingest", outcome="rejected",
                          object_type=kind, detail={"file": filename, "sha256": sha, "reason": reason,
                                                    "errors": errors})


def ingest_upload(app: AppContext, actor: Actor, *, kind: str, filename: str, content: bytes,
                  options: ParseOptions | None = None, policy: OverlapPolicy = "reject") -> IngestOutcome:
    """Validate and store an upload as one batch (admin only). Nothing is stored when anything is wrong."""
    require_role(actor, "admin")
    get_kind(kind)
    sha = sha256_of(content)
    report = _check(app, kind, filename, content, options)
    try:
        return _store_checked(app, actor, kind, filename, sha, report, policy)
    except SQLAlchemyError as exc:
        return _database_failure(app, actor, kind, filename, sha, report, exc)


def _database_failure(app: AppContext, actor: Actor, kind: str, filename: str, sha: str, report: ValidationReport,
                      exc: SQLAlchemyError) -> IngestOutcome:
    """A database error while storing (connection lost, disk full, a constraint): the transaction rolled back, so
    nothing was stored. The user gets one sentence saying so and what to do; the driver's message goes to the log
    (its first line only: SQLAlchemy's text carries the statement and parameters, i.e. uploaded values)."""
    reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()[0][:300]
    log.error("ingest of %s (%s) failed in the database, nothing stored: %s: %s",
              store.neutralise_log_text(filename, 200), kind, type(exc).__name__, reason)
    log.debug("database error during ingest", exc_info=exc)
    try:
        _audit_rejection(app, actor, kind, filename, sha, f"database error ({type(exc).__name__})", 0)
    except SQLAlchemyError as again:
        log.error("the failed ingest could not be audited either: %s", type(again).__name__)
    return IngestOutcome(report, None, (
        f"The database could not store {filename} ({type(exc).__name__}); nothing was stored. Try again in a "
        "moment; if it keeps failing, ask the administrator to check the database (details are in the server log)."))


def _store_checked(app: AppContext, actor: Actor, kind: str, filename: str, sha: str, report: ValidationReport,
                   policy: OverlapPolicy) -> IngestOutcome:
    """The store half of :func:`ingest_upload`: audit a refusal, or store the validated frame as one batch."""
    if not report.ok:
        _audit_rejection(app, actor, kind, filename, sha, "validation errors", len(report.errors))
        return IngestOutcome(report, None, f"{len(report.errors)} error(s) in {filename}; nothing was stored.")
    if policy == "reject":
        previous = store.batch_with_sha(app.engine, kind, sha)
        if previous:
            _audit_rejection(app, actor, kind, filename, sha, "identical file already stored", 0)
            return IngestOutcome(report, None, (
                f"This exact file was already stored on {previous['uploaded_at']:%Y-%m-%d %H:%M} UTC by "
                f"{previous['uploaded_by']} (batch {previous['id']}); nothing was stored."))
    try:
        result = store.ingest_frame(app.engine, kind=kind, frame=report.frame, file_name=filename, sha256=sha,
                                    actor=actor.username, role=actor.role, policy=policy,
                                    audit_detail={"warnings": len(report.warnings)})
    except IngestConflict as exc:
        _audit_rejection(app, actor, kind, filename, sha, "overlaps stored data", 0)
        return IngestOutcome(report, None, str(exc))
    msg = f"Stored {result.rows:,} rows from {filename} as batch {result.batch_id}."
    if result.replaced_rows:
        msg += f" Replaced {result.replaced_rows:,} overlapping stored rows."
    return IngestOutcome(report, result, msg)


@dataclass(frozen=True)
class ReplacePreview:
    """What storing a validated upload would replace: the numbers and one plain-text sentence (user-supplied names
    inside it — escape them for Markdown)."""

    overlap: store.Overlap
    file_rows: int
    message: str

    @property
    def rows(self) -> int:
        return self.overlap.rows


def _list_some(values: tuple[str, ...], most: int = 8) -> str:
    shown = ", ".join(values[:most])
    return shown + (f" and {len(values) - most} more" if len(values) > most else "")


def preview_replace(app: AppContext, actor: Actor, *, kind: str, frame: pd.DataFrame) -> ReplacePreview:
    """The stored rows a validated frame overlaps — those *replace* would delete — computed without storing.

    The Data page shows this before *Store*: a roster upload of 87 rows replaced 288 stored ones (the site's whole
    period, people not in the file included) and the admin learnt it only afterwards.
    """
    require_role(actor, "admin")
    spec = get_kind(kind)
    ov = store.overlap_of(app.engine, kind, frame)
    if not ov.rows:
        return ReplacePreview(ov, len(frame), "No stored rows overlap this file: it only adds rows.")
    day = "%Y-%m-%d" if kind != "workload" else "%Y-%m-%d %H:%M"
    parts = []
    if ov.first is not None and ov.last is not None:
        parts.append(f"from {pd.Timestamp(ov.first):{day}} to {pd.Timestamp(ov.last):{day}}")
    if ov.sites:
        parts.append(f"{'site' if len(ov.sites) == 1 else 'sites'} {_list_some(ov.sites)}")
    if ov.people:
        who = f"{len(ov.people):,} {'person' if len(ov.people) == 1 else 'people'}"
        if ov.people_not_in_file:
            who += (f", {len(ov.people_not_in_file):,} of them not in this file "
                    f"({_list_some(ov.people_not_in_file)}) — their shifts there are removed too"
                    if kind == "roster" else f", {len(ov.people_not_in_file):,} of them not in this file")
        parts.append(who)
    what = "shifts" if kind == "roster" else "rows"
    message = (f"{ov.rows:,} stored {spec.title.lower()} {what} overlap this file"
               + (f" ({'; '.join(parts)})" if parts else "")
               + f". 'Replace' deletes these {ov.rows:,} and stores the file's {len(frame):,}; "
                 "'reject' stores nothing.")
    return ReplacePreview(ov, len(frame), message)


def ingest_frame(app: AppContext, actor: Actor, *, kind: str, frame: pd.DataFrame, name: str,
                 policy: OverlapPolicy = "reject") -> IngestOutcome:
    """Validate and store an in-memory frame (demo data, API payloads) — same rules as a file upload."""
    require_role(actor, "admin")
    report = validate_frame(kind, frame, file=name)
    if not report.ok:
        raise ServiceError(f"{name}: {len(report.errors)} validation error(s), first: {report.errors[0].message}")
    sha = sha256_of(pd.util.hash_pandas_object(report.frame, index=False).values.tobytes())
    try:
        result = store.ingest_frame(app.engine, kind=kind, frame=report.frame, file_name=name, sha256=sha,
                                    actor=actor.username, role=actor.role, policy=policy)
    except IngestConflict as exc:
        raise ServiceError(str(exc)) from exc
    return IngestOutcome(report, result, f"Stored {result.rows:,} rows ({name}).")


def data_summary(app: AppContext, actor: Actor) -> pd.DataFrame:
    require_role(actor, "planner", "admin")
    return store.dataset_summary(app.engine)


def upload_history(app: AppContext, actor: Actor, limit: int = 200) -> pd.DataFrame:
    require_role(actor, "planner", "admin")
    return store.upload_history(app.engine, limit)


class UnknownBatch(ServiceError):
    """No upload batch has this id. A :class:`ServiceError` (pages show the message as before); its own type so
    the REST API can answer 404 instead of the 422 it uses for other refusals."""


def _batch_id(batch_id: Any) -> int:
    if isinstance(batch_id, bool) or not isinstance(batch_id, int | str):
        raise ServiceError(f"Invalid upload batch id {batch_id!r}.")
    try:
        value = int(batch_id)
    except ValueError:
        raise ServiceError(f"Invalid upload batch id {batch_id!r}.") from None
    if value <= 0:
        raise ServiceError(f"Invalid upload batch id {batch_id!r}.")
    return value


def _audit_delete_attempt(app: AppContext, actor: Actor, batch_id: Any, outcome: str, reason: str,
                          kind: str | None = None) -> None:
    """A refused delete is audited in its own transaction (the delete's own one was rolled back)."""
    with db.write_tx(app.engine) as conn:
        store.write_audit(conn, actor=actor.username, role=actor.role, action="data.delete_batch", outcome=outcome,
                          object_type=kind, object_id=str(batch_id),
                          detail={"batch_id": str(batch_id), "reason": reason})


@dataclass(frozen=True)
class BatchPreview:
    """What deleting a batch would remove, for the confirmation step."""

    batch_id: int
    kind: str
    file_name: str
    rows_uploaded: int
    rows_stored: int
    uploaded_by: str
    uploaded_at: Any
    range_start: Any
    range_end: Any
    dependents: tuple[tuple[str, int], ...]

    @property
    def deletable(self) -> bool:
        return not self.dependents

    @property
    def blocked_message(self) -> str:
        what = "; ".join(f"{n:,} row(s) in {name}" for name, n in self.dependents)
        return f"Batch {self.batch_id} cannot be deleted: other records depend on it ({what})."


def describe_batch(app: AppContext, actor: Actor, batch_id: int) -> BatchPreview:
    """What :func:`delete_batch` would remove (admin only; no side effects)."""
    require_role(actor, "admin")
    bid = _batch_id(batch_id)
    try:
        info = store.describe_batch(app.engine, bid)
    except store.BatchNotFound as exc:
        raise UnknownBatch(str(exc)) from None
    return BatchPreview(batch_id=bid, kind=info["kind"], file_name=info["file_name"], rows_uploaded=info["rows"],
                        rows_stored=info["rows_stored"], uploaded_by=info["uploaded_by"],
                        uploaded_at=info["uploaded_at"], range_start=info["range_start"],
                        range_end=info["range_end"], dependents=tuple(info["dependents"]))


def delete_batch(app: AppContext, actor: Actor, batch_id: int) -> store.DeletedBatch:
    """Delete one upload batch and every row it stored, in one audited transaction (admin only).

    Refused — nothing deleted, the attempt audited — for a non-admin (:class:`PermissionDenied`), an unknown
    id (:class:`UnknownBatch`) or a batch other records depend on (:class:`ServiceError` naming them). Rows the
    batch replaced when it was stored are not restored.
    """
    try:
        require_role(actor, "admin")
    except PermissionDenied:
        if actor is not None:
            _audit_delete_attempt(app, actor, batch_id, "denied", f"role {actor.role} may not delete uploads")
        raise
    bid = _batch_id(batch_id)
    try:
        return store.delete_batch(app.engine, batch_id=bid, actor=actor.username, role=actor.role)
    except store.BatchNotFound as exc:
        _audit_delete_attempt(app, actor, bid, "rejected", "unknown batch")
        raise UnknownBatch(str(exc)) from None
    except store.BatchInUse as exc:
        _audit_delete_attempt(app, actor, bid, "rejected", str(exc))
        raise ServiceError(str(exc)) from None


def sample_files() -> list[Path]:
    """The shipped example files users can download to see each format."""
    if not SAMPLE_DIR.exists():
        return []
    return sorted(p for p in SAMPLE_DIR.iterdir() if p.suffix.lower() in (".csv", ".xlsx"))


def sample_kind(path: Path) -> str | None:
    """Guess the dataset kind of a sample file from its name (``unit_shifts_sample_de.csv`` → unit_shifts)."""
    for key in sorted(KINDS, key=len, reverse=True):
        if path.name.startswith(key):
            return key
    return None


def has_any_data(app: AppContext) -> bool:
    return any(store.table_row_count(app.engine, k) for k in KINDS)


def load_demo_data(app: AppContext, on_progress: Callable[[float, str], None] | None = None) -> dict[str, int]:
    """Generate the seeded demo history and store it (first start). Returns rows stored per kind."""
    from src.data.demo import DemoConfig, generate_demo

    frames = generate_demo(DemoConfig(), on_progress=None)
    stored: dict[str, Any] = {}
    order = ["staff", "workload", "unit_shifts", "assignments", "overtime", "roster"]
    for i, kind in enumerate(order):
        if on_progress:
            on_progress(i / len(order), f"Storing demo {kind}")
        outcome = ingest_frame(app, SYSTEM, kind=kind, frame=frames[kind], name=f"demo:{kind}", policy="replace")
        stored[kind] = outcome.result.rows if outcome.result else 0
    if on_progress:
        on_progress(1.0, "Demo data stored")
    return stored


def recent_daily_volume(app: AppContext, actor: Actor, days: int = 120) -> pd.DataFrame:
    """Workload summed per day and queue over the last ``days`` days of stored history (for the Home chart)."""
    require_role(actor, "planner", "admin")
    summary = store.dataset_summary(app.engine).set_index("kind")
    last = summary.loc["workload", "last"] if "workload" in summary.index else None
    if last is None or pd.isna(last):
        return pd.DataFrame(columns=["date", "queue", "volume"])
    start = pd.Timestamp(last).normalize() - pd.Timedelta(days=days)
    frame = store.load_frame(app.engine, "workload", start=start.to_pydatetime())
    frame["date"] = frame["timestamp"].dt.normalize()
    return frame.groupby(["date", "queue"], as_index=False)["volume"].sum()
