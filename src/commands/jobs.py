"""``python -m src.cli jobs`` — background jobs for operators (keep flags stable).

::

    jobs list [--status queued|running|succeeded|failed|cancelled] [--kind forecast.train] [--limit 50] [--json]
    jobs show ID [--json]
    jobs cancel ID [--json]

``list`` prints one line per job, newest first: id, status, progress, kind, requester, created (UTC), and the
progress text or error. ``show`` prints every field of one job. ``cancel`` cancels a queued or running job (the CLI
acts as the system administrator; the cancel is audited). Exit code 1 with a message on stderr for an unknown job,
a job that already finished, or a bad filter.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from src.data.jobs_store import STATUSES


def register(subparsers: Any) -> None:
    """Add the ``jobs`` command (plugin contract of :mod:`src.cli`)."""
    p = subparsers.add_parser("jobs", help="list, show and cancel background jobs",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="jobs_action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="jobs, newest first")
    ls.add_argument("--status", choices=STATUSES, default=None)
    ls.add_argument("--kind", default=None, help="e.g. forecast.train")
    ls.add_argument("--limit", type=int, default=50, help="at most this many (1-1000, default 50)")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.set_defaults(func=run_list)
    show = sub.add_parser("show", help="every field of one job")
    show.add_argument("job_id", type=int, metavar="ID")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(func=run_show)
    cancel = sub.add_parser("cancel", help="cancel a queued or running job")
    cancel.add_argument("job_id", type=int, metavar="ID")
    cancel.add_argument("--json", action="store_true", help="print the job as JSON afterwards")
    cancel.set_defaults(func=run_cancel)


def _context() -> tuple[Any, Any]:
    from src.services.context import SYSTEM, get_app

    return get_app(), SYSTEM


def _fail(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 1


def _line(job: dict[str, Any]) -> str:
    note = job["error"] or job["progress_text"] or ""
    created = (job["created_at"] or "")[:19].replace("T", " ")
    return (f"{job['id']:>6}  {job['status']:<9}  {job['progress'] * 100:5.1f}%  {job['kind']:<16}  "
            f"{job['requested_by']:<12}  {created}  {note}")


def run_list(args: argparse.Namespace) -> int:
    from src.services import jobs as jobs_service
    from src.services.context import ServiceError

    app, actor = _context()
    try:
        rows = jobs_service.list_jobs(app, actor, status=args.status, kind=args.kind, limit=args.limit)
    except ServiceError as exc:
        return _fail(exc)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("No jobs.")
        return 0
    print(f"{'id':>6}  {'status':<9}  {'done':>6}  {'kind':<16}  {'requested by':<12}  {'created (UTC)':<19}  note")
    for job in rows:
        print(_line(job))
    return 0


def _print_job(job: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(job, indent=2, ensure_ascii=False))
        return
    width = max(len(k) for k in job)
    for key, value in job.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)
        elif key == "progress":
            value = f"{value * 100:.1f}%"
        print(f"{key:<{width}}  {value}")


def run_show(args: argparse.Namespace) -> int:
    from src.services import jobs as jobs_service
    from src.services.context import ServiceError

    app, actor = _context()
    try:
        job = jobs_service.get(app, actor, args.job_id)
    except ServiceError as exc:
        return _fail(exc)
    _print_job(job, args.json)
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    from src.services import jobs as jobs_service
    from src.services.context import PermissionDenied, ServiceError

    app, actor = _context()
    try:
        job = jobs_service.cancel(app, actor, args.job_id)
    except (ServiceError, PermissionDenied) as exc:
        return _fail(exc)
    if args.json:
        _print_job(job, True)
    else:
        print(f"Job {job['id']} cancelled ({job['kind']}, was requested by {job['requested_by']}).")
    return 0
