"""Closed hours (no volume) have no service level, ASA, occupancy or abandonment — on screen, in the workbook, in
saved plans, the CSV and the REST rows — and stay out of every average (issue #13, point 4).

Erlang C answers 0 calls "all within 0 s": the requirement and shift-plan charts drew closed hours at 100 % SL and
the Excel had SL = 1 for them.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from src.models.capacity import QueueParams, plan_shifts, plan_staffing, staffing_workbook
from src.models.capacity.shift_plan import ShiftPattern
from src.models.capacity.staffing import WORKBOOK_HEADERS
from src.services import staffing as svc
from src.ui import charts_staffing as charts
from tests.conftest import PLANNER

QUALITY = ["service_level", "asa_seconds", "occupancy", "p_wait", "p_abandon"]


def _frame() -> pd.DataFrame:
    """Calls and e-mails 06:00–21:00 with the queue closed (0) before 08:00 and after 17:00."""
    ds = pd.date_range("2026-11-02 06:00", periods=16, freq="h")
    calls = [0.0, 0.0] + [40.0 + 5 * i for i in range(10)] + [0.0] * 4
    return pd.DataFrame({"queue": ["calls"] * 16 + ["emails"] * 16, "ds": list(ds) * 2,
                         "yhat": calls + [0.0] * 3 + [20.0] * 6 + [0.0] * 7})


def _params(patience: float | None = None) -> dict[str, QueueParams]:
    return {"calls": QueueParams(interval_seconds=3600, patience_s=patience),
            "emails": QueueParams(channel="email", sl_target=None, interval_seconds=3600, response_hours=2.0)}


@pytest.mark.parametrize("patience", [None, 90.0])
def test_closed_intervals_have_no_quality_values_and_stay_out_of_averages(patience):
    plan = plan_staffing(_frame(), _params(patience))
    calls = plan.intervals[plan.intervals["queue"] == "calls"]
    closed = calls["volume"] == 0
    assert closed.sum() == 6
    assert calls.loc[closed, QUALITY].isna().all().all(), "no SL/ASA/occupancy/P(wait)/P(abandon) when closed"
    assert calls.loc[~closed, QUALITY].notna().all().all()
    assert (calls.loc[closed, "agents"] == 0).all()

    # averages equal those of the open intervals alone
    open_ = calls[~closed]
    day = plan.daily.set_index("queue").loc["calls"]
    w = open_["volume"]
    assert day["service_level"] == pytest.approx((open_["service_level"] * w).sum() / w.sum())
    assert day["asa_seconds"] == pytest.approx((open_["asa_seconds"] * w).sum() / w.sum())
    busy = (open_["occupancy"] * open_["agents_raw"]).sum()
    assert day["occupancy"] == pytest.approx(busy / open_["agents_raw"].sum())
    summary = plan.summary.set_index("queue").loc["calls"]
    assert summary["service_level"] == pytest.approx(day["service_level"])
    totals = svc.plan_totals(plan)
    assert totals["service_level"] == pytest.approx(day["service_level"]) and totals["service_level"] < 1
    assert summary["intervals_below_target"] == 0

    # e-mail intervals with nobody scheduled have no occupancy (not 0 %)
    emails = plan.intervals[plan.intervals["queue"] == "emails"]
    assert emails.loc[emails["agents_raw"] == 0, "occupancy"].isna().all()
    assert emails.loc[emails["agents_raw"] > 0, "occupancy"].notna().all()


def test_shift_plan_and_chart_show_no_value_for_closed_hours():
    plan = plan_staffing(_frame(), _params())
    patterns = (ShiftPattern(name="early", start="06:00", length_minutes=8 * 60),
                ShiftPattern(name="late", start="13:00", length_minutes=9 * 60))
    sp = plan_shifts(plan, patterns, queue="calls", time_limit_s=10)
    closed = sp.intervals["volume"] == 0
    assert (sp.intervals.loc[closed, "planned"] > 0).any(), "people on shift in a closed hour (shift edges)"
    assert sp.intervals.loc[closed, ["service_level", "asa_seconds", "p_abandon"]].isna().all().all()
    assert sp.intervals.loc[~closed, "service_level"].notna().all()

    calls = plan.intervals[plan.intervals["queue"] == "calls"]
    for planned in (None, sp.intervals):
        fig = charts.requirement_chart(calls, interval_seconds=3600, planned=planned, sl_target=0.8)
        sl = next(t for t in fig.data if str(t.name).startswith("Achieved SL"))
        by_time = dict(zip(pd.to_datetime(sl.x), sl.y, strict=True))
        for ts in calls.loc[calls["volume"] == 0, "ds"]:
            assert by_time[ts] is None or math.isnan(by_time[ts]), f"no SL drawn at {ts}"
        assert max(v for v in sl.y if v is not None and not math.isnan(v)) < 1.0


def test_workbook_csv_and_saved_plan_leave_closed_hours_empty(app):
    frame = _frame()
    v = svc.VolumeInput(frame=frame, source="upload", detail="Uploaded file day.csv", interval_seconds=3600)
    params = svc.default_params_for(v)
    plan = svc.build_plan(app, PLANNER, v, params)
    sp = svc.build_shift_plan(app, PLANNER, plan, queue="calls",
                              patterns=svc.patterns_from_table(svc.default_patterns_table()), time_limit_s=10)

    wb = load_workbook(io.BytesIO(staffing_workbook(plan, shift_plan=sp)))
    for sheet, col in (("Intervals", "service_level"), ("Shift plan", "service_level")):
        ws = wb[sheet]
        head = [c.value for c in ws[1]]
        q = head.index(WORKBOOK_HEADERS[sheet]["queue"])
        vol = head.index(WORKBOOK_HEADERS[sheet]["volume"])
        sl = head.index(WORKBOOK_HEADERS[sheet][col])
        rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[q] == "calls"]
        assert rows and all(r[sl] is None for r in rows if r[vol] == 0), f"{sheet}: closed SL cell is empty"
        assert all(r[sl] is not None and r[sl] < 1 for r in rows if r[vol] > 0)

    csv = pd.read_csv(io.BytesIO(svc.export_plan(app, PLANNER, plan, fmt="csv", shift_plan=sp).data))
    closed = csv[(csv["queue"] == "calls") & (csv["volume"] == 0)]
    assert len(closed) == 6 and closed[["service_level", "planned_service_level"]].isna().all().all()

    pid = svc.save_plan(app, PLANNER, plan, name="Closed hours", volume=v, shift_plan=sp)
    saved = svc.open_saved_plan(app, PLANNER, pid)
    rows = svc.requirement_rows(saved.plan, "calls", saved.shift_plan)
    shut = rows["volume"] == 0
    assert rows.loc[shut, ["service_level", "asa_seconds", "occupancy", "planned_service_level"]].isna().all().all()
    assert np.isclose(svc.plan_totals(saved.plan)["service_level"], svc.plan_totals(plan)["service_level"])
