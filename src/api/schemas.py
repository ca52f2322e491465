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
