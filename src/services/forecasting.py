"""Use cases around forecasting: train from stored history, keep model versions, serve stored forecasts,
track their accuracy once actuals arrive.

The flow the Forecast page (and later the REST API) shares: :func:`series_catalogue` (what can be
forecast) → :func:`train_forecasts` (planner/admin: engine backtest + model choice + refit, every model
saved through :class:`~src.models.registry.ModelRegistry`, forecasts stored with one audit event per run in
ONE transaction — all series or none) → :func:`load_run` / :func:`latest_forecast` (read) →
:func:`accuracy_report` (live accuracy vs. the backtest, drift and capacity alerts). Activating, rolling
back and deleting model versions is admin-only and audited.

REST-friendly surface (plain arguments in, JSON-able values out; every function checks the role first and
raises :class:`ServiceError` with a user-facing message, :class:`PermissionDenied` for a wrong role):

- ``series_catalogue(app, actor, kind=None) -> list[SeriesInfo]`` — what can be forecast (``series_id`` values).
- ``run_forecast(app, actor, series_id, horizon_days, model="auto", folds=3, history_end=None) -> int`` — train,
  store and audit one series; returns the stored run id (synchronous: seconds to a minute).
- ``get_forecast(app, actor, run_id) -> dict`` — run metadata, backtest metrics, measured coverage and the rows
  (ISO timestamps, ``yhat``, 80/95 bounds, ``is_open``, ``high_uncertainty``); no NaN (None instead).
- ``runs_for_series(app, actor, series_id=None) -> list[dict]`` — stored runs, newest first.
- ``intraday_reforecast(app, actor, series_id, day=, now=, actuals=None|text|frame) -> IntradayView``
  (``IntradayView.to_dict()`` for JSON).
- ``accuracy_report``, ``list_versions``; admin: ``activate_version``, ``rollback_version``, ``delete_version``.

Model files are signed with an HMAC over their metadata when ``MODEL_SIGNING_KEY`` is set (≥ 16 characters);
unset = unsigned. With a key set, versions saved without one (or with another key) fail to load with a clear error.

Which forecast is "current" for a series (what Staffing plans with): the newest run of the series' *active*
model version; without an active version, the newest run. A new training becomes active when the series
has none yet, or when an admin asks for it; a planner's retraining is stored beside the active version until
an admin activates it (the Forecast accuracy page shows both side by side).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dt_time
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
#: an interval counts as highly uncertain when its 80% band is wider than this share of the forecast. The 80% band,
#: not the 95% one: Poisson-like counts have a 95% band of ±2σ, wider than half the forecast below ~60 contacts per
#: interval, so the 95% rule flagged 64 of 65 open hours of the demo's calls queue and every day of a care unit —
#: a highlight that marks everything marks nothing
HIGH_UNCERTAINTY = 0.5
HIGH_UNCERTAINTY_LEVEL = 80


#: environment variable holding the optional HMAC key for model metadata (absent/empty = unsigned, as before)
SIGNING_KEY_ENV = "MODEL_SIGNING_KEY"
MIN_SIGNING_KEY_CHARS = 16


def _signing_key() -> bytes | None:
    """The registry signing key from ``MODEL_SIGNING_KEY`` (None when unset); a short key is refused."""
    import os

    raw = os.environ.get(SIGNING_KEY_ENV, "").strip()
    if not raw:
        return None
    if len(raw) < MIN_SIGNING_KEY_CHARS:
        raise ServiceError(f"{SIGNING_KEY_ENV} is set but shorter than {MIN_SIGNING_KEY_CHARS} characters; use a long "
                           "random value (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) or "
                           "unset it.")
    return raw.encode("utf-8")


def _registry(app: AppContext):
    from src.models.registry import ModelRegistry

    return ModelRegistry(app.settings.models_dir, code_version=_code_version(), signing_key=_signing_key())


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


#: the model names for narrow table columns (the full :data:`MODEL_LABELS` were cut off there)
MODEL_SHORT: dict[str, str] = {
    "auto": "auto", "profile": "Profile", "seasonal_naive": "Seasonal naive", "prophet": "Prophet",
    "lightgbm": "LightGBM", "lightgbm_recursive": "LightGBM recursive", "ensemble": "Ensemble",
    "prophet_default": "Prophet (default)",
}


def model_label(model: str, *, short: bool = False) -> str:
    """What a planner reads for a model code (``seasonal_naive`` → "Seasonal naive (same slot last week)", or
    "Seasonal naive" with ``short``); a code the engine added later and these lists do not know yet is shown as
    it is."""
    return (MODEL_SHORT if short else MODEL_LABELS).get(str(model), str(model))


_MODEL_CODE = re.compile(r"\b(" + "|".join(sorted(MODEL_SHORT, key=len, reverse=True)) + r")\b")


def readable_reason(text: str) -> str:
    """The engine's 'why this model' sentence with model codes as names (``lightgbm won: … vs profile …``); the
    engine keeps the codes because the CLI's users script against them."""
    return _MODEL_CODE.sub(lambda m: model_label(m.group(1), short=True), text)


