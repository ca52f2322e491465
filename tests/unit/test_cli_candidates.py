"""#13.19: every candidate of a preview's tasks — one scoring per preview (not per task), the CLI command."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from src.cli import main
from src.data import people_store as ps
from src.data.demo import DemoConfig, generate_demo
from src.models.ranking import ScorerSettings
from src.services import data as data_service
from src.services import people
from src.services.context import set_app
from src.services.people import explain as explain_mod
from tests.conftest import ADMIN, PLANNER

START = date(2026, 11, 2)


@pytest.fixture(scope="module")
def frames():
    f = generate_demo(DemoConfig(n_staff=30, n_assignments=1500, n_overtime_requests=0, years=1.0))
    return {k: f[k] for k in ("staff", "assignments")}


@pytest.fixture
def preview(sqlite_app, frames):
    for kind in ("staff", "assignments"):
        data_service.ingest_frame(sqlite_app, ADMIN, kind=kind, frame=frames[kind], name=f"test:{kind}")
    people.generate_demo_tasks(sqlite_app, PLANNER, start=START, days=3, n_tasks=12, seed=5)
    view = people.create_preview(sqlite_app, PLANNER, options=people.PreviewOptions(method="greedy"))
    set_app(sqlite_app)
    yield sqlite_app, int(view.preview["id"]), view.rows["task_id"].tolist()
    set_app(None)


def test_history_and_staff_are_loaded_once_per_preview(preview, monkeypatch):
    """Explaining each task used to reload staff and the whole history and score again (0.37 s per task on the
    demo data); now once per preview, and again only after a change."""
    app, pid, ids = preview
    calls = {"history": 0}
    real = people._history

    def counting(a):
        calls["history"] += 1
        return real(a)

    monkeypatch.setattr(explain_mod, "_history", counting)  # looked up where the preview is scored
    people._preview_scoring_cache.clear()
    for tid in ids:
        people.explain_task(app, PLANNER, pid, tid)
    people.task_candidates(app, PLANNER, pid)
    assert calls["history"] == 1
    people.update_scorer_settings(app, ADMIN, ScorerSettings(ml_enabled=False))  # a change: scored again
    people.explain_task(app, PLANNER, pid, ids[0])
    assert calls["history"] == 2


def test_whole_preview_scoring_equals_scoring_each_task_alone(preview):
    """A task's scores do not depend on the preview's other tasks: the shared scoring gives what the per-task
    rescoring gave."""
    app, pid, ids = preview
    prev = ps.get_preview(app.engine, pid)
    options = people._options_of(prev)
    w = prev["summary"]["window"]
    staff = people._staff_for_window(app, pd.Timestamp(w[0]), pd.Timestamp(w[1]), options)
    for tid in ids[:4]:
        one = ps.load_tasks(app.engine, status=None, task_ids=[tid])[ps.TASK_COLUMNS]
        alone, *_ = people._score(app, one, staff, people._history(app), options, pd.Timestamp(prev["scored_as_of"]))
        panel = people.explain_task(app, PLANNER, pid, tid)["candidates"]
        expect = alone.scores.sort_values("rank")
        assert panel["staff_id"].tolist() == expect["staff_id"].tolist()
        assert panel["score"].to_numpy() == pytest.approx(expect["score"].to_numpy())


def test_cli_candidates_json_and_text(preview, capsys):
    app, pid, ids = preview
    assert main(["candidates", str(pid), "--task", ids[0], "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc) == 1 and doc[0]["preview_id"] == pid and doc[0]["task_id"] == ids[0]
    panel = people.explain_task(app, PLANNER, pid, ids[0])
    assert [c["staff_id"] for c in doc[0]["candidates"]] == panel["candidates"]["staff_id"].tolist()
    assert all(c["rules"] for c in doc[0]["candidates"])
    assert main(["candidates", str(pid), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert all(f"task {t} " in out for t in ids) and "1. " in out and "excluded" in out


@pytest.mark.parametrize("argv,message", [
    (["candidates", "999"], "Preview 999 does not exist"),
    (["candidates", "{pid}", "--task", "NOPE"], "Task NOPE is not part of preview"),
])
def test_cli_candidates_unknown_preview_or_task_exit_2(preview, capsys, argv, message):
    _app, pid, _ids = preview
    assert main([a.replace("{pid}", str(pid)) for a in argv]) == 2
    assert message in capsys.readouterr().err
