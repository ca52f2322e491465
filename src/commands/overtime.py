"""Overtime commands (stable for automation), reading the stored staff and overtime history:

``python -m src.cli overtime rank --site S --date YYYY-MM-DD --shift-type T [--unit U] [--hours H] [--json]``
prints the eligible candidates in order with each factor's value, weight and weighted contribution (points out of
100), and the excluded staff with their reasons.

``python -m src.cli overtime fairness --days 90 [--as-of YYYY-MM-DD] [--basis charged|worked] [--json]``
prints per-person overtime hours (pro rata per 40 contract hours) and the fairness metrics (score, Gini, Jain,
max/mean). ``--as-of`` defaults to the last day of the uploaded overtime history (today when none is uploaded).

Exit codes: 0 success, 1 invalid arguments or data (the message says which and why).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _exit_1_on_error(parser: argparse.ArgumentParser) -> None:
    """argparse exits with 2 on bad arguments; this command family promises 1 with a clear message."""

    def error(message: str) -> NoReturn:
        parser.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(1)

    parser.error = error  # type: ignore[method-assign]


def _context() -> tuple[Any, Any]:
    from src.services.context import SYSTEM, get_app

    return get_app(), SYSTEM


def cmd_rank(args: argparse.Namespace) -> int:
    from src.services import overtime as ot
    from src.services.context import PermissionDenied, ServiceError
    from src.settings import ConfigError

    missing = [f"--{n.replace('_', '-')}" for n in ("site", "date", "shift_type") if not getattr(args, n)]
    if missing:
        return _fail(f"missing required argument(s): {', '.join(missing)}")
    hours: float | None = None
    if args.hours is not None:
        try:
            hours = float(args.hours)
        except ValueError:
            return _fail(f"--hours must be a number, got {args.hours!r}")
    try:
        app, actor = _context()
        result = ot.rank(app, actor, site=args.site, shift_date=args.date, shift_type=args.shift_type,
                         hours=hours, unit=args.unit)
    except (ServiceError, PermissionDenied, ConfigError) as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
        return 0
    r = result.request
    print(f"{r.site}{' / ' + r.unit if r.unit else ''} {result.shift_start:%Y-%m-%d %H:%M}–"
          f"{result.shift_end:%H:%M} ({r.shift_type}, {r.hours:g} h); as of {result.as_of:%Y-%m-%d %H:%M}")
    print(f"{len(result.candidates)} eligible, {len(result.excluded)} excluded")
    names = [f for f in result.rules.weights]
    print(f"{'rank':>4} {'staff_id':<10} {'name':<24} {'total':>6} " + " ".join(f"{n[:12]:>12}" for n in names))
    for c in result.candidates:
        print(f"{c.rank:>4} {c.staff_id:<10} {c.name[:24]:<24} {c.total:>6.1f} "
              + " ".join(f"{f.contribution:>12.1f}" for f in c.factors))
    for e in result.excluded:
        print(f"  excluded {e.staff_id} {e.name}: {'; '.join(e.reasons)}")
    return 0


def cmd_fairness(args: argparse.Namespace) -> int:
    from src.services import overtime as ot
    from src.services.context import PermissionDenied, ServiceError
    from src.settings import ConfigError

    try:
        days = int(args.days)
    except ValueError:
        return _fail(f"--days must be a whole number, got {args.days!r}")
    if days < 1:
        return _fail(f"--days must be at least 1, got {days}")
    try:
        app, actor = _context()
        view = ot.fairness(app, actor, days=days, as_of_date=args.as_of, basis=args.basis, periods=0)
    except (ServiceError, PermissionDenied, ConfigError) as exc:
        return _fail(str(exc))
    rep = view.report
    if args.json:
        out = rep.to_dict()
        out["windows"] = view.windows.to_dict(orient="records")
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return 0
    m = rep.metrics()
    print(f"Overtime fairness, {days} days to {rep.as_of:%Y-%m-%d %H:%M} ({rep.basis} hours per 40 contract h)")
    print(f"score {m['score']:.1f}/100 ({rep.formula}); Gini {m['gini']:.3f}, Jain {m['jain']:.3f}, "
          f"max/mean {m['max_mean']:.2f}, average {m['average']:.1f} h, {int(m['n'])} people")
    print(f"{'staff_id':<10} {'name':<24} {'worked':>8} {'charged':>8} {'per 40h':>8}  flag")
    for row in rep.per_person.itertuples(index=False):
        flag = "over" if row.over_utilised else ("under" if row.under_utilised else "")
        print(f"{row.staff_id:<10} {str(row.name)[:24]:<24} {row.hours_worked:>8.1f} {row.hours_charged:>8.1f} "
              f"{row.value:>8.1f}  {flag}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("overtime", help="overtime ranking and fairness (from the stored data)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _exit_1_on_error(p)
    osub = p.add_subparsers(dest="overtime_command", metavar="SUBCOMMAND")

    r = osub.add_parser("rank", help="rank staff for one shift")
    _exit_1_on_error(r)
    r.add_argument("--site", help="site (care home) that needs cover")
    r.add_argument("--date", help="shift date, YYYY-MM-DD")
    r.add_argument("--shift-type", help="early, late, night or day (German names accepted)")
    r.add_argument("--unit", help="unit/ward (optional)")
    r.add_argument("--hours", help="shift length in hours (default: typical length of that shift type)")
    r.add_argument("--json", action="store_true", help="print JSON")
    r.set_defaults(func=cmd_rank)

    f = osub.add_parser("fairness", help="overtime fairness report")
    _exit_1_on_error(f)
    f.add_argument("--days", default="90", help="window in days (default 90)")
    f.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: last day of the uploaded overtime history)")
    f.add_argument("--basis", default="charged", choices=["charged", "worked"],
                   help="charged = worked + declined (+ unanswered) hours (default); worked = hours worked")
    f.add_argument("--json", action="store_true", help="print JSON")
    f.set_defaults(func=cmd_fairness)

    def _help(_args: argparse.Namespace) -> int:
        p.print_help()
        return 1

    p.set_defaults(func=_help)