#: backtest columns in the order a planner compares models (accuracy first, then intervals, then cost),
#: with the headers the Forecast page and the Excel download show
BACKTEST_COLUMNS: dict[str, str] = {
    "model": "model", "chosen": "chosen", "mase": "MASE", "wape": "WAPE %", "mape": "MAPE %", "smape": "sMAPE %",
    "mae": "MAE", "rmse": "RMSE", "coverage_80": "coverage 80 %", "coverage_95": "coverage 95 %",
    "width_80": "mean width 80", "width_95": "mean width 95", "folds": "folds", "n": "points scored",
    "seconds": "seconds per fold", "error": "error",
}


def backtest_table(view: RunView) -> pd.DataFrame:
    """Every compared model of a run, best MASE first, with readable model names and the columns of
    :data:`BACKTEST_COLUMNS` (codes kept as column names; the caller picks the headers).

    Why: the stored backtest is JSON with its keys sorted alphabetically (``chosen, coverage_80, error, …,
    model`` — the model name came eleventh) and holds engine-internal columns (``mase_common``); an ``error``
    column that is empty for every model is dropped.
    """
    bt = view.backtest
    cols = [c for c in BACKTEST_COLUMNS if c in bt.columns]
    out = bt[cols].copy() if len(bt) else pd.DataFrame(columns=cols)
    if "error" in out:
        out["error"] = out["error"].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v))
                                        or str(v).strip() == "" else str(v))
        if out["error"].isna().all():
            out = out.drop(columns=["error"])
    if "model" in out:
        out["model"] = out["model"].map(model_label)
    if "chosen" in out:
        out["chosen"] = out["chosen"].fillna(False).astype(bool)
    for c in out.columns:
        if c not in ("model", "chosen", "error"):
            out[c] = pd.to_numeric(out[c], errors="coerce")
    if "mase" in out:
        out = out.sort_values("mase", na_position="last", kind="stable")
    return out.reset_index(drop=True)


#: what each data diagnostic of the engine means, in the order a planner reads them
DIAGNOSTIC_LABELS: dict[str, str] = {
    "start": "History from", "end": "History to", "freq": "Interval", "n_observed": "Intervals with a value",
    "n_missing": "Open intervals without a value (filled)", "n_duplicates": "Duplicate timestamps",
    "n_outliers": "Outliers (replaced for training)", "active_slots": "Open slots per week",
    "slots_per_week": "Slots per week", "closed_on_holidays": "Closed on public holidays", "notes": "Notes",
}


