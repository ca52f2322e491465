"""What a planner does with a draft preview: give a task to someone else (hard limits re-checked, reason
audited), finalize it (limits re-checked in the transaction, all or nothing) or discard it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from src.data import db, store
from src.data import people_store as ps
from src.models.assignment import LimitBreach, limit_breaches
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import now_local
from .explain import _rescore_task, _room
from .scoring import PreviewOptions, _capacity_hours, _options_of, _task_window


def _draft(app: AppContext, preview_id: int) -> dict[str, Any]:
    prev = ps.get_preview(app.engine, preview_id)
    if prev is None:
        raise ServiceError(f"Preview {preview_id} does not exist.")
    if prev["status"] != "draft":
        raise ServiceError(f"Preview {preview_id} is already {prev['status']}; create a new preview.")
    return prev


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
