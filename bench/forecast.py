"""Forecast benchmark: every model vs default Prophet on the demo contact-centre and care-home series.

Protocol (honest hold-out): for each series the last ``H`` steps (hourly: one week; daily: 28 days)
are held out — repeated for ``--origins`` consecutive windows. On the history before the hold-out:

- per model: 3-fold rolling backtest (conformal calibration) + final fit → forecast the hold-out;
- ``auto``: the product path ``run_forecast(model="auto")`` (backtest all candidates, choose, refit);
- ``prophet_default``: ``Prophet()`` untouched, its own 80/95% intervals.

Reported per model: mean MASE (vs in-sample weekly seasonal naive), WAPE (pooled), 80/95 coverage
(pooled, %), seconds per series (model: final fit+predict only; auto: the whole pipeline) as wall time and as CPU
time (this process + CmdStan subprocesses: unlike wall time it does not depend on other load). Then the
ratios auto / default Prophet. Also: conformal scaling none/sqrt/level for the auto choice, and the
CLI on one year of hourly data. Nothing here is tuned to the demo data.

Two ``auto`` rows: ``auto`` is the product default (expensive models backtested on the newest 2 folds,
pre-screen after the newest fold); ``auto (full backtest)`` backtests every candidate on every fold.

Noise floor: ``oracle`` forecasts the generator's own mean for every interval (it knows the latent
level, trend, campaigns and occupancy drift but not the random draws) — no forecaster can expect to do
better, so ``1 - oracle / default Prophet`` is the largest improvement over default Prophet this data
allows. The demo generator's means are captured by recording its random draws, not re-implemented.

Data sets: (1) the demo contact centre (hourly) and care homes (daily) from ``src/data/demo.py``;
(2) a harder synthetic contact-centre export generated here with a fixed seed (:func:`realistic_cc`):
only open hours present, opening hours and daily profiles that differ strongly by weekday, public
holidays closed, an outage with catch-up, level shifts (one six weeks before the end) and a campaign.
Its parameters were written down before any model was run on it and are not tuned to any model.

Run: ``.venv/bin/python bench/forecast.py [--max-series 6] [--origins 2] [--sets demo,realistic]``
"""

from __future__ import annotations

