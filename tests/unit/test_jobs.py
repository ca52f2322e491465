"""Jobs in the database and the jobs service, without a cluster: the job runs in this process through
``run_job`` (what a Dask worker calls), so every rule is checked in milliseconds on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing as mp
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, update

from src.data import db, store
from src.data import forecast_store as fstore
from src.data import jobs_store as jstore
from src.services import compute
from src.services import jobs as svc
from src.services.context import Actor, PermissionDenied, ServiceError
from tests.conftest import ADMIN, PLANNER
from tests.unit.jobs_test_helpers import claim_all, register_test_kinds, unregister_test_kinds
from tests.unit.test_forecast_service import CALLS, UNIT, load_history

OTHER = Actor(username="olga", role="planner", display_name="Olga")
TRAIN = {"series_ids": [CALLS, UNIT], "horizon_days": 7, "model": "profile", "folds": 2}


@pytest.fixture
def inline(monkeypatch):
    """``compute.submit`` runs the task right here, synchronously (the worker's code path, no cluster)."""
    calls = []

    def run_now(settings, fn, *args, key, **kwargs):
        calls.append(key)
        fn(*args, **kwargs)

    monkeypatch.setattr(compute, "submit", run_now)
    return calls


@pytest.fixture
def parked(monkeypatch):
    """``compute.submit`` keeps the task for the test to run (or not) later."""
    tasks = []
    monkeypatch.setattr(compute, "submit", lambda settings, fn, *args, key, **kw: tasks.append((fn, args)))
    return tasks


@pytest.fixture
def test_kind():
    """``test.steps``: reports progress ``steps`` times, ``pause`` seconds apart."""
    register_test_kinds()
    yield
    unregister_test_kinds()


# ------------------------------------------------------------------------------------------------ schema

def test_upgrade_from_version_3_adds_the_jobs_table(app):
    with db.write_tx(app.engine) as conn:
        jstore.jobs.drop(conn)
        conn.execute(db.schema_version.delete())
        conn.execute(db.schema_version.insert().values(version=3, applied_at=db.utcnow()))
    assert "jobs" not in inspect(app.engine).get_table_names()
    assert db.init_schema(app.engine) == db.SCHEMA_VERSION >= 4
    assert "jobs" in inspect(app.engine).get_table_names()
    db.init_schema(app.engine)  # idempotent
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.schema_version)
                            .where(db.schema_version.c.version == db.SCHEMA_VERSION)).scalar() == 1


# -------------------------------------------------------------------------------------- store transitions

def _new(app, **kw) -> int:
    with db.write_tx(app.engine) as conn:
        return jstore.insert_job(conn, kind="test.steps", params={"steps": 1}, requested_by="pat",
                                 requested_role="planner", timeout_seconds=kw.pop("timeout", 60), **kw)


def test_claim_is_a_compare_and_swap_and_a_retry_is_allowed_once(app):
    jid = _new(app)
    state, job = jstore.claim(app.engine, jid)
    assert state == "claimed" and job["status"] == "running" and job["attempt"] == 1
    # Dask re-runs the task after its worker died: the running row is claimed once more, as attempt 2
    state, job = jstore.claim(app.engine, jid)
    assert state == "claimed" and job["attempt"] == 2 and "Retrying" in job["progress_text"]
    assert not jstore.report_progress(app.engine, jid, 1, 0.5, "the old attempt")  # the dead run has lost the row
    state, job = jstore.claim(app.engine, jid)  # a third run: attempts used up
    assert state == "exhausted" and job["status"] == "failed"
    assert "stopped 2 time(s)" in job["error"] and "Nothing was stored" in job["error"]
    assert jstore.claim(app.engine, jid)[0] == "final"
    assert jstore.claim(app.engine, 999_999)[0] == "missing"


def test_two_processes_never_claim_the_same_job(app):
    """Both processes try every job at the same moment; each job is claimed by exactly one of them."""
    ids = [_new(app, max_attempts=1) for _ in range(30)]
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    url = app.engine.url.render_as_string(hide_password=False)
    procs = [ctx.Process(target=claim_all, args=(url, ids, out)) for _ in range(2)]
    for p in procs:
        p.start()
    won = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert sorted(won[0] + won[1]) == ids and not set(won[0]) & set(won[1])
    assert all(j["attempt"] == 1 for j in jstore.list_jobs(app.engine, limit=100))


