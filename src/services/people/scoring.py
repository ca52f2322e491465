"""Scoring task × staff pairs as the app does: the planner's preview options, the staff window (capacity pro
rata, finalized load), the active ranker with the stored scorer settings, and the same scoring for task and staff
files (CLI ``assign``). Previews, explanations and finalize build on these.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from src.data import people_store as ps
from src.data import store
from src.models.assignment import METHODS
from src.models.ranking import ScorerSettings, score_candidates
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import now_local
from .ranker_store import active_ranker, load_ranker_dir
from .settings import _settings

log = logging.getLogger(__name__)


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


def _options_of(prev: dict[str, Any]) -> PreviewOptions:
    p = prev["params"]
    return PreviewOptions(**{k: p[k] for k in PreviewOptions.__dataclass_fields__ if k in p})
