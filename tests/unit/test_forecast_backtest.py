"""Rolling-origin splitter (property: no look-ahead), backtest table, auto choice and the engine."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.models.forecasting import ForecastConfig, backtest, choose_model, rolling_origins, run_forecast, split_masks


def daily(days: int, seed: int = 0, series_id: str = "home-a/unit-1") -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=days, freq="D")
    weekly = np.array([30, 32, 31, 30, 28, 20, 18], dtype=float)
    y = np.random.default_rng(seed).poisson(weekly[ds.dayofweek]).astype(float)
    return pd.DataFrame({"series_id": series_id, "ds": ds, "y": y})


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=5, max_value=400),
    gaps=st.lists(st.integers(min_value=0, max_value=399), max_size=40),
    folds=st.integers(min_value=1, max_value=5),
    horizon=st.integers(min_value=1, max_value=48),
    step_minutes=st.sampled_from([15, 30, 60, 1440]),
)
def test_splitter_never_looks_ahead(n, gaps, folds, horizon, step_minutes):
    step = pd.Timedelta(minutes=step_minutes)
    ds = pd.date_range("2024-01-01", periods=n, freq=step).delete(sorted({g for g in gaps if g < n - 1}))
    origins = rolling_origins(ds[-1], step, folds, horizon)
    assert all(b - a == horizon * step for a, b in zip(origins, origins[1:], strict=False))
    assert origins[-1] + horizon * step == ds[-1] + step  # the last window ends at the last timestamp
    seen_test = np.zeros(len(ds), dtype=bool)
    for origin in origins:
        train, test = split_masks(ds, origin, horizon, step)
        if train.any() and test.any():
            assert ds[train].max() < ds[test].min()
        assert not (train & test).any()
        assert not (seen_test & test).any()  # windows do not overlap
        seen_test |= test
        assert (ds[test] < origin + horizon * step).all()


def test_backtest_table_has_every_metric_and_flags_models_without_history():
    table = backtest(daily(63), ["seasonal_naive", "profile", "lightgbm"], folds=2, horizon=7)
    expected = {"series_id", "model", "folds", "horizon", "n", "mae", "rmse", "mape", "smape", "wape", "mase",
                "coverage_80", "width_80", "coverage_95", "width_95", "seconds", "error"}
    assert expected <= set(table.columns)
    assert table["model"].tolist() == ["seasonal_naive", "profile", "lightgbm"]
    naive = table.iloc[0]
    assert naive["n"] == 14 and naive["folds"] == 2 and naive["error"] == ""
    assert naive["mase"] > 0 and 0 <= naive["coverage_80"] <= 100
    lgbm = table.iloc[2]
    assert "needs" in lgbm["error"] and math.isnan(lgbm["mase"])


def test_too_short_history_names_the_minimum():
    with pytest.raises(ValueError, match=r"at least 35 days are needed"):
        backtest(daily(20), ["profile"], folds=3, horizon=7)


def test_choose_model_prefers_simpler_within_tolerance_and_explains():
    table = pd.DataFrame({
        "model": ["seasonal_naive", "profile", "prophet"], "mase": [1.0, 0.71, 0.70], "wape": [20.0, 14.0, 13.9],
        "coverage_80": [80.0, 81.0, 79.0], "coverage_95": [95.0, 96.0, 94.0], "folds": 3, "error": ["", "", ""],
    })
    model, reason = choose_model(table, ["seasonal_naive", "profile", "prophet"])
    assert model == "profile"
    assert reason.startswith("profile won: MASE 0.71 vs prophet 0.70, seasonal_naive 1.00")
    assert "simpler model within 2%" in reason and "80% interval covered 81%" in reason
    table.loc[2, "mase"] = 0.5
    assert choose_model(table, ["seasonal_naive", "profile", "prophet"])[0] == "prophet"
    with pytest.raises(ValueError, match="No model"):
        choose_model(table.assign(mase=float("nan")), ["profile"])


def test_run_forecast_end_to_end_two_series_with_progress():
    df = pd.concat([daily(84, 1, "a"), daily(84, 2, "b")])
    df = df[~((df["series_id"] == "b") & (df["ds"].dt.dayofweek == 6))]  # b is closed on Sundays
    calls: list[tuple[float, str]] = []
    cfg = ForecastConfig(horizon=14, folds=2, candidates=("seasonal_naive", "profile"), country_holidays=None)
    res = run_forecast(df, cfg, on_progress=lambda f, t: calls.append((f, t)))
    fc = res.forecast
    assert set(res.chosen) == {"a", "b"} and set(res.chosen.values()) <= {"seasonal_naive", "profile"}
    # N steps after each series' last timestamp: b's last row is Saturday 23 March
    assert len(fc) == 28
    assert fc.groupby("series_id")["ds"].min().to_dict() == {"a": pd.Timestamp("2024-03-25"),
                                                             "b": pd.Timestamp("2024-03-24")}
    assert {"yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95"} <= set(fc.columns)
    assert (fc[[c for c in fc.columns if c.startswith("yhat")]] >= 0).all().all()
    assert (fc["yhat_lower_95"] <= fc["yhat_lower_80"]).all() and (fc["yhat_lower_80"] <= fc["yhat"]).all()
    sundays_b = fc[(fc["series_id"] == "b") & (fc["ds"].dt.dayofweek == 6)]
    assert len(sundays_b) == 2 and (sundays_b["yhat_upper_95"] == 0).all() and not sundays_b["is_open"].any()
    assert res.freq == {"a": "1D", "b": "1D"}
    assert res.backtest["chosen"].sum() == 2 and "won: MASE" in res.reasons["a"]
    assert set(res.coverage["a"]) == {80, 95}
    assert calls[-1][0] == 1.0 and all(0 <= f <= 1 for f, _ in calls)
    assert [f for f, _ in calls] == sorted(f for f, _ in calls)
    assert res.components is None
    again = run_forecast(df, cfg)
    pd.testing.assert_frame_equal(again.forecast, fc)


def test_named_model_and_fitted_model_repredicts_identically():
    df = daily(70)
    res = run_forecast(df, ForecastConfig(horizon=7, model="profile", folds=2, country_holidays=None))
    assert res.chosen == {"home-a/unit-1": "profile"}
    assert res.reasons["home-a/unit-1"].startswith("profile chosen by the user")
    again, _ = res.fitted["home-a/unit-1"].predict()
    pd.testing.assert_frame_equal(again, res.forecast)


def test_config_validation():
    with pytest.raises(ValueError, match="horizon"):
        ForecastConfig(horizon=0)
    with pytest.raises(ValueError, match="Unknown model"):
        ForecastConfig(horizon=1, model="arima")
    with pytest.raises(ValueError, match="levels"):
        ForecastConfig(horizon=1, levels=(80, 100))
    assert ForecastConfig(horizon=3, levels=(95, 80)).levels == (80, 95)


# ------------------------------------------------------------------ time savers of model="auto"
def test_expensive_models_on_fewer_folds_are_compared_on_the_shared_folds():
    from src.models.forecasting.backtest import backtest_series

    df = daily(120)
    bt = backtest_series(df["ds"], df["y"], series_id="s", models=["seasonal_naive", "profile", "lightgbm"], folds=3,
                         horizon=7, country=None, expensive_folds=1)
    assert [f.fold for f in bt.runs["profile"].folds] == [0, 1, 2]
    assert [f.fold for f in bt.runs["lightgbm"].folds] == [2]  # the newest fold only
    table = bt.table((80, 95)).set_index("model")
    assert list(table.index) == ["seasonal_naive", "profile", "lightgbm"]
    lgbm = table.loc["lightgbm"]
    assert lgbm["folds"] == 1 and math.isnan(lgbm["coverage_80"])  # one fold: coverage cannot be measured
    assert lgbm["mase_common"] == pytest.approx(lgbm["mase"])
    prof = bt.runs["profile"].folds[2]
    from src.models.forecasting import metrics as M

    assert table.loc["profile", "mase_common"] == pytest.approx(M.mase(prof.y, prof.yhat, bt.scale))
    model, reason = choose_model(table.reset_index(), ["seasonal_naive", "profile", "lightgbm"])
    assert "on the folds all models share" in reason


def test_prescreen_drops_an_expensive_model_that_cannot_win_and_its_ensemble():
    from src.models.forecasting.backtest import backtest_series

    ds = pd.date_range("2024-01-01", periods=140, freq="D")
    rng = np.random.default_rng(5)
    y = np.array([300, 320, 310, 300, 280, 200, 180], dtype=float)[ds.dayofweek] + rng.normal(0, 1, len(ds))
    # an almost exact weekly pattern: the profile is near-perfect, LightGBM's trees cannot match it
    bt = backtest_series(ds, y, series_id="s", models=["profile", "lightgbm", "ensemble"], folds=3, horizon=7,
                         country=None, screen_ratio=1.25)
    lgbm = bt.runs["lightgbm"]
    assert lgbm.error.startswith("screened out") and "for profile" in lgbm.error and len(lgbm.seconds) == 1
    assert "screened out" in bt.runs["ensemble"].error
    table = bt.table((80, 95))
    model, reason = choose_model(table, ["profile", "lightgbm", "ensemble"])
    assert model == "profile" and "not compared: lightgbm (screened out" in reason
    off = backtest_series(ds, y, series_id="s", models=["profile", "lightgbm"], folds=3, horizon=7, country=None)
    assert len(off.runs["lightgbm"].folds) == 3 and not off.runs["lightgbm"].error


def test_auto_uses_the_time_savers_and_a_named_model_does_not():
    df = daily(200)  # 28-day windows hold enough residuals: no folds are added (see the next tests)
    auto = run_forecast(df, ForecastConfig(horizon=28, folds=3, candidates=("profile", "lightgbm"),
                                           country_holidays=None))
    bt = auto.backtest.set_index("model")
    assert bt.loc["profile", "folds"] == 3 and bt.loc["lightgbm", "folds"] in (0, 2)
    named = run_forecast(df, ForecastConfig(horizon=28, folds=3, model="lightgbm", country_holidays=None))
    assert named.backtest.set_index("model").loc["lightgbm", "folds"] == 3
    with pytest.raises(ValueError, match="screen_ratio"):
        ForecastConfig(horizon=7, screen_ratio=0.9)
    with pytest.raises(ValueError, match="expensive_folds"):
        ForecastConfig(horizon=7, expensive_folds=0)


def test_prescreen_is_off_on_degenerate_data_where_mase_is_undefined():
    from src.models.forecasting.backtest import backtest_series

    ds = pd.date_range("2024-01-01", periods=140, freq="D")
    y = np.array([30, 32, 31, 30, 28, 20, 18], dtype=float)[ds.dayofweek]  # exact: seasonal naive scale is 0
    bt = backtest_series(ds, y, series_id="s", models=["profile", "lightgbm"], folds=3, horizon=7, country=None,
                         screen_ratio=1.25)
    assert bt.runs["lightgbm"].ok and len(bt.runs["lightgbm"].folds) == 3


# ------------------------------------------------------------------ real-export shapes
def _open_hours_15min(weeks: int) -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=weeks * 7 * 96, freq="15min")
    hour = ds.hour + ds.minute / 60
    open_ = (hour >= 8) & (hour < 18) & (ds.dayofweek < 5)
    y = np.random.default_rng(3).poisson(12, open_.sum()).astype(float)
    return pd.DataFrame({"ds": ds[open_], "y": y})


def test_short_intraday_horizon_is_backtested_on_whole_weeks_when_history_allows():
    """42 hours of 15-minute steps can fall wholly on a closed weekend: the backtest windows widen to a week."""
    from src.models.forecasting.backtest import backtest_horizon
    from src.models.forecasting.frequency import prepare_series

    df = _open_hours_15min(6)
    prep = prepare_series(df["ds"], df["y"], country=None)
    assert backtest_horizon(ForecastConfig(horizon=168), prep) == 672
    assert backtest_horizon(ForecastConfig(horizon=168, backtest_horizon=96), prep) == 96  # explicit wins
    assert backtest_horizon(ForecastConfig(horizon=900), prep) == 900  # already longer than a week
    short = _open_hours_15min(4)  # 2 training weeks + 3 weekly folds do not fit into 4 weeks
    prep_short = prepare_series(short["ds"], short["y"], country=None)
    assert backtest_horizon(ForecastConfig(horizon=168), prep_short) == 168
    days = daily(200)
    prep_daily = prepare_series(days["ds"], days["y"], country=None)
    assert backtest_horizon(ForecastConfig(horizon=3), prep_daily) == 7  # next days: a week per window
    assert backtest_horizon(ForecastConfig(horizon=10), prep_daily) == 10
    res = run_forecast(df, ForecastConfig(horizon=168, candidates=("seasonal_naive", "profile"), country_holidays=None))
    table = res.backtest
    assert (table["horizon"] == 672).all() and (table["n"] == 3 * 5 * 40).all()
    assert np.isfinite(table[["coverage_80", "coverage_95"]].to_numpy(float)).all()


def test_utc_offsets_that_change_at_the_clock_change_become_local_wall_clock_time():
    from src.models.forecasting.inputs import normalise_input

    raw = pd.DataFrame({"ds": ["2024-03-30T09:00:00+01:00", "2024-03-31T09:00:00+02:00", "2024-04-01T09:00:00Z"],
                        "y": [1, 2, 3]})
    out = normalise_input(raw)
    assert out["ds"].tolist() == [pd.Timestamp("2024-03-30 09:00"), pd.Timestamp("2024-03-31 09:00"),
                                  pd.Timestamp("2024-04-01 09:00")]
    same = normalise_input(raw.assign(ds=raw["ds"].str[:19] + "+01:00"))
    assert same["ds"].dt.hour.tolist() == [9, 9, 9]
    with pytest.raises(ValueError, match="Column ds must hold timestamps"):
        normalise_input(pd.DataFrame({"ds": ["2024-03-30T09:00:00+01:00", "yesterday"], "y": [1, 2]}))


def test_short_windows_get_more_folds_so_intervals_rest_on_enough_residuals():
    from src.models.forecasting.backtest import MAX_FOLDS, MIN_RESIDUALS, backtest_folds
    from src.models.forecasting.frequency import prepare_series

    long = daily(400)
    prep = prepare_series(long["ds"], long["y"], country=None)
    assert backtest_folds(ForecastConfig(horizon=28), prep, 28) == (3, 2)  # 84 residuals: unchanged
    assert backtest_folds(ForecastConfig(horizon=7), prep, 7) == (8, 8)  # ceil(56 / 7)
    assert backtest_folds(ForecastConfig(horizon=1), prep, 1) == (MAX_FOLDS, MAX_FOLDS)
    assert backtest_folds(ForecastConfig(horizon=7, expensive_folds=None), prep, 7) == (8, None)
    assert backtest_folds(ForecastConfig(horizon=7, folds=10), prep, 7) == (10, 8)  # never fewer than asked
    short = daily(40)  # 2 training weeks leave room for 3 windows of 7 days only
    prep_short = prepare_series(short["ds"], short["y"], country=None)
    assert backtest_folds(ForecastConfig(horizon=7), prep_short, 7) == (3, 3)
    hourly = _open_hours_15min(8)  # open 40 of 96 slots on weekdays: a week window holds 200 actuals
    prep_h = prepare_series(hourly["ds"], hourly["y"], country=None)
    assert backtest_folds(ForecastConfig(horizon=672), prep_h, 672) == (3, 2)
    assert 56 == MIN_RESIDUALS
    res = run_forecast(long, ForecastConfig(horizon=7, candidates=("seasonal_naive", "profile"), country_holidays=None))
    assert (res.backtest["folds"] == 8).all() and (res.backtest["n"] == 56).all()
    assert "8-fold backtest" in res.reasons["home-a/unit-1"]


def test_constant_and_all_zero_histories_are_forecast_exactly():
    """A unit that always needs 5 shifts (or a queue that never gets work) has no MASE: the choice falls back to
    MAE and says so, and the forecast is the constant with zero-width intervals."""
    ds = pd.date_range("2024-01-01", periods=120, freq="D")
    for value in (5.0, 0.0):
        res = run_forecast(pd.DataFrame({"ds": ds, "y": value}),
                           ForecastConfig(horizon=14, candidates=("seasonal_naive", "profile", "prophet"),
                                          country_holidays=None))
        fc = res.forecast
        assert np.allclose(fc["yhat"], value) and np.allclose(fc["yhat_lower_95"], value)
        assert np.allclose(fc["yhat_upper_95"], value)
        assert "compared on MAE because MASE is undefined" in res.reasons["series"]
        assert "nan" not in res.reasons["series"]


def test_one_spike_does_not_flatten_the_mase_scale():
    df = daily(140, 4)
    df.loc[60, "y"] = 1e9  # a data error far in the past
    res = run_forecast(df, ForecastConfig(horizon=14, candidates=("seasonal_naive", "profile"),
                                          country_holidays=None))
    mase = res.backtest.set_index("model")["mase"]
    assert 0.3 < mase["profile"] < 1.5 and 0.5 < mase["seasonal_naive"] < 2.0  # raw scale: ~1e-7


def test_skip_failed_forecasts_the_rest_and_names_the_short_series():
    short = daily(10, 1, "new-unit")
    df = pd.concat([daily(84, 1, "old-unit"), short])
    cfg = ForecastConfig(horizon=7, candidates=("seasonal_naive", "profile"), country_holidays=None)
    with pytest.raises(ValueError, match="'new-unit' has 10 days of history"):
        run_forecast(df, cfg)
    res = run_forecast(df, cfg, skip_failed=True)
    assert set(res.chosen) == {"old-unit"} and set(res.forecast["series_id"]) == {"old-unit"}
    assert "at least" in res.failed["new-unit"]
    with pytest.raises(ValueError, match="^Series 'new-unit' has 10 days"):  # only one series: its own message
        run_forecast(short, cfg, skip_failed=True)
