"""Types shared by the forecasting engine: configuration, results and the model interface."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .frequency import FutureGrid, PreparedSeries

ProgressCallback = Callable[[float, str], None]

#: model name -> "module:Class" (imported lazily so that e.g. the CLI's --help never loads Prophet)
MODEL_CLASSES: dict[str, str] = {
    "seasonal_naive": "baselines:SeasonalNaive",
    "profile": "baselines:WeekdayProfile",
    "prophet": "prophet_model:ProphetModel",
    "prophet_default": "prophet_model:DefaultProphet",
    "lightgbm": "lgbm_model:LightGBMModel",
    "lightgbm_recursive": "lgbm_model:LightGBMRecursive",
    "ensemble": "ensemble:EnsembleModel",
}
#: what model="auto" compares (prophet_default is the reference in the benchmark, not a candidate)
AUTO_CANDIDATES: tuple[str, ...] = ("seasonal_naive", "profile", "prophet", "lightgbm", "ensemble")
MODEL_NAMES: tuple[str, ...] = tuple(MODEL_CLASSES)


def model_class(name: str) -> type[Forecaster]:
    """The class implementing model ``name``; ``ValueError`` naming the valid models otherwise."""
    try:
        target = MODEL_CLASSES[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}; choose auto or one of: {', '.join(MODEL_NAMES)}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), cls)


def make_model(name: str, seed: int = 0) -> Forecaster:
    """A fresh, unfitted model instance."""
    return model_class(name)(seed=seed)


class Forecaster(ABC):
    """A point forecaster on a :class:`PreparedSeries`.

    Intervals are added afterwards by conformal calibration on backtest residuals, so a model only
    has to be good at the mean. A model that brings its own intervals sets ``native_intervals``.
    Models must be serialisable without pickle: ``get_state`` returns JSON-able parameters and raw
    artifact bytes, ``from_state`` rebuilds an equivalent fitted model.
    """

    name: ClassVar[str]
    native_intervals: ClassVar[bool] = False
    has_components: ClassVar[bool] = False

    def __init__(self, seed: int = 0) -> None:
        self.seed = int(seed)

    def min_history_steps(self, prep: PreparedSeries, horizon: int) -> int:
        """Grid steps of history this model needs to forecast ``horizon`` steps (default: two weeks)."""
        return 2 * prep.cal.season

    @abstractmethod
    def fit(self, prep: PreparedSeries, horizon: int) -> Forecaster:
        """Fit on the whole of ``prep`` for forecasts up to ``horizon`` steps ahead."""

    @abstractmethod
    def predict(self, future: FutureGrid, levels: tuple[int, ...] = ()) -> pd.DataFrame:
        """Columns ``yhat`` (+ ``yhat_lower_L``/``yhat_upper_L`` if native, + components), one row per step."""

    @abstractmethod
    def get_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        """(JSON-able parameters, artifacts as bytes) that :meth:`from_state` turns back into this model."""

    @classmethod
    @abstractmethod
    def from_state(cls, params: dict[str, Any], artifacts: dict[str, bytes]) -> Forecaster:
        """Rebuild a fitted model from :meth:`get_state` output."""


@dataclass(frozen=True)
class ForecastConfig:
    """What to forecast and how.

    ``horizon`` and ``backtest_horizon`` count steps of the series' own grid (168 = one week hourly).
    ``model`` is ``"auto"`` or one of :data:`MODEL_NAMES`. ``country_holidays`` is an ISO code for
    national public holidays (``None`` disables holidays).
    """

    horizon: int
    levels: tuple[int, ...] = (80, 95)
    model: str = "auto"
    folds: int = 3
    backtest_horizon: int | None = None
    country_holidays: str | None = "DE"
    seed: int = 0
    n_jobs: int = 1
    freq: str | None = None
    candidates: tuple[str, ...] = AUTO_CANDIDATES
    conformal_scale: str = "sqrt"
    #: auto only: backtest the expensive models (Prophet, LightGBM) on the newest N folds (None = all folds)
    expensive_folds: int | None = 2
    #: auto only: drop a model after its newest fold when its error there is > this × the best so far (None = off)
    screen_ratio: float | None = 1.25

    def __post_init__(self) -> None:
        if int(self.horizon) < 1:
            raise ValueError("horizon must be at least 1 step")
        if not self.levels or any(not (0 < int(lv) < 100) for lv in self.levels):
            raise ValueError("levels must be integers between 1 and 99, e.g. (80, 95)")
        if len(set(self.levels)) != len(self.levels):
            raise ValueError("levels must be distinct")
        if self.model != "auto" and self.model not in MODEL_NAMES:
            raise ValueError(f"Unknown model {self.model!r}; choose auto or one of: {', '.join(MODEL_NAMES)}")
        unknown = [c for c in self.candidates if c not in MODEL_NAMES]
        if unknown or not self.candidates:
            raise ValueError(f"Unknown candidate model(s) {unknown}; choose from {', '.join(MODEL_NAMES)}")
        if int(self.folds) < 1:
            raise ValueError("folds must be at least 1")
        if self.backtest_horizon is not None and int(self.backtest_horizon) < 1:
            raise ValueError("backtest_horizon must be at least 1 step")
        if int(self.n_jobs) == 0:
            raise ValueError("n_jobs must be positive (or negative for 'all cores but …'), not 0")
        if self.expensive_folds is not None and int(self.expensive_folds) < 1:
            raise ValueError("expensive_folds must be at least 1 (or None for all folds)")
        if self.screen_ratio is not None and not float(self.screen_ratio) > 1:
            raise ValueError("screen_ratio must be greater than 1 (or None to switch the pre-screen off)")
        if self.conformal_scale not in ("none", "sqrt", "level"):
            raise ValueError("conformal_scale must be 'none', 'sqrt' or 'level'")
        object.__setattr__(self, "levels", tuple(sorted(int(lv) for lv in self.levels)))

    @property
    def effective_backtest_horizon(self) -> int:
        return int(self.backtest_horizon or self.horizon)


@dataclass
class ForecastResult:
    """Everything a page needs from one training run.

    - ``forecast``: ``series_id, ds, yhat, yhat_lower_<L>, yhat_upper_<L>…, model, is_open`` on the
      complete grid (closed slots are 0).
    - ``components``: Prophet's ``series_id, ds, trend, daily, weekly, yearly, holidays`` for series
      whose chosen model is Prophet (None when no series uses Prophet).
    - ``backtest``: one row per series × model with every metric (see :mod:`.backtest`).
    - ``chosen``/``reasons``/``freq``: per series the model used, a sentence why, the grid step.
    - ``coverage``: measured out-of-sample coverage of the chosen model, ``{series: {level: %}}``.
    - ``diagnostics``: per series facts (missing intervals, outliers, open slots, holiday closure).
    - ``fitted``: the fitted models, savable through :class:`src.models.registry.ModelRegistry`.
    """

    forecast: pd.DataFrame
    components: pd.DataFrame | None
    backtest: pd.DataFrame
    chosen: dict[str, str]
    reasons: dict[str, str]
    freq: dict[str, str]
    fitted: dict[str, Any]
    coverage: dict[str, dict[int, float]] = field(default_factory=dict)
    diagnostics: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: float = 0.0
    #: series that could not be forecast (only with ``run_forecast(..., skip_failed=True)``): id → reason
    failed: dict[str, str] = field(default_factory=dict)


def clip_nonnegative(frame: pd.DataFrame) -> pd.DataFrame:
    """Clip ``yhat`` and every bound at 0 in place (volumes are never negative) and return the frame."""
    cols = [c for c in frame.columns if c == "yhat" or c.startswith("yhat_")]
    frame[cols] = np.clip(frame[cols].to_numpy(dtype=float), 0.0, None)
    return frame
