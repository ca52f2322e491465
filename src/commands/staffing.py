"""``python -m src.cli staffing`` — Erlang calculator and table planner for automation (keep flags stable).

Single interval::

    staffing --calls 100 --aht 180 --interval 1800 --sl 0.8 --answer-within 20 [--asa S] [--shrinkage 0.3]
             [--max-occupancy 0.85] [--patience S] [--json]

prints ``traffic, agents, agents_raw, agents_fractional, service_level, asa_seconds, occupancy, p_wait``
(+ ``p_abandon`` with ``--patience``, which switches from Erlang C to Erlang A).

Whole table::

    staffing --input FORECAST.csv [same parameters] [--output PLAN.xlsx|PLAN.csv] [--json]

FORECAST.csv needs ``ds`` and ``yhat`` (or ``y``/``volume``), optionally ``series_id``/``queue`` and
``aht_seconds``. Without ``--sl`` and ``--asa`` the SL target is 80 % in ``--answer-within`` seconds.
Impossible or invalid requests exit with code 1 and a message on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from src.data.export import to_csv_bytes
from src.models.capacity import (
    QueueParams,
    plan_staffing,
    required_agents,
    required_agents_erlang_a,
    staffing_workbook,
)
from src.services.staffing import plan_totals

logger = logging.getLogger(__name__)

DEFAULT_SL = 0.8
SINGLE_KEYS = ("traffic", "agents", "agents_raw", "agents_fractional", "service_level", "asa_seconds", "occupancy",
               "p_wait")


def register(subparsers: Any) -> None:
    """Add the ``staffing`` command (plugin contract of :mod:`src.cli`)."""
    p = subparsers.add_parser("staffing", help="required agents (Erlang C / Erlang A) for one interval or a table",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--calls", type=float, help="calls offered in the interval")
    mode.add_argument("--input", type=Path, metavar="FORECAST.csv", help="forecast table to plan")
    p.add_argument("--aht", type=float, default=None, help="average handling time in seconds (default 300)")
    p.add_argument("--interval", type=float, default=1800, help="interval length in seconds (default 1800)")
    p.add_argument("--sl", type=float, default=None, help="service-level target, e.g. 0.8 (default 0.8)")
    p.add_argument("--answer-within", type=float, default=20.0, help="seconds for the SL target (default 20)")
    p.add_argument("--asa", type=float, default=None, help="average-speed-of-answer target in seconds")
    p.add_argument("--shrinkage", type=float, default=0.0, help="share of paid time not available (default 0)")
    p.add_argument("--max-occupancy", type=float, default=1.0, help="occupancy cap in (0, 1] (default 1)")
    p.add_argument("--patience", type=float, default=None, help="mean patience in seconds → Erlang A")
    p.add_argument("--output", type=Path, metavar="PLAN.xlsx|PLAN.csv", help="write the plan (with --input)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _targets(args: argparse.Namespace) -> tuple[float | None, float | None]:
    sl = args.sl
    if sl is None and args.asa is None:
        sl = DEFAULT_SL
    return sl, args.asa


def _single(args: argparse.Namespace) -> dict[str, Any]:
    sl, asa = _targets(args)
    aht = 300.0 if args.aht is None else args.aht
    common = dict(interval_seconds=args.interval, sl_target=sl, answer_within_s=args.answer_within,
                  asa_target_s=asa, max_occupancy=args.max_occupancy, shrinkage=args.shrinkage)
    if args.patience is not None:
        row = required_agents_erlang_a(args.calls, aht, args.patience, **common).row()
        keys = (*SINGLE_KEYS, "p_abandon")
    else:
        row = required_agents(args.calls, aht, **common).row()
        keys = SINGLE_KEYS
    return {k: _clean(row[k]) for k in keys}


def _read_forecast(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(f"Input file not found: {path}")
    try:
        return pd.read_csv(path, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"Cannot read {path.name}: {exc}") from None


def _table(args: argparse.Namespace) -> dict[str, Any]:
    sl, asa = _targets(args)
    params = QueueParams(
        channel="voice", aht_seconds=300.0 if args.aht is None else args.aht, sl_target=sl,
        answer_within_s=args.answer_within, asa_target_s=asa, patience_s=args.patience, shrinkage=args.shrinkage,
        max_occupancy=args.max_occupancy, interval_seconds=args.interval,
    )
    plan = plan_staffing(_read_forecast(args.input), params)
    out: dict[str, Any] = {
        "intervals": len(plan.intervals),
        "queues": list(plan.params),
        "agent_hours": float(plan.intervals["agents"].sum() * args.interval / 3600.0),
        "peak_agents": int(plan.intervals["agents"].max()),
        # weighted by volume over the open intervals, as on the Staffing page (a plain mean over queues let a
        # queue of 10 calls count as much as one of 10,000)
        "service_level": _clean(plan_totals(plan)["service_level"]),
        "output": None,
    }
    if args.output is not None:
        suffix = args.output.suffix.lower()
        if suffix == ".xlsx":
            data = staffing_workbook(plan)
        elif suffix == ".csv":
            data = to_csv_bytes(plan.intervals)
        else:
            raise ValueError("--output must end in .xlsx or .csv")
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_bytes(data)
        out["output"] = str(args.output)
    return out


def run(args: argparse.Namespace) -> int:
    """Execute the command; 0 on success, 1 with a message on stderr for an impossible request."""
    try:
        if args.calls is not None:
            if args.output is not None:
                raise ValueError("--output needs --input (a forecast table).")
            result = _single(args)
        else:
            result = _table(args)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, sort_keys=False))
    else:
        for k, v in result.items():
            print(f"{k}: {v}")
    return 0
