"""Use cases around forecasting: train from stored history, keep model versions, serve stored forecasts,
track their accuracy once actuals arrive.

The flow the Forecast page (and later the REST API) shares: :func:`series_catalogue` (what can be
forecast) → :func:`train_forecasts` (planner/admin: engine backtest + model choice + refit, every model
saved through :class:`~src.models.registry.ModelRegistry`, forecasts stored with one audit event per run in
ONE transaction — all series or none) → :func:`load_run` / :func:`latest_forecast` (read) →
:func:`accuracy_report` (live accuracy vs. the backtest, drift and capacity alerts). Activating, rolling
back and deleting model versions is admin-only and audited.

Which forecast is "current" for a series (what Staffing plans with): the newest run of the series' *active*
model version; without an active version, the newest run. A new training becomes active when the series
has none yet, or when an admin asks for it; a planner's retraining is stored beside the active version until
an admin activates it (the Forecast accuracy page shows both side by side).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from src.data import db, export, store
from src.data import forecast_store as fstore
from src.data.forecast_store import LEVELS, SeriesInfo
from src.services.context import Actor, AppContext, ServiceError, require_role

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]

#: what the model picker offers (auto first); prophet_default is Prophet() untouched, the benchmark reference
MODEL_CHOICES: tuple[str, ...] = ("auto", "profile", "seasonal_naive", "prophet", "lightgbm", "lightgbm_recursive",
                                  "ensemble", "prophet_default")
MODEL_LABELS: dict[str, str] = {
    "auto": "Auto (best in backtest)",
    "profile": "Weekday × time-of-day profile",
    "seasonal_naive": "Seasonal naive (same slot last week)",
    "prophet": "Prophet (weekday-specific days, holidays)",
    "lightgbm": "LightGBM (calendar + lags)",
    "lightgbm_recursive": "LightGBM recursive",
    "ensemble": "Ensemble (profile + Prophet + LightGBM)",
    "prophet_default": "Prophet, default settings",
}
MAX_HORIZON_DAYS = 60
MAX_SERIES_PER_RUN = 20
MAX_FOLDS = 5
#: live error this many times the backtest error → "retrain recommended"
DRIFT_FACTOR = 1.5
#: an interval counts as highly uncertain when the 95% band is wider than this share of the forecast
HIGH_UNCERTAINTY = 0.5


def _registry(app: AppContext):
    from src.models.registry import ModelRegistry

    return ModelRegistry(app.settings.models_dir, code_version=_code_version())


def _code_version() -> str:
    try:
        from importlib.metadata import version

        return version("workforce-planner")
    except Exception:  # noqa: BLE001 - not installed as a package: use the source tree's revision
        from pathlib import Path

        head = Path(__file__).resolve().parents[2] / ".git" / "HEAD"
        try:
            ref = head.read_text().strip()
            if ref.startswith("ref: "):
                ref = (head.parent / ref[5:]).read_text().strip()
            return ref[:12]
        except OSError:
            return "dev"


# ------------------------------------------------------------------------------------------ catalogue

def series_catalogue(app: AppContext, actor: Actor, kind: str | None = None) -> list[SeriesInfo]:
    """Forecastable series in the stored history (``kind``: workload | unit_shifts | None for both)."""
    require_role(actor, "planner", "admin")
    out = fstore.series_catalogue(app.engine)
    return [s for s in out if kind is None or s.kind == kind]


def get_series(app: AppContext, series_id: str) -> SeriesInfo:
    for s in fstore.series_catalogue(app.engine):
        if s.series_id == series_id:
            return s
    raise ServiceError(f"No stored history for series {series_id!r}. Upload workload or unit-shift data first.")


def resolve_series(app: AppContext, name: str) -> SeriesInfo | None:
    """A series by id, or by its queue/plan name when that is unambiguous (``calls`` → ``workload:calls@…``)."""
    cat = fstore.series_catalogue(app.engine)
    for s in cat:
        if s.series_id == name:
            return s
    hits = [s for s in cat if s.queue == name or s.label == name]
    return hits[0] if len(hits) == 1 else None


# ------------------------------------------------------------------------------------------- training

@dataclass
class TrainedSeries:
    series_id: str
    run_id: int
    version_id: str
    model: str
    reason: str
    activated: bool


@dataclass
class TrainOutcome:
    runs: list[TrainedSeries]
    seconds: float
    message: str
    notes: list[str] = field(default_factory=list)

    @property
    def run_ids(self) -> list[int]:
        return [r.run_id for r in self.runs]


def _steps_per_day(ds: pd.Series) -> tuple[int, str]:
    from src.models.forecasting.frequency import Calendar, infer_step

    try:
        cal = Calendar(infer_step(ds))
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    return cal.day_steps, cal.label


def _to_datetime(value: date | datetime | pd.Timestamp | None) -> datetime | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        ts = ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)  # the whole day is history
    return ts.to_pydatetime()


def train_forecasts(app: AppContext, actor: Actor, series_ids: list[str] | tuple[str, ...], *, horizon_days: int,
                    model: str = "auto", folds: int = 3, history_end: date | datetime | None = None,
                    activate: bool | None = None, seed: int = 0,
                    on_progress: ProgressCallback | None = None) -> TrainOutcome:
    """Train, save and store forecasts for ``series_ids`` — all of them or none.

    ``horizon_days`` is converted to steps of each series' own interval. ``history_end`` trains on history up
    to that day only (a back-dated forecast whose accuracy can be checked at once against later actuals).
    ``activate=True`` (admin only) makes the new versions active; None activates only where a series has no
    active version. Raises :class:`ServiceError` with a user-facing message for any bad input or a series
    that cannot be forecast (too short history names the minimum needed).
    """
    require_role(actor, "planner", "admin")
    from src.models.forecasting import ForecastConfig, run_forecast
    from src.models.registry import RegistryError, data_fingerprint

    ids = list(dict.fromkeys(series_ids))
    if not ids:
        raise ServiceError("Choose at least one series to forecast.")
    if len(ids) > MAX_SERIES_PER_RUN:
        raise ServiceError(f"Choose at most {MAX_SERIES_PER_RUN} series per training run (got {len(ids)}).")
    if model not in MODEL_CHOICES:
        raise ServiceError(f"Unknown model {model!r}; choose one of: {', '.join(MODEL_CHOICES)}.")
    try:
        horizon_days = int(horizon_days)
        folds = int(folds)
    except (TypeError, ValueError):
        raise ServiceError("Horizon and folds must be whole numbers.") from None
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise ServiceError(f"The horizon must be between 1 and {MAX_HORIZON_DAYS} days (got {horizon_days}).")
    if not 1 <= folds <= MAX_FOLDS:
        raise ServiceError(f"Backtest folds must be between 1 and {MAX_FOLDS} (got {folds}).")
    if activate and not actor.is_admin:
        raise ServiceError("Only an administrator can make a new model version active.")
    end = _to_datetime(history_end)

    catalogue = {s.series_id: s for s in fstore.series_catalogue(app.engine)}
    unknown = [sid for sid in ids if sid not in catalogue]
    if unknown:
        raise ServiceError(f"No stored history for: {', '.join(unknown)}.")
    t0 = time.perf_counter()
    jobs = []
    for sid in ids:
        info = catalogue[sid]
        hist = fstore.load_series_history(app.engine, info, end=end)
        if len(hist) < 2:
            raise ServiceError(f"{info.label}: no stored history" + (f" up to {end:%Y-%m-%d}" if end else "") + ".")
        per_day, freq = _steps_per_day(hist["ds"])
        jobs.append((info, hist, per_day, freq))

    results = []
    total = len(jobs)
    for i, (info, hist, per_day, freq) in enumerate(jobs):
        config = ForecastConfig(horizon=horizon_days * per_day, levels=LEVELS, model=model, folds=folds, seed=seed,
                                n_jobs=1)

        def prog(frac: float, text: str, i: int = i, label: str = info.label) -> None:
            if on_progress:
                on_progress(min(0.95, (i + frac) / total * 0.95), f"{label}: {text.split(': ', 1)[-1]}")

        frame = hist.assign(series_id=info.series_id)[["series_id", "ds", "y"]]
        try:
            result = run_forecast(frame, config, on_progress=prog)
        except ValueError as exc:
            raise ServiceError(f"{info.label}: {exc}") from None
        results.append((info, frame, freq, config, result))

    if on_progress:
        on_progress(0.96, "Saving models and forecasts")
    registry = _registry(app)
    saved: list[Any] = []
    trained: list[TrainedSeries] = []
    try:
        rows_to_store = []
        for info, frame, freq, config, result in results:
            sid = info.series_id
            chosen = result.chosen[sid]
            bt = result.backtest[result.backtest["series_id"] == sid]
            metrics_row = bt[bt["model"] == chosen].iloc[0].to_dict()
            metrics = {k: metrics_row.get(k) for k in ("mae", "rmse", "mape", "smape", "wape", "mase", "folds",
                                                        "horizon", "n", "coverage_80", "coverage_95", "width_80",
                                                        "width_95", "seconds")}
            had_active = registry.active(sid) is not None
            version = registry.save(result.fitted[sid], series_id=sid, created_by=actor.username, metrics=metrics,
                                    data_fingerprint=data_fingerprint(frame),
                                    activate=True if activate else None)
            saved.append(version)
            fc = result.forecast[result.forecast["series_id"] == sid]
            comps = None
            if result.components is not None:
                comps = result.components[result.components["series_id"] == sid]
            run = {
                "series_id": sid, "series_kind": info.kind, "label": info.label, "model": chosen,
                "model_version_id": version.version_id, "freq": freq, "horizon": int(config.horizon),
                "history_start": frame["ds"].min().to_pydatetime(), "history_end": frame["ds"].max().to_pydatetime(),
                "forecast_start": fc["ds"].min().to_pydatetime(), "forecast_end": fc["ds"].max().to_pydatetime(),
                "params_json": {"model": model, "horizon_days": horizon_days, "horizon_steps": int(config.horizon),
                                "folds": folds, "levels": list(LEVELS), "seed": seed,
                                "holidays": config.country_holidays,
                                "history_end": end.isoformat() if end else None},
                "metrics_json": metrics,
                "backtest_json": bt.drop(columns=["series_id"]).to_dict("records"),
                "coverage_json": {str(k): v for k, v in result.coverage.get(sid, {}).items()},
                "diagnostics_json": (result.diagnostics[result.diagnostics["series_id"] == sid].iloc[0].to_dict()
                                     if len(result.diagnostics) else {}),
                "reason": result.reasons[sid], "seconds": float(result.seconds),
                "created_by": actor.username, "created_at": db.utcnow(),
            }
            rows_to_store.append((run, fc, comps, version, had_active))
        with db.write_tx(app.engine) as conn:
            for run, fc, comps, version, had_active in rows_to_store:
                run_id = fstore.insert_run(conn, run=run, forecast=fc, components=comps)
                activated = bool(activate) or not had_active
                store.write_audit(conn, actor=actor.username, role=actor.role, action="forecast.train",
                                  object_type="forecast_run", object_id=run_id,
                                  detail={"series_id": run["series_id"], "model": run["model"],
                                          "requested_model": model, "version": version.version_id,
                                          "horizon_steps": run["horizon"], "rows": len(fc), "activated": activated,
                                          "history_end": run["history_end"], "mase": run["metrics_json"].get("mase")})
                trained.append(TrainedSeries(run["series_id"], run_id, version.version_id, run["model"],
                                             run["reason"], activated))
    except Exception:
        for version in saved:  # nothing partial: no model file without its stored forecast
            try:
                registry.delete(version.version_id, force=True)
            except RegistryError:
                log.warning("could not remove model version %s after a failed save", version.version_id)
        raise
    seconds = time.perf_counter() - t0
    if on_progress:
        on_progress(1.0, "Done")
    names = ", ".join(f"{catalogue[t.series_id].label} → {t.model}" for t in trained)
    log.info("trained %d forecasts in %.1f s by %s", len(trained), seconds, actor.username)
    return TrainOutcome(runs=trained, seconds=seconds,
                        message=f"Trained and stored {len(trained)} forecast(s) in {seconds:.1f} s: {names}.")


# ---------------------------------------------------------------------------------------------- reads

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
    width = fc["yhat_upper_95"] - fc["yhat_lower_95"]
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


def forecast_export_frame(view: RunView) -> pd.DataFrame:
    """The download table: series, ds, yhat and both intervals, model, version, high-uncertainty flag."""
    fc = view.forecast
    out = pd.DataFrame({"series": view.run["label"], "ds": fc["ds"], "yhat": fc["yhat"].round(3)})
    for lv in LEVELS:
        out[f"yhat_lower_{lv}"] = fc[f"yhat_lower_{lv}"].round(3)
        out[f"yhat_upper_{lv}"] = fc[f"yhat_upper_{lv}"].round(3)
    out["open"] = fc["is_open"].to_numpy()
    out["high_uncertainty"] = fc["high_uncertainty"].to_numpy()
    out["model"] = view.run["model"]
    out["model_version"] = view.run["model_version_id"]
    return out


def export_forecast(app: AppContext, actor: Actor, view: RunView, fmt: str) -> bytes:
    """CSV or XLSX bytes of a stored forecast (through the one export module: formula-safe)."""
    require_role(actor, "planner", "admin")
    table = forecast_export_frame(view)
    if fmt == "csv":
        return export.to_csv_bytes(table)
    if fmt != "xlsx":
        raise ServiceError(f"Unknown export format {fmt!r}; choose csv or xlsx.")
    bt = view.backtest.copy()
    run = view.run
    info = pd.DataFrame([
        ("Series", run["label"]), ("Model", run["model"]), ("Model version", run["model_version_id"]),
        ("Why this model", run["reason"]), ("Interval", run["freq"]),
        ("History", f"{pd.Timestamp(run['history_start']):%Y-%m-%d} → "
                    f"{pd.Timestamp(run['history_end']):%Y-%m-%d %H:%M}"),
        ("Trained by", run["created_by"]), ("Trained at (UTC)", f"{pd.Timestamp(run['created_at']):%Y-%m-%d %H:%M}"),
        *[(f"Measured coverage {lv}% interval", _pct(run["coverage"].get(str(lv)))) for lv in LEVELS],
    ], columns=["item", "value"])
    sheets = {"Forecast": table, "Backtest": bt, "About": info}
    charts = [export.ChartSpec(sheet="Forecast", x_column="ds", y_columns=("yhat", "yhat_upper_95"),
                               title=f"Forecast {run['label']}", y_title="volume")]
    return export.to_excel_bytes(sheets, title=f"Forecast {run['label']}", charts=charts)


def _pct(v: Any) -> str:
    return f"{float(v):.1f}%" if v is not None and math.isfinite(float(v)) else "n/a"


# ------------------------------------------------------------------------------------------- versions

def list_versions(app: AppContext, actor: Actor, series_id: str | None = None) -> pd.DataFrame:
    """Model versions with their backtest metrics, newest first."""
    require_role(actor, "planner", "admin")
    versions = _registry(app).list_versions(series_id)
    labels = {s.series_id: s.label for s in fstore.series_catalogue(app.engine)}
    rows = []
    for v in versions:
        m = v.metrics
        rows.append({"version": v.version_id, "series_id": v.series_id, "series": labels.get(v.series_id, v.series_id),
                     "model": v.model, "active": v.active, "created_at": pd.Timestamp(v.created_at).tz_localize(None)
                     if pd.Timestamp(v.created_at).tzinfo else pd.Timestamp(v.created_at),
                     "created_by": v.created_by, "mase": m.get("mase"), "wape": m.get("wape"), "mape": m.get("mape"),
                     "coverage_80": m.get("coverage_80"), "coverage_95": m.get("coverage_95"),
                     "code_version": v.code_version})
    cols = ["version", "series_id", "series", "model", "active", "created_at", "created_by", "mase", "wape", "mape",
            "coverage_80", "coverage_95", "code_version"]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("mase", "wape", "mape", "coverage_80", "coverage_95"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    return df.sort_values("created_at", ascending=False).reset_index(drop=True)


def _registry_action(app: AppContext, actor: Actor, action: str, object_id: str, fn: Callable[[], Any],
                     detail: dict[str, Any]) -> Any:
    from src.models.registry import RegistryError

    require_role(actor, "admin")
    with db.write_tx(app.engine) as conn:
        try:
            result = fn()
        except RegistryError as exc:
            raise ServiceError(str(exc)) from None
        store.write_audit(conn, actor=actor.username, role=actor.role, action=action, object_type="model_version",
                          object_id=object_id, detail=detail)
    return result


def activate_version(app: AppContext, actor: Actor, version_id: str) -> str:
    """Make a model version the active one of its series (admin). Returns a message."""
    require_role(actor, "admin")
    reg = _registry(app)
    try:
        before = reg.get(version_id)
        previous = reg.active(before.series_id)
    except Exception as exc:  # noqa: BLE001 - RegistryError and friends become a user message
        raise ServiceError(str(exc)) from None
    v = _registry_action(app, actor, "model.activate", version_id, lambda: reg.activate(version_id),
                         {"series_id": before.series_id, "previous": previous.version_id if previous else None})
    return f"{v.version_id} ({v.model}) is now the active model of {v.series_id}."


def rollback_version(app: AppContext, actor: Actor, series_id: str) -> str:
    """Re-activate the previously active version of a series (admin)."""
    require_role(actor, "admin")
    reg = _registry(app)
    try:
        current = reg.active(series_id)
    except Exception as exc:  # noqa: BLE001
        raise ServiceError(str(exc)) from None
    v = _registry_action(app, actor, "model.rollback", series_id, lambda: reg.rollback(series_id),
                         {"series_id": series_id, "from": current.version_id if current else None})
    return f"Rolled back {series_id} to {v.version_id} ({v.model})."


def delete_version(app: AppContext, actor: Actor, version_id: str) -> str:
    """Delete a model version's files (admin; not the active one). Its stored forecasts stay for tracking."""
    require_role(actor, "admin")
    reg = _registry(app)
    _registry_action(app, actor, "model.delete", version_id, lambda: reg.delete(version_id), {})
    return f"Deleted model version {version_id}; its stored forecasts remain for accuracy tracking."


