"""Background jobs: submit long work, follow its progress, cancel it — from the app, the REST API or the CLI.

The surface (plain values in, JSON-able dicts out; roles checked here, :class:`ServiceError` for bad input):

- ``submit(app, actor, kind, params, *, timeout_seconds=None) -> int`` — validate ``params`` for ``kind``, store a
  ``queued`` job (audited ``job.submit``), hand it to the Dask cluster (:mod:`src.services.compute`); the job id.
- ``get(app, actor, job_id) -> dict`` — one job (see :func:`job_view` for the fields; ``progress`` 0–1 and
  ``progress_text`` are what a page polls). :class:`UnknownJob` (a ServiceError) when there is none.
- ``list_jobs(app, actor, status=None, kind=None, limit=100) -> list[dict]`` — newest first.
- ``cancel(app, actor, job_id) -> dict`` — the requester or an admin; audited ``job.cancel``. A running job stops at
  its next progress report and stores nothing.

A job's work is a plain service call run by :func:`run_job` on a Dask worker: it claims the row (one claim wins,
see :mod:`src.data.jobs_store`), runs the kind's function with a :class:`JobContext` whose ``progress`` callback
writes progress to the row and raises :class:`JobStopped` once the job was cancelled or ran out of time, and stores
the results and the ``succeeded`` status in one transaction. Nothing here imports Streamlit.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from src.data import db, store
from src.data import jobs_store as jstore
from src.services import compute
from src.services.context import Actor, AppContext, PermissionDenied, ServiceError, require_role

log = logging.getLogger(__name__)

#: a running job whose worker gave no sign of life for this long is reported failed (its worker is gone)
STALE_AFTER_SECONDS = 120
#: how often a running job's worker writes its heartbeat (between progress reports)
HEARTBEAT_SECONDS = 10
#: progress is written at most this often (each write is one small UPDATE; the engine reports many steps)
PROGRESS_EVERY_SECONDS = 0.5
MAX_TIMEOUT_SECONDS = 24 * 3600
MAX_LIST = 1000


class UnknownJob(ServiceError):
    """No job has this id (its own type so the REST API can answer 404)."""


class JobStopped(Exception):  # noqa: N818 - a signal, not an error of the job's own making
    """Raised inside a running job when it must stop: cancelled, past its time limit, or no longer this run's.

    Deliberately not a ``ValueError``/``ServiceError``: services turn those into user messages, and a stop must
    travel up to :func:`run_job` untouched (rolling back any open transaction on the way).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# ------------------------------------------------------------------------------------------------- kinds

@dataclass(frozen=True)
class JobKind:
    """What a kind of job is: who may submit it, its time limit, how its parameters are checked and its work."""

    name: str
    label: str
    roles: tuple[str, ...]
    timeout_seconds: int
    #: (app, actor, params) -> cleaned JSON-able params; ServiceError for bad input (checked at submit time)
    validate: Callable[[AppContext, Actor, dict[str, Any]], dict[str, Any]]
    #: (app, actor, params, ctx) -> result dict (JSON-able) — or None after calling ``ctx.commit`` itself
    run: Callable[[AppContext, Actor, dict[str, Any], JobContext], dict[str, Any] | None]


KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> None:
    KINDS[kind.name] = kind


def _kind(name: str) -> JobKind:
    try:
        return KINDS[str(name)]
    except KeyError:
        raise ServiceError(f"Unknown job kind {name!r}; choose one of: {', '.join(sorted(KINDS))}.") from None


# ------------------------------------------------------------------------------------------- running

