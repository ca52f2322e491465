"""Jobs on a real Dask cluster: the embedded local cluster (two worker processes, started once for the module)
runs forecast training end to end, honours a cancel, survives a worker killed mid-job (retried once, nothing
stored twice) and gives up with a clear message when the worker dies again."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace

import pytest

from src.data import forecast_store as fstore
from src.services import compute
from src.services import jobs as svc
from src.services.context import AppContext
from tests.conftest import BACKENDS, PLANNER, fresh_app
from tests.unit.jobs_test_helpers import TestKindsPlugin, register_test_kinds, unregister_test_kinds
from tests.unit.test_forecast_service import CALLS, UNIT, load_history

UNIT2 = "care:Haus Test/Station 2"


@pytest.fixture(scope="module")
def cluster():
    """The embedded cluster exactly as the app starts it (two single-threaded worker processes)."""
    register_test_kinds()
    settings = fresh_app("sqlite", _module_tmp()).settings
    client = compute.get_client(replace(settings, dask_local_workers=2))
    client.register_plugin(TestKindsPlugin())
    client.wait_for_workers(2, timeout=60)
    yield client
    compute.shutdown()
    unregister_test_kinds()


def _module_tmp():
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp(prefix="wfp-jobs-dask-"))


@pytest.fixture(params=BACKENDS)
def capp(request, tmp_path, cluster) -> AppContext:
    app = fresh_app(request.param, tmp_path, dask_local_workers=2)
    yield app
    app.engine.dispose()


def _wait(app, jid: int, until, timeout: float = 60.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = svc.get(app, PLANNER, jid)
        if until(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {jid} never reached the expected state: {job}")


def _kill_worker_running(client, jid: int) -> None:
    """kill -9 the worker process that is running job ``jid``'s task (its nanny starts a new one)."""
    key = f"wfp-job-{jid}"
    end = time.monotonic() + 30
    while time.monotonic() < end:
        where = [addr for addr, keys in client.processing().items() if key in keys]
        if where:
            pid = client.run(os.getpid, workers=where)[where[0]]
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)
    raise AssertionError(f"no worker is running {key}")


@pytest.mark.parametrize("capp", ["sqlite"], indirect=True)
def test_forecast_training_job_runs_its_series_as_tasks_on_the_cluster(capp, cluster):
    load_history(capp)
    jid = svc.submit(capp, PLANNER, "forecast.train",
                     {"series_ids": [CALLS, UNIT, UNIT2], "horizon_days": 7, "model": "profile", "folds": 2})
    job = _wait(capp, jid, lambda j: j["final"])
    assert job["status"] == "succeeded", job["error"]
    assert len(job["result"]["run_ids"]) == 3 and job["attempt"] == 1
    runs = fstore.list_runs(capp.engine)
    assert sorted(r["series_id"] for r in runs) == sorted([CALLS, UNIT, UNIT2])
    stories = cluster.run_on_scheduler(lambda dask_scheduler: [t[0] for t in dask_scheduler.transition_log])
    assert any(str(k).startswith(f"wfp-job-{jid}-a1-series-") for k in stories)  # one task per series


def test_cancel_stops_a_running_job_on_a_worker(capp, cluster):
    jid = svc.submit(capp, PLANNER, "test.steps", {"steps": 100, "pause": 0.1})
    _wait(capp, jid, lambda j: j["status"] == "running" and j["progress"] > 0)
    assert svc.cancel(capp, PLANNER, jid)["status"] == "cancelled"
    time.sleep(1.0)  # the worker sees the cancel at its next progress report and stops
    job = svc.get(capp, PLANNER, jid)
    assert job["status"] == "cancelled" and job["result"] is None and job["progress"] < 0.5
    assert f"wfp-job-{jid}" not in {k for keys in cluster.processing().values() for k in keys}


def test_a_worker_killed_mid_job_is_retried_once_and_stores_once(capp, cluster):
    load_history(capp)
    jid = svc.submit(capp, PLANNER, "test.slow_train",
                     {"series_ids": [CALLS], "horizon_days": 7, "model": "profile", "folds": 2, "pause": 1.0})
    _wait(capp, jid, lambda j: j["status"] == "running" and 0 < j["progress"] < 0.95)
    _kill_worker_running(cluster, jid)
    job = _wait(capp, jid, lambda j: j["final"], timeout=90)
    assert job["status"] == "succeeded" and job["attempt"] == 2, job["error"]
    assert [r["series_id"] for r in fstore.list_runs(capp.engine)] == [CALLS]  # stored once, not twice


@pytest.mark.parametrize("capp", ["sqlite"], indirect=True)
def test_a_job_whose_worker_dies_twice_fails_with_a_clear_message(capp, cluster):
    load_history(capp)
    jid = svc.submit(capp, PLANNER, "test.slow_train",
                     {"series_ids": [CALLS], "horizon_days": 7, "model": "profile", "folds": 2, "pause": 1.0})
    for attempt in (1, 2):
        _wait(capp, jid, lambda j, a=attempt: j["attempt"] == a and j["status"] == "running"
              and 0 < j["progress"] < 0.95, timeout=90)
        _kill_worker_running(cluster, jid)
    job = _wait(capp, jid, lambda j: j["final"], timeout=90)
    assert job["status"] == "failed" and "stopped 2 time(s)" in job["error"] and "Nothing was stored" in job["error"]
    assert fstore.list_runs(capp.engine) == []
    cluster.wait_for_workers(2, timeout=60)  # the nannies brought both workers back: the app stays usable