def test_finish_only_for_the_run_holding_the_job(app):
    jid = _new(app)
    jstore.claim(app.engine, jid)
    with db.write_tx(app.engine) as conn:
        assert jstore.cancel(conn, jid, "admin")
    with db.write_tx(app.engine) as conn:
        assert not jstore.finish(conn, jid, 1, "succeeded", result={"x": 1})
    job = jstore.get_job(app.engine, jid)
    assert job["status"] == "cancelled" and job["result"] is None and job["cancelled_by"] == "admin"


def test_expire_fails_silent_workers_and_cancels_overdue_jobs(app):
    silent, overdue, alive = _new(app), _new(app, timeout=5), _new(app)
    for jid in (silent, overdue, alive):
        jstore.claim(app.engine, jid)
    old = db.utcnow() - timedelta(minutes=10)
    with db.write_tx(app.engine) as conn:
        conn.execute(update(jstore.jobs).where(jstore.jobs.c.id == silent).values(heartbeat_at=old))
        conn.execute(update(jstore.jobs).where(jstore.jobs.c.id == overdue)
                     .values(started_at=db.utcnow() - timedelta(seconds=30)))
    assert sorted(jstore.expire_stale(app.engine, stale_after=timedelta(minutes=2))) == [silent, overdue]
    assert "stopped answering" in svc.get(app, PLANNER, silent)["error"]
    job = svc.get(app, PLANNER, overdue)
    assert job["status"] == "cancelled" and "time limit of 5 s" in job["error"]
    assert svc.get(app, PLANNER, alive)["status"] == "running"


# ------------------------------------------------------------------------------------------- the service

def test_forecast_training_job_stores_results_and_audits(app, inline):
    load_history(app)
    jid = svc.submit(app, PLANNER, "forecast.train", TRAIN)
    assert inline == [f"wfp-job-{jid}"]
    job = svc.get(app, PLANNER, jid)
    assert job["status"] == "succeeded" and job["progress"] == 1.0 and job["final"] and not job["can_cancel"]
    assert job["attempt"] == 1 and job["error"] is None and job["finished_at"] >= job["started_at"]
    runs = fstore.list_runs(app.engine)
    assert sorted(job["result"]["run_ids"]) == sorted(int(r["id"]) for r in runs)
    assert {s["series_id"] for s in job["result"]["series"]} == {CALLS, UNIT}
    assert job["params"] == {**TRAIN, "seed": 0, "history_end": None, "activate": None}
    events = store.audit_events(app.engine)
    assert {"job.submit", "forecast.train"} <= set(events["action"])
    assert set(events.loc[events["action"] == "forecast.train", "actor"]) == {"pat"}  # acted as the requester
    assert [j["id"] for j in svc.list_jobs(app, ADMIN, status="succeeded", kind="forecast.train")] == [jid]
    assert svc.list_jobs(app, ADMIN, status="failed") == []


def test_submit_checks_role_params_and_series_before_storing_anything(app, inline):
    load_history(app)
    with pytest.raises(ServiceError, match="Unknown job kind"):
        svc.submit(app, PLANNER, "nope", {})
    with pytest.raises(ServiceError, match="No stored history for series 'missing'"):
        svc.submit(app, PLANNER, "forecast.train", {**TRAIN, "series_ids": ["missing"]})
    with pytest.raises(ServiceError, match="horizon_days must be between 1 and 60"):
        svc.submit(app, PLANNER, "forecast.train", {**TRAIN, "horizon_days": 99})
    with pytest.raises(ServiceError, match="Unknown parameter"):
        svc.submit(app, PLANNER, "forecast.train", {**TRAIN, "n_jobs": 4})
    with pytest.raises(ServiceError, match="Only an administrator"):
        svc.submit(app, PLANNER, "forecast.train", {**TRAIN, "activate": True})
    with pytest.raises(ServiceError, match="time limit"):
        svc.submit(app, PLANNER, "forecast.train", TRAIN, timeout_seconds=0)
    assert jstore.list_jobs(app.engine) == [] and inline == []


def test_a_failing_job_says_why_and_stores_nothing(app, inline):
    load_history(app, weeks=3)  # too short for a 7-day horizon with 2 folds
    jid = svc.submit(app, PLANNER, "forecast.train", TRAIN)
    job = svc.get(app, PLANNER, jid)
    assert job["status"] == "failed" and job["error"].startswith("Nothing was trained.")
    assert fstore.list_runs(app.engine) == []


