"""Assign many open tasks at once: one entry point, three methods, one comparable report.

``assign(tasks, staff, scores, config)`` builds the eligibility graph (hard constraints), runs the
chosen method and reports total score, assigned/unassigned (with reasons), load spread of
utilisation (load ÷ capacity, via :mod:`src.models.fairness`), an *independent* constraint check
(violations must be 0) and runtime. :func:`compare_methods` runs several methods on the same input
so planners can compare them side by side.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd

from src.models.assignment.eligibility import ELIGIBLE, Candidates, attach_scores, build_candidates
from src.models.assignment.solvers import SolveOutcome, solve_greedy, solve_optimal
from src.models.fairness import FairnessSummary, summarise

logger = logging.getLogger(__name__)

Method = Literal["greedy", "balanced", "optimal"]
METHODS: tuple[str, ...] = ("greedy", "balanced", "optimal")
OUTPUT_COLUMNS = ["task_id", "staff_id", "score", "method", "reason"]


@dataclass(frozen=True)
class AssignmentConfig:
    """Parameters of one assignment run (all plain values so they can come from config/env).

    - ``site_required``: tasks with a site may only go to people of that site (or who prefer it);
      a per-task ``site_required`` column overrides this.
    - ``use_hours``: enforce ``capacity_hours - current_load_hours``; None = when the data has hours.
    - ``balance_weight``: balanced method, score penalty per unit of utilisation.
    - ``fairness_weight``: optimal method, λ of the increasing per-unit load cost (0 = off).
    - ``priority_ascending``: True = priority 1 is the most urgent (processed first by greedy).
    - ``mip_max_pairs`` / ``time_limit_s``: when hour limits make the problem NP-hard, solve exactly
      by MILP up to this many eligible pairs, otherwise by Lagrangian flow-then-repair within the limit.
    """

    method: Method = "optimal"
    site_required: bool = True
    use_hours: bool | None = None
    balance_weight: float = 0.5
    fairness_weight: float = 0.0
    priority_ascending: bool = True
    mip_max_pairs: int = 20_000
    time_limit_s: float = 30.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.balance_weight < 0 or self.fairness_weight < 0:
            raise ValueError("balance_weight and fairness_weight must be >= 0")
        if self.mip_max_pairs < 0 or self.time_limit_s <= 0:
            raise ValueError("mip_max_pairs must be >= 0 and time_limit_s > 0")


@dataclass(frozen=True)
class AssignmentResult:
    """Outcome of one method. ``assignments`` has ``task_id, staff_id, score, method, reason`` (one
    row per task; unassigned tasks have an empty ``staff_id`` and a reason)."""

    method: str
    solver: str
    assignments: pd.DataFrame
    total_score: float
    objective: float
    n_assigned: int
    n_unassigned: int
    violations: int
    spread: FairnessSummary
    seconds: float
    bound: float | None
    gap: float | None
    status: str

    def __post_init__(self) -> None:
        if self.n_assigned < 0 or self.n_unassigned < 0 or self.violations < 0:
            raise ValueError("counts must be non-negative")

    def summary(self) -> dict[str, object]:
        """Flat JSON-friendly summary (what the CLI prints with ``--json``)."""
        return {
            "method": self.method, "solver": self.solver, "total_score": round(self.total_score, 6),
            "objective": round(self.objective, 6), "assigned": self.n_assigned, "unassigned": self.n_unassigned,
            "violations": self.violations, "bound": None if self.bound is None else round(self.bound, 6),
            "gap": None if self.gap is None else round(self.gap, 6), "seconds": round(self.seconds, 4),
            "status": self.status, "spread": {k: round(v, 6) if isinstance(v, float) else v
                                              for k, v in asdict(self.spread).items()},
        }


def utilisation(c: Candidates, chosen: np.ndarray) -> np.ndarray:
    """Utilisation per available person: (current load + assigned hours) ÷ capacity hours with hour
    limits, otherwise assigned count ÷ max assignments. People with no capacity are left out."""
    staff = c.edge_staff[chosen]
    if c.use_hours:
        load = c.current_load_hours + np.bincount(staff, weights=c.task_hours[c.edge_task[chosen]],
                                                  minlength=c.n_staff)
        cap = c.capacity_hours
    else:
        load = np.bincount(staff, minlength=c.n_staff).astype(float)
        cap = c.max_assignments.astype(float)
    keep = c.available & np.isfinite(cap) & (cap > 0)
    return np.clip(load[keep] / cap[keep], 0, None)


def count_violations(c: Candidates, chosen: np.ndarray) -> int:
    """Independent check of every hard constraint for a set of chosen edges (re-derived from the
    reason matrix and the raw limits, not from solver state). Returns the number of violations."""
    ti, si = c.edge_task[chosen], c.edge_staff[chosen]
    bad = int(np.sum(c.reasons[ti, si] != ELIGIBLE))
    bad += int(np.sum(np.bincount(ti, minlength=c.n_tasks) > 1))
    bad += int(np.sum(np.bincount(si, minlength=c.n_staff) > c.max_assignments))
    if c.use_hours:
        hours = np.bincount(si, weights=c.task_hours[ti], minlength=c.n_staff)
        bad += int(np.sum(hours > c.remaining_hours + 1e-6))
    return bad



#: slack for float sums when re-checking hour limits (same as :func:`count_violations`)
LIMIT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class LimitBreach:
    """One person who would exceed a limit if a batch of assignments were added.

    ``limit`` is ``"hours"`` (``amount`` = finalized + batch hours, ``cap`` = capacity hours) or ``"tasks"``
    (``amount`` = tasks of the batch, ``cap`` = max tasks per person). ``finalized`` is the part of
    ``amount`` already finalized; ``finalized_since`` how many of those assignments are marked as newer than
    the batch's plan (they are why a plan that was valid no longer is).
    """

    staff_id: str
    limit: Literal["hours", "tasks"]
    amount: float
    cap: float
    finalized: float = 0.0
    finalized_since: int = 0

    def __post_init__(self) -> None:
        if self.limit not in ("hours", "tasks"):
            raise ValueError(f"limit must be 'hours' or 'tasks', got {self.limit!r}")
        if self.finalized_since < 0:
            raise ValueError("finalized_since must be >= 0")


def limit_breaches(
    batch: pd.DataFrame,
    finalized: pd.DataFrame,
    capacity_hours: Mapping[str, float] | pd.Series,
    *,
    use_hours: bool,
    max_tasks: int = 0,
    tolerance: float = LIMIT_TOLERANCE,
) -> list[LimitBreach]:
    """Re-check the per-person limits of a planned batch of assignments against what is finalized now.

    ``batch`` has ``staff_id, hours`` (rows with an empty ``staff_id`` are unassigned and ignored);
    ``finalized`` has ``staff_id, hours`` and optionally a boolean ``since`` (finalized after the batch
    was planned) — the assignments already finalized in the same window. ``capacity_hours`` maps
    ``staff_id`` → hours allowed in the window (a person without an entry has no hour limit, as in
    :func:`~src.models.assignment.eligibility.build_candidates`).

    The limits are the ones the assignment methods enforce: with ``use_hours``, finalized + batch hours
    ≤ capacity (``tolerance`` absorbs float sums); with ``max_tasks`` > 0, the batch's own tasks per
    person ≤ ``max_tasks`` (``max_assignments`` counts the tasks of one run, not finalized ones). Only
    people with work in the batch are checked. Returns the breaches sorted by ``staff_id`` then limit.
    """
    if max_tasks < 0:
        raise ValueError("max_tasks must be >= 0 (0 = no count limit)")
    b = batch.loc[batch["staff_id"].fillna("").astype(str) != "", ["staff_id", "hours"]].copy()
    b["staff_id"] = b["staff_id"].astype(str)
    b["hours"] = pd.to_numeric(b["hours"], errors="coerce").fillna(0.0).astype(float)
    out: list[LimitBreach] = []
    if b.empty:
        return out
    new_hours = b.groupby("staff_id")["hours"].sum()
    new_count = b.groupby("staff_id").size()
    if use_hours:
        f = finalized.copy()
        f["staff_id"] = f["staff_id"].astype(str)
        f["hours"] = pd.to_numeric(f["hours"], errors="coerce").fillna(0.0).astype(float)
        f["since"] = f["since"].fillna(False).astype(bool) if "since" in f.columns else False
        done_hours = f.groupby("staff_id")["hours"].sum()
        done_since = f[f["since"]].groupby("staff_id").size()
        caps = pd.Series(capacity_hours, dtype=float)
        for sid, hours in new_hours.items():
            cap = caps.get(sid)
            if cap is None or pd.isna(cap):
                continue
            done = float(done_hours.get(sid, 0.0))
            if done + float(hours) > float(cap) + tolerance:
                out.append(LimitBreach(str(sid), "hours", done + float(hours), float(cap), done,
                                       int(done_since.get(sid, 0))))
    if max_tasks:
        out.extend(LimitBreach(str(sid), "tasks", float(n), float(max_tasks))
                   for sid, n in new_count.items() if n > max_tasks)
    return sorted(out, key=lambda x: (x.staff_id, x.limit))

def _result(c: Candidates, out: SolveOutcome, method: str, seconds: float) -> AssignmentResult:
    chosen = out.chosen
    staff_of_task = np.full(c.n_tasks, -1)
    score_of_task = np.full(c.n_tasks, np.nan)
    staff_of_task[c.edge_task[chosen]] = c.edge_staff[chosen]
    score_of_task[c.edge_task[chosen]] = c.edge_score[chosen]
    has_edge = np.zeros(c.n_tasks, dtype=bool)
    has_edge[c.edge_task] = True
    reasons = []
    for t in range(c.n_tasks):
        if staff_of_task[t] >= 0:
            reasons.append("")
        elif not has_edge[t]:
            reasons.append(c.no_candidate_reason(t))
        elif method == "optimal":
            reasons.append("capacity: eligible staff are used for a higher total score")
        else:
            reasons.append("capacity: every eligible person was full when this task's turn came")
    frame = pd.DataFrame({
        "task_id": c.task_ids,
        "staff_id": np.where(staff_of_task >= 0, c.staff_ids[np.maximum(staff_of_task, 0)], ""),
        "score": score_of_task,
        "method": method,
        "reason": reasons,
    })
    total = float(np.nansum(score_of_task))
    gap = None
    if out.bound is not None:
        gap = max(0.0, (out.bound - out.objective) / max(abs(out.bound), 1e-12))
    return AssignmentResult(
        method=method, solver=out.solver, assignments=frame, total_score=total, objective=out.objective,
        n_assigned=int(chosen.size), n_unassigned=int(c.n_tasks - chosen.size),
        violations=count_violations(c, chosen), spread=summarise(utilisation(c, chosen)), seconds=seconds,
        bound=out.bound, gap=gap, status=out.status,
    )


def solve(c: Candidates, config: AssignmentConfig) -> AssignmentResult:
    """Run ``config.method`` on a prepared (scored) candidate graph."""
    if np.any(np.isnan(c.edge_score)):
        raise ValueError("every eligible pair needs a score (use attach_scores)")
    t0 = time.perf_counter()
    if config.method == "optimal":
        out = solve_optimal(c, fairness_weight=config.fairness_weight, mip_max_pairs=config.mip_max_pairs,
                            time_limit_s=config.time_limit_s, priority_ascending=config.priority_ascending)
    else:
        bw = config.balance_weight if config.method == "balanced" else 0.0
        out = solve_greedy(c, balance_weight=bw, priority_ascending=config.priority_ascending)
    seconds = time.perf_counter() - t0
    res = _result(c, out, config.method, seconds)
    logger.info("assignment method=%s solver=%s assigned=%d unassigned=%d score=%.3f violations=%d %.2fs",
                res.method, res.solver, res.n_assigned, res.n_unassigned, res.total_score, res.violations, seconds)
    return res


def prepare(tasks: pd.DataFrame, staff: pd.DataFrame, scores: pd.DataFrame | None,
            config: AssignmentConfig, *, default_score: float | None = None) -> Candidates:
    """Build the eligibility graph and attach scores (``scores=None`` → every pair gets ``default_score``)."""
    cand = build_candidates(tasks, staff, site_required=config.site_required, use_hours=config.use_hours)
    return attach_scores(cand, scores, default=default_score)


def assign(tasks: pd.DataFrame, staff: pd.DataFrame, scores: pd.DataFrame | None,
           config: AssignmentConfig | None = None, *, default_score: float | None = None) -> AssignmentResult:
    """Assign ``tasks`` to ``staff`` with ``config.method``.

    ``scores`` (``task_id, staff_id, score``) is an allow-list: unlisted pairs are not allowed. Hard
    constraints (skill, availability, site, hours, max assignments) are never violated; the result's
    ``violations`` is an independent re-check and is 0 by construction.
    """
    config = config or AssignmentConfig()
    return solve(prepare(tasks, staff, scores, config, default_score=default_score), config)


def compare_methods(
    tasks: pd.DataFrame,
    staff: pd.DataFrame,
    scores: pd.DataFrame | None,
    config: AssignmentConfig | None = None,
    methods: Sequence[str] = METHODS,
    *,
    on_progress: Callable[[float, str], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, AssignmentResult]]:
    """Run several methods on the same input; returns (side-by-side table, results by method).

    Table columns: method, solver, total_score, pct_of_optimal, assigned, unassigned, violations,
    util_std, util_gini, util_jain, util_max_mean, gap, seconds.
    """
    config = config or AssignmentConfig()
    cand = prepare(tasks, staff, scores, config)
    results: dict[str, AssignmentResult] = {}
    for i, m in enumerate(methods):
        if on_progress:
            on_progress(i / len(methods), f"solving {m}")
        results[m] = solve(cand, AssignmentConfig(**{**asdict(config), "method": m}))
    if on_progress:
        on_progress(1.0, "done")
    best = results["optimal"].total_score if "optimal" in results else None
    rows = []
    for m, r in results.items():
        rows.append({
            "method": m, "solver": r.solver, "total_score": r.total_score,
            "pct_of_optimal": (100 * r.total_score / best) if best else np.nan,
            "assigned": r.n_assigned, "unassigned": r.n_unassigned, "violations": r.violations,
            "util_std": r.spread.std, "util_gini": r.spread.gini, "util_jain": r.spread.jain,
            "util_max_mean": r.spread.max_mean, "gap": r.gap, "seconds": r.seconds,
        })
    return pd.DataFrame(rows), results
