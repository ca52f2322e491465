"""Exports of a live plan: the requirement table the page shows, the workbook's Info facts and the Excel/CSV
download (timestamped copy under ``outputs_dir`` plus an audit event)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from src.data import db, export, store
from src.models.capacity import ShiftPlanResult, StaffingPlan, staffing_workbook
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import _EMAIL_ONLY, _NOT_CARE, _VOICE_ONLY
from .results import ExportFile, Scenario, VolumeInput

log = logging.getLogger(__name__)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plan_rows(plan: StaffingPlan, shift_plan: ShiftPlanResult | None) -> pd.DataFrame:
    """Interval rows of the plan, joined with the shift plan's planned people and achieved SL where there is one."""
    iv = plan.intervals.copy()
    if shift_plan is not None:
        sp = shift_plan.intervals[["queue", "ds", "planned", "over", "under", "service_level"]].rename(
            columns={"service_level": "planned_service_level"})
        iv = iv.merge(sp, on=["queue", "ds"], how="left")
    return iv


def requirement_rows(plan: StaffingPlan, queue: str, shift_plan: ShiftPlanResult | None = None) -> pd.DataFrame:
    """One queue's requirement per interval as the Staffing page shows it, for a live and a saved plan alike.

    Why here: the live table and an opened saved plan must show the same columns. The quality columns of the
    queue's channel stay even when they are empty (a plan saved before they were stored shows them blank, rather
    than hiding that they were not recorded); columns of other channels are left out. With a shift plan of this
    queue, ``planned`` people and the SL they achieve (``planned_service_level``) are joined on.
    """
    if queue not in plan.params:
        raise ServiceError(f"Queue {queue!r} is not in this plan.")
    channel = plan.params[queue].channel
    rows = plan.intervals[plan.intervals["queue"] == queue].drop(columns=["queue"]).reset_index(drop=True)
    if shift_plan is not None and len(shift_plan.intervals) and shift_plan.intervals["queue"].iloc[0] == queue:
        rows = rows.merge(shift_plan.intervals[["ds", "planned", "service_level"]].rename(
            columns={"service_level": "planned_service_level"}), on="ds", how="left")
    drop = [*(_VOICE_ONLY if channel != "voice" else ()), *(_EMAIL_ONLY if channel != "email" else ()),
            *(_NOT_CARE if channel == "care" else ())]
    return rows.drop(columns=[c for c in drop if c in rows])


def plan_info(volume: VolumeInput | None, scenario: Scenario | None, actor: Actor,
              shift_plan: ShiftPlanResult | None = None) -> dict[str, Any]:
    """Key facts printed on the workbook's Info sheet."""
    info: dict[str, Any] = {"created_by": actor.username, "created_at": datetime.now().strftime("%Y-%m-%d %H:%M")}
    care = volume is not None and (volume.channel == "care" or volume.source == "care")
    if volume is not None:
        info.update(source=volume.source, source_detail=volume.detail)
        if not care:  # care units have one value per day: "1440 minutes" says nothing
            info["interval_minutes"] = volume.interval_seconds / 60
    info["what_if"] = (scenario or Scenario()).describe(care=care)
    if shift_plan is not None:
        info.update(shift_plan_status=shift_plan.status, paid_hours=round(shift_plan.paid_hours, 2),
                    uncovered_agent_intervals=round(shift_plan.under_agent_intervals, 2))
    return info


def export_plan(app: AppContext, actor: Actor, plan: StaffingPlan, *, fmt: str,
                shift_plan: ShiftPlanResult | None = None, info: Mapping[str, Any] | None = None,
                name: str = "staffing_plan") -> ExportFile:
    """Excel workbook or CSV of the plan; keeps a timestamped copy under ``outputs_dir`` and audits the export."""
    require_role(actor, "planner", "admin")
    _check_format(fmt)
    return _write_export(app, actor, plan, fmt=fmt, shift_plan=shift_plan, info=info, name=name)


def _check_format(fmt: str) -> None:
    if fmt not in ("xlsx", "csv"):
        raise ServiceError("Export format must be xlsx or csv.")


def _write_export(app: AppContext, actor: Actor, plan: StaffingPlan, *, fmt: str,
                  shift_plan: ShiftPlanResult | None, info: Mapping[str, Any] | None, name: str,
                  audit_extra: Mapping[str, Any] | None = None) -> ExportFile:
    """Bytes (workbook or CSV) → timestamped copy in ``outputs_dir`` → audit event; the copy is removed when the
    audit event cannot be written."""
    if fmt == "xlsx":
        data = staffing_workbook(plan, shift_plan=shift_plan, info=info)
        mime = XLSX_MIME
    else:
        data = export.to_csv_bytes(_plan_rows(plan, shift_plan))
        mime = "text/csv"
    file_name = f"{name}.{fmt}"
    path = export.save_output(file_name, data, app.settings.outputs_dir)
    try:
        with db.write_tx(app.engine) as conn:
            store.write_audit(conn, actor=actor.username, role=actor.role, action="staffing.export",
                              object_type="staffing_plan", object_id=path.name,
                              detail={"format": fmt, "bytes": len(data), "queues": list(plan.params),
                                      "intervals": len(plan.intervals), "shift_plan": shift_plan is not None,
                                      **(audit_extra or {})})
    except Exception:
        path.unlink(missing_ok=True)  # no unaudited copies
        raise
    log.info("staffing export %s by %s", path.name, actor.username)
    return ExportFile(data=data, file_name=file_name, mime=mime, saved_path=path)
