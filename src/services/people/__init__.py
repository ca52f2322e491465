"""People use cases: ranker training and storage, scorer settings, open tasks, assignment previews,
overrides, finalize, outcomes and the shadow-mode report.

Every function checks the role first, then calls the store and the pure domain packages
(:mod:`src.models.ranking`, :mod:`src.models.assignment`). Every change writes its audit event in the
same transaction as the change.

Ranker storage: the forecasting :class:`~src.models.registry.ModelRegistry` only holds
``FittedModel`` forecasts, so rankers are kept in the same safe style under
``models_dir/ranker/<version>/`` — ``model.txt`` (LightGBM text), ``metadata.json`` and
``manifest.json`` (sha256 of both files, created_by/at, headline metrics) — with an ``active.json``
pointer. Nothing is pickled; both files are checked against their sha256 and the LightGBM text is
first parsed in a subprocess (a corrupt model can abort the process instead of raising) before the
model is loaded. A model that fails any check is treated as missing: scoring falls back to the rules.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from src.data import db, store
from src.data import people_store as ps
from src.data.kinds import ColumnSpec, KindSpec
from src.data.loader import ParseOptions, UploadLimits, UploadRejected, read_table
from src.data.parsing import Issue
from src.data.validation import ValidationReport, validate_frame
from src.models.assignment import METHODS, AssignmentConfig, LimitBreach, compare_methods, limit_breaches
from src.models.ranking import (
    RankerModel,
    ScorerSettings,
    TrainConfig,
    explain,
    score_candidates,
    shadow_report,
)
from src.models.ranking import train_ranker as _train_ranker
from src.services import model_files
from src.services.context import Actor, AppContext, ServiceError, require_role

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
RANKER_DIR = "ranker"
MANIFEST = "manifest.json"
ACTIVE = "active.json"
#: ranker version ids: ``r`` + UTC timestamp (seconds in older versions, microseconds now) + random suffix
_VERSION_RE = re.compile(r"^r\d{8}T\d{6}(\d{6})?-[0-9a-f]{6}$")
MAX_TASK_HOURS = 24.0
DECISION_LABELS = {
    "model": "model", "low_confidence": "rules (model unsure)", "shadow_mode": "rules (shadow mode)",
    "model_missing": "rules (no model)", "model_error": "rules (model failed)", "ml_disabled": "rules (ML off)",
    "ranking_disabled": "rules (ranking off)", "no_eligible_staff": "nobody eligible",
}


def _noop(_f: float, _t: str) -> None:
    return None


def now_local(app: AppContext) -> pd.Timestamp:
    """Naive local wall-clock time (stored task times are local, like the uploads)."""
    return pd.Timestamp.now(tz=app.settings.timezone).tz_localize(None).floor("s")


# ============================================================================================ ranker storage

@dataclass(frozen=True)
class RankerVersion:
    version: str
    created_at: str
    created_by: str
    kind: str
    metrics: dict[str, Any]
    files: dict[str, str]
    path: Path
    active: bool = False


_cache: dict[tuple[str, str], RankerModel] = {}
_cache_lock = threading.Lock()


def _root(app: AppContext) -> Path:
    return Path(app.settings.models_dir) / RANKER_DIR


def _sha(data: bytes) -> str:
    return model_files.sha256_bytes(data)


def _read_manifest(vdir: Path) -> dict[str, Any]:
    try:
        return model_files.read_manifest(vdir)
    except model_files.ModelFileError as exc:
        raise ServiceError(str(exc)) from None


def _active_id(app: AppContext) -> str | None:
    return model_files.read_active(_root(app), _VERSION_RE)


def _write_active(app: AppContext, version: str | None) -> None:
    model_files.write_active(_root(app), version)


def _version_of(vdir: Path, active: str | None) -> RankerVersion:
    doc = _read_manifest(vdir)
    return RankerVersion(version=doc["version"], created_at=str(doc.get("created_at", "")),
                         created_by=str(doc.get("created_by", "")), kind=str(doc.get("kind", "")),
                         metrics=dict(doc.get("metrics") or {}), files=dict(doc["files"]), path=vdir,
                         active=doc["version"] == active)


def _save_version(app: AppContext, model: RankerModel, created_by: str, headline: dict[str, Any]) -> RankerVersion:
    text, meta = model.to_texts()
    files = {"model.txt": text.encode("utf-8"), "metadata.json": meta.encode("utf-8")}
    stored = model_files.save_version(_root(app), model_files.new_version_id("r"), files, {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "created_by": created_by,
        "kind": model.kind, "metrics": headline})
    return _version_of(stored.path, _active_id(app))


def _load_version(vdir: Path) -> RankerModel:
    """Load a ranker version: sha256 check of every file, first LightGBM parse in a subprocess, then cached."""
    try:
        data = model_files.load_version(vdir, ("model.txt", "metadata.json"), lightgbm=("model.txt",))
    except model_files.ModelFileError as exc:
        raise ServiceError(str(exc)) from None
    key = (vdir.name, _sha(data["model.txt"]))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    try:
        model = RankerModel.from_texts(data["model.txt"].decode("utf-8"), data["metadata.json"].decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - any parse failure means "unusable model"
        raise ServiceError(f"Ranker version {vdir.name} cannot be loaded: {type(exc).__name__}: {exc}") from None
    with _cache_lock:
        _cache[key] = model
    return model


def load_ranker_dir(path: Path) -> RankerModel:
    """A ranker from a folder holding ``model.txt`` + ``metadata.json`` (a copied version folder or
    ``RankerModel.save``), through the same safety layers as the stored versions: both files checked against
    ``manifest.json`` when the folder has one, the LightGBM text parsed first in a subprocess (a truncated model
    aborts the process that parses it), then loaded. Raises ServiceError with a one-line reason."""
    path = Path(path)
    names = ("model.txt", "metadata.json")
    if not all((path / n).is_file() for n in names):
        raise ServiceError(f"{path} does not hold a ranker (model.txt and metadata.json).")
    data = {n: (path / n).read_bytes() for n in names}
    if (path / MANIFEST).is_file():
        try:
            recorded = json.loads((path / MANIFEST).read_text("utf-8")).get("files") or {}
        except (ValueError, UnicodeDecodeError, AttributeError):
            raise ServiceError(f"{path / MANIFEST} is corrupt.") from None
        for n in names:
            if recorded.get(n) != _sha(data[n]):
                raise ServiceError(f"{path / n} does not match its sha256 in {MANIFEST} (corrupt or modified).")
    try:
        model_files.verify_lightgbm_file(path / "model.txt", _sha(data["model.txt"]))
        return RankerModel.from_texts(data["model.txt"].decode("utf-8"), data["metadata.json"].decode("utf-8"))
    except model_files.ModelFileError as exc:
        raise ServiceError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any parse failure means "unusable model"
        raise ServiceError(f"The ranker in {path} cannot be loaded: {type(exc).__name__}: {exc}") from None


def active_ranker(app: AppContext) -> tuple[RankerModel | None, str]:
    """(active model or None, status text). Never raises: a broken model means 'use the rules'."""
    version = _active_id(app)
    if version is None:
        return None, "no ranker trained yet"
    try:
        return _load_version(_root(app) / version), f"ranker {version}"
    except (ServiceError, OSError, subprocess.SubprocessError) as exc:
        log.error("active ranker %s unusable: %s", version, exc)
        return None, f"ranker {version} unusable ({exc}); using rules"


def list_ranker_versions(app: AppContext, actor: Actor) -> list[RankerVersion]:
    require_role(actor, "admin")
    root = _root(app)
    if not root.exists():
        return []
    active = _active_id(app)
    out = []
    for vdir in sorted(p for p in root.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)):
        try:
            out.append(_version_of(vdir, active))
        except ServiceError as exc:
            log.warning("skipping ranker version %s: %s", vdir.name, exc)
    return out


def activate_ranker(app: AppContext, actor: Actor, version: str) -> RankerVersion:
    """Make a stored ranker version the active one (it is verified and loaded first)."""
    require_role(actor, "admin")
    if not _VERSION_RE.match(str(version)) or not (_root(app) / version).is_dir():
        raise ServiceError(f"Ranker version {version!r} does not exist.")
    _load_version(_root(app) / version)
    previous = _active_id(app)
    with db.write_tx(app.engine) as conn:
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.ranker_activate",
                          object_type="ranker", object_id=version, detail={"previous": previous})
        _write_active(app, version)
    return _version_of(_root(app) / version, version)


# ============================================================================================ training

@dataclass(frozen=True)
class TrainOutcome:
    version: RankerVersion
    comparison: pd.DataFrame
    calibration_curves: dict[str, pd.DataFrame]
    importance: pd.DataFrame
    split: dict[str, Any]
    seconds: float


def train_ranker(app: AppContext, actor: Actor, *, config: TrainConfig | None = None, activate: bool = True,
                 on_progress: Progress | None = None) -> TrainOutcome:
    """Train the success model on the stored history, compare it with the rules on the newest slice,
    save it as a new version (and make it active). Raises ServiceError when there is too little history."""
    require_role(actor, "admin")
    progress = on_progress or _noop
    t0 = datetime.now(UTC)
    progress(0.02, "Reading assignment history and staff")
    history = store.load_frame(app.engine, "assignments")
    staff = store.load_frame(app.engine, "staff")
    if history.empty or staff.empty:
        raise ServiceError("Training needs stored assignment history and staff. Upload them on the Data page "
                           "(or load the demo data) first.")

    def inner(f: float, text: str) -> None:
        progress(0.05 + 0.85 * f, text[:1].upper() + text[1:])

    try:
        result = _train_ranker(history, staff, config, on_progress=inner)
    except ValueError as exc:
        raise ServiceError(f"Cannot train a ranker on this history: {exc}.") from None
    progress(0.92, "Saving the model")
    comp = result.comparison.set_index("scorer")
    chosen = str(result.model.kind)
    headline = {
        "chosen": chosen, "rows": len(history), **{f"{k}_{m}": _num(comp.loc[k, m]) for k in comp.index
                                                    for m in ("auc", "log_loss", "precision_at_3", "ndcg_at_3")},
        "split": result.split,
        "calibration_curves": {k: v.to_dict("records") for k, v in result.calibration_curves.items()},
    }
    version = _save_version(app, result.model, actor.username, headline)
    try:
        with db.write_tx(app.engine) as conn:
            store.write_audit(conn, actor=actor.username, role=actor.role, action="people.ranker_train",
                              object_type="ranker", object_id=version.version,
                              detail={"activate": activate, **{k: v for k, v in headline.items()
                                                                if k != "calibration_curves"}})
            if activate:
                _write_active(app, version.version)
    except BaseException:
        shutil.rmtree(version.path, ignore_errors=True)
        raise
    progress(1.0, f"Saved ranker {version.version}" + (" (active)" if activate else ""))
    seconds = (datetime.now(UTC) - t0).total_seconds()
    log.info("ranker %s trained by %s in %.1fs (kind=%s)", version.version, actor.username, seconds, chosen)
    return TrainOutcome(version=_version_of(version.path, _active_id(app)), comparison=result.comparison,
                        calibration_curves=result.calibration_curves, importance=result.model.feature_importance(),
                        split=result.split, seconds=seconds)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else round(f, 6)


@dataclass(frozen=True)
class RankerReport:
    """What the Ranking model page shows about the active model."""

    version: RankerVersion | None
    status: str
    comparison: pd.DataFrame
    calibration: dict[str, pd.DataFrame]
    importance: pd.DataFrame


def ranker_report(app: AppContext, actor: Actor) -> RankerReport:
    require_role(actor, "admin")
    model, status = active_ranker(app)
    active = _active_id(app)
    version = None
    if active:
        try:
            version = _version_of(_root(app) / active, active)
        except ServiceError:
            version = None
    if model is None:
        return RankerReport(version, status, pd.DataFrame(), {}, pd.DataFrame())
    comp = pd.DataFrame(model.metrics.get("comparison") or [])
    stored = (version.metrics.get("calibration_curves") if version else None) or {
        str(model.metrics.get("chosen", "model")): model.metrics.get("calibration_curve") or []}
    curves = {k: pd.DataFrame(v) for k, v in stored.items()}
    return RankerReport(version, status, comp, curves, model.feature_importance())


# ============================================================================================ settings

def default_scorer_settings() -> ScorerSettings:
    """Environment defaults (``WFP_ML_ENABLED`` …); an invalid value is a configuration error."""
    try:
        return ScorerSettings.from_mapping(os.environ)
    except ValueError as exc:
        raise ServiceError(f"Invalid ranker settings in the environment: {exc}") from None


def scorer_settings(app: AppContext, actor: Actor) -> ScorerSettings:
    require_role(actor, "planner", "admin")
    return _settings(app)


def _settings(app: AppContext) -> ScorerSettings:
    row = ps.read_settings(app.engine)
    if row is None:
        return default_scorer_settings()
    return ScorerSettings(bool(row["ml_enabled"]), bool(row["ranking_enabled"]), bool(row["shadow_mode"]),
                          float(row["confidence_threshold"]))


def update_scorer_settings(app: AppContext, actor: Actor, settings: ScorerSettings) -> ScorerSettings:
    require_role(actor, "admin")
    before = _settings(app)
    with db.write_tx(app.engine) as conn:
        ps.write_settings(conn, asdict(settings), actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.settings",
                          object_type="ranker_settings", object_id=1,
                          detail={"before": asdict(before), "after": asdict(settings)})
    return settings


# ============================================================================================ open tasks

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


# ============================================================================================ previews

@dataclass(frozen=True)
class PreviewOptions:
    """What the planner chooses besides the tasks. ``max_tasks_per_person`` 0 = no count limit."""

    method: str = "optimal"
    use_hours: bool = True
    max_tasks_per_person: int = 0
    site_required: bool = True
    balance_weight: float = 0.5
    fairness_weight: float = 0.0
    time_limit_s: float = 20.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ServiceError(f"Unknown method {self.method!r}; choose one of {', '.join(METHODS)}.")
        if not 0 <= self.max_tasks_per_person <= 1000:
            raise ServiceError("Max tasks per person must be between 0 (no limit) and 1,000.")
        if self.balance_weight < 0 or self.fairness_weight < 0:
            raise ServiceError("Balance and fairness weights must be 0 or more.")
        if not 1 <= self.time_limit_s <= 120:
            raise ServiceError("The time limit must be between 1 and 120 seconds.")


def _staff_for_window(app: AppContext, start: pd.Timestamp, end: pd.Timestamp,
                      options: PreviewOptions) -> pd.DataFrame:
    """Staff with capacity for the window: contract hours pro rata for its length, minus the hours of
    tasks already finalized (due inside the window); hired by the window start."""
    staff = store.load_frame(app.engine, "staff")
    if staff.empty:
        raise ServiceError("No staff are stored. An administrator uploads the staff list on the Data page.")
    staff = staff.copy()
    staff["capacity_hours"] = _capacity_hours(staff, start, end)
    done = ps.load_finalized(app.engine, start=start.to_pydatetime(), end=end.to_pydatetime())
    load = done.groupby("staff_id")["hours"].sum() if len(done) else pd.Series(dtype=float)
    staff["current_load_hours"] = staff["staff_id"].map(load).fillna(0.0).astype(float)
    staff["availability"] = pd.to_datetime(staff["hire_date"]) <= end
    if options.max_tasks_per_person:
        staff["max_assignments"] = int(options.max_tasks_per_person)
    return staff


def _capacity_hours(staff: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Contract hours pro rata for the window [start, end) (at least one day), aligned with ``staff``."""
    days = max((end - start) / pd.Timedelta(days=1), 1.0)
    return staff["contract_hours"].astype(float) * days / 7.0


