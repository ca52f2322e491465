"""Rolling-origin backtest: the evidence behind model choice and interval calibration.

``folds`` consecutive, non-overlapping test windows of ``horizon`` steps end at the last timestamp;
for each window every model is fitted **only on rows before the window's origin** (the history is
re-prepared from those rows, so open slots, outlier cleaning and holiday rules cannot peek ahead)
and forecasts the window. Accuracy is measured on the raw observed actuals only (closed slots and
missing intervals are not scored).

Interval coverage is measured honestly with *leave-one-fold-out* conformal calibration: the
intervals for fold ``k`` are calibrated on the residuals of the other folds only. (With one fold
coverage cannot be measured and is NaN.) The final forecast is calibrated on all folds.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import metrics as M
from .base import ForecastConfig, ProgressCallback, make_model
from .conformal import ConformalCalibrator
from .ensemble import DEFAULT_MEMBERS
from .frequency import DAY, PreparedSeries, freq_label, parse_freq, prepare_series
from .inputs import normalise_input

logger = logging.getLogger(__name__)

#: weeks of training the first backtest fold must have (the naive needs one, MASE a second)
MIN_TRAIN_WEEKS = 2
#: models whose fits cost seconds rather than milliseconds: the auto pipeline's time goes here
EXPENSIVE: frozenset[str] = frozenset({"prophet", "prophet_default", "lightgbm", "lightgbm_recursive"})
#: pre-screen: a model whose error on the newest fold exceeds this multiple of the best error seen there so far
#: is not backtested further (it cannot plausibly win the comparison)
SCREEN_RATIO = 1.25


def rolling_origins(last: pd.Timestamp, step: pd.Timedelta, folds: int, horizon: int) -> list[pd.Timestamp]:
    """First test timestamp of each fold: ``folds`` back-to-back windows of ``horizon`` steps ending at ``last``."""
    if folds < 1 or horizon < 1:
        raise ValueError("folds and horizon must be at least 1")
    return [pd.Timestamp(last) + step - (folds - k) * horizon * step for k in range(folds)]


def split_masks(ds: pd.DatetimeIndex | pd.Series, origin: pd.Timestamp, horizon: int,
                step: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) boolean masks over ``ds``: train is strictly before ``origin``, test is the window."""
    values = pd.DatetimeIndex(ds)
    train = np.asarray(values < origin)
    test = np.asarray((values >= origin) & (values < origin + horizon * step))
    return train, test


def min_history_message(series_id: str, have: int, need: int, step: pd.Timedelta, folds: int, horizon: int) -> str:
    """The 'too short' message, in days for a daily series and in intervals plus days otherwise."""
    def amount(steps: int) -> str:
        if step == DAY:
            return f"{steps} day{'s' if steps != 1 else ''}"
        return f"{steps} {freq_label(step)} intervals ({steps * step / DAY:.1f} days)"

    return (f"Series {series_id!r} has {amount(have)} of history; at least {amount(need)} are needed: "
            f"{MIN_TRAIN_WEEKS} weeks of training + {folds} backtest fold(s) × {amount(horizon)}. "
            f"Use fewer backtest folds or a shorter backtest horizon, or load more history.")


def require_history(prep: PreparedSeries, series_id: str, folds: int, horizon: int) -> None:
    """``ValueError`` (:func:`min_history_message`) when ``prep`` is too short for ``folds`` windows of ``horizon``
    steps after :data:`MIN_TRAIN_WEEKS` weeks of training."""
    need = MIN_TRAIN_WEEKS * prep.cal.season + folds * horizon
    if prep.n < need:
        raise ValueError(min_history_message(series_id, prep.n, need, prep.cal.step, folds, horizon))


