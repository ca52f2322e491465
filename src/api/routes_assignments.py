"""Assignment endpoints: push open tasks (admin), preview who should do them (all three methods compared, the
chosen one stored as a draft), read a preview, finalize it. Every step is a :mod:`src.services.people` call."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile
from pydantic import BaseModel, Field, StringConstraints, model_validator

from src.api.schemas import (
    ApiDate,
    ErrorOut,
    LocalDateTime,
    ReportOut,
    UtcDateTime,
    ValidationErrorOut,
    clean,
    records,
)
from src.api.security import app_ctx, current_actor
from src.api.uploads import parse_options as _options
from src.api.uploads import rejected
from src.api.uploads import report_out as _report
from src.api.uploads import upload_name as _name
from src.services import people
from src.services.context import Actor, AppContext

router = APIRouter(tags=["assignments"])

TaskId = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                          pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")]
PreviewId = Annotated[int, Path(ge=1, le=2**31 - 1)]


# ------------------------------------------------------------------------------------------------ schemas

class PreviewIn(BaseModel):
    """Which open tasks (due in [start, end], or the listed ids) and how to assign them."""

    start: ApiDate | None = Field(default=None, description="first due day (default: no lower bound)")
    end: ApiDate | None = Field(default=None, description="last due day (default: no upper bound)")
    task_ids: list[TaskId] | None = Field(default=None, min_length=1, max_length=5000)
    method: Literal["greedy", "balanced", "optimal"] = "optimal"
    use_hours: bool = Field(default=True, description="respect contract hours (pro rata for the period)")
    max_tasks_per_person: int = Field(default=0, ge=0, le=1000, description="0 = no count limit")
    site_required: bool = Field(default=True, description="only staff of the task's site")
    balance_weight: float = Field(default=0.5, ge=0, le=10)
    fairness_weight: float = Field(default=0.0, ge=0, le=10)
    time_limit_s: float = Field(default=20.0, ge=1, le=120, description="solver time limit (optimal)")

    @model_validator(mode="after")
    def _order(self) -> PreviewIn:
        if self.start and self.end and self.end < self.start:
            raise ValueError("end is before start")
        return self


class TaskFields(BaseModel):
    """A task as the preview knows it (shared by the preview rows and a task's candidate list)."""

    task_id: str
    task_type: str | None = None
    site: str | None = None
    priority: int | None = None
    due: LocalDateTime | None = None
    required_skill: str | None = None
    hours: float | None = None


class AssignmentRowOut(TaskFields):
    status: str | None = None
    staff_id: str = Field(description="empty = nobody could take the task")
    name: str = ""
    score: float | None = None
    scorer: str | None = None
    decision: str | None = None
    reason: str | None = None
    rule_score: float | None = None
    model_score: float | None = None
    overridden: bool = False
    override_reason: str | None = None


class UtilisationOut(BaseModel):
    staff_id: str
    name: str | None = None
    site: str | None = None
    tasks: int = 0
    assigned_hours: float | None = None
    capacity_hours: float | None = None
    utilisation: float | None = None


class PreviewOut(BaseModel):
    preview_id: int
    status: Literal["draft", "finalized", "discarded"]
    method: str
    created_by: str
    created_at: UtcDateTime | None = None
    scored_as_of: LocalDateTime | None = None
    closed_by: str | None = None
    closed_at: UtcDateTime | None = None
    n_tasks: int = 0
    assigned: int = 0
    unassigned: int = 0
    model_status: str | None = None
    result: dict[str, Any] = Field(default_factory=dict, description="solver summary of the chosen method")
    comparison: list[dict[str, Any]] = Field(default_factory=list, description="all three methods side by side")
    assignments: list[AssignmentRowOut]
    utilisation: list[UtilisationOut] = Field(default_factory=list)


class FinalizeOut(BaseModel):
    preview_id: int
    assigned: int
    unassigned: int
    message: str


class RuleFactorOut(BaseModel):
    factor: str
    value: float | None = None
    weight: float | None = None
    contribution: float | None = Field(default=None, description="weight × value; the rule score is their sum")


class ModelFeatureOut(BaseModel):
    feature: str
    value: float | str | None = None
    contribution: float | None = Field(default=None, description="LightGBM pred_contrib (log-odds)")


class TaskCandidateOut(BaseModel):
    staff_id: str
    name: str | None = None
    rank: int = Field(description="1 = best score for this task")
    score: float | None = Field(default=None, description="the score the assignment used (model or rules)")
    scorer: str = Field(description="model or rules")
    reason: str = Field(description="why that scorer: model, low_confidence, shadow_mode, model_missing, …")
    rule_score: float | None = None
    model_score: float | None = None
    model_rank: int | None = None
    tasks_in_preview: int = Field(description="tasks this person has in the preview besides this one")
    free_hours: float | None = Field(default=None, description="hours still free in the window after them")
    can_take: bool = Field(description="within the preview's hour and task limits")
    chosen: bool = Field(description="the preview gives the task to this person")
    rules: list[RuleFactorOut] = Field(default_factory=list)
    model: list[ModelFeatureOut] = Field(default_factory=list)


class TaskExcludedOut(BaseModel):
    staff_id: str
    name: str | None = None
    reason: str


class TaskCandidatesOut(TaskFields):
    preview_id: int
    staff_id: str = Field(description="who the preview gives the task to (empty = nobody)")
    decision: str | None = None
    candidates: list[TaskCandidateOut]
    excluded: list[TaskExcludedOut]


class TasksImportOut(BaseModel):
    stored: bool
    rows: int = 0
    message: str
    report: ReportOut


# ------------------------------------------------------------------------------------------------ helpers

def _preview_out(view: people.PreviewView) -> PreviewOut:
    p = view.preview
    summary = p.get("summary") or {}
    rows = records(view.rows, list(AssignmentRowOut.model_fields))
    for r in rows:
        r["staff_id"] = r.get("staff_id") or ""
        r["name"] = r.get("name") or ""
        r["overridden"] = bool(r.get("overridden"))
    assigned = sum(1 for r in rows if r["staff_id"])
    return PreviewOut(
        preview_id=int(p["id"]), status=p["status"], method=p["method"], created_by=p["created_by"],
        created_at=clean(p.get("created_at")), scored_as_of=clean(p.get("scored_as_of")), closed_by=p.get("closed_by"),
        closed_at=clean(p.get("closed_at")), n_tasks=len(rows), assigned=assigned, unassigned=len(rows) - assigned,
        model_status=summary.get("model_status"), result=clean(summary.get("result") or {}),  # type: ignore[arg-type]
        comparison=records(view.comparison),
        assignments=[AssignmentRowOut(**r) for r in rows],
        utilisation=[UtilisationOut(**r) for r in records(view.utilisation, list(UtilisationOut.model_fields))])


# ------------------------------------------------------------------------------------------------ endpoints

@router.post("/api/v1/assignments/tasks", response_model=TasksImportOut,
             responses={403: {"model": ErrorOut, "description": "admin only"},
                        422: {"model": TasksImportOut | ValidationErrorOut | ErrorOut,
                              "description": "file rejected, nothing stored: the document with `stored: false` and "
                                             "the validation report; or invalid parameters (field paths)"}})
def import_tasks(actor: Annotated[Actor, Depends(current_actor)], app: Annotated[AppContext, Depends(app_ctx)],
                 file: Annotated[UploadFile, File(description="CSV or XLSX: task_id, task_type, site, priority, "
                                                              "due, required_skill, hours")],
                 encoding: Annotated[Literal["auto", "utf-8", "utf-16", "cp1252"], Form()] = "auto",
                 separator: Annotated[Literal["auto", ",", ";", "tab"], Form()] = "auto",
                 decimal: Annotated[Literal["auto", ".", ","], Form()] = "auto",
                 date_order: Annotated[Literal["auto", "dmy", "mdy", "ymd"], Form()] = "auto") -> TasksImportOut:
    """Store open tasks from a file — every row, or none when the report has an error (admin)."""
    report, stored = people.import_tasks(app, actor, filename=_name(file), content=file.file.read(),
                                         options=_options(encoding, separator, decimal, date_order, None))
    if stored is None:
        return rejected(TasksImportOut(stored=False, message="Nothing was stored: " + report.summary(),  # type: ignore[return-value]
                                       report=_report(report)))
    return TasksImportOut(stored=True, rows=stored.rows, message=stored.message, report=_report(report))


@router.post("/api/v1/assignments/preview", response_model=PreviewOut, status_code=201)
def create_preview(body: PreviewIn, actor: Annotated[Actor, Depends(current_actor)],
                   app: Annotated[AppContext, Depends(app_ctx)]) -> PreviewOut:
    """Score the open tasks, run greedy / balanced / optimal for comparison and store the chosen method's result
    as a draft preview (audited). Nothing is assigned until it is finalized."""
    options = people.PreviewOptions(method=body.method, use_hours=body.use_hours,
                                    max_tasks_per_person=body.max_tasks_per_person,
                                    site_required=body.site_required, balance_weight=body.balance_weight,
                                    fairness_weight=body.fairness_weight, time_limit_s=body.time_limit_s)
    view = people.create_preview(app, actor, start=body.start, end=body.end, task_ids=body.task_ids,
                                 options=options)
    return _preview_out(view)


@router.get("/api/v1/assignments/preview/{preview_id}", response_model=PreviewOut)
def get_preview(preview_id: PreviewId, actor: Annotated[Actor, Depends(current_actor)],
                app: Annotated[AppContext, Depends(app_ctx)]) -> PreviewOut:
    """A stored preview (draft, finalized or discarded) with its rows."""
    return _preview_out(people.preview_view(app, actor, preview_id))


@router.get("/api/v1/assignments/preview/{preview_id}/tasks/{task_id}/candidates",
            response_model=TaskCandidatesOut)
def task_candidates(preview_id: PreviewId, task_id: Annotated[str, Path(min_length=1, max_length=64,
                                                                       pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$")],
                    actor: Annotated[Actor, Depends(current_actor)],
                    app: Annotated[AppContext, Depends(app_ctx)]) -> TaskCandidatesOut:
    """Every candidate for one task of a preview with its score and why: rank, the score used (model or rules)
    and the reason, rule factors (weight × value) and model contributions, whether the person can still take it
    within the preview's limits; and the staff excluded, with the reason. As the Assignment page's panel; scored
    as of the preview's time. 422 when the preview or the task (in it) does not exist."""
    doc = people.task_candidates(app, actor, preview_id, [task_id])[0]
    return TaskCandidatesOut(preview_id=preview_id, **doc)


@router.post("/api/v1/assignments/finalize/{preview_id}", response_model=FinalizeOut)
def finalize(preview_id: PreviewId, actor: Annotated[Actor, Depends(current_actor)],
             app: Annotated[AppContext, Depends(app_ctx)]) -> FinalizeOut:
    """Write every assigned row of a draft preview as an assignment and mark the tasks assigned — one
    transaction, all or nothing (audited)."""
    out = people.finalize_preview(app, actor, preview_id)
    return FinalizeOut(preview_id=out.preview_id, assigned=out.assigned, unassigned=out.unassigned,
                       message=out.message)
