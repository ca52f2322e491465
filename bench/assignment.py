"""Benchmark: greedy and balanced vs optimal assignment on synthetic instances.

Run: ``.venv/bin/python -m bench.assignment [--quick]``. Prints markdown tables for the README:
per instance size and limit type (counts only / hours), each method's total score as % of optimal,
unassigned tasks, constraint violations (must be 0), the optimal solver's gap to its upper bound
(LP/Lagrangian bound; 0 = proven optimal) and seconds. Targets (issue 5): optimal with count limits on
5,000 × 1,000 exactly in < 2 s; with hour limits ≥ 95 % of the LP bound in < 30 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from src.models.assignment import AssignmentConfig, compare_methods
from src.models.assignment.eligibility import build_candidates, parse_skills

SKILLS = [f"skill{i:02d}" for i in range(15)]
SITES = [f"site{i}" for i in range(6)]


def make_instance(n_tasks: int, n_staff: int, random_state: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic open tasks and available staff with skills, sites, hours and count limits.

    Supply roughly matches demand (mean max assignments ≈ tasks per person, capacity ≈ 1.1 × the hours
    they would get), so capacity binds and the methods differ.
    """
    rng = np.random.default_rng(random_state)
    per_person = n_tasks / n_staff
    skills = []
    for _ in range(n_staff):
        chosen = rng.choice(len(SKILLS), size=rng.integers(3, 7), replace=False)
        skills.append("|".join(f"{SKILLS[k]}:{rng.integers(1, 6)}" for k in chosen))
    home = rng.choice(SITES, n_staff)
    staff = pd.DataFrame({
        "staff_id": [f"S{i:05d}" for i in range(n_staff)],
        "name": [f"Person {i}" for i in range(n_staff)],
        "site": home,
        "role": "agent",
        "skills": skills,
        "hire_date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n_staff), unit="D"),
        "contract_hours": rng.choice([20.0, 30.0, 40.0], n_staff),
        "ot_willing": rng.random(n_staff) < 0.5,
        "preferred_sites": [str(rng.choice(SITES)) for _ in range(n_staff)],
        "availability": rng.random(n_staff) < 0.92,
        "max_assignments": rng.integers(max(1, int(per_person * 0.5)), int(per_person * 1.5) + 2, n_staff),
        "current_load_hours": rng.uniform(0, 6, n_staff).round(1),
    })
    staff["capacity_hours"] = (staff["current_load_hours"] + per_person * 4.5 * rng.uniform(0.8, 1.4, n_staff)).round(1)
    tasks = pd.DataFrame({
        "task_id": [f"T{i:05d}" for i in range(n_tasks)],
        "task_type": rng.choice(["visit", "install", "repair", "audit"], n_tasks),
        "site": rng.choice(SITES, n_tasks),
        "priority": rng.integers(1, 4, n_tasks),
        "due": pd.Timestamp("2025-03-01") + pd.to_timedelta(rng.integers(0, 14 * 24, n_tasks), unit="h"),
        "required_skill": [f"{SKILLS[k]}:{lvl}" for k, lvl in zip(rng.integers(0, len(SKILLS), n_tasks),
                                                                 rng.integers(1, 4, n_tasks), strict=True)],
        "hours": rng.choice([1.0, 2.0, 3.0, 4.0, 6.0, 8.0], n_tasks),
        "site_required": rng.random(n_tasks) < 0.5,
    })
    return tasks, staff


def make_scores(tasks: pd.DataFrame, staff: pd.DataFrame, random_state: int = 0) -> pd.DataFrame:
    """Scores for every eligible pair: skill level plus noise, like a calibrated success probability."""
    rng = np.random.default_rng(random_state + 1)
    cand = build_candidates(tasks, staff, use_hours=True)
    skill_maps = [parse_skills(s) for s in staff["skills"]]
    req = tasks["required_skill"].str.split(":").str[0].to_numpy()
    lvl = np.array([skill_maps[j].get(req[t], 0) for t, j in zip(cand.edge_task, cand.edge_staff, strict=True)])
    score = np.clip(0.35 + 0.1 * lvl + rng.normal(0, 0.12, lvl.size), 0.01, 0.99)
    return pd.DataFrame({"task_id": cand.task_ids[cand.edge_task], "staff_id": cand.staff_ids[cand.edge_staff],
                         "score": score})


def run(sizes: list[tuple[int, int]]) -> pd.DataFrame:
    rows = []
    for n_tasks, n_staff in sizes:
        tasks, staff = make_instance(n_tasks, n_staff)
        t0 = time.perf_counter()
        scores = make_scores(tasks, staff)
        prep = time.perf_counter() - t0
        for limits, use_hours in (("counts", False), ("hours", True)):
            table, _ = compare_methods(tasks, staff, scores, AssignmentConfig(use_hours=use_hours, time_limit_s=25))
            for r in table.to_dict("records"):
                rows.append({"size": f"{n_tasks:,} × {n_staff:,}", "pairs": len(scores), "limits": limits, **r})
        print(f"# {n_tasks}x{n_staff}: {len(scores):,} eligible pairs, scoring/eligibility {prep:.2f}s", flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only 2,000 × 300")
    args = parser.parse_args()
    sizes = [(2000, 300)] if args.quick else [(2000, 300), (5000, 1000)]
    df = run(sizes)
    cols = ["size", "limits", "method", "solver", "total_score", "pct_of_optimal", "assigned", "unassigned",
            "violations", "gap", "util_gini", "util_jain", "seconds"]
    out = df[cols].copy()
    out["gap"] = out["gap"].map(lambda g: "" if g is None or pd.isna(g) else f"{100 * g:.2f}%")
    print(markdown_table(out))


def markdown_table(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    """Render a DataFrame as a GitHub markdown table without the optional ``tabulate`` dependency."""
    def fmt(v: object) -> str:
        return format(v, floatfmt) if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
