"""Exact tests for the forecast metrics and the conformal calibrator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from src.models.forecasting import metrics as M
from src.models.forecasting.conformal import ConformalCalibrator, residual_scale

Y = [10.0, 0.0, 5.0, 20.0]
F = [8.0, 1.0, 5.0, 26.0]


def test_mae_rmse_exact():
    assert M.mae(Y, F) == pytest.approx((2 + 1 + 0 + 6) / 4)
    assert M.rmse(Y, F) == pytest.approx(math.sqrt((4 + 1 + 0 + 36) / 4))


def test_mape_skips_zero_actuals():
    assert M.mape(Y, F) == pytest.approx(100 * (0.2 + 0 + 0.3) / 3)
    assert math.isnan(M.mape([0, 0], [1, 2]))


def test_smape_zero_over_zero_is_zero():
    expected = 100 * np.mean([2 * 2 / 18, 2 * 1 / 1, 0.0, 2 * 6 / 46])
    assert M.smape(Y, F) == pytest.approx(expected)
    assert M.smape([0, 0], [0, 0]) == 0.0


def test_wape_exact_and_all_zero():
    assert M.wape(Y, F) == pytest.approx(100 * 9 / 35)
    assert math.isnan(M.wape([0, 0], [1, 1]))


def test_nan_actuals_are_ignored():
    assert M.mae([1.0, np.nan, 3.0], [2.0, 100.0, 3.0]) == pytest.approx(0.5)
    assert math.isnan(M.mae([np.nan], [1.0]))


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="differ in length"):
        M.mae([1, 2], [1])


def test_seasonal_naive_scale_and_mase():
    y = [1, 2, 3, 2, 4, 3]  # season 2: |3-1|, |2-2|, |4-3|, |3-2| → mean 1.0
    assert M.seasonal_naive_scale(y, 2) == pytest.approx(1.0)
    assert M.seasonal_naive_scale([1, np.nan, 3, 5], 2) == pytest.approx(2.0)
    assert math.isnan(M.seasonal_naive_scale([1, 2], 2))
    assert M.mase(Y, F, 2.0) == pytest.approx(9 / 4 / 2)
    assert math.isnan(M.mase(Y, F, 0.0))


def test_coverage_and_width():
    assert M.coverage([1, 2, 3, 4], [0, 2, 4, 0], [1, 3, 5, 3]) == pytest.approx(50.0)  # bounds inclusive
    assert M.mean_width([0, 2], [1, 6]) == pytest.approx(2.5)


def test_residual_scales():
    np.testing.assert_allclose(residual_scale(np.array([-1.0, 0.0, 3.0]), "sqrt"), [1.0, 1.0, 2.0])
    np.testing.assert_allclose(residual_scale(np.array([0.5, 4.0]), "level"), [1.0, 4.0])
    np.testing.assert_allclose(residual_scale(np.array([7.0]), "none"), [1.0])
    with pytest.raises(ValueError):
        residual_scale(np.array([1.0]), "bogus")


def test_conformal_quantiles_use_finite_sample_order_statistics():
    y = np.arange(1, 20, dtype=float)  # residuals 1..19 with yhat 0 and no scaling
    cal = ConformalCalibrator.fit(y, np.zeros_like(y), (80,), "none")
    # n=19, alpha=0.1: lower k=floor(0.1*20)=2 → 2nd smallest (2); upper k=ceil(0.9*20)=18 → 18; lower capped at 0
    assert cal.quantiles[80] == (0.0, 18.0)
    out = cal.apply(np.array([5.0, 0.0]), closed=np.array([False, True]))
    np.testing.assert_allclose(out["yhat_lower_80"], [5.0, 0.0])
    np.testing.assert_allclose(out["yhat_upper_80"], [23.0, 0.0])


def test_conformal_intervals_nest_and_never_go_negative():
    rng = np.random.default_rng(1)
    yhat = rng.uniform(0, 50, 500)
    y = rng.poisson(yhat).astype(float)
    cal = ConformalCalibrator.fit(y, yhat, (80, 95), "sqrt")
    out = cal.apply(yhat)
    assert np.all(out["yhat_lower_95"] <= out["yhat_lower_80"])
    assert np.all(out["yhat_upper_95"] >= out["yhat_upper_80"])
    assert np.all(out["yhat_lower_95"] >= 0)
    assert 75 <= M.coverage(y, out["yhat_lower_80"], out["yhat_upper_80"]) <= 88
    assert ConformalCalibrator.from_json(cal.to_json()) == cal


def test_conformal_needs_two_residuals():
    with pytest.raises(ValueError, match="at least 2"):
        ConformalCalibrator.fit(np.array([1.0]), np.array([1.0]), (80,))