def backtest_horizon(config: ForecastConfig, prep: PreparedSeries) -> int:
    """Grid steps per backtest window: ``config.backtest_horizon`` when given, else the forecast horizon —
    widened to one week when it is shorter and the history allows.

    Why: a window shorter than a week can fall wholly on a closed weekend (no actuals, so the fold measures
    nothing: a 15-minute series forecast 168 steps ahead is 42 hours), never sees some weekdays, and holds few
    residuals for the interval calibration (a next-day daily forecast: one per fold). For every model here a
    window of up to one week fits the same model as the shorter horizon (LightGBM's direct lags are whole weeks).
    """
    h = config.effective_backtest_horizon
    week = prep.cal.season
    if config.backtest_horizon is None and h < week:
        if prep.n >= MIN_TRAIN_WEEKS * week + config.folds * week:
            return week
    return h


#: out-of-sample residuals the interval calibration should rest on: the 95% interval's conformal order statistic
#: ``ceil(0.975·(n+1))`` only falls inside the sample from n = 39 on; below that the interval is the residual range
#: and under-covers (measured: a 7-day daily horizon with 3 folds covered 87-89% at 95%; with 8 folds 92-94%)
MIN_RESIDUALS = 56
#: upper bound on the folds added for short horizons (each fold costs one fit per expensive model)
MAX_FOLDS = 12


def backtest_folds(config: ForecastConfig, prep: PreparedSeries, horizon: int) -> tuple[int, int | None]:
    """(folds, expensive_folds) for one series: ``config``'s values, raised for short backtest windows.

    A window of ``horizon`` grid steps holds about ``horizon × open share`` actuals; when the folds would give
    fewer than :data:`MIN_RESIDUALS`, more folds are used (up to :data:`MAX_FOLDS` and what the history
    allows), and the expensive models get as many — they need the residuals too if they win. Long windows
    (a week of hourly data, 28 days) keep ``config.folds``/``config.expensive_folds`` unchanged.
    """
    folds, expensive = int(config.folds), config.expensive_folds
    per_window = horizon * float(np.mean(prep.active_slots)) if len(prep.active_slots) else float(horizon)
    if per_window <= 0:
        return folds, expensive
    wanted = min(MAX_FOLDS, math.ceil(MIN_RESIDUALS / per_window))
    room = (prep.n - MIN_TRAIN_WEEKS * prep.cal.season) // horizon
    target = max(folds, min(wanted, room))
    if expensive is not None:
        expensive = min(target, max(int(expensive), min(wanted, room)))
    return target, expensive



@dataclass
class FoldForecast:
    """One model's forecast for one backtest window (arrays over the window's grid steps)."""

    fold: int
    ds: pd.DatetimeIndex
    y: np.ndarray  # raw actual where observed, NaN otherwise (never scored)
    yhat: np.ndarray
    closed: np.ndarray
    native: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class ModelRun:
    """Every fold of one model on one series."""

    name: str
    folds: list[FoldForecast] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.folds)

    def pooled(self) -> tuple[np.ndarray, np.ndarray]:
        """All folds' (actual, forecast) pairs, for the final conformal calibration."""
        return (np.concatenate([f.y for f in self.folds]), np.concatenate([f.yhat for f in self.folds]))