def _task_window(tasks: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(tasks["due"].min()).normalize()
    end = pd.Timestamp(tasks["due"].max()).normalize() + pd.Timedelta(days=1)
    return start, end


def _history(app: AppContext) -> pd.DataFrame:
    return store.load_frame(app.engine, "assignments")


def _score(app: AppContext, tasks: pd.DataFrame, staff: pd.DataFrame, history: pd.DataFrame,
           options: PreviewOptions, now: pd.Timestamp):  # noqa: ANN202 - ScoringResult
    model, status = active_ranker(app)
    settings = _settings(app)
    res = score_candidates(tasks, staff, history, model, settings, now=now, site_required=options.site_required,
                           use_hours=options.use_hours)
    return res, model, settings, status


@dataclass(frozen=True)
class FileScoring:
    """Scores of task/staff files (CLI ``assign``): the pairs, who scored them and as of when."""

    table: pd.DataFrame  # task_id, staff_id, score — the input of the assignment methods
    scorer: str  # "model", "rules" or "model+rules" (per task, see ``decisions``)
    model_status: str  # which ranker (version or folder), or why there is none
    settings: ScorerSettings
    decisions: dict[str, int]  # decision reason -> tasks (model, low_confidence, shadow_mode, ml_disabled …)
    scored_as_of: pd.Timestamp  # the app's wall clock (APP_TIMEZONE), naive like the task times
    history_rows: int


def score_files(app: AppContext, actor: Actor, tasks: pd.DataFrame, staff: pd.DataFrame, *,
                history: pd.DataFrame | None = None, model_dir: Path | None = None, site_required: bool = True,
                use_hours: bool | None = None) -> FileScoring:
    """Score the pairs of task and staff files as the app scores a preview: the active ranker (or the one in
    ``model_dir``, loaded through :func:`load_ranker_dir`) with the stored scorer settings (ML on/off, shadow
    mode, threshold), the app's clock and the stored assignment history unless ``history`` is given. A ranker
    that cannot be used means the rules score (``model_status`` says why), as on the page."""
    require_role(actor, "planner", "admin")
    if model_dir is not None:
        try:
            model, status = load_ranker_dir(model_dir), f"ranker from {model_dir}"
        except ServiceError as exc:
            log.warning("ranker in %s unusable: %s", model_dir, exc)
            model, status = None, f"{exc} Using the rules."
    else:
        model, status = active_ranker(app)
    settings = _settings(app)
    hist = _history(app) if history is None else history
    now = now_local(app)
    res = score_candidates(tasks, staff, hist, model, settings, now=now, site_required=site_required,
                           use_hours=use_hours)
    used = sorted(str(u) for u in res.decisions["scorer"].unique() if u != "none") or ["rules"]
    decisions = {str(k): int(v) for k, v in res.decisions["reason"].value_counts().items()}
    return FileScoring(res.score_table(), "+".join(used), status, settings, decisions, now, len(hist))


@dataclass(frozen=True)
class PreviewView:
    """A stored preview as the page shows it."""

    preview: dict[str, Any]
    rows: pd.DataFrame  # one row per task: task columns, staff_id, name, score, scorer, decision, reason, ...
    comparison: pd.DataFrame
    utilisation: pd.DataFrame  # staff_id, name, site, assigned_hours, capacity_hours, utilisation, tasks


def create_preview(app: AppContext, actor: Actor, *, start: date | None = None, end: date | None = None,
                   task_ids: Sequence[str] | None = None, options: PreviewOptions | None = None,
                   on_progress: Progress | None = None) -> PreviewView:
    """Score the open tasks due in [start, end] (or the given ``task_ids``), run all three methods for the
    side-by-side comparison and store the chosen method's result as a draft preview."""
    require_role(actor, "planner", "admin")
    options = options or PreviewOptions()
    progress = on_progress or _noop
    if start and end and end < start:
        raise ServiceError("The end date is before the start date.")
    progress(0.02, "Loading open tasks")
    tasks = open_tasks(app, actor, start=start, end=end)
    if task_ids is not None:
        tasks = tasks[tasks["task_id"].isin([str(t) for t in task_ids])]
    if tasks.empty:
        raise ServiceError("No open tasks are due in the chosen period. Pick other dates, or create tasks in "
                           "the 'Open tasks' tab.")
    if len(tasks) > 5000:
        raise ServiceError(f"{len(tasks):,} tasks are too many for one preview (limit 5,000); choose a shorter "
                           "period.")
    tasks = tasks[ps.TASK_COLUMNS].reset_index(drop=True)
    w_start, w_end = _task_window(tasks)
    progress(0.08, "Loading staff and history")
    staff = _staff_for_window(app, w_start, w_end, options)
    history = _history(app)
    now = now_local(app)
    progress(0.15, "Scoring candidates")
    res, _model, settings, model_status = _score(app, tasks, staff, history, options, now)
    cfg = AssignmentConfig(method=options.method, site_required=options.site_required, use_hours=options.use_hours,
                           balance_weight=options.balance_weight, fairness_weight=options.fairness_weight,
                           time_limit_s=options.time_limit_s)

    def inner(f: float, text: str) -> None:
        progress(0.3 + 0.6 * f, "Solving: " + text.replace("solving ", ""))

    try:
        comparison, results = compare_methods(tasks, staff, res.score_table(), cfg, on_progress=inner)
    except (ValueError, RuntimeError) as exc:
        raise ServiceError(f"The assignment could not be computed: {exc}") from None
    chosen = results[options.method]
    progress(0.92, "Storing the preview")
    a = chosen.assignments.merge(res.decisions[["task_id", "reason"]].rename(columns={"reason": "decision"}),
                                 on="task_id", how="left")
    sc = res.scores.set_index(["task_id", "staff_id"])
    keys = list(zip(a["task_id"], a["staff_id"], strict=True))
    idx = sc.index
    pos = idx.get_indexer(pd.MultiIndex.from_tuples(keys, names=["task_id", "staff_id"])) if keys else np.array([])
    hit = pos >= 0
    take = np.where(hit, pos, 0)

    def col(name: str) -> np.ndarray:
        v = sc[name].to_numpy()[take] if len(sc) else np.full(len(a), np.nan)
        return np.where(hit, v, np.nan)

    a["scorer"] = np.where(hit, sc["scorer"].to_numpy()[take] if len(sc) else "", "")
    a["rule_score"] = col("rule_score").astype(float)
    a["model_score"] = col("model_score").astype(float)
    ranks = col("model_rank").astype(float)
    a["model_rank"] = pd.array(np.where(np.isnan(a["model_score"]) | (ranks < 1), np.nan, ranks), dtype="Int64")
    a["decision"] = a["decision"].fillna("no_eligible_staff")
    rows = a[["task_id", "staff_id", "score", "scorer", "decision", "reason", "rule_score", "model_score",
              "model_rank"]]
    counts = res.decisions["reason"].value_counts().to_dict()
    summary = {
        "result": chosen.summary(), "comparison": comparison.to_dict("records"),
        "decisions": counts, "model_status": model_status, "settings": asdict(settings),
        "excluded": res.excluded["reason"].value_counts().to_dict() if len(res.excluded) else {},
        "window": [str(w_start), str(w_end)], "n_tasks": len(tasks), "n_staff": len(staff),
    }
    params = {**asdict(options), "start": str(start) if start else None, "end": str(end) if end else None,
              "task_ids": list(map(str, task_ids)) if task_ids is not None else None}
    shadow = None
    if settings.shadow_mode and res.scores["model_score"].notna().any():
        d = res.decisions
        rule_top = res.scores[res.scores["rank"] == 1].set_index("task_id")
        model_top = res.scores[res.scores["model_rank"] == 1].set_index("task_id")
        shadow = pd.DataFrame({"task_id": d["task_id"], "rule_staff_id": d["top_staff_id"],
                               "model_staff_id": d["model_top_staff_id"]})
        shadow["rule_score"] = shadow["task_id"].map(rule_top["rule_score"])
        shadow["model_score"] = shadow["task_id"].map(model_top["model_score"])
        shadow["agree"] = (shadow["rule_staff_id"] == shadow["model_staff_id"]).fillna(False).astype(bool)
        shadow["scored_at"] = now.to_pydatetime()
        shadow = shadow.dropna(subset=["rule_staff_id", "model_staff_id"], how="all")
    with db.write_tx(app.engine) as conn:
        pid = ps.insert_preview(conn, actor=actor.username, method=options.method, params=params, summary=summary,
                                scored_as_of=now.to_pydatetime(), rows=rows)
        if shadow is not None and len(shadow):
            shadow["preview_id"] = pid
            ps.insert_shadow(conn, shadow)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.preview",
                          object_type="assignment_preview", object_id=pid,
                          detail={"method": options.method, "tasks": len(tasks), "assigned": chosen.n_assigned,
                                  "unassigned": chosen.n_unassigned, "violations": chosen.violations,
                                  "scorers": counts, "shadow_rows": 0 if shadow is None else len(shadow)})
    progress(1.0, f"Preview {pid}: {chosen.n_assigned} of {len(tasks)} tasks assigned")
    log.info("preview %s by %s: %s tasks, method %s", pid, actor.username, len(tasks), options.method)
    return preview_view(app, actor, pid)


