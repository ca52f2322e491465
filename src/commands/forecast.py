"""CLI: ``forecast`` and ``backtest`` on CSV/XLSX files, no database needed (used by automation).

    python -m src.cli forecast --input FILE --horizon N --output OUT.csv [--model auto|…]
                               [--level 80 --level 95] [--freq 1h] [--folds 3] [--backtest-horizon N]
    python -m src.cli backtest --input FILE [--model …] [--folds 3] [--horizon N] [--json]

Input columns ``ds, y`` and optionally ``series_id`` (any case; the workload aliases ``timestamp``/``volume``/
``queue`` and German ``Datum``/``Anrufe``/``Warteschlange`` are accepted too). The file is read exactly like an
upload on the Data page (:mod:`src.data.series_file`): the same encodings, separators, decimal commas, date
formats and Excel cells, the same limits on hostile files, and the same errors naming file, row, column and value;
what an upload asks the user to choose (an ambiguous date order or decimal separator, the sheet) is chosen here
with ``--date-order``, ``--decimal``, ``--separator``, ``--encoding`` and ``--sheet``. Exit codes: 0 ok, 2 bad
input or too little history (nothing written), 3 some series could not be forecast (each named on stderr with its
reason; the others are written).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

import pandas as pd

from src.data.export import to_csv_bytes
from src.data.loader import ParseOptions, UploadLimits
from src.data.parsing import Issue
from src.data.series_file import read_series_path

logger = logging.getLogger(__name__)

#: exit code of ``forecast`` when some series were skipped (the rest written): automation must notice
EXIT_PARTIAL = 3

#: what to pass when the reader could not decide for itself (the upload page offers the same as reading options)
_HINTS = {
    "ambiguous_date": "choose the date order with --date-order dmy (day first) or --date-order mdy (month first)",
    "ambiguous_decimal": "choose the decimal separator with --decimal , (decimal comma) or --decimal . (point)",
    "decimal_conflict": "choose the decimal separator with --decimal , or --decimal .",
    "separator": "choose the column separator with --separator ';' (or ',' or tab)",
    "encoding": "choose the encoding with --encoding utf-8, utf-16 or cp1252",
    "sheet": "choose the sheet with --sheet NAME",
    "too_many_rows": "raise the limit for this run with UPLOAD_MAX_ROWS=N in the environment (default 500000; "
                     "reading needs ~1.5 KB of memory per row)",
    "too_large": "raise the limit for this run with UPLOAD_MAX_MB=N in the environment (default 50)",
}


def _limits() -> UploadLimits:
    """The upload's hostile-file limits, sized by the same UPLOAD_MAX_MB / UPLOAD_MAX_ROWS variables as the app.

    Why from the environment: automation may forecast more history than a browser upload should hold (e.g. many
    queues of 15-minute data over years) and can raise the limits for its runs without touching the app's.
    """
    from src.settings import upload_limits_env

    env = upload_limits_env()
    return UploadLimits(max_bytes=env["upload_max_mb"] * 2**20, max_rows=env["upload_max_rows"],
                        max_columns=env["upload_max_columns"])


def _parse_options(args: argparse.Namespace) -> ParseOptions:
    """The upload's reading options from the flags; UTC offsets keep their wall-clock time, as the engine always
    did for this CLI (an upload refuses them instead)."""
    return ParseOptions(encoding=args.encoding, separator="\t" if args.separator == "tab" else args.separator,
                        decimal=args.decimal, date_order=args.date_order, sheet=args.sheet, utc_offsets="wall_clock")


def _where(issue: Issue) -> str:
    return f"{issue.file}, sheet {issue.sheet!r}" if issue.sheet else issue.file


def read_input(args: argparse.Namespace) -> pd.DataFrame | None:
    """Read ``--input`` through the upload reader; print warnings and errors to stderr (notes go to the log).

    Returns the frame ``series_id?, ds, y``, or ``None`` when the file has errors (the caller exits with 2).
    Every error is printed, not only the first, so one run shows everything to fix — as the upload report does.
    """
    from src.settings import ConfigError

    try:
        limits = _limits()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    result = read_series_path(Path(args.input), _parse_options(args), limits)
    report = result.report
    for issue in report.issues:
        if issue.severity == "info":
            logger.info("%s: %s", _where(issue), issue.message)
        else:
            print(f"{issue.severity}: {_where(issue)}: {issue.message}", file=sys.stderr)
    if result.frame is not None:
        return result.frame
    codes = dict.fromkeys(i.code for i in report.errors)
    for code in codes:
        if code in _HINTS:
            print(f"hint: {_HINTS[code]}", file=sys.stderr)
    n = report.totals.get("error", len(report.errors))
    print(f"error: {report.file}: {n} problem{'s' if n != 1 else ''} in the input; nothing was forecast",
          file=sys.stderr)
    return None


def _fmt(v: object) -> str:
    return f"{v:.3f}" if isinstance(v, float) and math.isfinite(v) else str(v)


def _cmd_forecast(args: argparse.Namespace) -> int:
    from src.models.forecasting import ForecastConfig, run_forecast

    df = read_input(args)
    if df is None:
        return 2
    try:
        levels = tuple(args.level or (80, 95))
        config = ForecastConfig(horizon=args.horizon, levels=levels, model=args.model, folds=args.folds,
                                backtest_horizon=args.backtest_horizon, seed=args.seed, n_jobs=args.n_jobs,
                                freq=args.freq, country_holidays=None if args.holidays == "none" else args.holidays)
        result = run_forecast(df, config, skip_failed=True)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cols = ["series_id", "ds", "yhat"] + [f"yhat_{s}_{lv}" for lv in config.levels for s in ("lower", "upper")]
    out = result.forecast[cols].copy()
    num = [c for c in cols if c.startswith("yhat")]
    out[num] = out[num].round(4)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    out["ds"] = pd.to_datetime(out["ds"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    Path(args.output).write_bytes(to_csv_bytes(out))  # series ids come from the input: formulas neutralised
    bt = result.backtest
    for sid, model in result.chosen.items():
        row = bt[(bt["series_id"] == sid) & (bt["model"] == model)].iloc[0]
        metrics = ", ".join(f"{k}={_fmt(row[k])}" for k in ["mae", "rmse", "mape", "smape", "wape", "mase"]
                            + [f"coverage_{lv}" for lv in config.levels])
        print(f"{sid}: model={model} freq={result.freq[sid]} backtest: {metrics}")
        print(f"  {result.reasons[sid]}")
    print(f"wrote {len(out)} rows to {args.output} in {result.seconds:.1f} s")
    for sid, why in result.failed.items():
        print(f"skipped {sid}: {why}", file=sys.stderr)
    if result.failed:
        print(f"error: {len(result.failed)} of {len(result.failed) + len(result.chosen)} series could not be "
              "forecast (see above); the others were written", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from src.models.forecasting import AUTO_CANDIDATES, backtest
    from src.models.forecasting.frequency import parse_freq, prepare_series

    df = read_input(args)
    if df is None:
        return 2
    try:
        models: list[str] = []
        for item in args.model or ["auto"]:
            for name in item.split(","):
                name = name.strip()
                models.extend(AUTO_CANDIDATES if name == "auto" else [name])
        models = list(dict.fromkeys(models))
        horizon = args.horizon
        if horizon is None:  # one week of the series' own grid
            from src.models.forecasting.engine import normalise_input

            first = normalise_input(df).groupby("series_id").head(10_000)
            step = parse_freq(args.freq) if args.freq else None
            part = first[first["series_id"] == first["series_id"].iloc[0]]
            horizon = prepare_series(part["ds"], part["y"], step=step, country=None, clean=False).cal.season
        levels = tuple(args.level or (80, 95))
        table = backtest(df, models, folds=args.folds, horizon=horizon, levels=levels, seed=args.seed,
                         freq=args.freq, country_holidays=None if args.holidays == "none" else args.holidays)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        records = json.loads(table.to_json(orient="records", double_precision=6))
        print(json.dumps(records, indent=2))
    else:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, help="CSV or XLSX with columns ds, y and optionally series_id")
    p.add_argument("--level", type=int, action="append", help="interval level in %% (repeatable; default 80 and 95)")
    p.add_argument("--freq", default=None, help="override the inferred step, e.g. 15min, 30min, 1h, 1D")
    p.add_argument("--folds", type=int, default=3, help="backtest folds (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--holidays", default="DE", help="country code for public holidays, or 'none' (default DE)")
    g = p.add_argument_group("reading the input (as the upload's reading options; 'auto' detects and asks)")
    g.add_argument("--encoding", default="auto", choices=["auto", "utf-8", "utf-16", "cp1252"])
    g.add_argument("--separator", default="auto", choices=["auto", ",", ";", "\t", "tab"])
    g.add_argument("--decimal", default="auto", choices=["auto", ".", ","], help="decimal separator of y")
    g.add_argument("--date-order", default="auto", choices=["auto", "dmy", "mdy", "ymd"],
                   help="order of a/b/yyyy dates (dd.mm.yyyy is always day first, ISO never reordered)")
    g.add_argument("--sheet", default=None, help="worksheet of an .xlsx (default: the first visible one)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``forecast`` and ``backtest`` commands (plugin contract of :mod:`src.cli`)."""
    p = subparsers.add_parser("forecast", help="forecast every series in a file",
                              description="Forecast the N steps after each series' last timestamp. Exit codes: 0 ok; "
                                          "2 bad input, nothing written; 3 some series skipped (named on "
                                          "stderr), the others written.")
    _common(p)
    p.add_argument("--horizon", type=int, required=True, help="steps to forecast (in the series' own step)")
    p.add_argument("--output", required=True, help="CSV to write")
    p.add_argument("--model", default="auto", help="auto (default) or seasonal_naive, profile, prophet, "
                   "prophet_default, lightgbm, ensemble")
    p.add_argument("--backtest-horizon", type=int, default=None, help="steps per backtest fold (default: --horizon)")
    p.add_argument("--n-jobs", type=int, default=1, help="series fitted in parallel (default 1)")
    p.set_defaults(func=_cmd_forecast)

    b = subparsers.add_parser("backtest", help="rolling-origin backtest of the models on a file")
    _common(b)
    b.add_argument("--model", action="append", help="model(s) to compare (repeatable or comma-separated; "
                   "default: all auto candidates)")
    b.add_argument("--horizon", type=int, default=None, help="steps per fold (default: one week)")
    b.add_argument("--json", action="store_true", help="print the metrics table as JSON")
    b.set_defaults(func=_cmd_backtest)