@dataclass
class SeriesBacktest:
    """The backtest of several models on one series, plus what the engine needs afterwards."""

    series_id: str
    prep: PreparedSeries
    horizon: int
    origins: list[pd.Timestamp]
    scale: float
    runs: dict[str, ModelRun]

    def calibrator(self, model: str, levels: tuple[int, ...], scale: str) -> ConformalCalibrator | None:
        run = self.runs[model]
        y, f = run.pooled()
        if np.isfinite(y).sum() < 2:
            return None
        return ConformalCalibrator.fit(y, f, levels, scale)

    def _interval_metrics(self, run: ModelRun, levels: tuple[int, ...], scale: str) -> dict[str, float]:
        out: dict[str, float] = {}
        ys, lows, highs = [], {lv: [] for lv in levels}, {lv: [] for lv in levels}
        for k, fold in enumerate(run.folds):
            if run.folds and fold.native:
                bounds = fold.native
            else:
                others = [f for j, f in enumerate(run.folds) if j != k]
                if not others:
                    continue
                y = np.concatenate([f.y for f in others])
                f_ = np.concatenate([f.yhat for f in others])
                if np.isfinite(y).sum() < 2:
                    continue
                bounds = ConformalCalibrator.fit(y, f_, levels, scale).apply(fold.yhat, closed=fold.closed)
            ys.append(fold.y)
            for lv in levels:
                lows[lv].append(bounds[f"yhat_lower_{lv}"])
                highs[lv].append(bounds[f"yhat_upper_{lv}"])
        for lv in levels:
            if ys:
                y = np.concatenate(ys)
                lo, hi = np.concatenate(lows[lv]), np.concatenate(highs[lv])
                obs = np.isfinite(y)
                out[f"coverage_{lv}"] = M.coverage(y, lo, hi)
                out[f"width_{lv}"] = M.mean_width(lo[obs], hi[obs])
            else:
                out[f"coverage_{lv}"] = float("nan")
                out[f"width_{lv}"] = float("nan")
        return out

    def table(self, levels: tuple[int, ...], scale: str = "sqrt") -> pd.DataFrame:
        """One row per model: point metrics, coverage/width per level, seconds per fold, error.

        When the models were backtested on different folds (``expensive_folds``), ``mase_common`` (and
        ``mae_common``) is the MASE (MAE) on the folds every working model has — the fair basis for choosing.
        """
        rows = []
        ok_runs = [r for r in self.runs.values() if r.ok]
        fold_sets = [frozenset(f.fold for f in r.folds) for r in ok_runs]
        common = frozenset.intersection(*fold_sets) if fold_sets else frozenset()
        differ = len(set(fold_sets)) > 1
        for name, run in self.runs.items():
            row: dict[str, object] = {"series_id": self.series_id, "model": name, "folds": len(run.folds),
                                      "horizon": self.horizon}
            if run.ok:
                y, f = run.pooled()
                row["n"] = int(np.isfinite(y).sum())
                row.update(M.point_metrics(y, f, self.scale))
                row.update(self._interval_metrics(run, levels, scale))
                row["seconds"] = float(np.mean(run.seconds)) if run.seconds else float("nan")
                if differ:
                    shared = [f for f in run.folds if f.fold in common]
                    ys = np.concatenate([f.y for f in shared]) if shared else np.array([])
                    fs = np.concatenate([f.yhat for f in shared]) if shared else np.array([])
                    row["mase_common"] = M.mase(ys, fs, self.scale) if shared else float("nan")
                    row["mae_common"] = M.mae(ys, fs) if shared else float("nan")
            else:
                row["n"] = 0
                for key in ("mae", "rmse", "mape", "smape", "wape", "mase"):
                    row[key] = float("nan")
                for lv in levels:
                    row[f"coverage_{lv}"] = float("nan")
                    row[f"width_{lv}"] = float("nan")
                row["seconds"] = float("nan")
                if differ:
                    row["mase_common"] = float("nan")
                    row["mae_common"] = float("nan")
            row["error"] = run.error
            rows.append(row)
        return pd.DataFrame(rows)


