"""Why each candidate scored as it did: a whole preview scored again once (cached until something that could
alter a score changes), the per-task explanation frames, the JSON-ready candidates document of REST and CLI, and
the room (tasks, free hours) each person still has in a preview.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from src.data import people_store as ps
from src.data import store
from src.models.ranking import RankerModel, explain
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import DECISION_LABELS, _cache_lock
from .ranker_store import _active_id
from .scoring import PreviewOptions, _history, _options_of, _score, _staff_for_window, _task_window


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
