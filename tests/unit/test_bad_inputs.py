"""Table-driven: every bad input gives the expected issue (severity, words, row, column), and good
inputs in every supported encoding / separator / locale / date format parse to exact values."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from src.data import kinds
from src.data.loader import ParseOptions, UploadLimits
from src.data.validation import validate_upload
from tests.unit import fixtures_files as F

TODAY = date(2025, 1, 31)
OPT = ParseOptions(today=TODAY)


def wl(*lines: str, header: str = "timestamp,queue,volume") -> Callable[[], bytes]:
    return lambda: ("\n".join((header, *lines)) + "\n").encode()


def half_hours(day: str, start: int, n: int, step: int = 30, queue: str = "calls") -> list[str]:
    base = datetime.fromisoformat(f"{day} 00:00")
    return [f"{(base + pd.Timedelta(minutes=start + k * step)):%Y-%m-%d %H:%M},{queue},1" for k in range(n)]


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], bytes]
    severity: str
    words: str
    row: int | None = None
    column: str | None = None
    kind: str = "workload"
    filename: str = "upload.csv"
    options: ParseOptions = OPT
    limits: UploadLimits | None = None


CASES = [
    # --- hostile / unreadable files: rejected before any parser, one clear error -----------------
    Case("empty", lambda: b"", "error", "The file is empty"),
    Case("header_only", wl(), "error", "no data rows"),
    Case("blank_lines_only", lambda: b"\n\n  \n", "error", "no data"),
    Case("nul_bytes", wl("2024-01-02 08:00,ca\x00lls,1"), "error", "NUL bytes", row=2),
    Case("utf16_without_bom", lambda: "timestamp,queue,volume\n2024-01-02,calls,1\n".encode("utf-16-le"), "error",
         "UTF-16 text without a byte-order mark"),
    Case("not_utf8_not_cp1252", lambda: b"timestamp,queue,volume\n2024-01-02,\x81x,1\n", "error",
         "not valid UTF-8 or Windows-1252", row=2),
    Case("explicit_utf8_on_cp1252", lambda: "timestamp,queue,volume\n2024-01-02,Süd,1\n".encode("cp1252"), "error",
         "not valid UTF-8 text", row=2, options=ParseOptions(today=TODAY, encoding="utf-8")),
    Case("ole2_named_xlsx", lambda: F.OLE2_HEADER, "error", "encrypted or old .xls workbook", filename="a.xlsx"),
    Case("ole2_named_xls", lambda: F.OLE2_HEADER, "error", "save it as .xlsx without a password", filename="a.xls"),
    Case("ole2_named_csv", lambda: F.OLE2_HEADER, "error", "encrypted or old .xls", filename="a.csv"),
    Case("text_named_xlsx", wl("2024-01-02,calls,1"), "error", "not a zip archive", filename="a.xlsx"),
    Case("unsupported_extension", wl("2024-01-02,calls,1"), "error", "Unsupported file type '.pdf'",
         filename="a.pdf"),
    Case("zip_without_workbook", F.zip_without_workbook, "error", "no xl/workbook.xml", filename="a.xlsx"),
    Case("truncated_xlsx", F.truncated_xlsx, "error", "damaged or truncated", filename="a.xlsx"),
    Case("billion_laughs_sharedstrings", F.bomb_xlsx, "error", "'xl/sharedStrings.xml' declares a DTD",
         filename="a.xlsx"),
    Case("billion_laughs_sheet", lambda: F.bomb_xlsx("xl/worksheets/sheet1.xml"), "error",
         "'xl/worksheets/sheet1.xml' declares a DTD", filename="a.xlsx"),
    Case("billion_laughs_workbook", lambda: F.bomb_xlsx("xl/workbook.xml"), "error", "'xl/workbook.xml' declares",
         filename="a.xlsx"),
    Case("quadratic_blowup", F.quadratic_blowup_xlsx, "error", "possible XML bomb", filename="a.xlsx"),
    Case("xxe", F.xxe_xlsx, "error", "declares a DTD", filename="a.xlsx"),
    Case("dtd_behind_long_comment", F.dtd_after_comment_xlsx, "error", "declares a DTD", filename="a.xlsx"),
    Case("declared_unzipped_size", F.good_raw_xlsx, "error", "expands to", filename="a.xlsx",
         limits=UploadLimits(max_xlsx_uncompressed=1000)),
    Case("undeclared_zip_member", F.undeclared_part_xlsx, "error", "'xl/payload.bin' that is not declared",
         filename="a.xlsx"),
    Case("duplicate_zip_member", F.duplicate_part_xlsx, "error", "same internal part twice", filename="a.xlsx"),
    Case("far_away_cell_A1048576", F.sparse_far_cells_xlsx, "error", "more than 500000 data rows", filename="a.xlsx"),
    Case("xlsx_too_many_rows", lambda: F.many_rows_xlsx(300), "error", "more than 100 data rows", filename="a.xlsx",
         limits=UploadLimits(max_rows=100)),
    Case("xlsx_too_wide", lambda: F.wide_rows_xlsx(100), "error", "data beyond column BH", row=1, filename="a.xlsx"),
    Case("file_size_limit", wl(*half_hours("2024-01-02", 0, 48)), "error", "the limit is 1 KB",
         limits=UploadLimits(max_bytes=1024)),
    Case("long_header_line", F.long_header_csv, "error", "Line 1 is longer than 16 KB", row=1),
    Case("duplicate_header_dos", lambda: F.duplicate_header_csv(20_000), "error", "longer than 16 KB", row=1),
    Case("too_many_header_columns", lambda: F.duplicate_header_csv(5000), "error", "has 5000 columns; the limit is 60",
         row=1),
    Case("csv_too_many_rows", wl(*half_hours("2024-01-02", 480, 20)), "error", "more than 10 data rows",
         limits=UploadLimits(max_rows=10)),
    Case("cell_too_long", wl("2024-01-02 08:00," + "q" * 2000 + ",1"), "error", "holds 2000 characters", row=2),
    Case("unclosed_quote", wl('2024-01-02 08:00,"calls,1', "2024-01-02 08:30,calls,2"), "error", "quote"),
    Case("ambiguous_separator", lambda: b"a;b,c\n1;2,3\n", "error", "separator is ambiguous"),
    Case("no_separator", lambda: b"timestamp\n2024-01-02\n", "error", "Could not find a column separator"),
    Case("missing_sheet", F.good_raw_xlsx, "error", "no sheet named 'nope'", filename="a.xlsx",
         options=ParseOptions(today=TODAY, sheet="nope")),
    # --- structure -------------------------------------------------------------------------------------
    Case("formula_without_cached_value", F.formula_without_value_xlsx, "error",
         "Cell C3 holds a formula without a stored value", row=3, column="volume", filename="a.xlsx"),
    Case("row_with_extra_values", wl("2024-01-02 08:00,calls,1,oops"), "error", "beyond the 3 columns", row=2),
    Case("row_with_missing_values", wl("2024-01-02 08:00,calls"), "error", "has 2 values but the header has 3", row=2),
    Case("missing_required_column", wl("2024-01-02 08:00,calls", header="timestamp,queue"), "error",
         "Required column 'volume' is missing", column="volume"),
    Case("duplicate_columns", wl("2024-01-02,2024-01-02,calls,1", header="Datum,Zeitstempel,queue,volume"), "error",
         "'Datum' and 'Zeitstempel' both mean 'timestamp'", column="Zeitstempel"),
    Case("unknown_column_warning", wl("2024-01-02 08:00,calls,1,hi", header="timestamp,queue,volume,comment"),
         "warning", "'comment' is not used", column="comment"),
    Case("unnamed_column_with_data", wl("2024-01-02 08:00,calls,1,hi", header="timestamp,queue,volume,"),
         "error", "beyond the 3 columns", row=2),
    Case("title_rows_csv", wl("Export 2024,,", ",,", "timestamp,queue,volume", "2024-01-02 08:00,calls,-1",
                              header="Staffing history"), "error", "negative", row=5, column="volume"),
    Case("title_rows_info", wl("", "timestamp,queue,volume", "2024-01-02 08:00,calls,1", header="My export"),
         "info", "Header found in row 3", row=3),
    Case("hidden_sheet_not_read", F.hidden_first_sheet_xlsx, "info", "Hidden sheet(s) 'old' were not read",
         filename="a.xlsx"),
    # --- values ------------------------------------------------------------------------------------------
    Case("bad_calendar_date", wl("2024-02-30 08:00,calls,1"), "error", "not a valid date/time", row=2,
         column="timestamp"),
    Case("unrecognised_date", wl("yesterday,calls,1"), "error", "not a recognised date/time", row=2,
         column="timestamp"),
    Case("timezone_offset", wl("2024-01-02T08:00:00+01:00,calls,1"), "error", "time-zone offset", row=2,
         column="timestamp"),
    Case("date_before_1990", wl("1989-12-31,calls,1"), "error", "before 1990", row=2, column="timestamp"),
    Case("year_1200", wl("1200-01-01,calls,1"), "error", "outside the expected date range", row=2,
         column="timestamp"),
    Case("date_too_far_ahead", wl("2027-02-01,calls,1"), "error", "more than 2 years after today", row=2,
         column="timestamp"),
    Case("future_date_warning", wl("2025-03-01 08:00,calls,1"), "warning", "dated after today", row=2,
         column="timestamp"),
    Case("ambiguous_day_month", wl("01/02/2024 08:00,calls,1", "03/02/2024 08:00,calls,2"), "error",
         "Choose the date order", row=2, column="timestamp"),
    Case("day_first_and_month_first_mixed", wl("13/01/2024 08:00,calls,1", "01/13/2024 08:30,calls,2"), "error",
         "mixes day-first dates", row=3, column="timestamp"),
    Case("day_first_decided_by_13", wl("01/02/2024 08:00,calls,1", "13/02/2024 08:00,calls,2"), "info",
         "read as day/month/year because values like '13/02/2024 08:00'", row=3, column="timestamp"),
    Case("date_column_with_time", lambda: b"date,site,unit,shifts\n2024-01-02 08:00,A,B,3\n", "error",
         "has a time of day", row=2, column="date", kind="unit_shifts"),
    Case("mixed_date_formats_warning", wl("2024-01-02 08:00,calls,1", "02.01.2024 08:30,calls,1"), "warning",
         "mixes date formats", column="timestamp"),
    Case("not_a_number", wl("2024-01-02 08:00,calls,twelve"), "error", "'twelve' is not a whole number", row=2,
         column="volume"),
    Case("negative_count", wl("2024-01-02 08:00,calls,-3"), "error", "is negative", row=2, column="volume"),
    Case("non_integer_count", wl("2024-01-02 08:00,calls,2.5"), "error", "'2.5' is not a whole number", row=2,
         column="volume"),
    Case("infinite_count", wl("2024-01-02 08:00,calls,inf"), "error", "not a finite", row=2, column="volume"),
    Case("huge_count", wl("2024-01-02 08:00,calls,99999999999999999999"), "error", "too large", row=2,
         column="volume"),
    Case("excel_error_text", wl("2024-01-02 08:00,calls,#DIV/0!"), "error", "Excel error #DIV/0!", row=2,
         column="volume"),
    Case("ambiguous_thousands_dot", wl("2024-01-02 08:00,calls,1.234"), "error", "could mean 1234 or 1.234", row=2,
         column="volume"),
    Case("ambiguous_thousands_comma", lambda: b"timestamp;queue;volume\n2024-01-02 08:00;calls;1,234\n", "error",
         "could mean 1234 or 1.234", row=2, column="volume"),
    Case("decimal_conflict", wl("2024-01-02 08:00,calls,1,\"7,5\"", "2024-01-02 08:30,calls,1,7.5",
                                header="timestamp,queue,volume,aht"), "error", "uses both decimal separators"),
    Case("aht_must_be_positive", wl("2024-01-02 08:00,calls,1,0", header="timestamp,queue,volume,aht"), "error",
         "must be greater than 0", row=2, column="aht"),
    Case("empty_required_cell", wl("2024-01-02 08:00,,1"), "error", "'queue' is empty; a value is required", row=2,
         column="queue"),
    Case("control_characters", wl('2024-01-02 08:00,"ca\tlls",1'), "error", "control characters", row=2,
         column="queue"),
    Case("bidi_override", wl("2024-01-02 08:00,ca\u202ells,1"), "error", "control characters", row=2, column="queue"),
    Case("duplicate_key", wl("2024-01-02 08:00,calls,1", "2024-01-02 08:30,calls,1", "2024-01-02 08:00,calls,2"),
         "error", "Rows 2 and 4 have the same timestamp, queue", row=4, column="timestamp"),
    Case("dst_duplicate_hint", wl("2024-10-27 02:00,calls,1", "2024-10-27 02:00,calls,1"), "error",
         "daylight saving", row=3),
    Case("off_grid_time", wl(*half_hours("2024-01-02", 480, 6), "2024-01-02 10:17,calls,1"), "error",
         "10:17:00 is not on the 30-minute grid", row=8, column="timestamp"),
    Case("mixed_30_and_60_minutes", wl(*half_hours("2024-01-02", 480, 6), *half_hours("2024-01-03", 480, 6, 60),
                                       *half_hours("2024-01-04", 480, 6), *half_hours("2024-01-05", 480, 6)),
         "error", "mixes 60-minute and 30-minute intervals", row=8, column="timestamp"),
    Case("gap_inside_open_hours", wl(*half_hours("2024-01-02", 480, 3), *half_hours("2024-01-02", 660, 3)),
         "warning", "3 missing 30-minute interval(s) inside opening hours", row=4, column="timestamp"),
    Case("missing_weekday_gap", wl("2024-01-01,calls,1", "2024-01-02,calls,1", "2024-01-04,calls,1",
                                   "2024-01-09,calls,1"), "warning", "day(s) without data", column="timestamp"),
    # --- other kinds --------------------------------------------------------------------------------------
    Case("unit_shifts_negative", lambda: b"Datum;Heim;Station;Schichten\n02.01.2024;A;B;-1\n", "error", "negative",
         row=2, column="Schichten", kind="unit_shifts"),
    Case("staff_bad_skill_level", lambda: F.csv_bytes([STAFF_HEADER, ["1", "A", "S", "R", "calls:7", "2020-01-01",
                                                                      "38", "yes"]]),
         "error", "from 1 to 5", row=2, column="skills", kind="staff"),
    Case("staff_duplicate_skill", lambda: F.csv_bytes([STAFF_HEADER, ["1", "A", "S", "R", "calls:2|Calls",
                                                                      "2020-01-01", "38", "yes"]]),
         "error", "listed twice", row=2, column="skills", kind="staff"),
    Case("staff_bad_bool", lambda: F.csv_bytes([STAFF_HEADER, ["1", "A", "S", "R", "calls", "2020-01-01", "38",
                                                               "maybe"]]),
         "error", "'maybe' is not yes/no", row=2, column="ot_willing", kind="staff"),
    Case("staff_duplicate_id", lambda: F.csv_bytes([STAFF_HEADER, ["1", "A", "S", "R", "c", "2020-01-01", "38", "x"],
                                                    ["1", "B", "S", "R", "c", "2020-01-01", "38", ""]]),
         "error", "Rows 2 and 3 have the same staff_id", row=3, column="staff_id", kind="staff"),
    Case("staff_week_hours", lambda: F.csv_bytes([STAFF_HEADER, ["1", "A", "S", "R", "c", "2020-01-01", "200", "x"]]),
         "error", "more than 168 hours a week", row=2, column="contract_hours", kind="staff"),
    Case("assignments_bad_outcome", lambda: F.csv_bytes([ASSIGN_HEADER, ["t1", "s1", "visit", "1", "2024-01-05",
                                                                         "2024-01-02 08:00", "meh"]]),
         "error", "'meh' is not an outcome", row=2, column="outcome", kind="assignments"),
    Case("assignments_due_before_assigned", lambda: F.csv_bytes([ASSIGN_HEADER, ["t1", "s1", "visit", "1",
                                                                                 "2024-01-01", "2024-01-02 08:00",
                                                                                 "success"]]),
         "warning", "'due' is before 'assigned_at'", row=2, column="due", kind="assignments"),
    Case("overtime_response_before_contact", lambda: F.csv_bytes([OT_HEADER, ["r1", "2024-01-05", "A", "early", "s1",
                                                                              "2024-01-02 08:00", "2024-01-02 07:00",
                                                                              "yes", "8"]]),
         "error", "'responded_at' is before 'contacted_at'", row=2, column="responded_at", kind="overtime"),
    Case("overtime_accept_without_response", lambda: F.csv_bytes([OT_HEADER, ["r1", "2024-01-05", "A", "early", "s1",
                                                                              "2024-01-02 08:00", "", "yes", "8"]]),
         "warning", "accepted but no response time", row=2, column="responded_at", kind="overtime"),
    Case("overtime_shift_hours", lambda: F.csv_bytes([OT_HEADER, ["r1", "2024-01-05", "A", "early", "s1",
                                                                  "2024-01-02 08:00", "", "no", "30"]]),
         "error", "more than 24 hours for one shift", row=2, column="hours_worked", kind="overtime"),
]

STAFF_HEADER = ["staff_id", "name", "site", "role", "skills", "hire_date", "contract_hours", "ot_willing"]
ASSIGN_HEADER = ["task_id", "staff_id", "task_type", "priority", "due", "assigned_at", "outcome"]
OT_HEADER = ["request_id", "shift_date", "site", "shift_type", "staff_id", "contacted_at", "responded_at", "accepted",
             "hours_worked"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_reported(case: Case) -> None:
    report = validate_upload(case.kind, case.filename, case.build(), case.options, case.limits)
    matches = [i for i in report.issues if i.severity == case.severity and case.words in i.message]
    got = [(i.severity, i.message) for i in report.issues]
    assert matches, f"no {case.severity} containing {case.words!r}; got {got}"
    issue = matches[0]
    if case.row is not None:
        assert issue.row == case.row
    if case.column is not None:
        assert issue.column == case.column
    assert issue.file == case.filename
    assert not any(i.code == "internal" for i in report.issues)
    if case.severity == "error":
        assert not report.ok and report.frame is None


def test_report_is_capped_per_column_and_problem() -> None:
    lines = [f"2024-01-02 {8 + k // 2:02d}:{30 * (k % 2):02d},calls,-{k + 1}" for k in range(200)]
    report = validate_upload("workload", "big.csv", wl(*lines)(), OPT)
    negatives = [i for i in report.errors if i.code == "negative"]
    assert len(negatives) == 51  # 50 listed + the summary line
    assert negatives[-1].message == "... and 150 more rows with the same problem in column 'volume'."
    assert report.totals["error"] >= 200


# --------------------------------------------------------------------------------------------------
# good inputs: every kind × encoding × separator × locale × date format parses to the same values
# --------------------------------------------------------------------------------------------------

D = datetime
GOOD: dict[str, list[dict[str, Any]]] = {
    "workload": [
        {"timestamp": D(2024, 1, 2, 8, 0), "queue": "calls", "volume": 1234, "site": "Berlin", "aht_seconds": 312.5},
        {"timestamp": D(2024, 1, 2, 8, 30), "queue": "calls", "volume": 17, "site": "Berlin", "aht_seconds": 290.25},
        {"timestamp": D(2024, 1, 13, 9, 0), "queue": "NA", "volume": 0, "site": "Köln", "aht_seconds": 300.0},
    ],
    "unit_shifts": [
        {"date": D(2024, 1, 2), "site": "Haus Süd", "unit": "Station 1", "shifts": 12},
        {"date": D(2024, 1, 13), "site": "Haus Süd", "unit": "Station 1", "shifts": 0},
    ],
    "staff": [
        {"staff_id": "00123", "name": "Jürgen Müller", "site": "Süd", "role": "nurse", "skills": "calls:3|emails",
         "hire_date": D(2019, 4, 1), "contract_hours": 38.5, "ot_willing": True, "preferred_sites": "Süd|Nord"},
        {"staff_id": "00124", "name": "Ana Lima", "site": "Nord", "role": "aide", "skills": "emails:1",
         "hire_date": D(2021, 12, 13), "contract_hours": 20.0, "ot_willing": False, "preferred_sites": ""},
    ],
    "assignments": [
        {"task_id": "T1", "staff_id": "00123", "task_type": "visit", "priority": 2, "due": D(2024, 1, 5, 17, 0),
         "assigned_at": D(2024, 1, 2, 8, 15), "outcome": True, "site": "Süd", "required_skill": "calls",
         "hours": 1.5},
        {"task_id": "T2", "staff_id": "00124", "task_type": "call", "priority": 1, "due": D(2024, 1, 14, 12, 0),
         "assigned_at": D(2024, 1, 13, 9, 0), "outcome": False, "site": "Nord", "required_skill": "emails",
         "hours": 0.25},
    ],
    "overtime": [
        {"request_id": "R1", "shift_date": D(2024, 1, 5), "site": "Süd", "shift_type": "early", "staff_id": "00123",
         "contacted_at": D(2024, 1, 2, 8, 0), "responded_at": D(2024, 1, 2, 9, 30), "accepted": True,
         "hours_worked": 7.5, "unit": "Station 1"},
        {"request_id": "R1", "shift_date": D(2024, 1, 5), "site": "Süd", "shift_type": "early", "staff_id": "00124",
         "contacted_at": D(2024, 1, 13, 8, 0), "responded_at": None, "accepted": False, "hours_worked": 0.0,
         "unit": "Station 1"},
    ],
}
GERMAN = {
    "timestamp": "Datum/Uhrzeit", "queue": "Warteschlange", "volume": " ANZAHL ", "site": "Standort",
    "aht_seconds": "AHT Sekunden", "date": "Datum", "unit": "Wohnbereich", "shifts": "Anzahl Schichten",
    "staff_id": "Personalnummer", "name": "Mitarbeiter", "role": "Funktion", "skills": "Fähigkeiten",
    "hire_date": "Eintrittsdatum", "contract_hours": "Wochenstunden", "ot_willing": "Überstunden bereit",
    "preferred_sites": "Bevorzugte Einrichtungen", "task_id": "Aufgabe ID", "task_type": "Aufgabentyp",
    "priority": "Priorität", "due": "Fällig", "assigned_at": "Zugewiesen am", "outcome": "Ergebnis",
    "required_skill": "Benötigte Qualifikation", "hours": "Stunden", "request_id": "Anfrage ID",
    "shift_date": "Schichtdatum", "shift_type": "Schichtart", "contacted_at": "Kontaktiert am",
    "responded_at": "Geantwortet am", "accepted": "Angenommen", "hours_worked": "Geleistete Stunden",
}
GERMAN_SITE = {"workload": "Standort", "unit_shifts": "Einrichtung", "staff": "Einrichtung", "assignments": "Standort",
               "overtime": "Einrichtung"}


def _fmt(value: Any, ctype: str, dialect: str, kind: str) -> Any:
    if value is None:
        return None if dialect.startswith("xlsx") else ""
    if dialect == "xlsx":
        return value
    if ctype in ("datetime", "date"):
        fmt = {"en": "%Y-%m-%d", "de": "%d.%m.%Y", "us": "%m/%d/%Y", "xlsx_de": "%d.%m.%Y"}.get(dialect)
        if dialect == "serial":
            serial = (value - datetime(1899, 12, 30)).total_seconds() / 86400
            return f"{serial:.6f}".rstrip("0").rstrip(".")
        return value.strftime(fmt + (" %H:%M" if ctype == "datetime" else ""))
    if ctype == "count":
        if dialect in ("de", "xlsx_de") and kind == "workload" and value >= 1000:
            return f"{value:,}".replace(",", ".")
        if dialect == "en" and kind == "workload" and value >= 1000:
            return f"{value:,}"
        return str(value)
    if ctype == "number":
        # xlsx_de: German text cells in a workbook (typed numbers would not reveal the decimal separator)
        return repr(value) if dialect not in ("de", "xlsx_de") else repr(value).replace(".", ",")
    if ctype == "bool":
        return {"de": ("ja", "nein"), "xlsx_de": ("x", None)}.get(dialect, ("yes", "no"))[0 if value else 1]
    if ctype == "outcome":
        return {"de": ("erfolgreich", "fehlgeschlagen")}.get(dialect, ("Success", "failed"))[0 if value else 1]
    if ctype == "list":
        return value.replace("|", ";" if dialect == "de" else "|") if dialect != "us" else value.replace("|", ", ")
    return value


DIALECTS = {  # name: (value dialect, encoding, separator, bom, newline, options)
    "utf8_comma_iso": ("en", "utf-8", ",", False, "\n", {}),
    "utf8bom_comma_crlf_iso": ("en", "utf-8", ",", True, "\r\n", {}),
    "cp1252_semicolon_german": ("de", "cp1252", ";", False, "\r\n", {}),
    "utf16_tab_german": ("de", "utf-16", "\t", False, "\n", {}),
    "utf8_tab_us_mdy": ("us", "utf-8", "\t", False, "\n", {"date_order": "mdy"}),
    "utf8_semicolon_serial": ("serial", "utf-8", ";", False, "\n", {}),
    "xlsx_typed": ("xlsx", None, None, False, None, {}),
    "xlsx_german_text": ("xlsx_de", None, None, False, None, {}),
}


def _build_good(kind: str, dialect_name: str) -> tuple[str, bytes, ParseOptions]:
    dialect, encoding, sep, bom, newline, opts = DIALECTS[dialect_name]
    spec = kinds.get_kind(kind)
    cols = [c for c in spec.columns if any(r.get(c.name) is not None for r in GOOD[kind]) or c.name in GOOD[kind][0]]
    german = dialect in ("de", "xlsx_de")
    header = [(GERMAN_SITE[kind] if c.name == "site" else GERMAN[c.name]) if german else c.name for c in cols]
    rows = [[_fmt(r[c.name], c.type, dialect, kind) for c in cols] for r in GOOD[kind]]
    options = ParseOptions(today=TODAY, **opts)
    if dialect.startswith("xlsx"):
        return "good.xlsx", F.xlsx_bytes({"Daten": [header, *rows]}), options
    data = F.csv_bytes([header, *rows], sep=sep, encoding=encoding, bom=bom, newline=newline,
                       quoting=csv.QUOTE_MINIMAL)
    return "good.csv", data, options


def expected_frame(kind: str) -> pd.DataFrame:
    spec = kinds.get_kind(kind)
    data = {}
    for c in spec.columns:
        values = [r.get(c.name) for r in GOOD[kind]]
        if c.type in ("date", "datetime"):
            data[c.name] = pd.Series([pd.NaT if v is None else v for v in values], dtype="datetime64[ns]")
        elif c.type == "count":
            data[c.name] = pd.Series(values, dtype=np.int64)
        elif c.type == "number":
            data[c.name] = pd.Series([np.nan if v is None else v for v in values], dtype=np.float64)
        elif c.type in ("bool", "outcome"):
            data[c.name] = pd.Series(values, dtype=bool)
        else:
            data[c.name] = pd.Series(["" if v is None else v for v in values], dtype=object)
    return pd.DataFrame(data)


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize("kind", list(GOOD))
def test_good_input_parses_exactly(kind: str, dialect: str) -> None:
    filename, data, options = _build_good(kind, dialect)
    report = validate_upload(kind, filename, data, options)
    assert report.ok, [(i.row, i.column, i.message) for i in report.errors]
    assert report.rows_read == len(GOOD[kind])
    pd.testing.assert_frame_equal(report.frame, expected_frame(kind))
    if dialect.startswith("xlsx"):
        assert report.sheet == "Daten" and report.encoding is None
    else:
        assert report.encoding == {"utf-8": "utf-8-sig" if DIALECTS[dialect][3] else "utf-8", "utf-16": "utf-16",
                                   "cp1252": "cp1252"}[DIALECTS[dialect][1]]
        assert report.separator == DIALECTS[dialect][2]
    if DIALECTS[dialect][0] in ("de", "xlsx_de"):
        assert set(report.column_map.values()) >= set(kinds.get_kind(kind).required_columns)