def _run_model(name: str, preps: list[PreparedSeries], full: PreparedSeries, origins: list[pd.Timestamp],
               horizon: int, levels: tuple[int, ...], seed: int, fold_ids: list[int] | None = None,
               screen: Callable[[str, FoldForecast], str] | None = None) -> ModelRun:
    """Fit and forecast ``name`` on the folds ``fold_ids`` (all by default), newest fold first.

    ``screen(name, newest_fold)`` may return a reason to stop after the newest fold (the model is then reported
    as not compared, with that reason, and costs one fit instead of one per fold).
    """
    run = ModelRun(name)
    ids = list(range(len(origins))) if fold_ids is None else list(fold_ids)
    for n, k in enumerate(sorted(ids, reverse=True)):
        prep, origin = preps[k], origins[k]
        model = make_model(name, seed)
        need = model.min_history_steps(prep, horizon)
        if prep.n < need:
            run.error = f"needs {need} steps ({need * prep.cal.step / DAY:.0f} days) of history before a fold"
            run.folds = []
            return run
        fut = prep.future(horizon)
        if fut.ds[0] != origin:
            raise RuntimeError("backtest grid misaligned")  # cannot happen: origins lie on the grid
        t0 = time.perf_counter()
        try:
            model.fit(prep, horizon)
            pred = model.predict(fut, levels if model.native_intervals else ())
        except Exception as exc:  # noqa: BLE001 - one failing model must not sink the comparison
            logger.warning("backtest %s/%s fold %d failed: %s", full.series_id, name, k, exc)
            run.error = f"{type(exc).__name__}: {exc}"
            run.folds = []
            return run
        run.seconds.append(time.perf_counter() - t0)
        pos = full.ds.get_indexer(fut.ds)
        y = np.where((pos >= 0) & full.observed[np.clip(pos, 0, None)], full.y[np.clip(pos, 0, None)], np.nan)
        yhat = np.where(fut.closed, 0.0, np.clip(pred["yhat"].to_numpy(dtype=float), 0.0, None))
        native = {}
        if model.native_intervals:
            for lv in levels:
                for side in ("lower", "upper"):
                    col = f"yhat_{side}_{lv}"
                    native[col] = np.where(fut.closed, 0.0, np.clip(pred[col].to_numpy(dtype=float), 0.0, None))
        run.folds.append(FoldForecast(fold=k, ds=fut.ds, y=y, yhat=yhat, closed=fut.closed, native=native))
        if n == 0 and screen is not None:
            verdict = screen(name, run.folds[0])
            if verdict:
                run.error = verdict
                run.folds = []
                return run
    run.folds.sort(key=lambda f: f.fold)
    return run


def _ensemble_run(runs: dict[str, ModelRun]) -> ModelRun:
    run = ModelRun("ensemble")
    screened = [m for m in DEFAULT_MEMBERS if m in runs and runs[m].error.startswith("screened out")]
    if screened:
        run.error = f"member{'s' if len(screened) > 1 else ''} {', '.join(screened)} screened out"
        return run
    members = [runs[m] for m in DEFAULT_MEMBERS if m in runs and runs[m].ok]
    if len(members) < 2:
        run.error = "needs at least two working members (" + ", ".join(DEFAULT_MEMBERS) + ")"
        return run
    common = sorted(set.intersection(*({f.fold for f in m.folds} for m in members)))
    by_fold = [{f.fold: f for f in m.folds} for m in members]
    for k in common:
        base = by_fold[0][k]
        yhat = np.mean(np.vstack([b[k].yhat for b in by_fold]), axis=0)
        run.folds.append(FoldForecast(fold=k, ds=base.ds, y=base.y, yhat=yhat, closed=base.closed))
    run.seconds = [float(sum(float(np.mean(m.seconds)) for m in members))] * len(common)
    return run


