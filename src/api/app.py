"""The FastAPI application: foundation endpoints plus one router per capability (``src/api/routes_*.py``).

No logic of its own: every endpoint authenticates, then calls the same service function the dashboard uses,
which re-checks the role and writes the audit log with the token's owner as actor.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from src.api import routes_assignments, routes_forecast, routes_jobs, routes_overtime, routes_staffing
from src.api.schemas import (
    ERROR_RESPONSES,
    BatchOut,
    DatasetOut,
    DeletedBatchOut,
    ErrorOut,
    Health,
    IngestOut,
    Kind,
    ReportOut,
    StatusOut,
    ValidationErrorOut,
    records,
)
from src.api.security import BodySizeLimit, app_ctx, current_actor
from src.api.uploads import QUEUES_IN_COLUMNS, rejected
from src.api.uploads import parse_options as _options
from src.api.uploads import report_out as _report
from src.api.uploads import upload_name as _name
from src.data import db
from src.services import data as data_service
from src.services.context import Actor, AppContext, PermissionDenied, ServiceError

log = logging.getLogger(__name__)

#: capability routers, each a module with ``router: APIRouter`` — imported explicitly, so a renamed or broken module
#: fails loudly instead of silently dropping its endpoints
ROUTER_MODULES = (routes_forecast, routes_staffing, routes_assignments, routes_overtime, routes_jobs)

MAX_BODY_BYTES = 60 * 1024 * 1024
UNREADABLE_BODY = ("The request body could not be read: send well-formed multipart/form-data, or JSON in UTF-8 "
                   "(with Content-Type: application/json).")


def create_app() -> FastAPI:
    api = FastAPI(title="Workforce Planner API", version="1.0.0",
                  description="Push history, pull forecasts and staffing plans, manage assignments and overtime. "
                              "Authenticate with `Authorization: Bearer <token>` (tokens: Users page, admin).",
                  responses=ERROR_RESPONSES)
    api.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)

    @api.exception_handler(PermissionDenied)
    async def _forbidden(_req: Request, exc: PermissionDenied) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @api.exception_handler(data_service.UploadBusy)
    async def _busy(_req: Request, exc: data_service.UploadBusy) -> JSONResponse:
        # every upload worker of this server is reading another file; nothing was read or stored
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after_s)})

    @api.exception_handler(ServiceError)
    async def _bad_request(_req: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @api.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI answers 400 "There was an error parsing the body" for a body it cannot read (broken multipart,
        # JSON that is not UTF-8), while a JSON syntax error is a 422: one documented code for both
        if exc.status_code == 400:
            log.info("unreadable request body on %s %s", req.method, req.url.path)
            return JSONResponse({"detail": UNREADABLE_BODY}, status_code=422)
        return await http_exception_handler(req, exc)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @api.exception_handler(Exception)
    async def _internal(_req: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled API error: %s", type(exc).__name__)
        return JSONResponse({"detail": "Internal error; the administrator can find details in the server log."},
                            status_code=500)

    @api.get("/health", response_model=Health, tags=["status"])
    def health() -> Health:
        return Health()

    @api.get("/status", response_model=StatusOut, tags=["status"])
    def status(actor: Annotated[Actor, Depends(current_actor)],
               ctx: Annotated[AppContext, Depends(app_ctx)]) -> StatusOut:
        summary = data_service.data_summary(ctx, actor)
        datasets = [DatasetOut(**{k: (None if _isna(v) else v) for k, v in row.items()})
                    for row in summary.to_dict("records")]
        versions = {}
        for pkg in ("streamlit", "pandas", "prophet", "lightgbm", "scikit-learn", "fastapi", "sqlalchemy"):
            try:
                versions[pkg] = version(pkg)
            except PackageNotFoundError:
                versions[pkg] = "missing"
        return StatusOut(database=ctx.engine.dialect.name, schema_version=db.SCHEMA_VERSION,
                         data_loaded=any(d.rows for d in datasets), datasets=datasets,
                         models_active=_active_models(ctx), versions=versions)

    @api.get("/api/v1/data/summary", response_model=list[DatasetOut], tags=["data"])
    def data_summary(actor: Annotated[Actor, Depends(current_actor)],
                     ctx: Annotated[AppContext, Depends(app_ctx)]) -> list[DatasetOut]:
        return status(actor, ctx).datasets

    @api.post("/api/v1/data/validate", response_model=ReportOut, tags=["data"])
    def validate(actor: Annotated[Actor, Depends(current_actor)], ctx: Annotated[AppContext, Depends(app_ctx)],
                 file: Annotated[UploadFile, File(description="CSV or XLSX file")],
                 kind: Annotated[Kind, Form()],
                 encoding: Annotated[Literal["auto", "utf-8", "utf-16", "cp1252"], Form()] = "auto",
                 separator: Annotated[Literal["auto", ",", ";", "tab"], Form()] = "auto",
                 decimal: Annotated[Literal["auto", ".", ","], Form()] = "auto",
                 date_order: Annotated[Literal["auto", "dmy", "mdy", "ymd"], Form()] = "auto",
                 sheet: Annotated[str | None, Form(max_length=31)] = None,
                 queues_in_columns: Annotated[bool, Form(description=QUEUES_IN_COLUMNS)] = False) -> ReportOut:
        content = file.file.read()
        options = _options(encoding, separator, decimal, date_order, sheet, queues_in_columns)
        report = data_service.validate_upload(ctx, actor, kind=kind, filename=_name(file), content=content,
                                              options=options)
        return _report(report)

    @api.post("/api/v1/data/ingest", response_model=IngestOut, tags=["data"],
              responses={403: {"model": ErrorOut, "description": "admin only"},
                         422: {"model": IngestOut | ValidationErrorOut | ErrorOut,
                               "description": "upload rejected, nothing stored: the same document as a 200 with "
                                              "`stored: false` and the validation report (errors by row and "
                                              "column, an identical file already stored, an overlap with policy "
                                              "`reject`); or invalid parameters (field paths)"}})
    def ingest(actor: Annotated[Actor, Depends(current_actor)], ctx: Annotated[AppContext, Depends(app_ctx)],
               file: Annotated[UploadFile, File(description="CSV or XLSX file")],
               kind: Annotated[Kind, Form()],
               policy: Annotated[Literal["reject", "replace"], Form()] = "reject",
               encoding: Annotated[Literal["auto", "utf-8", "utf-16", "cp1252"], Form()] = "auto",
               separator: Annotated[Literal["auto", ",", ";", "tab"], Form()] = "auto",
               decimal: Annotated[Literal["auto", ".", ","], Form()] = "auto",
               date_order: Annotated[Literal["auto", "dmy", "mdy", "ymd"], Form()] = "auto",
               sheet: Annotated[str | None, Form(max_length=31)] = None,
               queues_in_columns: Annotated[bool, Form(description=QUEUES_IN_COLUMNS)] = False) -> IngestOut:
        content = file.file.read()
        options = _options(encoding, separator, decimal, date_order, sheet, queues_in_columns)
        outcome = data_service.ingest_upload(ctx, actor, kind=kind, filename=_name(file), content=content,
                                             options=options,
                                             policy=policy)
        res = outcome.result
        out = IngestOut(stored=outcome.stored, message=outcome.message, batch_id=res.batch_id if res else None,
                        rows=res.rows if res else 0, replaced_rows=res.replaced_rows if res else 0,
                        report=_report(outcome.report))
        return out if out.stored else rejected(out)

    @api.get("/api/v1/data/batches", response_model=list[BatchOut], tags=["data"])
    def list_batches(actor: Annotated[Actor, Depends(current_actor)], ctx: Annotated[AppContext, Depends(app_ctx)],
                     limit: Annotated[int, Query(ge=1, le=1000, description="newest first")] = 200,
                     ) -> list[BatchOut]:
        """The upload history, newest first: which file was stored as which batch, when and by whom — to check
        that a push arrived, or to pick a batch to delete. Any role (planners see the last uploads on Home too)."""
        # who may read it is the service's decision (upload_history: planner or admin), not this layer's
        history = data_service.upload_history(ctx, actor, limit=limit)
        return [BatchOut.model_validate(row) for row in records(history, list(BatchOut.model_fields))]

    @api.delete("/api/v1/data/batches/{batch_id}", response_model=DeletedBatchOut, tags=["data"],
                responses={403: {"model": ErrorOut, "description": "admin only"},
                           404: {"model": ErrorOut, "description": "no upload batch with this id"},
                           422: {"model": ValidationErrorOut | ErrorOut,
                                 "description": "invalid id (field path), or other records depend on the batch: "
                                                "nothing deleted, the message names them"}})
    def delete_batch(actor: Annotated[Actor, Depends(current_actor)], ctx: Annotated[AppContext, Depends(app_ctx)],
                     batch_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> DeletedBatchOut:
        """Delete one upload batch and every row it stored (admin), as on the Data page. Refused, with nothing
        deleted, while other records depend on the batch. Every attempt is audited with the token's owner. Rows
        the batch replaced when it was stored are not restored."""
        # the id's upper bound is the 32-bit integer key: PostgreSQL refuses a larger value with a DataError
        # (a 500), SQLite would just find nothing; the service checks the role and writes the audit events
        try:
            deleted = data_service.delete_batch(ctx, actor, batch_id)
        except data_service.UnknownBatch as exc:
            raise HTTPException(404, str(exc)) from None
        rows = {db.KIND_TABLES[deleted.kind].name: deleted.rows_deleted, db.upload_batches.name: 1}
        return DeletedBatchOut(batch_id=deleted.batch_id, kind=deleted.kind, file_name=deleted.file_name,
                               uploaded_by=deleted.uploaded_by, uploaded_at=deleted.uploaded_at, rows_deleted=rows,
                               message=f"Deleted batch {deleted.batch_id} ({deleted.file_name}): "
                                       f"{deleted.rows_deleted:,} row(s) removed.")

    for module in ROUTER_MODULES:
        api.include_router(module.router)
    return api


def _isna(v: object) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _active_models(ctx: AppContext) -> int:
    try:
        from src.models.registry import ModelRegistry

        reg = ModelRegistry(ctx.settings.models_dir)
        return sum(1 for v in reg.list_versions() if getattr(v, "active", False))
    except Exception:  # noqa: BLE001 - status must never fail because of the registry
        return 0
