"""Saved plans: store a plan with its shift plan, list and load them, and open one rebuilt from its stored rows
(numbers exactly as saved) for viewing and re-export through the live export's path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from src.data import db, plan_store, store
from src.models.capacity import QueueParams, ShiftPlanResult, StaffingPlan, plan_from_intervals
from src.services.context import Actor, AppContext, ServiceError, require_role

from .exports import _check_format, _plan_rows, _write_export, requirement_rows
from .results import ExportFile, Scenario, VolumeInput

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


#: what the shift plan's people achieve per interval (live ``ShiftPlanResult.intervals`` column → stored column)
_PLANNED_QUALITY = {"productive_agents": "planned_productive_agents", "asa_seconds": "planned_asa_seconds",
                    "p_abandon": "planned_p_abandon"}


def _stored_rows(plan: StaffingPlan, shift_plan: ShiftPlanResult | None) -> pd.DataFrame:
    """The rows a saved plan keeps: :func:`_plan_rows` (requirement with every quality column, incl. P(wait) and the
    e-mail backlog) plus what the shift plan's people achieve — so a saved plan opens and re-exports with the same
    columns as the live one."""
    rows = _plan_rows(plan, shift_plan)
    if shift_plan is not None:
        have = [c for c in _PLANNED_QUALITY if c in shift_plan.intervals]
        extra = shift_plan.intervals[["queue", "ds", *have]].rename(columns=_PLANNED_QUALITY)
        rows = rows.merge(extra, on=["queue", "ds"], how="left")
    return rows


def _safe_name(name: str) -> str:
    clean = _CONTROL.sub(" ", str(name)).strip()
    return clean[:200]


def save_plan(app: AppContext, actor: Actor, plan: StaffingPlan, *, name: str, volume: VolumeInput,
              scenario: Scenario | None = None, shift_plan: ShiftPlanResult | None = None) -> int:
    """Store the plan (parameters, interval rows, shift starts) and its audit event in one transaction."""
    require_role(actor, "planner", "admin")
    clean = _safe_name(name)
    if not clean:
        raise ServiceError("Give the plan a name.")
    rows = _stored_rows(plan, shift_plan)
    hours = plan.intervals["queue"].map({q: p.interval_seconds / 3600 for q, p in plan.params.items()})
    rows["agent_hours"] = np.where(rows["queue"].map({q: p.channel == "care" for q, p in plan.params.items()}),
                                   0.0, rows["agents"] * hours.to_numpy())
    shifts = None
    if shift_plan is not None and len(shift_plan.shifts):
        shifts = shift_plan.shifts.assign(queue=str(shift_plan.intervals["queue"].iloc[0]))
    params = {q: asdict(p) for q, p in plan.params.items()}
    with db.write_tx(app.engine) as conn:
        plan_id = plan_store.insert_plan(
            conn, name=clean, source=volume.source, source_detail=volume.detail, volume_basis=plan.volume_basis,
            params=params, scenario=asdict(scenario or Scenario()), intervals=rows, shifts=shifts,
            paid_hours=shift_plan.paid_hours if shift_plan is not None else None, created_by=actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="staffing.plan_save",
                          object_type="staffing_plan", object_id=plan_id,
                          detail={"name": clean, "source": volume.source, "queues": list(plan.params),
                                  "intervals": len(rows), "shift_plan": shift_plan is not None,
                                  "what_if": (scenario or Scenario()).describe()})
    return plan_id


def list_saved_plans(app: AppContext, actor: Actor) -> pd.DataFrame:
    require_role(actor, "planner", "admin")
    return plan_store.list_plans(app.engine)


def load_saved_plan(app: AppContext, actor: Actor, plan_id: int) -> dict[str, Any]:
    require_role(actor, "planner", "admin")
    found = plan_store.load_plan(app.engine, int(plan_id))
    if found is None:
        raise ServiceError(f"There is no saved plan {plan_id}.")
    return found


def saved_plan_stem(plan_id: int, name: str) -> str:
    """File stem of a saved plan's download: ``staffing_plan_12_Week_45`` (id and name, ``[A-Za-z0-9_]`` only)."""
    slug = re.sub(r"[^0-9A-Za-z]+", "_", str(name)).strip("_")[:60].rstrip("_")
    return f"staffing_plan_{int(plan_id)}" + (f"_{slug}" if slug else "")


