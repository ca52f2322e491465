"""CLI: demo-data, validate, ingest, bootstrap (stable for automation)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from src.data.kinds import KINDS
from src.data.loader import ParseOptions
from src.settings import app_timezone_env


def _options(args: argparse.Namespace) -> ParseOptions:
    """The reading options of the flags; local times are checked in APP_TIMEZONE, like the app and ``ingest``
    (``validate`` used to check them in Europe/Berlin whatever the setting)."""
    return ParseOptions(encoding=args.encoding, separator=args.separator, decimal=args.decimal,
                        date_order=args.date_order, sheet=args.sheet, queues_in_columns=args.queues_in_columns,
                        timezone=app_timezone_env())


def _add_parse_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=list(KINDS), help="dataset kind")
    p.add_argument("file", type=Path)
    p.add_argument("--encoding", default="auto", choices=["auto", "utf-8", "utf-16", "cp1252"])
    p.add_argument("--separator", default="auto", choices=["auto", ",", ";", "\t", "tab"])
    p.add_argument("--decimal", default="auto", choices=["auto", ".", ","])
    p.add_argument("--date-order", default="auto", choices=["auto", "dmy", "mdy", "ymd"])
    p.add_argument("--sheet", default=None)
    p.add_argument("--queues-in-columns", action="store_true",
                   help="workload only: one volume column per queue (rows = intervals), instead of queue + volume")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SystemExit(f"Cannot read {path}: {exc.strerror}") from None


def _print_report(report, as_json: bool) -> None:  # noqa: ANN001
    if as_json:
        print(json.dumps({"ok": report.ok, "kind": report.kind, "file": report.file, "rows": report.rows_read,
                          "encoding": report.encoding, "separator": report.separator, "sheet": report.sheet,
                          "summary": report.summary(),
                          "issues": [i.__dict__ for i in report.issues]}, ensure_ascii=False, indent=2,
                         default=str))
        return
    for i in report.issues:
        where = ", ".join(x for x in (i.file, f"sheet {i.sheet}" if i.sheet else "",
                                      f"row {i.row}" if i.row else "", f"column {i.column!r}" if i.column else "")
                          if x)
        value = f" (value {i.value!r})" if i.value is not None else ""
        print(f"{i.severity.upper():7} {where}: {i.message}{value}")
    print(report.summary())


def cmd_validate(args: argparse.Namespace) -> int:
    from src.data.validation import validate_upload

    if args.separator == "tab":
        args.separator = "\t"
    report = validate_upload(args.kind, args.file.name, _read(args.file), options=_options(args))
    _print_report(report, args.json)
    return 0 if report.ok else 1


def cmd_ingest(args: argparse.Namespace) -> int:
    from src.services import data as data_service
    from src.services.context import SYSTEM, ServiceError, get_app

    if args.separator == "tab":
        args.separator = "\t"
    app = get_app()
    try:
        outcome = data_service.ingest_upload(app, SYSTEM, kind=args.kind, filename=args.file.name,
                                             content=_read(args.file), options=_options(args), policy=args.policy)
    except data_service.UploadBusy as exc:  # nothing read: automation retries later (exit 75 = EX_TEMPFAIL)
        print(f"Not stored: {exc}", file=sys.stderr)
        return 75
    except ServiceError as exc:
        print(f"Not stored: {exc}", file=sys.stderr)
        return 2
    _print_report(outcome.report, False)
    print(outcome.message, file=sys.stdout if outcome.stored else sys.stderr)
    return 0 if outcome.stored else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from src.data.demo import DemoConfig, write_demo, write_samples

    cfg = DemoConfig(seed=args.seed)
    if args.samples:
        paths = write_samples(args.out, cfg)
    else:
        paths = write_demo(args.out, cfg, formats=tuple(args.format or ["csv"]))
    for p in paths:
        print(p)
    return 0


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from src.data.loader import check_xml_safety
    from src.services.bootstrap import bootstrap
    from src.services.context import ServiceError, get_app
    from src.settings import ConfigError, ensure_local_secret

    check_xml_safety()
    if not os.environ.get("APP_COOKIE_KEY"):  # an explicit key wins; otherwise keep one in .local/
        ensure_local_secret()
    try:
        bootstrap(get_app(), load_demo=not args.no_demo)
    except (ServiceError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo-data", help="write the seeded demo data set as files")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--format", action="append", choices=["csv", "xlsx"], default=None)
    p.add_argument("--samples", action="store_true", help="write the small sample files instead")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("validate", help="validate a file; exit 1 when it has errors")
    _add_parse_flags(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("ingest", help="validate and store a file (nothing stored on error)")
    _add_parse_flags(p)
    p.add_argument("--policy", choices=["reject", "replace"], default="reject",
                   help="what to do with rows that overlap stored data")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("bootstrap", help="create the schema, the first admin and load demo data if empty")
    p.add_argument("--no-demo", action="store_true")
    p.set_defaults(func=cmd_bootstrap)