class JobContext:
    """Handed to a job's function on the worker: progress reporting, cancellation checks, the final commit."""

    def __init__(self, engine: Engine, job: dict[str, Any]) -> None:
        self.engine = engine
        self.job_id = int(job["id"])
        self.attempt = int(job["attempt"])
        self.timeout_seconds = int(job["timeout_seconds"])
        self.started = time.monotonic()
        self.committed = False
        self._stop: JobStopped | None = None
        self._last_write = 0.0

    def request_stop(self, stop: JobStopped) -> None:
        """Ask the job to stop at its next progress report (the heartbeat thread found the job cancelled)."""
        self._stop = stop

    def check(self) -> None:
        """Raise :class:`JobStopped` when the job must stop (cancel seen, time limit passed)."""
        if self.committed:
            return
        if self._stop is not None:
            raise self._stop
        if time.monotonic() - self.started > self.timeout_seconds:
            raise JobStopped("timeout", f"Cancelled: it ran past its time limit of {self.timeout_seconds} s.")

    def progress(self, fraction: float, text: str) -> None:
        """The ``on_progress(fraction, text)`` callback of services and the engine; raises to stop the work."""
        if self.committed:
            return  # results are stored; the service's last "Done" has nothing left to say
        self.check()
        now = time.monotonic()
        if now - self._last_write < PROGRESS_EVERY_SECONDS and fraction < 1.0:
            return
        self._last_write = now
        if not jstore.report_progress(self.engine, self.job_id, self.attempt, fraction, text):
            raise JobStopped("cancelled", "Cancelled while running; nothing was stored.")

    def commit(self, conn: Connection, result: dict[str, Any]) -> None:
        """Mark the job succeeded inside ``conn``'s transaction, the one that stores its results.

        Raises :class:`JobStopped` (rolling that transaction back) when the job was cancelled meanwhile: a
        cancelled job stores nothing, even when the cancel arrives while its results are being written.
        """
        self.check()
        if not jstore.finish(conn, self.job_id, self.attempt, "succeeded", result=result):
            raise JobStopped("cancelled", "Cancelled while its results were being stored; nothing was stored.")
        self.committed = True


def _heartbeat(ctx: JobContext, done: threading.Event) -> None:
    """Keep the row's heartbeat fresh during long single steps; notice a cancel between progress reports."""
    while not done.wait(HEARTBEAT_SECONDS):
        try:
            if not jstore.heartbeat(ctx.engine, ctx.job_id, ctx.attempt):
                ctx.request_stop(JobStopped("cancelled", "Cancelled while running; nothing was stored."))
                return
        except Exception:  # noqa: BLE001 - a missed heartbeat is not worth killing the job over
            log.warning("job %s: heartbeat failed", ctx.job_id, exc_info=True)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _worker_app(database_url: str | None, models_dir: str | None) -> AppContext:
    """The application context of a worker process: the database and models folder it was told about, else those
    of its own environment (``DATABASE_URL``, ``MODELS_DIR``, or a ``.env`` in the project folder).

    The worker never issues login cookies, so its settings get a throw-away random cookie key.
    """
    from dotenv import load_dotenv

    from src.settings import ROOT, Settings, default_database_url

    load_dotenv(ROOT / ".env", override=False)
    url = database_url or os.environ.get("DATABASE_URL") or default_database_url()
    models = Path(models_dir) if models_dir else Path(os.environ.get("MODELS_DIR") or ROOT / "models")
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = db.make_engine(url)
    settings = Settings(database_url=url, cookie_key=secrets.token_urlsafe(48), models_dir=models,
                        load_demo_data=False)
    return AppContext(settings=settings, engine=engine)


def run_job(job_id: int, database_url: str | None = None, models_dir: str | None = None) -> str:
    """Run job ``job_id`` here (a Dask worker); returns how it ended (``succeeded``, ``failed``, ``cancelled``, or
    why it was not run: ``final``, ``exhausted``, ``missing``, ``lost``).

    Never raises for the job's own failures: they are written to the row. Dask only sees an exception when the
    database itself is unreachable.
    """
    app = _worker_app(database_url, models_dir)
    state, job = jstore.claim(app.engine, job_id)
    if state != "claimed" or job is None:
        log.info("job %s not run: %s", job_id, state)
        return state
    ctx = JobContext(app.engine, job)
    log.info("job %s (%s) attempt %d started", job_id, job["kind"], ctx.attempt)
    done = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(ctx, done), name=f"job-{job_id}-heartbeat", daemon=True)
    beat.start()
    try:
        kind = _kind(job["kind"])
        actor = Actor(username=job["requested_by"], role=job["requested_role"])
        result = kind.run(app, actor, job["params"], ctx)
        if not ctx.committed:
            with db.write_tx(app.engine) as conn:
                ctx.commit(conn, result or {})
        outcome = "succeeded"
    except JobStopped as stop:
        outcome = "cancelled"
        if stop.reason == "timeout":
            with db.write_tx(app.engine) as conn:
                jstore.cancel(conn, job_id, "system", reason=str(stop))
        log.info("job %s stopped: %s", job_id, stop)
    except (ServiceError, PermissionDenied) as exc:
        outcome = "failed"
        jstore.fail(app.engine, job_id, str(exc), attempt=ctx.attempt)
        log.info("job %s failed: %s", job_id, exc)
    except Exception as exc:  # noqa: BLE001 - anything else is a bug: a clear row, the traceback in the log
        outcome = "failed"
        log.exception("job %s failed unexpectedly", job_id)
        jstore.fail(app.engine, job_id, f"Unexpected error ({type(exc).__name__}: {str(exc)[:300]}); nothing was "
                                        "stored. The worker log has the details.", attempt=ctx.attempt)
    finally:
        done.set()
    log.info("job %s %s after %.1f s", job_id, outcome, time.monotonic() - ctx.started)
    return outcome


