"""Staffing endpoint: required staff for one interval (Erlang calculator) or for a whole volume table — given
inline, or taken from stored history, a stored forecast or the care-home unit shifts — optionally returned as the
same Excel workbook / CSV the Staffing page downloads. Every step is a :mod:`src.services.staffing` call."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints, model_validator

from src.api.schemas import ApiDate, ApiDateTime, LocalDateTime, clean, local_naive, records
from src.api.security import app_ctx, current_actor
from src.services import staffing as st
from src.services.context import Actor, AppContext, ServiceError

router = APIRouter(tags=["staffing"])

_PRINTABLE = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
QueueName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_PRINTABLE)]
MAX_VOLUME_ROWS = 50_000
Fraction = Annotated[float, Field(ge=0, le=1)]


# ------------------------------------------------------------------------------------------------ request

class IntervalIn(BaseModel):
    """One interval for the Erlang calculator (Erlang C; Erlang A when `patience_s` is given)."""

    calls: float = Field(ge=0, le=1_000_000, description="contacts offered in the interval")
    aht_seconds: float = Field(ge=1, le=86_400)
    interval_seconds: float = Field(default=1800, ge=60, le=86_400)
    sl_target: float | None = Field(default=0.8, gt=0, lt=1, description="share answered within answer_within_s")
    answer_within_s: float = Field(default=20.0, gt=0, le=3600)
    asa_target_s: float | None = Field(default=None, gt=0, le=3600, description="average speed of answer target")
    shrinkage: float = Field(default=0.0, ge=0, le=0.9)
    max_occupancy: float = Field(default=1.0, gt=0, le=1)
    patience_s: float | None = Field(default=None, gt=0, le=86_400, description="mean patience → Erlang A")
    sl_basis: Literal["offered", "answered"] = "offered"

    @model_validator(mode="after")
    def _target(self) -> IntervalIn:
        if self.sl_target is None and self.asa_target_s is None:
            raise ValueError("give sl_target or asa_target_s")
        return self


class VolumeRow(BaseModel):
    queue: QueueName
    ds: ApiDateTime = Field(description="interval start (naive = local time), or the day for care homes")
    yhat: float = Field(ge=0, le=10_000_000, description="contacts (or shifts for care) in the interval")
    aht_seconds: float | None = Field(default=None, ge=1, le=86_400)
    yhat_upper_80: float | None = Field(default=None, ge=0, le=10_000_000)
    yhat_upper_95: float | None = Field(default=None, ge=0, le=10_000_000)


class HistoryIn(BaseModel):
    """Volume from stored workload history, mapped onto ``days`` days from ``start``."""

    queues: list[QueueName] = Field(min_length=1, max_length=50)
    start: ApiDate
    days: int = Field(default=7, ge=1, le=st.MAX_HORIZON_DAYS)
    method: Literal["last_4_weeks", "last_week", "same_week_last_year"] = "last_4_weeks"


class ForecastIn(BaseModel):
    """Volume for one planning period from the stored forecasts that cover it: ``days`` days (default 7) from
    ``start`` (default: the upcoming week of the latest forecast). A series whose forecast is for another period is
    left out and named in the plan's notes; forecasts of different periods are never added into one plan."""

    series: list[QueueName] = Field(min_length=1, max_length=50,
                                    description="e.g. `workload:calls@CC-Berlin` or `care:Haus Lindenhof/Linde`")
    start: ApiDate | None = None
    days: int | None = Field(default=None, ge=1, le=st.MAX_HORIZON_DAYS)


class CareIn(BaseModel):
    """Staff per care-home unit and day from the stored unit shifts."""

    sites: list[QueueName] | None = Field(default=None, max_length=50, description="default: every care home")
    start: ApiDate
    days: int = Field(default=7, ge=1, le=st.MAX_HORIZON_DAYS)
    method: Literal["last_4_weeks", "last_week", "same_week_last_year"] = "last_4_weeks"


class ParamsIn(BaseModel):
    """Overrides of one queue's planning parameters; anything left out keeps the Staffing page's default."""

    queue: QueueName
    channel: Literal["voice", "email", "outbound", "care"] | None = None
    aht_seconds: float | None = Field(default=None, ge=1, le=86_400)
    sl_target: float | None = Field(default=None, gt=0, lt=1)
    answer_within_s: float | None = Field(default=None, gt=0, le=3600)
    asa_target_s: float | None = Field(default=None, gt=0, le=3600)
    patience_s: float | None = Field(default=None, gt=0, le=86_400)
    shrinkage: float | None = Field(default=None, ge=0, le=0.9)
    max_occupancy: float | None = Field(default=None, gt=0, le=1)
    response_hours: float | None = Field(default=None, gt=0, le=24 * 14)
    care_ratio: float | None = Field(default=None, gt=0, le=10)


class ScenarioIn(BaseModel):
    volume_pct: float = Field(default=0.0, ge=-90, le=300)
    aht_pct: float = Field(default=0.0, ge=-90, le=300)
    sl_target: float | None = Field(default=None, gt=0, lt=1)
    shrinkage: float | None = Field(default=None, ge=0, le=0.9)


