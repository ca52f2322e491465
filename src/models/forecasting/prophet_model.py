"""Prophet 1.5 models: the tuned one the engine offers and the untouched default as a reference.

``ProphetModel`` fixes default Prophet's main failure on contact-centre data: one daily profile
shared by all weekdays. It fits one *conditional* daily seasonality per weekday (Prophet's
``add_seasonality(condition_name=…)``), trains only on open slots (closed hours are forced to 0
anyway), adds national holidays (one shared effect plus a shrunk deviation per holiday), uses MAP
fitting and ``uncertainty_samples=0`` because intervals come from conformal calibration.
``DefaultProphet`` is ``Prophet()`` as a user would call it, with its own sampled intervals: the
benchmark reference whose accuracy and coverage we must beat.
"""

from __future__ import annotations

import logging
import os
import tempfile
from contextlib import contextmanager
from functools import lru_cache
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


#: CmdStan's L-BFGS convergence tests, looser than its defaults (1e4 and 1e7) for the tuned model: the
#: optimiser's last iterations move the forecast by < 2% of its mean at most, and measured over 4 hold-out weeks
#: of 16 hourly and daily series the MASE was unchanged (0.7895/0.8389/0.7791 vs 0.7895/0.8387/0.7774) while a
#: fit took 14-19% less CPU. Default Prophet (the benchmark reference) keeps CmdStan's defaults.
LBFGS_TOLERANCES: dict[str, float] = {"tol_rel_obj": 1e7, "tol_rel_grad": 1e8}


class _FastDataFile:
    """Stands in for Prophet's ``CmdStanModel`` and writes the Stan data file with orjson.

    Why: cmdstanpy hands the data dict to stanio, whose pure-Python JSON writer took ~60% of a Prophet
    fit on hourly series (profiled: 1.0 s of 1.5 s for two fits of 4,400 rows × 60 features); orjson
    writes the same shortest-round-trip floats 15-20× faster, so the fitted parameters are identical.
    Anything that is not a plain finite-number dict (NaN/inf would need Stan's special spellings) goes
    through cmdstanpy's own writer unchanged.

    It also stops L-BFGS a little earlier (:data:`LBFGS_TOLERANCES`). Newton runs (Prophet uses Newton below 100
    rows and as its fallback when L-BFGS fails) keep CmdStan's defaults: the tolerances are L-BFGS options.
    """

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        # Only called for names the instance lacks. While unpickling (a fitted model sent to or from a worker
        # process) the object exists before ``_model`` is restored and pickle probes ``__setstate__`` & co.:
        # delegating then looked up ``self._model``, which called this again — forever (RecursionError).
        model = self.__dict__.get("_model")
        if model is None or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        return getattr(model, name)

    def optimize(self, data: Any = None, **kwargs: Any) -> Any:
        if str(kwargs.get("algorithm", "")).upper() == "LBFGS":
            kwargs = {**LBFGS_TOLERANCES, **kwargs}
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


def _json_bytes(data: dict[str, Any]) -> bytes | None:
    """orjson encoding of Prophet's Stan data, or ``None`` when it must go through cmdstanpy's writer.

    orjson writes NaN and ±inf as ``null``, which Stan would reject; Prophet's data holds only numbers (no
    strings, no None), so a ``null`` in the output means a non-finite value. Searching the bytes once is
    ~20 ms faster per hourly fit than checking 600,000 values in Python beforehand.
    """
    try:
        import orjson
    except ImportError:  # pragma: no cover - pinned in requirements.txt
        return None
    try:
        payload = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return None
    return None if b"null" in payload else payload


def _use_fast_data_file(model: Any) -> None:
    backend = getattr(model, "stan_backend", None)
    if backend is not None and hasattr(backend, "model") and not isinstance(backend.model, _FastDataFile):
        backend.model = _FastDataFile(backend.model)


#: name of the effect every public holiday shares (see :func:`_holiday_table`)
SHARED_HOLIDAY = "public holiday"
#: prior scale of each holiday's own deviation from the shared effect (Prophet's scale: the series' maximum is 1)
HOLIDAY_DEVIATION_PRIOR = 0.05