def dispatch(app: AppContext, job_id: int) -> None:
    """Hand a stored job to the cluster; on failure the job is marked failed and ServiceError says why."""
    embedded = compute.is_embedded(app.settings)
    # an embedded cluster's workers are this process's children: tell them this app's database and models folder.
    # An external cluster's workers use their own configuration (no credentials travel with the job).
    url = app.engine.url.render_as_string(hide_password=False) if embedded else None
    models = str(app.settings.models_dir) if embedded else None
    try:
        compute.submit(app.settings, run_job, int(job_id), url, models, key=f"wfp-job-{int(job_id)}")
    except Exception as exc:  # noqa: BLE001 - whatever stops the hand-over, the job must not stay "queued"
        message = str(exc) if isinstance(exc, compute.ComputeUnavailable) else f"{type(exc).__name__}: {exc}"
        jstore.fail(app.engine, job_id, f"Could not hand the job to the compute cluster: {message}")
        log.warning("job %s could not be dispatched: %s", job_id, message)
        raise ServiceError(f"Job {job_id} could not be started: {message}") from None


# ------------------------------------------------------------------------------------------ the surface

def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime | date) else value


def job_view(job: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """The JSON-able public form of a job row.

    Fields: ``id, kind, label, status, progress (0–1), progress_text, requested_by, created_at, started_at,
    finished_at`` (ISO 8601, UTC), ``params, result`` (dict or None; ``forecast.train``: ``run_ids``, ``series``,
    ``message``), ``error`` (None or a sentence for people), ``attempt, max_attempts, timeout_seconds,
    cancelled_by``, ``final`` (no longer changes), ``can_cancel`` (this actor may cancel it now).
    """
    kind = KINDS.get(job["kind"])
    final = job["status"] in jstore.FINAL
    return {
        "id": int(job["id"]), "kind": job["kind"], "label": kind.label if kind else job["kind"],
        "status": job["status"], "progress": float(job["progress"]), "progress_text": job["progress_text"] or "",
        "requested_by": job["requested_by"], "created_at": _iso(job["created_at"]),
        "started_at": _iso(job["started_at"]), "finished_at": _iso(job["finished_at"]),
        "params": job["params"], "result": job["result"], "error": job["error"], "attempt": int(job["attempt"]),
        "max_attempts": int(job["max_attempts"]), "timeout_seconds": int(job["timeout_seconds"]),
        "cancelled_by": job["cancelled_by"], "final": final,
        "can_cancel": (not final) and (actor.is_admin or actor.username == job["requested_by"]),
    }


def _expire(app: AppContext) -> None:
    jstore.expire_stale(app.engine, stale_after=timedelta(seconds=STALE_AFTER_SECONDS))


def submit(app: AppContext, actor: Actor, kind: str, params: dict[str, Any] | None = None, *,
           timeout_seconds: int | None = None) -> int:
    """Store a job of ``kind`` and start it on the cluster; returns its id at once (the work runs elsewhere)."""
    spec = _kind(kind)
    require_role(actor, *spec.roles)
    if params is not None and not isinstance(params, dict):
        raise ServiceError("Job parameters must be an object of named values.")
    clean = spec.validate(app, actor, dict(params or {}))
    try:
        json.dumps(clean)
    except (TypeError, ValueError):
        raise ServiceError("Job parameters must be plain values (text, numbers, lists).") from None
    timeout = spec.timeout_seconds if timeout_seconds is None else timeout_seconds
    try:
        timeout = int(timeout)
    except (TypeError, ValueError):
        raise ServiceError("The time limit must be a whole number of seconds.") from None
    if not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
        raise ServiceError(f"The time limit must be between 1 and {MAX_TIMEOUT_SECONDS} seconds (got {timeout}).")
    with db.write_tx(app.engine) as conn:
        job_id = jstore.insert_job(conn, kind=spec.name, params=clean, requested_by=actor.username,
                                   requested_role=actor.role, timeout_seconds=timeout)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="job.submit", object_type="job",
                          object_id=job_id, detail={"kind": spec.name, "params": clean, "timeout_seconds": timeout})
    log.info("job %s (%s) submitted by %s", job_id, spec.name, actor.username)
    dispatch(app, job_id)
    return job_id