def _saved_shift_plan(iv: pd.DataFrame, shifts: pd.DataFrame, paid_hours: float | None) -> ShiftPlanResult | None:
    """The stored shift plan (planned people per interval of one queue, people per shift start) as a result object;
    None when the plan was saved without one."""
    has = iv["planned"].notna()
    if not has.any():
        return None
    queue = str(shifts["queue"].iloc[0]) if len(shifts) else str(iv.loc[has, "queue"].iloc[0])
    sub = iv[(iv["queue"] == queue) & has]
    required = sub["agents"].astype(float).to_numpy()
    planned = sub["planned"].astype(float).to_numpy()
    under = np.maximum(required - planned, 0.0)

    def stored(col: str) -> pd.Series:
        # NaN where the plan was saved before schema 2 recorded the column: shown and exported as empty cells
        return sub[col] if col in sub else pd.Series(np.nan, index=sub.index)

    productive = stored("planned_productive_agents")
    if productive.notna().all():
        productive = productive.round().astype(np.int64)  # whole people, as in the live shift plan
    # the columns of plan_shifts' intervals in their order, so the Shift plan sheet matches the live export
    rows = pd.DataFrame({"queue": queue, "ds": sub["ds"].to_numpy(), "required": required, "planned": planned,
                         "over": np.maximum(planned - required, 0.0), "under": under,
                         "volume": sub["volume"].to_numpy(), "productive_agents": productive.to_numpy(),
                         "service_level": stored("planned_service_level").to_numpy(),
                         "asa_seconds": stored("planned_asa_seconds").to_numpy(),
                         "p_abandon": stored("planned_p_abandon").to_numpy()})
    starts = shifts[shifts["queue"] == queue].drop(columns=["queue"]).reset_index(drop=True)
    paid = float(paid_hours) if paid_hours is not None else float((starts["paid_hours"] * starts["people"]).sum())
    return ShiftPlanResult(intervals=rows, shifts=starts, status="as saved", optimal=True, paid_hours=paid,
                           under_agent_intervals=float(under.sum()), objective=float("nan"))


def saved_plan_parts(found: Mapping[str, Any], actor: Actor) -> tuple[StaffingPlan, ShiftPlanResult | None,
                                                                      dict[str, Any]]:
    """A loaded saved plan (:func:`load_saved_plan`) as the objects the live export takes: the plan rebuilt from its
    stored interval rows (numbers exactly as saved, nothing recomputed), its shift plan if it had one, and the facts
    for the Info sheet."""
    head = found["header"]
    plan_id = head.get("id")
    try:
        params = {str(q): QueueParams(**p) for q, p in head["params"].items()}
    except (TypeError, ValueError) as exc:
        raise ServiceError(f"Saved plan {plan_id}: its stored parameters cannot be read ({exc}).") from None
    iv = found["intervals"]
    if iv.empty:
        raise ServiceError(f"Saved plan {plan_id} has no interval rows to export.")
    try:
        plan = plan_from_intervals(iv.drop(columns=[c for c in iv if str(c).startswith("planned")]), params,
                                   volume_basis=head.get("volume_basis") or "point")
    except ValueError as exc:
        raise ServiceError(f"Saved plan {plan_id}: {exc}") from None
    shift_plan = _saved_shift_plan(iv, found["shifts"], head.get("paid_hours"))
    care = all(p.channel == "care" for p in params.values())
    try:
        what = Scenario(**head.get("scenario", {})).describe(care=care)
    except (TypeError, ServiceError):
        what = str(head.get("scenario", ""))
    seconds = {p.interval_seconds for p in params.values()}
    created = head.get("created_at")
    info: dict[str, Any] = {
        "saved_plan_id": plan_id, "plan_name": head.get("name"), "created_by": head.get("created_by"),
        "created_at": f"{pd.Timestamp(created):%Y-%m-%d %H:%M} UTC" if created is not None else "",
        "source": head.get("source"), "source_detail": head.get("source_detail")}
    if len(seconds) == 1 and not care:
        info["interval_minutes"] = seconds.pop() / 60
    info.update(volume_basis=plan.volume_basis, what_if=what)
    if shift_plan is not None:
        info.update(shift_plan_status=shift_plan.status, paid_hours=round(shift_plan.paid_hours, 2),
                    uncovered_agent_intervals=round(shift_plan.under_agent_intervals, 2))
    info.update(exported_by=actor.username, exported_at=datetime.now().strftime("%Y-%m-%d %H:%M"))
    return plan, shift_plan, info