@lru_cache(maxsize=16)
def _holiday_table(country: str, first_year: int, last_year: int) -> pd.DataFrame:
    """Prophet's national-holiday table for whole years, with partial pooling: every holiday date carries one
    shared effect (:data:`SHARED_HOLIDAY`, Prophet's default prior) plus its own deviation under a tight prior.

    Why pooling: with two or three years of history each named holiday has been seen two or three times, and
    Prophet's one-effect-per-name estimates are mostly noise (a 5-year daily probe put Christmas at −14 %/−23 %
    against a true −12 % and missed the Christmas week by 30 %). Measured on daily series whose holidays differ
    (effects 0.65–1.1, 2 and 3 years of history, 10 seeds, every holiday week of the last year): MAE on holiday days
    per-name 17.6, fully pooled 17.4, shared + deviations 15.3 (best in 7 of 10); whole weeks 15.0/15.0/14.6.
    Built once per span: ``add_country_holidays`` rebuilt it on every fit and predict (~13 ms a call).
    The frame is cached: callers pass Prophet a copy (Prophet converts the frame's columns in place).
    """
    from prophet.make_holidays import make_holidays_df

    table = make_holidays_df(year_list=list(range(first_year, last_year + 1)), country=country)
    shared = table.assign(holiday=SHARED_HOLIDAY, prior_scale=10.0)
    return pd.concat([shared, table.assign(prior_scale=HOLIDAY_DEVIATION_PRIOR)], ignore_index=True)


