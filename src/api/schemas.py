"""Response and request models of the REST API (they are the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal["workload", "unit_shifts", "staff", "assignments", "overtime"]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class DatasetOut(BaseModel):
    kind: str
    dataset: str
    rows: int
    series: int | None = None
    first: datetime | None = None
    last: datetime | None = None
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


class ErrorOut(BaseModel):
    detail: str