def diagnostics_table(run: dict[str, Any]) -> pd.DataFrame:
    """The engine's data diagnostics of a run as ``item, value`` text a planner can read.

    Why: the raw dict shows keys such as ``n_missing`` and ``active_slots``, ``True`` and ISO timestamps
    (``2026-10-31T13:00:00``). Known keys get a label and come first; keys a newer engine adds are listed after
    them under their own name, so nothing is hidden. The series id and model repeat the page and are left out.
    """
    diag = dict(run.get("diagnostics") or {})
    for k in ("series_id", "model"):
        diag.pop(k, None)

    def fmt(key: str, value: Any) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)) or value == "":
            return "–"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if key in ("start", "end"):
            try:
                return f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"
            except (TypeError, ValueError):
                return str(value)
        if isinstance(value, int | float):
            return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        return str(value)

    ordered = [k for k in DIAGNOSTIC_LABELS if k in diag] + [k for k in diag if k not in DIAGNOSTIC_LABELS]
    return pd.DataFrame([{"item": DIAGNOSTIC_LABELS.get(k, k.replace("_", " ")), "value": fmt(k, diag[k])}
                         for k in ordered], columns=["item", "value"])


def export_forecast(app: AppContext, actor: Actor, view: RunView, fmt: str) -> bytes:
    """CSV or XLSX bytes of a stored forecast (through the one export module: formula-safe).

    The Forecast sheet and the CSV keep the documented machine-readable columns (``ds, yhat, yhat_lower_80 …``,
    as the CLI writes and Staffing reads); the Backtest and About sheets are for people: readable headers,
    numbers as numbers and times as times.
    """
    require_role(actor, "planner", "admin")
    table = forecast_export_frame(view)
    if fmt == "csv":
        return export.to_csv_bytes(table)
    if fmt != "xlsx":
        raise ServiceError(f"Unknown export format {fmt!r}; choose csv or xlsx.")
    bt = backtest_table(view)
    bt = bt.rename(columns=BACKTEST_COLUMNS)
    run = view.run
    metrics = run.get("metrics") or {}

    def num(v: Any, digits: int) -> float | None:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return None
        return round(f, digits) if math.isfinite(f) else None

    info = pd.DataFrame([
        ("Series", run["label"]), ("Model", model_label(run["model"])), ("Model code", run["model"]),
        ("Model version", run["model_version_id"]), ("Why this model", run["reason"]), ("Interval", run["freq"]),
        ("History from", pd.Timestamp(run["history_start"]).to_pydatetime() if run.get("history_start") else None),
        ("History to", pd.Timestamp(run["history_end"]).to_pydatetime()),
        ("Forecast from", pd.Timestamp(run["forecast_start"]).to_pydatetime()),
        ("Forecast to", pd.Timestamp(run["forecast_end"]).to_pydatetime()),
        ("Trained by", run["created_by"]), ("Trained at (UTC)", pd.Timestamp(run["created_at"]).to_pydatetime()),
        ("Backtest MASE", num(metrics.get("mase"), 3)), ("Backtest WAPE %", num(metrics.get("wape"), 1)),
        *[(f"Measured coverage of the {lv}% interval (%)", num(run["coverage"].get(str(lv)), 1)) for lv in LEVELS],
    ], columns=["item", "value"])
    sheets = {"Forecast": table, "Backtest": bt, "About": info}
    charts = [export.ChartSpec(sheet="Forecast", x_column="ds", y_columns=("yhat", "yhat_upper_95"),
                               title=f"Forecast {run['label']}", y_title="volume")]
    return export.to_excel_bytes(sheets, title=f"Forecast {run['label']}", charts=charts)


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


def _series_label(app: AppContext, series_id: str) -> str:
    """The label a planner knows a series by (``calls · CC-Berlin``); the id when the history is gone."""
    info = resolve_series(app, series_id)
    return info.label if info is not None else series_id


def _version_text(v: Any) -> str:
    return f"{model_label(v.model, short=True)} (version {v.version_id})"


def activate_version(app: AppContext, actor: Actor, version_id: str) -> str:
    """Make a model version the active one of its series (admin). Returns a message naming the series by its
    label (the messages named it ``workload:calls@CC-Berlin``)."""
    require_role(actor, "admin")
    reg = _registry(app)
    try:
        before = reg.get(version_id)
        previous = reg.active(before.series_id)
    except Exception as exc:  # noqa: BLE001 - RegistryError and friends become a user message
        raise ServiceError(str(exc)) from None
    v = _registry_action(app, actor, "model.activate", version_id, lambda: reg.activate(version_id),
                         {"series_id": before.series_id, "previous": previous.version_id if previous else None})
    return (f"{_series_label(app, v.series_id)}: {_version_text(v)} is now the active model — Staffing plans with "
            "its forecast.")


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
    return f"Rolled back {_series_label(app, series_id)} to {_version_text(v)}."


