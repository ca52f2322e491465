"""Erlang C (M/M/N) — exact, vectorised, and stable up to 100,000+ Erlangs.

Why this module exists: public Erlang calculators get the edge cases wrong (factorial overflow, searches
starting at ``round(A) + 1``, ``ceil(21 / 0.7) == 31`` float rounding, crashes on zero calls). Here:

* Erlang B is computed from the Poisson distribution as ``pmf(N; A) / cdf(N; A)`` with the log-pmf
  (``N log A - A - lgamma(N + 1)``) and the regularised upper incomplete gamma function
  (``cdf(N; A) = Q(N + 1, A)``, :func:`scipy.special.gammaincc`). No factorials, no powers, so it is
  stable for any traffic and any agent count, and it works on whole numpy arrays at once.
* Required agents are found by a vectorised bisection over every interval at once: the lower bound is
  ``floor(A)`` (never enough: a queue needs N > A), the upper bound is found by doubling; service level
  rises and ASA falls monotonically in N, so bisection returns the smallest feasible N exactly.
* Ceilings that involve shrinkage or the occupancy cap use integer arithmetic on the exact decimal value
  of the parameter (``0.3`` is 3/10), so 21 agents at 30 % shrinkage is 30, not 31.

Conventions: traffic ``A = calls × AHT / interval`` (Erlangs); ``T`` = answer-within seconds (``T = 0``
allowed: SL = 1 − P(wait)); ``raw = max(agents for SL, agents for ASA, agents for the occupancy cap)``;
``final = ceil(raw / (1 − shrinkage))``; ``fractional = raw / (1 − shrinkage)`` (unrounded, for summing
intervals into hours/FTE). Zero calls → zero agents, SL 1, ASA 0, occupancy 0.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy import special

logger = logging.getLogger(__name__)

ArrayLike = float | int | np.ndarray | list[float]

#: absolute slack when comparing an achieved SL/ASA with its target (float noise only, far below any
#: difference a planner could observe).
TARGET_EPS = 1e-12
#: relative slack of :func:`safe_ceil` for values that are not exact rationals (forecast volumes).
CEIL_REL_TOL = 1e-9


# --------------------------------------------------------------------------------------------- checks
def validate_targets(
    sl_target: float | None,
    answer_within_s: float | None,
    asa_target_s: float | None,
    max_occupancy: float,
    shrinkage: float,
) -> None:
    """Raise ``ValueError`` with a planner-readable message for impossible or malformed targets."""
    if sl_target is not None:
        if not math.isfinite(sl_target) or sl_target < 0 or sl_target >= 1:
            raise ValueError(
                f"Service-level target must be at least 0 and below 100% (got {sl_target!r}); "
                "a target of 100% would need infinitely many agents."
            )
        if answer_within_s is None or not math.isfinite(answer_within_s) or answer_within_s < 0:
            raise ValueError(f"Answer-within time must be a number of seconds >= 0 (got {answer_within_s!r}).")
    if asa_target_s is not None and (not math.isfinite(asa_target_s) or asa_target_s <= 0):
        raise ValueError(f"ASA target must be a positive number of seconds (got {asa_target_s!r}).")
    if not math.isfinite(max_occupancy) or max_occupancy <= 0 or max_occupancy > 1:
        raise ValueError(f"Maximum occupancy must be in (0, 1] (got {max_occupancy!r}).")
    if not math.isfinite(shrinkage) or shrinkage < 0 or shrinkage >= 1:
        raise ValueError(f"Shrinkage must be in [0, 1) (got {shrinkage!r}).")


def _as_array(x: ArrayLike, name: str, *, positive: bool = False) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers.")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0.")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0.")
    return arr


def exact_fraction(value: float) -> Fraction:
    """The decimal the user typed, as an exact fraction: ``0.3`` → 3/10 (not the binary float).

    Uses the shortest repr of the float, which round-trips and is what a person wrote; denominators are
    capped at 10**9 so integer arithmetic on int64 arrays cannot overflow.
    """
    frac = Fraction(repr(float(value)))
    if frac.denominator > 10**9:
        frac = frac.limit_denominator(10**9)
    return frac


def safe_ceil(x: np.ndarray) -> np.ndarray:
    """``ceil`` that ignores float noise: 30.000000000000004 → 30, 30.00001 → 31."""
    x = np.asarray(x, dtype=float)
    return np.ceil(x - CEIL_REL_TOL * np.maximum(1.0, np.abs(x))).astype(np.int64)


def apply_shrinkage(raw: np.ndarray, shrinkage: float) -> np.ndarray:
    """Exact ``ceil(raw / (1 - shrinkage))`` for integer ``raw`` (int64 arithmetic on the exact decimal)."""
    s = exact_fraction(shrinkage)
    num, den = s.denominator, s.denominator - s.numerator  # 1/(1-s) = q/(q-p)
    raw = np.asarray(raw, dtype=np.int64)
    return -((-raw * num) // den)


def occupancy_agents(
    calls: np.ndarray, aht_seconds: np.ndarray, interval_seconds: np.ndarray, max_occupancy: float
) -> np.ndarray:
    """Smallest N with ``A / N <= max_occupancy`` — exactly when inputs are whole numbers, else tolerance-safe."""
    m = exact_fraction(max_occupancy)
    calls, aht, interval = np.broadcast_arrays(calls, aht_seconds, interval_seconds)
    integral = (
        np.all(calls == np.floor(calls)) and np.all(aht == np.floor(aht)) and np.all(interval == np.floor(interval))
    )
    if integral and calls.size and float(np.max(calls * aht)) * m.denominator < 2**62:
        num = calls.astype(np.int64) * aht.astype(np.int64) * m.denominator
        den = interval.astype(np.int64) * m.numerator
        return -((-num) // den)
    return safe_ceil(calls * aht / interval / float(m))


# ---------------------------------------------------------------------------------------- formulas
def traffic_intensity(calls: ArrayLike, aht_seconds: ArrayLike, interval_seconds: ArrayLike = 1800) -> np.ndarray:
    """Offered load in Erlangs, ``A = calls × AHT / interval``."""
    calls_a = _as_array(calls, "calls")
    aht = _as_array(aht_seconds, "AHT", positive=True)
    interval = _as_array(interval_seconds, "interval", positive=True)
    return calls_a * aht / interval


def log_erlang_b(agents: ArrayLike, traffic: ArrayLike) -> np.ndarray:
    """Natural log of Erlang B blocking ``B(N, A)`` for integer N >= 0 and A > 0 (elementwise)."""
    n, a = np.broadcast_arrays(np.asarray(agents, dtype=float), np.asarray(traffic, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = special.xlogy(n, a) - a - special.gammaln(n + 1.0)
        cdf = special.gammaincc(n + 1.0, a)
        out = log_pmf - np.log(cdf)
    deep = ~(cdf > 1e-280) & (n < a)  # N far below A: the Poisson cdf underflows, B is close to 1 − N/A
    if np.any(deep):
        out = np.array(out, dtype=float, copy=True)
        out[deep] = -_log_inverse_b_series(n[deep], a[deep])
    return out


def _log_inverse_b_series(n: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``log(1/B)`` for N well below A: ``1/B = Σ_i Π_{j<i} (N − j)/A``, terms shrink geometrically."""
    out = np.empty(n.size)
    terms = np.ceil(60.0 * np.sqrt(a) / np.maximum(1.0, (a - n) / np.sqrt(a)) + 60.0).astype(np.int64)
    terms = np.minimum(terms, n.astype(np.int64) + 1)
    for i in range(0, n.size, 2048):
        sl = slice(i, i + 2048)
        width = int(terms[sl].max())
        j = np.arange(width)[None, :]
        ratio = np.clip((n[sl, None] - j) / a[sl, None], 1e-300, None)
        log_terms = np.concatenate([np.zeros((ratio.shape[0], 1)), np.cumsum(np.log(ratio), axis=1)[:, :-1]], axis=1)
        log_terms = np.where(j <= n[sl, None], log_terms, -np.inf)
        out[sl] = special.logsumexp(log_terms, axis=1)
    return out


