"""Benchmark: required agents for 100,000 realistic intervals, this project vs pyworkforce's ErlangC.

Inputs (seeded): 5–600 calls per 30 minutes, AHT 120–600 s (whole seconds), 80 % answered in 20 s,
30 % shrinkage, 85 % occupancy cap. Both libraries get the same inputs. pyworkforce loops in Python; it
runs on every interval by default, ``--sample K`` times it on a random subsample of K intervals and
extrapolates linearly (stated in the output). Our time is the best of ``--repeat`` runs, pyworkforce's
is one run. Every interval where the two disagree (up to ``--check``) is re-computed with exact
arithmetic (fractions for Erlang B/C, 50-digit decimals for the exponential) to say who is right.
Prints a markdown table for the README.

    .venv/bin/python bench/capacity.py [--n 100000] [--sample K] [--check 300] [--repeat 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal, getcontext
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from src.models.capacity import required_agents  # noqa: E402

INTERVAL = 1800
SL, T, SHRINK, OCC = 0.8, 20, 0.3, 0.85
getcontext().prec = 50


def exact_agents(calls: int, aht: int) -> tuple[int, int]:
    """(raw, final) agents with exact arithmetic: rational Erlang B/C, 50-digit exp, rational ceilings."""
    a = Fraction(calls * aht, INTERVAL)
    inv_b = Fraction(1)
    n = 0
    target = Fraction(SL).limit_denominator(100)
    start = int(a) + 1  # floor(A) + 1
    while True:
        n += 1
        inv_b = 1 + inv_b * n / a
        if n < start:
            continue
        b = 1 / inv_b
        c = n * b / (n - a * (1 - b))
        expo = (-(Decimal(n) - Decimal(a.numerator) / Decimal(a.denominator)) * Decimal(T) / Decimal(aht)).exp()
        sl = 1 - Decimal(c.numerator) / Decimal(c.denominator) * expo
        if sl >= Decimal(target.numerator) / Decimal(target.denominator):
            break
    occ_n = -(-a.numerator * 100 // (a.denominator * 85))  # ceil(A / 0.85) exactly
    raw = max(n, occ_n)
    final = -(-raw * 10 // 7)  # ceil(raw / 0.7) exactly
    return raw, final


def pyworkforce_agents(calls: np.ndarray, aht: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(final, raw) positions from pyworkforce's ErlangC (minutes are its unit)."""
    from pyworkforce.queuing import ErlangC

    out = np.empty(calls.size, dtype=np.int64)
    raw = np.empty(calls.size, dtype=np.int64)
    for i, (c, h) in enumerate(zip(calls, aht, strict=True)):
        e = ErlangC(transactions=float(c), aht=float(h) / 60.0, asa=T / 60.0, interval=INTERVAL / 60, shrinkage=SHRINK)
        res = e.required_positions(service_level=SL, max_occupancy=OCC)
        out[i], raw[i] = res["positions"], res["raw_positions"]
    return out, raw


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=0, help="time pyworkforce on a random subsample of this size")

    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--check", type=int, default=300, help="disagreements re-checked exactly (max)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    try:
        import pyworkforce
    except ImportError:
        print("pyworkforce is not installed: .venv/bin/pip install pyworkforce==0.5.1", file=sys.stderr)
        return 1

    rng = np.random.default_rng(args.seed)
    calls = rng.integers(5, 601, args.n)
    aht = rng.integers(120, 601, args.n)

    required_agents(calls[:100], aht[:100])  # warm-up (imports, scipy caches)
    t_ours = np.inf
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        res = required_agents(calls, aht, interval_seconds=INTERVAL, sl_target=SL, answer_within_s=T,
                              max_occupancy=OCC, shrinkage=SHRINK)
        t_ours = min(t_ours, time.perf_counter() - t0)

    full = args.sample <= 0 or args.sample >= args.n
    idx = np.arange(args.n) if full else np.sort(rng.choice(args.n, size=min(args.sample, args.n),
                                                                  replace=False))
    t0 = time.perf_counter()
    theirs, theirs_raw = pyworkforce_agents(calls[idx], aht[idx])
    t_theirs_sample = time.perf_counter() - t0
    t_theirs = t_theirs_sample * args.n / idx.size

    ours, ours_raw = res.agents, res.agents_raw
    diff = np.flatnonzero(ours[idx] != theirs)
    raw_diff = int(np.sum(ours_raw[idx][diff] != theirs_raw[diff]))
    checked = diff[: args.check]
    ours_right = theirs_right = neither = 0
    for k in checked:
        i = idx[k]
        _, final = exact_agents(int(calls[i]), int(aht[i]))
        ours_right += int(final == ours[i])
        theirs_right += int(final == theirs[k])
        neither += int(final != ours[i] and final != theirs[k])
    # exactness of our result on a random sample where both agree, too
    agree_sample = rng.choice(np.setdiff1d(np.arange(idx.size), diff), size=min(200, idx.size - diff.size),
                              replace=False)
    agree_ok = sum(exact_agents(int(calls[idx[k]]), int(aht[idx[k]]))[1] == ours[idx[k]] for k in agree_sample)

    mode = "all intervals" if full else f"random subsample of {idx.size:,}, time extrapolated linearly"
    print(f"# Erlang C requirement benchmark (seed {args.seed}; pyworkforce {pyworkforce.__version__}: {mode})\n")
    print("| | this project | pyworkforce ErlangC |")
    print("|---|---|---|")
    print(f"| time for {args.n:,} intervals | {t_ours:.3f} s | {t_theirs:.1f} s"
          f"{'' if full else f' (measured {t_theirs_sample:.1f} s on {idx.size:,})'} |")
    print(f"| speed-up | **{t_theirs / t_ours:,.0f}×** | 1× |")
    print(f"| disagreeing intervals | {diff.size:,} of {idx.size:,} compared "
          f"({100 * diff.size / idx.size:.1f} %) | |")
    print(f"| … of which the raw (pre-shrinkage) count differs | {raw_diff:,} | |")
    print(f"| … of which only the shrinkage ceiling differs (float `ceil(raw / 0.7)`) | {diff.size - raw_diff:,} | |")
    print(f"| right per exact arithmetic (of {checked.size} disagreements re-checked) | {ours_right} | "
          f"{theirs_right} |")
    print(f"| exact check where both agree ({agree_sample.size} sampled) | {agree_ok}/{agree_sample.size} | "
          f"{agree_ok}/{agree_sample.size} |")
    if neither:
        print(f"\n{neither} re-checked intervals matched neither result.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