def backtest_series(
    ds: pd.Series | pd.DatetimeIndex,
    y: pd.Series | np.ndarray,
    *,
    series_id: str,
    models: list[str] | tuple[str, ...],
    folds: int,
    horizon: int,
    levels: tuple[int, ...] = (80, 95),
    country: str | None = "DE",
    seed: int = 0,
    step: pd.Timedelta | None = None,
    prep: PreparedSeries | None = None,
    on_progress: ProgressCallback | None = None,
    screen_ratio: float | None = None,
    expensive_folds: int | None = None,
) -> SeriesBacktest:
    """Backtest ``models`` on one series (see module docstring). ``ValueError`` if the history is too short.

    Time savers (used by ``model="auto"``; both off by default): ``expensive_folds`` backtests the
    :data:`EXPENSIVE` models on the newest ``expensive_folds`` folds only (the cheap ones keep all folds; the
    comparison then uses ``mase_common``, the MASE on the folds every model has). ``screen_ratio``: cheap models
    run first; every further model starts with the newest fold and is dropped ("screened out") when its error
    there exceeds ``screen_ratio`` × the best error on that fold so far.
    """
    full = prep or prepare_series(ds, y, series_id=series_id, step=step, country=country)
    step = full.cal.step
    require_history(full, series_id, folds, horizon)
    origins = rolling_origins(full.last, step, folds, horizon)
    rows = pd.DataFrame({"ds": pd.DatetimeIndex(ds), "y": np.asarray(y, dtype=float)})
    preps = []
    for origin in origins:
        train, _ = split_masks(rows["ds"], origin, horizon, step)
        preps.append(prepare_series(rows["ds"][train], rows["y"][train], series_id=series_id, step=step,
                                    country=country, end=origin - step))
    first = preps[0]
    # the MASE denominator from the cleaned history: one outage or data spike of 1e9 in the raw rows would
    # otherwise inflate the scale so far that every model scores 'MASE 0.00' and the pre-screen compares noise
    scale = M.seasonal_naive_scale(np.where(first.observed, first.y_train, np.nan), first.cal.season)
    wanted = list(dict.fromkeys(models))
    to_run = [m for m in wanted if m != "ensemble"]
    if "ensemble" in wanted:
        to_run += [m for m in DEFAULT_MEMBERS if m not in to_run]
    to_run.sort(key=lambda m: m in EXPENSIVE)  # cheap first: they set the bar for the screen (stable sort)
    best: dict[str, float | str] = {"mae": float("inf"), "model": ""}

    def screen(name: str, fold: FoldForecast) -> str:
        obs = np.isfinite(fold.y)
        if not obs.any():
            return ""
        mae = float(np.mean(np.abs(fold.y[obs] - fold.yhat[obs])))
        bar = float(best["mae"])
        usable = np.isfinite(bar) and bar > 0 and np.isfinite(scale) and scale > 0  # degenerate data: no screen
        if screen_ratio is not None and name in EXPENSIVE and usable and mae > screen_ratio * bar:
            return (f"screened out: MASE {mae / scale:.2f} on the newest fold vs {bar / scale:.2f} for {best['model']} "
                    f"(more than {screen_ratio:.2f}×), so it cannot plausibly win")
        if mae < bar:
            best["mae"], best["model"] = mae, name
        return ""

    n_expensive = None if expensive_folds is None else max(1, min(int(expensive_folds), folds))
    runs: dict[str, ModelRun] = {}
    for i, name in enumerate(to_run):
        if on_progress:
            on_progress(i / (len(to_run) + 1), f"{series_id}: backtesting {name}")
        ids = list(range(folds - n_expensive, folds)) if n_expensive and name in EXPENSIVE else None
        runs[name] = _run_model(name, preps, full, origins, horizon, levels, seed, fold_ids=ids, screen=screen)
    if "ensemble" in wanted:
        runs["ensemble"] = _ensemble_run(runs)
    runs = {m: runs[m] for m in dict.fromkeys([*wanted, *runs])}  # report in the order asked for
    return SeriesBacktest(series_id=str(series_id), prep=full, horizon=horizon, origins=origins, scale=scale,
                          runs=runs)


def backtest(
    df: pd.DataFrame,
    models: list[str] | tuple[str, ...],
    folds: int,
    horizon: int,
    levels: tuple[int, ...] = (80, 95),
    *,
    country_holidays: str | None = "DE",
    seed: int = 0,
    freq: str | None = None,
    conformal_scale: str = "sqrt",
    on_progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Backtest table for a long frame ``series_id, ds, y`` (``series_id`` optional): one row per series × model.

    Columns: ``series_id, model, folds, horizon, n, mae, rmse, mape, smape, wape, mase,
    coverage_<L>, width_<L>… , seconds, error`` (percentages for mape/smape/wape/coverage,
    ``seconds`` = mean fit+predict time per fold, ``error`` non-empty when a model could not run).
    """
    data = normalise_input(df)
    step = parse_freq(freq) if freq else None
    tables = []
    groups = list(data.groupby("series_id", sort=True))
    for i, (sid, part) in enumerate(groups):
        def prog(frac: float, text: str, i: int = i) -> None:
            if on_progress:
                on_progress((i + frac) / len(groups), text)

        bt = backtest_series(part["ds"], part["y"], series_id=str(sid), models=models, folds=folds, horizon=horizon,
                             levels=tuple(levels), country=country_holidays, seed=seed, step=step, on_progress=prog)
        tables.append(bt.table(tuple(levels), conformal_scale))
    if on_progress:
        on_progress(1.0, "backtest done")
    return pd.concat(tables, ignore_index=True)