# ------------------------------------------------------------------------------------------- accuracy

@dataclass
class AccuracyReport:
    """Live accuracy of stored forecasts against the actuals that arrived since."""

    per_series: pd.DataFrame  # one row per series: live vs backtest metrics, drift flag and message
    pairs: pd.DataFrame  # series_id, label, ds, yhat, bounds, y, outside_95
    heatmap: pd.DataFrame  # row, column, mape (site×unit for care, queue×weekday for contact centre)
    alerts: pd.DataFrame  # series, when, kind, message
    kind: str


def _live_metrics(pairs: pd.DataFrame) -> dict[str, float]:
    from src.models.forecasting import metrics as M

    y, f = pairs["y"].to_numpy(float), pairs["yhat"].to_numpy(float)
    out = {"n": int(np.isfinite(y).sum()), "mae": M.mae(y, f), "mape": M.mape(y, f), "wape": M.wape(y, f)}
    for lv in LEVELS:
        out[f"coverage_{lv}"] = M.coverage(y, pairs[f"yhat_lower_{lv}"].to_numpy(float),
                                           pairs[f"yhat_upper_{lv}"].to_numpy(float))
    return out


def _drift(live: dict[str, float], backtest: dict[str, Any]) -> tuple[bool, str]:
    bt_mae = backtest.get("mae")
    msgs = []
    drift = False
    if bt_mae is not None and np.isfinite(live["mae"]) and float(bt_mae) > 0 and \
            live["mae"] > DRIFT_FACTOR * float(bt_mae):
        drift = True
        msgs.append(f"accuracy much worse than in backtest (MAE {live['mae']:.2f} vs {float(bt_mae):.2f}) — "
                    "retrain recommended")
    cov95 = live.get("coverage_95")
    if cov95 is not None and np.isfinite(cov95) and live["n"] >= 10 and cov95 < 80:
        drift = True
        msgs.append(f"only {cov95:.0f}% of actuals inside the 95% interval — retrain recommended")
    return drift, "; ".join(msgs) or "in line with the backtest"


