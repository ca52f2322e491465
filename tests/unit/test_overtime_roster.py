"""Overtime ranking with the uploaded roster: rostered shifts block overlapping overtime ("already working"), count
for the minimum rest, and replace the contract hours in the maximum-weekly-hours rule for the weeks a person is
rostered. Exact hours are worked out in each test. Pure domain first, then from the store (SQLite and, with
TEST_DATABASE_URL, PostgreSQL) through the service and the ``overtime rank --json`` CLI."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from src.cli import main
from src.models.overtime import OvertimeRules, ShiftRequest, rank_candidates, rostered_hours_in_week
from src.services import data as data_service
from src.services import overtime as ot
from src.services.context import set_app
from tests.conftest import ADMIN, PLANNER
from tests.unit.fixtures_files import csv_bytes
from tests.unit.test_overtime import AS_OF, frame, person
from tests.unit.test_overtime_service import _seed

RULES = OvertimeRules(as_of=AS_OF, max_weekly_hours=40.0)
WEDNESDAY_EARLY = ShiftRequest("North", "2026-03-04", "early", 8)  # 06:00–14:00 in the week of Mon 2026-03-02


def shift(sid: str, start: str, end: str, label: str = "rostered early shift at North/WB 1",
          hours: float | None = None) -> dict:
    return {"staff_id": sid, "start": pd.Timestamp(start), "end": pd.Timestamp(end), "label": label,
            "rostered": True, "hours": hours}


def _excluded(res) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {e.staff_id: (e.codes, e.reasons) for e in res.excluded}


# ------------------------------------------------------------------------------------------ domain

def test_rostered_shift_at_the_same_time_excludes_as_already_working():
    staff = frame([person("A", "Anna"), person("B", "Ben")])
    schedule = frame([shift("A", "2026-03-04 06:00", "2026-03-04 14:00")])
    res = rank_candidates(WEDNESDAY_EARLY, staff, None, RULES, schedule=schedule)
    assert _excluded(res) == {"A": (("already_working",), (
        "already working then (rostered early shift at North/WB 1 2026-03-04 06:00–14:00)",))}
    assert [c.staff_id for c in res.candidates] == ["B"]


def test_rostered_shift_too_close_before_or_after_breaks_the_minimum_rest():
    staff = frame([person("A", "Anna"), person("B", "Ben"), person("C", "Cara")])
    schedule = frame([
        shift("A", "2026-03-03 14:00", "2026-03-03 22:00", "rostered late shift at North/WB 1"),   # 8 h before
        shift("B", "2026-03-04 21:30", "2026-03-05 06:30", "rostered night shift at North/WB 2"),  # 7.5 h after
        shift("C", "2026-03-03 11:00", "2026-03-03 19:00", "rostered shift at North"),             # exactly 11 h
    ])
    res = rank_candidates(WEDNESDAY_EARLY, staff, None, RULES, schedule=schedule)
    assert _excluded(res) == {
        "A": (("min_rest",), ("only 8.0 h rest after rostered late shift at North/WB 1 ending 2026-03-03 22:00 "
                              "(min 11.0 h)",)),
        "B": (("min_rest",), ("only 7.5 h rest before rostered night shift at North/WB 2 starting 2026-03-04 21:30 "
                              "(min 11.0 h)",)),
    }
    assert res.candidates[0].details["rest_gap_hours"] == pytest.approx(11.0)


def test_weekly_maximum_uses_rostered_hours_of_that_week_instead_of_the_contract():
    staff = frame([person("P", "Pia", contract=20.0), person("F", "Finn", contract=40.0),
                   person("N", "Nina", contract=40.0)])
    schedule = frame(
        # Pia, 20 h contract, rostered 4 × 9 h this week: 36 + 8 = 44 > 40
        [shift("P", f"2026-03-0{d} 21:30", f"2026-03-0{d + 1} 06:30", "rostered night shift at North/WB 1")
         for d in (5, 6, 7)]
        + [shift("P", "2026-03-08 21:30", "2026-03-09 06:30", "rostered night shift at North/WB 1")]  # Sunday: counts
        # Finn, 40 h contract (40 + 8 > 40 by contract), rostered only 3 × 8 h with 7.5 paid: 22.5 + 8 = 30.5
        + [shift("F", f"2026-03-0{d} 14:00", f"2026-03-0{d} 22:00", hours=7.5) for d in (5, 6, 7)]
        # Nina: rostered only the week before (Sunday night, starts Mar 1) → no roster this week → contract 40 + 8
        + [shift("N", "2026-03-01 21:30", "2026-03-02 06:30")]
    )
    res = rank_candidates(WEDNESDAY_EARLY, staff, None, RULES, schedule=schedule)
    ex = _excluded(res)
    assert ex["P"] == (("max_weekly_hours",), (
        "would work 44.0 h in the week of 2026-03-02 (rostered 36.0 h in 4 shifts + overtime 0.0 h + this shift "
        "8.0 h; max 40.0 h)",))
    assert ex["N"] == (("max_weekly_hours",), (
        "would work 48.0 h in the week of 2026-03-02 (contract 40.0 h + overtime 0.0 h + this shift 8.0 h; "
        "max 40.0 h)",))
    finn = next(c for c in res.candidates if c.staff_id == "F")
    assert finn.details["week_basis"] == "roster" and finn.details["rostered_shifts_this_week"] == 3
    assert finn.details["rostered_hours_this_week"] == pytest.approx(22.5)
    assert finn.details["week_hours_after"] == pytest.approx(30.5)
    assert finn.details["headroom_hours"] == pytest.approx(9.5)  # 40 − 30.5 ≥ 8 → full headroom score
    assert finn.details["headroom_score"] == 1.0
    assert "9.5 h weekly headroom" in finn.factor("availability").label


def test_roster_and_accepted_overtime_of_the_week_add_up():
    from tests.unit.test_overtime import offer

    staff = frame([person("A", "Anna", contract=20.0)])
    schedule = frame([shift("A", "2026-03-02 06:00", "2026-03-02 14:00"),
                      shift("A", "2026-03-03 06:00", "2026-03-03 14:00")])
    hist = frame([offer("R1", "2026-03-06", "early", "A", "2026-03-01 08:00", "2026-03-01 08:05", True, 8.0),
                  offer("R2", "2026-03-07", "early", "A", "2026-03-01 08:00", "2026-03-01 08:05", True, 8.0)])
    strict = OvertimeRules(as_of=AS_OF, max_weekly_hours=38.0)
    res = rank_candidates(WEDNESDAY_EARLY, staff, hist, strict, schedule=schedule)
    assert _excluded(res)["A"][1] == (
        "would work 40.0 h in the week of 2026-03-02 (rostered 16.0 h in 2 shifts + overtime 16.0 h + this shift "
        "8.0 h; max 38.0 h)",)


def test_rostered_hours_in_week_ignores_overtime_rows_and_uses_end_minus_start_without_hours():
    schedule = frame([
        shift("A", "2026-03-02 06:00", "2026-03-02 14:00"),
        {"staff_id": "A", "start": pd.Timestamp("2026-03-03 06:00"), "end": pd.Timestamp("2026-03-03 14:00"),
         "label": "overtime shift OTR-000001", "rostered": False, "hours": 8.0},
        {**shift("B", "2026-03-08 22:00", "2026-03-09 06:00"), "hours": float("nan")},
        shift("B", "2026-03-09 06:00", "2026-03-09 14:00"),  # next week
    ])
    week = (pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-09"))
    assert rostered_hours_in_week(schedule, *week) == {"A": (8.0, 1), "B": (8.0, 1)}
    assert rostered_hours_in_week(schedule.drop(columns="rostered"), *week) == {}
    assert rostered_hours_in_week(None, *week) == {}


# ------------------------------------------------------------------------------------------ from the store

def _week_after_next(today: date) -> date:
    return today - timedelta(days=today.weekday()) + timedelta(days=14)


def _upload_roster(app, ws: date) -> None:
    """S1 rostered early on Sunday; S2 (20 h contract) rostered 13:00–22:00 Monday to Friday (5 × 9 h = 45 h)."""
    rows = [["Personalnummer", "Datum", "Schicht", "Beginn", "Ende", "Einrichtung", "Wohnbereich"],
            ["S1", f"{ws + timedelta(days=6):%d.%m.%Y}", "Frühdienst", "", "", "Haus A", "WB1"]]
    rows += [["S2", f"{ws + timedelta(days=d):%d.%m.%Y}", "Spätdienst", "13:00", "22:00", "Haus A", "WB1"]
             for d in range(5)]
    out = data_service.ingest_upload(app, ADMIN, kind="roster", filename="dienstplan.csv",
                                     content=csv_bytes(rows, sep=";"))
    assert out.stored and out.result.rows == 6 and not out.report.warnings, out.message


def test_rank_from_the_store_sees_the_roster(app):
    today = _seed(app)
    ws = _week_after_next(today)
    before = ot.rank(app, PLANNER, site="Haus A", shift_date=ws + timedelta(days=6), shift_type="early")
    assert {c.staff_id for c in before.candidates} == {"S1", "S2"}
    _upload_roster(app, ws)

    sunday = ws + timedelta(days=6)
    start = pd.Timestamp(sunday) + pd.Timedelta(hours=6)
    schedule, _ = ot.availability_inputs(app, start, start + pd.Timedelta(hours=8))
    assert schedule[["staff_id", "label", "rostered", "hours"]].values.tolist() == [
        ["S2", "rostered late shift at Haus A/WB1", True, 9.0]] * 5 + [
        ["S1", "rostered early shift at Haus A/WB1", True, 8.0]]
    assert schedule["start"].min() == pd.Timestamp(ws) + pd.Timedelta(hours=13)  # from Monday: the whole week

    res = ot.rank(app, PLANNER, site="Haus A", shift_date=sunday, shift_type="early")
    ex = {e.staff_id: e.reasons for e in res.excluded}
    assert res.candidates == ()
    assert ex["S1"] == (f"already working then (rostered early shift at Haus A/WB1 {sunday:%Y-%m-%d} 06:00–14:00)",)
    assert ex["S2"] == (f"would work 53.0 h in the week of {ws:%Y-%m-%d} (rostered 45.0 h in 5 shifts + overtime "
                        "0.0 h + this shift 8.0 h; max 48.0 h)",)

    wednesday = ws + timedelta(days=2)
    mid = ot.rank(app, PLANNER, site="Haus A", shift_date=wednesday, shift_type="early")
    s2 = next(e for e in mid.excluded if e.staff_id == "S2")
    assert s2.codes == ("already_working", "max_weekly_hours", "min_rest")
    assert s2.reasons[2] == (f"only 8.0 h rest after rostered late shift at Haus A/WB1 ending "
                             f"{ws + timedelta(days=1):%Y-%m-%d} 22:00 (min 11.0 h)")
    s1 = next(c for c in mid.candidates if c.staff_id == "S1")  # rostered only on Sunday: 8 + 8 h
    assert (s1.details["week_basis"], s1.details["week_hours_after"]) == ("roster", 16.0)

    next_week = ot.rank(app, PLANNER, site="Haus A", shift_date=ws + timedelta(days=8), shift_type="late")
    s1 = next(c for c in next_week.candidates if c.staff_id == "S1")
    assert (s1.details["week_basis"], s1.details["week_hours_after"]) == ("contract", 48.0)  # no roster that week


def test_cli_rank_json_shows_roster_exclusions(sqlite_app, capsys):
    today = _seed(sqlite_app)
    ws = _week_after_next(today)
    _upload_roster(sqlite_app, ws)
    set_app(sqlite_app)
    try:
        sunday = (ws + timedelta(days=6)).isoformat()
        assert main(["overtime", "rank", "--site", "Haus A", "--date", sunday, "--shift-type", "early",
                     "--json"]) == 0
    finally:
        set_app(None)
    out = json.loads(capsys.readouterr().out)
    assert out["candidates"] == []
    excluded = {e["staff_id"]: e for e in out["excluded"]}
    assert excluded["S1"]["codes"] == ["already_working"]
    assert excluded["S1"]["reasons"] == [f"already working then (rostered early shift at Haus A/WB1 {sunday} "
                                         "06:00–14:00)"]
    assert excluded["S2"]["codes"] == ["max_weekly_hours"]
    assert "rostered 45.0 h in 5 shifts" in excluded["S2"]["reasons"][0]


def test_roster_week_of_a_person_with_and_without_shifts(app):
    from src.services.context import ServiceError

    today = _seed(app)
    ws = _week_after_next(today)
    _upload_roster(app, ws)
    week = ot.roster_week(app, PLANNER, "S2", ws + timedelta(days=3))
    assert week.week_start == ws and len(week.shifts) == 5
    assert (week.rostered_hours, week.counted_hours, week.contract_hours) == (45.0, 45.0, 20.0)
    assert list(week.shifts.columns) == ["date", "shift_type", "start", "end", "site", "unit", "hours"]
    empty = ot.roster_week(app, PLANNER, "S2", (ws + timedelta(days=7)).isoformat())
    assert empty.shifts.empty and (empty.rostered_hours, empty.counted_hours) == (0.0, 20.0)
    with pytest.raises(ServiceError, match="Unknown staff id"):
        ot.roster_week(app, PLANNER, "S99", ws)
