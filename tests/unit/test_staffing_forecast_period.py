"""Staffing from stored forecasts plans one period (issue #13, point 1).

Each series has its own current forecast: ``calls`` trained on all history is for next week, ``emails`` trained
with a back-dated history end is a test forecast for a past week. Loading both used to add the two weeks into one
plan ("Sun … → Sat …" over four weeks, with no warning). Now the planner picks the week, only the forecasts that
cover it are planned, and the others are named.
"""

from __future__ import annotations

import types
from datetime import date

import pandas as pd
import pytest

from src.services import data as data_service
from src.services import staffing as svc
from src.services.context import ServiceError
from src.services.staffing import forecast as forecast_mod
from tests.conftest import ADMIN, PLANNER

CALLS, EMAILS = "workload:calls@A", "workload:emails@A"


def _history(weeks: int = 8, start: str = "2026-09-07") -> pd.DataFrame:
    """Calls Mon–Fri 08–17 and Sat 09–13, e-mails Mon–Fri 08–17: the last interval is Sat 2026-10-31 13:00."""
    rows = []
    t0 = pd.Timestamp(start)  # a Monday
    for d in range(weeks * 7):
        day = t0 + pd.Timedelta(days=d)
        wd = day.weekday()
        hours = range(8, 18) if wd < 5 else range(9, 14) if wd == 5 else range(0)
        for h in hours:
            ts = day + pd.Timedelta(hours=h)
            rows.append({"timestamp": ts, "queue": "calls", "site": "A", "volume": 30 + h, "aht_seconds": 200.0})
            if wd < 5:
                rows.append({"timestamp": ts, "queue": "emails", "site": "A", "volume": 12, "aht_seconds": 400.0})
    return pd.DataFrame(rows)


@pytest.fixture
def two_weeks_app(sqlite_app):
    """calls forecast for the week after the history, emails back-dated to a week in October."""
    fc = pytest.importorskip("src.services.forecasting")
    data_service.ingest_frame(sqlite_app, ADMIN, kind="workload", frame=_history(), name="t")
    fc.train_forecasts(sqlite_app, PLANNER, [CALLS], horizon_days=7, model="seasonal_naive", folds=1)
    fc.train_forecasts(sqlite_app, PLANNER, [EMAILS], horizon_days=7, model="seasonal_naive", folds=1,
                       history_end=date(2026, 10, 10))
    return sqlite_app


def test_default_selection_plans_next_week_and_names_the_queue_left_out(two_weeks_app):
    periods = svc.forecast_periods(two_weeks_app, PLANNER, [CALLS, EMAILS])
    assert [(p.label, p.describe()) for p in periods] == [
        ("calls · A", "Sat 2026-10-31 14:00 → Sat 2026-11-07 13:00"),
        ("emails · A", "Fri 2026-10-09 18:00 → Fri 2026-10-16 17:00")]
    assert svc.default_forecast_window(periods) == (date(2026, 11, 1), 7)

    both = svc.forecast_volume(two_weeks_app, PLANNER, series=[CALLS, EMAILS])
    assert both.queues == ["calls"], "the back-dated e-mail week is not added to next week"
    assert both.frame["ds"].min() >= pd.Timestamp("2026-11-01")
    assert both.frame["ds"].max() < pd.Timestamp("2026-11-08")
    assert both.detail == "Stored forecast for Sun 2026-11-01 → Sat 2026-11-07: calls · A"
    assert both.notes == ("No forecast for Sun 2026-11-01 → Sat 2026-11-07, left out of this plan: emails · A "
                          "(forecast for Fri 2026-10-09 18:00 → Fri 2026-10-16 17:00).",)

    alone = svc.forecast_volume(two_weeks_app, PLANNER, series=[CALLS])
    hours = [svc.plan_totals(svc.build_plan(two_weeks_app, PLANNER, v, svc.default_params_for(v)))["agent_hours"]
             for v in (both, alone)]
    assert hours[0] == hours[1] > 0, "totals of the default selection are calls' own"