def delete_version(app: AppContext, actor: Actor, version_id: str) -> str:
    """Delete a model version's files (admin; not the active one). Its stored forecasts stay for tracking."""
    require_role(actor, "admin")
    reg = _registry(app)
    try:
        v = reg.get(version_id)
    except Exception as exc:  # noqa: BLE001 - RegistryError and friends become a user message
        raise ServiceError(str(exc)) from None
    _registry_action(app, actor, "model.delete", version_id, lambda: reg.delete(version_id), {})
    return (f"Deleted {_series_label(app, v.series_id)}: {_version_text(v)}; its stored forecasts remain for "
            "accuracy tracking.")


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
                           "detail": f"{len(days)} day(s) with {HIGH_UNCERTAINTY_LEVEL}% intervals wider than "
                                     f"{HIGH_UNCERTAINTY:.0%} of the "
                                     f"forecast, e.g. " + ", ".join(f"{d:%a %d %b}" for d in days.index[:5])})
        cap, cap_text = _capacity(app, info, history)
        if cap is not None:
            over = cur[cur["yhat"] > cap]
            if len(over):
                unit = "day(s)" if current["freq"] == "1D" else "interval(s)"  # a care home said "28 interval(s)"
                detail = (f"{len(over)} {unit} forecast above the known capacity: {cap_text}; peak forecast "
                          f"{over['yhat'].max():.1f}")
                worked = float(history["y"].max()) if len(history) else float("nan")
                if math.isfinite(worked) and worked > cap * 1.1:
                    # the staff list cannot explain what was already worked: say so, or the alert reads as if
                    # every day of the forecast were impossible to staff
                    detail += (f". Up to {worked:.0f} were already worked on one day, so the staff list probably "
                               "does not hold everyone who works there")
                alerts.append({"series": info.label, "when": over["ds"].iloc[0], "alert": "demand above capacity",
                               "detail": detail})
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


# ------------------------------------------------------------------------------------ intraday re-forecast

#: most lines a typed / uploaded partial-day series may have (one day of 1-minute intervals is 1,440)
MAX_INTRADAY_LINES = 1500
MAX_INTRADAY_BYTES = 200_000


@dataclass
class IntradayView:
    """Original vs re-forecast for one day of a stored intraday forecast, given that day's actuals so far.

    ``frame`` (one row per grid interval of the day): ``ds, is_open, actual`` (NaN where unknown),
    ``elapsed`` (before ``now``), ``yhat`` and ``yhat_lower/upper_<L>`` (the stored forecast), ``reforecast`` and
    ``reforecast_lower/upper_<L>`` (equal to the stored values before ``now``). ``rest_actual`` and the two
    ``rest_mae_*`` are only set when the store already holds the rest of the day (a past day): then the page can
    show honestly whether the re-forecast was closer than the original.
    """

    series_id: str
    label: str
    run_id: int
    model: str
    freq: str
    day: date
    now: pd.Timestamp
    source: str  # "stored" | "entered"
    frame: pd.DataFrame
    factor: float
    actual_so_far: float
    forecast_so_far: float
    share_seen: float
    rest_original: float
    rest_reforecast: float
    rest_actual: float | None = None
    rest_mae_original: float | None = None
    rest_mae_reforecast: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for the REST API): summary numbers, message, notes and the day's rows."""
        keys = ("series_id", "label", "run_id", "model", "freq", "day", "now", "source", "factor", "actual_so_far",
                "forecast_so_far", "share_seen", "rest_original", "rest_reforecast", "rest_actual",
                "rest_mae_original", "rest_mae_reforecast", "notes")
        out = {k: getattr(self, k) for k in keys} | {"message": self.message,
                                                     "rows": self.frame.to_dict("records")}
        return _jsonable(out)

    @property
    def message(self) -> str:
        diff = (self.actual_so_far / self.forecast_so_far - 1) * 100 if self.forecast_so_far > 0 else float("nan")
        text = (f"Before {self.now:%H:%M}: {self.actual_so_far:,.0f} actual vs {self.forecast_so_far:,.1f} forecast "
                f"({diff:+.0f}%). {self.share_seen:.0%} of the day's forecast volume has passed, so the rest of "
                f"the day is scaled by {self.factor:.3f}: {self.rest_original:,.1f} → {self.rest_reforecast:,.1f}.")
        if self.rest_actual is not None:
            better = "closer" if (self.rest_mae_reforecast or 0) < (self.rest_mae_original or 0) else "not closer"
            text += (f" The store already holds the rest of this day ({self.rest_actual:,.0f} actual): the "
                     f"re-forecast was {better} (MAE {self.rest_mae_reforecast:.2f} vs {self.rest_mae_original:.2f}).")
        return text