def test_cancel_is_for_the_requester_or_an_admin_and_audited(app, parked, test_kind):
    first = svc.submit(app, PLANNER, "test.steps", {"steps": 1, "pause": 0})
    with pytest.raises(PermissionDenied, match="Only pat"):
        svc.cancel(app, OTHER, first)
    assert svc.get(app, OTHER, first)["can_cancel"] is False and svc.get(app, ADMIN, first)["can_cancel"] is True
    job = svc.cancel(app, PLANNER, first)
    assert job["status"] == "cancelled" and job["cancelled_by"] == "pat" and job["final"]
    with pytest.raises(ServiceError, match="already finished"):
        svc.cancel(app, ADMIN, first)
    second = svc.submit(app, PLANNER, "test.steps", {"steps": 1, "pause": 0})
    assert svc.cancel(app, ADMIN, second)["cancelled_by"] == "admin"
    with pytest.raises(svc.UnknownJob):
        svc.cancel(app, ADMIN, 424242)
    events = store.audit_events(app.engine, action="job.cancel")
    assert sorted(events["actor"]) == ["admin", "pat"]
    fn, args = parked[0]
    assert fn(*args) == "final"  # the worker that finally gets the task runs nothing


def test_cancel_while_results_are_stored_rolls_the_training_back(app, inline, monkeypatch):
    """The cancel lands after the forecasts were computed, as they are written: nothing is stored."""
    load_history(app)
    original = svc.JobContext.progress

    def cancel_when_saving(self, fraction, text):
        if text.startswith("Saving"):
            with db.write_tx(self.engine) as conn:  # another process's cancel
                jstore.cancel(conn, self.job_id, "admin")
        return original(self, fraction, text)

    monkeypatch.setattr(svc.JobContext, "progress", cancel_when_saving)
    jid = svc.submit(app, PLANNER, "forecast.train", TRAIN)
    job = svc.get(app, PLANNER, jid)
    assert job["status"] == "cancelled" and job["result"] is None
    assert fstore.list_runs(app.engine) == []
    from src.services.forecasting import list_versions

    assert list_versions(app, ADMIN).empty  # the model versions saved before the cancel were removed again


def test_a_job_past_its_time_limit_is_cancelled(app, inline, test_kind):
    jid = svc.submit(app, PLANNER, "test.steps", {"steps": 40, "pause": 0.05}, timeout_seconds=1)
    job = svc.get(app, PLANNER, jid)
    assert job["status"] == "cancelled" and "time limit of 1 s" in job["error"] and job["result"] is None


def test_progress_is_stored_while_running(app, parked, test_kind):
    jid = svc.submit(app, PLANNER, "test.steps", {"steps": 3, "pause": 0.6})
    fn, args = parked[0]
    seen = []
    original = jstore.report_progress

    def spy(engine, job_id, attempt, fraction, text):
        ok = original(engine, job_id, attempt, fraction, text)
        row = jstore.get_job(engine, job_id)
        seen.append((row["status"], row["progress"], row["progress_text"]))
        return ok

    jstore.report_progress = spy
    try:
        assert fn(*args) == "succeeded"
    finally:
        jstore.report_progress = original
    assert [s[1] for s in seen] == pytest.approx([0, 1 / 3, 2 / 3]) and seen[1][2] == "step 1"
    assert all(s[0] == "running" for s in seen)
    assert svc.get(app, PLANNER, jid)["result"] == {"steps": 3}


def test_an_unreachable_cluster_fails_the_job_with_a_clear_message(app, monkeypatch, test_kind):
    from dataclasses import replace

    from src.services.context import AppContext

    monkeypatch.setattr(compute, "CONNECT_TIMEOUT", 1)
    far = AppContext(settings=replace(app.settings, dask_scheduler_address="tcp://127.0.0.1:9"), engine=app.engine)
    with pytest.raises(ServiceError, match="could not be started"):
        svc.submit(far, PLANNER, "test.steps", {"steps": 1, "pause": 0})
    job = jstore.list_jobs(app.engine)[0]
    assert job["status"] == "failed" and "compute cluster" in job["error"]


def test_polling_a_job_never_waits_for_a_writer(sqlite_app, parked, test_kind):
    """Pages poll jobs every second; reading one must not need the write lock a long upload may hold (SQLite)."""
    jid = svc.submit(sqlite_app, PLANNER, "test.steps", {"steps": 1, "pause": 0})
    jstore.claim(sqlite_app.engine, jid)
    import sqlite3

    writer = sqlite3.connect(sqlite_app.engine.url.database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        t0 = time.perf_counter()
        assert svc.get(sqlite_app, PLANNER, jid)["status"] == "running"
        assert [j["id"] for j in svc.list_jobs(sqlite_app, PLANNER)] == [jid]
        assert time.perf_counter() - t0 < 2
    finally:
        writer.execute("ROLLBACK")
        writer.close()
