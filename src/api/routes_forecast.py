"""Forecast endpoints: train + store a forecast for series, read a stored forecast, list/activate model versions."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from src.api.schemas import LocalDateTime, UtcDateTime
from src.api.security import app_ctx, current_actor
from src.services import forecasting as fc_service
from src.services.context import Actor, AppContext

router = APIRouter(tags=["forecast"])

ModelName = Literal["auto", "profile", "seasonal_naive", "prophet", "lightgbm", "lightgbm_recursive", "ensemble",
                    "prophet_default"]


class ForecastRequest(BaseModel):
    series: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=fc_service.MAX_SERIES_PER_RUN,
        description="series ids (e.g. `workload:calls@CC-Berlin`, `care:Haus Lindenhof/Station A`) or unambiguous "
                    "queue names")
    horizon_days: int = Field(ge=1, le=fc_service.MAX_HORIZON_DAYS)
    model: ModelName = "auto"
    folds: int = Field(default=3, ge=1, le=5)


class ForecastPoint(BaseModel):
    ds: LocalDateTime
    yhat: float
    yhat_lower_80: float | None = None
    yhat_upper_80: float | None = None
    yhat_lower_95: float | None = None
    yhat_upper_95: float | None = None


class ForecastRun(BaseModel):
    run_id: int
    series_id: str
    model: str
    model_version_id: str | None = None
    reason: str | None = None
    created_by: str | None = None
    created_at: UtcDateTime | None = None
    coverage: dict[str, float | None] = Field(default_factory=dict)
    forecast: list[ForecastPoint] = Field(default_factory=list)


class ForecastResponse(BaseModel):
    message: str
    seconds: float
    runs: list[ForecastRun]


class ModelVersionOut(BaseModel):
    version: str
    series_id: str
    model: str
    active: bool
    created_at: UtcDateTime | None = None
    created_by: str | None = None
    mase: float | None = None
    wape: float | None = None
    coverage_80: float | None = None
    coverage_95: float | None = None


class MessageOut(BaseModel):
    message: str


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _run_out(app: AppContext, actor: Actor, run_id: int) -> ForecastRun:
    view = fc_service.load_run(app, actor, run_id)
    run = view.run
    points = [ForecastPoint(ds=r["ds"], yhat=_num(r["yhat"]) or 0.0,
                            **{k: _num(r.get(k)) for k in ("yhat_lower_80", "yhat_upper_80", "yhat_lower_95",
                                                           "yhat_upper_95")})
              for r in view.forecast.to_dict("records")]
    coverage = {str(k): _num(v) for k, v in (run.get("coverage") or {}).items()}
    return ForecastRun(run_id=int(run["id"]), series_id=run["series_id"], model=str(run.get("model")),
                       model_version_id=run.get("model_version_id"), reason=run.get("reason"),
                       created_by=run.get("created_by"), created_at=run.get("created_at"), coverage=coverage,
                       forecast=points)


@router.post("/api/v1/forecast", response_model=ForecastResponse)
def create_forecast(body: ForecastRequest, actor: Annotated[Actor, Depends(current_actor)],
                    app: Annotated[AppContext, Depends(app_ctx)]) -> ForecastResponse:
    """Train the chosen model (or pick one with `auto`) for each series, store the forecast, return it."""
    ids = []
    for name in body.series:
        info = fc_service.resolve_series(app, name)
        ids.append(info.series_id if info else name)
    outcome = fc_service.train_forecasts(app, actor, ids, horizon_days=body.horizon_days, model=body.model,
                                         folds=body.folds)
    return ForecastResponse(message=outcome.message, seconds=outcome.seconds,
                            runs=[_run_out(app, actor, r.run_id) for r in outcome.runs])


@router.get("/api/v1/forecast/{run_id}", response_model=ForecastRun)
def get_forecast(run_id: Annotated[int, Path(ge=1, le=2**31 - 1)], actor: Annotated[Actor, Depends(current_actor)],
                 app: Annotated[AppContext, Depends(app_ctx)]) -> ForecastRun:
    return _run_out(app, actor, run_id)


@router.get("/api/v1/models", response_model=list[ModelVersionOut], tags=["models"])
def list_models(actor: Annotated[Actor, Depends(current_actor)],
                app: Annotated[AppContext, Depends(app_ctx)]) -> list[ModelVersionOut]:
    df = fc_service.list_versions(app, actor)
    out = []
    for r in df.to_dict("records"):
        out.append(ModelVersionOut(version=r["version"], series_id=r["series_id"], model=str(r["model"]),
                                   active=bool(r["active"]), created_at=r["created_at"], created_by=r["created_by"],
                                   mase=_num(r["mase"]), wape=_num(r["wape"]), coverage_80=_num(r["coverage_80"]),
                                   coverage_95=_num(r["coverage_95"])))
    return out


@router.post("/api/v1/models/{version_id}/activate", response_model=MessageOut, tags=["models"],
             responses={403: {"description": "admin only"}})
def activate_model(version_id: Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:@-]+$")],
                   actor: Annotated[Actor, Depends(current_actor)],
                   app: Annotated[AppContext, Depends(app_ctx)]) -> MessageOut:
    return MessageOut(message=fc_service.activate_version(app, actor, version_id))