def preview_view(app: AppContext, actor: Actor, preview_id: int) -> PreviewView:
    require_role(actor, "planner", "admin")
    prev = ps.get_preview(app.engine, preview_id)
    if prev is None:
        raise ServiceError(f"Preview {preview_id} does not exist.")
    rows = ps.load_preview_rows(app.engine, preview_id)
    tasks = ps.load_tasks(app.engine, status=None, task_ids=rows["task_id"].tolist())
    staff = store.load_frame(app.engine, "staff")
    names = staff.set_index("staff_id")["name"] if len(staff) else pd.Series(dtype=object)
    view = tasks[ps.TASK_COLUMNS + ["status"]].merge(rows, on="task_id", how="right")
    view.insert(view.columns.get_loc("staff_id") + 1, "name", view["staff_id"].map(names).fillna(""))
    view["decision"] = view["decision"].map(lambda d: DECISION_LABELS.get(d, d))
    comparison = pd.DataFrame(prev["summary"].get("comparison") or [])
    # utilisation of people who got work in this preview
    params = prev["params"]
    w = prev["summary"].get("window") or [None, None]
    util = pd.DataFrame(columns=["staff_id", "name", "site", "tasks", "assigned_hours", "capacity_hours",
                                 "utilisation"])
    if len(staff) and w[0]:
        start, end = pd.Timestamp(w[0]), pd.Timestamp(w[1])
        days = max((end - start) / pd.Timedelta(days=1), 1.0)
        got = view[view["staff_id"] != ""].groupby("staff_id").agg(tasks=("task_id", "size"),
                                                                   assigned_hours=("hours", "sum"))
        if len(got):
            s = staff.set_index("staff_id").loc[got.index.intersection(staff["staff_id"])]
            util = got.join(s[["name", "site", "contract_hours"]], how="inner").reset_index()
            util["capacity_hours"] = util["contract_hours"] * days / 7.0
            util["utilisation"] = np.where(util["capacity_hours"] > 0,
                                           util["assigned_hours"] / util["capacity_hours"], np.nan)
            util = util.drop(columns="contract_hours").sort_values("utilisation", ascending=False)
    _ = params
    return PreviewView(preview=prev, rows=view.reset_index(drop=True), comparison=comparison, utilisation=util)


