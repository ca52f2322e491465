"""model="auto": pick each series' model from its backtest and say why in one sentence.

Rule: the lowest MASE wins (``mase_common`` — the MASE on the folds every model has — when the expensive
models were backtested on fewer folds), but a simpler model whose MASE is within ``TOLERANCE`` (2%) of the best
is preferred (``SIMPLICITY`` order) — a hair of backtest advantage is noise, and simpler models are
faster, easier to explain and fail less often. Models that could not run are listed with the reason.
"""

from __future__ import annotations

import math

import pandas as pd

TOLERANCE = 0.02
#: simplest first
SIMPLICITY: tuple[str, ...] = ("seasonal_naive", "profile", "lightgbm", "lightgbm_recursive", "prophet",
                               "prophet_default", "ensemble")


def _rank(name: str) -> int:
    return SIMPLICITY.index(name) if name in SIMPLICITY else len(SIMPLICITY)


def choose_model(table: pd.DataFrame, candidates: tuple[str, ...] | list[str], levels: tuple[int, ...] = (80, 95),
                 tolerance: float = TOLERANCE) -> tuple[str, str]:
    """(model, reason) for one series' backtest table (rows of :func:`backtest.SeriesBacktest.table`).

    Raises ``ValueError`` when no candidate produced a finite MASE.
    """
    rows = table[table["model"].isin(candidates)]
    ok = rows[rows["mase"].apply(lambda v: isinstance(v, float) and math.isfinite(v))]
    if ok.empty:
        errors = "; ".join(f"{r.model}: {r.error or 'no score'}" for r in rows.itertuples())
        raise ValueError(f"No model could be backtested ({errors})")
    key = "mase"
    if "mase_common" in ok and ok["mase_common"].apply(lambda v: isinstance(v, float) and math.isfinite(v)).all():
        key = "mase_common"
    best_mase = float(ok[key].min())
    close = ok[ok[key] <= best_mase * (1 + tolerance)]
    winner = min(close["model"], key=_rank)
    w = ok[ok["model"] == winner].iloc[0]
    others = ok[ok["model"] != winner].sort_values(key)
    cmp = ", ".join(f"{r.model} {getattr(r, key):.2f}" for r in others.itertuples())
    basis = " on the folds all models share" if key == "mase_common" else ""
    reason = f"{winner} won: MASE{basis} {w[key]:.2f}" + (f" vs {cmp}" if cmp else "")
    reason += f" (WAPE {w['wape']:.1f}%"
    cov = [f"{lv}% interval covered {w[f'coverage_{lv}']:.0f}%" for lv in levels
           if math.isfinite(float(w.get(f"coverage_{lv}", float("nan"))))]
    reason += "; " + ", ".join(cov) if cov else ""
    reason += f" in a {int(w['folds'])}-fold backtest)"
    if winner != ok.loc[ok[key].idxmin(), "model"]:
        reason += f"; preferred as the simpler model within {tolerance:.0%} of the best"
    failed = rows[rows["error"].astype(bool)]
    if not failed.empty:
        reason += "; not compared: " + ", ".join(f"{r.model} ({r.error})" for r in failed.itertuples())
    return str(winner), reason + "."
