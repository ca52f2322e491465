"""Prophet 1.5 models: the tuned one the engine offers and the untouched default as a reference.

``ProphetModel`` fixes default Prophet's main failure on contact-centre data: one daily profile
shared by all weekdays. It fits one *conditional* daily seasonality per weekday (Prophet's
``add_seasonality(condition_name=…)``), trains only on open slots (closed hours are forced to 0
anyway), adds national holidays, uses MAP fitting and ``uncertainty_samples=0`` because intervals
come from conformal calibration. ``DefaultProphet`` is ``Prophet()`` as a user would call it, with
its own sampled intervals: the benchmark reference whose accuracy and coverage we must beat.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from .base import Forecaster
from .frequency import FutureGrid, PreparedSeries

logger = logging.getLogger(__name__)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _quiet() -> None:
    """Keep CmdStan's per-fit INFO chatter out of the logs (called in every worker process).

    cmdstanpy configures its logger lazily (level DEBUG + its own handler) on first use, so it is
    initialised here first and then turned down.
    """
    try:
        from cmdstanpy.utils.logging import get_logger

        get_logger()
    except ImportError:  # pragma: no cover - cmdstanpy ships with prophet
        pass
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.WARNING)


@contextmanager
def _seeded(seed: int):
    """Prophet samples with the global NumPy RNG; seed it for this block and restore it afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


