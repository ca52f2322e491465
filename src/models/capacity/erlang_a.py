"""Erlang A (M/M/N+M): Erlang C plus callers who hang up after an exponential patience time.

Why: Erlang C assumes nobody ever abandons, so for queues with real abandonment it over-staffs and
cannot report abandonment at all. Erlang A is always stable (impatient callers leave), so the required
agents may be *below* the offered load A.

Model: arrival rate λ = calls / interval, service rate μ = 1 / AHT, abandonment rate θ = 1 / patience,
N agents, FCFS. With x = Nμ/θ and y = λ/θ, a call that arrives while k others are waiting advances with
rates Nμ + iθ (i = k … 0), so its *virtual* wait V has density ∝ e^{−Nμv}(1 − e^{−θv})^k and

* P(served | k)            = x / (x + k + 1)
* P(served within T | k)   = x / (x + k + 1) · I_z(k + 1, x + 1),  z = 1 − e^{−θT}  (regularised beta)
* E[wait · 1{served} | k]  = x / (x + k + 1) · (ψ(x + k + 2) − ψ(x + 1)) / θ        (ψ = digamma)

By PASTA, k has weights ∝ y^k / Γ(x + k + 1) (a Poisson(y) tail above x), which we sum over a window
around its mode in log space; Erlang B (see :mod:`.erlang`) gives P(wait) = A_xy·E / (1 + (A_xy − 1)·E)
with A_xy = Σ_k y^k Γ(x+1)/Γ(x+k+1) (Garnett, Mandelbaum & Reiman 2002). Everything is vectorised.

Service level is defined on **offered** calls by default (answered within T / all calls; calls that
abandon count as misses); ``sl_basis="answered"`` divides by answered calls instead. ASA is the mean
wait of answered calls (immediate answers count as 0).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from .erlang import (
    TARGET_EPS,
    ArrayLike,
    _as_array,
    apply_shrinkage,
    log_erlang_b,
    smallest_feasible,
    validate_targets,
)

logger = logging.getLogger(__name__)

SlBasis = Literal["offered", "answered"]
#: upper bound on rows × window cells evaluated at once (memory ≈ 16 bytes each).
_CHUNK_CELLS = 1_000_000


def _window_sums(
    x: np.ndarray, y: np.ndarray, z: np.ndarray, *, need_within: bool = True, need_asa: bool = True
) -> tuple[np.ndarray, ...]:
    """Per row: log A_xy, P(served|wait), P(served within T|wait), E[wait·served|wait]·θ.

    The sum over k uses a window that holds all but ~e^-50 of the mass: from max(0, y − x − 12√y − 10)
    with length 12√max(x, y) + 12√y + 40.
    """
    n = x.size
    log_a = np.empty(n)
    served = np.empty(n)
    within = np.empty(n)
    wait_served = np.zeros(n)
    start = np.maximum(0.0, np.floor(y - x - 12.0 * np.sqrt(y) - 10.0))
    length = np.ceil(12.0 * np.sqrt(np.maximum(x, y)) + 12.0 * np.sqrt(y) + 40.0).astype(np.int64)
    order = np.argsort(length)
    pos = 0
    while pos < n:
        width = int(length[order[min(n - 1, pos)]])
        rows = max(1, _CHUNK_CELLS // max(width, 1))
        idx = order[pos:pos + rows]
        width = int(length[idx].max())
        pos += idx.size
        xs, ys, zs = x[idx, None], y[idx, None], z[idx, None]
        k = start[idx, None] + np.arange(width)[None, :]
        lw = k * np.log(ys) - (special.gammaln(xs + k + 1.0) - special.gammaln(xs + 1.0))
        top = lw.max(axis=1, keepdims=True)
        w = np.exp(lw - top)
        total = w.sum(axis=1)
        log_a[idx] = np.log(total) + top[:, 0]
        p_serv_k = xs / (xs + k + 1.0)
        ws = w * p_serv_k
        served[idx] = ws.sum(axis=1) / total
        if need_within:
            within[idx] = (ws * special.betainc(k + 1.0, xs + 1.0, zs)).sum(axis=1) / total
        if need_asa:
            wait_served[idx] = (ws * (special.digamma(xs + k + 2.0) - special.digamma(xs + 1.0))).sum(axis=1) / total
    return log_a, served, within, wait_served


def _conditional_on_wait(
    x: np.ndarray, y: np.ndarray, z: np.ndarray, theta_t: np.ndarray, need_asa: bool
) -> tuple[np.ndarray, ...]:
    """Closed forms with regularised lower incomplete gammas P(a, y) where they are representable.

    Summing the window terms over k gives  A_xy = e^y y^−x Γ(x+1) P(x, y),
    P(served | wait) = (x/y) P(x+1, y) / P(x, y) and
    P(served within T | wait) = (x/y) [P(x+1, y) − P(x+1, y e^−θT)] / P(x, y).
    Rows where P(x, y) underflows (far over-staffed) and the ASA sum use the explicit window.
    """
    p0 = special.gammainc(x, y)
    p1 = special.gammainc(x + 1.0, y)
    pu = special.gammainc(x + 1.0, y * np.exp(-theta_t))
    safe = p0 > 1e-200
    log_axy = np.empty(x.size)
    served = np.empty(x.size)
    within = np.empty(x.size)
    wait_served = np.zeros(x.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_axy[safe] = (y - special.xlogy(x, y) + special.gammaln(x + 1.0) + np.log(p0))[safe]
        served[safe] = (x / y * p1 / p0)[safe]
        within[safe] = (x / y * np.maximum(p1 - pu, 0.0) / p0)[safe]
    if (~safe).any():
        la, sv, wi, ws = _window_sums(x[~safe], y[~safe], z[~safe], need_asa=need_asa)
        log_axy[~safe], served[~safe], within[~safe], wait_served[~safe] = la, sv, wi, ws
    if need_asa and safe.any():
        wait_served[safe] = _window_sums(x[safe], y[safe], z[safe], need_within=False)[3]
    return log_axy, np.clip(served, 0.0, 1.0), np.clip(within, 0.0, 1.0), wait_served


@dataclass(frozen=True)
class ErlangAMetrics:
    """Performance of N agents per interval under Erlang A (arrays of one shape)."""

    traffic: np.ndarray
    agents: np.ndarray
    p_wait: np.ndarray
    p_abandon: np.ndarray
    service_level: np.ndarray
    asa_seconds: np.ndarray  # mean wait of answered calls; inf when nobody is answered
    occupancy: np.ndarray

    def __post_init__(self) -> None:
        for name in ("p_wait", "p_abandon", "service_level", "occupancy"):
            v = getattr(self, name)
            if np.any((v < -1e-9) | (v > 1 + 1e-9)):
                raise ValueError(f"{name} must be a probability.")


def erlang_a_metrics(
    agents: ArrayLike,
    calls: ArrayLike,
    aht_seconds: ArrayLike,
    patience_s: ArrayLike,
    *,
    interval_seconds: ArrayLike = 1800,
    answer_within_s: ArrayLike = 20.0,
    sl_basis: SlBasis = "offered",
    need_asa: bool = True,
) -> ErlangAMetrics:
    """P(wait), P(abandon), SL, ASA of answered calls and occupancy for N agents (vectorised).

    ``sl_basis="offered"`` (default): answered within T ÷ offered calls; ``"answered"``: ÷ answered calls.
    Zero calls → P(wait) = P(abandon) = 0, SL = 1, ASA = 0. N = 0 with calls → everyone abandons.
    """
    if sl_basis not in ("offered", "answered"):
        raise ValueError("sl_basis must be 'offered' or 'answered'.")
    arrays = np.broadcast_arrays(
        _as_array(agents, "agents"), _as_array(calls, "calls"), _as_array(aht_seconds, "AHT", positive=True),
        _as_array(patience_s, "patience", positive=True), _as_array(interval_seconds, "interval", positive=True),
        _as_array(answer_within_s, "answer-within"),
    )
    shape = arrays[0].shape
    n, c, aht, pat, iv, t = (np.ascontiguousarray(v, dtype=float).ravel() for v in arrays)
    if np.any(n != np.floor(n)):
        raise ValueError("agents must be whole numbers.")
    a = c * aht / iv
    p_wait = np.zeros(a.size)
    p_ab = np.zeros(a.size)
    sl = np.ones(a.size)
    asa = np.zeros(a.size)
    occ = np.zeros(a.size)

    none = (a > 0) & (n == 0)
    p_wait[none], p_ab[none], sl[none], asa[none] = 1.0, 1.0, 0.0, np.inf
    m = (a > 0) & (n > 0)
    if m.any():
        nm, am, ahtm, patm, tm = n[m], a[m], aht[m], pat[m], t[m]
        x = nm * patm / ahtm
        y = am * patm / ahtm
        z = -np.expm1(-tm / patm)
        log_axy, served_w, within_w, wait_served_w = _conditional_on_wait(x, y, z, tm / patm, need_asa)
        log_e = log_erlang_b(nm, am)
        with np.errstate(over="ignore", divide="ignore"):
            log_e = np.minimum(log_e, 0.0)
            ratio = np.exp(np.log1p(-np.exp(log_e)) - log_e - log_axy)  # (1/E − 1) / A_xy
        pw = 1.0 / (1.0 + ratio)
        pab = pw * (1.0 - served_w)
        sl_off = (1.0 - pw) + pw * within_w
        answered = 1.0 - pab
        p_wait[m], p_ab[m] = pw, pab
        sl[m] = sl_off if sl_basis == "offered" else np.where(answered > 0, sl_off / np.maximum(answered, 1e-300),
                                                              0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            asa[m] = np.where(answered > 0, pw * wait_served_w * patm / answered, np.inf) if need_asa else np.nan
        occ[m] = np.minimum(am * answered / nm, 1.0)
    return ErlangAMetrics(
        traffic=a.reshape(shape), agents=n.astype(np.int64).reshape(shape), p_wait=p_wait.reshape(shape),
        p_abandon=p_ab.reshape(shape), service_level=np.clip(sl, 0.0, 1.0).reshape(shape),
        asa_seconds=asa.reshape(shape), occupancy=occ.reshape(shape),
    )


@dataclass(frozen=True)
class ErlangAResult:
    """Erlang A requirement per interval; metrics are those achieved with ``agents_raw`` agents."""

    traffic: np.ndarray
    agents_raw: np.ndarray
    agents: np.ndarray
    agents_fractional: np.ndarray
    service_level: np.ndarray
    asa_seconds: np.ndarray
    occupancy: np.ndarray
    p_wait: np.ndarray
    p_abandon: np.ndarray

    def __post_init__(self) -> None:
        shapes = {np.shape(getattr(self, f)) for f in self.__dataclass_fields__}
        if len(shapes) != 1:
            raise ValueError(f"ErlangAResult arrays must share one shape, got {shapes}.")
        if np.any(self.agents < self.agents_raw):
            raise ValueError("Final agents cannot be below the raw requirement.")

    def row(self, i: int = 0) -> dict[str, float | int]:
        """One interval as plain Python numbers."""
        out: dict[str, float | int] = {}
        for name in self.__dataclass_fields__:
            v = np.ravel(getattr(self, name))[i]
            out[name] = int(v) if np.issubdtype(np.asarray(v).dtype, np.integer) else float(v)
        return out


def required_agents_erlang_a(
    calls: ArrayLike,
    aht_seconds: ArrayLike,
    patience_s: ArrayLike,
    *,
    interval_seconds: ArrayLike = 1800,
    sl_target: float | None = 0.8,
    answer_within_s: float = 20.0,
    asa_target_s: float | None = None,
    abandon_target: float | None = None,
    max_occupancy: float = 1.0,
    shrinkage: float = 0.0,
    sl_basis: SlBasis = "offered",
) -> ErlangAResult:
    """Smallest N >= 1 per interval meeting the SL, ASA and abandonment targets under Erlang A.

    Same rules as :func:`.erlang.required_agents` (targets validated, shrinkage ceiling exact, zero calls → 0)
    except that N may be at or below the offered load A, since abandonment keeps the queue stable, and the
    occupancy cap applies to the carried load (answered calls). ``abandon_target`` is a maximum P(abandon) in [0, 1).
    """
    validate_targets(sl_target, answer_within_s, asa_target_s, max_occupancy, shrinkage)
    if abandon_target is not None and not (0 <= abandon_target < 1):
        raise ValueError(f"Abandonment target must be in [0, 1) (got {abandon_target!r}).")
    arrays = np.broadcast_arrays(
        _as_array(calls, "calls"), _as_array(aht_seconds, "AHT", positive=True),
        _as_array(patience_s, "patience", positive=True), _as_array(interval_seconds, "interval", positive=True),
    )
    shape = arrays[0].shape
    c, aht, pat, iv = (np.ascontiguousarray(v, dtype=float).ravel() for v in arrays)
    a = c * aht / iv
    busy = a > 0
    raw = np.zeros(a.size, dtype=np.int64)
    if busy.any():
        cb, ahtb, patb, ivb = c[busy], aht[busy], pat[busy], iv[busy]

        def feasible(n: np.ndarray, rows: np.ndarray) -> np.ndarray:
            met = erlang_a_metrics(n, cb[rows], ahtb[rows], patb[rows], interval_seconds=ivb[rows],
                                   answer_within_s=answer_within_s, sl_basis=sl_basis,
                                   need_asa=asa_target_s is not None)
            ok = np.ones(n.shape, dtype=bool)
            if sl_target is not None:
                ok &= met.service_level >= sl_target - TARGET_EPS
            if asa_target_s is not None:
                ok &= met.asa_seconds <= asa_target_s + TARGET_EPS
            if abandon_target is not None:
                ok &= met.p_abandon <= abandon_target + TARGET_EPS
            if max_occupancy < 1:
                ok &= met.occupancy <= max_occupancy + TARGET_EPS
            return ok

        # Agents may be below A here; start at floor(A) + 1 and let the search bisect downwards (N = 0 is never
        # allowed with calls). The occupancy cap applies to the *carried* load A·(1 − P(abandon)), which falls
        # per agent as N grows, so it is one more monotone condition of the search.
        start = np.floor(a[busy]).astype(np.int64) + 1
        raw[busy] = smallest_feasible(np.zeros(start.shape, dtype=np.int64), feasible, start=start)
    final = apply_shrinkage(raw, shrinkage)
    met = erlang_a_metrics(raw, c, aht, pat, interval_seconds=iv, answer_within_s=answer_within_s, sl_basis=sl_basis)
    logger.debug("Erlang A requirement computed for %d intervals", a.size)
    return ErlangAResult(
        traffic=a.reshape(shape), agents_raw=raw.reshape(shape), agents=final.reshape(shape),
        agents_fractional=(raw / (1.0 - shrinkage)).reshape(shape),
        service_level=met.service_level.reshape(shape), asa_seconds=met.asa_seconds.reshape(shape),
        occupancy=met.occupancy.reshape(shape), p_wait=met.p_wait.reshape(shape),
        p_abandon=met.p_abandon.reshape(shape),
    )
