"""Where background jobs run: a Dask distributed cluster — an existing one or an embedded local one.

``DASK_SCHEDULER_ADDRESS`` set (``Settings.dask_scheduler_address``): the app, the REST API and the CLI attach to
that scheduler as clients; its workers (``dask worker tcp://host:8786`` started in this project's folder, on any
machine) run the jobs and need this project's code, its requirements and the same ``DATABASE_URL``/``MODELS_DIR``
(and ``MODEL_SIGNING_KEY`` when set) in their environment — the job itself carries no credentials.

Unset: the first job submitted by a process starts an embedded ``LocalCluster`` (worker *processes*, one thread
each, ``DASK_LOCAL_WORKERS`` of them or one per core) that lives as long as that process; ``make run`` needs
nothing else. Its workers are children of this process, so the job tells them the database URL and models folder
of the submitting app.

Why Dask and not a thread of the web server: a thread dies with the server, cannot be seen by another replica or
the API, and cannot use a second machine. Dask re-runs a task whose worker died (see ``jobs_store.claim`` for how
that becomes "retried once"), ships each series to whichever worker is free, and runs unchanged on one laptop or
on a cluster.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from src.settings import Settings

log = logging.getLogger(__name__)

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_cluster: Any = None
#: seconds to wait for an external scheduler before a submission fails with a clear message
CONNECT_TIMEOUT = 10


class ComputeUnavailable(RuntimeError):
    """The Dask cluster cannot be reached or started; the message says which and how to fix it."""


def local_worker_count(settings: Settings) -> int:
    """Worker processes of the embedded cluster: ``DASK_LOCAL_WORKERS`` or one per core (at least 1)."""
    return int(settings.dask_local_workers) or max(1, os.cpu_count() or 1)


def is_embedded(settings: Settings) -> bool:
    return not settings.dask_scheduler_address


def get_client(settings: Settings) -> Any:
    """This process's Dask client for ``settings`` (created once, then reused; thread-safe)."""
    global _cluster
    key = settings.dask_scheduler_address or "embedded"
    with _lock:
        client = _clients.get(key)
        if client is not None and client.status == "running":
            return client
        from distributed import Client, LocalCluster

        try:
            if settings.dask_scheduler_address:
                client = Client(settings.dask_scheduler_address, timeout=CONNECT_TIMEOUT, set_as_default=False)
            else:
                if _cluster is None:
                    n = local_worker_count(settings)
                    _cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                            dashboard_address=None, silence_logs=logging.WARNING)
                    log.info("embedded Dask cluster started: %d worker process(es) at %s", n,
                             _cluster.scheduler_address)
                client = Client(_cluster, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            where = settings.dask_scheduler_address or "the embedded local cluster"
            raise ComputeUnavailable(f"The compute cluster ({where}) cannot be reached: {exc}. Check "
                                     "DASK_SCHEDULER_ADDRESS and that `dask scheduler` is running.") from None
        _clients[key] = client
        return client


def submit(settings: Settings, fn: Any, *args: Any, key: str, **kwargs: Any) -> None:
    """Run ``fn(*args, **kwargs)`` on the cluster without waiting for it (fire and forget).

    ``key`` names the task on the cluster: a second submission of the same key while the first is still known to
    the scheduler is the same task, not a second run.
    """
    from distributed import fire_and_forget

    client = get_client(settings)
    fire_and_forget(client.submit(fn, *args, key=key, pure=False, **kwargs))


def shutdown() -> None:
    """Close this process's clients and the embedded cluster (tests, and a clean server stop)."""
    global _cluster
    with _lock:
        for client in _clients.values():
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                log.debug("closing a Dask client failed", exc_info=True)
        _clients.clear()
        if _cluster is not None:
            try:
                _cluster.close()
            except Exception:  # noqa: BLE001
                log.debug("closing the embedded Dask cluster failed", exc_info=True)
            _cluster = None
