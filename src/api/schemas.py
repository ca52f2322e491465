"""Response and request models of the REST API (they are the OpenAPI document)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, Field


def _timezone() -> ZoneInfo:
    try:
        from src.services.context import get_app

        return ZoneInfo(get_app().settings.timezone)
    except Exception:  # noqa: BLE001 - no configured app (e.g. building the OpenAPI document): UTC
        return ZoneInfo("UTC")


def _as_local(value: datetime) -> datetime:
    return value.replace(tzinfo=_timezone()) if value.tzinfo is None else value


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


#: dates a request may carry (pandas timestamps end in 2262; nothing here plans centuries ahead or back)
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2199, 12, 31)


def _date_in_range(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueError(f"must lie between {MIN_DATE} and {MAX_DATE}")
    return value


#: a date/time of a request, limited to MIN_DATE..MAX_DATE
ApiDate = Annotated[date, AfterValidator(_date_in_range)]
ApiDateTime = Annotated[datetime, AfterValidator(_date_in_range)]
#: a wall-clock time of the business (interval starts, due times, shift times): the store keeps them naive in
#: ``settings.timezone``; the JSON carries that zone's offset (RFC 3339, e.g. ``2026-11-02T08:00:00+01:00``)
LocalDateTime = Annotated[datetime, AfterValidator(_as_local)]
#: a record-keeping time (created/closed at): stored naive in UTC, sent with ``+00:00``
UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]

#: the upload kinds of :data:`src.data.kinds.KINDS` (a test keeps the two equal)
Kind = Literal["workload", "unit_shifts", "staff", "assignments", "overtime", "roster"]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class DatasetOut(BaseModel):
    kind: str
    dataset: str
    rows: int
    series: int | None = None
    first: LocalDateTime | None = None
    last: LocalDateTime | None = None
    batches: int


class StatusOut(BaseModel):
    database: str
    schema_version: int
    data_loaded: bool
    datasets: list[DatasetOut]
    models_active: int
    versions: dict[str, str]


class IssueOut(BaseModel):
    severity: Literal["error", "warning", "info"]
    message: str
    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    code: str | None = None


class ReportOut(BaseModel):
    ok: bool
    kind: str
    file: str
    rows: int
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    summary: str
    issues: list[IssueOut] = Field(default_factory=list)


class IngestOut(BaseModel):
    stored: bool
    message: str
    batch_id: int | None = None
    rows: int = 0
    replaced_rows: int = 0
    report: ReportOut


class BatchOut(BaseModel):
    """One upload batch of the upload history: which file was stored when, by whom, and how many rows."""

    id: int = Field(description="batch id (the one to pass to DELETE /api/v1/data/batches/{batch_id})")
    kind: str = Field(description="dataset kind, e.g. `workload` (a string, not an enum, like DatasetOut.kind: a "
                                  "kind added later must not make the history unreadable)")
    file_name: str
    sha256: str = Field(description="SHA-256 of the uploaded file (of the rows for demo data): an identical "
                                    "re-upload is recognised by it")
    rows: int = Field(description="rows stored by the upload (some may since have been replaced by later uploads)")
    replaced_rows: int = Field(description="stored rows this upload replaced (policy `replace`)")
    policy: str = Field(description="overlap policy of the upload: `reject` or `replace`")
    uploaded_by: str
    uploaded_at: UtcDateTime
    range_start: LocalDateTime | None = Field(default=None, description="first date/time in the upload, if any")
    range_end: LocalDateTime | None = Field(default=None, description="last date/time in the upload, if any")


class DeletedBatchOut(BaseModel):
    """What deleting a batch removed, so a client can log and check it without another request."""

    batch_id: int
    kind: str
    file_name: str
    uploaded_by: str
    uploaded_at: UtcDateTime
    rows_deleted: dict[str, int] = Field(
        description="rows removed per table: the batch's data rows (table named after the kind) and the batch "
                    "row itself (`upload_batches`)")
    message: str


class ErrorOut(BaseModel):
    """A refusal with a message for people: bad token, wrong role, a service's "cannot do that" (422)."""

    detail: str


class FieldErrorOut(BaseModel):
    loc: list[str | int] = Field(description="where: body/query/path, then the field path")
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """Request validation failed: one entry per field."""

    detail: list[FieldErrorOut]


#: documented on every operation (FastAPI's own 422 schema would not cover the service messages)
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "missing or invalid API token"},
    403: {"model": ErrorOut, "description": "the token's role may not do this"},
    413: {"model": ErrorOut, "description": "request body too large"},
    422: {"model": ValidationErrorOut | ErrorOut,
          "description": "invalid request (field paths), a body that cannot be read (malformed JSON or multipart; "
                         "message) or refused by the service (message)"},
    429: {"model": ErrorOut, "description": "too many failed authentications"},
    500: {"model": ErrorOut, "description": "internal error (details only in the server log)"},
    503: {"model": ErrorOut, "description": "every upload worker of the server is busy: nothing was read; retry after "
                                            "the `Retry-After` header's seconds"},
}


# --------------------------------------------------------------------------------------- JSON helpers
# Frames from the services carry numpy scalars, NaN/NaT and pandas timestamps; JSON needs plain values and
# ``null`` for "not known" (the JSON encoder refuses NaN). Every capability router converts through these.

def clean(value: object) -> object:
    """numpy/pandas scalar → plain Python; NaN, ±inf, NaT, pd.NA → None; Timestamp → datetime."""
    import math

    import numpy as np
    import pandas as pd

    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.datetime64):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else ts.to_pydatetime()
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def records(frame: object, columns: list[str] | None = None) -> list[dict[str, object]]:
    """A DataFrame as a list of JSON-ready dicts (optionally only ``columns`` that exist)."""
    import pandas as pd

    if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
        return []
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    return [{str(k): clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def local_naive(value: datetime | None, timezone: str) -> datetime | None:
    """A request time as naive local wall-clock time (the store's convention); aware times are converted."""
    if value is None or value.tzinfo is None:
        return value
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
