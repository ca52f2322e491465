"""What every upload endpoint shares: reading options from form fields, the report document, the refusal."""

from __future__ import annotations

from fastapi import HTTPException, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from src.api.schemas import ReportOut
from src.data.loader import ParseOptions


def report_out(report) -> ReportOut:  # noqa: ANN001
    return ReportOut(ok=report.ok, kind=report.kind, file=report.file, rows=report.rows_read, encoding=report.encoding,
                     separator=report.separator, sheet=report.sheet, summary=report.summary(),
                     issues=[{k: getattr(i, k, None) for k in ("severity", "message", "file", "sheet", "row",
                                                                "column", "value", "code")} for i in report.issues])


QUEUES_IN_COLUMNS = "workload only: the file has one volume column per queue (rows = intervals)"


def parse_options(encoding: str, separator: str, decimal: str, date_order: str, sheet: str | None,
             queues_in_columns: bool = False) -> ParseOptions:
    try:
        return ParseOptions(encoding=encoding, separator={"tab": "\t"}.get(separator, separator), decimal=decimal,
                            date_order=date_order, sheet=sheet or None, queues_in_columns=queues_in_columns)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def rejected(body: BaseModel) -> JSONResponse:
    """A refused upload is a client error: 422 with the full document (report, message), so a client that checks
    only the status code cannot take "nothing stored" for success."""
    return JSONResponse(body.model_dump(mode="json"), status_code=422)


def upload_name(file: UploadFile) -> str:
    name = (file.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return name[:200] or "upload"
