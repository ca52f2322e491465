"""Metrics for success scores, always computed the same way for the model and the rules.

Ranking metrics need candidate sets with known outcomes, but history only records the outcome of the
person who was actually assigned. We therefore rank *historical (task, person) pairs* inside groups
of comparable tasks — by default the same task type in the same week of ``assigned_at`` — and ask
whether a scorer puts the pairs that succeeded on top. Groups with only successes or only failures
say nothing about ranking and are skipped (their count is reported). This is a proxy for "pick the
best person for this task": it measures the ability to tell good pairings from bad ones among
comparable work, without inventing counterfactual outcomes for people who were never assigned.
Ties are broken by input order; the expected precision of a random ordering is reported alongside.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss as _log_loss
from sklearn.metrics import roc_auc_score


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """AUC, log loss and Brier score of probabilities ``p`` for labels ``y`` (NaN when undefined)."""
    y = np.asarray(y, dtype=int)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    both = y.size > 0 and 0 < y.sum() < y.size
    return {
        "n": int(y.size),
        "positive_rate": float(y.mean()) if y.size else float("nan"),
        "auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "log_loss": float(_log_loss(y, p, labels=[0, 1])) if y.size else float("nan"),
        "brier": float(np.mean((p - y) ** 2)) if y.size else float("nan"),
    }


def calibration_curve(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table over equal-width probability bins: ``bin_lower, bin_upper, mean_predicted,
    observed_rate, count`` (empty bins omitted). A calibrated scorer has mean_predicted ≈ observed_rate."""
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 0, 1)
    edges = np.linspace(0, 1, n_bins + 1)
    b = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    df = pd.DataFrame({"b": b, "p": p, "y": y}).groupby("b").agg(mean_predicted=("p", "mean"),
                                                                observed_rate=("y", "mean"), count=("y", "size"))
    df.insert(0, "bin_upper", edges[df.index + 1])
    df.insert(0, "bin_lower", edges[df.index])
    return df.reset_index(drop=True)


def ranking_metrics(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, k: int = 3) -> dict[str, float]:
    """Mean Precision@k and NDCG@k (binary relevance) over informative groups.

    Precision@k divides by ``min(k, group size)``. Returns ``precision_at_k, ndcg_at_k,
    random_precision_at_k`` (expected value of a random order = group success rate), ``n_groups``,
    ``n_skipped``.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    df = pd.DataFrame({"y": np.asarray(labels, dtype=float), "s": np.asarray(scores, dtype=float),
                       "g": np.asarray(groups), "pos": np.arange(len(labels))})
    df = df.sort_values(["g", "s", "pos"], ascending=[True, False, True], kind="mergesort")
    df["rank"] = df.groupby("g", sort=False).cumcount()
    stats = df.groupby("g", sort=False)["y"].agg(["sum", "size"])
    informative = stats[(stats["sum"] > 0) & (stats["sum"] < stats["size"])].index
    top = df[df["rank"] < k]
    top = top[top["g"].isin(informative)]
    disc = 1.0 / np.log2(top["rank"].to_numpy() + 2.0)
    dcg = pd.Series(top["y"].to_numpy() * disc, index=top["g"].to_numpy()).groupby(level=0).sum()
    st = stats.loc[informative]
    ideal_n = np.minimum(st["sum"].to_numpy(), k).astype(int)
    idcg_table = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(k) + 2.0))])
    idcg = pd.Series(idcg_table[ideal_n], index=informative)
    denom = np.minimum(st["size"], k)
    prec = pd.Series(top["y"].to_numpy(), index=top["g"].to_numpy()).groupby(level=0).sum() / denom
    n = len(informative)
    return {
        "precision_at_k": float(prec.reindex(informative).mean()) if n else float("nan"),
        "ndcg_at_k": float((dcg.reindex(informative) / idcg).mean()) if n else float("nan"),
        "random_precision_at_k": float((st["sum"] / st["size"]).mean()) if n else float("nan"),
        "n_groups": int(n),
        "n_skipped": int(len(stats) - n),
        "k": int(k),
    }


def evaluation_groups(frame: pd.DataFrame, freq: str = "W") -> np.ndarray:
    """Group key for ranking metrics: task type × period of ``as_of`` (default: week)."""
    period = pd.to_datetime(frame["as_of"]).dt.to_period(freq).astype(str)
    return (frame["task_type"].astype(str) + "|" + period).to_numpy()


def compare_scorers(labels: np.ndarray, groups: np.ndarray, probabilities: dict[str, np.ndarray],
                    k: int = 3) -> pd.DataFrame:
    """Side-by-side table, one row per scorer: ``scorer, n, auc, log_loss, brier, precision_at_3,
    ndcg_at_3, random_precision_at_3, n_groups``. Pass every scorer's *calibrated* probabilities
    for the same rows so the numbers are comparable."""
    rows = []
    for name, p in probabilities.items():
        b = binary_metrics(labels, p)
        r = ranking_metrics(labels, p, groups, k=k)
        rows.append({"scorer": name, "n": b["n"], "auc": b["auc"], "log_loss": b["log_loss"], "brier": b["brier"],
                     f"precision_at_{k}": r["precision_at_k"], f"ndcg_at_{k}": r["ndcg_at_k"],
                     f"random_precision_at_{k}": r["random_precision_at_k"], "n_groups": r["n_groups"]})
    return pd.DataFrame(rows)