import argparse
import resource
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


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (CmdStan runs Prophet's fits as subprocesses).

    Why beside wall time: wall time depends on what else the machine runs; the CPU time a forecast costs
    does not, so the auto/Prophet ratio is reported both ways.
    """
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


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


class _RecordingRng:
    """Delegates to a numpy Generator and records every ``normal`` draw (to recover the demo's means)."""

    def __init__(self, gen: np.random.Generator) -> None:
        self._gen = gen
        self.normals: list[tuple[float, np.ndarray]] = []

    def normal(self, loc=0.0, scale=1.0, size=None):
        out = self._gen.normal(loc, scale, size)
        self.normals.append((float(scale), np.asarray(out)))
        return out

    def __getattr__(self, name):
        return getattr(self._gen, name)


class _RintRecorder:
    """Stands in for the numpy module inside src/data/demo.py and records ``np.rint``'s argument."""

    def __init__(self) -> None:
        self.calls: list[np.ndarray] = []

    def rint(self, x, *a, **k):
        self.calls.append(np.asarray(x).copy())
        return np.rint(x, *a, **k)

    def __getattr__(self, name):
        return getattr(np, name)


def demo_with_oracle() -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """The demo data plus the generator's mean per row: (data, workload oracle, care oracle).

    Workload: the negative-binomial mean without the day's random level (``mu / day_noise · E[day_noise]``).
    Care homes: ``shifts = max(1, rint(mu + z·(0.30 + 0.06·mu)))``; mu is solved from the recorded ``rint``
    argument and ``z``. Both only *record* draws, so the data is identical to ``generate_demo(DemoConfig())``.
    """
    from src.data import demo

    config = demo.DemoConfig()
    rngs: dict[str, _RecordingRng] = {}
    mus: list[np.ndarray] = []
    orig_rng, orig_nb, orig_np = demo._rng, demo._nb_counts, demo.np
    rint = _RintRecorder()

    def rng(cfg, stream):
        rngs[stream] = _RecordingRng(orig_rng(cfg, stream))
        return rngs[stream]

    def nb(r, mu, k):
        mus.append(np.asarray(mu).copy())
        return orig_nb(r, mu, k)

    demo._rng, demo._nb_counts, demo.np = rng, nb, rint
    try:
        data = demo.generate_demo(config)
    finally:
        demo._rng, demo._nb_counts, demo.np = orig_rng, orig_nb, orig_np
    days = demo._days(config)
    hours = np.arange(24)
    ts = (days.to_numpy()[:, None] + (hours * np.timedelta64(1, "h"))[None, :]).ravel()
    day_sigma = 0.06
    noise = [z for scale, z in rngs["workload"].normals if scale == day_sigma and z.shape == (len(days), 1)]
    frames = []
    for q, mu, z in zip(demo.CC_QUEUES, mus, noise, strict=True):
        base = mu / np.exp(z) * np.exp(day_sigma ** 2 / 2)
        frames.append(pd.DataFrame({"series_id": f"{q}@{config.cc_site}", "ds": ts, "oracle": base.ravel()}))
    w_oracle = pd.concat(frames, ignore_index=True)
    units = demo._unit_table(config)
    z = next(z for scale, z in rngs["unit_shifts"].normals if scale == 1.0 and z.shape == (len(days), len(units)))
    value = next(v for v in rint.calls if v.shape == z.shape)
    mu = (value - 0.30 * z) / (1.0 + 0.06 * z)
    c_oracle = pd.DataFrame({"series_id": np.tile((units["site"] + "/" + units["unit"]).to_numpy(), len(days)),
                             "ds": np.repeat(days.to_numpy(), len(units)), "oracle": mu.ravel()})
    check = np.clip(np.rint(c_oracle["oracle"].to_numpy() + z.ravel() * (0.30 + 0.06 * c_oracle["oracle"])), 1, None)
    assert np.array_equal(check, np.clip(np.rint(value.ravel()), 1, None)), "care oracle does not reproduce the data"
    return data, w_oracle, c_oracle


def realistic_cc(seed: int = 20240601) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A harder hourly contact-centre export (only open hours present) and its true mean.

    Written to look like real exports, not to suit any model: per-queue opening hours that differ by weekday
    (a short Saturday, Sundays closed), Monday front-loaded, Tue–Thu double peak with a lunch dip, Friday
    fading after lunch; German public holidays (Berlin) closed and +30% on the next open day; a 4-hour telephony
    outage with catch-up; level shifts (+35% nine months before the end; −25% six weeks before the end; +20%
    five months before the end); a three-week +50% campaign; mild trend and yearly season; day-level noise
    (8%) and negative-binomial counts (shape 30). Two years ending 2026-10-31.
    """
    import holidays as holidays_lib

    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-11-01", "2026-10-31", freq="D")
    end = days[-1]
    hol = holidays_lib.country_holidays("DE", subdiv="BE", years=range(2024, 2027))
    is_hol = np.array([d.date() in hol for d in days])
    after = np.zeros(len(days), dtype=bool)
    pending = False
    for i, d in enumerate(days):
        if is_hol[i] or d.dayofweek == 6:
            pending = pending or bool(is_hol[i])
        elif pending:
            after[i], pending = True, False
    wd = days.dayofweek.to_numpy()
    t = np.arange(len(days)) / 365.25
    season = 1 + 0.08 * np.cos(2 * np.pi * (days.dayofyear.to_numpy() - 15) / 365.25)
    h = np.arange(24)[None, :]

    def bumps(*spec: tuple[float, float, float]) -> np.ndarray:
        return sum(a * np.exp(-0.5 * ((np.arange(24) - c) / w) ** 2) for a, c, w in spec)

    shapes = {  # weekday -> intraday shape (peak ≈ 1)
        0: bumps((1.35, 9.5, 1.6), (0.55, 14.5, 2.5)),
        1: bumps((0.95, 10.0, 1.5), (0.85, 14.5, 1.8)), 2: bumps((0.95, 10.0, 1.5), (0.85, 14.5, 1.8)),
        3: bumps((0.90, 10.5, 1.5), (0.90, 15.0, 1.8)),
        4: bumps((1.00, 9.5, 1.5), (0.35, 14.0, 2.0)),
        5: bumps((0.55, 11.0, 1.6)), 6: np.zeros(24),
    }
    queues = {  # name: (level, {weekday: (open, close)}, [(start, factor)], campaign?, outage?)
        "service": (120.0, {0: (7, 20), 1: (7, 20), 2: (7, 20), 3: (7, 20), 4: (7, 20), 5: (9, 15)},
                    [(end - pd.Timedelta(days=270), 1.35)], False, True),
        "sales": (40.0, {d: (9, 18) for d in range(5)}, [(end - pd.Timedelta(days=42), 0.75)], False, False),
        "support": (70.0, {d: (8, 22) for d in range(6)}, [(end - pd.Timedelta(days=150), 1.20)], True, False),
    }
    ts = days.to_numpy()[:, None] + (np.arange(24) * np.timedelta64(1, "h"))[None, :]
    rows, truth = [], []
    for q, (level, hours, shifts, campaign, outage) in queues.items():
        shape = np.vstack([shapes[d] for d in wd])
        open_ = np.zeros((len(days), 24), dtype=bool)
        for d, (a, b) in hours.items():
            open_[wd == d] = (h >= a) & (h < b)
        open_ &= ~is_hol[:, None]
        lvl = np.ones(len(days))
        for start, factor in shifts:
            lvl = np.where(days >= start, lvl * factor, lvl)
        if campaign:
            lvl = np.where((days >= end - pd.Timedelta(days=330)) & (days < end - pd.Timedelta(days=309)),
                           lvl * 1.5, lvl)
        day_mean = level * lvl * season * (1.05 ** t) * np.where(after, 1.3, 1.0)
        mu = day_mean[:, None] * shape * open_
        if outage:
            start = pd.Timestamp(days[len(days) // 2]).normalize()
            while start.dayofweek > 4 or start.date() in hol:
                start += pd.Timedelta(days=1)
            o0 = np.datetime64(start + pd.Timedelta(hours=10))
            in_out = (ts >= o0) & (ts < o0 + np.timedelta64(4, "h"))
            mu = np.where(in_out, mu * 0.05, mu)
            for lag, bump in enumerate((1.6, 1.3)):
                mu = np.where(ts == o0 + np.timedelta64(4 + lag, "h"), mu * bump, mu)
        sigma = 0.08
        noisy = mu * np.exp(rng.normal(0, sigma, size=(len(days), 1)))
        y = rng.poisson(noisy * rng.gamma(30.0, 1 / 30.0, size=mu.shape))
        sel = open_.ravel()
        rows.append(pd.DataFrame({"series_id": q, "ds": ts.ravel()[sel], "y": y.ravel()[sel].astype(float)}))
        truth.append(pd.DataFrame({"series_id": q, "ds": ts.ravel(), "oracle": (mu * np.exp(sigma ** 2 / 2)).ravel()}))
    return pd.concat(rows, ignore_index=True), pd.concat(truth, ignore_index=True)


def load_data(max_series: int) -> tuple[pd.DataFrame, pd.DataFrame, str, pd.DataFrame, pd.DataFrame]:
    try:
        data, w_oracle, c_oracle = demo_with_oracle()
        source = "src/data/demo.py (DemoConfig defaults)"
    except ImportError:
        data, source = synthetic(), "synthetic generator in bench/forecast.py"
        w_oracle = c_oracle = pd.DataFrame(columns=["series_id", "ds", "oracle"])
    w = data["workload"]
    sid = w["queue"].astype(str) + ("@" + w["site"].astype(str) if "site" in w else "")
    cc = pd.DataFrame({"series_id": sid, "ds": pd.to_datetime(w["timestamp"]), "y": w["volume"].astype(float)})
    u = data["unit_shifts"]
    care = pd.DataFrame({"series_id": u["site"].astype(str) + "/" + u["unit"].astype(str),
                         "ds": pd.to_datetime(u["date"]), "y": u["shifts"].astype(float)})
    keep = sorted(care["series_id"].unique())[:max_series]
    return cc, care[care["series_id"].isin(keep)], source, w_oracle, c_oracle


def evaluate(df: pd.DataFrame, horizon: int, origins: int, folds: int, oracle: pd.DataFrame | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (series, origin, model): hold-out errors; returns (rows, scale-comparison rows)."""
    rows, scale_rows = [], []
    truth = oracle.set_index(["series_id", "ds"])["oracle"] if oracle is not None and len(oracle) else None
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
                       y: np.ndarray = y, origin: pd.Timestamp = origin, cpu: float = float("nan")) -> None:
                row = {"series_id": sid, "origin": origin, "model": model, "chosen": chosen,
                       "mase": M.mase(y, yhat, scale), "abs_err": np.nansum(np.abs(y - yhat)),
                       "abs_y": np.nansum(np.abs(y)), "seconds": seconds, "total_seconds": total_seconds,
                       "cpu_seconds": cpu}
                obs = np.isfinite(y)
                for lv in LEVELS:
                    lo, hi = bounds[f"yhat_lower_{lv}"], bounds[f"yhat_upper_{lv}"]
                    row[f"in_{lv}"] = int(((y[obs] >= lo[obs]) & (y[obs] <= hi[obs])).sum())
                    row[f"width_{lv}"] = float(np.mean(hi[obs] - lo[obs]))
                row["n"] = int(obs.sum())
                rows.append(row)

            # product path: auto (default time savers), and auto with every candidate on every fold
            c0, t0 = cpu_seconds(), time.perf_counter()
            res = run_forecast(train, ForecastConfig(horizon=horizon, folds=folds, seed=0))
            t_auto, c_auto = time.perf_counter() - t0, cpu_seconds() - c0
            fc = res.forecast
            chosen = res.chosen[sid]
            record("auto", fc["yhat"].to_numpy(), {c: fc[c].to_numpy() for c in fc.columns if "_" in c and
                                                   c.startswith("yhat_")}, t_auto, t_auto, chosen, cpu=c_auto)
            c0, t0 = cpu_seconds(), time.perf_counter()
            full = run_forecast(train, ForecastConfig(horizon=horizon, folds=folds, seed=0, expensive_folds=None,
                                                      screen_ratio=None))
            t_full, c_full = time.perf_counter() - t0, cpu_seconds() - c0
            ff = full.forecast
            record("auto (full backtest)", ff["yhat"].to_numpy(), {c: ff[c].to_numpy() for c in ff.columns
                                                                   if c.startswith(("yhat_lower", "yhat_upper"))},
                   t_full, t_full, full.chosen[sid], cpu=c_full)
            if truth is not None:
                mean = truth.reindex(pd.MultiIndex.from_arrays([[sid] * len(fut.ds), fut.ds])).to_numpy(float)
                mean = np.where(fut.closed, 0.0, np.nan_to_num(mean))
                nan = np.full(len(mean), np.nan)
                record("oracle (true mean)", mean, {f"yhat_{s}_{lv}": nan for lv in LEVELS for s in ("lower", "upper")},
                       0.0, 0.0)
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
                c1, t1 = cpu_seconds(), time.perf_counter()
                model.fit(prep, horizon)
                pred = model.predict(fut, LEVELS if model.native_intervals else ())
                secs, cpu = time.perf_counter() - t1, cpu_seconds() - c1
                yhat = np.where(fut.closed, 0.0, np.clip(pred["yhat"].to_numpy(), 0, None))
                if model.native_intervals:
                    bounds = {c: np.where(fut.closed, 0, np.clip(pred[c].to_numpy(), 0, None)) for c in pred.columns
                              if c.startswith(("yhat_lower", "yhat_upper"))}
                else:
                    bounds = bt.calibrator(name, LEVELS, "sqrt").apply(yhat, closed=fut.closed)
                record(name, yhat, bounds, secs, secs + bt_seconds[name], cpu=cpu)
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
        "CPU s": g["cpu_seconds"].mean(),
    })
    if "oracle (true mean)" in out.index:
        out.loc["oracle (true mean)", ["cov80 %", "cov95 %", "width95"]] = np.nan
    order = ["auto", "auto (full backtest)"] + [m for m in MODELS if m in out.index] + ["oracle (true mean)"]
    return out.loc[[m for m in order if m in out.index]]


def markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| model | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for name, row in table.iterrows():
        lines.append(f"| {name} | " + " | ".join("–" if not np.isfinite(v) else f"{v:.3f}" if abs(v) < 10
                                                 else f"{v:.1f}" for v in row) + " |")
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


def report(title: str, df: pd.DataFrame, horizon: int, args: argparse.Namespace, oracle: pd.DataFrame | None) -> None:
    print(f"\n## {title}", flush=True)
    rows, scales = evaluate(df, horizon, args.origins, args.folds, oracle)
    table = summarise(rows)
    print(markdown(table))
    auto, full, ref = table.loc["auto"], table.loc["auto (full backtest)"], table.loc["prophet_default"]
    chosen = rows[rows["model"] == "auto"]["chosen"].value_counts().to_dict()
    chosen_rows = rows.merge(rows[rows["model"] == "auto"][["series_id", "origin", "chosen"]].rename(
        columns={"chosen": "pick"}), on=["series_id", "origin"])
    chosen_secs = chosen_rows[chosen_rows["model"] == chosen_rows["pick"]]["seconds"].mean()
    chosen_cpu = chosen_rows[chosen_rows["model"] == chosen_rows["pick"]]["cpu_seconds"].mean()
    print(f"\nauto picked: {chosen}")
    target = "MEETS" if auto["MASE"] <= 0.85 * ref["MASE"] else "misses"
    print(f"auto / default Prophet: MASE ratio {auto['MASE'] / ref['MASE']:.2f} "
          f"({100 * (1 - auto['MASE'] / ref['MASE']):.0f}% better; target ≥ 15%: {target}); time ratio, whole auto "
          f"pipeline {auto['fit+predict s'] / ref['fit+predict s']:.2f} (full backtest: "
          f"{full['fit+predict s'] / ref['fit+predict s']:.2f}, MASE {full['MASE']:.3f}); time ratio, chosen model "
          f"fit+predict {chosen_secs / ref['fit+predict s']:.2f}")
    print(f"CPU-time ratio auto / default Prophet (wall time depends on the machine's other load): whole auto "
          f"pipeline {auto['CPU s'] / ref['CPU s']:.2f}, chosen model {chosen_cpu / ref['CPU s']:.2f}")
    if "oracle (true mean)" in table.index:
        floor = table.loc["oracle (true mean)", "MASE"]
        room = 1 - floor / ref["MASE"]
        verdict = ("so NO model can beat default Prophet by 15% on this data — the target is unreachable here"
                   if room < 0.15 else "so a 15% improvement is possible in principle")
        print(f"noise floor: the oracle that knows the true mean scores MASE {floor:.3f}; default Prophet "
              f"{ref['MASE']:.3f} is {100 * (ref['MASE'] / floor - 1):.0f}% above it; the most any model can gain over "
              f"default Prophet is {100 * room:.0f}%, {verdict}. auto is {100 * (auto['MASE'] / floor - 1):.0f}% above "
              "the floor.")
    s = scales.groupby("scale")[["n", "in_80", "in_95"]].sum()
    print("conformal scaling for the auto choice (hold-out coverage %): " + "; ".join(
        f"{sc}: 80%→{100 * r.in_80 / r.n:.1f}, 95%→{100 * r.in_95 / r.n:.1f}" for sc, r in s.iterrows()))


