"""A care-home plan in care words: units, shifts, staff per shift (issue #13, point 11).

The workbook of a care plan said "Queue", "Agents to schedule", "AHT (seconds) = 86400" and "Answered within
(seconds) = 20" — contact-centre words and placeholder values that mean nothing for a care unit.
"""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import load_workbook

from src.models.capacity import QueueParams, plan_staffing, staffing_workbook
from src.models.capacity.staffing import CARE_WORKBOOK_HEADERS
from src.services import staffing as svc
from tests.conftest import PLANNER


def _care_plan():
    days = pd.date_range("2026-11-02", periods=7, freq="D")
    fc = pd.concat([pd.DataFrame({"queue": u, "ds": days, "yhat": [3.0, 3, 2, 3, 3, 2, 2]})
                    for u in ("Haus A · Linde", "Haus A · Eiche")], ignore_index=True)
    params = {u: QueueParams(channel="care", care_ratio=1.5, shrinkage=0.0, max_occupancy=1.0, aht_seconds=86400,
                             sl_target=None, interval_seconds=86400) for u in ("Haus A · Linde", "Haus A · Eiche")}
    return fc, plan_staffing(fc, params)


def test_care_workbook_speaks_of_units_shifts_and_staff():
    _, plan = _care_plan()
    wb = load_workbook(io.BytesIO(staffing_workbook(plan, info={"what_if": "shifts +10 %"})))
    assert wb.sheetnames == ["Summary", "Intervals", "Daily", "Parameters", "Info"]
    for sheet, headers in CARE_WORKBOOK_HEADERS.items():
        assert [c.value for c in wb[sheet][1]] == list(headers.values()), sheet
    params = list(wb["Parameters"].iter_rows(min_row=2, values_only=True))
    assert params == [("Haus A · Eiche", "point", 1.5), ("Haus A · Linde", "point", 1.5)]
    assert wb["Intervals"]["B2"].number_format == wb["Daily"]["B2"].number_format, "days shown as dates"
    staff = [r[3] for r in wb["Intervals"].iter_rows(min_row=2, values_only=True)]
    assert staff[:7] == [5, 5, 3, 5, 5, 3, 3], "ceil(shifts × staff per shift)"
    chart = wb["Intervals"]._charts[0]
    assert chart.y_axis.title is not None


def test_contact_centre_workbook_keeps_its_words():
    ds = pd.date_range("2026-11-02 08:00", periods=4, freq="h")
    plan = plan_staffing(pd.DataFrame({"queue": "calls", "ds": ds, "yhat": 50.0}), QueueParams(interval_seconds=3600))
    wb = load_workbook(io.BytesIO(staffing_workbook(plan)))
    heads = [c.value for c in wb["Parameters"][1]]
    assert heads[0] == "Queue" and "AHT (seconds)" in heads and "Answered within (seconds)" in heads


def test_care_parameters_table_info_and_whatif_use_care_words(app):
    fc, plan = _care_plan()
    v = svc.VolumeInput(frame=fc, source="care", detail="Care-home unit shifts: test", interval_seconds=86400,
                        channel="care")
    assert svc.param_columns(["care", "care"]) == ["queue", "care_ratio"]
    rows = svc.requirement_rows(plan, "Haus A · Linde")
    assert list(rows.columns) == ["ds", "date", "volume", "agents"]
    info = svc.plan_info(v, svc.Scenario(volume_pct=10), PLANNER)
    assert "interval_minutes" not in info and info["what_if"] == "shifts +10 %"
    pid = svc.save_plan(app, PLANNER, plan, name="Care week", volume=v, scenario=svc.Scenario(volume_pct=10))
    saved = svc.open_saved_plan(app, PLANNER, pid)
    assert "interval_minutes" not in saved.info and saved.info["what_if"] == "shifts +10 %"
    assert svc.Scenario(volume_pct=10).describe() == "volume +10 %"
