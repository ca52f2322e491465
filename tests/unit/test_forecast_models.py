"""Each model recovers a known synthetic pattern; intervals cover near nominal; intraday re-forecast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from src.models.forecasting import metrics as M
from src.models.forecasting import reforecast_intraday
from src.models.forecasting.backtest import backtest_series
from src.models.forecasting.base import make_model
from src.models.forecasting.frequency import prepare_series


def pattern(ds: pd.DatetimeIndex) -> np.ndarray:
    """Open Mon–Sat 08–18; each weekday has its own daily shape (what default Prophet cannot fit)."""
    h, d = ds.hour.to_numpy(), ds.dayofweek.to_numpy()
    open_ = (h >= 8) & (h < 18) & (d < 6)
    morning_peak = 20 + 30 * np.exp(-((h - 10) / 1.5) ** 2)
    afternoon_peak = 20 + 30 * np.exp(-((h - 15) / 1.5) ** 2)
    lam = np.where(d % 2 == 0, morning_peak, afternoon_peak) * np.where(d == 5, 0.5, 1.0)
    return np.where(open_, lam, 0.0)


def series(weeks: int, seed: int = 0, noise: bool = True) -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=weeks * 168, freq="h")
    lam = pattern(ds)
    y = np.random.default_rng(seed).poisson(lam).astype(float) if noise else lam
    keep = lam > 0
    return pd.DataFrame({"ds": ds[keep], "y": y[keep]})


def _fit_predict(name: str, df: pd.DataFrame, horizon: int = 168, seed: int = 0):
    prep = prepare_series(df["ds"], df["y"], country=None)
    model = make_model(name, seed).fit(prep, horizon)
    fut = prep.future(horizon)
    return fut, model.predict(fut)


@pytest.mark.parametrize("name", ["seasonal_naive", "profile"])
def test_baselines_reproduce_a_noise_free_weekly_pattern_exactly(name):
    fut, pred = _fit_predict(name, series(4, noise=False))
    np.testing.assert_allclose(pred["yhat"].to_numpy(), pattern(fut.ds), atol=1e-9)


def test_profile_is_the_mean_of_the_last_weeks_and_ignores_gaps():
    ds = pd.date_range("2024-01-01", periods=8 * 7, freq="D")
    y = np.arange(len(ds), dtype=float)  # slot value rises by 7 each week
    df = pd.DataFrame({"ds": ds, "y": y}).drop(index=[50])  # one missing Friday, week 8
    prep = prepare_series(df["ds"], df["y"], country=None, clean=False)
    model = make_model("profile").fit(prep, 7)
    pred = model.predict(prep.future(7))["yhat"].to_numpy()
    expected = [np.mean([49 + k - 7 * w for w in range(6)]) for k in range(7)]
    expected[1] = np.mean([43 - 7 * w for w in range(5)])  # index 50 is the Tuesday of the last week
    np.testing.assert_allclose(pred, expected)


def test_lightgbm_learns_the_weekday_pattern():
    df = series(14, seed=1)
    fut, pred = _fit_predict("lightgbm", df)
    truth = pattern(fut.ds)
    open_ = truth > 0
    assert M.wape(truth[open_], pred["yhat"].to_numpy()[open_]) < 12


def test_lightgbm_recursive_strategy_runs_and_is_reasonable():
    from src.models.forecasting.lgbm_model import LightGBMModel

    df = series(12, seed=2)
    prep = prepare_series(df["ds"], df["y"], country=None)
    model = LightGBMModel(strategy="recursive").fit(prep, 48)
    fut = prep.future(48)
    pred = model.predict(fut)["yhat"].to_numpy()
    truth = pattern(fut.ds)
    assert np.all(pred >= 0) and np.all(pred[fut.closed] == 0)
    assert M.wape(truth, pred) < 20


def test_prophet_with_weekday_daily_seasonality_beats_default_prophet():
    df = series(8, seed=3)
    fut, tuned = _fit_predict("prophet", df)
    _, default = _fit_predict("prophet_default", df)
    truth = pattern(fut.ds)
    open_ = truth > 0
    tuned_err = M.mae(truth[open_], tuned["yhat"].to_numpy()[open_])
    default_err = M.mae(truth[open_], default["yhat"].to_numpy()[open_])
    assert tuned_err < 0.6 * default_err
    assert tuned_err < 4.0
    assert {"trend", "daily", "weekly", "yearly", "holidays"} <= set(tuned.columns)
    # components add up to the forecast where it is not clipped
    total = tuned[["trend", "daily", "weekly", "yearly", "holidays"]].sum(axis=1).to_numpy()
    pos = tuned["yhat"].to_numpy() > 0
    np.testing.assert_allclose(total[pos], tuned["yhat"].to_numpy()[pos], atol=1e-6)


def test_profile_intervals_cover_near_nominal_out_of_sample():
    df = series(16, seed=4)
    bt = backtest_series(df["ds"], df["y"], series_id="s", models=["profile"], folds=6, horizon=168,
                         levels=(80, 95), country=None)
    row = bt.table((80, 95)).iloc[0]
    assert 72 <= row["coverage_80"] <= 88
    assert 90 <= row["coverage_95"] <= 99
    assert row["width_95"] > row["width_80"] > 0


def test_models_are_deterministic_with_a_seed():
    df = series(10, seed=5)
    _, a = _fit_predict("lightgbm", df, seed=7)
    _, b = _fit_predict("lightgbm", df, seed=7)
    np.testing.assert_array_equal(a["yhat"].to_numpy(), b["yhat"].to_numpy())


# ---------------------------------------------------------------- intraday re-forecast
def _day_forecast() -> pd.DataFrame:
    ds = pd.date_range("2024-05-06 08:00", periods=10, freq="h")
    fc = pd.DataFrame({"series_id": "q", "ds": ds, "yhat": 10.0, "yhat_lower_80": 8.0, "yhat_upper_80": 12.0})
    tomorrow = fc.assign(ds=ds + pd.Timedelta(days=1))
    return pd.concat([fc, tomorrow], ignore_index=True)


def test_reforecast_scales_the_rest_of_today_shrunk_by_elapsed_share():
    fc = _day_forecast()
    actuals = pd.DataFrame({"series_id": "q", "ds": pd.date_range("2024-05-06 08:00", periods=4, freq="h"),
                            "y": 15.0})
    out = reforecast_intraday(fc, actuals, pd.Timestamp("2024-05-06 12:00"))
    # ratio 60/40 = 1.5, share of the day's forecast seen = 40/100 → factor 1 + 0.4 * 0.5 = 1.2
    rest = out[(out["ds"] >= "2024-05-06 12:00") & (out["ds"] < "2024-05-07")]
    assert np.allclose(rest["yhat"], 12.0) and np.allclose(rest["yhat_upper_80"], 14.4)
    assert rest["reforecast"].all() and np.allclose(rest["factor"], 1.2)
    untouched = out[~out.index.isin(rest.index)]
    assert np.allclose(untouched["yhat"], 10.0) and not untouched["reforecast"].any()
    assert len(out) == len(fc)


def test_reforecast_without_actuals_or_with_extreme_ratio_is_bounded():
    fc = _day_forecast()
    same = reforecast_intraday(fc, fc.iloc[:0][["series_id", "ds"]].assign(y=[]), pd.Timestamp("2024-05-06 12:00"))
    assert np.allclose(same["yhat"], fc["yhat"]) and np.allclose(same["factor"], 1.0)
    actuals = pd.DataFrame({"series_id": "q", "ds": pd.date_range("2024-05-06 08:00", periods=9, freq="h"),
                            "y": 1000.0})
    out = reforecast_intraday(fc, actuals, pd.Timestamp("2024-05-06 17:00"), max_factor=2.0)
    assert out.loc[out["ds"] == pd.Timestamp("2024-05-06 17:00"), "yhat"].item() == pytest.approx(20.0)
    with pytest.raises(ValueError):
        reforecast_intraday(fc, actuals, pd.Timestamp("2024-05-06 17:00"), min_factor=2.0)


def test_prophet_fast_data_file_gives_the_same_fit_as_cmdstanpys_writer(monkeypatch):
    """orjson writes the Stan data; the fitted parameters must be identical to cmdstanpy's own writer."""
    from src.models.forecasting import prophet_model

    df = series(10)
    prep = prepare_series(df["ds"], df["y"], series_id="s", country="DE")
    fast = make_model("prophet", 0).fit(prep, 24)
    assert isinstance(fast.model.stan_backend.model, prophet_model._FastDataFile)
    monkeypatch.setattr(prophet_model, "_json_bytes", lambda data: None)  # forces cmdstanpy's writer
    slow = make_model("prophet", 0).fit(prep, 24)
    for name in ("k", "m", "delta", "beta", "sigma_obs"):
        np.testing.assert_array_equal(fast.model.params[name], slow.model.params[name])


