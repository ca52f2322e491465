"""CLI ``assign`` on temporary CSV files through ``src.cli.main``."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from src.cli import main
from src.models.ranking import ScorerSettings, TrainConfig, train_ranker
from src.services import people
from src.services.context import set_app
from src.services.people import scoring as scoring_mod
from tests.conftest import ADMIN, fresh_app
from tests.unit.test_ranking import open_tasks, synthetic_history


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


@pytest.fixture()
def ctx(sqlite_app):
    """The CLI's application context (scorer settings, active ranker, clock) on an empty store."""
    set_app(sqlite_app)
    yield sqlite_app
    set_app(None)


def test_assign_without_scores_uses_rules(files, ctx, capsys):
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


# ------------------------------------------------------------------ the active ranker and its settings (#13.18)

@pytest.fixture(scope="module")
def ranker():
    hist, staff = synthetic_history()
    return train_ranker(hist, staff, TrainConfig(num_boost_round=40, min_data_in_leaf=20)).model, staff


@pytest.fixture()
def ranked_files(ctx, ranker, tmp_path):
    """An active ranker stored in the app, and task/staff files its features understand."""
    model, staff = ranker
    version = people._save_version(ctx, model, "test", {})
    people._write_active(ctx, version.version)
    paths = {"tasks": tmp_path / "tasks.csv", "staff": tmp_path / "staff.csv"}
    open_tasks(6).to_csv(paths["tasks"], index=False)
    staff.to_csv(paths["staff"], index=False)
    return ctx, version.version, paths


