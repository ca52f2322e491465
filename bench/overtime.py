"""Benchmark: overtime ranking, fairness report and acceptance model on the demo data and a larger synthetic pool.

Run: ``.venv/bin/python -m bench.overtime [--staff 1000] [--requests 20000] [--repeat 3]``.
Every time is the best of ``--repeat`` runs and is printed with its ratio to the named baseline
**prepare_history** (one vectorised pass that classifies every offer and computes its charged hours), so the
numbers say "how many history passes" each operation costs and stay comparable across machines.
Targets: ranking one request < 10 baseline passes (a live page re-ranks on every filter change); the
52-point fairness time series < 60 passes. Also prints the held-out log loss / AUC of the LightGBM
acceptance model against the smoothed historical rate on the demo data.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from src.models.overtime import (
    OvertimeRules,
    ShiftRequest,
    fairness_by_window,
    fairness_report,
    fairness_timeseries,
    prepare_history,
    rank_candidates,
)
from src.models.overtime.acceptance_model import fit_acceptance_model

SITES = [f"Home {c}" for c in "ABCDEFGH"]


def synthetic(n_staff: int, n_requests: int, random_state: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staff spread over 8 homes; each request contacts 1–6 people, mostly from its own home."""
    rng = np.random.default_rng(random_state)
    home = rng.choice(SITES, n_staff)
    staff = pd.DataFrame({
        "staff_id": [f"S{i:05d}" for i in range(n_staff)], "name": [f"Person {i}" for i in range(n_staff)],
        "site": home, "role": rng.choice(["nurse", "carer"], n_staff), "skills": "medication:3|dementia:2",
        "hire_date": pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.integers(0, 5000, n_staff), unit="D"),
        "contract_hours": rng.choice([20.0, 30.0, 38.5, 40.0], n_staff), "ot_willing": rng.random(n_staff) < 0.7,
        "preferred_sites": [f"{h}|{SITES[(SITES.index(h) + 1) % 8]}" for h in home],
    })
    end = pd.Timestamp("2026-10-31")
    rows = []
    by_site = {s: np.flatnonzero(home == s) for s in SITES}
    for r in range(n_requests):
        site = SITES[rng.integers(8)]
        day = end - pd.Timedelta(days=int(rng.integers(1, 365)))
        stype = ["early", "late", "night"][rng.integers(3)]
        t0 = day - pd.Timedelta(hours=float(rng.uniform(2, 72)))
        picks = rng.choice(by_site[site], size=min(len(by_site[site]), int(rng.integers(1, 7))), replace=False)
        winner = int(rng.integers(len(picks) + 1))
        for j, idx in enumerate(picks):
            contacted = t0 + pd.Timedelta(minutes=10 * j)
            answered = rng.random() < 0.85
            acc = answered and j == winner
            rows.append((f"R{r:06d}", day, site, stype, staff["staff_id"].iat[idx], contacted,
                         contacted + pd.Timedelta(minutes=float(rng.lognormal(3.5, 1.0))) if answered else pd.NaT,
                         acc, 8.0 if acc else 0.0))
    hist = pd.DataFrame(rows, columns=["request_id", "shift_date", "site", "shift_type", "staff_id", "contacted_at",
                                       "responded_at", "accepted", "hours_worked"])
    return staff, hist


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def run(name: str, staff: pd.DataFrame, hist: pd.DataFrame, repeat: int) -> None:
    as_of = pd.Timestamp(hist["contacted_at"].max())
    rules = OvertimeRules(as_of=as_of)
    site = hist["site"].iloc[-1]
    req = ShiftRequest(site=site, shift_date=as_of.normalize() + pd.Timedelta(days=2), shift_type="late", hours=8)
    base = best_of(lambda: prepare_history(hist, rules), repeat)
    res = rank_candidates(req, staff, hist, rules)
    rows = [
        ("prepare_history (baseline)", base),
        ("rank_candidates (1 request)", best_of(lambda: rank_candidates(req, staff, hist, rules), repeat)),
        ("fairness_report (90 days)", best_of(lambda: fairness_report(staff, hist, as_of, 90), repeat)),
        ("fairness_by_window (5 windows)", best_of(lambda: fairness_by_window(staff, hist, as_of), repeat)),
        ("fairness_timeseries (52 weeks)",
         best_of(lambda: fairness_timeseries(staff, hist, as_of, 90, periods=52), max(1, repeat // 2))),
    ]
    print(f"\n### {name}: {len(staff)} staff, {len(hist)} offers, {hist['request_id'].nunique()} requests; "
          f"{len(res.candidates)} candidates / {len(res.excluded)} excluded for one request\n")
    print("| operation | seconds | × baseline |\n|---|---:|---:|")
    for label, sec in rows:
        print(f"| {label} | {sec:.4f} | {sec / base:.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--staff", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    try:
        from src.data.demo import DemoConfig, generate_demo
    except ModuleNotFoundError:
        demo = None
    else:
        demo = generate_demo(DemoConfig())
        run("demo data", demo["staff"], demo["overtime"], args.repeat)
    staff, hist = synthetic(args.staff, args.requests)
    run("synthetic", staff, hist, args.repeat)
    if demo is not None:
        t = time.perf_counter()
        model = fit_acceptance_model(demo["staff"], demo["overtime"], n_jobs=1)
        sec = time.perf_counter() - t
        r = model.report
        print(f"\n### acceptance model on demo data (time split at {r.split_at:%Y-%m-%d}; train {r.n_train}, "
              f"test {r.n_test} offers; fit {sec:.2f} s)\n")
        print("| predictor | log loss | AUC |\n|---|---:|---:|")
        print(f"| smoothed historical rate | {r.logloss_rate:.4f} | {r.auc_rate:.3f} |")
        print(f"| LightGBM | {r.logloss_model:.4f} | {r.auc_model:.3f} |")
        print(f"\nuse_model = {r.use_model}")


if __name__ == "__main__":
    main()
