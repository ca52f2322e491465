"""Forecast accuracy and interval metrics.

Conventions (chosen so one table reads the same everywhere in the product):
- ``mae``, ``rmse`` are in the unit of the series (contacts, shifts).
- ``mape``, ``smape``, ``wape`` and ``coverage`` are **percentages** (0–100).
- ``mase`` is a ratio: the MAE divided by the in-sample MAE of the weekly seasonal naive forecast,
  so 1.0 means "as good as copying last week" and 0.7 means 30% fewer errors.
- Every metric ignores positions where the actual is NaN (missing interval), so a gap in the
  history never counts as an error.
"""

from __future__ import annotations

import numpy as np

ArrayLike = np.ndarray | list[float]


def _pair(y: ArrayLike, yhat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y, dtype=float).ravel()
    f = np.asarray(yhat, dtype=float).ravel()
    if a.shape != f.shape:
        raise ValueError(f"actuals and forecasts differ in length: {a.size} vs {f.size}")
    keep = np.isfinite(a) & np.isfinite(f)
    return a[keep], f[keep]


def mae(y: ArrayLike, yhat: ArrayLike) -> float:
    """Mean absolute error; NaN when there is nothing to compare."""
    a, f = _pair(y, yhat)
    return float(np.mean(np.abs(a - f))) if a.size else float("nan")


def rmse(y: ArrayLike, yhat: ArrayLike) -> float:
    """Root mean squared error; penalises the big misses that break a service level."""
    a, f = _pair(y, yhat)
    return float(np.sqrt(np.mean((a - f) ** 2))) if a.size else float("nan")


def mape(y: ArrayLike, yhat: ArrayLike) -> float:
    """Mean absolute percentage error in %, zero-safe: intervals with a zero actual are skipped.

    Plain MAPE divides by zero on every quiet interval; skipping them keeps the number finite and
    honest (WAPE and sMAPE cover the zero intervals). NaN when every actual is zero.
    """
    a, f = _pair(y, yhat)
    nz = a != 0
    if not np.any(nz):
        return float("nan")
    return float(100.0 * np.mean(np.abs((a[nz] - f[nz]) / a[nz])))


def smape(y: ArrayLike, yhat: ArrayLike) -> float:
    """Symmetric MAPE in % (0–200): ``2|y - ŷ| / (|y| + |ŷ|)``; an interval where both are 0 scores 0."""
    a, f = _pair(y, yhat)
    if not a.size:
        return float("nan")
    denom = np.abs(a) + np.abs(f)
    safe = np.where(denom == 0, 1.0, denom)
    terms = np.where(denom == 0, 0.0, 2.0 * np.abs(a - f) / safe)
    return float(100.0 * np.mean(terms))


def wape(y: ArrayLike, yhat: ArrayLike) -> float:
    """Weighted absolute percentage error in %: ``sum|y - ŷ| / sum|y|``; NaN when all actuals are 0.

    The planner-friendly headline: "we missed 12% of the work", robust to quiet intervals.
    """
    a, f = _pair(y, yhat)
    total = np.sum(np.abs(a))
    if total == 0:
        return float("nan")
    return float(100.0 * np.sum(np.abs(a - f)) / total)


def seasonal_naive_scale(y_train: ArrayLike, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast ``y[t - season]`` (the MASE denominator).

    Pairs with a NaN on either side are skipped. NaN when fewer than one season plus one value exist.
    """
    arr = np.asarray(y_train, dtype=float).ravel()
    if season < 1 or arr.size <= season:
        return float("nan")
    diff = np.abs(arr[season:] - arr[:-season])
    diff = diff[np.isfinite(diff)]
    return float(np.mean(diff)) if diff.size else float("nan")


def mase(y: ArrayLike, yhat: ArrayLike, scale: float) -> float:
    """Mean absolute scaled error: MAE divided by ``scale`` (see :func:`seasonal_naive_scale`).

    A zero or NaN scale (a perfectly repeating history) gives NaN rather than infinity.
    """
    if not np.isfinite(scale) or scale <= 0:
        return float("nan")
    return mae(y, yhat) / scale


def coverage(y: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actuals inside ``[lower, upper]`` (inclusive), in %."""
    a = np.asarray(y, dtype=float).ravel()
    lo = np.asarray(lower, dtype=float).ravel()
    hi = np.asarray(upper, dtype=float).ravel()
    if not (a.shape == lo.shape == hi.shape):
        raise ValueError("actuals and bounds differ in length")
    keep = np.isfinite(a) & np.isfinite(lo) & np.isfinite(hi)
    if not np.any(keep):
        return float("nan")
    inside = (a[keep] >= lo[keep]) & (a[keep] <= hi[keep])
    return float(100.0 * np.mean(inside))


def mean_width(lower: ArrayLike, upper: ArrayLike) -> float:
    """Mean interval width ``upper - lower`` in the unit of the series."""
    lo = np.asarray(lower, dtype=float).ravel()
    hi = np.asarray(upper, dtype=float).ravel()
    keep = np.isfinite(lo) & np.isfinite(hi)
    return float(np.mean(hi[keep] - lo[keep])) if np.any(keep) else float("nan")


def point_metrics(y: ArrayLike, yhat: ArrayLike, scale: float) -> dict[str, float]:
    """All point metrics at once, keyed as in the backtest table."""
    return {
        "mae": mae(y, yhat),
        "rmse": rmse(y, yhat),
        "mape": mape(y, yhat),
        "smape": smape(y, yhat),
        "wape": wape(y, yhat),
        "mase": mase(y, yhat, scale),
    }
