"""Workload forecasting engine (pure domain code).

Public API::

    run_forecast(df, ForecastConfig(horizon=168), on_progress=None) -> ForecastResult
    backtest(df, models, folds, horizon, levels=(80, 95)) -> DataFrame
    reforecast_intraday(forecast, actuals, now) -> DataFrame
    FittedModel.predict(horizon=None) -> (forecast, components)

Input is a long frame ``series_id, ds, y`` at any regular step from 15 minutes to one day; see
:mod:`.frequency` for how open hours, gaps, holidays and outliers are handled.
"""

from .auto import choose_model
from .backtest import backtest, backtest_series, rolling_origins, split_masks
from .base import AUTO_CANDIDATES, MODEL_NAMES, ForecastConfig, Forecaster, ForecastResult, make_model
from .conformal import ConformalCalibrator
from .engine import history_problems, normalise_input, run_forecast
from .fitted import FittedModel
from .frequency import Calendar, PreparedSeries, infer_step, parse_freq, prepare_series
from .intraday import reforecast_intraday
from .metrics import coverage, mae, mape, mase, mean_width, rmse, seasonal_naive_scale, smape, wape

__all__ = [
    "AUTO_CANDIDATES", "MODEL_NAMES", "Calendar", "ConformalCalibrator", "FittedModel", "ForecastConfig",
    "ForecastResult", "Forecaster", "PreparedSeries", "backtest", "backtest_series", "choose_model", "coverage",
    "history_problems", "infer_step", "mae", "make_model", "mape", "mase", "mean_width", "normalise_input",
    "parse_freq", "prepare_series", "reforecast_intraday", "rmse", "rolling_origins", "run_forecast",
    "seasonal_naive_scale", "smape", "split_masks", "wape",
]