def latest_draft(app: AppContext, actor: Actor) -> int | None:
    """The newest draft preview of this user that can still be finalized (to resume after a page reload).

    Drafts whose assigned tasks are no longer all open are skipped: after comparing methods in three previews and
    finalizing one, the other two cover tasks that are assigned now, and offering one of them (with a Finalize
    button that can only fail) as "the" draft would be stale.
    """
    require_role(actor, "planner", "admin")
    lst = ps.list_previews(app.engine, limit=50)
    mine = lst[(lst["status"] == "draft") & (lst["created_by"] == actor.username)]
    for pid in mine["id"]:
        rows = ps.load_preview_rows(app.engine, int(pid))
        assigned = rows.loc[rows["staff_id"] != "", "task_id"].tolist()
        tasks = ps.load_tasks(app.engine, status=None, task_ids=assigned) if assigned else None
        if tasks is None or (len(tasks) == len(set(assigned)) and (tasks["status"] == "open").all()):
            return int(pid)
    return None


def _draft(app: AppContext, preview_id: int) -> dict[str, Any]:
    prev = ps.get_preview(app.engine, preview_id)
    if prev is None:
        raise ServiceError(f"Preview {preview_id} does not exist.")
    if prev["status"] != "draft":
        raise ServiceError(f"Preview {preview_id} is already {prev['status']}; create a new preview.")
    return prev


