"""Background job endpoints: submit long work (202 + job id), follow it, cancel it.

Same service as the app and the CLI (:mod:`src.services.jobs`): roles, parameter checks and the audit log live
there. A client polls ``GET /api/v1/jobs/{id}`` until ``final`` is true; ``result`` then says what was stored (for
``forecast.train``: ``run_ids``, readable with ``GET /api/v1/forecast/{run_id}``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field

from src.api.schemas import ErrorOut, UtcDateTime, ValidationErrorOut
from src.api.security import app_ctx, current_actor
from src.services import jobs as jobs_service
from src.services.context import Actor, AppContext

router = APIRouter(tags=["jobs"])

Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]
KindName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+$",
                                description="job kind, e.g. `forecast.train`")]
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOT_FOUND = {404: {"model": ErrorOut, "description": "no job with this id"}}


class JobIn(BaseModel):
    kind: KindName
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="the kind's parameters. `forecast.train`: `series_ids` (list of series ids or unambiguous queue "
                    "names, required), `horizon_days` (1-60, required), `model` (default `auto`), `folds` (1-5, "
                    "default 3), `history_end` (YYYY-MM-DD), `activate` (admin only), `seed`")
    timeout_seconds: int | None = Field(default=None, ge=1, le=jobs_service.MAX_TIMEOUT_SECONDS,
                                        description="time limit (default: the kind's, 3600 s for forecast.train)")


class JobAccepted(BaseModel):
    job_id: int
    status: Status
    url: str = Field(description="where to follow the job")


class JobOut(BaseModel):
    id: int
    kind: str
    label: str
    status: Status
    progress: float = Field(ge=0, le=1, description="fraction done, 0-1")
    progress_text: str
    requested_by: str
    created_at: UtcDateTime
    started_at: UtcDateTime | None = None
    finished_at: UtcDateTime | None = None
    params: dict[str, Any]
    result: dict[str, Any] | None = None
    error: str | None = None
    attempt: int
    max_attempts: int
    timeout_seconds: int
    cancelled_by: str | None = None
    final: bool = Field(description="the job will not change any more")
    can_cancel: bool = Field(description="this token may cancel the job now")


def _get(app: AppContext, actor: Actor, job_id: int) -> JobOut:
    try:
        return JobOut.model_validate(jobs_service.get(app, actor, job_id))
    except jobs_service.UnknownJob as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/api/v1/jobs", response_model=JobAccepted, status_code=202)
def submit_job(body: JobIn, response: Response, actor: Annotated[Actor, Depends(current_actor)],
               app: Annotated[AppContext, Depends(app_ctx)]) -> JobAccepted:
    """Start a background job; answers at once with its id (202). The work runs on the compute cluster."""
    job_id = jobs_service.submit(app, actor, body.kind, body.params, timeout_seconds=body.timeout_seconds)
    url = f"/api/v1/jobs/{job_id}"
    response.headers["Location"] = url
    return JobAccepted(job_id=job_id, status=_get(app, actor, job_id).status, url=url)


@router.get("/api/v1/jobs", response_model=list[JobOut])
def list_jobs(actor: Annotated[Actor, Depends(current_actor)], app: Annotated[AppContext, Depends(app_ctx)],
              status: Status | None = None,
              kind: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9_.]+$")] = None,
              limit: Annotated[int, Query(ge=1, le=jobs_service.MAX_LIST)] = 100) -> list[JobOut]:
    """Jobs, newest first, optionally of one status and/or kind."""
    return [JobOut.model_validate(j) for j in jobs_service.list_jobs(app, actor, status=status, kind=kind,
                                                                     limit=limit)]


@router.get("/api/v1/jobs/{job_id}", response_model=JobOut, responses=NOT_FOUND)
def get_job(job_id: JobId, actor: Annotated[Actor, Depends(current_actor)],
            app: Annotated[AppContext, Depends(app_ctx)]) -> JobOut:
    return _get(app, actor, job_id)


@router.post("/api/v1/jobs/{job_id}/cancel", response_model=JobOut,
             responses={**NOT_FOUND, 403: {"model": ErrorOut, "description": "only the requester or an admin"},
                        422: {"model": ValidationErrorOut | ErrorOut,
                              "description": "invalid id (field path), or the job has already finished"}})
def cancel_job(job_id: JobId, actor: Annotated[Actor, Depends(current_actor)],
               app: Annotated[AppContext, Depends(app_ctx)]) -> JobOut:
    """Cancel a queued or running job (its requester or an admin). A running job stops at its next progress report
    and stores nothing."""
    try:
        return JobOut.model_validate(jobs_service.cancel(app, actor, job_id))
    except jobs_service.UnknownJob as exc:
        raise HTTPException(404, str(exc)) from None
