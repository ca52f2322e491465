"""Split-conformal prediction intervals from out-of-sample backtest residuals.

The residual of every backtest forecast is scaled by ``s(ŷ)`` and the empirical quantiles of
the *signed* scaled residuals become the interval: ``[ŷ + q_lo·s(ŷ), ŷ + q_hi·s(ŷ)]``. Signed
quantiles give asymmetric intervals, which count data needs (it cannot go below 0 but can spike).

Scaling options (measured in ``bench/forecast.py``):
- ``none``: constant width; over-covers quiet intervals and under-covers busy ones.
- ``sqrt`` (default): ``sqrt(ŷ + 1)``, the Poisson noise of counts: width grows with volume.
- ``level``: ``max(ŷ, 1)``: width proportional to the forecast (relative errors).

Finite-sample correction: the lower/upper quantiles use the ``floor(a·(n+1))``-th and
``ceil((1-a)·(n+1))``-th order statistics, the standard split-conformal guarantee.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCALES = ("none", "sqrt", "level")


def residual_scale(yhat: np.ndarray, kind: str) -> np.ndarray:
    """The scale ``s(ŷ)`` residuals are divided by (see module docstring)."""
    f = np.clip(np.asarray(yhat, dtype=float), 0.0, None)
    if kind == "none":
        return np.ones_like(f)
    if kind == "sqrt":
        return np.sqrt(f + 1.0)
    if kind == "level":
        return np.maximum(f, 1.0)
    raise ValueError(f"Unknown conformal scale {kind!r}; choose one of {SCALES}")


@dataclass(frozen=True)
class ConformalCalibrator:
    """Quantiles of scaled signed residuals per interval level."""

    scale: str
    quantiles: dict[int, tuple[float, float]]
    n: int
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"Unknown conformal scale {self.scale!r}")
        for lv, (lo, hi) in self.quantiles.items():
            if not (0 < lv < 100) or not (lo <= hi):
                raise ValueError(f"Bad quantiles for level {lv}: {lo} > {hi}")

    @classmethod
    def fit(cls, y: np.ndarray, yhat: np.ndarray, levels: tuple[int, ...], scale: str = "sqrt") -> ConformalCalibrator:
        """Calibrate on out-of-sample pairs (NaN actuals ignored). Needs at least 2 residuals."""
        a = np.asarray(y, dtype=float).ravel()
        f = np.asarray(yhat, dtype=float).ravel()
        keep = np.isfinite(a) & np.isfinite(f)
        r = np.sort((a[keep] - f[keep]) / residual_scale(f[keep], scale))
        n = r.size
        if n < 2:
            raise ValueError("Conformal calibration needs at least 2 out-of-sample residuals")
        quantiles: dict[int, tuple[float, float]] = {}
        for lv in levels:
            alpha = (100 - int(lv)) / 200.0
            k_lo = max(1, math.floor(alpha * (n + 1)))
            k_hi = min(n, math.ceil((1 - alpha) * (n + 1)))
            lo, hi = float(r[k_lo - 1]), float(r[k_hi - 1])
            quantiles[int(lv)] = (min(lo, 0.0), max(hi, 0.0))
        # nest the intervals: a wider level never sits inside a narrower one
        ordered = sorted(quantiles)
        for small, big in zip(ordered, ordered[1:], strict=False):
            lo_s, hi_s = quantiles[small]
            lo_b, hi_b = quantiles[big]
            quantiles[big] = (min(lo_b, lo_s), max(hi_b, hi_s))
        return cls(scale=scale, quantiles=quantiles, n=int(n))

    def apply(self, yhat: np.ndarray, closed: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """``yhat_lower_L``/``yhat_upper_L`` arrays, clipped at 0; closed slots get 0 (zero width)."""
        f = np.clip(np.asarray(yhat, dtype=float), 0.0, None)
        s = residual_scale(f, self.scale)
        out: dict[str, np.ndarray] = {}
        for lv in sorted(self.quantiles):
            lo, hi = self.quantiles[lv]
            lower = np.clip(f + lo * s, 0.0, None)
            upper = np.clip(f + hi * s, 0.0, None)
            if closed is not None:
                lower = np.where(closed, 0.0, lower)
                upper = np.where(closed, 0.0, upper)
            out[f"yhat_lower_{lv}"] = lower
            out[f"yhat_upper_{lv}"] = upper
        return out

    def to_json(self) -> dict[str, Any]:
        return {"scale": self.scale, "n": self.n,
                "quantiles": {str(k): [v[0], v[1]] for k, v in self.quantiles.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConformalCalibrator:
        return cls(scale=str(data["scale"]), n=int(data["n"]),
                   quantiles={int(k): (float(v[0]), float(v[1])) for k, v in data["quantiles"].items()})