def _options_of(prev: dict[str, Any]) -> PreviewOptions:
    p = prev["params"]
    return PreviewOptions(**{k: p[k] for k in PreviewOptions.__dataclass_fields__ if k in p})


@dataclass(frozen=True)
class _PreviewScoring:
    """Every task of one preview scored again as of the preview's scoring time (same staff window)."""

    result: Any  # ScoringResult of all the preview's tasks
    model: RankerModel | None
    staff: pd.DataFrame
    options: PreviewOptions
    tasks: pd.DataFrame  # indexed by task_id


#: (database, preview id, scored_as_of, newest audit event, active ranker) -> scoring; newest last
_preview_scoring_cache: OrderedDict[tuple[Any, ...], _PreviewScoring] = OrderedDict()
_PREVIEW_CACHE_SIZE = 8


def _preview_scoring(app: AppContext, prev: dict[str, Any]) -> _PreviewScoring:
    """Staff, history and scores of a whole preview, loaded once and kept while nothing changed.

    Explaining a task used to reload the staff list and the whole assignment history and score again, per task
    (0.37 s each on the demo data, 44 s for the 118 tasks of a week; the REST/CLI candidates of a whole preview
    multiply that). Scores of a task do not depend on the other tasks, so the preview is scored once. Every change
    that could alter a score (uploads and deletes of staff or history, recorded outcomes, finalized work, scorer
    settings, ranker activation) writes an audit event in its own transaction, so the newest audit id in the key
    drops a stale entry; the active ranker id guards against a pointer changed outside the app."""
    events = store.audit_events(app.engine, limit=1)
    key = (str(app.engine.url), int(prev["id"]), str(prev["scored_as_of"]),
           int(events["id"].iloc[0]) if len(events) else 0, _active_id(app))
    with _cache_lock:
        hit = _preview_scoring_cache.get(key)
        if hit is not None:
            _preview_scoring_cache.move_to_end(key)
            return hit
    rows = ps.load_preview_rows(app.engine, int(prev["id"]))
    tasks = ps.load_tasks(app.engine, status=None, task_ids=rows["task_id"].tolist())
    options = _options_of(prev)
    w = prev["summary"].get("window") or [None, None]
    start, end = (pd.Timestamp(w[0]), pd.Timestamp(w[1])) if w[0] else _task_window(tasks)
    staff = _staff_for_window(app, start, end, options)
    res, model, _settings_, _status = _score(app, tasks[ps.TASK_COLUMNS], staff, _history(app), options,
                                             pd.Timestamp(prev["scored_as_of"]))
    scoring = _PreviewScoring(res, model, staff, options, tasks.set_index("task_id", drop=False))
    with _cache_lock:
        _preview_scoring_cache[key] = scoring
        while len(_preview_scoring_cache) > _PREVIEW_CACHE_SIZE:
            _preview_scoring_cache.popitem(last=False)
    return scoring


def _rescore_task(app: AppContext, prev: dict[str, Any], task_id: str):  # noqa: ANN202
    """One task of a preview as scored again for the whole preview (:func:`_preview_scoring`)."""
    scoring = _preview_scoring(app, prev)
    if task_id not in scoring.tasks.index:
        raise ServiceError(f"Task {task_id} is not part of preview {prev['id']}.")
    return scoring.result, scoring.model, scoring.staff, scoring.options, scoring.tasks.loc[task_id]