def test_prophet_fast_data_file_leaves_non_finite_data_to_cmdstanpy():
    from src.models.forecasting.prophet_model import _json_bytes

    assert _json_bytes({"T": 2, "y": [1.0, 2.0], "X": [[0.5], [1.5]]}) == b'{"T":2,"y":[1.0,2.0],"X":[[0.5],[1.5]]}'
    assert _json_bytes({"T": 2, "y": [1.0, float("nan")]}) is None
    assert _json_bytes({"T": 2, "X": [[1.0], [float("inf")]]}) is None
    assert _json_bytes({"T": 2, "y": np.array([1.0, np.inf])}) is None
    assert _json_bytes({"T": 2, "obj": object()}) is None


def test_lean_prophet_builds_the_same_component_table_as_prophet():
    """The vectorised regressor_column_matrix equals Prophet's (conditional daily seasonalities, holidays,
    multiplicative mode, an extra regressor), at fit and at predict."""
    from prophet import Prophet

    from src.models.forecasting.prophet_model import _holiday_table, _lean_prophet_class

    df = series(8)
    df["on_mon"] = df["ds"].dt.dayofweek == 0
    df["promo"] = (df["ds"].dt.day % 5 == 0).astype(float)
    for mode in ("additive", "multiplicative"):
        models = []
        for cls in (Prophet, _lean_prophet_class()):
            m = cls(seasonality_mode=mode, uncertainty_samples=0, holidays=_holiday_table("DE", 2023, 2025).copy())
            m.add_seasonality(name="daily_mon", period=1, fourier_order=4, condition_name="on_mon")
            m.add_regressor("promo", mode="additive")
            m.fit(df, seed=0)
            models.append(m)
        plain, lean = models
        features, _, _, modes = plain.make_all_seasonality_features(plain.setup_dataframe(df.copy()))
        expected, expected_modes = Prophet.regressor_column_matrix(plain, features, {k: list(v) for k, v in
                                                                                     modes.items()})
        got, got_modes = lean.regressor_column_matrix(features, {k: list(v) for k, v in modes.items()})
        pd.testing.assert_frame_equal(got, expected)
        assert got_modes == expected_modes
        pd.testing.assert_frame_equal(lean.train_component_cols, plain.train_component_cols)
        np.testing.assert_allclose(lean.predict(df)["yhat"], plain.predict(df)["yhat"])
    for period, order in ((1, 6), (7, 3), (365.25, 10)):
        np.testing.assert_array_equal(lean.fourier_series(df["ds"], period, order),
                                      Prophet.fourier_series(df["ds"], period, order))