def _capacity(app: AppContext, info: SeriesInfo, history: pd.DataFrame) -> tuple[float | None, str]:
    """Known capacity of a series: staff contract hours for a care site total, else the highest volume handled."""
    if info.kind == "unit_shifts" and not info.unit:
        staff = store.load_frame(app.engine, "staff", where={"site": info.site})
        if len(staff):
            per_day = float(staff["contract_hours"].sum()) / 8.0 / 7.0
            return per_day, f"{len(staff)} staff × contract hours ≈ {per_day:.0f} shifts/day"
    if len(history):
        peak = float(history["y"].max())
        return peak, f"highest volume handled so far ({peak:.0f})"
    return None, ""


def accuracy_report(app: AppContext, actor: Actor, kind: str = "workload") -> AccuracyReport:
    """Predicted vs actual for every series of ``kind`` with stored forecasts, plus drift and capacity alerts.

    Per series the newest run whose forecast period already has actuals is scored (or the newest run if none
    has). Alerts: high-uncertainty days of current forecasts, actuals outside the 95% interval, and forecast
    demand above the known capacity.
    """
    require_role(actor, "planner", "admin")
    if kind not in fstore.SERIES_KINDS:
        raise ServiceError(f"Unknown series kind {kind!r}.")
    catalogue = {s.series_id: s for s in fstore.series_catalogue(app.engine) if s.kind == kind}
    runs = [r for r in fstore.list_runs(app.engine, series_ids=list(catalogue), limit=5000)]
    per_series, pair_frames, alerts = [], [], []
    by_series: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by_series.setdefault(r["series_id"], []).append(r)
    for sid, sruns in sorted(by_series.items()):
        info = catalogue[sid]
        last_actual = pd.Timestamp(info.last) if info.last is not None else None
        scored = next((r for r in sruns
                       if last_actual is not None and pd.Timestamp(r["forecast_start"]) <= last_actual), None)
        current = current_run(app, sid) or sruns[0]
        hist_start = pd.Timestamp(min(pd.Timestamp(r["forecast_start"]) for r in sruns)) - pd.Timedelta(days=120)
        history = fstore.load_series_history(app.engine, info, start=hist_start.to_pydatetime())
        row: dict[str, Any] = {"series_id": sid, "series": info.label, "model": current["model"],
                               "version": current["model_version_id"], "trained": current["created_at"],
                               "backtest_mae": current["metrics"].get("mae"),
                               "backtest_mape": current["metrics"].get("mape"),
                               "backtest_coverage_80": current["metrics"].get("coverage_80"),
                               "backtest_coverage_95": current["metrics"].get("coverage_95")}
        if scored is not None:
            rows = fstore.load_rows(app.engine, int(scored["id"]))
            merged = rows.merge(history.rename(columns={"y": "y"}), on="ds", how="inner")
            merged = merged[merged["is_open"] | (merged["y"] > 0)]
            if len(merged):
                live = _live_metrics(merged)
                drift, msg = _drift(live, scored["metrics"])
                row.update({"scored_run": int(scored["id"]), "scored_model": scored["model"], "live_n": live["n"],
                            "live_mae": live["mae"], "live_mape": live["mape"], "live_wape": live["wape"],
                            "live_coverage_80": live["coverage_80"], "live_coverage_95": live["coverage_95"],
                            "backtest_mae": scored["metrics"].get("mae"),
                            "backtest_mape": scored["metrics"].get("mape"),
                            "drift": drift, "status": msg})
                merged = merged.assign(series_id=sid, series=info.label,
                                       outside_95=(merged["y"] < merged["yhat_lower_95"])
                                       | (merged["y"] > merged["yhat_upper_95"]))
                pair_frames.append(merged[["series_id", "series", "ds", "yhat", *[f"yhat_{s}_{lv}" for lv in LEVELS
                                                                                for s in ("lower", "upper")],
                                           "y", "outside_95"]])
                out = merged[merged["outside_95"]]
                if len(out):
                    worst = out.assign(gap=(out["y"] - out["yhat"]).abs()).sort_values("gap", ascending=False).iloc[0]
                    alerts.append({"series": info.label, "when": worst["ds"], "alert": "actual outside 95% interval",
                                   "detail": f"{len(out)} of {len(merged)} actuals outside the 95% interval; worst "
                                             f"{worst['ds']:%Y-%m-%d %H:%M}: actual {worst['y']:.0f} vs forecast "
                                             f"{worst['yhat']:.1f} [{worst['yhat_lower_95']:.1f}–"
                                             f"{worst['yhat_upper_95']:.1f}]"})
                if drift:
                    alerts.append({"series": info.label, "when": merged["ds"].max(), "alert": "drift", "detail": msg})
        if "status" not in row:
            row.update({"live_n": 0, "drift": False, "status": "no actuals yet for the forecast period"})
        per_series.append(row)
        # alerts on the current forecast: high uncertainty and demand above capacity
        cur = _flag_uncertainty(fstore.load_rows(app.engine, int(current["id"])))
        unc = cur[cur["high_uncertainty"]]
        if len(unc):
            days = unc["ds"].dt.normalize().value_counts().sort_index()
            alerts.append({"series": info.label, "when": days.index[0], "alert": "high uncertainty",
                           "detail": f"{len(days)} day(s) with intervals wider than {HIGH_UNCERTAINTY:.0%} of the "
                                     f"forecast, e.g. " + ", ".join(f"{d:%a %d %b}" for d in days.index[:5])})
        cap, cap_text = _capacity(app, info, history)
        if cap is not None:
            over = cur[cur["yhat"] > cap]
            if len(over):
                alerts.append({"series": info.label, "when": over["ds"].iloc[0], "alert": "demand above capacity",
                               "detail": f"{len(over)} interval(s) forecast above the known capacity: {cap_text}; "
                                         f"peak forecast {over['yhat'].max():.1f}"})
    pairs = pd.concat(pair_frames, ignore_index=True) if pair_frames else pd.DataFrame(
        columns=["series_id", "series", "ds", "yhat", "y", "outside_95"])
    heat = _heatmap(pairs, catalogue, kind)
    per_df = pd.DataFrame(per_series)
    alert_df = pd.DataFrame(alerts, columns=["series", "when", "alert", "detail"])
    return AccuracyReport(per_series=per_df, pairs=pairs, heatmap=heat, alerts=alert_df, kind=kind)


def _heatmap(pairs: pd.DataFrame, catalogue: dict[str, SeriesInfo], kind: str) -> pd.DataFrame:
    from src.models.forecasting import metrics as M

    if pairs.empty:
        return pd.DataFrame(columns=["row", "column", "mape"])
    out = []
    if kind == "workload":
        p = pairs.assign(weekday=pairs["ds"].dt.day_name().str[:3])
        for (sid, wd), g in p.groupby(["series_id", "weekday"]):
            out.append({"row": catalogue[sid].queue, "column": wd, "mape": M.mape(g["y"], g["yhat"])})
        order = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        df = pd.DataFrame(out)
        df["column"] = pd.Categorical(df["column"], categories=order, ordered=True)
        return df.sort_values(["row", "column"]).reset_index(drop=True)
    for sid, g in pairs.groupby("series_id"):
        info = catalogue[sid]
        out.append({"row": info.site, "column": info.unit or "(all units)", "mape": M.mape(g["y"], g["yhat"])})
    return pd.DataFrame(out)
