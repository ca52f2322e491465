"""Training: check every series' history, fit the engine (in process, or through a job's ``fit_many``), save the
models in the registry and store the forecasts with their audit events in one transaction — all series or none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from src.data import db, store
from src.data import forecast_store as fstore
from src.data.forecast_store import LEVELS, SeriesInfo
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import (
    MAX_FOLDS,
    MAX_HORIZON_DAYS,
    MAX_SERIES_PER_RUN,
    MODEL_CHOICES,
    ProgressCallback,
    _registry,
    model_label,
)
from .catalogue import resolve_series

log = logging.getLogger(__name__)


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


def _name_series(why: str, info: SeriesInfo) -> str:
    """An engine message about one series, led by the series' label instead of its internal id.

    Why: the engine names the series by id ("Series 'workload:calls@CC-Berlin' has 246 1h intervals …"), and the page
    showed "calls · CC-Berlin: Series 'workload:calls@CC-Berlin' has …" — the same series twice, once as a code.
    """
    for quoted in (repr(info.series_id), f'"{info.series_id}"', info.series_id):
        for lead in (f"Series {quoted} ", f"series {quoted} "):
            if lead in why:
                return why.replace(lead, f"{info.label} ", 1)
    return f"{info.label}: {why}"


#: one series to fit: (label for messages, frame ``series_id, ds, y``, the engine's ForecastConfig)
SeriesFit = tuple[str, pd.DataFrame, Any]
#: runs the engine on several series: (fits, on_progress) -> one ForecastResult per fit, in order
SeriesFitter = Callable[[list[SeriesFit], ProgressCallback | None], list[Any]]


def fit_series(label: str, frame: pd.DataFrame, config: Any, on_progress: ProgressCallback | None = None) -> Any:
    """The engine's backtest, model choice and refit for one series; :class:`ServiceError` led by ``label``.

    Pure computation (no database, no files): what a Dask task runs for one series of a training job.
    """
    from src.models.forecasting import run_forecast

    try:
        return run_forecast(frame, config, on_progress=on_progress)
    except ValueError as exc:
        raise ServiceError(f"{label}: {exc}") from None


def fit_series_in_process(fits: list[SeriesFit], on_progress: ProgressCallback | None = None) -> list[Any]:
    """Fit the series one after the other in this process, progress scaled to 0–0.95 (saving takes the rest)."""
    results = []
    total = len(fits)
    for i, (label, frame, config) in enumerate(fits):
        def prog(frac: float, text: str, i: int = i, label: str = label) -> None:
            if on_progress:
                on_progress(min(0.95, (i + frac) / total * 0.95), f"{label}: {text.split(': ', 1)[-1]}")

        results.append(fit_series(label, frame, config, prog))
    return results


def train_forecasts(app: AppContext, actor: Actor, series_ids: list[str] | tuple[str, ...], *, horizon_days: int,
                    model: str = "auto", folds: int = 3, history_end: date | datetime | None = None,
                    activate: bool | None = None, seed: int = 0,
                    on_progress: ProgressCallback | None = None, fit_many: SeriesFitter | None = None,
                    on_store: Callable[[Any, list[TrainedSeries]], None] | None = None) -> TrainOutcome:
    """Train, save and store forecasts for ``series_ids`` — all of them or none (every series' history is checked
    before the first is trained).

    ``horizon_days`` is converted to steps of each series' own interval. ``history_end`` trains on history up
    to that day only (a back-dated forecast whose accuracy can be checked at once against later actuals).
    ``activate=True`` (admin only) makes the new versions active; None activates only where a series has no
    active version. Raises :class:`ServiceError` with a user-facing message for any bad input or a series
    that cannot be forecast (too short history names the minimum needed).

    For background jobs (``src.services.jobs``): ``fit_many`` runs the engine on the series (default
    :func:`fit_series_in_process`, one after the other here; a job maps them to Dask tasks), and ``on_store(conn,
    trained)`` runs inside the transaction that stores the forecasts — a job marks itself done there, and an
    exception from it (the job was cancelled meanwhile) rolls the whole training back.
    """
    require_role(actor, "planner", "admin")
    from src.models.forecasting import ForecastConfig, history_problems
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
        try:
            per_day, freq = _steps_per_day(hist["ds"])
        except ServiceError as exc:
            raise ServiceError(f"{info.label}: {exc}") from None
        jobs.append((info, hist, per_day, freq))

    # every series checked before any is trained: "all of them or none" must not cost minutes to find out
    problems = []
    for info, hist, per_day, _freq in jobs:
        config = ForecastConfig(horizon=horizon_days * per_day, levels=LEVELS, model=model, folds=folds, seed=seed)
        for why in history_problems(hist.assign(series_id=info.series_id)[["series_id", "ds", "y"]], config).values():
            problems.append(_name_series(str(why), info))
    if problems:
        raise ServiceError("Nothing was trained. " + " ".join(problems))

    fits = [(info.label, hist.assign(series_id=info.series_id)[["series_id", "ds", "y"]],
             ForecastConfig(horizon=horizon_days * per_day, levels=LEVELS, model=model, folds=folds, seed=seed,
                            n_jobs=1)) for info, hist, per_day, _freq in jobs]
    fitted = (fit_many or fit_series_in_process)(fits, on_progress)
    results = [(job[0], frame, job[3], config, result)  # (info, frame, freq, config, result)
               for job, (_label, frame, config), result in zip(jobs, fits, fitted, strict=True)]

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
            if on_store is not None:
                on_store(conn, trained)
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
    names = ", ".join(f"{catalogue[t.series_id].label} → {model_label(t.model, short=True)}" for t in trained)
    log.info("trained %d forecasts in %.1f s by %s", len(trained), seconds, actor.username)
    return TrainOutcome(runs=trained, seconds=seconds,
                        message=f"Trained and stored {len(trained)} forecast(s) in {seconds:.1f} s: {names}.")


def run_forecast(app: AppContext, actor: Actor, series_id: str, horizon_days: int, model: str = "auto", *,
                 folds: int = 3, history_end: date | datetime | None = None, seed: int = 0) -> int:
    """Train and store a forecast for one series (planner); return the stored run id. See :func:`train_forecasts`."""
    require_role(actor, "planner", "admin")
    info = resolve_series(app, series_id)
    if info is None:
        raise ServiceError(f"No stored history for series {series_id!r}; see the series catalogue for valid ids.")
    outcome = train_forecasts(app, actor, [info.series_id], horizon_days=horizon_days, model=model, folds=folds,
                              history_end=history_end, seed=seed)
    return outcome.runs[0].run_id