def erlang_b(agents: ArrayLike, traffic: ArrayLike) -> np.ndarray:
    """Erlang B blocking probability (M/M/N/N); ``B(0, A) = 1``; ``B(N, 0) = 0`` for N >= 1."""
    n = np.asarray(agents, dtype=float)
    a = np.asarray(traffic, dtype=float)
    out = np.exp(log_erlang_b(n, np.where(a > 0, a, 1.0)))
    return np.where(a > 0, out, np.where(n > 0, 0.0, 1.0))


def erlang_c(agents: ArrayLike, traffic: ArrayLike) -> np.ndarray:
    """Probability that a call waits, ``C(N, A) = N B / (N - A (1 - B))``; 1 when N <= A, 0 when A == 0."""
    n, a = np.broadcast_arrays(np.asarray(agents, dtype=float), np.asarray(traffic, dtype=float))
    b = erlang_b(n, a)
    stable = n > a
    with np.errstate(divide="ignore", invalid="ignore"):
        c = n * b / (n - a * (1.0 - b))
    c = np.where(stable, np.clip(c, 0.0, 1.0), 1.0)
    return np.where(a > 0, c, 0.0)


def service_level(
    agents: ArrayLike, traffic: ArrayLike, aht_seconds: ArrayLike, answer_within_s: ArrayLike
) -> np.ndarray:
    """Fraction of calls answered within T seconds: ``1 − C · exp(−(N − A) T / AHT)`` (0 if N <= A)."""
    n, a, aht, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (agents, traffic, aht_seconds,
                                                                          answer_within_s)))
    c = erlang_c(n, a)
    sl = 1.0 - c * np.exp(-np.maximum(n - a, 0.0) * t / aht)
    return np.where(a > 0, np.where(n > a, sl, 0.0), 1.0)