def get(app: AppContext, actor: Actor, job_id: int) -> dict[str, Any]:
    """One job as :func:`job_view` describes it (planners and admins see every job)."""
    require_role(actor, "planner", "admin")
    _expire(app)
    job = jstore.get_job(app.engine, _job_id(job_id))
    if job is None:
        raise UnknownJob(f"There is no job {job_id}.")
    return job_view(job, actor)


def list_jobs(app: AppContext, actor: Actor, *, status: str | None = None, kind: str | None = None,
              limit: int = 100) -> list[dict[str, Any]]:
    """Jobs, newest first, optionally of one status and/or kind."""
    require_role(actor, "planner", "admin")
    if status and status not in jstore.STATUSES:
        raise ServiceError(f"Unknown job status {status!r}; choose one of: {', '.join(jstore.STATUSES)}.")
    if kind:
        _kind(kind)
    if not 1 <= int(limit) <= MAX_LIST:
        raise ServiceError(f"limit must be between 1 and {MAX_LIST}.")
    _expire(app)
    return [job_view(j, actor) for j in jstore.list_jobs(app.engine, status=status or None, kind=kind or None,
                                                         limit=int(limit))]


def cancel(app: AppContext, actor: Actor, job_id: int) -> dict[str, Any]:
    """Cancel a queued or running job (its requester or an admin); returns the job as it is now."""
    require_role(actor, "planner", "admin")
    jid = _job_id(job_id)
    job = jstore.get_job(app.engine, jid)
    if job is None:
        raise UnknownJob(f"There is no job {job_id}.")
    if not (actor.is_admin or actor.username == job["requested_by"]):
        raise PermissionDenied(f"Only {job['requested_by']} (who started job {jid}) or an administrator can "
                               "cancel it.")
    if job["status"] in jstore.FINAL:
        raise ServiceError(f"Job {jid} has already finished ({job['status']}); there is nothing to cancel.")
    with db.write_tx(app.engine) as conn:
        if not jstore.cancel(conn, jid, actor.username):
            raise ServiceError(f"Job {jid} finished before it could be cancelled.")
        store.write_audit(conn, actor=actor.username, role=actor.role, action="job.cancel", object_type="job",
                          object_id=jid, detail={"kind": job["kind"], "was": job["status"],
                                                 "progress": float(job["progress"])})
    log.info("job %s cancelled by %s", jid, actor.username)
    return get(app, actor, jid)


def _job_id(value: Any) -> int:
    try:
        jid = int(value)
    except (TypeError, ValueError):
        raise ServiceError(f"A job id is a whole number, not {value!r}.") from None
    if not 1 <= jid <= 2**31 - 1:
        raise UnknownJob(f"There is no job {value}.")
    return jid


# ------------------------------------------------------------------------------- kind: forecast.train

FORECAST_TRAIN_PARAMS = ("series_ids", "horizon_days", "model", "folds", "history_end", "activate", "seed")


def _validate_forecast_train(app: AppContext, actor: Actor, params: dict[str, Any]) -> dict[str, Any]:
    """The checks ``train_forecasts`` would make first, done at submit time so a bad request fails at once."""
    from src.services import forecasting as fc

    unknown = sorted(set(params) - set(FORECAST_TRAIN_PARAMS))
    if unknown:
        raise ServiceError(f"Unknown parameter(s) for forecast.train: {', '.join(unknown)}; expected: "
                           f"{', '.join(FORECAST_TRAIN_PARAMS)}.")
    raw_ids = params.get("series_ids")
    if isinstance(raw_ids, str):
        raw_ids = [raw_ids]
    if not isinstance(raw_ids, list | tuple) or not raw_ids or not all(isinstance(s, str) for s in raw_ids):
        raise ServiceError("series_ids must be a non-empty list of series ids (or unambiguous queue names).")
    ids = []
    for name in dict.fromkeys(raw_ids):
        info = fc.resolve_series(app, name)
        if info is None:
            raise ServiceError(f"No stored history for series {name!r}.")
        ids.append(info.series_id)
    if len(ids) > fc.MAX_SERIES_PER_RUN:
        raise ServiceError(f"Choose at most {fc.MAX_SERIES_PER_RUN} series per training run (got {len(ids)}).")
    model = params.get("model", "auto")
    if model not in fc.MODEL_CHOICES:
        raise ServiceError(f"Unknown model {model!r}; choose one of: {', '.join(fc.MODEL_CHOICES)}.")
    ints = {}
    for name, default, low, high in (("horizon_days", None, 1, fc.MAX_HORIZON_DAYS), ("folds", 3, 1, fc.MAX_FOLDS),
                                     ("seed", 0, 0, 2**31 - 1)):
        value = params.get(name, default)
        if value is None or isinstance(value, bool) or not isinstance(value, int | str):
            raise ServiceError(f"{name} must be a whole number between {low} and {high}.")
        try:
            value = int(value)
        except ValueError:
            raise ServiceError(f"{name} must be a whole number between {low} and {high}.") from None
        if not low <= value <= high:
            raise ServiceError(f"{name} must be between {low} and {high} (got {value}).")
        ints[name] = value
    history_end = params.get("history_end")
    if history_end is not None:
        try:
            history_end = date.fromisoformat(str(history_end)).isoformat()
        except ValueError:
            raise ServiceError("history_end must be a date like 2025-03-31.") from None
    activate = params.get("activate")
    if activate is not None and not isinstance(activate, bool):
        raise ServiceError("activate must be true, false or left out.")
    if activate and not actor.is_admin:
        raise ServiceError("Only an administrator can make a new model version active.")
    return {"series_ids": ids, "model": model, **ints, "history_end": history_end, "activate": activate}