@lru_cache(maxsize=1)
def _lean_prophet_class() -> type:
    """``Prophet`` with a vectorised ``regressor_column_matrix`` and ``fourier_series`` (same results, no pandas).

    Why: Prophet builds the feature-to-component indicator table with one ``pd.concat`` per group and a
    ``pd.crosstab`` on every fit and predict — 25-30 ms per call, more than the Stan optimisation of a daily
    series. The result is identical (a test compares both on several models); saved models are plain Prophet.
    """
    from prophet import Prophet

    class LeanProphet(Prophet):
        @staticmethod
        def fourier_series(dates: pd.Series, period: float, series_order: int) -> np.ndarray:
            """Prophet's Fourier features with the arithmetic on a NumPy array instead of a pandas Series: the
            same operations in the same order (bit-identical), without ~0.1 ms of pandas overhead per operation —
            7 weekday seasonalities × 12 terms made this a quarter of an hourly predict."""
            if not (series_order >= 1):
                raise ValueError("series_order must be >= 1")
            epoch = pd.Timestamp("1970-01-01", tz=dates.dt.tz)
            t = (dates - epoch).dt.total_seconds().to_numpy() / (24 * 60 * 60)
            x_t = np.pi * 2 * t
            features = np.empty((dates.shape[0], 2 * series_order))
            for i in range(series_order):
                c = (i + 1) / period * x_t
                features[:, 2 * i] = np.sin(c)
                features[:, (2 * i) + 1] = np.cos(c)
            return features

        def regressor_column_matrix(self, seasonal_features: pd.DataFrame,
                                    modes: dict[str, list[str]]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
            names = [str(c).split("_delim_")[0] for c in seasonal_features.columns]
            members: dict[str, list[int]] = {}
            for col, name in enumerate(names):
                members.setdefault(name, []).append(col)

            def add_group(name: str, group: Any) -> None:
                wanted = set(group)
                cols = sorted({c for comp, cs in members.items() if comp in wanted for c in cs})
                if cols:
                    members.setdefault(name, []).extend(cols)

            if self.train_holiday_names is not None:
                add_group("holidays", self.train_holiday_names.unique())
            for mode in ("additive", "multiplicative"):
                add_group(mode + "_terms", modes[mode])
                add_group("extra_regressors_" + mode,
                          [r for r, props in self.extra_regressors.items() if props["mode"] == mode])
                modes[mode].append(mode + "_terms")
                modes[mode].append("extra_regressors_" + mode)
            modes[self.holidays_mode].append("holidays")
            ordered = sorted(members)
            matrix = np.zeros((len(names), len(ordered)), dtype=np.int64)
            for j, comp in enumerate(ordered):
                np.add.at(matrix[:, j], members[comp], 1)
            component_cols = pd.DataFrame(matrix, index=pd.Index(np.arange(len(names)), name="col"),
                                          columns=pd.Index(ordered, name="component"))
            for name in ("additive_terms", "multiplicative_terms"):
                if name not in component_cols:
                    component_cols[name] = 0
            component_cols = component_cols.drop("zeros", axis=1, errors="ignore")
            if (component_cols["additive_terms"] + component_cols["multiplicative_terms"]).max() > 1:
                raise ValueError("A bug occurred in seasonal components.")
            if self.train_component_cols is not None:
                component_cols = component_cols[self.train_component_cols.columns]
                if not component_cols.equals(self.train_component_cols):
                    raise ValueError("A bug occurred in constructing regressors.")
            return component_cols, modes

    # picklable by reference as ``prophet_model.LeanProphet`` (see the module ``__getattr__``): a fitted model sent
    # to a worker process (Dask, joblib) must not depend on pickling a function-local class by value
    LeanProphet.__module__ = __name__
    LeanProphet.__qualname__ = "LeanProphet"
    return LeanProphet


def __getattr__(name: str) -> Any:
    """``LeanProphet`` resolved lazily (PEP 562), so that importing this module does not import Prophet."""
    if name == "LeanProphet":
        return _lean_prophet_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: intraday Prophet trains on the last 20 weeks: a one-week-ahead contact-centre forecast needs the recent
#: level and weekday shapes (20 of each weekday), and fitting two years of 15-minute rows costs 10× the time for
#: no gain. Measured on 4 hold-out weeks of 8 hourly series: 20 weeks vs 26 gave MASE 0.793 vs 0.789 (demo) and
#: 0.832 vs 0.835 (harder set) at 23-25% less fit time; 16 weeks saved little more
INTRADAY_MAX_WEEKS = 20


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


#: Fourier order of each weekday's daily seasonality (harmonics down to a 4-hour period). Measured on 4 hold-out
#: weeks of 9 hourly series: order 6 forecasts as well as 8 (MASE 0.7894 vs 0.7895 demo, 0.8351 vs 0.8387 harder
#: set) with 28 fewer features and up to 16% less fit time; order 5 began to lose accuracy on the demo (0.7922)
DAILY_FOURIER = 6


class ProphetModel(Forecaster):
    """Prophet with weekday-specific daily seasonality, national holidays and MAP fitting."""

    name = "prophet"
    has_components = True

    def __init__(self, seed: int = 0, seasonality_mode: str = "additive", weekday_daily: bool = True,
                 holidays: bool = True, daily_fourier: int = DAILY_FOURIER) -> None:
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
        _quiet()
        train = _training_frame(prep, cleaned=True, max_weeks=INTRADAY_MAX_WEEKS if prep.cal.intraday else None)
        if len(train) < 2:
            raise ValueError("Prophet needs at least two observed values")
        intraday = prep.cal.intraday
        holidays = None
        if self.holidays and prep.country and not prep.closed_on_holidays:
            # the years of the training rows and of the forecast (a holiday seen only in the forecast years gets the
            # shared effect; its own deviation has no training rows and stays at the prior's 0)
            last = prep.last + horizon * prep.cal.step
            holidays = _holiday_table(prep.country, int(train["ds"].iloc[0].year), int(last.year) + 1).copy()
        model = _lean_prophet_class()(
            growth="linear", seasonality_mode=self.seasonality_mode, uncertainty_samples=0,
            daily_seasonality=intraday and not self.weekday_daily, weekly_seasonality=True,
            yearly_seasonality="auto", holidays=holidays,
        )
        self.conditions = []
        if intraday and self.weekday_daily:
            present = set(np.unique(train["ds"].dt.dayofweek))
            order = max(1, min(self.daily_fourier, prep.cal.day_steps // 2 - 1))
            self.conditions = sorted(int(d) for d in present)
            for d in self.conditions:
                model.add_seasonality(name=f"daily_{_DAYS[d]}", period=1, fourier_order=order,
                                      condition_name=f"on_{_DAYS[d]}")
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