def explain_task(app: AppContext, actor: Actor, preview_id: int, task_id: str) -> dict[str, pd.DataFrame]:
    """Why each candidate scored as it did for one task: ``candidates`` (staff_id, name, score, scorer,
    rule_score, model_score, rank), ``rules`` (factor × weight), ``model`` (pred_contrib, log-odds) and
    ``excluded`` (staff_id, name, reason)."""
    return explain_tasks(app, actor, preview_id, [str(task_id)])[str(task_id)]


def explain_tasks(app: AppContext, actor: Actor, preview_id: int,
                  task_ids: Sequence[str] | None = None) -> dict[str, dict[str, pd.DataFrame]]:
    """:func:`explain_task` for several tasks of a preview (default: all of them, in the preview's order), with
    the preview's staff, history and rows loaded once (the REST and CLI candidates of a whole preview)."""
    require_role(actor, "planner", "admin")
    prev = ps.get_preview(app.engine, preview_id)
    if prev is None:
        raise ServiceError(f"Preview {preview_id} does not exist.")
    scoring = _preview_scoring(app, prev)
    rows = ps.load_preview_rows(app.engine, int(preview_id))
    ids = rows["task_id"].astype(str).tolist() if task_ids is None else [str(t) for t in task_ids]
    missing = [t for t in ids if t not in scoring.tasks.index]
    if missing:
        raise ServiceError(f"Task {missing[0]} is not part of preview {preview_id}.")
    return {t: _explain(scoring, rows, t) for t in ids}


