"""One call from a long frame to forecasts, components, backtest, chosen model and measured coverage.

``run_forecast`` fits every series independently — in parallel with joblib when ``n_jobs > 1``
(one process per series, each model single-threaded) — and reports progress per finished series.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from .auto import choose_model
from .backtest import (
    backtest_folds,
    backtest_horizon,
    backtest_series,
    require_history,
)
from .base import ForecastConfig, ForecastResult, ProgressCallback, make_model
from .fitted import FittedModel
from .frequency import parse_freq, prepare_series
from .inputs import normalise_input

logger = logging.getLogger(__name__)


def history_problems(df: pd.DataFrame, config: ForecastConfig) -> dict[str, str]:
    """Series of ``df`` that :func:`run_forecast` would refuse, with the reason — without fitting anything.

    Why: a training run over many series otherwise finds a too-short or irregular series only when it reaches
    it, after minutes of work on the others. This checks what can be known up front (input columns, grid,
    values, the backtest's minimum history and a named model's own minimum) in milliseconds per series.
    """
    data = normalise_input(df)
    step = parse_freq(config.freq) if config.freq else None
    problems: dict[str, str] = {}
    for sid, part in data.groupby("series_id", sort=True):
        try:
            prep = prepare_series(part["ds"].to_numpy(), part["y"].to_numpy(), series_id=str(sid), step=step,
                                  country=config.country_holidays, clean=False)
            horizon = backtest_horizon(config, prep)
            folds, _ = backtest_folds(config, prep, horizon)
            require_history(prep, str(sid), folds, horizon)
            if config.model != "auto":
                own = make_model(config.model, config.seed).min_history_steps(prep, config.horizon)
                if prep.n < own:
                    raise ValueError(f"Series {sid!r}: {config.model} needs {own} steps of history for a horizon "
                                     f"of {config.horizon}; it has {prep.n}.")
        except ValueError as exc:
            problems[str(sid)] = str(exc)
    return problems


def _forecast_one(series_id: str, ds: np.ndarray, y: np.ndarray, config: ForecastConfig,
                  on_progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Backtest, choose, refit on everything and forecast one series."""
    from .prophet_model import _quiet

    _quiet()
    step = parse_freq(config.freq) if config.freq else None
    prep = prepare_series(ds, y, series_id=series_id, step=step, country=config.country_holidays)
    models = list(config.candidates) if config.model == "auto" else [config.model]
    bt_horizon = backtest_horizon(config, prep)
    folds, expensive_folds = backtest_folds(config, prep, bt_horizon)
    bt = backtest_series(ds, y, series_id=series_id, models=models, folds=folds,
                         horizon=bt_horizon, levels=config.levels,
                         country=config.country_holidays, seed=config.seed, step=prep.cal.step, prep=prep,
                         on_progress=on_progress,
                         screen_ratio=config.screen_ratio if config.model == "auto" else None,
                         expensive_folds=expensive_folds if config.model == "auto" else None)
    table = bt.table(config.levels, config.conformal_scale)
    if config.model == "auto":
        chosen, reason = choose_model(table, models, config.levels)
    else:
        row = table[table["model"] == config.model].iloc[0]
        if row["error"]:
            raise ValueError(f"Series {series_id!r}: model {config.model} cannot be used: {row['error']}")
        chosen = config.model
        cov = ", ".join(f"{lv}% interval covered {row[f'coverage_{lv}']:.0f}%" for lv in config.levels
                        if np.isfinite(row[f"coverage_{lv}"]))
        reason = f"{chosen} chosen by the user: MASE {row['mase']:.2f}, WAPE {row['wape']:.1f}%" + (
            f"; {cov}" if cov else "") + f" in a {folds}-fold backtest."
    table["chosen"] = table["model"] == chosen
    if on_progress:
        on_progress(0.95, f"{series_id}: fitting {chosen} on the full history")
    model = make_model(chosen, config.seed)
    need = model.min_history_steps(prep, config.horizon)
    if prep.n < need:
        raise ValueError(f"Series {series_id!r}: {chosen} needs {need} steps of history for a horizon of "
                         f"{config.horizon}; it has {prep.n}.")
    model.fit(prep, config.horizon)
    calibrator = None if model.native_intervals else bt.calibrator(chosen, config.levels, config.conformal_scale)
    fitted = FittedModel.from_prepared(prep, model, calibrator, config.horizon, config.levels, config.seed)
    forecast, components = fitted.predict()
    row = table[table["model"] == chosen].iloc[0]
    coverage = {lv: float(row[f"coverage_{lv}"]) for lv in config.levels}
    diag = prep.diagnostics()
    diag.update({"model": chosen, "notes": "; ".join(prep.notes)})
    return {"series_id": series_id, "forecast": forecast, "components": components, "backtest": table,
            "chosen": chosen, "reason": reason, "freq": prep.cal.label, "fitted": fitted, "coverage": coverage,
            "diagnostics": diag}


