"""src/ui/dates: one format for dates and times, stored UTC times shown in the app's zone."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from src.ui.dates import fmt_date, fmt_datetime, local_column, to_local


def test_utc_times_are_shown_in_the_app_zone_and_local_times_unchanged():
    # winter: Berlin is UTC+1; summer: UTC+2
    assert fmt_datetime(datetime(2026, 12, 7, 20, 31), utc=True, tz="Europe/Berlin") == "2026-12-07 21:31"
    assert fmt_datetime(datetime(2026, 7, 7, 20, 31), utc=True, tz="Europe/Berlin") == "2026-07-07 22:31"
    assert fmt_datetime(datetime(2026, 12, 7, 21, 31), tz="Europe/Berlin") == "2026-12-07 21:31"
    assert fmt_datetime("2026-12-07T20:31:05", utc=True, seconds=True, tz="Europe/Berlin") == "2026-12-07 21:31:05"
    aware = pd.Timestamp("2026-12-07 20:31", tz="UTC")
    assert fmt_datetime(aware, tz="Europe/Berlin") == "2026-12-07 21:31", "an aware time is always converted"


def test_missing_values_and_dates():
    assert fmt_datetime(None) == "–" and fmt_datetime(pd.NaT) == "–" and fmt_date(float("nan")) == "–"
    assert fmt_date(date(2026, 3, 1)) == "2026-03-01" and fmt_date(pd.Timestamp("2026-03-01 08:00")) == "2026-03-01"
    assert to_local(None, utc=True) is None


def test_a_column_of_utc_times_becomes_local():
    col = local_column(pd.Series([datetime(2026, 12, 7, 20, 31), None]), tz="Europe/Berlin")
    assert col.iloc[0] == pd.Timestamp("2026-12-07 21:31") and pd.isna(col.iloc[1]) and col.dt.tz is None
