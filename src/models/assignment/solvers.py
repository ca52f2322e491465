"""Assignment algorithms over a :class:`~src.models.assignment.eligibility.Candidates` graph.

All solvers return the indices of the chosen eligible edges; they never look at a pair that is not an
eligible edge, so skill, availability and site rules hold by construction, and every solver enforces
the per-person assignment count and (when ``use_hours``) remaining hours itself.

- :func:`solve_greedy` — tasks in priority → deadline → best-score order, each takes its best feasible
  person. With ``balance_weight > 0`` ("balanced") the score is reduced by
  ``balance_weight × load / capacity`` of the person *before* this task.
- :func:`solve_optimal` — maximise total score (minus the optional fairness cost).
  * count limits only: min-cost flow (OR-Tools ``SimpleMinCostFlow``), exact. The flow graph is
    source → task (cap 1) → person (cap 1, cost −score) → sink (cap = max assignments), plus a
    source → sink bypass so a task may stay unassigned when that scores better. Integer costs are
    ``−(round(score·scale)·(n_tasks+1) + 1)``: score first, then (tie-break only) more tasks assigned.
  * hour limits (generalised assignment, NP-hard): exact MILP (HiGHS) when the instance has at most
    ``mip_max_pairs`` eligible pairs; otherwise Lagrangian relaxation of the hour constraints, solved
    by the same min-cost flow, each iterate repaired to a feasible plan. Every Lagrangian value is an
    upper bound ≥ the LP bound, so the reported gap is never flattering.
  * fairness (``fairness_weight`` λ > 0): the k-th task given to a person costs ``λ·k / fill`` where
    ``fill`` is how many tasks fill that person (max assignments, or remaining hours ÷ mean task hours,
    whichever is smaller). The cost is convex, so flow and LP handle it exactly with unit arcs.
  * without OR-Tools everything falls back to scipy's HiGHS MILP (exact for count limits: the LP is
    totally unimodular).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from src.models.assignment.eligibility import Candidates

logger = logging.getLogger(__name__)

try:  # optional accelerator; scipy/HiGHS is the fallback
    from ortools.graph.python import min_cost_flow as _mcf

    HAS_ORTOOLS = True
except ImportError:  # pragma: no cover - exercised via monkeypatch in tests
    _mcf = None
    HAS_ORTOOLS = False

_EPS = 1e-9


@dataclass(frozen=True)
class SolveOutcome:
    """Chosen edge indices plus how they were found.

    ``objective`` is total score minus the fairness cost; ``bound`` is a proven upper bound on the
    objective (None when the solver gives none); ``exact`` is True when ``objective == bound`` up to
    rounding, i.e. proven optimal.
    """

    chosen: np.ndarray
    solver: str
    objective: float
    bound: float | None
    exact: bool
    status: str

    def __post_init__(self) -> None:
        if self.bound is not None and self.bound + 1e-6 * max(1.0, abs(self.bound)) < self.objective:
            raise ValueError(f"bound {self.bound} below objective {self.objective}")


def _task_ptr(c: Candidates) -> np.ndarray:
    return np.searchsorted(c.edge_task, np.arange(c.n_tasks + 1))


def task_order(c: Candidates, *, priority_ascending: bool = True) -> np.ndarray:
    """Processing order for greedy methods: priority, then earliest due, then highest best score.

    ``priority_ascending=True`` treats priority 1 as more urgent than 2 (P1 first); unknown priority
    and unknown due date go last. Ties end with the task's input position, so the order is deterministic.
    """
    nt = c.n_tasks
    best = np.full(nt, -np.inf)
    if c.edge_task.size:
        np.maximum.at(best, c.edge_task, c.edge_score)
    pri = c.task_priority.astype(float)
    pri_key = np.where(np.isnan(pri), np.inf, pri if priority_ascending else -pri)
    due = c.task_due.astype("datetime64[ns]").astype(np.int64).astype(float)
    due_key = np.where(np.isnat(c.task_due), np.inf, due)
    return np.lexsort((np.arange(nt), -best, due_key, pri_key))


def fill_counts(c: Candidates) -> np.ndarray:
    """How many tasks "fill" each person: the fairness/utilisation denominator for counts."""
    fill = c.max_assignments.astype(float)
    if c.use_hours and c.task_hours.size:
        mean_h = float(np.mean(c.task_hours[c.task_hours > 0])) if np.any(c.task_hours > 0) else 0.0
        if mean_h > 0:
            fill = np.minimum(fill, c.remaining_hours / mean_h)
    return np.maximum(fill, 1.0)


def fairness_cost(counts: np.ndarray, fill: np.ndarray, weight: float) -> float:
    """Total fairness cost ``λ Σ_j Σ_{k≤n_j} k / fill_j = λ Σ_j n_j(n_j+1) / (2 fill_j)``."""
    if weight <= 0:
        return 0.0
    counts = counts.astype(float)
    return float(weight * np.sum(counts * (counts + 1) / (2 * fill)))


def objective_of(c: Candidates, chosen: np.ndarray, fairness_weight: float = 0.0) -> float:
    """Total score of the chosen edges minus the fairness cost."""
    counts = np.bincount(c.edge_staff[chosen], minlength=c.n_staff)
    return float(c.edge_score[chosen].sum()) - fairness_cost(counts, fill_counts(c), fairness_weight)


def _greedy_core(
    c: Candidates,
    order: np.ndarray,
    ptr: np.ndarray,
    rem_hours: np.ndarray,
    rem_count: np.ndarray,
    load_hours: np.ndarray,
    used: np.ndarray,
    *,
    balance_weight: float,
) -> list[int]:
    chosen: list[int] = []
    es, score, hours = c.edge_staff, c.edge_score, c.task_hours
    cap = np.where(np.isfinite(c.capacity_hours) & (c.capacity_hours > 0), c.capacity_hours, np.inf)
    fill = c.max_assignments.astype(float)
    for t in order:
        a, b = ptr[t], ptr[t + 1]
        if a == b:
            continue
        js = es[a:b]
        feas = (rem_count[js] > 0) & (rem_hours[js] >= hours[t] - _EPS)
        if not feas.any():
            continue
        val = score[a:b]
        if balance_weight:
            if c.use_hours:
                util = load_hours[js] / cap[js]  # 0 for unknown capacity
            else:
                util = used[js] / np.maximum(fill[js], 1.0)
            val = val - balance_weight * util
        k = int(np.argmax(np.where(feas, val, -np.inf)))
        j = js[k]
        chosen.append(a + k)
        rem_count[j] -= 1
        rem_hours[j] -= hours[t]
        load_hours[j] += hours[t]
        used[j] += 1
    return chosen


def solve_greedy(c: Candidates, *, balance_weight: float = 0.0, priority_ascending: bool = True) -> SolveOutcome:
    """Greedy (``balance_weight=0``) or balanced greedy; see the module docstring."""
    if balance_weight < 0:
        raise ValueError("balance_weight must be >= 0")
    order = task_order(c, priority_ascending=priority_ascending)
    chosen = _greedy_core(
        c, order, _task_ptr(c), c.remaining_hours.astype(float).copy(), c.max_assignments.copy(),
        c.current_load_hours.astype(float).copy(), np.zeros(c.n_staff), balance_weight=balance_weight,
    )
    arr = np.asarray(chosen, dtype=np.int64)
    name = "balanced" if balance_weight else "greedy"
    return SolveOutcome(arr, name, objective_of(c, arr), None, False, "heuristic")


# --------------------------------------------------------------------------- min-cost flow (OR-Tools)


def _int_scale(c: Candidates, weights: np.ndarray, fairness_weight: float) -> float:
    nt = max(c.n_tasks, 1)
    biggest = max(float(np.max(np.abs(weights))) if weights.size else 0.0, fairness_weight, 1e-12)
    per_arc = min(1e9, 2e18 / (nt * (nt + 1) * 4))  # keep every total well inside int64
    return per_arc / biggest


def _flow(c: Candidates, weights: np.ndarray, fairness_weight: float, fill: np.ndarray) -> tuple[np.ndarray, float]:
    """Max-weight b-matching with optional convex per-person cost; returns (chosen edges, scale)."""
    nt, ns, E = c.n_tasks, c.n_staff, c.edge_task.size
    scale = _int_scale(c, weights, fairness_weight)
    mult = nt + 1
    src, snk = nt + ns, nt + ns + 1
    edge_cost = -(np.round(weights * scale).astype(np.int64) * mult + 1)
    deg = np.bincount(c.edge_staff, minlength=ns)
    cap = np.minimum(c.max_assignments, deg).astype(np.int64)
    if fairness_weight > 0:
        staff_of = np.repeat(np.arange(ns), cap)
        k = np.arange(staff_of.size) - np.repeat(np.cumsum(cap) - cap, cap) + 1
        f_start = nt + staff_of
        f_cap = np.ones(staff_of.size, dtype=np.int64)
        f_cost = np.round(fairness_weight * k / fill[staff_of] * scale).astype(np.int64) * mult
    else:
        f_start, f_cap, f_cost = nt + np.arange(ns), cap, np.zeros(ns, dtype=np.int64)
    starts = np.concatenate([np.full(nt, src), c.edge_task, f_start, [src]]).astype(np.int64)
    ends = np.concatenate([np.arange(nt), nt + c.edge_staff, np.full(f_start.size, snk), [snk]]).astype(np.int64)
    caps = np.concatenate([np.ones(nt, np.int64), np.ones(E, np.int64), f_cap, [nt]]).astype(np.int64)
    costs = np.concatenate([np.zeros(nt, np.int64), edge_cost, f_cost, [0]]).astype(np.int64)
    smcf = _mcf.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(starts, ends, caps, costs)
    smcf.set_nodes_supplies(np.array([src, snk]), np.array([nt, -nt]))
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flows = smcf.flows(arcs[nt:nt + E])
    return np.flatnonzero(flows > 0).astype(np.int64), scale


# --------------------------------------------------------------------------- MILP (HiGHS via scipy)


def _milp(c: Candidates, fairness_weight: float, fill: np.ndarray, time_limit_s: float,
          integral: bool = True) -> SolveOutcome:
    nt, ns, E = c.n_tasks, c.n_staff, c.edge_task.size
    deg = np.bincount(c.edge_staff, minlength=ns)
    cap = np.minimum(c.max_assignments, deg).astype(np.int64)
    cols = np.arange(E)
    blocks = [
        sparse.csr_matrix((np.ones(E), (c.edge_task, cols)), shape=(nt, E)),
        sparse.csr_matrix((np.ones(E), (c.edge_staff, cols)), shape=(ns, E)),
    ]
    ub = [np.ones(nt), cap.astype(float)]
    hour_rows = np.flatnonzero(np.isfinite(c.remaining_hours)) if c.use_hours else np.array([], dtype=int)
    if hour_rows.size:
        hmat = sparse.csr_matrix((c.task_hours[c.edge_task], (c.edge_staff, cols)), shape=(ns, E))[hour_rows]
        blocks.append(hmat)
        ub.append(c.remaining_hours[hour_rows])
    n_f = 0
    obj = -c.edge_score.astype(float)
    if fairness_weight > 0:
        staff_of = np.repeat(np.arange(ns), cap)
        k = np.arange(staff_of.size) - np.repeat(np.cumsum(cap) - cap, cap) + 1
        n_f = staff_of.size
        f_cost = fairness_weight * k / fill[staff_of]
        blocks = [sparse.hstack([b, sparse.csr_matrix((b.shape[0], n_f))]) for b in blocks]
        link = sparse.hstack([
            sparse.csr_matrix((np.ones(E), (c.edge_staff, cols)), shape=(ns, E)),
            sparse.csr_matrix((-np.ones(n_f), (staff_of, np.arange(n_f))), shape=(ns, n_f)),
        ])
        blocks.append(link)
        ub.append(np.zeros(ns))
        obj = np.concatenate([obj, f_cost])
    A = sparse.vstack(blocks).tocsr()
    upper = np.concatenate(ub)
    cons = LinearConstraint(A, -np.inf, upper)
    integrality = np.concatenate([np.full(E, 1 if integral else 0), np.zeros(n_f)])
    res = milp(obj, constraints=cons, integrality=integrality, bounds=Bounds(0, 1),
               options={"time_limit": float(time_limit_s), "disp": False})
    if res.x is None:
        raise RuntimeError(f"MILP found no solution: {res.message}")
    x = res.x[:E]
    chosen = np.flatnonzero(x > 0.5).astype(np.int64)
    objective = objective_of(c, chosen, fairness_weight)
    bound = getattr(res, "mip_dual_bound", None)
    bound = objective if res.status == 0 else (-float(bound) if bound is not None and np.isfinite(bound) else None)
    if bound is not None:
        bound = max(bound, objective)
    return SolveOutcome(chosen, "milp-highs", objective, bound, res.status == 0, str(res.message))


# --------------------------------------------------------------------------- hour limits, large: Lagrangian


def _repair(c: Candidates, chosen: np.ndarray, ptr: np.ndarray, priority_ascending: bool) -> np.ndarray:
    """Make a count-feasible plan hour-feasible (drop least valuable per hour), then greedily refill."""
    es, hours, score = c.edge_staff, c.task_hours, c.edge_score
    keep = np.ones(chosen.size, dtype=bool)
    load = np.bincount(es[chosen], weights=hours[c.edge_task[chosen]], minlength=c.n_staff)
    over = np.flatnonzero(load > c.remaining_hours + _EPS)
    if over.size:
        density = score[chosen] / np.maximum(hours[c.edge_task[chosen]], 1e-6)
        pos = np.flatnonzero(np.isin(es[chosen], over))
        for p in pos[np.argsort(density[pos], kind="stable")]:
            j = es[chosen[p]]
            if load[j] > c.remaining_hours[j] + _EPS:
                keep[p] = False
                load[j] -= hours[c.edge_task[chosen[p]]]
    chosen = chosen[keep]
    rem_hours = c.remaining_hours.astype(float) - load
    counts = np.bincount(es[chosen], minlength=c.n_staff)
    rem_count = c.max_assignments - counts
    assigned = np.zeros(c.n_tasks, dtype=bool)
    assigned[c.edge_task[chosen]] = True
    order = task_order(c, priority_ascending=priority_ascending)
    order = order[~assigned[order]]
    # refill by best available score first: the flow already settled priorities among the kept tasks
    best = np.full(c.n_tasks, -np.inf)
    np.maximum.at(best, c.edge_task, score)
    order = order[np.argsort(-best[order], kind="stable")]
    extra = _greedy_core(c, order, ptr, rem_hours, rem_count, c.current_load_hours + load, counts.astype(float),
                         balance_weight=0.0)
    return np.sort(np.concatenate([chosen, np.asarray(extra, dtype=np.int64)]))


def _lagrangian(c: Candidates, fairness_weight: float, fill: np.ndarray, time_limit_s: float,
                max_iterations: int, tolerance: float, priority_ascending: bool, patience: int = 10) -> SolveOutcome:
    t0 = time.perf_counter()
    ptr = _task_ptr(c)
    R = c.remaining_hours.astype(float)
    finite = np.isfinite(R)
    hours_e = c.task_hours[c.edge_task]
    mu = np.zeros(c.n_staff)
    best_ub, best_val, best = np.inf, -np.inf, np.zeros(0, dtype=np.int64)
    alpha, stall, it, primal_stall = 2.0, 0, 0, 0
    for it in range(1, max_iterations + 1):
        w = c.edge_score - mu[c.edge_staff] * hours_e
        x, scale = _flow(c, w, fairness_weight, fill)
        counts = np.bincount(c.edge_staff[x], minlength=c.n_staff)
        sub = float(w[x].sum()) - fairness_cost(counts, fill, fairness_weight)
        ub = sub + float(np.sum(mu[finite] * R[finite])) + (c.n_tasks + c.n_staff) / scale
        if ub < best_ub - 1e-9:
            best_ub, stall = ub, 0
        else:
            stall += 1
            if stall >= 3:
                alpha, stall = alpha / 2, 0
        primal = _repair(c, x, ptr, priority_ascending)
        val = objective_of(c, primal, fairness_weight)
        if val > best_val + 1e-4 * max(abs(best_val), 1.0):
            primal_stall = 0
        else:
            primal_stall += 1
        if val > best_val:
            best_val, best = val, primal
        gap = (best_ub - best_val) / max(abs(best_ub), 1e-9)
        logger.debug("lagrangian it=%d ub=%.4f best=%.4f gap=%.4f", it, ub, best_val, gap)
        if gap <= tolerance or primal_stall >= patience or time.perf_counter() - t0 > time_limit_s:
            break
        load = np.bincount(c.edge_staff[x], weights=hours_e[x], minlength=c.n_staff)
        g = np.where(finite, np.where(finite, R, 0) - load, 0.0)
        active = (mu > 0) | (g < 0)
        norm = float(np.sum(g[active] ** 2))
        if norm <= 0:  # relaxed solution is hour-feasible: it is optimal
            break
        theta = alpha * (ub - best_val) / norm
        mu = np.maximum(0.0, mu - theta * g)
    best_ub = max(best_ub, best_val)
    return SolveOutcome(best, "lagrangian-flow", best_val, best_ub, bool(best_ub - best_val <= 1e-6),
                        f"{it} iterations, gap {(best_ub - best_val) / max(abs(best_ub), 1e-9):.4%}")


def solve_optimal(
    c: Candidates,
    *,
    fairness_weight: float = 0.0,
    mip_max_pairs: int = 20_000,
    time_limit_s: float = 30.0,
    max_iterations: int = 60,
    tolerance: float = 0.002,
    priority_ascending: bool = True,
) -> SolveOutcome:
    """Maximise total score (minus fairness cost) subject to all constraints; see the module docstring."""
    if fairness_weight < 0:
        raise ValueError("fairness_weight must be >= 0")
    fill = fill_counts(c)
    if c.edge_task.size == 0:
        return SolveOutcome(np.zeros(0, dtype=np.int64), "empty", 0.0, 0.0, True, "no eligible pairs")
    hour_limited = c.use_hours and bool(np.any(np.isfinite(c.remaining_hours)))
    if not hour_limited:
        if HAS_ORTOOLS:
            chosen, scale = _flow(c, c.edge_score.astype(float), fairness_weight, fill)
            obj = objective_of(c, chosen, fairness_weight)
            return SolveOutcome(chosen, "min-cost-flow", obj, obj, True, "optimal")
        return _milp(c, fairness_weight, fill, time_limit_s)
    if c.edge_task.size <= mip_max_pairs or not HAS_ORTOOLS:
        out = _milp(c, fairness_weight, fill, time_limit_s)
        if out.exact or not HAS_ORTOOLS:
            return out
        lag = _lagrangian(c, fairness_weight, fill, time_limit_s, max_iterations, tolerance, priority_ascending)
        return out if out.objective >= lag.objective else lag
    return _lagrangian(c, fairness_weight, fill, time_limit_s, max_iterations, tolerance, priority_ascending)