def _plain(value: Any) -> Any:
    """numpy/pandas scalar → plain Python for JSON (NaN/NaT → None, timestamps → ISO text)."""
    if value is None or value is pd.NaT or (isinstance(value, float | np.floating) and not np.isfinite(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _plain_records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    cols = [c for c in columns if c in frame.columns]
    return [{k: _plain(v) for k, v in r.items()} for r in frame[cols].to_dict("records")]


def task_candidates(app: AppContext, actor: Actor, preview_id: int,
                    task_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every candidate of each task (default: every task of the preview) with score and explanation, as plain
    JSON-ready dicts (REST and CLI print the same document): the task, who the preview gives it to, each candidate
    (rank, score, scorer, rule and model scores, whether they can still take it, rule factors, model
    contributions), and the excluded staff with the reason."""
    explained = explain_tasks(app, actor, preview_id, task_ids)
    rows = ps.load_preview_rows(app.engine, int(preview_id)).set_index("task_id")
    scoring = _preview_scoring(app, ps.get_preview(app.engine, preview_id) or {})
    out = []
    for task_id, ex in explained.items():
        task = scoring.tasks.loc[task_id]
        row = rows.loc[task_id]
        chosen = str(row["staff_id"] or "")
        rules = {sid: _plain_records(g, ("factor", "value", "weight", "contribution"))
                 for sid, g in ex["rules"].groupby("staff_id", sort=False)}
        model = {sid: _plain_records(g, ("feature", "value", "contribution"))
                 for sid, g in ex["model"].groupby("staff_id", sort=False)}
        cands = []
        for c in _plain_records(ex["candidates"], ("staff_id", "name", "rank", "score", "scorer", "reason",
                                                   "rule_score", "model_score", "model_rank", "tasks_in_preview",
                                                   "free_hours", "can_take")):
            if c.get("model_score") is None:
                c["model_rank"] = None
            cands.append({**c, "chosen": c["staff_id"] == chosen, "rules": rules.get(c["staff_id"], []),
                          "model": model.get(c["staff_id"], [])})
        out.append({
            "task_id": task_id, **{k: _plain(task.get(k)) for k in ("task_type", "site", "priority", "due",
                                                                      "required_skill", "hours")},
            "staff_id": chosen, "decision": DECISION_LABELS.get(str(row.get("decision")), _plain(row.get("decision"))),
            "candidates": cands,
            "excluded": _plain_records(ex["excluded"], ("staff_id", "name", "reason")),
        })
    return out


def _explain(scoring: _PreviewScoring, rows: pd.DataFrame, task_id: str) -> dict[str, pd.DataFrame]:
    res, staff, options = scoring.result, scoring.staff, scoring.options
    out = explain(res, task_id, scoring.model)
    names = staff.set_index("staff_id")["name"]
    cands = res.scores[res.scores["task_id"] == task_id].sort_values("rank").copy()
    cands.insert(2, "name", cands["staff_id"].map(names))
    count, free = _room(None, rows, staff, task_id, options, tasks=scoring.tasks)
    cands["tasks_in_preview"] = cands["staff_id"].map(count).fillna(0).astype(int)
    cands["free_hours"] = cands["staff_id"].map(free).astype(float)
    ok = pd.Series(True, index=cands.index)
    if options.max_tasks_per_person:
        ok &= cands["tasks_in_preview"] < options.max_tasks_per_person
    if options.use_hours:
        ok &= cands["free_hours"] + 1e-9 >= float(scoring.tasks.loc[task_id, "hours"])
    cands["can_take"] = ok
    out["candidates"] = cands.drop(columns=["task_id"]).reset_index(drop=True)
    exc = out["excluded"].copy()
    exc.insert(1, "name", exc["staff_id"].map(names))
    out["excluded"] = exc
    return out


def _room(app: AppContext | None, rows: pd.DataFrame, staff: pd.DataFrame, task_id: str,
          options: PreviewOptions, tasks: pd.DataFrame | None = None) -> tuple[pd.Series, pd.Series]:
    """Per person: tasks in the preview other than ``task_id``, and hours still free in the window after
    them (capacity − finalized load − this preview's other tasks). ``tasks`` (with the preview's task hours)
    saves reading them again."""
    others = rows[(rows["staff_id"] != "") & (rows["task_id"] != task_id)]
    count = others["staff_id"].value_counts()
    if tasks is None:
        tasks = ps.load_tasks(app.engine, status=None, task_ids=others["task_id"].tolist()) if len(others) else \
            pd.DataFrame(columns=["task_id", "hours"])
    hours = others.merge(tasks[["task_id", "hours"]].reset_index(drop=True), on="task_id",
                         how="left").groupby("staff_id")["hours"].sum()
    st = staff.set_index("staff_id")
    free = st["capacity_hours"] - st["current_load_hours"] - hours.reindex(st.index).fillna(0.0)
    return count, free


def override_assignment(app: AppContext, actor: Actor, preview_id: int, task_id: str, staff_id: str,
                        reason: str) -> dict[str, Any]:
    """Give one task of a draft preview to another eligible person (reason required; audited).
    Hard constraints are re-checked: the person must be eligible and must not exceed their count or
    hour limit with the preview's other tasks."""
    require_role(actor, "planner", "admin")
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ServiceError("Give a reason for the override (at least 3 characters).")
    if len(reason) > 500:
        raise ServiceError("Keep the reason under 500 characters.")
    prev = _draft(app, preview_id)
    rows = ps.load_preview_rows(app.engine, preview_id)
    mine = rows[rows["task_id"] == str(task_id)]
    if mine.empty:
        raise ServiceError(f"Task {task_id} is not part of preview {preview_id}.")
    current = str(mine["staff_id"].iloc[0] or "")
    staff_id = str(staff_id or "").strip()
    if staff_id == current:
        raise ServiceError(f"Task {task_id} is already assigned to {staff_id or 'nobody'}.")
    res, _model, staff, options, task = _rescore_task(app, prev, str(task_id))
    new_vals: dict[str, Any] = {"staff_id": staff_id, "overridden": True, "override_reason": reason,
                                "original_staff_id": current if not bool(mine["overridden"].iloc[0])
                                else mine["original_staff_id"].iloc[0]}
    if staff_id:
        cand = res.scores[(res.scores["task_id"] == str(task_id)) & (res.scores["staff_id"] == staff_id)]
        if cand.empty:
            exc = res.excluded[(res.excluded["task_id"] == str(task_id)) & (res.excluded["staff_id"] == staff_id)]
            if staff_id not in set(staff["staff_id"]):
                raise ServiceError(f"{staff_id} is not in the staff list.")
            why = exc["reason"].iloc[0] if len(exc) else "not eligible"
            raise ServiceError(f"{staff_id} cannot take task {task_id}: {why.replace('_', ' ')}.")
        count, free = _room(app, rows, staff, str(task_id), options)
        n_other = int(count.get(staff_id, 0))
        if options.max_tasks_per_person and n_other + 1 > options.max_tasks_per_person:
            raise ServiceError(f"{staff_id} already has {n_other} task(s) in this preview; the limit is "
                               f"{options.max_tasks_per_person}.")
        if options.use_hours and float(task["hours"]) > float(free.get(staff_id, 0.0)) + 1e-9:
            raise ServiceError(f"{staff_id} has only {max(float(free.get(staff_id, 0.0)), 0):.1f} free hours in this "
                               f"period; task {task_id} needs {float(task['hours']):g}.")
        c = cand.iloc[0]
        new_vals.update(score=float(c["score"]), scorer=str(c["scorer"]), rule_score=float(c["rule_score"]),
                        model_score=None if pd.isna(c["model_score"]) else float(c["model_score"]),
                        model_rank=None if pd.isna(c["model_score"]) else int(c["model_rank"]),
                        reason="")
    else:
        new_vals.update(score=None, scorer="", rule_score=None, model_score=None, model_rank=None,
                        reason=f"left unassigned by {actor.username}")
    with db.write_tx(app.engine) as conn:
        if ps.get_preview(conn, preview_id)["status"] != "draft":
            raise ServiceError(f"Preview {preview_id} was closed meanwhile.")
        ps.update_preview_row(conn, preview_id, str(task_id), **new_vals)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.override",
                          object_type="assignment_preview", object_id=preview_id,
                          detail={"task_id": str(task_id), "from": current, "to": staff_id, "reason": reason})
    return {"task_id": str(task_id), "from": current, "to": staff_id}


@dataclass(frozen=True)
class FinalizeOutcome:
    preview_id: int
    assigned: int
    unassigned: int
    message: str


def finalize_preview(app: AppContext, actor: Actor, preview_id: int) -> FinalizeOutcome:
    """Write every assigned row of a draft preview as an assignment, mark the tasks assigned and the
    preview finalized — one transaction, all or nothing. Refused (nothing written, the preview stays a draft)
    when a task is no longer open or when assignments finalized since the preview was made would push
    someone over the preview's hour or task limit (:func:`_recheck_limits`)."""
    require_role(actor, "planner", "admin")
    prev = _draft(app, preview_id)
    options = _options_of(prev)
    staff = store.load_frame(app.engine, "staff")
    now = now_local(app)
    with db.write_tx(app.engine) as conn:
        ps.lock_finalize(conn)  # one finalize at a time checks and adds to people's load
        if not ps.close_preview(conn, preview_id, "finalized", actor.username):
            raise ServiceError(f"Preview {preview_id} was finalized or discarded meanwhile.")
        rows = ps.load_preview_rows(conn, preview_id)
        assigned = rows[rows["staff_id"] != ""]
        tasks = ps.load_tasks(conn, status=None, task_ids=assigned["task_id"].tolist())
        not_open = tasks[tasks["status"] != "open"]
        if len(not_open) or len(tasks) != len(assigned):
            ex = not_open["task_id"].iloc[0] if len(not_open) else "?"
            raise ServiceError(f"{max(len(not_open), 1)} task(s) of this preview are no longer open (e.g. {ex}); "
                               "nothing was finalized. Create a new preview.")
        final = assigned.merge(tasks[ps.TASK_COLUMNS], on="task_id", how="left")
        breaches = _recheck_limits(conn, prev, final, staff, options)
        if breaches:
            raise ServiceError(_limits_message(breaches, staff))
        final["method"] = prev["method"]
        final["assigned_by"] = actor.username
        final["assigned_at"] = now.to_pydatetime()
        final["preview_id"] = int(preview_id)
        final["scorer"] = final["scorer"].replace("", "manual")
        n = ps.insert_finalized(conn, final)
        changed = ps.set_task_status(conn, assigned["task_id"].tolist(), "assigned")
        if changed != n:
            raise ServiceError("Some tasks changed while finalizing; nothing was finalized. Try again.")
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.finalize",
                          object_type="assignment_preview", object_id=preview_id,
                          detail={"assigned": n, "unassigned": int(len(rows) - n), "method": prev["method"],
                                  "overridden": int(rows["overridden"].sum())})
    msg = f"Finalized preview {preview_id}: {n} assignment(s) written" + (
        f", {len(rows) - n} task(s) stay open." if len(rows) - n else ".")
    return FinalizeOutcome(int(preview_id), n, int(len(rows) - n), msg)


def _recheck_limits(conn: Any, prev: dict[str, Any], final: pd.DataFrame, staff: pd.DataFrame,
                    options: PreviewOptions) -> list[LimitBreach]:
    """The preview's per-person limits, checked again inside the finalize transaction: everything finalized
    now in the preview's window (read on ``conn``, so assignments finalized after the preview was made count)
    plus this preview's assigned rows, against contract hours pro rata for the window and the preview's
    max tasks per person — the limits :func:`create_preview` gave the solver."""
    if final.empty or not (options.use_hours or options.max_tasks_per_person):
        return []
    w = prev["summary"].get("window") or [None, None]
    start, end = (pd.Timestamp(w[0]), pd.Timestamp(w[1])) if w[0] else _task_window(final)
    done = ps.load_finalized(conn, start=start.to_pydatetime(), end=end.to_pydatetime())
    made = prev.get("scored_as_of")
    done["since"] = (done["assigned_at"] >= pd.Timestamp(made)) if made is not None else False
    st = staff.drop_duplicates("staff_id", keep="last")
    caps = pd.Series(_capacity_hours(st, start, end).to_numpy(), index=st["staff_id"].astype(str))
    return limit_breaches(final[["staff_id", "hours"]], done[["staff_id", "hours", "since"]], caps,
                          use_hours=options.use_hours, max_tasks=options.max_tasks_per_person)


def _limits_message(breaches: Sequence[LimitBreach], staff: pd.DataFrame, show: int = 5) -> str:
    """One sentence per person over a limit (the first ``show``), then what happened and what to do."""
    names = staff.drop_duplicates("staff_id", keep="last").set_index("staff_id")["name"] if len(staff) else {}
    parts = []
    for b in breaches[:show]:
        name = str(names.get(b.staff_id, "") or "")
        who = f"{name} ({b.staff_id})" if name else b.staff_id
        if b.limit == "tasks":
            parts.append(f"{who} would have {int(b.amount)} tasks in this preview against a limit of {int(b.cap)}")
            continue
        text = f"{who} would have {b.amount:.1f} h against a {b.cap:.1f} h limit"
        if b.finalized_since:
            n = b.finalized_since
            text += (f" because {n} assignment{'s were' if n != 1 else ' was'} finalized after this preview "
                     "was made")
        else:
            text += " (their finalized work or contract hours changed after this preview was made)"
        parts.append(text)
    if len(breaches) > show:
        parts.append(f"and {len(breaches) - show} more")
    return "; ".join(parts) + "; nothing was finalized — create a new preview."


def discard_preview(app: AppContext, actor: Actor, preview_id: int) -> None:
    require_role(actor, "planner", "admin")
    _draft(app, preview_id)
    with db.write_tx(app.engine) as conn:
        if not ps.close_preview(conn, preview_id, "discarded", actor.username):
            raise ServiceError(f"Preview {preview_id} was finalized or discarded meanwhile.")
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.discard",
                          object_type="assignment_preview", object_id=preview_id, detail={})


