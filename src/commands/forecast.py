"""CLI: ``forecast`` and ``backtest`` on CSV/XLSX files, no database needed (used by automation).

    python -m src.cli forecast --input FILE --horizon N --output OUT.csv [--model auto|…]
                               [--level 80 --level 95] [--freq 1h] [--folds 3] [--backtest-horizon N]
    python -m src.cli backtest --input FILE [--model …] [--folds 3] [--horizon N] [--json]

Input columns ``ds, y`` and optionally ``series_id`` (any case; the workload aliases ``timestamp``/
``volume``/``queue`` and German ``Datum``/``Anrufe``/``Warteschlange`` are accepted too, as is a decimal
comma). Exit codes: 0 ok, 2 bad input or too little history (nothing written), 3 some series could not be
forecast (each named on stderr with its reason; the others are written).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
import zipfile
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)

MAX_XLSX_UNZIPPED = 50_000_000
#: exit code of ``forecast`` when some series were skipped (the rest written): automation must notice
EXIT_PARTIAL = 3
_ALIASES = {"timestamp": "ds", "date": "ds", "datetime": "ds", "volume": "y", "value": "y", "queue": "series_id",
            "series": "series_id", "zeitstempel": "ds", "datum": "ds", "anrufe": "y", "anzahl": "y", "volumen": "y",
            "calls": "y", "warteschlange": "series_id", "serie": "series_id"}


def read_series_file(path: Path) -> pd.DataFrame:
    """Read a CSV or XLSX into ``series_id?, ds, y`` (names case-insensitive; a few aliases mapped)."""
    if not path.is_file():
        raise ValueError(f"Input file {path} does not exist")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            with zipfile.ZipFile(path) as zf:
                if sum(i.file_size for i in zf.infolist()) > MAX_XLSX_UNZIPPED:
                    raise ValueError(f"{path} expands to more than {MAX_XLSX_UNZIPPED // 1_000_000} MB; export a CSV")
        except zipfile.BadZipFile:
            raise ValueError(f"{path} is not a valid .xlsx file") from None
        df = pd.read_excel(path, engine="openpyxl")
    else:
        df = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
    rename = {}
    names = {str(c).strip().lower(): c for c in df.columns}
    for low, orig in names.items():
        target = low if low in ("ds", "y", "series_id") else _ALIASES.get(low)
        if target and target not in names and target not in rename.values():
            rename[orig] = target
        elif low in ("ds", "y", "series_id"):
            rename[orig] = low
    df = df.rename(columns=rename)
    if "y" in df and df["y"].dtype == object:
        df["y"] = _decimal_comma(df["y"])
    if "ds" in df and df["ds"].dtype == object:
        df["ds"] = _german_dates(df["ds"])
    return df


_RE_DE_DATE = re.compile(r"\s*\d{1,2}\.\d{1,2}\.\d{4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?\s*")


def _german_dates(values: pd.Series) -> pd.Series:
    """``31.01.2024`` / ``31.01.2024 08:30`` (day first — the dotted form is never month first) → timestamps,
    when every value is written that way; anything else is left for the timestamp check to report."""
    text = values.dropna().astype(str)
    if text.empty or not text.map(lambda v: bool(_RE_DE_DATE.fullmatch(v))).all():
        return values
    try:
        return pd.to_datetime(values.astype(str).str.strip(), format="mixed", dayfirst=True)
    except (ValueError, TypeError):
        return values


_RE_DE_NUMBER = re.compile(r"\s*-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?\s*")


def _decimal_comma(values: pd.Series) -> pd.Series:
    """``12,5`` / ``1.234,5`` → 12.5 / 1234.5 when every value is written that way (a German export; pandas
    reads such a column as text). Anything else is left for the numeric check to report."""
    text = values.dropna().astype(str)
    if text.empty or not text.str.contains(",").any() or not text.map(lambda v: bool(_RE_DE_NUMBER.fullmatch(v))).all():
        return values
    return values.map(lambda v: v if pd.isna(v) else float(str(v).strip().replace(".", "").replace(",", ".")))


def _fmt(v: object) -> str:
    return f"{v:.3f}" if isinstance(v, float) and math.isfinite(v) else str(v)


def _cmd_forecast(args: argparse.Namespace) -> int:
    from src.models.forecasting import ForecastConfig, run_forecast

    try:
        df = read_series_file(Path(args.input))
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
    out.to_csv(args.output, index=False, date_format="%Y-%m-%d %H:%M:%S")
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

    try:
        df = read_series_file(Path(args.input))
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