def parse_partial_day(data: str | bytes, day: date) -> pd.DataFrame:
    """Today's actuals typed or uploaded as lines ``time,volume`` → ``ds, y`` on ``day``.

    Accepted per line: ``08:00,35`` · ``08:00;35,5`` (German decimal comma) · ``08:00<TAB>35`` ·
    ``2025-03-04 08:00,35``; an optional header line; blank lines are skipped. Raises :class:`ServiceError`
    naming the line of every problem (up to 10): bad time, another day, non-numeric or negative volume, duplicates.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_INTRADAY_BYTES:
            raise ServiceError(f"The file is too large for one day of volumes ({len(data):,} bytes; at most "
                               f"{MAX_INTRADAY_BYTES:,}).")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            data = data.decode("cp1252", errors="replace")
    lines = data.splitlines()
    if len(lines) > MAX_INTRADAY_LINES:
        raise ServiceError(f"Too many lines ({len(lines):,}); one day has at most {MAX_INTRADAY_LINES:,} intervals.")
    rows: list[tuple[pd.Timestamp, float]] = []
    errors: list[str] = []
    seen: dict[pd.Timestamp, int] = {}
    day_ts = pd.Timestamp(day)
    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        sep = ";" if ";" in line else "\t" if "\t" in line else ","
        parts = [p.strip().strip('"') for p in line.split(sep)]
        if len(parts) != 2:
            errors.append(f"line {no}: expected two values 'time,volume', got {line[:40]!r}")
            continue
        when, value = parts
        if sep == ";":
            value = value.replace(",", ".")
        try:
            num = float(value)
        except ValueError:
            if not rows and not errors and not any(ch.isdigit() for ch in value + when):
                continue  # a header line such as "time,volume"
            errors.append(f"line {no}: volume {value!r} is not a number")
            continue
        try:
            ts = pd.Timestamp(f"{day_ts:%Y-%m-%d} {when}") if len(when) <= 8 else pd.Timestamp(when)
        except (ValueError, TypeError):
            errors.append(f"line {no}: time {when!r} is not HH:MM or a timestamp like 2025-03-04 08:00")
            continue
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        if ts.normalize() != day_ts:
            errors.append(f"line {no}: {ts:%Y-%m-%d %H:%M} is not on {day_ts:%Y-%m-%d}")
            continue
        if not math.isfinite(num) or num < 0:
            errors.append(f"line {no}: volume {value} must be a number ≥ 0")
            continue
        if ts in seen:
            errors.append(f"line {no}: {ts:%H:%M} appears twice (also line {seen[ts]})")
            continue
        seen[ts] = no
        rows.append((ts, num))
    if errors:
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise ServiceError("Today's volumes could not be read: " + "; ".join(errors[:10]) + more + ".")
    if not rows:
        raise ServiceError("Enter at least one interval of today's volumes, e.g. '08:00,35' (one per line).")
    return pd.DataFrame(rows, columns=["ds", "y"]).sort_values("ds").reset_index(drop=True)


def _covers(run: dict[str, Any], day: date) -> bool:
    return pd.Timestamp(run["forecast_start"]).normalize() <= pd.Timestamp(day) <= pd.Timestamp(run["forecast_end"])


@dataclass(frozen=True)
class IntradayDefaults:
    """What the re-forecast form offers for a stored run: its day range, a suggested day and time, the interval."""

    first: date
    last: date
    suggested: date
    suggested_now: dt_time
    step_seconds: int
    #: whether any open forecast day has stored actuals: a fresh forecast's days have none, so "stored volumes"
    #: can only fail there and the form offers typed volumes first
    has_stored_actuals: bool = False


def intraday_defaults(view: RunView) -> IntradayDefaults | None:
    """Day range and suggestions for an intraday re-forecast of a stored run (None for daily runs).

    Suggested day: the latest forecast day with open intervals whose actuals are already stored (a back-dated
    forecast lets a planner try the re-forecast on a past day), else the first forecast day with open intervals.
    Suggested time: the start of the middle open interval of that day. ``has_stored_actuals`` tells the form
    whether the stored volumes can serve at all.
    """
    if view.run["freq"] == "1D":
        return None
    fc = view.forecast
    first = pd.Timestamp(view.run["forecast_start"]).date()
    last = pd.Timestamp(view.run["forecast_end"]).date()
    open_ds = fc.loc[fc["is_open"].astype(bool), "ds"]
    open_days = sorted(set(open_ds.dt.date))
    hist = view.history
    stored = set(hist.loc[hist["ds"] >= pd.Timestamp(view.run["forecast_start"]), "ds"].dt.date) if len(hist) else set()
    with_actuals = [d for d in open_days if d in stored]
    suggested = with_actuals[-1] if with_actuals else (open_days[0] if open_days else first)
    slots = sorted(open_ds[open_ds.dt.date == suggested])
    mid = pd.Timestamp(slots[len(slots) // 2]) if len(slots) > 1 else pd.Timestamp(suggested) + pd.Timedelta(hours=12)
    try:
        step = int(pd.Timedelta(view.run["freq"]).total_seconds())
    except ValueError:
        step = 3600
    return IntradayDefaults(first, last, suggested, mid.time(), max(60, step), bool(with_actuals))


def intraday_reforecast(app: AppContext, actor: Actor, series_id: str, *, day: date,
                        now: datetime | pd.Timestamp | Any, actuals: pd.DataFrame | str | bytes | None = None,
                        run_id: int | None = None) -> IntradayView:
    """Re-forecast the rest of ``day`` from that day's actuals before ``now`` (planner; reads only, stores nothing).

    ``actuals``: None = the stored workload of that day (a past day, or today once an admin uploaded it); a frame
    ``ds, y`` or the typed / uploaded text of :func:`parse_partial_day`. ``now`` is a time of day or a timestamp on
    ``day``; intervals starting before it are "so far", the others are re-forecast. ``run_id``: the stored forecast
    to update (must cover ``day``); None = the series' current forecast if it covers the day, else the newest that
    does. The factor is :func:`src.models.forecasting.reforecast_intraday`'s: the ratio actual / forecast so far,
    shrunk toward 1 by the share of the day's forecast volume already seen, clipped to [0.5, 2].
    """
    require_role(actor, "planner", "admin")
    from src.models.forecasting import reforecast_intraday

    info = resolve_series(app, series_id)
    if info is None:
        raise ServiceError(f"No stored history for series {series_id!r}.")
    if info.kind != "workload":
        raise ServiceError(f"{info.label} is a daily series; an intraday re-forecast needs intervals within the day.")
    if not isinstance(day, date):
        raise ServiceError("Choose the day to re-forecast.")
    day = day.date() if isinstance(day, datetime) else day
    day_start = pd.Timestamp(day)
    day_end = day_start + pd.Timedelta(days=1)
    if isinstance(now, datetime | pd.Timestamp):
        now_ts = pd.Timestamp(now)
        if now_ts.tzinfo is not None:
            now_ts = now_ts.tz_localize(None)
        if now_ts.normalize() != day_start:
            raise ServiceError(f"'Now' ({now_ts:%Y-%m-%d %H:%M}) must be on the chosen day {day:%Y-%m-%d}.")
    elif hasattr(now, "hour") and hasattr(now, "minute"):
        now_ts = day_start + pd.Timedelta(hours=now.hour, minutes=now.minute)
    else:
        raise ServiceError("Choose the time of day up to which actuals are known.")

    if run_id is not None:
        run = fstore.get_run(app.engine, int(run_id))
        if run is None or run["series_id"] != info.series_id:
            raise ServiceError(f"Forecast run {run_id} does not exist for {info.label}.")
        if not _covers(run, day):
            raise ServiceError(f"Forecast run #{run_id} covers {pd.Timestamp(run['forecast_start']):%Y-%m-%d} → "
                               f"{pd.Timestamp(run['forecast_end']):%Y-%m-%d}, not {day:%Y-%m-%d}. Choose a day in "
                               "that period or train a forecast that covers it.")
    else:
        cur = current_run(app, info.series_id)
        run = cur if cur is not None and _covers(cur, day) else next(
            (r for r in fstore.list_runs(app.engine, series_id=info.series_id) if _covers(r, day)), None)
        if run is None:
            raise ServiceError(f"No stored forecast of {info.label} covers {day:%Y-%m-%d}. Train one first (for a "
                               "past day: 'Train on history up to' the day before).")
    if run["freq"] == "1D":
        raise ServiceError(f"Forecast run #{run['id']} is daily; an intraday re-forecast needs intervals within "
                           "the day.")
    rows = fstore.load_rows(app.engine, int(run["id"]))
    today = rows[(rows["ds"] >= day_start) & (rows["ds"] < day_end)].reset_index(drop=True)
    if today.empty:
        raise ServiceError(f"Forecast run #{run['id']} has no intervals on {day:%Y-%m-%d}.")
    open_today = today[today["is_open"]]
    if open_today.empty:
        raise ServiceError(f"{day:%a %Y-%m-%d} is closed in the forecast (no open intervals): nothing to re-forecast.")
    if now_ts <= open_today["ds"].min():
        raise ServiceError(f"Nothing has happened yet before {now_ts:%H:%M}: the first open interval starts at "
                           f"{open_today['ds'].min():%H:%M}. Choose a later time.")
    if now_ts > open_today["ds"].max():
        raise ServiceError(f"The last open interval starts at {open_today['ds'].max():%H:%M}; choose an earlier "
                           "time so that some of the day is left to re-forecast.")

    notes: list[str] = []
    stored = fstore.load_series_history(app.engine, info, start=day_start.to_pydatetime(),
                                        end=(day_end - pd.Timedelta(microseconds=1)).to_pydatetime())
    if actuals is None:
        source = "stored"
        given = stored[stored["ds"] < now_ts]
        if given.empty:
            raise ServiceError(f"No stored actuals for {info.label} on {day:%Y-%m-%d} before {now_ts:%H:%M}. Choose "
                               "a day whose volumes are stored, or type today's volumes so far.")
    else:
        source = "entered"
        if isinstance(actuals, str | bytes):
            given = parse_partial_day(actuals, day)
        else:
            if not {"ds", "y"} <= set(actuals.columns):
                raise ServiceError("Today's actuals need columns ds and y.")
            given = actuals[["ds", "y"]].assign(ds=lambda f: pd.to_datetime(f["ds"]), y=lambda f: f["y"].astype(float))
        late = given[given["ds"] >= now_ts]
        if len(late):
            raise ServiceError(f"{len(late)} entered interval(s) start at or after 'now' ({now_ts:%H:%M}), e.g. "
                               f"{late['ds'].iloc[0]:%H:%M}. Move 'now' later or remove them.")
        off = given[~given["ds"].isin(today["ds"])]
        if len(off):
            raise ServiceError(f"{len(off)} entered time(s) are not on the forecast's {run['freq']} grid, e.g. "
                               f"{off['ds'].iloc[0]:%H:%M}. Enter one value per interval start.")
    closed = given[given["ds"].isin(today.loc[~today["is_open"], "ds"])]
    if len(closed):
        notes.append(f"{len(closed)} interval(s) with actuals are closed in the forecast (e.g. "
                     f"{closed['ds'].iloc[0]:%H:%M}); they are not counted.")
        given = given[~given["ds"].isin(closed["ds"])]
    missing = open_today[(open_today["ds"] < now_ts) & ~open_today["ds"].isin(given["ds"])]
    if len(missing):
        notes.append(f"{len(missing)} open interval(s) before {now_ts:%H:%M} have no actual (e.g. "
                     f"{missing['ds'].iloc[0]:%H:%M}); the factor uses the intervals that have one.")
    if given.empty:
        raise ServiceError(f"None of the actuals fall into an open interval of the forecast before {now_ts:%H:%M}.")

    value_cols = ["yhat", *[f"yhat_{s}_{lv}" for lv in LEVELS for s in ("lower", "upper")]]
    base = today[["ds", "is_open", *value_cols]]
    updated = reforecast_intraday(base, given[["ds", "y"]], now_ts)
    factor = float(updated.loc[updated["reforecast"], "factor"].iloc[0]) if updated["reforecast"].any() else 1.0
    frame = base.copy()
    frame["elapsed"] = frame["ds"] < now_ts
    actual = given.set_index("ds")["y"]
    if source == "stored":
        actual = stored.set_index("ds")["y"]  # incl. the rest of the day when it is already stored (past days)
    frame["actual"] = frame["ds"].map(actual).astype(float)
    for col in value_cols:
        frame[col.replace("yhat", "reforecast", 1)] = updated[col].to_numpy()
    seen = frame[frame["elapsed"] & frame["actual"].notna() & frame["is_open"]]
    rest = frame[~frame["elapsed"]]
    view = IntradayView(
        series_id=info.series_id, label=info.label, run_id=int(run["id"]), model=str(run["model"]),
        freq=str(run["freq"]), day=day, now=now_ts, source=source, frame=frame, factor=factor,
        actual_so_far=float(seen["actual"].sum()), forecast_so_far=float(seen["yhat"].sum()),
        share_seen=min(1.0, float(seen["yhat"].sum()) / max(float(frame["yhat"].sum()), 1e-9)),
        rest_original=float(rest["yhat"].sum()), rest_reforecast=float(rest["reforecast"].sum()), notes=notes)
    scored = rest[rest["actual"].notna() & rest["is_open"]] if source == "stored" else rest.iloc[0:0]
    if len(scored) and len(scored) == int(rest["is_open"].sum()):
        view.rest_actual = float(scored["actual"].sum())
        view.rest_mae_original = float((scored["actual"] - scored["yhat"]).abs().mean())
        view.rest_mae_reforecast = float((scored["actual"] - scored["reforecast"]).abs().mean())
    log.info("intraday re-forecast %s %s now=%s factor=%.3f (%s actuals) by %s", info.series_id, day, now_ts,
             factor, source, actor.username)
    return view


def export_intraday(app: AppContext, actor: Actor, view: IntradayView) -> bytes:
    """CSV of the day: interval, actual so far, original forecast and re-forecast with both intervals."""
    require_role(actor, "planner", "admin")
    f = view.frame
    out = pd.DataFrame({"series": view.label, "ds": f["ds"], "open": f["is_open"],
                        "actual": f["actual"].where(f["elapsed"]).round(3), "forecast": f["yhat"].round(3)})
    for lv in LEVELS:
        out[f"forecast_lower_{lv}"] = f[f"yhat_lower_{lv}"].round(3)
        out[f"forecast_upper_{lv}"] = f[f"yhat_upper_{lv}"].round(3)
    out["reforecast"] = f["reforecast"].round(3)
    for lv in LEVELS:
        out[f"reforecast_lower_{lv}"] = f[f"reforecast_lower_{lv}"].round(3)
        out[f"reforecast_upper_{lv}"] = f[f"reforecast_upper_{lv}"].round(3)
    out["factor"] = [view.factor if not e else 1.0 for e in f["elapsed"]]
    out["forecast_run"] = view.run_id
    return export.to_csv_bytes(out)


# ------------------------------------------------------------------------------------ REST-friendly calls

def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | datetime | date):
        return pd.Timestamp(value).isoformat()
    return value


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