def _assign_json(paths, out, capsys, *extra) -> dict:
    assert main(["assign", "--tasks", str(paths["tasks"]), "--staff", str(paths["staff"]), "--method", "greedy",
                 "--output", str(out), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_assign_scores_with_the_active_ranker(ranked_files, tmp_path, capsys):
    """Without --scores or --model-dir the active ranker decides (before: always the rules)."""
    app, version, paths = ranked_files
    people.update_scorer_settings(app, ADMIN, ScorerSettings(confidence_threshold=0.0))
    summary = _assign_json(paths, tmp_path / "o.csv", capsys)
    assert summary["scorer"] == "model" and version in summary["model_status"]
    assert summary["decisions"] == {"model": 6} and summary["settings"]["confidence_threshold"] == 0.0


@pytest.mark.parametrize(("settings", "reason"), [
    (ScorerSettings(ml_enabled=False), "ml_disabled"),
    (ScorerSettings(shadow_mode=True), "shadow_mode"),
    (ScorerSettings(confidence_threshold=1.0), "low_confidence"),
])
def test_assign_honours_the_stored_scorer_settings(ranked_files, tmp_path, capsys, settings, reason):
    app, _version, paths = ranked_files
    people.update_scorer_settings(app, ADMIN, settings)
    summary = _assign_json(paths, tmp_path / "o.csv", capsys)
    assert summary["scorer"] == "rules" and summary["decisions"] == {reason: 6}


def test_assign_text_output_names_the_scorer(ranked_files, tmp_path, capsys):
    app, version, paths = ranked_files
    people.update_scorer_settings(app, ADMIN, ScorerSettings(shadow_mode=True))
    assert main(["assign", "--tasks", str(paths["tasks"]), "--staff", str(paths["staff"]), "--method", "greedy",
                 "--output", str(tmp_path / "o.csv")]) == 0
    out = capsys.readouterr().out
    assert "scored by: rules" in out and version in out and "rules (shadow mode): 6" in out


def test_assign_uses_the_app_clock(files, tmp_path, capsys, monkeypatch):
    """Scored as of now in APP_TIMEZONE (the task times are local), not the machine's UTC clock."""
    app = fresh_app("sqlite", tmp_path / "kiritimati", timezone="Pacific/Kiritimati")  # UTC+14
    set_app(app)
    seen = {}
    real = scoring_mod.score_candidates

    def spy(*args, **kwargs):
        seen["now"] = kwargs.get("now")
        return real(*args, **kwargs)

    monkeypatch.setattr(scoring_mod, "score_candidates", spy)  # looked up by people.score_files
    try:
        _tmp, p = files
        summary = _assign_json(p, tmp_path / "o.csv", capsys)
    finally:
        set_app(None)
        app.engine.dispose()
    local = pd.Timestamp.now(tz="Pacific/Kiritimati").tz_localize(None)
    assert abs(pd.Timestamp(summary["scored_as_of"]) - local) < pd.Timedelta(minutes=2)
    assert abs(seen["now"] - local) < pd.Timedelta(minutes=2)


def test_assign_output_neutralises_formula_ids(ctx, tmp_path, capsys):
    """#20.3: task and staff ids like =HYPERLINK(...) or @SUM(1,2) were written as live formulas."""
    evil_task, evil_staff = '=HYPERLINK("http://x","y")', "@SUM(1,2)"
    tasks = pd.DataFrame({"task_id": [evil_task, "+T2"], "task_type": "visit", "site": "a", "priority": 1,
                          "due": "2025-01-02 10:00", "required_skill": "", "hours": 1})
    staff = pd.DataFrame({"staff_id": [evil_staff], "name": ["A"], "site": "a", "role": "r", "skills": "x:1",
                          "hire_date": "2020-01-01", "contract_hours": 40, "ot_willing": "yes"})
    scores = pd.DataFrame({"task_id": [evil_task], "staff_id": [evil_staff], "score": [0.9]})
    paths = {k: tmp_path / f"{k}.csv" for k in ("tasks", "staff", "scores")}
    for k, df in (("tasks", tasks), ("staff", staff), ("scores", scores)):
        df.to_csv(paths[k], index=False)
    out = tmp_path / "out.csv"
    assert main(["assign", "--tasks", str(paths["tasks"]), "--staff", str(paths["staff"]), "--scores",
                 str(paths["scores"]), "--method", "greedy", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8-sig")
    rows = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    cells = set(rows["task_id"]) | set(rows["staff_id"])
    assert {"'" + evil_task, "'+T2", "'" + evil_staff} <= cells
    assert not any(c.startswith(("=", "+", "@", "-")) for c in cells)
    assert '"=HYPERLINK' not in text


def _cli_env(tmp_path) -> dict:
    import os
    import secrets

    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "APP_COOKIE_KEY": secrets.token_urlsafe(48), "MODELS_DIR": str(tmp_path / "models"),
            "OUTPUTS_DIR": str(tmp_path / "outputs"), "LOAD_DEMO_DATA": "false"}


def test_truncated_model_dir_is_refused_cleanly(files, ranker, tmp_path):
    """#20.5: `assign --model-dir DIR` with model.txt cut in half aborted the process (SIGABRT in LightGBM); the
    CLI now loads through the app's safe loader (subprocess check first) and falls back to the rules."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    _tmp, p = files
    model_dir = ranker[0].save(tmp_path / "model")
    text = (model_dir / "model.txt").read_bytes()
    (model_dir / "model.txt").write_bytes(text[: len(text) // 2])
    out = tmp_path / "o.csv"
    proc = subprocess.run([sys.executable, "-m", "src.cli", "assign", "--tasks", str(p["tasks"]), "--staff",
                           str(p["staff"]), "--method", "greedy", "--output", str(out), "--json", "--model-dir",
                           str(model_dir)], cwd=ROOT, env=_cli_env(tmp_path), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    summary = json.loads(proc.stdout)
    assert summary["scorer"] == "rules" and "corrupt" in summary["model_status"] and out.exists()


def test_model_dir_with_a_manifest_is_checked_against_it(files, ranker, ctx, tmp_path, capsys):
    """A copied version folder (with manifest.json) whose model.txt was modified is refused by its sha256."""
    model, _staff = ranker
    version = people._save_version(ctx, model, "test", {})
    (version.path / "metadata.json").write_text((version.path / "metadata.json").read_text() + " ", "utf-8")
    _tmp, p = files
    summary = _assign_json(p, tmp_path / "o.csv", capsys, "--model-dir", str(version.path))
    assert summary["scorer"] == "rules" and "does not match its sha256" in summary["model_status"]
