"""`python -m src.cli staffing`: stable flags, JSON keys, exit codes, table planning to xlsx/csv."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest

from src.cli import main
from src.models.capacity import required_agents

KEYS = ["traffic", "agents", "agents_raw", "agents_fractional", "service_level", "asa_seconds", "occupancy", "p_wait"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["staffing", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_textbook_json(capsys):
    code, out, err = run(capsys, "--calls", "100", "--aht", "180", "--interval", "1800", "--sl", "0.8",
                         "--answer-within", "20", "--shrinkage", "0.3", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert list(data) == KEYS
    assert data["traffic"] == 10.0 and data["agents_raw"] == 14 and data["agents"] == 20
    assert data["agents_fractional"] == pytest.approx(20.0)
    assert data["service_level"] == pytest.approx(0.8884, abs=5e-4)
    assert "p_abandon" not in data


def test_patience_switches_to_erlang_a(capsys):
    code, out, _ = run(capsys, "--calls", "100", "--aht", "180", "--patience", "120", "--max-occupancy", "0.85",
                       "--json")
    data = json.loads(out)
    assert code == 0 and list(data) == [*KEYS, "p_abandon"]
    assert 0 < data["p_abandon"] < 0.2 and data["occupancy"] <= 0.85


def test_asa_only_and_plain_text(capsys):
    code, out, _ = run(capsys, "--calls", "100", "--aht", "180", "--asa", "5")
    assert code == 0
    assert "agents: " in out and "asa_seconds: " in out
    asa = float(next(line for line in out.splitlines() if line.startswith("asa_seconds")).split(": ")[1])
    assert asa <= 5


@pytest.mark.parametrize(
    ("args", "msg"),
    [(["--sl", "1.0"], "below 100%"), (["--sl", "-0.1"], "Service-level"), (["--shrinkage", "1"], "Shrinkage"),
     (["--max-occupancy", "0"], "occupancy"), (["--aht", "0"], "AHT"), (["--asa", "-3"], "ASA")],
)
def test_impossible_requests_exit_1_with_message(capsys, args, msg):
    code, out, err = run(capsys, "--calls", "100", "--aht", "180", *args) if "--aht" not in args else run(
        capsys, "--calls", "100", *args)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and msg in err


def test_missing_mode_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["staffing", "--aht", "180"])
    assert exc.value.code == 2


def test_table_to_xlsx_and_csv(capsys, tmp_path):
    fc = tmp_path / "forecast.csv"
    ds = pd.date_range("2025-03-03 08:00", periods=6, freq="30min")
    pd.DataFrame({"ds": ds, "volume": [100, 120, 0, 80, 90, 100], "series_id": "=calls"}).to_csv(fc, index=False)
    xlsx = tmp_path / "out" / "plan.xlsx"
    code, out, err = run(capsys, "--input", str(fc), "--aht", "180", "--shrinkage", "0.3", "--output", str(xlsx),
                         "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["intervals"] == 6 and summary["queues"] == ["=calls"] and summary["output"] == str(xlsx)
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes()))
    assert {"Summary", "Intervals", "Daily", "Parameters"} <= set(wb.sheetnames)
    ws = wb["Intervals"]
    assert ws.cell(2, 1).value == "'=calls" and ws.cell(2, 1).data_type == "s"
    agents_col = [c.value for c in ws[1]].index("Agents to schedule (after shrinkage)") + 1
    assert ws.cell(2, agents_col).value == 20  # 100 calls, AHT 180, 80/20, 30 % shrinkage
    assert ws.cell(4, agents_col).value == 0
    csv_path = tmp_path / "plan.csv"
    code, _, _ = run(capsys, "--input", str(fc), "--aht", "180", "--output", str(csv_path))
    assert code == 0
    back = pd.read_csv(csv_path, encoding="utf-8-sig")
    expected = required_agents([100, 120, 0, 80, 90, 100], 180).agents.tolist()
    assert expected[0] == 14 and expected[2] == 0
    assert back["agents"].tolist() == expected
    assert back["queue"].iloc[0] == "'=calls"


def test_table_errors(capsys, tmp_path):
    code, _, err = run(capsys, "--input", str(tmp_path / "missing.csv"))
    assert code == 1 and "not found" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("ds,other\n2025-01-01,1\n")
    code, _, err = run(capsys, "--input", str(bad))
    assert code == 1 and "yhat" in err
    good = tmp_path / "good.csv"
    good.write_text("ds,y\n2025-01-01 08:00,10\n")
    code, _, err = run(capsys, "--input", str(good), "--output", str(tmp_path / "plan.pdf"))
    assert code == 1 and ".xlsx or .csv" in err
    code, _, err = run(capsys, "--calls", "10", "--output", str(tmp_path / "x.csv"))
    assert code == 1 and "--input" in err


def test_table_service_level_is_weighted_by_volume_over_queues(capsys, tmp_path):
    """A queue of 3 calls an interval (SL far above target with the minimum staff) must not count as much as one of
    300: the headline SL is the volume-weighted one of the Staffing page, not a plain mean over queues."""
    fc = tmp_path / "forecast.csv"
    ds = pd.date_range("2025-03-03 08:00", periods=4, freq="30min")
    frame = pd.concat([pd.DataFrame({"ds": ds, "volume": 300, "series_id": "big"}),
                       pd.DataFrame({"ds": ds, "volume": 3, "series_id": "small"})])
    frame.to_csv(fc, index=False)
    code, out, err = run(capsys, "--input", str(fc), "--aht", "180", "--json")
    assert code == 0, err
    reported = json.loads(out)["service_level"]
    big = required_agents([300] * 4, 180).service_level
    small = required_agents([3] * 4, 180).service_level
    expected = (float(big.sum()) * 300 + float(small.sum()) * 3) / (300 * 4 + 3 * 4)
    assert reported == pytest.approx(expected, abs=1e-9)
    assert abs(reported - (big.mean() + small.mean()) / 2) > 1e-3  # the plain mean differs
