"""Fairness metrics for how work (overtime hours, assigned tasks, utilisation) is spread over people.

Shared by the overtime report and the assignment comparison so both speak the same numbers.
All functions take a 1-D sequence of non-negative loads (one value per person, zeros included:
a person who got nothing is exactly what fairness is about) and are pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _as_loads(values: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr < 0)):
        raise ValueError("Loads must be finite and non-negative.")
    return arr


def gini(values: Sequence[float] | np.ndarray) -> float:
    """Gini coefficient in [0, 1 - 1/n]; 0 = perfectly equal. Empty or all-zero → 0.

    Uses the sorted closed form ``sum((2i - n - 1) x_i) / (n sum x)`` (i = 1..n), exact for
    the population Gini.
    """
    x = np.sort(_as_loads(values))
    n = x.size
    total = x.sum()
    if n == 0 or total == 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


def jain(values: Sequence[float] | np.ndarray) -> float:
    """Jain's fairness index ``(sum x)^2 / (n sum x^2)`` in [1/n, 1]; 1 = equal. Empty/all-zero → 1."""
    x = _as_loads(values)
    if x.size == 0 or not np.any(x):
        return 1.0
    return float(x.sum() ** 2 / (x.size * np.sum(x**2)))


def coefficient_of_variation(values: Sequence[float] | np.ndarray) -> float:
    """Population standard deviation divided by the mean; 0 when the mean is 0."""
    x = _as_loads(values)
    if x.size == 0 or x.mean() == 0:
        return 0.0
    return float(x.std() / x.mean())


def max_mean_ratio(values: Sequence[float] | np.ndarray) -> float:
    """Largest load divided by the mean load; 1 = equal, 0 when nothing was given out."""
    x = _as_loads(values)
    if x.size == 0 or x.mean() == 0:
        return 0.0
    return float(x.max() / x.mean())


@dataclass(frozen=True)
class FairnessSummary:
    """All spread metrics for one distribution of load."""

    n: int
    total: float
    mean: float
    std: float
    gini: float
    jain: float
    cv: float
    max_mean: float


def summarise(values: Sequence[float] | np.ndarray) -> FairnessSummary:
    """Compute every metric at once (what reports show side by side)."""
    x = _as_loads(values)
    return FairnessSummary(
        n=int(x.size),
        total=float(x.sum()),
        mean=float(x.mean()) if x.size else 0.0,
        std=float(x.std()) if x.size else 0.0,
        gini=gini(x),
        jain=jain(x),
        cv=coefficient_of_variation(x),
        max_mean=max_mean_ratio(x),
    )
