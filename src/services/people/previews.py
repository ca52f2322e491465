"""Assignment previews: score the open tasks of a period, run all three methods side by side and store the
chosen method's result as a draft; read a stored preview as the page shows it; find the user's draft to resume.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from src.data import db, store
from src.data import people_store as ps
from src.models.assignment import AssignmentConfig, compare_methods
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import DECISION_LABELS, Progress, _noop, now_local
from .scoring import PreviewOptions, _history, _score, _staff_for_window, _task_window
from .tasks import open_tasks

log = logging.getLogger(__name__)


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