# ============================================================================================ outcomes

def assignments_awaiting_outcome(app: AppContext, actor: Actor) -> pd.DataFrame:
    require_role(actor, "planner", "admin")
    return ps.load_finalized(app.engine, with_outcome=False)


def finalized_assignments(app: AppContext, actor: Actor, *, start: date | None = None,
                          end: date | None = None) -> pd.DataFrame:
    require_role(actor, "planner", "admin")
    s = pd.Timestamp(start).to_pydatetime() if start else None
    e = (pd.Timestamp(end) + pd.Timedelta(days=1)).to_pydatetime() if end else None
    return ps.load_finalized(app.engine, start=s, end=e)


def record_outcomes(app: AppContext, actor: Actor, outcomes: dict[str, str]) -> int:
    """Record success/failure of finalized assignments. They are added to the assignment history (the
    ranker's training data) and marked on the assignment; recording again replaces the earlier outcome."""
    require_role(actor, "planner", "admin")
    if not outcomes:
        raise ServiceError("Choose at least one assignment and its outcome.")
    bad = {k: v for k, v in outcomes.items() if v not in ("success", "failure")}
    if bad:
        raise ServiceError(f"Outcome must be 'success' or 'failure' (got {next(iter(bad.values()))!r}).")
    final = ps.load_finalized(app.engine, task_ids=list(outcomes))
    missing = sorted(set(outcomes) - set(final["task_id"]))
    if missing:
        raise ServiceError(f"Task {missing[0]} has no finalized assignment.")
    hist = final[["task_id", "staff_id", "task_type", "priority", "due", "assigned_at", "site", "required_skill",
                  "hours"]].copy()
    hist["outcome"] = hist["task_id"].map(outcomes)
    report = validate_frame("assignments", hist, file="outcomes")
    if not report.ok:
        raise ServiceError(f"The outcomes could not be added to the history: {report.errors[0].message}")
    sha = _sha(pd.util.hash_pandas_object(report.frame, index=False).values.tobytes())
    # the history rows and the outcome marks in one transaction (re-recording replaces: policy replace)
    with db.write_tx(app.engine) as conn:
        store.ingest_frame_in(conn, kind="assignments", frame=report.frame, file_name="recorded outcomes",
                              sha256=sha, actor=actor.username, role=actor.role, policy="replace",
                              audit_detail={"source": "people.record_outcomes"})
        for task_id, outcome in outcomes.items():
            ps.set_outcome(conn, task_id, outcome, actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.outcome",
                          object_type="assignment", object_id=next(iter(outcomes)) if len(outcomes) == 1 else None,
                          detail={"count": len(outcomes), "success": sum(v == "success" for v in outcomes.values())})
    return len(outcomes)


# ============================================================================================ shadow mode

@dataclass(frozen=True)
class ShadowSummary:
    decisions: int  # tasks logged in shadow mode
    agreement_logged: float
    report: dict[str, Any] = field(default_factory=dict)
    log: pd.DataFrame = field(default_factory=pd.DataFrame)


def shadow_mode_report(app: AppContext, actor: Actor) -> ShadowSummary:
    """Shadow log (model choice next to the rule decision that was used) and, where outcomes were
    recorded, the comparison of both scores against them (``shadow_report``)."""
    require_role(actor, "admin")
    logged = ps.load_shadow(app.engine)
    pairs = ps.shadow_pairs(app.engine)
    rep: dict[str, Any] = {}
    if len(pairs):
        pairs["model_rank"] = pd.to_numeric(pairs["model_rank"], errors="coerce")
        rep = shadow_report(pairs[["task_id", "staff_id", "rule_score", "model_score", "model_rank"]],
                            pairs[["task_id", "staff_id", "outcome"]])
    agree = float(logged["agree"].mean()) if len(logged) else float("nan")
    return ShadowSummary(decisions=len(logged), agreement_logged=agree, report=rep, log=logged)