def warm_up() -> None:
    """Import Prophet/LightGBM and start CmdStan once, so the first timed model does not pay for it."""
    ds = pd.date_range("2024-01-01", periods=70, freq="D")
    frame = pd.DataFrame({"ds": ds, "y": np.arange(70) % 7 + 10.0 + np.random.default_rng(0).normal(0, 1, 70)})
    run_forecast(frame, ForecastConfig(horizon=7, folds=2, country_holidays=None))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-series", type=int, default=8, help="care-home units to include (hourly: all queues)")
    ap.add_argument("--origins", type=int, default=2, help="hold-out windows per series")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--sets", default="demo,realistic", help="comma-separated: demo, realistic")
    ap.add_argument("--no-cli", action="store_true", help="skip the CLI timing")
    args = ap.parse_args()
    sets = {x.strip() for x in args.sets.split(",")}
    warm_up()
    cc, care, source, w_oracle, c_oracle = load_data(args.max_series)
    if "demo" in sets:
        print(f"data: {source}; contact centre {cc['series_id'].nunique()} hourly series, "
              f"care homes {care['series_id'].nunique()} daily series")
        report("Demo contact centre, hourly, horizon 168 h", cc, 168, args, w_oracle)
        report("Demo care homes, daily, horizon 28 days", care, 28, args, c_oracle)
    if "realistic" in sets:
        real, truth = realistic_cc()
        print(f"\ndata: realistic_cc() in bench/forecast.py (seed 20240601), {real['series_id'].nunique()} hourly "
              f"queues, {len(real):,} open-hour rows")
        report("Realistic contact-centre export (synthetic), hourly, horizon 168 h", real, 168, args, truth)
    if not args.no_cli:
        time_cli(cc)


if __name__ == "__main__":
    main()
