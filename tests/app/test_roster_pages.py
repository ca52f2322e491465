"""The roster through the pages (AppTest): an admin uploads a German roster file on the Data page (validation
report with the unknown-staff warning, store, re-upload replaces the period); the Live rankings page explains
roster exclusions out of the box with the demo data; Staff detail shows a person's rostered week."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from src.data import store
from src.data.demo import DemoConfig
from src.services import data as data_service
from src.services.context import set_app
from tests.app.conftest import demo_store, logged_in
from tests.conftest import ADMIN
from tests.unit.fixtures_files import csv_bytes

HEADER = ["Personalnummer", "Datum", "Schicht", "Beginn", "Ende", "Einrichtung", "Wohnbereich", "Stunden"]
ROSTER = csv_bytes([HEADER,
                    ["S1", "02.11.2026", "Frühdienst", "", "", "Haus A", "WB 1", ""],
                    ["S1", "03.11.2026", "Nachtdienst", "21:30", "06:30", "Haus A", "WB 1", "8,5"],
                    ["S9", "03.11.2026", "Spätdienst", "", "", "Haus A", "WB 2", "7,5"]], sep=";")


def _button(at, prefix: str):
    return next(b for b in at.button if b.label.startswith(prefix))


def test_data_page_uploads_a_roster_with_report_preview_and_replace(ui_app):
    frame = pd.DataFrame({"staff_id": ["S1"], "name": ["Anna"], "site": ["Haus A"], "role": ["carer"],
                          "skills": ["care"], "hire_date": [pd.Timestamp("2020-01-01")], "contract_hours": [40.0],
                          "ot_willing": [True]})
    data_service.ingest_frame(ui_app, ADMIN, kind="staff", frame=frame, name="staff")
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/data.py").run()
    at.selectbox[0].select("roster")
    at.run()
    assert not at.exception, at.exception
    assert any("`shift_type` (optional)" in m.value for m in at.markdown)
    assert any("a night shift ends on the next day" in c.value for c in at.caption)

    at.file_uploader[0].upload("dienstplan.csv", ROSTER, "text/csv")
    at.run()
    assert not at.exception, at.exception
    assert "3 rows read and 1 warning; ready to import" in at.success[0].value
    report = at.table[0].value
    warning = report[report["severity"] == "warning"].iloc[0]
    assert warning["column"] == "Personalnummer" and warning["value"] == "S9"
    assert "1 staff id is not in the staff list: S9 (1 row)" in warning["message"]
    preview = at.dataframe[0].value
    assert preview["start"].tolist() == [pd.Timestamp("2026-11-02 06:00"), pd.Timestamp("2026-11-03 21:30"),
                                         pd.Timestamp("2026-11-03 14:00")]
    assert preview["end"].tolist()[1] == pd.Timestamp("2026-11-04 06:30")  # the night ends the next morning

    _button(at, "Store 3 rows").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Stored 3 rows from dienstplan.csv" in s.value for s in at.success)
    assert store.table_row_count(ui_app.engine, "roster") == 3

    fixed = csv_bytes([HEADER, ["S1", "02.11.2026", "Spätdienst", "", "", "Haus A", "WB 1", ""]], sep=";")
    at.file_uploader[0].upload("dienstplan_v2.csv", fixed, "text/csv")
    at.run()
    at.radio(key="wfp_policy").set_value("replace")
    at.run()
    next(c for c in at.checkbox if c.label.startswith("Delete the 1 stored row")).check()
    at.run()
    _button(at, "Store 1 rows, replacing 1").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Replaced 1 overlapping stored rows" in s.value for s in at.success)  # Haus A on Nov 2 only
    stored = store.load_frame(ui_app.engine, "roster").sort_values("start")
    assert stored["shift_type"].tolist() == ["late", "late", "night"]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    with demo_store(tmp_path_factory, "roster_pages") as ctx:
        yield ctx


@pytest.fixture
def demo(demo_app):
    set_app(demo_app)
    yield demo_app
    set_app(None)


def test_live_rankings_explain_roster_exclusions_with_the_demo_data(demo):
    day = DemoConfig().roster_start + timedelta(days=2)  # a Wednesday in the first demo roster week
    at = logged_in("pat", "planner").run()
    at.switch_page("pages/overtime_rankings.py").run()
    assert not at.exception, at.exception
    at.date_input(key="wfp_otr_date").set_value(day)
    at.selectbox(key="wfp_otr_site").set_value("Haus Lindenhof")
    at.selectbox(key="wfp_otr_type").set_value("early")
    next(b for b in at.button if b.label == "Rank staff").click()
    at.run()
    assert not at.exception, at.exception
    excluded = at.dataframe[1].value
    assert list(excluded.columns) == ["staff_id", "name", "rules", "reasons"]
    working = excluded[excluded["rules"].str.contains("already working")]
    assert len(working) and working["reasons"].str.contains(
        rf"already working then \(rostered \w+ shift at [^)]+ {day:%Y-%m-%d} \d\d:\d\d–\d\d:\d\d\)").any()
    assert excluded["reasons"].str.contains("rest after rostered late shift at").any()
    assert excluded["reasons"].str.contains(r"\(rostered 4\d\.0 h in \d shifts \+ overtime").any()
    caption = next(c.value for c in at.caption if c.value.startswith("By rule"))
    assert "already working" in caption and "minimum rest" in caption and "weekly hours" in caption


def test_staff_detail_shows_the_rostered_week(demo):
    roster = store.load_frame(demo.engine, "roster")
    first = roster.sort_values(["date", "staff_id"]).iloc[0]
    sid, day = first["staff_id"], first["date"].date()
    at = logged_in("pat", "planner")
    at.query_params["staff"] = sid
    at.run()
    at.switch_page("pages/overtime_staff.py").run()
    at.selectbox(key="wfp_ot_staff_pick").set_value(sid)
    at.date_input(key="wfp_ot_staff_roster_week").set_value(day)
    at.run()
    assert not at.exception, at.exception
    shown = next(d.value for d in at.dataframe if "shift_type" in d.value.columns)
    monday = day - timedelta(days=day.weekday())
    mine = roster[(roster["staff_id"] == sid) & (roster["date"] >= pd.Timestamp(monday))
                  & (roster["date"] < pd.Timestamp(monday + timedelta(days=7)))]
    assert len(shown) == len(mine) > 0 and shown["hours"].sum() == mine["hours"].sum()
    assert any(c.value.startswith(f"{mine['hours'].sum():.1f} h rostered in {len(mine)} shift(s) in the week of "
                                  f"{monday:%Y-%m-%d}") for c in at.caption)


def test_replace_says_how_many_stored_shifts_and_people_it_removes_before_storing(ui_app):
    """Issue 13.7: 'replace' removed every stored shift of the site's period (people not in the file included), and
    the page said so only afterwards. Before Store it names the rows, people and period, and Store waits for a tick
    that repeats the number."""
    data_service.ingest_upload(ui_app, ADMIN, kind="roster", filename="v1.csv", content=ROSTER)
    assert store.table_row_count(ui_app.engine, "roster") == 3
    only_s1 = csv_bytes([HEADER, ["S1", "02.11.2026", "Spätdienst", "", "", "Haus A", "WB 1", ""],
                         ["S1", "03.11.2026", "Spätdienst", "", "", "Haus A", "WB 1", ""]], sep=";")
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/data.py").run()
    at.selectbox[0].select("roster")
    at.run()
    at.file_uploader[0].upload("v2.csv", only_s1, "text/csv")
    at.run()
    assert not at.exception, at.exception
    note = next(i.value for i in at.info if "overlap this file" in i.value)
    assert note.startswith("3 stored roster (regular shifts) shifts overlap this file")
    assert "2026-11-02 to 2026-11-03" in note and "site Haus A" in note
    assert "2 people, 1 of them not in this file (S9)" in note
    at.radio(key="wfp_policy").set_value("replace")
    at.run()
    assert not at.exception, at.exception
    assert any("'Replace' deletes these 3 and stores the file's 2" in w.value for w in at.warning)
    store_button = _button(at, "Store 2 rows, replacing 3")
    assert store_button.disabled, "not before the admin confirmed the number"
    next(c for c in at.checkbox if c.label.startswith("Delete the 3 stored row(s)")).check()
    at.run()
    _button(at, "Store 2 rows, replacing 3").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Replaced 3 overlapping stored rows" in s.value for s in at.success)
    assert store.table_row_count(ui_app.engine, "roster") == 2
