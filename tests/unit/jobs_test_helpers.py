"""Code the job tests need inside other processes (spawned claimers, Dask workers).

A module of its own, with light imports, because a child process imports only what it runs: the claim race's
children import this module and the store, not the whole test suite.
"""

from __future__ import annotations

import time
from typing import Any

from src.data import db
from src.data import jobs_store as jstore


def claim_all(url: str, ids: list[int], out: Any) -> None:
    """Try to claim every job in ``ids``; put the ids this process won on ``out`` (a multiprocessing queue)."""
    engine = db.make_engine(url)
    out.put([jid for jid in ids if jstore.claim(engine, jid)[0] == "claimed"])


def _steps(app: Any, actor: Any, params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    for i in range(params["steps"]):
        ctx.progress(i / params["steps"], f"step {i}")
        time.sleep(params["pause"])
    return {"steps": params["steps"]}


def _slow_train(app: Any, actor: Any, params: dict[str, Any], ctx: Any) -> None:
    """forecast.train with every progress report slowed down, so a test can act while the series is being fitted."""
    from src.services import jobs

    report = ctx.progress

    def slow(fraction: float, text: str) -> None:
        report(fraction, text)
        if fraction < 0.95:  # before anything is saved
            time.sleep(params.get("pause", 1.0))

    ctx.progress = slow
    slow(0.01, "warming up")
    clean = {k: v for k, v in params.items() if k != "pause"}
    jobs._run_forecast_train(app, actor, clean, ctx)


def register_test_kinds() -> None:
    """``test.steps`` (progress ``steps`` times, ``pause`` s apart) and ``test.slow_train`` in this process."""
    from src.services import jobs

    jobs.register_kind(jobs.JobKind(name="test.steps", label="Test steps", roles=("planner",), timeout_seconds=60,
                                    validate=lambda app, actor, p: p, run=_steps))
    jobs.register_kind(jobs.JobKind(name="test.slow_train", label="Slow training", roles=("planner",),
                                    timeout_seconds=300, validate=lambda app, actor, p: p, run=_slow_train))


def unregister_test_kinds() -> None:
    from src.services import jobs

    for name in ("test.steps", "test.slow_train"):
        jobs.KINDS.pop(name, None)


try:
    from distributed.diagnostics.plugin import WorkerPlugin

    class TestKindsPlugin(WorkerPlugin):
        """Registers the test kinds on every worker, including one the nanny restarts after a kill."""

        name = "wfp-test-kinds"

        def setup(self, worker: Any) -> None:
            register_test_kinds()
except ImportError:  # pragma: no cover - distributed is pinned
    pass
