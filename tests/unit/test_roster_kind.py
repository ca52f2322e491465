"""The ``roster`` upload kind: validation (shift types or explicit times, night shifts, German headers, .xlsx time
cells, every error with row/column/value), storage (reject/replace per site and period, delete a batch), the
unknown-staff warning of the service, and the schema upgrade that adds the table (SQLite and, with
TEST_DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, time

import pandas as pd
import pytest
from sqlalchemy import func, inspect, select

from src.data import db, store
from src.data.loader import ParseOptions
from src.data.validation import validate_frame, validate_upload
from src.services import data as data_service
from tests.conftest import ADMIN, PLANNER
from tests.unit.fixtures_files import csv_bytes, xlsx_bytes

OPT = ParseOptions(today=date(2026, 10, 20))
HEADER = ["staff_id", "date", "shift_type", "start", "end", "site", "unit", "hours"]
TS = pd.Timestamp


def _report(rows: list[list], header: list[str] = HEADER, **kw):
    return validate_upload("roster", "roster.csv", csv_bytes([header, *rows], **kw), OPT)


def _codes(report) -> list[str]:
    return [i.code for i in report.issues if i.severity != "info"]


# ------------------------------------------------------------------------------------------ validation

def test_good_file_resolves_types_explicit_times_and_night_shifts():
    report = _report([
        ["S1", "2026-11-02", "early", "", "", "Haus A", "WB 1", ""],
        ["S1", "2026-11-03", "Spätdienst", "", "", "Haus A", "WB 1", "7.5"],
        ["S2", "2026-11-02", "night", "", "", "Haus A", "", ""],
        ["S3", "2026-11-02", "", "21:30", "06:30", "Haus B", "Station 2", "8.5"],
        ["S4", "2026-11-02", "late", "", "24:00", "Haus B", "", ""],
        ["S5", "2026-11-02", "day", "09:00", "", "Haus B", "", "6"],
        ["S6", "2026-11-02", "", "2026-11-02 07:00", "2026-11-02 15:30", "Haus B", "", ""],
    ])
    assert report.ok and _codes(report) == [], report.issues
    f = report.frame
    assert f["staff_id"].tolist() == ["S1", "S1", "S2", "S3", "S4", "S5", "S6"]
    assert list(f.columns) == HEADER
    assert f["shift_type"].tolist() == ["early", "late", "night", "", "late", "day", ""]
    assert f["start"].tolist() == [TS("2026-11-02 06:00"), TS("2026-11-03 14:00"), TS("2026-11-02 22:00"),
                                   TS("2026-11-02 21:30"), TS("2026-11-02 14:00"), TS("2026-11-02 09:00"),
                                   TS("2026-11-02 07:00")]
    # no end: the type's 8 h window (paid hours less than that are breaks inside it)
    assert f["end"].tolist() == [TS("2026-11-02 14:00"), TS("2026-11-03 22:00"), TS("2026-11-03 06:00"),
                                 TS("2026-11-03 06:30"), TS("2026-11-03 00:00"), TS("2026-11-02 17:00"),
                                 TS("2026-11-02 15:30")]
    # paid hours: given (7.5 with a break, 8.5, 6) or end − start
    assert f["hours"].tolist() == [8.0, 7.5, 8.0, 8.5, 10.0, 6.0, 8.5]
    assert f["unit"].tolist()[:3] == ["WB 1", "WB 1", ""]
    # a roster is a plan: dates after "today" are normal, no future-date warning
    assert not report.warnings


def test_german_headers_semicolons_decimal_comma_and_dotted_dates():
    content = csv_bytes([
        ["Personalnummer", "Datum", "Schicht", "Beginn", "Ende", "Einrichtung", "Wohnbereich", "Stunden"],
        ["S1", "02.11.2026", "Frühdienst", "", "", "Haus Lindenhof", "Wohnbereich Fliederweg", "7,5"],
        ["S2", "02.11.2026", "Nachtdienst", "21:30 Uhr", "6:30", "Haus Lindenhof", "", ""],
    ], sep=";", encoding="utf-8", bom=True)
    report = validate_upload("roster", "dienstplan.csv", content, OPT)
    assert report.ok, report.errors
    assert report.column_map == {"Personalnummer": "staff_id", "Datum": "date", "Schicht": "shift_type",
                                 "Beginn": "start", "Ende": "end", "Einrichtung": "site",
                                 "Wohnbereich": "unit", "Stunden": "hours"}
    f = report.frame
    assert f["shift_type"].tolist() == ["early", "night"]
    assert f["start"].tolist() == [TS("2026-11-02 06:00"), TS("2026-11-02 21:30")]
    assert f["end"].tolist() == [TS("2026-11-02 14:00"), TS("2026-11-03 06:30")]
    assert f["hours"].tolist() == [7.5, 9.0]


def test_xlsx_with_date_cells_time_cells_day_fractions_and_datetime_cells():
    content = xlsx_bytes({"Dienstplan": [
        HEADER,
        ["S1", datetime(2026, 11, 2), "late", None, None, "Haus A", "WB 1", None],
        ["S2", datetime(2026, 11, 2), None, time(21, 30), time(6, 30), "Haus A", None, 9],
        ["S3", datetime(2026, 11, 2), None, 0.25, 0.5833333333333334, "Haus A", None, None],  # 06:00–14:00
        ["S4", datetime(2026, 11, 2), "Früh", datetime(2026, 11, 2, 6, 30), datetime(2026, 11, 2, 14, 30),
         "Haus A", None, None],
    ]})
    report = validate_upload("roster", "plan.xlsx", content, OPT)
    assert report.ok, report.issues
    f = report.frame
    assert f["start"].tolist() == [TS("2026-11-02 14:00"), TS("2026-11-02 21:30"), TS("2026-11-02 06:00"),
                                   TS("2026-11-02 06:30")]
    assert f["end"].tolist() == [TS("2026-11-02 22:00"), TS("2026-11-03 06:30"), TS("2026-11-02 14:00"),
                                 TS("2026-11-02 14:30")]
    assert f["hours"].tolist() == [8.0, 9.0, 8.0, 8.0]


ROW = ["S1", "2026-11-02", "early", "", "", "Haus A", "", ""]


def _row(**changes) -> list:
    r = dict(zip(HEADER, ROW, strict=True))
    r.update(changes)
    return [r[h] for h in HEADER]


@pytest.mark.parametrize(("rows", "code", "column", "value", "text"), [
    ([_row(shift_type="brunch")], "unknown_shift_type", "shift_type", "'brunch'",
     "Row 2, column 'shift_type': 'brunch' is not a known shift type; use early, late, night, day"),
    ([_row(shift_type="", start="07:00")], "missing_shift_time", "shift_type", None,
     "Row 2, column 'shift_type': without a shift type a shift needs its start and end times (end missing)"),
    ([_row(shift_type="")], "missing_shift_time", "shift_type", None, "(start and end missing)"),
    ([_row(start="10:00", end="10:00")], "end_equals_start", "end", "10:00",
     "Row 2, column 'end': the shift starts and ends at 10:00; a shift cannot last 0 or 24 hours"),
    ([_row(start="2026-11-02 06:00", end="2026-11-02 05:00")], "end_before_start", "end", "2026-11-02 05:00",
     "the end 2026-11-02 05:00 is not after the start 2026-11-02 06:00"),
    ([_row(start="2026-11-03 06:00")], "start_not_on_date", "start", "2026-11-03 06:00",
     "Row 2, column 'start': 2026-11-03 06:00 is not on the row's date 2026-11-02."),
    ([_row(end="2026-11-04 06:00")], "end_not_on_date", "end", "2026-11-04 06:00",
     "neither on the row's date 2026-11-02 nor on the next day"),
    ([_row(start="25:00")], "bad_time", "start", "'25:00'", "is not a valid time of day (hours 0–23"),
    ([_row(start="6 Uhr")], "bad_time", "start", "'6 Uhr'", "is not a time of day (use HH:MM, e.g. 06:00"),
    ([_row(hours="-8")], "not_positive", "hours", "'-8'", "Row 2, column 'hours': '-8' must be greater than 0."),
    ([_row(hours="0")], "not_positive", "hours", "'0'", "must be greater than 0"),
    ([_row(hours="30", start="06:00", end="05:00")], "too_many_hours", "hours", "30.0",
     "30 hours is more than 24 hours for one shift"),
    ([_row(start="06:00", end="14:00", hours="9")], "hours_exceed_shift", "hours", "9.0",
     "9 paid hours is more than the 8 h from 2026-11-02 06:00 to 2026-11-02 14:00"),
    ([_row(date="31.02.2026")], "bad_date", "date", "'31.02.2026'", "not a valid date"),
    ([_row(), _row(shift_type="Frühdienst", start="06:00")], "duplicate_key", "staff_id",
     "'S1', 2026-11-02, 2026-11-02 06:00", "Rows 2 and 3 have the same staff_id, date, start"),
    ([_row(), _row(shift_type="", start="10:00", end="18:00")], "overlapping_shifts", "staff_id", "'S1'",
     "Rows 2 and 3: 'S1' is rostered twice at the same time (2026-11-02 06:00–14:00 and 2026-11-02 10:00–18:00)"),
    ([_row(staff_id="")], "empty", "staff_id", None, "Row 2: column 'staff_id' is empty"),
    ([_row(site="")], "empty", "site", None, "Row 2: column 'site' is empty"),
])
def test_each_error_names_row_column_and_value_and_blocks_the_import(rows, code, column, value, text):
    report = _report(rows)
    assert not report.ok and report.frame is None
    hits = [i for i in report.errors if i.code == code]
    assert hits, report.issues
    issue = hits[0]
    assert text in issue.message, issue.message
    assert (issue.column, issue.row, issue.value) == (column, len(rows) + 1, value)  # the last row is the bad one


def test_missing_required_columns_and_a_long_shift_warning():
    report = _report([["S1", "2026-11-02", "early"]], header=["staff_id", "date", "shift_type"])
    assert [i.code for i in report.errors] == ["missing_column"]
    assert "Required column 'site'" in report.errors[0].message
    long = _report([_row(shift_type="", start="14:00", end="06:00")])  # swapped times? 16 h
    assert long.ok and [(w.code, w.row) for w in long.warnings] == [("long_shift", 2)]
    assert "the shift lasts 16 h (2026-11-02 14:00 to 2026-11-03 06:00)" in long.warnings[0].message


def test_canonical_frames_validate_to_themselves():
    first = _report([_row(), _row(staff_id="S2", shift_type="night"), _row(staff_id="S3", shift_type="",
                                                                           start="07:00", end="15:00", hours="7.5")])
    again = validate_frame("roster", first.frame)
    assert again.ok and not again.warnings
    pd.testing.assert_frame_equal(again.frame, first.frame)


# ------------------------------------------------------------------------------------------ store

NOV = csv_bytes([HEADER,
                 ["S1", "2026-11-02", "early", "", "", "Haus A", "WB 1", ""],
                 ["S1", "2026-11-03", "early", "", "", "Haus A", "WB 1", ""],
                 ["S2", "2026-11-03", "night", "", "", "Haus A", "WB 1", ""],
                 ["S3", "2026-11-02", "late", "", "", "Haus B", "", ""]])
# Haus A, Nov 3 only: S1 moves to the late shift, S2's night is dropped
NOV_FIX = csv_bytes([HEADER, ["S1", "2026-11-03", "late", "", "", "Haus A", "WB 1", ""]])


def _roster(app) -> list[tuple]:
    f = store.load_frame(app.engine, "roster").sort_values(["staff_id", "start"])
    return [(r.staff_id, f"{r.start:%m-%d %H:%M}", f"{r.end:%m-%d %H:%M}", r.site, r.hours) for r in f.itertuples()]


def _staff(app, *ids: str) -> None:
    frame = pd.DataFrame({"staff_id": list(ids), "name": list(ids), "site": "Haus A", "role": "carer",
                          "skills": "care", "hire_date": pd.Timestamp("2020-01-01"), "contract_hours": 40.0,
                          "ot_willing": True})
    data_service.ingest_frame(app, ADMIN, kind="staff", frame=frame, name="staff")


def test_ingest_reject_replace_per_site_and_period_and_delete_batch(app):
    _staff(app, "S1", "S2", "S3")
    first = data_service.ingest_upload(app, ADMIN, kind="roster", filename="nov.csv", content=NOV)
    assert first.stored and first.result.rows == 4 and not first.report.warnings
    assert (first.result.range_start, first.result.range_end) == (datetime(2026, 11, 2), datetime(2026, 11, 3))
    assert _roster(app) == [("S1", "11-02 06:00", "11-02 14:00", "Haus A", 8.0),
                            ("S1", "11-03 06:00", "11-03 14:00", "Haus A", 8.0),
                            ("S2", "11-03 22:00", "11-04 06:00", "Haus A", 8.0),
                            ("S3", "11-02 14:00", "11-02 22:00", "Haus B", 8.0)]
    rejected = data_service.ingest_upload(app, ADMIN, kind="roster", filename="fix.csv", content=NOV_FIX)
    assert not rejected.stored and "2 stored roster (regular shifts) rows overlap this upload" in rejected.message
    assert len(_roster(app)) == 4

    fixed = data_service.ingest_upload(app, ADMIN, kind="roster", filename="fix.csv", content=NOV_FIX,
                                       policy="replace")
    assert fixed.stored and fixed.result.replaced_rows == 2  # Haus A on Nov 3: S1's early and S2's night
    assert _roster(app) == [("S1", "11-02 06:00", "11-02 14:00", "Haus A", 8.0),
                            ("S1", "11-03 14:00", "11-03 22:00", "Haus A", 8.0),
                            ("S3", "11-02 14:00", "11-02 22:00", "Haus B", 8.0)]  # Haus B untouched
    summary = store.dataset_summary(app.engine).set_index("kind")
    assert summary.loc["roster", "rows"] == 3 and summary.loc["roster", "batches"] == 2

    deleted = data_service.delete_batch(app, ADMIN, fixed.result.batch_id)
    assert (deleted.kind, deleted.rows_deleted) == ("roster", 1)
    assert [r[:2] for r in _roster(app)] == [("S1", "11-02 06:00"), ("S3", "11-02 14:00")]
    ev = store.audit_events(app.engine, action="data.delete_batch")
    assert ev.iloc[0]["object_type"] == "roster" and ev.iloc[0]["outcome"] == "ok"
    assert set(store.audit_events(app.engine, action="data.ingest")["outcome"]) == {"ok", "rejected"}


def test_a_shift_moved_to_another_site_replaces_the_stored_one_instead_of_clashing(app):
    _staff(app, "S1", "S2", "S3")
    assert data_service.ingest_upload(app, ADMIN, kind="roster", filename="nov.csv", content=NOV).stored
    moved = csv_bytes([HEADER, ["S3", "2026-11-02", "late", "", "", "Haus A", "WB 2", ""]])
    rejected = data_service.ingest_upload(app, ADMIN, kind="roster", filename="moved.csv", content=moved)
    assert not rejected.stored and "e.g. staff_id=S" in rejected.message
    out = data_service.ingest_upload(app, ADMIN, kind="roster", filename="moved.csv", content=moved,
                                     policy="replace")
    # Haus A on Nov 2 (S1's early) and S3's late at Haus B, the same shift now at Haus A
    assert out.stored and out.result.replaced_rows == 2
    assert [(r[0], r[1], r[3]) for r in _roster(app)] == [("S1", "11-03 06:00", "Haus A"),
                                                         ("S2", "11-03 22:00", "Haus A"),
                                                         ("S3", "11-02 14:00", "Haus A")]


def test_unknown_staff_ids_are_a_warning_and_the_rows_are_stored(app):
    _staff(app, "S1")
    preview = data_service.validate_upload(app, PLANNER, kind="roster", filename="nov.csv", content=NOV)
    assert preview.ok and [w.code for w in preview.warnings] == ["unknown_staff"]
    w = preview.warnings[0]
    assert w.column == "staff_id" and w.value == "S2, S3"
    assert w.message.startswith("Column 'staff_id': 2 staff ids are not in the staff list: S2 (1 row), S3 (1 row). "
                                "Their 2 shift(s) are stored, but overtime rankings only see them once")
    assert "1 warning" in preview.summary()
    out = data_service.ingest_upload(app, ADMIN, kind="roster", filename="nov.csv", content=NOV)
    assert out.stored and out.result.rows == 4
    assert '"warnings": 1' in store.audit_events(app.engine, action="data.ingest").iloc[0]["detail_json"]


def test_database_constraints_guard_the_roster_table(app):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db.write_tx(app.engine) as conn:
            bid = conn.execute(db.upload_batches.insert().values(
                kind="roster", file_name="x", sha256="0" * 64, rows=1, policy="reject", uploaded_by="t",
                uploaded_at=db.utcnow()).returning(db.upload_batches.c.id)).scalar_one()
            conn.execute(db.roster.insert().values(batch_id=bid, staff_id="S1", date=datetime(2026, 11, 2),
                                                   shift_type="", start=datetime(2026, 11, 2, 14),
                                                   end=datetime(2026, 11, 2, 6), site="A", hours=8.0))
    assert store.table_row_count(app.engine, "roster") == 0


# ------------------------------------------------------------------------------------------ schema upgrade

def _make_version_2(app) -> None:
    """What a database of schema version 2 looks like: no roster table, version 2 recorded."""
    with db.write_tx(app.engine) as conn:
        db.roster.drop(conn)
        conn.execute(db.schema_version.delete())
        conn.execute(db.schema_version.insert().values(version=2, applied_at=db.utcnow()))


def test_upgrade_from_version_2_adds_the_roster_table_and_is_idempotent(app):
    data_service.ingest_upload(app, ADMIN, kind="workload", filename="w.csv",
                               content=b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n")
    _make_version_2(app)
    assert "roster" not in inspect(app.engine).get_table_names()

    assert db.SCHEMA_VERSION >= 3 and db.init_schema(app.engine) == db.SCHEMA_VERSION
    assert "roster" in inspect(app.engine).get_table_names()
    with app.engine.connect() as conn:
        assert conn.execute(select(func.max(db.schema_version.c.version))).scalar() == db.SCHEMA_VERSION
    assert {ix["name"] for ix in inspect(app.engine).get_indexes("roster")} >= {"ix_roster_start",
                                                                                 "ix_roster_site_date"}
    db.init_schema(app.engine)  # idempotent once upgraded
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.schema_version)
                            .where(db.schema_version.c.version == db.SCHEMA_VERSION)).scalar() == 1
    assert store.table_row_count(app.engine, "workload") == 1  # older data untouched
    _staff(app, "S1", "S2", "S3")
    assert data_service.ingest_upload(app, ADMIN, kind="roster", filename="nov.csv", content=NOV).stored


def test_the_roster_step_is_registered_and_runs_on_a_database_that_already_has_the_table(app):
    assert any("roster" in d for d, _ in db._MIGRATIONS[3])
    with db.write_tx(app.engine) as conn:  # version 2 recorded, table already created by create_all
        conn.execute(db.schema_version.delete())
        conn.execute(db.schema_version.insert().values(version=2, applied_at=db.utcnow()))
    assert db.init_schema(app.engine) == db.SCHEMA_VERSION