def test_tuned_prophet_pools_holidays_and_forecasts_their_drop():
    """Every holiday date carries the shared effect (default prior) and its own deviation (tight prior); a daily
    series whose holidays all run 40 % low is forecast low on the coming Christmas, learned from all holidays."""
    from src.models.forecasting.prophet_model import HOLIDAY_DEVIATION_PRIOR, SHARED_HOLIDAY, _holiday_table

    table = _holiday_table("DE", 2023, 2024)
    shared, own = table[table["holiday"] == SHARED_HOLIDAY], table[table["holiday"] != SHARED_HOLIDAY]
    assert len(shared) == len(own) > 0 and sorted(shared["ds"]) == sorted(own["ds"])
    assert set(shared["prior_scale"]) == {10.0} and set(own["prior_scale"]) == {HOLIDAY_DEVIATION_PRIOR}
    import holidays as holiday_calendar

    ds = pd.date_range("2023-01-02", "2024-12-20", freq="D")
    off = np.isin(ds.date, list(holiday_calendar.country_holidays("DE", years=[2023, 2024, 2025])))
    lam = 100.0 * np.where(ds.dayofweek >= 5, 0.8, 1.0) * np.where(off, 0.6, 1.0)
    y = np.random.default_rng(3).poisson(lam).astype(float)
    prep = prepare_series(ds, y, series_id="unit", country="DE")
    model = make_model("prophet", 0).fit(prep, 14)
    fut = prep.future(14)
    pred = model.predict(fut).set_index(fut.ds)
    assert pred.loc["2024-12-26", "yhat"] < 0.75 * pred.loc["2025-01-02", "yhat"]  # both Thursdays
    assert pred.loc["2024-12-26", "holidays"] < -20 and pred.loc["2025-01-02", "holidays"] == 0
