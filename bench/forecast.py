"""Forecast benchmark: every model vs default Prophet on the demo contact-centre and care-home series.

Protocol (honest hold-out): for each series the last ``H`` steps (hourly: one week; daily: 28 days)
are held out — repeated for ``--origins`` consecutive windows. On the history before the hold-out:

- per model: 3-fold rolling backtest (conformal calibration) + final fit → forecast the hold-out;
- ``auto``: the product path ``run_forecast(model="auto")`` (backtest all candidates, choose, refit);
- ``prophet_default``: ``Prophet()`` untouched, its own 80/95% intervals.

Reported per model: mean MASE (vs in-sample weekly seasonal naive), WAPE (pooled), 80/95 coverage
(pooled, %), seconds per series (model: final fit+predict only; auto: the whole pipeline). Then the
ratios auto / default Prophet. Also: conformal scaling none/sqrt/level for the auto choice, and the
CLI on one year of hourly data. Nothing here is tuned to the demo data.

Run: ``.venv/bin/python bench/forecast.py [--max-series 6] [--origins 2]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from src.models.forecasting import ForecastConfig, run_forecast  # noqa: E402
from src.models.forecasting import metrics as M  # noqa: E402
from src.models.forecasting.backtest import backtest_series  # noqa: E402
from src.models.forecasting.base import make_model  # noqa: E402
from src.models.forecasting.conformal import ConformalCalibrator  # noqa: E402
from src.models.forecasting.frequency import prepare_series  # noqa: E402

MODELS = ["seasonal_naive", "profile", "prophet", "lightgbm", "lightgbm_recursive", "ensemble", "prophet_default"]
LEVELS = (80, 95)


def synthetic() -> dict[str, pd.DataFrame]:
    """Fallback when src/data/demo.py is absent: 2 hourly queues + 3 daily units (Poisson, weekday shapes)."""
    rng = np.random.default_rng(11)
    ds = pd.date_range("2023-01-02", periods=2 * 364 * 24, freq="h")
    h, d = ds.hour.to_numpy(), ds.dayofweek.to_numpy()
    frames = []
    for q, base in (("calls", 60), ("emails", 25)):
        open_ = (h >= 8) & (h < 20) & (d < 6)
        lam = np.where(open_, base * (1 + 0.5 * np.sin(np.pi * (h - 8 + d) / 12)), 0)
        y = rng.poisson(np.clip(lam, 0, None))
        frames.append(pd.DataFrame({"timestamp": ds[open_], "queue": q, "volume": y[open_]}))
    days = pd.date_range("2023-01-02", periods=730, freq="D")
    units = [pd.DataFrame({"date": days, "site": "S", "unit": f"U{i}",
                           "shifts": rng.poisson(10 + i - 2 * (days.dayofweek >= 5))}) for i in range(3)]
    return {"workload": pd.concat(frames), "unit_shifts": pd.concat(units)}


def load_data(max_series: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    try:
        from src.data.demo import DemoConfig, generate_demo

        data, source = generate_demo(DemoConfig()), "src/data/demo.py (DemoConfig defaults)"
    except ImportError:
        data, source = synthetic(), "synthetic generator in bench/forecast.py"
    w = data["workload"]
    sid = w["queue"].astype(str) + ("@" + w["site"].astype(str) if "site" in w else "")
    cc = pd.DataFrame({"series_id": sid, "ds": pd.to_datetime(w["timestamp"]), "y": w["volume"].astype(float)})
    u = data["unit_shifts"]
    care = pd.DataFrame({"series_id": u["site"].astype(str) + "/" + u["unit"].astype(str),
                         "ds": pd.to_datetime(u["date"]), "y": u["shifts"].astype(float)})
    keep = sorted(care["series_id"].unique())[:max_series]
    return cc, care[care["series_id"].isin(keep)], source


def evaluate(df: pd.DataFrame, horizon: int, origins: int, folds: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (series, origin, model): hold-out errors; returns (rows, scale-comparison rows)."""
    rows, scale_rows = [], []
    for sid, part in df.groupby("series_id"):
        part = part.sort_values("ds")
        prep_all = prepare_series(part["ds"], part["y"], series_id=sid, country="DE", clean=False)
        step = prep_all.cal.step
        for k in range(origins, 0, -1):
            origin = prep_all.last + step - k * horizon * step
            train = part[part["ds"] < origin]
            test = part[(part["ds"] >= origin) & (part["ds"] < origin + horizon * step)]
            prep = prepare_series(train["ds"], train["y"], series_id=sid, country="DE", end=origin - step)
            scale = M.seasonal_naive_scale(np.where(prep.observed, prep.y, np.nan), prep.cal.season)
            fut = prep.future(horizon)
            actual = pd.Series(np.nan, index=fut.ds)
            actual.loc[test["ds"].to_numpy()] = test["y"].to_numpy()
            y = actual.to_numpy()

            def record(model: str, yhat: np.ndarray, bounds: dict[str, np.ndarray], seconds: float,
                       total_seconds: float, chosen: str = "", sid: str = sid, scale: float = scale,
                       y: np.ndarray = y, origin: pd.Timestamp = origin) -> None:
                row = {"series_id": sid, "origin": origin, "model": model, "chosen": chosen,
                       "mase": M.mase(y, yhat, scale), "abs_err": np.nansum(np.abs(y - yhat)),
                       "abs_y": np.nansum(np.abs(y)), "seconds": seconds, "total_seconds": total_seconds}
                obs = np.isfinite(y)
                for lv in LEVELS:
                    lo, hi = bounds[f"yhat_lower_{lv}"], bounds[f"yhat_upper_{lv}"]
                    row[f"in_{lv}"] = int(((y[obs] >= lo[obs]) & (y[obs] <= hi[obs])).sum())
                    row[f"width_{lv}"] = float(np.mean(hi[obs] - lo[obs]))
                row["n"] = int(obs.sum())
                rows.append(row)

            # product path: auto
            t0 = time.perf_counter()
            res = run_forecast(train, ForecastConfig(horizon=horizon, folds=folds, seed=0))
            t_auto = time.perf_counter() - t0
            fc = res.forecast
            chosen = res.chosen[sid]
            record("auto", fc["yhat"].to_numpy(), {c: fc[c].to_numpy() for c in fc.columns if "_" in c and
                                                   c.startswith("yhat_")}, t_auto, t_auto, chosen)
            # every model: backtest (calibration) + final fit
            t0 = time.perf_counter()
            bt = backtest_series(train["ds"], train["y"], series_id=sid, models=MODELS, folds=folds,
                                 horizon=horizon, levels=LEVELS, country="DE", prep=prep)
            bt_seconds = {m: float(np.sum(r.seconds)) for m, r in bt.runs.items()}
            for name in MODELS:
                run = bt.runs[name]
                if not run.ok:
                    continue
                model = make_model(name, 0)
                t1 = time.perf_counter()
                model.fit(prep, horizon)
                pred = model.predict(fut, LEVELS if model.native_intervals else ())
                secs = time.perf_counter() - t1
                yhat = np.where(fut.closed, 0.0, np.clip(pred["yhat"].to_numpy(), 0, None))
                if model.native_intervals:
                    bounds = {c: np.where(fut.closed, 0, np.clip(pred[c].to_numpy(), 0, None)) for c in pred.columns
                              if c.startswith(("yhat_lower", "yhat_upper"))}
                else:
                    bounds = bt.calibrator(name, LEVELS, "sqrt").apply(yhat, closed=fut.closed)
                record(name, yhat, bounds, secs, secs + bt_seconds[name])
                if name == chosen:
                    yb, fb = run.pooled()
                    for sc in ("none", "sqrt", "level"):
                        b = ConformalCalibrator.fit(yb, fb, LEVELS, sc).apply(yhat, closed=fut.closed)
                        obs = np.isfinite(y)
                        scale_rows.append({"scale": sc, "n": int(obs.sum()), **{
                            f"in_{lv}": int(((y[obs] >= b[f"yhat_lower_{lv}"][obs]) &
                                             (y[obs] <= b[f"yhat_upper_{lv}"][obs])).sum()) for lv in LEVELS}})
            print(f"  {sid} origin {origin:%Y-%m-%d %H:%M}: auto chose {chosen} ({t_auto:.1f} s); "
                  f"backtest of all models {time.perf_counter() - t0:.1f} s", flush=True)
    return pd.DataFrame(rows), pd.DataFrame(scale_rows)


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    g = rows.groupby("model")
    out = pd.DataFrame({
        "MASE": g["mase"].mean(),
        "WAPE %": 100 * g["abs_err"].sum() / g["abs_y"].sum(),
        "cov80 %": 100 * g["in_80"].sum() / g["n"].sum(),
        "cov95 %": 100 * g["in_95"].sum() / g["n"].sum(),
        "width95": g["width_95"].mean(),
        "fit+predict s": g["seconds"].mean(),
        "incl. backtest s": g["total_seconds"].mean(),
    })
    order = ["auto"] + [m for m in MODELS if m in out.index]
    return out.loc[[m for m in order if m in out.index]]


def markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| model | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for name, row in table.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}" for v in row) + " |")
    return "\n".join(lines)


def time_cli(cc: pd.DataFrame) -> float:
    """Wall time of ``python -m src.cli forecast`` on the last year of the busiest hourly series."""
    sid = cc.groupby("series_id").size().idxmax()
    part = cc[cc["series_id"] == sid]
    part = part[part["ds"] > part["ds"].max() - pd.Timedelta(days=365)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "year.csv"
        part[["ds", "y"]].to_csv(path, index=False)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "src.cli", "forecast", "--input", str(path), "--horizon", "168",
                        "--output", str(Path(tmp) / "out.csv")], cwd=ROOT, check=True, capture_output=True)
        seconds = time.perf_counter() - t0
    print(f"CLI forecast on one year of hourly data ({len(part)} rows, series {sid}): {seconds:.1f} s")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-series", type=int, default=8, help="care-home units to include (hourly: all queues)")
    ap.add_argument("--origins", type=int, default=2, help="hold-out windows per series")
    ap.add_argument("--folds", type=int, default=3)
    args = ap.parse_args()
    cc, care, source = load_data(args.max_series)
    print(f"data: {source}; contact centre {cc['series_id'].nunique()} hourly series, "
          f"care homes {care['series_id'].nunique()} daily series")
    for title, df, horizon in (("Contact centre, hourly, horizon 168 h", cc, 168),
                               ("Care homes, daily, horizon 28 days", care, 28)):
        print(f"\n## {title}")
        rows, scales = evaluate(df, horizon, args.origins, args.folds)
        table = summarise(rows)
        print(markdown(table))
        auto, ref = table.loc["auto"], table.loc["prophet_default"]
        chosen = rows[rows["model"] == "auto"]["chosen"].value_counts().to_dict()
        chosen_rows = rows.merge(rows[rows["model"] == "auto"][["series_id", "origin", "chosen"]].rename(
            columns={"chosen": "pick"}), on=["series_id", "origin"])
        chosen_secs = chosen_rows[chosen_rows["model"] == chosen_rows["pick"]]["seconds"].mean()
        print(f"\nauto picked: {chosen}")
        print(f"auto / default Prophet: MASE ratio {auto['MASE'] / ref['MASE']:.2f} "
              f"({100 * (1 - auto['MASE'] / ref['MASE']):.0f}% better); time ratio, whole auto pipeline "
              f"{auto['fit+predict s'] / ref['fit+predict s']:.2f}; time ratio, chosen model fit+predict "
              f"{chosen_secs / ref['fit+predict s']:.2f}")
        s = scales.groupby("scale")[["n", "in_80", "in_95"]].sum()
        print("conformal scaling for the auto choice (hold-out coverage %): " + "; ".join(
            f"{sc}: 80%→{100 * r.in_80 / r.n:.1f}, 95%→{100 * r.in_95 / r.n:.1f}" for sc, r in s.iterrows()))
    time_cli(cc)


if __name__ == "__main__":
    main()
