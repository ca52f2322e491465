"""Reading stored forecasts: the runs of a series, one run with what the page draws, the "current" run Staffing plans
with (newest run of the active model version) and the REST form of a run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from src.data import forecast_store as fstore
from src.data.forecast_store import LEVELS
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import HIGH_UNCERTAINTY, HIGH_UNCERTAINTY_LEVEL, _jsonable, _registry
from .catalogue import resolve_series

log = logging.getLogger(__name__)


@dataclass
class RunView:
    """One stored forecast with what the Forecast page draws."""

    run: dict[str, Any]
    forecast: pd.DataFrame  # ds, yhat, bounds, is_open, high_uncertainty
    components: pd.DataFrame | None
    backtest: pd.DataFrame
    history: pd.DataFrame  # ds, y (recent history before the forecast, and actuals inside it if any)
    active: bool


def runs_for_series(app: AppContext, actor: Actor, series_id: str | None = None, limit: int = 200
                    ) -> list[dict[str, Any]]:
    """Stored runs (newest first) with decoded metrics."""
    require_role(actor, "planner", "admin")
    return fstore.list_runs(app.engine, series_id=series_id, limit=limit)


def _flag_uncertainty(fc: pd.DataFrame) -> pd.DataFrame:
    """``high_uncertainty``: open intervals whose :data:`HIGH_UNCERTAINTY_LEVEL` band (else the narrowest stored)
    is wider than :data:`HIGH_UNCERTAINTY` × the forecast."""
    levels = sorted(int(c.rsplit("_", 1)[1]) for c in fc.columns if c.startswith("yhat_upper_"))
    level = HIGH_UNCERTAINTY_LEVEL if HIGH_UNCERTAINTY_LEVEL in levels else levels[0]
    width = fc[f"yhat_upper_{level}"] - fc[f"yhat_lower_{level}"]
    fc["high_uncertainty"] = fc["is_open"] & (fc["yhat"] > 0) & (width > HIGH_UNCERTAINTY * fc["yhat"])
    return fc


def load_run(app: AppContext, actor: Actor, run_id: int, history_days: int | None = None) -> RunView:
    """A stored forecast with its backtest table, components and the history around it."""
    require_role(actor, "planner", "admin")
    run = fstore.get_run(app.engine, run_id)
    if run is None:
        raise ServiceError(f"Forecast run {run_id} does not exist.")
    rows = fstore.load_rows(app.engine, int(run_id))
    fc = _flag_uncertainty(rows.drop(columns=["run_id", "series_id", "model_version_id"]))
    comps = None
    if fc[list(fstore.COMPONENTS)].notna().any().any():
        comps = fc[["ds", *fstore.COMPONENTS]].copy()
    fc = fc.drop(columns=list(fstore.COMPONENTS))
    backtest = pd.DataFrame(run.get("backtest") or [])
    info = resolve_series(app, run["series_id"])
    history = pd.DataFrame(columns=["ds", "y"])
    if info is not None:
        days = history_days or (21 if run["freq"] != "1D" else 180)
        start = pd.Timestamp(run["history_end"]) - pd.Timedelta(days=days)
        history = fstore.load_series_history(app.engine, info, start=start.to_pydatetime(),
                                             end=pd.Timestamp(run["forecast_end"]).to_pydatetime())
    active = False
    try:
        act = _registry(app).active(run["series_id"])
        active = act is not None and act.version_id == run["model_version_id"]
    except Exception:  # noqa: BLE001 - an unreadable registry must not hide a stored forecast
        log.warning("registry unreadable for %s", run["series_id"])
    return RunView(run=run, forecast=fc, components=comps, backtest=backtest, history=history, active=active)


def current_run(app: AppContext, series_id: str) -> dict[str, Any] | None:
    """The run Staffing uses: newest run of the active version, else the newest run."""
    try:
        act = _registry(app).active(series_id)
    except Exception:  # noqa: BLE001
        act = None
    if act is not None:
        run = fstore.latest_run_for_version(app.engine, act.version_id)
        if run is not None:
            return run
    runs = fstore.list_runs(app.engine, series_id=series_id, limit=1)
    return runs[0] if runs else None


def latest_forecast(app: AppContext, actor: Actor, series_id: str) -> pd.DataFrame | None:
    """The current stored forecast of a series as ``queue, ds, yhat, yhat_upper_80, yhat_upper_95`` (or None).

    ``series_id`` may be a catalogue id (``workload:calls@CC-Berlin``) or an unambiguous queue name
    (``calls``). Closed intervals are 0. This is the adapter the Staffing page plans from.
    """
    require_role(actor, "planner", "admin")
    info = resolve_series(app, series_id)
    sid = info.series_id if info else series_id
    run = current_run(app, sid)
    if run is None:
        return None
    rows = fstore.load_rows(app.engine, int(run["id"]))
    if rows.empty:
        return None
    queue = info.queue if info else sid
    out = pd.DataFrame({"queue": queue, "ds": rows["ds"], "yhat": rows["yhat"],
                        "yhat_upper_80": rows["yhat_upper_80"].fillna(rows["yhat"]),
                        "yhat_upper_95": rows["yhat_upper_95"].fillna(rows["yhat"])})
    return out.reset_index(drop=True)


def get_forecast(app: AppContext, actor: Actor, run_id: int) -> dict[str, Any]:
    """A stored forecast as a JSON-able dict: ``run`` (metadata, metrics, coverage, reason, active) and ``rows``."""
    try:
        rid = int(run_id)
    except (TypeError, ValueError):
        raise ServiceError(f"Run id must be a whole number, got {run_id!r}.") from None
    view = load_run(app, actor, rid)
    keep = ("id", "series_id", "series_kind", "label", "model", "model_version_id", "freq", "horizon", "history_start",
            "history_end", "forecast_start", "forecast_end", "reason", "metrics", "coverage", "params", "created_by",
            "created_at")
    run = {k: view.run.get(k) for k in keep} | {"active": view.active}
    cols = ["ds", "yhat", *[f"yhat_{s}_{lv}" for lv in LEVELS for s in ("lower", "upper")], "is_open",
            "high_uncertainty"]
    rows = view.forecast[cols].astype({"is_open": bool, "high_uncertainty": bool}).to_dict("records")
    return _jsonable({"run": run, "rows": rows})