class _FastDataFile:
    """Stands in for Prophet's ``CmdStanModel`` and writes the Stan data file with orjson.

    Why: cmdstanpy hands the data dict to stanio, whose pure-Python JSON writer took ~60% of a Prophet
    fit on hourly series (profiled: 1.0 s of 1.5 s for two fits of 4,400 rows × 60 features); orjson
    writes the same shortest-round-trip floats 15-20× faster, so the fitted parameters are identical.
    Anything that is not a plain finite-number dict (NaN/inf would need Stan's special spellings) goes
    through cmdstanpy's own writer unchanged.
    """

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def optimize(self, data: Any = None, **kwargs: Any) -> Any:
        payload = _json_bytes(data) if isinstance(data, dict) else None
        if payload is None:
            return self._model.optimize(data=data, **kwargs)
        fd, path = tempfile.mkstemp(prefix="prophet-data-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            return self._model.optimize(data=path, **kwargs)
        finally:
            os.unlink(path)


def _all_finite(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int):
        return True
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return all(_all_finite(v) for v in value)
        return bool(np.isfinite(np.asarray(value, dtype=float)).all()) if value else True
    if isinstance(value, np.ndarray):
        return bool(np.isfinite(value).all())
    return False


def _json_bytes(data: dict[str, Any]) -> bytes | None:
    """orjson encoding of Prophet's Stan data, or ``None`` when it must go through cmdstanpy's writer."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - pinned in requirements.txt
        return None
    if not all(_all_finite(v) for v in data.values()):
        return None
    try:
        return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return None


def _use_fast_data_file(model: Any) -> None:
    backend = getattr(model, "stan_backend", None)
    if backend is not None and hasattr(backend, "model") and not isinstance(backend.model, _FastDataFile):
        backend.model = _FastDataFile(backend.model)


#: intraday Prophet trains on the last 26 weeks: a one-week-ahead contact-centre forecast needs the recent
#: level and weekday shapes, and fitting two years of 15-minute rows costs 10× the time for no gain
INTRADAY_MAX_WEEKS = 26


def _training_frame(prep: PreparedSeries, cleaned: bool, max_weeks: int | None = None) -> pd.DataFrame:
    y = prep.y_train if cleaned else np.where(prep.observed, prep.y, np.nan)
    keep = np.isfinite(y) & prep.active_slots[prep.slot]
    if max_weeks is not None:
        keep &= np.arange(prep.n) >= prep.n - max_weeks * prep.cal.season
    return pd.DataFrame({"ds": prep.ds[keep], "y": y[keep]})


def _components(pred: pd.DataFrame) -> pd.DataFrame:
    daily_cols = [c for c in pred.columns if c == "daily" or (c.startswith("daily_") and not c.endswith(("_lower",
                                                                                                        "_upper")))]
    out = pd.DataFrame({"trend": pred["trend"].to_numpy()})
    out["daily"] = pred[daily_cols].sum(axis=1).to_numpy() if daily_cols else 0.0
    for name in ("weekly", "yearly", "holidays"):
        out[name] = pred[name].to_numpy() if name in pred.columns else 0.0
    return out


def _from_json(text: str):
    from prophet.serialize import model_from_json

    try:
        return model_from_json(text)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"Prophet model file is malformed: {type(exc).__name__}: {exc}") from None


class ProphetModel(Forecaster):
    """Prophet with weekday-specific daily seasonality, national holidays and MAP fitting."""

    name = "prophet"
    has_components = True

    def __init__(self, seed: int = 0, seasonality_mode: str = "additive", weekday_daily: bool = True,
                 holidays: bool = True, daily_fourier: int = 8) -> None:
        super().__init__(seed)
        if seasonality_mode not in ("additive", "multiplicative"):
            raise ValueError("seasonality_mode must be 'additive' or 'multiplicative'")
        self.seasonality_mode = seasonality_mode
        self.weekday_daily = bool(weekday_daily)
        self.holidays = bool(holidays)
        self.daily_fourier = int(daily_fourier)
        self.conditions: list[int] = []
        self.model = None

    def _future_frame(self, ds: pd.DatetimeIndex) -> pd.DataFrame:
        df = pd.DataFrame({"ds": ds})
        dow = ds.dayofweek
        for d in self.conditions:
            df[f"on_{_DAYS[d]}"] = dow == d
        return df

    def fit(self, prep: PreparedSeries, horizon: int) -> ProphetModel:
        from prophet import Prophet

        _quiet()
        train = _training_frame(prep, cleaned=True, max_weeks=INTRADAY_MAX_WEEKS if prep.cal.intraday else None)
        if len(train) < 2:
            raise ValueError("Prophet needs at least two observed values")
        intraday = prep.cal.intraday
        model = Prophet(
            growth="linear", seasonality_mode=self.seasonality_mode, uncertainty_samples=0,
            daily_seasonality=intraday and not self.weekday_daily, weekly_seasonality=True,
            yearly_seasonality="auto",
        )
        self.conditions = []
        if intraday and self.weekday_daily:
            present = set(np.unique(train["ds"].dt.dayofweek))
            order = max(1, min(self.daily_fourier, prep.cal.day_steps // 2 - 1))
            self.conditions = sorted(int(d) for d in present)
            for d in self.conditions:
                model.add_seasonality(name=f"daily_{_DAYS[d]}", period=1, fourier_order=order,
                                      condition_name=f"on_{_DAYS[d]}")
        if self.holidays and prep.country and not prep.closed_on_holidays:
            model.add_country_holidays(country_name=prep.country)
        frame = self._future_frame(pd.DatetimeIndex(train["ds"]))
        frame["y"] = train["y"].to_numpy()
        _use_fast_data_file(model)
        model.fit(frame, seed=self.seed)
        self.model = model
        return self

    def predict(self, future: FutureGrid, levels: tuple[int, ...] = ()) -> pd.DataFrame:
        pred = self.model.predict(self._future_frame(future.ds))
        out = _components(pred)
        out.insert(0, "yhat", np.clip(pred["yhat"].to_numpy(), 0.0, None))
        return out

    def get_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        from prophet.serialize import model_to_json

        params = {"seasonality_mode": self.seasonality_mode, "weekday_daily": self.weekday_daily,
                  "holidays": self.holidays, "daily_fourier": self.daily_fourier, "conditions": self.conditions}
        return params, {"prophet.json": model_to_json(self.model).encode("utf-8")}

    @classmethod
    def from_state(cls, params: dict[str, Any], artifacts: dict[str, bytes]) -> ProphetModel:
        model = cls(seasonality_mode=params["seasonality_mode"], weekday_daily=params["weekday_daily"],
                    holidays=params["holidays"], daily_fourier=params["daily_fourier"])
        model.conditions = [int(d) for d in params["conditions"]]
        model.model = _from_json(artifacts["prophet.json"].decode("utf-8"))
        return model


class DefaultProphet(Forecaster):
    """``Prophet()`` with every default, fed the raw observed rows; intervals from its own sampling."""

    name = "prophet_default"
    native_intervals = True
    has_components = True

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.model = None

    def fit(self, prep: PreparedSeries, horizon: int) -> DefaultProphet:
        from prophet import Prophet

        _quiet()
        train = _training_frame(prep, cleaned=False)
        if len(train) < 2:
            raise ValueError("Prophet needs at least two observed values")
        self.model = Prophet().fit(train, seed=self.seed)
        return self

    def predict(self, future: FutureGrid, levels: tuple[int, ...] = ()) -> pd.DataFrame:
        df = pd.DataFrame({"ds": future.ds})
        samples_n = self.model.uncertainty_samples
        self.model.uncertainty_samples = 0
        try:
            pred = self.model.predict(df)
        finally:
            self.model.uncertainty_samples = samples_n
        out = _components(pred)
        out.insert(0, "yhat", pred["yhat"].to_numpy())
        if levels:
            with _seeded(self.seed):
                draws = self.model.predictive_samples(df)["yhat"]
            for lv in levels:
                a = (100 - lv) / 200
                out[f"yhat_lower_{lv}"] = np.quantile(draws, a, axis=1)
                out[f"yhat_upper_{lv}"] = np.quantile(draws, 1 - a, axis=1)
        return out

    def get_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        from prophet.serialize import model_to_json

        return {}, {"prophet.json": model_to_json(self.model).encode("utf-8")}

    @classmethod
    def from_state(cls, params: dict[str, Any], artifacts: dict[str, bytes]) -> DefaultProphet:
        model = cls()
        model.model = _from_json(artifacts["prophet.json"].decode("utf-8"))
        return model
