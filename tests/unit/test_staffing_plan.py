"""Staffing plan from a forecast table: channels, volume basis, what-if, daily roll-up, shifts, workbook."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import openpyxl
import pandas as pd
import pytest

from src.models.capacity import (
    QueueParams,
    backlog_plan,
    care_staff_required,
    make_patterns,
    plan_shifts,
    plan_staffing,
    required_agents,
    staffing_workbook,
    what_if,
    workload_agents,
)
from src.models.capacity.staffing import INTERVAL_COLUMNS, WORKBOOK_HEADERS, achieved_with_agents

DS = pd.date_range("2025-03-03 06:00", periods=32, freq="30min")  # Monday 06:00–21:30


def forecast(queues=("calls",), base=100.0) -> pd.DataFrame:
    rows = []
    for q in queues:
        vol = base + 50 * np.sin(np.arange(len(DS)) / 5)
        rows.append(pd.DataFrame({"series_id": q, "ds": DS, "yhat": vol, "yhat_upper_80": vol * 1.2,
                                  "yhat_upper_95": vol * 1.4}))
    return pd.concat(rows, ignore_index=True)


def test_voice_plan_matches_erlang_c_per_interval():
    fc = forecast()
    p = QueueParams(aht_seconds=180, shrinkage=0.3, max_occupancy=0.85)
    plan = plan_staffing(fc, p)
    iv = plan.intervals
    assert list(iv.columns) == INTERVAL_COLUMNS
    direct = required_agents(fc["yhat"].to_numpy(), 180, shrinkage=0.3, max_occupancy=0.85)
    assert iv["agents"].tolist() == direct.agents.tolist()
    assert iv["service_level"].to_numpy() == pytest.approx(direct.service_level)
    assert (iv["queue"] == "calls").all() and (iv["p_abandon"] == 0).all()
    day = plan.daily.iloc[0]
    assert day["agent_hours"] == pytest.approx(iv["agents"].sum() * 0.5)
    assert day["peak_agents"] == iv["agents"].max()
    weighted = (iv["service_level"] * iv["volume"]).sum() / iv["volume"].sum()
    assert day["service_level"] == pytest.approx(weighted)
    s = plan.summary.iloc[0]
    assert s["intervals_below_target"] == 0 and s["intervals"] == 32


def test_upper_bound_basis_and_what_if():
    fc = forecast()
    p = QueueParams(aht_seconds=180)
    point = plan_staffing(fc, p)
    up80 = plan_staffing(fc, p, volume="upper_80")
    up95 = plan_staffing(fc, p, volume="upper_95")
    assert up80.intervals["volume"].to_numpy() == pytest.approx(fc["yhat_upper_80"].to_numpy())
    assert (up95.intervals["agents"] >= up80.intervals["agents"]).all()
    assert (up80.intervals["agents"] >= point.intervals["agents"]).all()
    assert up80.intervals["agents"].sum() > point.intervals["agents"].sum()
    plus10 = plan_staffing(fc, p, volume_factor=1.1)
    assert plus10.intervals["volume"].to_numpy() == pytest.approx(fc["yhat"].to_numpy() * 1.1)
    longer = plan_staffing(fc, what_if(p, aht_pct=20, shrinkage=0.4, sl_target=0.9))
    assert longer.params["calls"].aht_seconds == pytest.approx(216)
    assert (longer.intervals["agents"] >= point.intervals["agents"]).all()
    same = plan_staffing(fc, p, aht_factor=1.2)
    assert same.intervals["aht_seconds"].to_numpy() == pytest.approx(np.full(32, 216.0))


def test_mixed_channels_with_params_mapping():
    fc = forecast(("calls", "emails", "outbound"))
    params = {"calls": QueueParams(aht_seconds=180, patience_s=120), "emails": QueueParams(
        channel="email", aht_seconds=300, response_hours=4), "*": QueueParams(channel="outbound", aht_seconds=240)}
    plan = plan_staffing(fc, params)
    calls = plan.intervals[plan.intervals["queue"] == "calls"]
    assert (calls["p_abandon"] > 0).all()
    emails = plan.intervals[plan.intervals["queue"] == "emails"]
    assert emails["service_level"].isna().all() and emails["backlog_hours"].notna().all()
    assert emails["agents_fractional"].sum() * 0.7 * 1800 * 0.85 == pytest.approx(
        (emails["volume"] * 300).sum() - emails["backlog_hours"].iloc[-1] * 3600)
    out = plan.intervals[plan.intervals["queue"] == "outbound"]
    prod = workload_agents(out["volume"].to_numpy(), 240, 1800, 0.85)
    assert out["agents_raw"].tolist() == np.ceil(prod - 1e-9).astype(int).tolist()
    assert set(plan.summary["channel"]) == {"voice", "email", "outbound"}


def test_care_units_in_shifts():
    days = pd.date_range("2025-03-03", periods=3, freq="D")
    fc = pd.DataFrame({"queue": "Haus A / Station 1", "ds": days, "yhat": [10, 3.0, 0]})
    plan = plan_staffing(fc, QueueParams(channel="care", care_ratio=1.1, shrinkage=0.0))
    assert plan.intervals["agents"].tolist() == [11, 4, 0]
    assert care_staff_required([10, 20], 1.1).tolist() == [11, 22]
    with pytest.raises(ValueError, match="already in shifts"):
        plan_shifts(plan, make_patterns(["06:00"], [8]))


def test_backlog_plan_meets_every_deadline():
    vol = np.array([40, 0, 0, 0, 10, 80, 0, 0, 0, 0, 0, 0], dtype=float)
    bp = backlog_plan(vol, 300, interval_seconds=3600, response_hours=3)
    assert bp.deadline_intervals == 3
    done = np.cumsum(bp.work_done_seconds)
    due = np.concatenate([[0, 0], np.cumsum(vol * 300)[:-2]])
    assert (done >= due - 1e-6).all()  # never late
    assert (done <= np.cumsum(vol * 300) + 1e-6).all()  # never works items not yet arrived
    assert bp.work_done_seconds[:3] == pytest.approx([4000, 4000, 4000])  # 40 items spread over 3 hours
    assert bp.backlog_seconds[-1] == pytest.approx(0)


def test_errors_are_clear():
    fc = forecast()
    with pytest.raises(ValueError, match="yhat_upper_80"):
        plan_staffing(fc.drop(columns="yhat_upper_80"), volume="upper_80")
    with pytest.raises(ValueError, match="No parameters"):
        plan_staffing(forecast(("a", "b")), {"a": QueueParams()})
    with pytest.raises(ValueError, match="duplicate"):
        plan_staffing(pd.concat([fc, fc]))
    with pytest.raises(ValueError, match="Service-level"):
        QueueParams(sl_target=1.0)
    with pytest.raises(ValueError, match="channel"):
        QueueParams(channel="chat")  # type: ignore[arg-type]
    neg = fc.assign(yhat=-5.0)
    plan = plan_staffing(neg)
    assert (plan.intervals["agents"] == 0).all() and plan.notes


def test_shift_plan_gives_achieved_service_level():
    plan = plan_staffing(forecast(), QueueParams(aht_seconds=180, shrinkage=0.3))
    pats = make_patterns([f"{h:02d}:00" for h in range(6, 15)], [4, 8])
    sp = plan_shifts(plan, pats, time_limit_s=20)
    iv = sp.intervals
    assert {"service_level", "productive_agents", "planned", "under", "over"} <= set(iv.columns)
    covered = iv["under"] == 0
    assert covered.all()
    assert (iv["service_level"] >= 0.8 - 1e-9).all()  # planned ≥ required ⇒ target met after shrinkage
    # productive agents = floor(planned × 0.7) exactly: 20 planned → 14
    ach = achieved_with_agents(np.array([20.0, 10.0]), np.array([100.0, 100.0]), np.array([180.0, 180.0]),
                               QueueParams(shrinkage=0.3))
    assert ach["productive_agents"].tolist() == [14, 7]
    assert ach["service_level"][0] == pytest.approx(0.8884, abs=5e-4) and ach["service_level"][1] == 0.0


def test_staffing_workbook_sheets_values_and_chart():
    plan = plan_staffing(forecast(), QueueParams(aht_seconds=180))
    sp = plan_shifts(plan, make_patterns([f"{h:02d}:00" for h in range(6, 15)], [8]))
    wb = openpyxl.load_workbook(io.BytesIO(staffing_workbook(plan, shift_plan=sp)))
    assert wb.sheetnames == ["Summary", "Intervals", "Daily", "Shift plan", "Shift starts", "Parameters"]
    ws = wb["Intervals"]
    header = [c.value for c in ws[1]]
    label = WORKBOOK_HEADERS["Intervals"]
    assert header == [label[c] for c in INTERVAL_COLUMNS]
    assert ws.cell(2, header.index(label["agents"]) + 1).value == int(plan.intervals["agents"].iloc[0])
    assert ws.cell(2, header.index(label["service_level"]) + 1).number_format == "0.0%"
    assert len(wb["Shift plan"]._charts) == 1
    params = wb["Parameters"]
    assert [c.value for c in params[1]][:3] == ["Queue", "Volume basis (point forecast or upper bound)", "Channel"]
    no_shift = openpyxl.load_workbook(io.BytesIO(staffing_workbook(plan, replace(QueueParams(), aht_seconds=1))))
    assert "Shift plan" not in no_shift.sheetnames and len(no_shift["Intervals"]._charts) == 1


def test_staffing_workbook_has_readable_headers_with_units_and_numeric_info():
    """Managers open the workbook in Excel: no column codes (agents_raw) as headers, units in the headers, numbers
    stored as numbers (the Info sheet used to hold the interval as the text "60.0")."""
    plan = plan_staffing(forecast(), QueueParams(aht_seconds=180))
    sp = plan_shifts(plan, make_patterns([f"{h:02d}:00" for h in range(6, 15)], [8]))
    info = {"created_by": "pat", "interval_minutes": 3600 / 60, "paid_hours": 312.5, "what_if": "as planned"}
    wb = openpyxl.load_workbook(io.BytesIO(staffing_workbook(plan, shift_plan=sp, info=info)))
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        assert all(isinstance(h, str) and "_" not in h and h[0].isupper() for h in header), (ws.title, header)
    iv = [c.value for c in wb["Intervals"][1]]
    assert "Productive agents needed (before shrinkage)" in iv and "Agents to schedule (after shrinkage)" in iv
    assert "AHT (seconds)" in iv and "Traffic (Erlangs)" in iv and "Service level achieved (%)" in iv
    for name, labels in WORKBOOK_HEADERS.items():  # a label names one column only
        assert len(set(labels.values())) == len(labels), name
    # the numbers under the new headers are still numbers with their formats
    ws = wb["Intervals"]
    sl = ws.cell(2, iv.index("Service level achieved (%)") + 1)
    assert isinstance(sl.value, float) and sl.number_format == "0.0%"
    assert isinstance(ws.cell(2, iv.index("Productive agents needed (before shrinkage)") + 1).value, int)
    rows = dict(wb["Info"].iter_rows(min_row=2, values_only=True))
    assert [c.value for c in wb["Info"][1]] == ["Item", "Value"]
    assert rows["Interval length (minutes)"] == 60 and type(rows["Interval length (minutes)"]) is int
    assert rows["Paid hours of the shift plan (hours)"] == 312.5 and rows["Created by"] == "pat"
    chart = wb["Shift plan"]._charts[0]
    assert len(chart.series) == 2  # the chart still finds its columns under the new headers
