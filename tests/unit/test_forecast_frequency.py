"""Frequency inference and history preparation: open hours, gaps, duplicates, holidays, outliers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from src.models.forecasting.frequency import Calendar, infer_step, parse_freq, prepare_series


def _open_hours(weeks: int, start: str = "2024-01-01") -> pd.DataFrame:
    ds = pd.date_range(start, periods=weeks * 168, freq="h")
    keep = (ds.hour >= 8) & (ds.hour < 18) & (ds.dayofweek < 5)
    return pd.DataFrame({"ds": ds[keep], "y": 10.0 + ds.hour[keep]})


def test_infer_step_uses_the_mode_not_the_minimum():
    df = _open_hours(2)
    odd = pd.concat([df, pd.DataFrame({"ds": [pd.Timestamp("2024-01-01 08:30")], "y": [1.0]})])
    assert infer_step(odd["ds"]) == pd.Timedelta(hours=1)
    assert infer_step(pd.date_range("2024-01-01", periods=10, freq="15min")) == pd.Timedelta(minutes=15)
    assert infer_step(pd.date_range("2024-01-01", periods=10, freq="D")) == pd.Timedelta(days=1)
    with pytest.raises(ValueError, match="two distinct"):
        infer_step(pd.DatetimeIndex(["2024-01-01"]))


def test_calendar_rejects_unsupported_steps():
    with pytest.raises(ValueError, match="Unsupported frequency"):
        Calendar(pd.Timedelta(days=7))
    with pytest.raises(ValueError, match="Unsupported frequency"):
        Calendar(pd.Timedelta(minutes=7))
    assert Calendar(pd.Timedelta(minutes=30)).season == 336
    assert parse_freq("h") == pd.Timedelta(hours=1) and parse_freq("30min") == pd.Timedelta(minutes=30)
    with pytest.raises(ValueError, match="Unknown frequency"):
        parse_freq("fortnightly-ish")


def test_open_hours_export_gets_closed_slots_and_no_missing():
    df = _open_hours(4)
    prep = prepare_series(df["ds"], df["y"], country=None)
    assert prep.cal.step == pd.Timedelta(hours=1)
    assert int(prep.active_slots.sum()) == 50  # 10 hours × 5 days
    assert prep.n_missing == 0
    night = prep.ds.hour < 8
    assert np.all(prep.y[night] == 0)


def test_missing_open_interval_is_flagged_not_zero():
    df = _open_hours(4)
    gap = pd.Timestamp("2024-01-17 11:00")
    df = df[df["ds"] != gap]
    prep = prepare_series(df["ds"], df["y"], country=None)
    assert prep.n_missing == 1
    assert np.isnan(prep.y[prep.ds.get_loc(gap)])


def test_duplicates_are_summed_and_counted():
    df = _open_hours(2)
    dup = df.iloc[[3]]
    prep = prepare_series(pd.concat([df, dup])["ds"], pd.concat([df, dup])["y"], country=None)
    assert prep.duplicates == 1
    assert prep.y[prep.ds.get_loc(dup["ds"].iloc[0])] == 2 * dup["y"].iloc[0]


def test_bad_values_raise_clear_errors():
    df = _open_hours(1)
    with pytest.raises(ValueError, match="negative"):
        prepare_series(df["ds"], -df["y"])
    with pytest.raises(ValueError, match="finite"):
        prepare_series(df["ds"], df["y"].replace(10.0 + 8, np.inf))
    off = pd.concat([df, pd.DataFrame({"ds": [pd.Timestamp("2024-01-02 08:20")], "y": [1.0]})])
    with pytest.raises(ValueError, match="not on the 1h grid"):
        prepare_series(off["ds"], off["y"], step=pd.Timedelta(hours=1))


def test_closed_on_holidays_is_detected():
    df = _open_hours(8, start="2024-03-04")  # Good Friday 29 Mar, Easter Monday 1 Apr 2024
    hol_days = [pd.Timestamp("2024-03-29"), pd.Timestamp("2024-04-01")]
    df = df[~df["ds"].dt.normalize().isin(hol_days)]
    prep = prepare_series(df["ds"], df["y"], country="DE")
    assert prep.closed_on_holidays
    assert prep.n_missing == 0  # holiday closure is not "missing"
    assert not prep.holiday[prep.ds.normalize() == pd.Timestamp("2024-03-28")].any()
    assert prep.holiday[prep.ds.normalize() == pd.Timestamp("2024-03-29")].all()
    assert np.isnan(prep.y_train[prep.holiday]).all()  # left out of training
    # the same history with the holidays worked is not "closed on holidays"
    full = _open_hours(8, start="2024-03-04")
    assert not prepare_series(full["ds"], full["y"], country="DE").closed_on_holidays


def test_outage_and_spike_are_cleaned_for_training_only():
    rng = np.random.default_rng(0)
    df = _open_hours(12)
    df["y"] = rng.poisson(50, len(df)).astype(float)
    spike_at, outage_at = df["ds"].iloc[200], df["ds"].iloc[300]
    df.loc[df["ds"] == spike_at, "y"] = 900.0
    df.loc[df["ds"] == outage_at, "y"] = 0.0
    prep = prepare_series(df["ds"], df["y"], country=None)
    i, j = prep.ds.get_loc(spike_at), prep.ds.get_loc(outage_at)
    assert prep.outlier[i] and prep.outlier[j]
    assert prep.y[i] == 900.0 and 40 <= prep.y_train[i] <= 60
    assert 40 <= prep.y_train[j] <= 60
    assert prep.outlier.sum() <= 4  # Poisson noise is not flagged


def test_daily_series_with_closed_sundays():
    ds = pd.date_range("2024-01-01", periods=70, freq="D")
    keep = ds.dayofweek != 6
    prep = prepare_series(ds[keep], np.full(keep.sum(), 30.0), country=None)
    assert prep.cal.step == pd.Timedelta(days=1) and prep.cal.season == 7
    assert prep.active_slots.tolist() == [True] * 6 + [False]
    assert prep.n_missing == 0


def test_irregular_event_timestamps_are_refused_with_advice():
    rng = np.random.default_rng(3)
    events = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 300 * 24, 2000)), unit="h")
    with pytest.raises(ValueError, match=r"irregular: only \d+% of the gaps.*aggregate the rows per interval"):
        infer_step(events)
    # one stray row in an hourly export is still hourly (9 of 10 gaps on the grid is enough)
    hourly = pd.date_range("2024-01-01", periods=200, freq="h")
    assert infer_step(hourly.append(pd.DatetimeIndex(["2024-01-02 05:17"]))) == pd.Timedelta(hours=1)


def test_alternate_day_series_is_daily_with_closed_days():
    ds = pd.date_range("2024-01-01", periods=84, freq="D")
    ds = ds[ds.dayofweek.isin([0, 2, 4])]  # Mon/Wed/Fri only: gaps of 2 and 3 days
    assert infer_step(ds) == pd.Timedelta(days=1)
    prep = prepare_series(ds, np.full(len(ds), 20.0), country=None)
    assert prep.cal.step == pd.Timedelta(days=1)
    assert prep.active_slots.tolist() == [True, False, True, False, True, False, False]


def test_weekly_totals_are_refused_as_too_coarse():
    with pytest.raises(ValueError, match="too coarse"):
        Calendar(infer_step(pd.date_range("2024-01-07", periods=30, freq="W")))


def _pandas_rolling_outliers(y: np.ndarray, slot0: int, season: int, exclude: np.ndarray):
    """The original pandas formulation of the outlier rule (the reference for the NumPy one)."""
    from src.models.forecasting.frequency import OUTLIER_Z, _week_matrix

    frame = pd.DataFrame(_week_matrix(y, slot0, season))
    med = frame.rolling(9, center=True, min_periods=3).median()
    mad = (frame - med).abs().median(axis=0).to_frame().T.reindex(range(len(frame)), method="ffill")
    n = len(y)
    med_v = med.to_numpy().ravel()[slot0:slot0 + n]
    mad_v = mad.to_numpy().ravel()[slot0:slot0 + n]
    scale = np.maximum.reduce([1.4826 * np.nan_to_num(mad_v), np.sqrt(np.clip(np.nan_to_num(med_v), 0, None)),
                               np.ones(n)])
    with np.errstate(invalid="ignore"):
        out = np.isfinite(y) & np.isfinite(med_v) & (np.abs(y - med_v) > OUTLIER_Z * scale) & ~exclude
    return out, med_v


@pytest.mark.parametrize("seed", range(40))
def test_outlier_rule_equals_pandas_rolling_median(seed):
    """The NumPy rolling median/MAD gives exactly pandas' values: gaps, short histories, spikes, any offset."""
    from src.models.forecasting.frequency import _robust_outliers

    rng = np.random.default_rng(seed)
    season = int(rng.choice([7, 24, 48, 168]))
    n = int(rng.integers(1, 30 * season))
    y = rng.poisson(20, n).astype(float)
    y[rng.random(n) < rng.random() * 0.7] = np.nan
    y[rng.integers(0, n, size=2)] = [1e6, 0.0]
    slot0, exclude = int(rng.integers(0, season)), rng.random(n) < 0.1
    mask, med = _robust_outliers(y, slot0, season, exclude)
    ref_mask, ref_med = _pandas_rolling_outliers(y, slot0, season, exclude)
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_array_equal(med, ref_med)
