"""The multi-machine path on one machine: `dask scheduler` and `dask worker` as separate processes on localhost
(what an operator starts on other machines), the app attached through DASK_SCHEDULER_ADDRESS, a forecast training
job run end to end. The worker learns the database and models folder from its own environment, not from the job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from src.data import forecast_store as fstore
from src.services import compute
from src.services import jobs as svc
from src.services.context import AppContext
from tests.conftest import PLANNER, ROOT, fresh_app
from tests.unit.test_forecast_service import CALLS, UNIT, load_history

DASK = [sys.executable, "-m", "dask"]


@pytest.fixture
def separate_cluster(tmp_path):
    """A scheduler and one worker (one thread) as child processes; yields (address, worker env setter)."""
    procs: list[subprocess.Popen] = []
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs.append(subprocess.Popen([*DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                   "--scheduler-file", str(sched_file)], env=env, cwd=ROOT,
                                  stdout=(logs / "scheduler.out").open("w"), stderr=subprocess.STDOUT))

    def start_worker(worker_env: dict[str, str]) -> str:
        end = time.monotonic() + 60
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert time.monotonic() < end and procs[0].poll() is None, (logs / "scheduler.out").read_text()
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        procs.append(subprocess.Popen([*DASK, "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                       "--no-dashboard", "--no-nanny", "--name", "operator-worker"],
                                      env={**env, **worker_env}, cwd=ROOT,
                                      stdout=(logs / "worker.out").open("w"), stderr=subprocess.STDOUT))
        return address

    yield start_worker
    compute.shutdown()
    for p in reversed(procs):
        p.terminate()
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


def test_forecast_job_on_a_separately_started_scheduler_and_worker(tmp_path: Path, separate_cluster):
    base = fresh_app("sqlite", tmp_path)
    address = separate_cluster({"DATABASE_URL": base.settings.database_url,
                                "MODELS_DIR": str(base.settings.models_dir), "LOAD_DEMO_DATA": "false"})
    app = AppContext(settings=replace(base.settings, dask_scheduler_address=address), engine=base.engine)
    load_history(app)
    compute.get_client(app.settings).wait_for_workers(1, timeout=60)
    jid = svc.submit(app, PLANNER, "forecast.train",
                     {"series_ids": [CALLS, UNIT], "horizon_days": 7, "model": "profile", "folds": 2})
    end = time.monotonic() + 90
    job = svc.get(app, PLANNER, jid)
    while not job["final"] and time.monotonic() < end:
        time.sleep(0.2)
        job = svc.get(app, PLANNER, jid)
    assert job["status"] == "succeeded", job
    assert sorted(r["series_id"] for r in fstore.list_runs(app.engine)) == sorted([CALLS, UNIT])
    workers = compute.get_client(app.settings).scheduler_info()["workers"]
    assert [w["name"] for w in workers.values()] == ["operator-worker"]  # it ran on the operator's worker