class StaffingIn(BaseModel):
    """Give exactly one of `interval`, `volume`, `history`, `forecast` or `care`."""

    interval: IntervalIn | None = None
    volume: list[VolumeRow] | None = Field(default=None, min_length=1, max_length=MAX_VOLUME_ROWS,
                                           description="a volume table: one row per queue and interval")
    history: HistoryIn | None = None
    forecast: ForecastIn | None = None
    care: CareIn | None = None
    interval_seconds: int | None = Field(default=None, ge=60, le=86_400,
                                         description="interval length of a `volume` table (default: inferred)")
    params: list[ParamsIn] = Field(default_factory=list, max_length=200)
    basis: Literal["point", "upper_80", "upper_95"] = "point"
    scenario: ScenarioIn = Field(default_factory=ScenarioIn)
    use_interval_aht: bool = Field(default=True, description="use per-interval AHT from the volume where given")
    include_intervals: bool = Field(default=True, description="false: daily and summary rows only")

    @model_validator(mode="after")
    def _one_source(self) -> StaffingIn:
        given = [k for k in ("interval", "volume", "history", "forecast", "care") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of interval, volume, history, forecast or care "
                             f"(got {', '.join(given) or 'none'})")
        return self


# ------------------------------------------------------------------------------------------------ response

class CalculatorRowOut(BaseModel):
    agents: int
    service_level: float | None = None
    asa_seconds: float | None = None
    occupancy: float | None = None
    p_wait: float | None = None
    p_abandon: float | None = None
    meets_target: bool


class CalculatorOut(BaseModel):
    model: Literal["Erlang C", "Erlang A"]
    requirement: dict[str, float | int | None] = Field(
        description="traffic, agents_raw, agents (after shrinkage), agents_fractional, service_level, asa_seconds, "
                    "occupancy, p_wait (+ p_abandon for Erlang A)")
    nearby: list[CalculatorRowOut] = Field(description="performance of agent counts around the requirement")


class QueueParamsOut(BaseModel):
    queue: str
    channel: str
    aht_seconds: float | None = None
    sl_target: float | None = None
    answer_within_s: float | None = None
    asa_target_s: float | None = None
    patience_s: float | None = None
    shrinkage: float | None = None
    max_occupancy: float | None = None
    response_hours: float | None = None
    care_ratio: float | None = None


class SummaryRowOut(BaseModel):
    queue: str
    channel: str
    intervals: int
    volume: float | None = None
    agent_hours: float | None = None
    peak_agents: int | None = None
    service_level: float | None = None
    p_abandon: float | None = None
    intervals_below_target: float | None = None


class DailyRowOut(BaseModel):
    queue: str
    date: LocalDateTime
    volume: float | None = None
    agents_total: int | None = None
    agent_hours: float | None = None
    productive_hours: float | None = None
    peak_agents: int | None = None
    service_level: float | None = None
    asa_seconds: float | None = None
    p_abandon: float | None = None
    occupancy: float | None = None


class IntervalRowOut(BaseModel):
    queue: str
    ds: LocalDateTime
    volume: float | None = None
    aht_seconds: float | None = None
    traffic: float | None = None
    agents_raw: int | None = None
    agents: int | None = Field(default=None, description="scheduled agents (after shrinkage)")
    agents_fractional: float | None = None
    service_level: float | None = None
    asa_seconds: float | None = None
    occupancy: float | None = None
    p_wait: float | None = None
    p_abandon: float | None = None
    backlog_hours: float | None = None


class PlanOut(BaseModel):
    source: str
    detail: str
    notes: list[str] = Field(default_factory=list)
    interval_seconds: int
    basis: str
    scenario: str
    params: list[QueueParamsOut]
    totals: dict[str, float | None]
    summary: list[SummaryRowOut]
    daily: list[DailyRowOut]
    intervals: list[IntervalRowOut] = Field(default_factory=list)


class StaffingOut(BaseModel):
    mode: Literal["interval", "table"]
    calculator: CalculatorOut | None = None
    plan: PlanOut | None = None


# ------------------------------------------------------------------------------------------------ helpers

_PCT = {"sl_target": "sl_target_pct", "shrinkage": "shrinkage_pct", "max_occupancy": "max_occupancy_pct"}