def average_speed_of_answer(agents: ArrayLike, traffic: ArrayLike, aht_seconds: ArrayLike) -> np.ndarray:
    """Mean wait in seconds, ``C · AHT / (N − A)``; ``inf`` for an unstable queue (N <= A), 0 with no calls."""
    n, a, aht = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (agents, traffic, aht_seconds)))
    c = erlang_c(n, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        asa = c * aht / (n - a)
    return np.where(a > 0, np.where(n > a, asa, np.inf), 0.0)


def occupancy(agents: ArrayLike, traffic: ArrayLike) -> np.ndarray:
    """Agent occupancy ``A / N`` (capped at 1; 0 when there are no agents or no traffic)."""
    n, a = np.broadcast_arrays(np.asarray(agents, dtype=float), np.asarray(traffic, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(n > 0, np.minimum(a / n, 1.0), 0.0)
    return np.where(a > 0, occ, 0.0)


# ------------------------------------------------------------------------------------------ search
def smallest_feasible(
    lower: np.ndarray, feasible: Any, *, start: np.ndarray | None = None
) -> np.ndarray:
    """Vectorised search: for each row the smallest integer N > ``lower`` with ``feasible(N)`` True.

    ``lower`` must be infeasible (or the bound below which N is not allowed) and feasibility must be
    monotone in N. ``feasible(candidates, rows)`` maps int candidates for the given row indices to a bool
    array. The upper bound is found by doubling a step from ``start`` (default ``lower + 1``), then bisection
    narrows the rows still open; only those rows are evaluated, so easy rows cost one evaluation.
    """
    lo = np.asarray(lower, dtype=np.int64).copy()
    hi = (lo + 1) if start is None else np.maximum(np.asarray(start, dtype=np.int64), lo + 1)
    step = np.ones(lo.shape, dtype=np.int64)
    rows = np.arange(lo.size)
    open_rows = rows
    for _ in range(80):
        if open_rows.size == 0:
            break
        ok = feasible(hi[open_rows], open_rows)
        bad = open_rows[~ok]
        lo[bad] = hi[bad]  # an infeasible candidate is a valid lower bound
        hi[bad] += step[bad]
        step[bad] *= 2
        open_rows = bad
    else:  # pragma: no cover - would need > 2**80 agents
        raise ValueError("No agent count meets the targets.")
    open_rows = rows[hi - lo > 1]
    while open_rows.size:
        mid = (lo[open_rows] + hi[open_rows]) // 2
        ok = feasible(mid, open_rows)
        hi[open_rows[ok]] = mid[ok]
        lo[open_rows[~ok]] = mid[~ok]
        open_rows = open_rows[hi[open_rows] - lo[open_rows] > 1]
    return hi


@dataclass(frozen=True)
class ErlangCResult:
    """Requirement and achieved performance per interval (all arrays have the shape of the inputs)."""

    traffic: np.ndarray
    agents_raw: np.ndarray  # int: max(SL, ASA, occupancy requirement), before shrinkage
    agents: np.ndarray  # int: ceil(raw / (1 - shrinkage))
    agents_fractional: np.ndarray  # float: raw / (1 - shrinkage), unrounded
    service_level: np.ndarray  # achieved with agents_raw productive agents
    asa_seconds: np.ndarray
    occupancy: np.ndarray
    p_wait: np.ndarray

    def __post_init__(self) -> None:
        shapes = {np.shape(getattr(self, f)) for f in self.__dataclass_fields__}
        if len(shapes) != 1:
            raise ValueError(f"ErlangCResult arrays must share one shape, got {shapes}.")
        if np.any(self.agents < self.agents_raw):
            raise ValueError("Final agents cannot be below the raw requirement.")

    def row(self, i: int = 0) -> dict[str, float | int]:
        """One interval as plain Python numbers (for JSON, the CLI and a calculator panel)."""
        out: dict[str, float | int] = {}
        for name in self.__dataclass_fields__:
            v = np.ravel(getattr(self, name))[i]
            out[name] = int(v) if np.issubdtype(np.asarray(v).dtype, np.integer) else float(v)
        return out


def required_agents(
    calls: ArrayLike,
    aht_seconds: ArrayLike,
    *,
    interval_seconds: ArrayLike = 1800,
    sl_target: float | None = 0.8,
    answer_within_s: float = 20.0,
    asa_target_s: float | None = None,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
) -> ErlangCResult:
    """Agents needed per interval for an SL target (T seconds) and/or an ASA target, with an occupancy cap.

    Scalars or arrays (broadcast together). ``sl_target=None`` drops the SL rule, ``asa_target_s=None``
    the ASA rule; with both None only stability (N > A) and the occupancy cap apply. Raises ``ValueError``
    for a target >= 100 % or < 0, a non-positive ASA target, occupancy outside (0, 1] or shrinkage outside
    [0, 1). Achieved SL/ASA/occupancy are reported for ``agents_raw`` (the productive agents on the phones).
    """
    validate_targets(sl_target, answer_within_s, asa_target_s, max_occupancy, shrinkage)
    calls_a = _as_array(calls, "calls")
    aht = _as_array(aht_seconds, "AHT", positive=True)
    interval = _as_array(interval_seconds, "interval", positive=True)
    calls_a, aht, interval = np.broadcast_arrays(calls_a, aht, interval)
    shape = calls_a.shape
    calls_f, aht_f, int_f = (np.ascontiguousarray(v, dtype=float).ravel() for v in (calls_a, aht, interval))
    a = calls_f * aht_f / int_f
    busy = a > 0

    raw = np.zeros(a.shape, dtype=np.int64)
    if busy.any():
        ab, ahtb = a[busy], aht_f[busy]

        def feasible(n: np.ndarray, rows: np.ndarray) -> np.ndarray:
            ar, hr = ab[rows], ahtb[rows]
            ok = n > ar
            if sl_target is not None:
                ok &= service_level(n, ar, hr, answer_within_s) >= sl_target - TARGET_EPS
            if asa_target_s is not None:
                ok &= average_speed_of_answer(n, ar, hr) <= asa_target_s + TARGET_EPS
            return ok

        # N = floor(A) is never > A, so the search starts at floor(A) + 1. When the occupancy cap already
        # needs more agents and the SL/ASA targets hold there, the cap decides and no search is needed.
        lower = np.floor(ab).astype(np.int64)
        occ_n = occupancy_agents(calls_f[busy], aht_f[busy], int_f[busy], max_occupancy)
        raw_b = np.maximum(lower + 1, occ_n)
        capped = feasible(raw_b, np.arange(ab.size))
        todo = np.flatnonzero(~capped)
        if todo.size:

            def feasible_todo(n: np.ndarray, rows: np.ndarray) -> np.ndarray:
                return feasible(n, todo[rows])

            raw_b[todo] = smallest_feasible(raw_b[todo], feasible_todo)
        raw[busy] = raw_b

    final = apply_shrinkage(raw, shrinkage)
    fractional = raw / (1.0 - shrinkage)
    n = raw.astype(float)
    c = erlang_c(n, a)  # one Erlang evaluation for all reported metrics (same formulas as the functions above)
    with np.errstate(divide="ignore", invalid="ignore"):
        sl = np.where(a > 0, 1.0 - c * np.exp(-(n - a) * answer_within_s / aht_f), 1.0)
        asa = np.where(a > 0, c * aht_f / (n - a), 0.0)
    result = ErlangCResult(
        traffic=a.reshape(shape),
        agents_raw=raw.reshape(shape),
        agents=final.reshape(shape),
        agents_fractional=fractional.reshape(shape),
        service_level=sl.reshape(shape),
        asa_seconds=asa.reshape(shape),
        occupancy=occupancy(n, a).reshape(shape),
        p_wait=c.reshape(shape),
    )
    logger.debug("Erlang C requirement computed for %d intervals", a.size)
    return result
