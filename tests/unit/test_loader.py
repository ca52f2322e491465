"""read_table / load_upload: encodings, separators, header detection, sheets, typed Excel cells,
XML-safety, option validation, and the isolated worker (one success, one timeout)."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest

from src.data import loader
from src.data.loader import (
    ParseOptions,
    RawTable,
    UploadLimits,
    UploadRejected,
    check_xml_safety,
    read_table,
)
from src.data.upload_worker import load_upload
from tests.unit import fixtures_files as F

OPT = ParseOptions(today=date(2025, 1, 31))
LIM = UploadLimits()
GERMAN = "Datum;Team;Anzahl;Stunden\r\n31.12.2024;Süd;1.234;7,5\r\n01.01.2025;NA;12;8,25\r\n"


def read(data: bytes, name: str = "a.csv", options: ParseOptions = OPT, limits: UploadLimits = LIM,
         kind: str | None = "workload") -> RawTable:
    return read_table(name, data, options, limits, kind=kind)


@pytest.mark.parametrize(("encoding", "bom", "expected"), [
    ("utf-8", False, "utf-8"), ("utf-8", True, "utf-8-sig"), ("utf-16", False, "utf-16"), ("cp1252", False, "cp1252"),
])
def test_encoding_is_detected_and_reported(encoding: str, bom: bool, expected: str) -> None:
    data = GERMAN.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    table = read(data)
    assert table.encoding == expected
    assert table.separator == ";"
    assert table.headers == ["Datum", "Team", "Anzahl", "Stunden"]
    assert table.rows == [["31.12.2024", "Süd", "1.234", "7,5"], ["01.01.2025", "NA", "12", "8,25"]]
    assert any(i.code == "encoding" for i in table.issues) == (expected == "cp1252")


def test_explicit_encoding_overrides_detection() -> None:
    table = read("a,b\nMüller,1\n".encode("cp1252"), options=ParseOptions(encoding="cp1252"), kind=None)
    assert table.rows == [["Müller", "1"]] and table.encoding == "cp1252"
    # valid UTF-8 bytes read as cp1252 on request would store mojibake ('MÃ¼ller') silently: refused, naming both
    with pytest.raises(UploadRejected, match="would read 'MÃ¼ller' instead of 'Müller'. Choose UTF-8") as exc:
        read("a,b\nMüller,1\n".encode(), options=ParseOptions(encoding="cp1252"), kind=None)
    assert (exc.value.issue.code, exc.value.issue.row) == ("encoding_mismatch", 2)


def test_strings_are_kept_verbatim() -> None:
    table = read(b"timestamp,queue,volume\n2024-01-02,NA,00123\n2024-01-03,null,  5 \n")
    assert table.rows == [["2024-01-02", "NA", "00123"], ["2024-01-03", "null", "  5 "]]


def test_title_and_blank_rows_are_skipped_with_row_numbers_kept() -> None:
    data = b"Staffing export;;\n;;\ntimestamp;queue;volume\n2024-01-02 08:00;calls;1\n\n2024-01-02 08:30;calls;2\n"
    table = read(data)
    assert (table.header_row, table.first_data_row, table.row_numbers) == (3, 4, [4, 6])
    assert any(i.code == "header_row" and i.row == 3 for i in table.issues)


def test_header_row_option_overrides_detection() -> None:
    data = b"x,y,z\ntimestamp,queue,volume\n2024-01-02,calls,1\n"
    assert read(data).header_row == 2
    table = read(data, options=ParseOptions(header_row=1))
    assert table.headers == ["x", "y", "z"] and table.first_data_row == 2


def test_separator_option_is_used() -> None:
    table = read(b"timestamp;queue,volume\n2024-01-02;calls,1\n", options=ParseOptions(separator=";"))
    assert table.headers == ["timestamp", "queue,volume"]


def test_quoted_separators_and_newlines_survive() -> None:
    table = read(b'timestamp,queue,volume\n2024-01-02,"a, b\nc",1\n')
    assert table.rows == [["2024-01-02", "a, b\nc", "1"]]


def test_rejection_carries_an_issue() -> None:
    with pytest.raises(UploadRejected) as err:
        read(b"")
    assert err.value.issue.severity == "error" and err.value.issue.code == "empty_file"
    assert str(err.value) == "The file is empty."


def test_xlsx_cells_keep_their_types() -> None:
    data = F.xlsx_bytes({"s": [["timestamp", "queue", "volume"], [datetime(2024, 1, 2, 8), "calls", 5],
                               [45293.5, "NA", 7.0]]})
    table = read(data, "a.xlsx")
    assert table.sheet == "s" and table.encoding is None and table.separator is None
    assert table.rows == [[datetime(2024, 1, 2, 8), "calls", 5], [45293.5, "NA", 7]]


def test_first_visible_sheet_is_read_and_hidden_ones_named() -> None:
    table = read(F.hidden_first_sheet_xlsx(), "a.xlsx")
    assert table.sheet == "history"
    assert [i.message for i in table.issues if i.code == "hidden_sheet"] == ["Hidden sheet(s) 'old' were not read."]


def test_hidden_sheet_is_read_only_when_named() -> None:
    table = read(F.hidden_first_sheet_xlsx(), "a.xlsx", options=ParseOptions(sheet="old"))
    assert table.sheet == "old" and table.rows[0][1] == "old"
    assert any(i.severity == "warning" and i.code == "hidden_sheet" for i in table.issues)


def test_several_visible_sheets_are_mentioned() -> None:
    data = F.xlsx_bytes({"a": F.WORKLOAD_ROWS, "b": F.WORKLOAD_ROWS})
    table = read(data, "a.xlsx")
    assert table.sheet == "a" and any("2 visible sheets" in i.message for i in table.issues)


def test_workbook_with_only_hidden_sheets_is_rejected() -> None:
    with pytest.raises(UploadRejected, match="no visible worksheet"):
        read(F.raw_xlsx(F.sheet_xml(F.WORKLOAD_ROWS), sheet_state="hidden"), "a.xlsx")


def test_xlsx_named_csv_is_read_as_workbook() -> None:
    table = read(F.good_raw_xlsx(), "a.csv")
    assert table.sheet == "data" and any(i.code == "format_note" for i in table.issues)


def test_far_cell_beyond_column_limit_within_row_limit_is_cut_not_padded() -> None:
    table = read(F.sparse_far_cells_xlsx(("A1", "B1", "XFD1", "A2", "B2")), "a.xlsx", kind=None)
    assert len(table.headers) == 2 and table.rows == [[1, 1]]


def test_formula_without_value_marks_the_cell() -> None:
    table = read(F.formula_without_value_xlsx(), "a.xlsx")
    assert table.formula_cells == {(1, 2)}
    assert [i.message for i in table.issues if i.code == "formula_without_value"] == [
        "Cell C3 holds a formula without a stored value; open the file in Excel, let it calculate, and save it again."]


def test_check_xml_safety(monkeypatch: pytest.MonkeyPatch) -> None:
    check_xml_safety()
    assert openpyxl.DEFUSEDXML is True
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(RuntimeError, match="defusedxml"):
        check_xml_safety()


def test_xml_prolog_scanner() -> None:
    import io

    assert loader._xml_has_dtd(io.BytesIO(b'<?xml version="1.0"?>\n<!-- c --><root/>')) is False
    assert loader._xml_has_dtd(io.BytesIO(b'\xef\xbb\xbf<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><r/>'))
    assert loader._xml_has_dtd(io.BytesIO('<?xml version="1.0"?><!DOCTYPE r><r/>'.encode("utf-16")))
    assert loader._xml_has_dtd(io.BytesIO(b"\x89PNG\r\n")) is None
    with pytest.raises(ValueError):
        loader._xml_has_dtd(io.BytesIO(b"<!--" + b"x" * 3_000_000 + b"-->"))


@pytest.mark.parametrize("kwargs", [{"encoding": "latin-1"}, {"separator": "|"}, {"decimal": ";"},
                                    {"date_order": "dym"}, {"header_row": 0}, {"today": datetime(2024, 1, 1)}])
def test_parse_options_reject_invalid_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ParseOptions(**kwargs)


@pytest.mark.parametrize("kwargs", [{"max_rows": 0}, {"max_bytes": -1}, {"max_columns": 2.5}, {"max_cell_chars": True}])
def test_upload_limits_reject_invalid_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        UploadLimits(**kwargs)


def test_options_are_frozen() -> None:
    with pytest.raises(AttributeError):
        OPT.decimal = ","  # type: ignore[misc]


def test_load_upload_in_isolated_worker() -> None:
    data = b"timestamp,queue,volume\n2024-01-02 08:00,calls,5\n2024-01-02 08:30,calls,7\n"
    report = load_upload("workload", "a.csv", data, OPT, isolated=True, timeout_s=120)
    assert report.ok and report.rows_read == 2
    assert report.frame["volume"].tolist() == [5, 7]


def test_load_upload_timeout_is_a_clear_error() -> None:
    report = load_upload("workload", "a.csv", b"timestamp,queue,volume\n2024-01-02,calls,1\n", OPT, isolated=True,
                         timeout_s=0.05)
    assert not report.ok and report.frame is None
    assert report.errors[0].code == "worker_timeout"
    assert "took longer than 0.05 seconds and was stopped" in report.errors[0].message


def test_load_upload_in_process_matches() -> None:
    report = load_upload("workload", "a.csv", b"timestamp,queue,volume\n2024-01-02,calls,1\n", OPT, isolated=False)
    assert report.ok and report.frame["queue"].tolist() == ["calls"]
