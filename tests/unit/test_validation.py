"""Parsing rules, validate_frame, the report API, and a Hypothesis CSV round-trip property."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from src.data import kinds
from src.data.parsing import IssueCollector, clean_str, decimal_evidence, number_shape, parse_datetimes
from src.data.validation import ParseOptions, ValidationReport, alias_lookup, validate_frame, validate_upload

TODAY = date(2025, 1, 31)
OPT = ParseOptions(today=TODAY)


@pytest.mark.parametrize(("text", "shape"), [
    ("12", "plain"), ("-12", "plain"), ("1 234", "plain"), ("1e3", "plain"), ("1.234", "ambiguous"),
    ("1,234", "ambiguous"), ("7.5", "dot"), ("0.123", "dot"), ("1,234.5", "dot"), ("1,234,567", "dot"),
    ("1.5e3", "dot"), ("7,5", "comma"), ("0,123", "comma"), ("1.234,5", "comma"), ("1.234.567", "comma"),
    ("12,3456", "comma"), ("1.23.4", "other"), ("twelve", "other"), ("1,2,3", "other"), ("", "other"),
])
def test_number_shape(text: str, shape: str) -> None:
    assert number_shape(text) == shape


def test_decimal_evidence_reports_first_revealing_cell() -> None:
    assert decimal_evidence(["1", "1.234", "7,5", "8,25"]) == {",": 2}
    assert decimal_evidence(["1", 2.5, "1.234"]) == {}
    assert decimal_evidence(["7.5", "7,5"]) == {".": 0, ",": 1}


def _dates(cells: list, order: str = "auto", date_only: bool = False) -> tuple[list, IssueCollector]:
    sink = IssueCollector("f")
    p = parse_datetimes(cells, date_order=order, date_only=date_only, epoch=datetime(1899, 12, 30),  # type: ignore[arg-type]
                        rows=np.arange(2, len(cells) + 2), column="d", sink=sink)
    return [pd.Timestamp(v) if ok else None for v, ok in zip(p.values, p.valid, strict=True)], sink


def test_iso_dates_are_never_swapped_whatever_the_date_order() -> None:
    for order in ("auto", "dmy", "mdy"):
        values, _ = _dates(["2024-01-02", "2024-01-03 07:05:09.250"], order)
        assert values == [pd.Timestamp(2024, 1, 2), pd.Timestamp(2024, 1, 3, 7, 5, 9, 250000)]


def test_german_dates_with_optional_time() -> None:
    values, sink = _dates(["31.12.2024", "1.2.2024 8:30", "01.02.2024 08:30:15"])
    assert values == [pd.Timestamp(2024, 12, 31), pd.Timestamp(2024, 2, 1, 8, 30), pd.Timestamp(2024, 2, 1, 8, 30, 15)]
    assert not sink.finish()


def test_slashed_dates_follow_the_chosen_order() -> None:
    assert _dates(["01/02/2024"], "dmy")[0] == [pd.Timestamp(2024, 2, 1)]
    assert _dates(["01/02/2024"], "mdy")[0] == [pd.Timestamp(2024, 1, 2)]
    values, sink = _dates(["01/02/2024"], "auto")
    assert values == [None] and [i.code for i in sink.finish()] == ["ambiguous_date"]
    values, sink = _dates(["05/05/2024", "06/06/2024"], "auto")  # day == month: both readings agree
    assert values == [pd.Timestamp(2024, 5, 5), pd.Timestamp(2024, 6, 6)] and not sink.finish()


def test_excel_serials_and_typed_cells() -> None:
    values, sink = _dates([45292, "45292.5", datetime(2024, 1, 1, 8), date(2024, 1, 1)])
    assert values == [pd.Timestamp(2024, 1, 1), pd.Timestamp(2024, 1, 1, 12), pd.Timestamp(2024, 1, 1, 8),
                      pd.Timestamp(2024, 1, 1)]
    assert [i.code for i in sink.finish()] == ["mixed_date_formats"]


def test_clean_str() -> None:
    assert clean_str("\u00a0 x \ufeff") == "x" and clean_str("  ") is None and clean_str(5) == 5


def test_aliases_never_map_to_two_columns_of_one_kind() -> None:
    for spec in kinds.KINDS.values():
        seen: dict[str, str] = {}
        for col in spec.columns:
            for alias in (col.name, *col.aliases):
                key = kinds.normalise_header(alias)
                assert seen.setdefault(key, col.name) == col.name, (spec.key, alias)
        assert set(alias_lookup(spec).values()) == set(spec.column_names)


def _demo_workload(n_days: int = 3) -> pd.DataFrame:
    ts = pd.date_range("2024-01-01 08:00", periods=20, freq="30min")
    stamps = [t + pd.Timedelta(days=d) for d in range(n_days) for t in ts]
    return pd.DataFrame({"timestamp": stamps * 2, "queue": ["calls"] * len(stamps) + ["emails"] * len(stamps),
                         "volume": np.arange(len(stamps) * 2, dtype=np.int64), "site": "Berlin",
                         "aht_seconds": 300.0})


def test_validate_frame_accepts_demo_like_frames_and_keeps_dtypes() -> None:
    df = _demo_workload()
    report = validate_frame("workload", df, options=OPT)
    assert report.ok and report.issues == [] and report.rows_read == len(df)
    assert list(report.frame.columns) == kinds.WORKLOAD.column_names
    assert report.frame.dtypes.astype(str).tolist() == ["datetime64[ns]", "object", "int64", "object", "float64"]
    pd.testing.assert_frame_equal(report.frame, df[kinds.WORKLOAD.column_names])


def test_validate_frame_with_aliases_lists_nans_and_bools() -> None:
    staff = pd.DataFrame({
        "Personalnummer": ["1", "2"], "Name": ["A", "B"], "Standort": ["S", "N"], "Rolle": ["r", "r"],
        "Skills": [["calls:3", "emails"], "chat"], "Eintritt": pd.to_datetime(["2020-01-01", "2021-01-01"]),
        "Wochenstunden": [38.5, 20], "OT willing": [True, False], "preferred_sites": [None, "S|N"],
    })
    report = validate_frame("staff", staff, file="demo", options=OPT)
    assert report.ok, report.errors
    assert report.frame["skills"].tolist() == ["calls:3|emails", "chat"]
    assert report.frame["preferred_sites"].tolist() == ["", "S|N"]
    assert report.frame["ot_willing"].dtype == bool and report.column_map["Personalnummer"] == "staff_id"


def test_validate_frame_reports_nan_counts_at_csv_row_numbers() -> None:
    df = _demo_workload(1).astype({"volume": float})
    df.loc[3, "volume"] = np.nan
    report = validate_frame("workload", df, file="demo", options=OPT)
    assert [(i.row, i.column, i.code) for i in report.errors] == [(5, "volume", "empty")]


def test_overtime_frame_with_missing_response() -> None:
    df = pd.DataFrame({
        "request_id": ["R1", "R1"], "shift_date": pd.to_datetime(["2024-01-05"] * 2), "site": "S",
        "shift_type": "early", "staff_id": ["a", "b"], "contacted_at": pd.to_datetime(["2024-01-02 08:00"] * 2),
        "responded_at": pd.to_datetime(["2024-01-02 09:00", None]), "accepted": [True, False],
        "hours_worked": [8.0, 0.0],
    })
    report = validate_frame("overtime", df, options=OPT)
    assert report.ok and report.frame["responded_at"].isna().tolist() == [False, True]
    assert report.frame["unit"].tolist() == ["", ""]


def test_report_api() -> None:
    report = validate_upload("workload", "w.csv", b"timestamp,queue,volume,x\n2024-01-02 08:00,calls,-1,1\n", OPT)
    assert not report.ok and report.frame is None
    assert [i.severity for i in report.issues] == ["error", "warning"]
    assert len(report.errors) == 1 and len(report.warnings) == 1 and report.infos == []
    table = report.to_frame()
    assert list(table.columns) == ["severity", "file", "sheet", "row", "column", "value", "message"]
    assert table.loc[0, "row"] == 2 and table.loc[0, "value"] == "'-1'"
    assert report.summary() == ("w.csv: 1 row read with 1 error and 1 warning; nothing can be imported until the "
                                "errors are fixed.")
    ok = validate_upload("workload", "w.csv", b"timestamp,queue,volume\n2024-01-02 08:00,calls,1\n", OPT)
    assert ok.summary() == "w.csv: 1 row read without problems; ready to import."
    rejected = validate_upload("workload", "w.csv", b"", OPT)
    assert rejected.summary() == "w.csv could not be read: The file is empty."


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="Unknown dataset kind"):
        validate_upload("nope", "a.csv", b"a,b\n1,2\n")


def test_bool_x_marks_treat_blank_as_false() -> None:
    data = (b"staff_id;name;site;role;skills;hire_date;contract_hours;ot_willing\n"
            b"1;A;S;R;calls;01.01.2020;38,5;x\n2;B;S;R;calls;01.01.2020;20;\n")
    report = validate_upload("staff", "s.csv", data, OPT)
    assert report.ok and report.frame["ot_willing"].tolist() == [True, False]
    assert report.frame["contract_hours"].tolist() == [38.5, 20.0]


def test_large_broken_file_gives_a_short_report() -> None:
    stamps = pd.date_range("2023-01-01", periods=20_000, freq="30min")
    lines = "".join(f"{t:%Y-%m-%d %H:%M},calls,x{k}\n" for k, t in enumerate(stamps))
    # synthetic 24/7 stamps: the clock changes' checks (their own tests) are off here
    report = validate_upload("workload", "big.csv", ("timestamp,queue,volume\n" + lines).encode(),
                             ParseOptions(today=TODAY, timezone=None))
    assert len(report.issues) == 51 and report.totals["error"] == 20_000
    assert report.issues[-1].message == "... and 19950 more rows with the same problem in column 'volume'."


# -------------------------------------------------------------------------------------------------
# property: random workload frames written as CSV in any supported dialect read back equal
# -------------------------------------------------------------------------------------------------

queue_text = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")), min_size=1, max_size=12)


@st.composite
def workload_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    slots = draw(st.lists(st.integers(0, 47), min_size=n, max_size=n, unique=True))
    days = draw(st.lists(st.integers(0, 400), min_size=n, max_size=n))
    stamps = sorted({pd.Timestamp("2023-06-01") + pd.Timedelta(days=d, minutes=30 * s)
                     for d, s in zip(days, slots, strict=True)})
    queue = draw(queue_text.filter(lambda q: clean_str(q) == q))
    return pd.DataFrame({
        "timestamp": pd.Series(stamps, dtype="datetime64[ns]"), "queue": queue,
        "volume": pd.Series(draw(st.lists(st.integers(0, 10**7), min_size=len(stamps), max_size=len(stamps))),
                            dtype=np.int64),
        "site": "",
        "aht_seconds": pd.Series(draw(st.lists(st.integers(1, 10**6), min_size=len(stamps), max_size=len(stamps))),
                                 dtype=np.float64) / 100 + 0.01,
    })


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=workload_frames(), sep=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]), decimal=st.sampled_from([".", ","]),
       date_fmt=st.sampled_from(["%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]),
       group=st.booleans(), crlf=st.booleans())
def test_csv_round_trip_in_any_dialect(df: pd.DataFrame, sep: str, encoding: str, decimal: str, date_fmt: str,
                                       group: bool, crlf: bool) -> None:
    thousands = "," if decimal == "." else "."

    def count(v: int) -> str:
        return f"{v:,}".replace(",", thousands) if group else str(v)

    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["Zeitstempel", "Queue", "Anzahl", "AHT"])
    for t, q, v, a in df[["timestamp", "queue", "volume", "aht_seconds"]].itertuples(index=False):
        writer.writerow([t.strftime(date_fmt), q, count(v), f"{a:.2f}".replace(".", decimal)])
    try:
        data = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    if encoding == "cp1252":
        try:
            data.decode("utf-8")
            assume(False)  # valid UTF-8 too: auto-detection rightly reads it as UTF-8
        except UnicodeDecodeError:
            pass
    report = validate_upload("workload", "p.csv", data, ParseOptions(today=TODAY, timezone=None))  # naive stamps
    assert report.ok, [(i.row, i.message) for i in report.errors]
    pd.testing.assert_frame_equal(report.frame, df[kinds.WORKLOAD.column_names])
    assert report.separator == sep and report.column_map == {
        "Zeitstempel": "timestamp", "Queue": "queue", "Anzahl": "volume", "AHT": "aht_seconds"}


def test_report_dataclass_is_plain() -> None:
    r = ValidationReport("workload", "f", None, None, None, [], None, 0, {})
    assert r.ok and r.summary() == "f: 0 rows read without problems; ready to import."


# --- a date column and a separate time-of-day column (ACD exports) ------------------------------------------------

def _stamps(report: ValidationReport) -> list[str]:
    assert report.ok, [i.message for i in report.errors]
    return [f"{t:%Y-%m-%d %H:%M}" for t in report.frame["timestamp"]]


@pytest.mark.parametrize(("text", "expected"), [
    ("Datum;Uhrzeit;Warteschlange;Anrufe\n04.03.2024;08:00;Service;12\n04.03.2024;08:30 Uhr;Service;15\n",
     ["2024-03-04 08:00", "2024-03-04 08:30"]),
    ("Date,Interval,Queue,Offered\n2024-03-04,08:00 - 08:30,calls,12\n2024-03-04,23:30-00:00,calls,15\n",
     ["2024-03-04 08:00", "2024-03-04 23:30"]),
    ("Datum;Intervall;Kanal;Anzahl\n04.03.2024;08:00–08:15;Service;12\n05.03.2024;8:15 bis 8:30;Service;1\n",
     ["2024-03-04 08:00", "2024-03-05 08:15"]),
    ("Datum;Stunde;Kanal;Anzahl\n04.03.2024;8;Service;12\n04.03.2024;0;Service;1\n",
     ["2024-03-04 08:00", "2024-03-04 00:00"]),
])
def test_date_and_time_of_day_columns_are_combined(text: str, expected: list[str]) -> None:
    report = validate_upload("workload", "acd.csv", text.encode(), OPT)
    assert _stamps(report) == expected
    assert list(report.frame.columns) == kinds.KINDS["workload"].column_names  # the time column is not stored


def test_date_and_time_cells_of_a_workbook_are_combined() -> None:
    from datetime import time

    from tests.unit.fixtures_files import xlsx_bytes

    content = xlsx_bytes({"Export": [["Datum", "Uhrzeit", "Warteschlange", "Anrufe"],
                                     [datetime(2024, 3, 4), time(8, 0), "Service", 12],
                                     [datetime(2024, 3, 4), 0.5, "Service", 7]]})
    assert _stamps(validate_upload("workload", "acd.xlsx", content, OPT)) == ["2024-03-04 08:00", "2024-03-04 12:00"]


def test_date_and_time_of_day_problems_name_row_and_column() -> None:
    text = ("Date,Time,Queue,Offered\n2024-03-04,08:00,calls,1\n2024-03-04,,calls,2\n2024-03-04,25:00,calls,3\n"
            "2024-03-04 09:00,09:00,calls,4\n2024-03-04,2024-03-05 10:00,calls,5\n2024-03-04,08:00,calls,6\n")
    report = validate_upload("workload", "acd.csv", text.encode(), OPT)
    assert not report.ok and report.frame is None
    found = {(i.row, i.column, i.code) for i in report.errors}
    assert (3, "Time", "empty") in found
    assert (4, "Time", "bad_time") in found
    assert (5, "Date", "date_has_time") in found
    assert (6, "Time", "time_other_day") in found
    assert any(i.code.startswith("duplicate") and i.row == 7 for i in report.errors)  # 08:00 twice once combined


def test_time_of_day_headers_never_shadow_a_column_alias() -> None:
    for spec in kinds.KINDS.values():
        tokens = {kinds.normalise_header(a) for a in spec.time_of_day_aliases}
        assert not tokens & set(alias_lookup(spec)), spec.key


def test_total_rows_of_an_export_are_skipped_and_noted() -> None:
    text = ("Datum;Uhrzeit;Warteschlange;Anrufe\n04.03.2024;08:00;Service;12\n04.03.2024;08:30;Service;15\n"
            "Summe 04.03.2024;;;27\n05.03.2024;08:00;Service;3\nGesamt;;;30\n")
    report = validate_upload("workload", "acd.csv", text.encode(), OPT)
    assert _stamps(report) == ["2024-03-04 08:00", "2024-03-04 08:30", "2024-03-05 08:00"]
    assert report.frame["volume"].tolist() == [12, 15, 3]
    assert [(i.row, i.code) for i in report.infos if i.code == "total_row"] == [(4, "total_row"), (6, "total_row")]
    only_totals = validate_upload("unit_shifts", "u.csv", b"date,site,unit,shifts\nTotal,,,99\n", OPT)
    assert not only_totals.ok  # nothing left to store is still an error


def test_rows_after_a_skipped_total_keep_their_row_numbers() -> None:
    text = "date,site,unit,shifts\n2024-03-04,Haus A,Station 1,5\nTotal,,,5\n2024-03-05,Haus A,Station 1,-1\n"
    report = validate_upload("unit_shifts", "u.csv", text.encode(), OPT)
    assert [(i.row, i.column) for i in report.errors] == [(4, "shifts")]


def test_shift_counts_split_by_shift_type_are_summed() -> None:
    text = ("Datum;Einrichtung;Wohnbereich;Früh;Spät;Nacht\n04.03.2024;Haus A;Birke;3;2;1\n"
            "05.03.2024;Haus A;Birke;3;;1\n")
    report = validate_upload("unit_shifts", "dienste.csv", text.encode("utf-8"), OPT)
    assert report.ok and report.frame["shifts"].tolist() == [6, 4]
    assert report.column_map["Spät"] == "shifts (summed)"
    assert any(i.code == "summed_columns" for i in report.infos)
    bad = validate_upload("unit_shifts", "dienste.csv", (text + "06.03.2024;Haus A;Birke;;;\n"
                                                         "07.03.2024;Haus A;Birke;x;1;1\n").encode("utf-8"), OPT)
    assert {(i.row, i.code) for i in bad.errors} == {(4, "empty"), (5, "bad_number")}
    both = validate_upload("unit_shifts", "u.csv", b"date,site,unit,shifts,night\n2024-03-04,A,B,3,1\n", OPT)
    assert both.ok and both.frame["shifts"].tolist() == [3]
    assert any(i.code == "unknown_column" and i.column == "night" for i in both.warnings)


def test_one_column_per_queue_is_read_when_the_user_says_so() -> None:
    text = ("Datum;Uhrzeit;Service;Vertrieb;Summe\n04.03.2024;08:00;12;3;15\n04.03.2024;08:30;15;;15\n"
            "04.03.2024;09:00;9;2;11\n")
    plain = validate_upload("workload", "plan.csv", text.encode(), OPT)
    assert not plain.ok and any("one column per queue" in i.message for i in plain.errors)
    wide = validate_upload("workload", "plan.csv", text.encode(), ParseOptions(today=TODAY, queues_in_columns=True))
    assert wide.ok, [i.message for i in wide.errors]
    got = list(zip(wide.frame["timestamp"].dt.strftime("%H:%M"), wide.frame["queue"], wide.frame["volume"],
                   strict=True))
    assert got == [("08:00", "Service", 12), ("08:00", "Vertrieb", 3), ("08:30", "Service", 15),
                   ("09:00", "Service", 9), ("09:00", "Vertrieb", 2)]  # empty cell = no row; 'Summe' skipped
    assert {i.code for i in wide.infos} >= {"total_column", "queues_in_columns"}
    bad = validate_upload("workload", "plan.csv", text.replace(";9;", ";x;").encode(),
                          ParseOptions(today=TODAY, queues_in_columns=True))
    assert [(i.row, i.code) for i in bad.errors] == [(4, "bad_number")] and "'x'" in bad.errors[0].message
    long = validate_upload("workload", "l.csv", b"timestamp,queue,volume\n2024-03-04 08:00,calls,3\n",
                           ParseOptions(today=TODAY, queues_in_columns=True))
    assert {i.code for i in long.errors} == {"wide_queue_column", "no_queue_columns"}
    care = validate_upload("unit_shifts", "u.csv", b"date,site,unit,shifts\n2024-03-04,A,B,3\n",
                           ParseOptions(today=TODAY, queues_in_columns=True))
    assert {i.code for i in care.errors} == {"wide_not_supported"}


def test_a_huge_wide_sheet_is_refused_before_it_is_expanded(monkeypatch) -> None:
    import src.data.validation as V

    monkeypatch.setattr(V, "MAX_WIDE_VALUES", 5)
    text = "Datum;Uhrzeit;A;B;C\n04.03.2024;08:00;1;2;3\n04.03.2024;08:30;1;2;3\n"
    report = validate_upload("workload", "w.csv", text.encode(), ParseOptions(today=TODAY, queues_in_columns=True))
    assert [i.code for i in report.errors] == ["too_many_values"] and report.frame is None


#: cells that look empty in Excel: spaces, (narrow) non-breaking spaces, a zero-width no-break space (U+FEFF, left
#: behind by copy-paste from web pages); Python's ``str.strip`` removes all but the last
_BLANKS = [" ", "\u00a0", "\u202f", "\ufeff", " \u00a0\ufeff "]


@pytest.mark.parametrize("blank", _BLANKS)
def test_blank_looking_part_cells_of_a_shift_type_sheet_count_as_empty(blank: str) -> None:
    text = (f"Datum;Einrichtung;Wohnbereich;Früh;Spät;Nacht\n04.03.2024;Haus A;Birke;3;{blank};1\n"
            f"05.03.2024;Haus A;Birke;{blank};{blank};{blank}\n")
    report = validate_upload("unit_shifts", "dienste.csv", text.encode("utf-8"), OPT)
    assert [(i.row, i.code) for i in report.errors] == [(3, "empty")]  # an all-blank row has no shift count
    ok = validate_upload("unit_shifts", "dienste.csv", text.split("05.03")[0].encode("utf-8"), OPT)
    assert ok.ok, [i.message for i in ok.errors]
    assert ok.frame["shifts"].tolist() == [4]


@pytest.mark.parametrize("blank", _BLANKS)
def test_blank_looking_cells_of_a_wide_queue_sheet_are_intervals_without_data(blank: str) -> None:
    text = (f"Datum;Uhrzeit;Service;Vertrieb\n04.03.2024;08:00;12;{blank}\n04.03.2024;08:30;{blank};4\n"
            "04.03.2024;09:00;9;2\n")
    report = validate_upload("workload", "plan.csv", text.encode("utf-8"),
                             ParseOptions(today=TODAY, queues_in_columns=True))
    assert report.ok, [i.message for i in report.errors]
    got = list(zip(report.frame["timestamp"].dt.strftime("%H:%M"), report.frame["queue"], report.frame["volume"],
                   strict=True))
    assert got == [("08:00", "Service", 12), ("08:30", "Vertrieb", 4), ("09:00", "Service", 9),
                   ("09:00", "Vertrieb", 2)]


def test_blank_looking_cells_of_a_workbook_read_as_empty() -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Datum", "Einrichtung", "Wohnbereich", "Früh", "Spät", "Nacht"])
    ws.append([datetime(2024, 3, 4), "Haus A", "Birke", 3, "\ufeff", "\u00a0"])
    buf = io.BytesIO()
    wb.save(buf)
    report = validate_upload("unit_shifts", "dienste.xlsx", buf.getvalue(), OPT)
    assert report.ok, [i.message for i in report.errors]
    assert report.frame["shifts"].tolist() == [3]


def test_utc_offsets_are_errors_unless_the_wall_clock_time_is_asked_for() -> None:
    cells = ["2024-03-30T09:00:00+01:00", "2024-03-31 09:00+0200", "2024-04-01T09:00:00Z",
             pd.Timestamp("2024-04-02 09:00", tz="Europe/Berlin").to_pydatetime(), "2024-04-03 09:00"]
    values, sink = _dates(cells)
    assert values == [None, None, None, None, pd.Timestamp("2024-04-03 09:00")]
    assert [i.code for i in sink.finish() if i.severity == "error"] == ["timezone"] * 4
    sink = IssueCollector("f")
    p = parse_datetimes(cells, date_order="auto", date_only=False, epoch=datetime(1899, 12, 30),
                        rows=np.arange(2, 7), column="d", sink=sink, utc_offsets="wall_clock")
    assert p.valid.all() and [pd.Timestamp(v).hour for v in p.values] == [9] * 5  # dropped, not converted
    issues = sink.finish()
    assert not [i for i in issues if i.severity == "error"]
    assert [(i.code, i.row) for i in issues if i.severity == "info"] == [("utc_offset", 2)]
    frame = validate_upload("workload", "w.csv", b"timestamp,queue,volume\n2024-03-31T09:00+02:00,calls,3\n",
                            ParseOptions(today=TODAY, utc_offsets="wall_clock"))
    assert frame.ok and str(frame.frame["timestamp"][0]) == "2024-03-31 09:00:00"
    with pytest.raises(ValueError, match="utc_offsets"):
        ParseOptions(utc_offsets="utc")  # type: ignore[arg-type]