def _job(series_id: str, ds: np.ndarray, y: np.ndarray, config: ForecastConfig, skip_failed: bool = False,
         on_progress: ProgressCallback | None = None) -> dict[str, Any]:
    try:
        return _forecast_one(series_id, ds, y, config, on_progress)
    except ValueError as exc:
        if not skip_failed:
            raise
        logger.warning("forecast: series %s skipped: %s", series_id, exc)
        return {"series_id": series_id, "failed": str(exc)}


def run_forecast(df: pd.DataFrame, config: ForecastConfig, on_progress: ProgressCallback | None = None,
                 *, skip_failed: bool = False) -> ForecastResult:
    """Forecast every series of a long frame ``series_id, ds, y`` (``series_id`` optional).

    Per series: infer the grid, backtest the candidate models (rolling origin), pick one (or use
    ``config.model``), refit it on the full history, forecast ``config.horizon`` steps with
    conformal intervals. Deterministic for a given ``config.seed``. ``ValueError`` with the minimum
    needed when a series is too short. ``on_progress(fraction, text)`` is called as work finishes.

    ``skip_failed``: a series that cannot be forecast (too short, irregular, …) is listed in
    ``result.failed`` with its reason instead of failing the whole run — one new queue with a week of
    history must not block the forecasts of fifty others. ``ValueError`` still when every series fails.
    """
    t0 = time.perf_counter()
    data = normalise_input(df)
    groups = [(str(sid), part["ds"].to_numpy(), part["y"].to_numpy()) for sid, part in
              data.groupby("series_id", sort=True)]
    total = len(groups)
    outcomes: list[dict[str, Any]] = []
    if config.n_jobs == 1 or total == 1:
        for i, (sid, ds, y) in enumerate(groups):
            def prog(frac: float, text: str, i: int = i) -> None:
                if on_progress:
                    on_progress(min(1.0, (i + frac) / total), text)

            outcomes.append(_job(sid, ds, y, config, skip_failed, prog))
            if on_progress:
                on_progress((i + 1) / total, f"{sid}: done ({i + 1}/{total})")
    else:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=config.n_jobs, return_as="generator_unordered")
        for done, outcome in enumerate(parallel(delayed(_job)(sid, ds, y, config, skip_failed)
                                                for sid, ds, y in groups), 1):
            outcomes.append(outcome)
            if on_progress:
                on_progress(done / total, f"{outcome['series_id']}: done ({done}/{total})")
        outcomes.sort(key=lambda o: o["series_id"])
    failed = {o["series_id"]: o["failed"] for o in outcomes if "failed" in o}
    outcomes = [o for o in outcomes if "failed" not in o]
    if not outcomes:
        reasons = list(failed.values())
        raise ValueError(reasons[0] if len(reasons) == 1 else "No series could be forecast: " + "; ".join(reasons))
    comps = [o["components"] for o in outcomes if o["components"] is not None]
    result = ForecastResult(
        forecast=pd.concat([o["forecast"] for o in outcomes], ignore_index=True),
        components=pd.concat(comps, ignore_index=True) if comps else None,
        backtest=pd.concat([o["backtest"] for o in outcomes], ignore_index=True),
        chosen={o["series_id"]: o["chosen"] for o in outcomes},
        reasons={o["series_id"]: o["reason"] for o in outcomes},
        freq={o["series_id"]: o["freq"] for o in outcomes},
        fitted={o["series_id"]: o["fitted"] for o in outcomes},
        coverage={o["series_id"]: o["coverage"] for o in outcomes},
        diagnostics=pd.DataFrame([o["diagnostics"] for o in outcomes]),
        seconds=time.perf_counter() - t0,
        failed=failed,
    )
    logger.info("forecast: %d series in %.1f s (%s)", total, result.seconds, result.chosen)
    return result