def _fit_task(label: str, frame: Any, config: Any) -> Any:
    """One series on a Dask worker. The fitted models travel back in the registry's JSON state format."""
    from src.services.forecasting import fit_series

    result = fit_series(label, frame, config)
    result.fitted = {sid: fm.to_state() for sid, fm in result.fitted.items()}
    return result


def _from_transport(result: Any) -> Any:
    from src.models.forecasting.fitted import FittedModel

    result.fitted = {sid: FittedModel.from_state(meta, artifacts) for sid, (meta, artifacts) in result.fitted.items()}
    return result


def _in_dask_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


def dask_fitter(ctx: JobContext) -> Callable[[list[Any], Any], list[Any]]:
    """A ``fit_many`` for ``train_forecasts`` that runs each series as its own Dask task (when there are several and
    this runs on a worker), so the series of one job spread over every free worker. Progress per finished series;
    a stop cancels the series still pending."""
    from src.services.forecasting import fit_series_in_process

    def fit_many(fits: list[Any], on_progress: Any) -> list[Any]:
        if len(fits) <= 1 or not _in_dask_worker():
            return fit_series_in_process(fits, on_progress)
        from distributed import as_completed, worker_client

        total = len(fits)
        out: list[Any] = [None] * total
        with worker_client() as client:  # secedes from the worker's thread pool while the series run
            futures = {client.submit(_fit_task, label, frame, config, pure=False,
                                     key=f"wfp-job-{ctx.job_id}-a{ctx.attempt}-series-{i}"): i
                       for i, (label, frame, config) in enumerate(fits)}
            try:
                for done, fut in enumerate(as_completed(list(futures)), 1):
                    i = futures[fut]
                    out[i] = _from_transport(fut.result())
                    if on_progress:
                        on_progress(done / total * 0.95, f"{fits[i][0]}: done ({done}/{total} series)")
            except BaseException:
                client.cancel(list(futures))
                raise
        return out

    return fit_many


def _run_forecast_train(app: AppContext, actor: Actor, params: dict[str, Any], ctx: JobContext) -> None:
    """The Forecast page's training (``train_forecasts``) as a job: series mapped to Dask tasks, results stored
    and the job marked done in one transaction."""
    from src.services import forecasting as fc

    def on_store(conn: Connection, trained: list[Any]) -> None:
        ctx.commit(conn, {
            "run_ids": [t.run_id for t in trained],
            "series": [{"series_id": t.series_id, "run_id": t.run_id, "version_id": t.version_id, "model": t.model,
                        "activated": t.activated} for t in trained],
            "message": f"Trained and stored {len(trained)} forecast(s): "
                       + ", ".join(f"{t.series_id} → {fc.model_label(t.model, short=True)}" for t in trained) + ".",
        })

    history_end = params.get("history_end")
    fc.train_forecasts(app, actor, params["series_ids"], horizon_days=params["horizon_days"],
                       model=params.get("model", "auto"), folds=params.get("folds", 3),
                       history_end=date.fromisoformat(history_end) if history_end else None,
                       activate=params.get("activate"), seed=params.get("seed", 0), on_progress=ctx.progress,
                       fit_many=dask_fitter(ctx), on_store=on_store)


register_kind(JobKind(name="forecast.train", label="Forecast training", roles=("planner", "admin"),
                      timeout_seconds=3600, validate=_validate_forecast_train, run=_run_forecast_train))