def test_a_chosen_week_plans_the_forecasts_that_cover_it(two_weeks_app):
    past = svc.forecast_volume(two_weeks_app, PLANNER, series=[CALLS, EMAILS], start=date(2026, 10, 10), days=6)
    assert past.queues == ["emails"] and "calls · A (forecast for Sat 2026-10-31 14:00" in past.notes[0]
    assert past.detail.startswith("Stored forecast for Sat 2026-10-10 → Thu 2026-10-15: emails")
    # a week half inside a forecast is not covered: no plan of some days of one queue and all of another
    with pytest.raises(ServiceError, match="No stored forecast covers Wed 2026-11-04 → Tue 2026-11-10") as err:
        svc.forecast_volume(two_weeks_app, PLANNER, series=[CALLS, EMAILS], start=date(2026, 11, 4), days=7)
    assert "Sat 2026-10-31 14:00 → Sat 2026-11-07 13:00 (calls · A)" in str(err.value)


def test_closed_hours_outside_the_forecast_do_not_break_coverage():
    """A forecast that starts after Friday's last call covers a Sun–Sat week if the hours it lacks (Friday
    evening, Saturday) are closed in its own weekly pattern; a missing open hour is not covered."""
    ds = pd.date_range("2026-10-30 18:00", "2026-11-06 17:00", freq="h")
    open_ = (ds.weekday < 5) & (ds.hour >= 8) & (ds.hour < 18)
    frame = pd.DataFrame({"queue": "outbound", "ds": ds, "yhat": open_ * 5.0, "yhat_upper_95": open_ * 8.0})
    p = svc.ForecastPeriod(series="workload:outbound@A", label="outbound · A", frame=frame)
    week = pd.Timestamp("2026-11-01"), pd.Timestamp("2026-11-08")
    assert p.covers(*week)
    assert svc.default_forecast_window([p]) == (date(2026, 10, 31), 7)
    saturday_open = frame.assign(yhat_upper_95=frame["yhat_upper_95"] + (ds.weekday == 5) * 1.0)
    assert not svc.ForecastPeriod(series="s", label="s", frame=saturday_open).covers(*week)
    assert not p.covers(pd.Timestamp("2026-10-30"), pd.Timestamp("2026-11-06")), "Friday morning was not forecast"


def test_care_forecasts_of_different_weeks_are_not_summed(app, monkeypatch):
    def daily(first: str) -> pd.DataFrame:
        return pd.DataFrame({"ds": pd.date_range(first, periods=7, freq="D"), "yhat": 3.0,
                             "yhat_upper_80": 4.0, "yhat_upper_95": 5.0})

    rows = {"care:Haus A/Linde": daily("2026-11-01").assign(queue="Haus A · Linde"),
            "care:Haus A/Eiche": daily("2026-10-04").assign(queue="Haus A · Eiche")}
    fake = types.SimpleNamespace(runs_for_series=lambda *a, **k: [{"series_id": s} for s in rows],
                                 latest_forecast=lambda app_, actor, sid: rows.get(sid))
    monkeypatch.setattr(forecast_mod, "forecasting_service", fake)  # looked up in the adapter module
    v = svc.forecast_volume(app, PLANNER, series=list(rows))
    assert v.queues == ["Haus A · Linde"] and len(v.frame) == 7 and v.channel == "care"
    assert v.notes == ("No forecast for Sun 2026-11-01 → Sat 2026-11-07, left out of this plan: Haus A / Eiche "
                       "(forecast for Sun 2026-10-04 → Sat 2026-10-10).",)


def test_planning_options_stamp_changes_when_a_forecast_is_stored(two_weeks_app):
    """The page caches the forecast periods per selection under this stamp: a new training must change it."""
    fc = pytest.importorskip("src.services.forecasting")
    before = svc.planning_options(two_weeks_app, PLANNER)
    assert before.forecast_series == [CALLS, EMAILS] and before.forecast_stamp
    fc.train_forecasts(two_weeks_app, PLANNER, [EMAILS], horizon_days=7, model="seasonal_naive", folds=1)
    assert svc.planning_options(two_weeks_app, PLANNER).forecast_stamp != before.forecast_stamp
