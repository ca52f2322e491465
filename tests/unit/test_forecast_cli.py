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
    assert "skipped brand-new: Series 'brand-new' has 3 steps" in err and "1 of 3 series" in err


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
