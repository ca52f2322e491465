"""Benchmark the upload loader against plain pandas on the same bytes.

    .venv/bin/python bench/bench_loader.py [--rows 100000] [--baseline-timeout 20]

1. Validating a 100k-row workload CSV (read + parse + all checks) vs ``pandas.read_csv`` alone
   (which does no validation at all), for an ISO/comma file and a German cp1252/semicolon file.
2. Hostile files: time until our loader rejects them vs ``pandas.read_csv`` / ``read_excel`` on the same
   file. Baselines run in a subprocess with a 2 GiB address-space cap and a timeout, because some of them
   never finish or exhaust memory (SECURITY_FINDINGS.md B, D3); a timeout is printed as ">T s".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from src.data.loader import ParseOptions  # noqa: E402
from src.data.validation import validate_upload  # noqa: E402
from tests.unit import fixtures_files as F  # noqa: E402

OPT = ParseOptions(today=date(2025, 1, 31))

BASELINE = """
import io, resource, sys, pandas as pd
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
data = open(sys.argv[1], "rb").read()
try:
    pd.{func}(io.BytesIO(data))
    print("ok")
except BaseException as exc:
    print(type(exc).__name__)
"""


def workload_csv(rows: int, german: bool) -> bytes:
    stamps = pd.date_range("2019-01-01 08:00", periods=rows, freq="30min")
    queues = ["calls", "emails", "chat", "outbound_OOK"]
    if german:
        lines = [f"{t:%d.%m.%Y %H:%M};{queues[k % 4]};{(k * 37) % 2500:,};{(k % 600) + 120},5".replace(",", ".", 1)
                 if (k * 37) % 2500 >= 1000 else f"{t:%d.%m.%Y %H:%M};{queues[k % 4]};{(k * 37) % 2500};"
                 f"{(k % 600) + 120},5" for k, t in enumerate(stamps)]
        return ("Datum/Uhrzeit;Warteschlange;Anzahl;AHT Sekunden\r\n" + "\r\n".join(lines) + "\r\n").encode("cp1252")
    lines = [f"{t:%Y-%m-%d %H:%M},{queues[k % 4]},{(k * 37) % 2500},{(k % 600) + 120}.5" for k, t in enumerate(stamps)]
    return ("timestamp,queue,volume,aht_seconds\n" + "\n".join(lines) + "\n").encode()


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def baseline(func: str, data: bytes, suffix: str, timeout: float) -> tuple[float, str]:
    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        t0 = time.perf_counter()
        try:
            out = subprocess.run([sys.executable, "-c", BASELINE.format(func=func), f.name], capture_output=True,
                                 text=True, timeout=timeout)
            return time.perf_counter() - t0, (out.stdout.strip() or out.stderr.strip()[-60:])
        except subprocess.TimeoutExpired:
            return float("inf"), f"still running after {timeout:g} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--baseline-timeout", type=float, default=20.0)
    args = ap.parse_args()

    print(f"== validate a {args.rows:,}-row workload CSV (best of 3) ==")
    for label, german in (("ISO, comma, UTF-8", False), ("German dd.mm.yyyy, ';', cp1252, 1.234 / 7,5", True)):
        data = workload_csv(args.rows, german)
        report = validate_upload("workload", "w.csv", data, OPT)
        assert report.ok, report.errors[:3]
        ours = best_of(lambda d=data: validate_upload("workload", "w.csv", d, OPT))
        kw = {"sep": ";", "encoding": "cp1252"} if german else {}
        pandas_t = best_of(lambda d=data, kw=kw: pd.read_csv(__import__("io").BytesIO(d), **kw))
        print(f"{label:48s} {len(data) / 1e6:5.1f} MB  validate_upload {ours:6.2f} s   pandas.read_csv (no checks) "
              f"{pandas_t:5.2f} s   ratio {ours / pandas_t:5.1f}x   ({report.summary()})")

    print("\n== hostile files: our rejection vs plain pandas on the same bytes ==")
    hostile = [
        ("duplicate header x5000 (20 KB)", F.duplicate_header_csv(5000), ".csv", "read_csv"),
        ("duplicate header x20000 (80 KB)", F.duplicate_header_csv(20_000), ".csv", "read_csv"),
        ("billion laughs in sharedStrings", F.bomb_xlsx(), ".xlsx", "read_excel"),
        ("quadratic blowup", F.quadratic_blowup_xlsx(), ".xlsx", "read_excel"),
        ("sparse A1+XFD1+A2000 (5 KB)", F.sparse_far_cells_xlsx(("A1", "XFD1", "A2000")), ".xlsx", "read_excel"),
        ("sparse A1+XFD1+A1048576 (5 KB)", F.sparse_far_cells_xlsx(), ".xlsx", "read_excel"),
        ("100 000 columns x 2 rows", F.wide_rows_xlsx(100_000), ".xlsx", "read_excel"),
        ("30 000 rows x 10, no r= attributes", F.many_rows_xlsx(30_000), ".xlsx", "read_excel"),
        ("OLE2 / encrypted workbook", F.OLE2_HEADER, ".xlsx", "read_excel"),
    ]
    print(f"{'file':36s} {'size':>8s}  {'ours':>8s}  {'pandas':>10s}  {'ratio':>8s}  our verdict / pandas outcome")
    for label, data, suffix, func in hostile:
        t0 = time.perf_counter()
        report = validate_upload("workload", "h" + suffix, data, OPT)
        ours = time.perf_counter() - t0
        verdict = (report.errors[0].code if report.errors else "accepted")
        theirs, outcome = baseline(func, data, suffix, args.baseline_timeout)
        ratio = f">{args.baseline_timeout / ours:,.0f}x" if theirs == float("inf") else f"{theirs / ours:,.0f}x"
        shown = f">{args.baseline_timeout:g} s" if theirs == float("inf") else f"{theirs:.2f} s"
        print(f"{label:36s} {len(data) / 1024:6.0f}KB  {ours:7.3f}s  {shown:>10s}  {ratio:>8s}  {verdict} / {outcome}")
    print("\n(pandas times include interpreter + pandas start-up in the subprocess, about 0.4 s here)")


if __name__ == "__main__":
    main()
