"""``python -m src.cli jobs list|show|cancel`` on a stored job (no cluster needed: the jobs are only stored)."""

from __future__ import annotations

import json

import pytest

from src import cli
from src.data import db, store
from src.data import jobs_store as jstore
from src.services.context import set_app
from tests.conftest import fresh_app


@pytest.fixture
def cli_app(tmp_path):
    ctx = fresh_app("sqlite", tmp_path)
    set_app(ctx)
    with db.write_tx(ctx.engine) as conn:
        for _ in range(2):
            jstore.insert_job(conn, kind="forecast.train", params={"series_ids": ["x"]}, requested_by="pat",
                              requested_role="planner", timeout_seconds=60)
    yield ctx
    set_app(None)
    ctx.engine.dispose()


def test_list_show_cancel(cli_app, capsys):
    assert cli.main(["jobs", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 3 and lines[1].split()[:3] == ["2", "queued", "0.0%"] and "forecast.train" in lines[1]
    assert cli.main(["jobs", "cancel", "1"]) == 0
    assert "Job 1 cancelled (forecast.train, was requested by pat)" in capsys.readouterr().out
    assert cli.main(["jobs", "show", "1", "--json"]) == 0
    job = json.loads(capsys.readouterr().out)
    assert job["status"] == "cancelled" and job["cancelled_by"] == "system" and job["final"]
    assert cli.main(["jobs", "show", "1"]) == 0
    assert "status" in capsys.readouterr().out
    assert cli.main(["jobs", "list", "--status", "queued", "--json"]) == 0
    assert [j["id"] for j in json.loads(capsys.readouterr().out)] == [2]
    events = store.audit_events(cli_app.engine, action="job.cancel")
    assert list(events["actor"]) == ["system"]


def test_errors_exit_1_with_a_message(cli_app, capsys):
    assert cli.main(["jobs", "show", "99"]) == 1
    assert "There is no job 99" in capsys.readouterr().err
    cli.main(["jobs", "cancel", "2"])
    capsys.readouterr()
    assert cli.main(["jobs", "cancel", "2"]) == 1
    assert "already finished" in capsys.readouterr().err
    assert cli.main(["jobs", "list", "--kind", "nope"]) == 1
    assert "Unknown job kind" in capsys.readouterr().err
