"""model="auto": pick each series' model from its backtest and say why in one sentence.

Rule: the lowest MASE wins (``mase_common`` — the MASE on the folds every model has — when the expensive
models were backtested on fewer folds; the MAE when MASE is undefined because the history never changes
from week to week, e.g. a care unit that always needs 5 shifts, or only zeros), but a simpler model whose
score is within ``TOLERANCE`` (2%) of the best is preferred (``SIMPLICITY`` order) — a hair of backtest
advantage is noise, and simpler models are faster, easier to explain and fail less often. Models that
could not run are listed with the reason.
"""

from __future__ import annotations

import math

import pandas as pd

TOLERANCE = 0.02
#: simplest first
SIMPLICITY: tuple[str, ...] = ("seasonal_naive", "profile", "lightgbm", "lightgbm_recursive", "prophet",
                               "prophet_default", "ensemble")


def _finite(value: object) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _rank(name: str) -> int:
    return SIMPLICITY.index(name) if name in SIMPLICITY else len(SIMPLICITY)


def choose_model(table: pd.DataFrame, candidates: tuple[str, ...] | list[str], levels: tuple[int, ...] = (80, 95),
                 tolerance: float = TOLERANCE) -> tuple[str, str]:
    """(model, reason) for one series' backtest table (rows of :func:`backtest.SeriesBacktest.table`).

    Raises ``ValueError`` when no candidate produced a finite MASE.
    """
    rows = table[table["model"].isin(candidates)]
    scored = rows["mase"].apply(_finite)
    if "mae" in rows:
        scored |= rows["mae"].apply(_finite)
    ok = rows[scored]
    if ok.empty:
        errors = "; ".join(f"{r.model}: {r.error or 'no score'}" for r in rows.itertuples())
        raise ValueError(f"No model could be backtested ({errors})")
    if ok["mase"].apply(_finite).all():
        key, label = "mase", "MASE"
        if "mase_common" in ok and ok["mase_common"].apply(_finite).all():
            key, label = "mase_common", "MASE on the folds all models share"
    else:
        key, label = "mae", "MAE"
        if "mae_common" in ok and ok["mae_common"].apply(_finite).all():
            key, label = "mae_common", "MAE on the folds all models share"
    best = float(ok[key].min())
    close = ok[ok[key] <= best * (1 + tolerance) + (1e-9 if best == 0 else 0.0)]
    winner = min(close["model"], key=_rank)
    w = ok[ok["model"] == winner].iloc[0]
    others = ok[ok["model"] != winner].sort_values(key)
    cmp = ", ".join(f"{r.model} {getattr(r, key):.2f}" for r in others.itertuples())
    reason = f"{winner} won: {label} {w[key]:.2f}" + (f" vs {cmp}" if cmp else "")
    cov = ", ".join(f"{lv}% interval covered {w[f'coverage_{lv}']:.0f}%" for lv in levels
                    if math.isfinite(float(w.get(f"coverage_{lv}", float("nan")))))
    facts = "; ".join(part for part in ([f"WAPE {w['wape']:.1f}%"] if _finite(w["wape"]) else []) + [cov] if part)
    reason += f" ({facts + ' ' if facts else ''}in a {int(w['folds'])}-fold backtest)"
    if key.startswith("mae"):
        reason += ("; compared on MAE because MASE is undefined: the history repeats itself exactly from week to "
                   "week (the seasonal naive scale is 0)")
    if winner != ok.loc[ok[key].idxmin(), "model"]:
        reason += f"; preferred as the simpler model within {tolerance:.0%} of the best"
    failed = rows[rows["error"].astype(bool)]
    if not failed.empty:
        reason += "; not compared: " + ", ".join(f"{r.model} ({r.error})" for r in failed.itertuples())
    return str(winner), reason + "."
