"""CLI ``assign`` on temporary CSV files through ``src.cli.main``."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from src.cli import main


@pytest.fixture()
def files(tmp_path):
    tasks = pd.DataFrame({"task_id": ["T1", "T2", "T3"], "task_type": "visit", "site": ["a", "a", "b"],
                          "priority": [1, 2, 1], "due": "2025-01-02 10:00", "required_skill": ["x", "x:2", "z"],
                          "hours": [2, 3, 1]})
    staff = pd.DataFrame({"staff_id": ["S1", "S2"], "name": ["A", "B"], "site": "a", "role": "r",
                          "skills": ["x:3", "x:1"], "hire_date": "2020-01-01", "contract_hours": 40,
                          "ot_willing": "yes", "availability": ["yes", "yes"], "max_assignments": [1, 2],
                          "capacity_hours": [40, 40], "current_load_hours": [0, 0]})
    scores = pd.DataFrame({"task_id": ["T1", "T1", "T2"], "staff_id": ["S1", "S2", "S1"], "score": [0.9, 0.5, 0.8]})
    paths = {k: tmp_path / f"{k}.csv" for k in ("tasks", "staff", "scores")}
    tasks.to_csv(paths["tasks"], index=False)
    staff.to_csv(paths["staff"], index=False)
    scores.to_csv(paths["scores"], index=False)
    return tmp_path, paths


def test_assign_with_scores_optimal_json(files, capsys):
    tmp, p = files
    out = tmp / "out.csv"
    code = main(["assign", "--tasks", str(p["tasks"]), "--staff", str(p["staff"]), "--scores", str(p["scores"]),
                 "--method", "optimal", "--output", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["assigned"] == 2 and summary["unassigned"] == 1 and summary["violations"] == 0
    assert summary["total_score"] == pytest.approx(0.5 + 0.8)  # S1 can take only one task: T2 (0.8) + T1->S2
    assert set(summary["spread"]) >= {"std", "gini", "jain", "max_mean"} and summary["seconds"] >= 0
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(df.columns[:4]) == ["task_id", "staff_id", "score", "method"]
    rows = df.set_index("task_id")
    assert rows.loc["T1", "staff_id"] == "S2" and rows.loc["T2", "staff_id"] == "S1"
    assert rows.loc["T3", "staff_id"] == "" and rows.loc["T3", "reason"].startswith("no eligible staff")
    assert set(df["method"]) == {"optimal"}


def test_assign_greedy_takes_best_first(files, capsys):
    tmp, p = files
    out = tmp / "g.csv"
    assert main(["assign", "--tasks", str(p["tasks"]), "--staff", str(p["staff"]), "--scores", str(p["scores"]),
                 "--method", "greedy", "--output", str(out)]) == 0
    assert "greedy: assigned 1" in capsys.readouterr().out  # T1 (P1) takes S1, T2 has no other scored person
    rows = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("task_id")
    assert rows.loc["T1", "staff_id"] == "S1" and rows.loc["T2", "staff_id"] == ""


def test_assign_without_scores_uses_rules(files, capsys):
    tmp, p = files
    out = tmp / "r.csv"
    assert main(["assign", "--tasks", str(p["tasks"]), "--staff", str(p["staff"]), "--method", "optimal",
                 "--output", str(out), "--json", "--model-dir", str(tmp / "no_model")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["scorer"] == "rules" and summary["assigned"] == 2 and summary["violations"] == 0


def test_assign_bad_input_exit_codes(files, capsys):
    tmp, p = files
    assert main(["assign", "--tasks", str(tmp / "missing.csv"), "--staff", str(p["staff"]), "--method", "greedy",
                 "--output", str(tmp / "x.csv")]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["assign", "--tasks", str(p["tasks"]), "--staff", str(p["staff"]), "--method", "magic",
              "--output", str(tmp / "x.csv")])
    assert exc.value.code == 2
