"""CLI ``forecast`` and ``backtest`` through ``src.cli.main`` on temporary files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from src.cli import main


@pytest.fixture()
def csv_file(tmp_path):
    ds = pd.date_range("2024-01-01", periods=10 * 7, freq="D")
    rows = []
    for sid, base in (("home-a", 30), ("home-b", 12)):
        y = np.random.default_rng(base).poisson(base * np.where(ds.dayofweek >= 5, 0.6, 1.0))
        rows.append(pd.DataFrame({"Series_ID": sid, "DS": ds.strftime("%Y-%m-%d"), "Y": y}))
    path = tmp_path / "history.csv"
    pd.concat(rows).to_csv(path, index=False)
    return path


def test_forecast_writes_the_documented_columns(csv_file, tmp_path, capsys):
    out = tmp_path / "out" / "fc.csv"
    code = main(["forecast", "--input", str(csv_file), "--horizon", "14", "--output", str(out),
                 "--model", "profile", "--level", "80", "--level", "95", "--folds", "2"])
    assert code == 0
    fc = pd.read_csv(out)
    assert list(fc.columns) == ["series_id", "ds", "yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95",
                                "yhat_upper_95"]
    assert len(fc) == 28 and fc["ds"].min() == "2024-03-11 00:00:00"
    assert (fc["yhat_lower_95"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_upper_95"]).all()
    printed = capsys.readouterr().out
    assert "home-a: model=profile freq=1D backtest: mae=" in printed and "coverage_95=" in printed


def test_backtest_json(csv_file, capsys):
    code = main(["backtest", "--input", str(csv_file), "--model", "seasonal_naive,profile", "--folds", "2",
                 "--horizon", "7", "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["series_id"], r["model"]) for r in rows] == [("home-a", "seasonal_naive"), ("home-a", "profile"),
                                                           ("home-b", "seasonal_naive"), ("home-b", "profile")]
    assert all(r["folds"] == 2 and r["n"] == 14 and r["mase"] > 0 for r in rows)


def test_bad_input_exits_2_with_a_message(tmp_path, capsys):
    path = tmp_path / "short.csv"
    pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=10, freq="D"), "y": 1}).to_csv(path, index=False)
    code = main(["forecast", "--input", str(path), "--horizon", "7", "--output", str(tmp_path / "o.csv")])
    assert code == 2
    assert "needed" in capsys.readouterr().err
    missing = main(["backtest", "--input", str(tmp_path / "nope.csv")])
    assert missing == 2


def test_partial_failure_writes_the_others_and_exits_3(csv_file, tmp_path, capsys):
    df = pd.read_csv(csv_file)
    short = pd.DataFrame({"Series_ID": "brand-new", "DS": ["2024-03-01", "2024-03-02", "2024-03-03"], "Y": [4, 5, 6]})
    path = tmp_path / "mixed.csv"
    pd.concat([df, short]).to_csv(path, index=False)
    out = tmp_path / "fc.csv"
    code = main(["forecast", "--input", str(path), "--horizon", "7", "--output", str(out), "--model", "profile",
                 "--folds", "2"])
    assert code == 3
    assert set(pd.read_csv(out)["series_id"]) == {"home-a", "home-b"}
    err = capsys.readouterr().err
    assert "skipped brand-new: Series 'brand-new' has 3 days of history" in err and "1 of 3 series" in err


def test_german_export_with_decimal_comma(tmp_path):
    ds = pd.date_range("2024-01-01", periods=70, freq="D")
    y = np.random.default_rng(1).poisson(1200, len(ds)) + 0.5
    lines = [f"{d:%d.%m.%Y};{int(v) // 1000}.{int(v) % 1000:03d},5" for d, v in zip(ds, y, strict=True)]
    path = tmp_path / "de.csv"
    path.write_text("Datum;Anrufe\n" + "\n".join(lines) + "\n", encoding="utf-8")  # 1.234,5 = 1234.5
    out = tmp_path / "fc.csv"
    assert main(["forecast", "--input", str(path), "--horizon", "7", "--output", str(out), "--model", "profile",
                 "--folds", "2"]) == 0
    fc = pd.read_csv(out)
    assert len(fc) == 7 and 1100 < fc["yhat"].mean() < 1300


# --- the input is read like an upload: every format the Data page accepts --------------------------------------
# Each test forecasts with the seasonal-naive model, whose forecast is the value one week earlier, so the parsed
# values themselves are checked (a wrong decimal separator or a swapped day/month changes the numbers).

DAYS = pd.date_range("2024-01-01", periods=70, freq="D")
VALUES = [1000 + 10 * i + 0.5 for i in range(70)]  # 1000.5 … 1690.5: needs the decimal and the thousands reading


def _naive(path, tmp_path, *flags: str, horizon: int = 7) -> pd.DataFrame:
    out = tmp_path / "fc.csv"
    code = main(["forecast", "--input", str(path), "--horizon", str(horizon), "--output", str(out), "--model",
                 "seasonal_naive", "--folds", "1", "--holidays", "none", *flags])
    assert code == 0
    return pd.read_csv(out, parse_dates=["ds"])


def _assert_week_before(fc: pd.DataFrame, ds, values, first: str) -> None:
    history = dict(zip(pd.DatetimeIndex(ds), values, strict=True))
    assert str(fc["ds"].iloc[0]) == first
    assert fc["yhat"].tolist() == [history[t - pd.Timedelta(days=7)] for t in fc["ds"]]


def _de(v: float) -> str:
    """1234.5 → '1.234,5' (German thousands and decimal)."""
    return f"{v:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def test_cp1252_semicolons_decimal_comma_and_umlauts_in_the_series_name(tmp_path):
    lines = [f"{d:%d.%m.%Y};Büro;{_de(v)}" for d, v in zip(DAYS, VALUES, strict=True)]
    path = tmp_path / "export.csv"
    path.write_bytes(("Datum;Warteschlange;Anrufe\n" + "\n".join(lines) + "\n").encode("cp1252"))
    fc = _naive(path, tmp_path)
    assert set(fc["series_id"]) == {"Büro"}
    _assert_week_before(fc, DAYS, VALUES, "2024-03-11 00:00:00")


def test_utf16_tab_separated_unicode_text_export(tmp_path):
    lines = [f"{d:%Y-%m-%d}\t{v}" for d, v in zip(DAYS, VALUES, strict=True)]
    path = tmp_path / "unicode.txt"
    path.write_bytes(("Datum\tAnrufe\n" + "\n".join(lines) + "\n").encode("utf-16"))  # with BOM, as Excel writes
    _assert_week_before(_naive(path, tmp_path), DAYS, VALUES, "2024-03-11 00:00:00")


def test_excel_serial_dates_in_a_csv_and_english_thousands_separators(tmp_path):
    serial = (DAYS - pd.Timestamp("1899-12-30")).days  # 45292 = 2024-01-01
    lines = [f'{s},"{v:,.1f}"' for s, v in zip(serial, VALUES, strict=True)]  # "1,234.5"
    path = tmp_path / "serials.csv"
    path.write_text("ds,y\n" + "\n".join(lines) + "\n", encoding="utf-8-sig")
    _assert_week_before(_naive(path, tmp_path), DAYS, VALUES, "2024-03-11 00:00:00")


def test_workbook_with_serial_numbers_title_rows_a_total_row_and_a_chosen_sheet(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Info"
    wb.active.append(["nothing to read here"])
    ws = wb.create_sheet("Daten")
    ws.append(["Anrufe je Tag, Export vom 03.12.2026"])
    ws.append([])
    ws.append(["Datum", "Anrufe"])
    for d, v in zip(DAYS, VALUES, strict=True):
        ws.append([(d - pd.Timestamp("1899-12-30")).days, v])  # dates stored as plain numbers ("General" format)
    ws.append(["Summe", sum(VALUES)])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    _assert_week_before(_naive(path, tmp_path, "--sheet", "Daten"), DAYS, VALUES, "2024-03-11 00:00:00")


def test_date_and_time_of_day_in_two_columns(tmp_path):
    hours = pd.date_range("2024-01-01", periods=24 * 7 * 6, freq="h")
    values = [float(10 + h.hour + 3 * h.dayofweek) for h in hours]
    lines = [f"{t:%d.%m.%Y};{t:%H:%M} - {t + pd.Timedelta(hours=1):%H:%M};{int(v)}"
             for t, v in zip(hours, values, strict=True)]
    path = tmp_path / "acd.csv"
    path.write_text("Datum;Intervall;Anrufe\n" + "\n".join(lines) + "\n", encoding="utf-8")
    fc = _naive(path, tmp_path, horizon=24)
    _assert_week_before(fc, hours, values, "2024-02-12 00:00:00")


def test_day_first_slashed_dates_decided_by_a_value_and_ambiguous_ones_by_the_flag(tmp_path, capsys):
    lines = [f"{d:%d/%m/%Y},{v}" for d, v in zip(DAYS, VALUES, strict=True)]  # 13/01/2024 decides: day first
    path = tmp_path / "uk.csv"
    path.write_text("ds,y\n" + "\n".join(lines) + "\n", encoding="utf-8")
    _assert_week_before(_naive(path, tmp_path), DAYS, VALUES, "2024-03-11 00:00:00")
    first_days = tmp_path / "ambiguous.csv"  # only the 1st–12th of each month: both readings are possible
    days = [d for d in DAYS if d.day <= 12]
    first_days.write_text("ds,y\n" + "\n".join(f"{d:%d/%m/%Y},1" for d in days) + "\n", encoding="utf-8")
    code = main(["backtest", "--input", str(first_days), "--model", "seasonal_naive", "--horizon", "7"])
    err = capsys.readouterr().err
    assert code == 2
    assert ("error: ambiguous.csv: Column 'ds': '02/01/2024' in row 3 can be read as 02 January 2024 (day first) "
            "or 01 February 2024 (month first), and no value in the column decides it") in err
    assert "hint: choose the date order with --date-order dmy (day first) or --date-order mdy" in err
    _assert_week_before(_naive(path, tmp_path, "--date-order", "dmy"), DAYS, VALUES, "2024-03-11 00:00:00")


def test_utc_offsets_keep_their_wall_clock_time_as_before(tmp_path):
    lines = [f"{d:%Y-%m-%d}T00:00:00{'+01:00' if d.month < 4 else '+02:00'},{v}" for d, v in zip(DAYS, VALUES,
                                                                                                   strict=True)]
    path = tmp_path / "api.csv"
    path.write_text("timestamp,volume\n" + "\n".join(lines) + "\n", encoding="utf-8")
    _assert_week_before(_naive(path, tmp_path), DAYS, VALUES, "2024-03-11 00:00:00")


def test_unrevealed_thousands_need_the_decimal_flag(tmp_path, capsys):
    lines = [f"{d:%d.%m.%Y};{int(v):,}".replace(",", ".") for d, v in zip(DAYS, VALUES, strict=True)]  # 1.000
    path = tmp_path / "counts.csv"
    path.write_text("Datum;Anrufe\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert main(["backtest", "--input", str(path), "--model", "seasonal_naive", "--horizon", "7"]) == 2
    err = capsys.readouterr().err
    assert "error: counts.csv: Column 'Anrufe': '1.000' in row 2 could mean 1000 or 1.0" in err
    assert "hint: choose the decimal separator with --decimal , (decimal comma) or --decimal ." in err
    fc = _naive(path, tmp_path, "--decimal", ",")
    _assert_week_before(fc, DAYS, [float(int(v)) for v in VALUES], "2024-03-11 00:00:00")


# --- the upload's errors: file, row, column and value; every problem listed; nothing written -----------------


def _read_errors(tmp_path, capsys, name: str, content: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    out = tmp_path / "never.csv"
    assert main(["forecast", "--input", str(path), "--horizon", "7", "--output", str(out)]) == 2
    assert not out.exists()
    return capsys.readouterr().err


def test_every_bad_cell_is_reported_with_row_column_and_value(tmp_path, capsys):
    text = ("Datum;Warteschlange;Anrufe\n01.03.2024;calls;12\n31.02.2024;calls;13\n02.03.2024;calls;zwölf\n"
            "03.03.2024;;14\n04.03.2024;calls;-3\n05.03.2024;calls;\n")
    err = _read_errors(tmp_path, capsys, "bad.csv", text)
    assert "error: bad.csv: Row 3, column 'Datum': '31.02.2024' is not a valid date/time (no such day or time)." in err
    assert "error: bad.csv: Row 4, column 'Anrufe': 'zwölf' is not a number." in err
    assert "error: bad.csv: Row 5: column 'Warteschlange' is empty; a value is required." in err
    assert "error: bad.csv: Row 6, column 'Anrufe': '-3' is negative; values must be 0 or more." in err
    assert "error: bad.csv: Row 7: column 'Anrufe' is empty; a value is required." in err
    assert err.strip().endswith("error: bad.csv: 5 problems in the input; nothing was forecast")


def test_missing_columns_name_the_accepted_headers(tmp_path, capsys):
    err = _read_errors(tmp_path, capsys, "nocount.csv", "Datum;Bereich\n01.03.2024;Nord\n02.03.2024;Nord\n")
    assert "error: nocount.csv: Required column 'y' is missing. Accepted names: y, value, volume, calls" in err
    assert "warning: nocount.csv: Column 'Bereich' is not used for forecast input and is ignored." in err


def test_unreadable_files_are_refused_with_the_upload_messages(tmp_path, capsys):
    err = _read_errors(tmp_path, capsys, "latin.csv", b"ds,y\n2024-01-01,1\n2024-01-02,\x81\n")
    assert "error: latin.csv: The file is not valid UTF-8 or Windows-1252 text (byte 0x81 on line 3)" in err
    assert "hint: choose the encoding with --encoding utf-8, utf-16 or cp1252" in err
    err = _read_errors(tmp_path, capsys, "old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert "error: old.xlsx: This is an encrypted or old .xls workbook, which cannot be read." in err
    err = _read_errors(tmp_path, capsys, "broken.xlsx", b"PK\x03\x04 not really a zip")
    assert "error: broken.xlsx: 'broken.xlsx' is not a valid Excel workbook" in err


def test_oversized_files_and_directories_are_refused_without_reading_them(tmp_path, capsys, monkeypatch):
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as f:  # sparse: 60 MB on paper, nothing on disk
        f.truncate(60 * 2**20)

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(type(huge), "open", no_reading)
    out = tmp_path / "never.csv"
    assert main(["forecast", "--input", str(huge), "--horizon", "7", "--output", str(out)]) == 2
    assert "error: huge.csv: The file is 60 MB; the limit is 50 MB." in capsys.readouterr().err
    assert main(["backtest", "--input", str(tmp_path)]) == 2
    assert "is not a regular file." in capsys.readouterr().err


def test_row_limit_is_the_uploads_and_automation_can_raise_it(csv_file, tmp_path, capsys, monkeypatch):
    """A file over UPLOAD_MAX_ROWS is refused unread with a hint; the same variable raises the limit for a run."""
    out = tmp_path / "o.csv"
    args = ["forecast", "--input", str(csv_file), "--horizon", "7", "--output", str(out), "--model", "profile"]
    monkeypatch.setenv("UPLOAD_MAX_ROWS", "50")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "more than 50 data rows" in err and "UPLOAD_MAX_ROWS" in err and not out.exists()
    monkeypatch.setenv("UPLOAD_MAX_ROWS", "lots")
    assert main(args) == 2
    assert "UPLOAD_MAX_ROWS must be a whole number" in capsys.readouterr().err
    monkeypatch.setenv("UPLOAD_MAX_ROWS", "1000000")
    assert main(args) == 0 and out.exists()


def test_a_queue_at_two_sites_is_two_series_not_their_sum(tmp_path):
    """A multi-site export repeats the queue name per site: each site is its own series (``calls@Berlin``)."""
    ds = pd.date_range("2024-01-01", periods=8 * 7, freq="D").strftime("%d.%m.%Y")
    path = tmp_path / "sites.csv"
    pd.concat([pd.DataFrame({"Datum": ds, "Standort": site, "Warteschlange": "calls", "Anrufe": level})
               for site, level in (("Berlin", 100), ("Hamburg", 10))]).to_csv(path, sep=";", index=False)
    out = tmp_path / "out.csv"
    assert main(["forecast", "--input", str(path), "--horizon", "7", "--output", str(out), "--model",
                 "seasonal_naive"]) == 0
    fc = pd.read_csv(out)
    assert fc.groupby("series_id")["yhat"].mean().to_dict() == {"calls@Berlin": 100.0, "calls@Hamburg": 10.0}


def test_forecast_output_neutralises_formula_series_ids(tmp_path):
    """#20.3: series ids from the input (=HYPERLINK(...), @SUM(1,2)) were written as live formulas."""
    days = pd.date_range("2025-01-01", periods=70, freq="D")
    evil = ['=HYPERLINK("http://x","y")', "@SUM(1,2)"]
    df = pd.concat([pd.DataFrame({"series_id": sid, "ds": days, "y": 10.0 + (days.dayofweek == 0)}) for sid in evil])
    path, out = tmp_path / "in.csv", tmp_path / "fc.csv"
    df.to_csv(path, index=False)
    assert main(["forecast", "--input", str(path), "--horizon", "7", "--output", str(out), "--model",
                 "seasonal_naive", "--folds", "1"]) == 0
    fc = pd.read_csv(out, dtype={"series_id": str}, encoding="utf-8-sig")
    assert set(fc["series_id"]) == {"'" + s for s in evil}
    assert pd.to_datetime(fc["ds"]).min() == pd.Timestamp("2025-03-12")