def _volume(app: AppContext, actor: Actor, body: StaffingIn) -> st.VolumeInput:
    if body.history is not None:
        h = body.history
        return st.history_volume(app, actor, queues=h.queues, start=h.start, days=h.days, method=h.method)
    if body.forecast is not None:
        f = body.forecast
        return st.forecast_volume(app, actor, series=f.series, start=f.start, days=f.days)
    if body.care is not None:
        c = body.care
        return st.care_volume(app, actor, sites=c.sites, start=c.start, days=c.days, method=c.method)
    assert body.volume is not None
    tz = app.settings.timezone
    frame = pd.DataFrame([{**r.model_dump(), "ds": local_naive(r.ds, tz)} for r in body.volume])
    frame["ds"] = pd.to_datetime(frame["ds"])
    for col in ("aht_seconds", "yhat_upper_80", "yhat_upper_95"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
        if frame[col].isna().all():
            frame = frame.drop(columns=col)
    n = len(frame)
    return st.VolumeInput(frame=frame, source="upload", detail=f"REST API table ({n:,} row{'s' if n != 1 else ''})",
                          interval_seconds=body.interval_seconds or st.infer_interval_seconds(frame["ds"]))


def _params(volume: st.VolumeInput, overrides: list[ParamsIn]) -> dict[str, Any]:
    """The page's defaults for every queue of the volume, with the given fields replaced."""
    table = st.params_table(st.default_params_for(volume))
    known = list(table["queue"])
    for o in overrides:
        if o.queue not in known:
            raise ServiceError(f"params: queue {o.queue!r} is not in the volume (queues: {', '.join(known)}).")
        i = known.index(o.queue)
        for field, value in o.model_dump(exclude={"queue"}, exclude_none=True).items():
            col = _PCT.get(field, field)
            table.loc[i, col] = value * 100 if field in _PCT else value
    return st.params_from_table(table, interval_seconds=volume.interval_seconds)


def _params_out(params: dict[str, Any]) -> list[QueueParamsOut]:
    return [QueueParamsOut(queue=q, **{k: clean(getattr(p, k)) for k in QueueParamsOut.model_fields if k != "queue"})
            for q, p in params.items()]


def _calculator(app: AppContext, actor: Actor, iv: IntervalIn) -> CalculatorOut:
    res = st.erlang_calculator(app, actor, calls=iv.calls, aht_seconds=iv.aht_seconds,
                               interval_seconds=iv.interval_seconds, sl_target=iv.sl_target,
                               answer_within_s=iv.answer_within_s, asa_target_s=iv.asa_target_s,
                               shrinkage=iv.shrinkage, max_occupancy=iv.max_occupancy, patience_s=iv.patience_s,
                               sl_basis=iv.sl_basis)
    return CalculatorOut(model=res.model,  # type: ignore[arg-type]
                         requirement={k: clean(v) for k, v in res.row.items()},  # type: ignore[misc]
                         nearby=[CalculatorRowOut(**r) for r in records(res.table)])


def _finite(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


XLSX_CONTENT = {"schema": {"type": "string", "format": "binary"}}


# ------------------------------------------------------------------------------------------------ endpoint

@router.post("/api/v1/staffing", response_model=StaffingOut,
             responses={200: {"content": {st.XLSX_MIME: XLSX_CONTENT, "text/csv": XLSX_CONTENT},
                              "description": "JSON, or with `format=xlsx|csv` the plan as a file"}})
def staffing(body: StaffingIn, actor: Annotated[Actor, Depends(current_actor)],
             app: Annotated[AppContext, Depends(app_ctx)],
             format: Annotated[Literal["json", "xlsx", "csv"], Query(  # noqa: A002 - the public parameter name
                 description="xlsx/csv: the Staffing page's workbook or interval table (audited, a copy is kept)")]
             = "json") -> Any:
    """Required staff: one interval (Erlang C / Erlang A) or a whole plan per interval, day and queue."""
    if body.interval is not None:
        if format != "json":
            raise ServiceError("Excel and CSV are available for a volume table, not for a single interval.")
        return StaffingOut(mode="interval", calculator=_calculator(app, actor, body.interval))
    volume = _volume(app, actor, body)
    params = _params(volume, body.params)
    s = body.scenario
    scenario = st.Scenario(volume_pct=s.volume_pct, aht_pct=s.aht_pct, sl_target=s.sl_target, shrinkage=s.shrinkage)
    plan = st.build_plan(app, actor, volume, params, basis=body.basis, scenario=scenario,
                         use_interval_aht=body.use_interval_aht)
    if format != "json":
        file = st.export_plan(app, actor, plan, fmt=format, info=st.plan_info(volume, scenario, actor))
        return Response(content=file.data, media_type=file.mime,
                        headers={"Content-Disposition": f'attachment; filename="{file.file_name}"'})
    return StaffingOut(mode="table", plan=PlanOut(
        source=volume.source, detail=volume.detail, notes=[*volume.notes, *plan.notes],
        interval_seconds=int(volume.interval_seconds), basis=plan.volume_basis, scenario=scenario.describe(),
        params=_params_out(dict(plan.params)), totals={k: _finite(v) for k, v in st.plan_totals(plan).items()},
        summary=[SummaryRowOut(**r) for r in records(plan.summary, list(SummaryRowOut.model_fields))],
        daily=[DailyRowOut(**r) for r in records(plan.daily, list(DailyRowOut.model_fields))],
        intervals=[IntervalRowOut(**r) for r in records(plan.intervals, list(IntervalRowOut.model_fields))]
        if body.include_intervals else []))