#: requirement-table columns stored since schema version 2 (older saved plans have them empty)
_V2_LABELS = {"p_wait": "P(wait)", "backlog_hours": "backlog (h)"}


@dataclass(frozen=True)
class SavedPlan:
    """A saved plan opened for reading: the same objects a live plan has (requirement with its quality columns,
    shift plan), so the page draws and exports it with the live plan's code, plus its stored header facts."""

    plan_id: int
    name: str
    header: Mapping[str, Any]
    plan: StaffingPlan
    shift_plan: ShiftPlanResult | None
    info: Mapping[str, Any]

    @property
    def queues(self) -> list[str]:
        return list(self.plan.params)

    @property
    def stem(self) -> str:
        """File stem of its downloads (:func:`saved_plan_stem`)."""
        return saved_plan_stem(self.plan_id, self.name)

    def not_recorded(self, queue: str) -> list[str]:
        """Names of the quality columns of ``queue``'s table that this plan holds no numbers for.

        Why: a plan saved before schema version 2 kept no P(wait) or e-mail backlog; its table shows those
        columns empty, and the page says why instead of leaving the reader to guess (a voice queue always has a
        P(wait) and an e-mail queue a backlog when they were recorded)."""
        rows = requirement_rows(self.plan, queue, self.shift_plan)
        return [label for col, label in _V2_LABELS.items() if col in rows and len(rows) and rows[col].isna().all()]

    def describe(self) -> str:
        """One line for the page: source, what-if, author and time of saving."""
        h = self.header
        created = h.get("created_at")
        when = f"{pd.Timestamp(created):%Y-%m-%d %H:%M} UTC" if created is not None else "an unknown time"
        shift = f", shift plan for {self.shift_plan.intervals['queue'].iloc[0]}" if self.shift_plan is not None else ""
        return (f"{h.get('source_detail') or h.get('source')} · what-if: {self.info.get('what_if', 'as planned')}"
                f"{shift} · saved by {h.get('created_by')} on {when}")


def open_saved_plan(app: AppContext, actor: Actor, plan_id: int) -> SavedPlan:
    """A saved plan rebuilt from its stored rows (numbers exactly as saved, nothing recomputed) for viewing and
    re-export. Needs no live inputs: a planner or manager can open last month's plan with no volume loaded."""
    require_role(actor, "planner", "admin")
    found = load_saved_plan(app, actor, plan_id)
    plan, shift_plan, info = saved_plan_parts(found, actor)
    head = found["header"]
    return SavedPlan(plan_id=int(head["id"]), name=str(head["name"]), header=head, plan=plan,
                     shift_plan=shift_plan, info=info)


def export_saved_plan(app: AppContext, actor: Actor, plan_id: int, *, fmt: str) -> ExportFile:
    """The live plan's Excel workbook or CSV, rebuilt from a saved plan (stored intervals with their quality
    columns, shift plan, parameters and facts); written, audited and copied to ``outputs_dir`` by the live
    export's own path (:func:`_write_export`)."""
    require_role(actor, "planner", "admin")
    _check_format(fmt)
    saved = open_saved_plan(app, actor, plan_id)
    return _write_export(app, actor, saved.plan, fmt=fmt, shift_plan=saved.shift_plan, info=saved.info,
                         name=saved.stem, audit_extra={"saved_plan_id": saved.plan_id})
