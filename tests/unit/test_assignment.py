"""Assignment: eligibility, constraint satisfaction, optimality vs brute force, method behaviour."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.models.assignment import (
    AssignmentConfig,
    assign,
    attach_scores,
    build_candidates,
    compare_methods,
    parse_requirement,
    parse_skills,
    prepare,
    solve,
)
from src.models.assignment import solvers as solvers_mod


def make_staff(n: int, **cols) -> pd.DataFrame:
    base = {"staff_id": [f"S{i}" for i in range(n)], "name": [f"P{i}" for i in range(n)], "site": "a",
            "skills": "x:3", "availability": True, "max_assignments": 5, "capacity_hours": 40.0,
            "current_load_hours": 0.0, "contract_hours": 40.0}
    base.update(cols)
    return pd.DataFrame(base)


def make_tasks(n: int, **cols) -> pd.DataFrame:
    base = {"task_id": [f"T{i}" for i in range(n)], "task_type": "t", "site": "a", "priority": 1,
            "due": pd.Timestamp("2025-01-01"), "required_skill": "x", "hours": 1.0}
    base.update(cols)
    return pd.DataFrame(base)


def scores_frame(matrix: np.ndarray) -> pd.DataFrame:
    nt, ns = matrix.shape
    return pd.DataFrame([(f"T{t}", f"S{s}", float(matrix[t, s])) for t in range(nt) for s in range(ns)],
                        columns=["task_id", "staff_id", "score"])


def independent_violations(result, tasks: pd.DataFrame, staff: pd.DataFrame, scores: pd.DataFrame,
                           use_hours: bool) -> list[str]:
    """Re-check every hard constraint from the raw frames (no solver code involved)."""
    problems = []
    a = result.assignments
    done = a[a["staff_id"] != ""]
    if done["task_id"].duplicated().any():
        problems.append("task twice")
    allowed = set(zip(scores["task_id"], scores["staff_id"], strict=True))
    st_ = staff.set_index("staff_id")
    tk = tasks.set_index("task_id")
    for tid, sid in zip(done["task_id"], done["staff_id"], strict=True):
        person, task = st_.loc[sid], tk.loc[tid]
        if (tid, sid) not in allowed:
            problems.append(f"{tid}->{sid} not scored")
        if not bool(person["availability"]):
            problems.append(f"{sid} unavailable")
        if task["site"] != person["site"]:
            problems.append(f"{tid} site")
        skills = parse_skills(person["skills"])
        name, lvl = parse_requirement(task["required_skill"])
        if name and skills.get(name, 0) < lvl:
            problems.append(f"{tid} skill")
    counts = done["staff_id"].value_counts()
    for sid, n in counts.items():
        if n > st_.loc[sid, "max_assignments"]:
            problems.append(f"{sid} count")
        if use_hours:
            hours = tk.loc[done.loc[done["staff_id"] == sid, "task_id"], "hours"].sum()
            if hours > st_.loc[sid, "capacity_hours"] - st_.loc[sid, "current_load_hours"] + 1e-9:
                problems.append(f"{sid} hours")
    return problems


def brute_force(tasks, staff, scores, use_hours: bool) -> float:
    cand = attach_scores(build_candidates(tasks, staff, use_hours=use_hours), scores)
    options = []
    for t in range(cand.n_tasks):
        edges = np.flatnonzero(cand.edge_task == t)
        options.append([None, *edges.tolist()])
    best = 0.0
    for combo in itertools.product(*options):
        chosen = [e for e in combo if e is not None]
        staff_idx = cand.edge_staff[chosen]
        counts = np.bincount(staff_idx, minlength=cand.n_staff)
        if np.any(counts > cand.max_assignments):
            continue
        if use_hours:
            hours = np.bincount(staff_idx, weights=cand.task_hours[cand.edge_task[chosen]], minlength=cand.n_staff)
            if np.any(hours > cand.remaining_hours + 1e-9):
                continue
        best = max(best, float(cand.edge_score[chosen].sum()))
    return best


@st.composite
def instances(draw, max_tasks: int = 5, max_staff: int = 3):
    nt = draw(st.integers(1, max_tasks))
    ns = draw(st.integers(1, max_staff))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    staff = make_staff(
        ns, site=rng.choice(["a", "b"], ns), skills=rng.choice(["x:1", "x:3|y:2", "y:5", "x:5|y:1"], ns),
        availability=rng.random(ns) < 0.85, max_assignments=rng.integers(0, 3, ns),
        capacity_hours=rng.choice([2.0, 4.0, 6.0], ns), current_load_hours=rng.choice([0.0, 1.0], ns),
    )
    tasks = make_tasks(nt, site=rng.choice(["a", "b"], nt), required_skill=rng.choice(["x", "x:3", "y:2", ""], nt),
                       hours=rng.choice([1.0, 2.0, 3.0], nt), priority=rng.integers(1, 4, nt))
    matrix = np.round(rng.random((nt, ns)), 3)
    keep = rng.random((nt, ns)) < 0.9  # some pairs unscored = not allowed
    scores = scores_frame(matrix)
    scores = scores[keep.ravel()].reset_index(drop=True)
    return tasks, staff, scores


# ----------------------------------------------------------------------------- eligibility

def test_parse_skills_and_requirement():
    assert parse_skills("Forklift:3|first_aid; excel:2") == {"forklift": 3, "first_aid": 3, "excel": 2}
    assert parse_skills(None) == {} and parse_skills(float("nan")) == {}
    assert parse_requirement("Forklift:2") == ("forklift", 2)
    assert parse_requirement("forklift") == ("forklift", 1)
    assert parse_requirement("") == ("", 0)


def test_exclusion_reasons_first_failing_rule():
    staff = make_staff(5, availability=[True, False, True, True, True], site=["a", "a", "b", "a", "a"],
                       skills=["x:3", "x:3", "x:3", "x:1", "x:3"], capacity_hours=[40, 40, 40, 40, 2],
                       current_load_hours=[0, 0, 0, 0, 1.5])
    tasks = make_tasks(1, required_skill="x:2", hours=1.0)
    cand = build_candidates(tasks, staff)
    ex = cand.excluded_frame().set_index("staff_id")["reason"].to_dict()
    assert ex == {"S1": "unavailable", "S2": "site", "S3": "missing_skill", "S4": "capacity"}
    assert cand.edge_staff.tolist() == [0]
    scored = attach_scores(cand, pd.DataFrame({"task_id": ["T0"], "staff_id": ["S3"], "score": [1.0]}))
    assert scored.edge_task.size == 0
    assert scored.excluded_frame().set_index("staff_id").loc["S0", "reason"] == "not_scored"
    assert scored.no_candidate_reason(0).startswith("no eligible staff:")


def test_preferred_site_counts_as_site_and_site_can_be_relaxed():
    staff = make_staff(2, site=["b", "b"], preferred_sites=["a", ""])
    tasks = make_tasks(1)
    assert build_candidates(tasks, staff).edge_staff.tolist() == [0]
    assert build_candidates(tasks, staff, site_required=False).edge_staff.tolist() == [0, 1]


def test_duplicate_ids_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        build_candidates(make_tasks(2, task_id=["T", "T"]), make_staff(1))


# ----------------------------------------------------------------------------- properties

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.booleans())
def test_property_no_method_violates_constraints(inst, use_hours):
    tasks, staff, scores = inst
    for method in ("greedy", "balanced", "optimal"):
        res = assign(tasks, staff, scores, AssignmentConfig(method=method, use_hours=use_hours))
        assert res.violations == 0
        assert independent_violations(res, tasks, staff, scores, use_hours) == []
        assert res.n_assigned + res.n_unassigned == len(tasks)
        assert (res.assignments["reason"] != "").sum() == res.n_unassigned


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.booleans())
def test_property_optimal_matches_brute_force(inst, use_hours):
    tasks, staff, scores = inst
    best = brute_force(tasks, staff, scores, use_hours)
    res = assign(tasks, staff, scores, AssignmentConfig(method="optimal", use_hours=use_hours))
    assert res.total_score == pytest.approx(best, abs=1e-6)
    for method in ("greedy", "balanced"):
        assert assign(tasks, staff, scores, AssignmentConfig(method=method, use_hours=use_hours)).total_score \
            <= best + 1e-9


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_property_lagrangian_is_feasible_and_bound_is_valid(inst):
    tasks, staff, scores = inst
    best = brute_force(tasks, staff, scores, True)
    cand = prepare(tasks, staff, scores, AssignmentConfig(use_hours=True))
    res = solve(cand, AssignmentConfig(method="optimal", use_hours=True, mip_max_pairs=0))
    assert res.violations == 0
    assert res.total_score <= best + 1e-9
    if cand.edge_task.size:
        assert res.solver == "lagrangian-flow"
        assert res.bound >= best - 1e-6


def test_optimal_without_ortools_falls_back_to_milp(monkeypatch):
    rng = np.random.default_rng(3)
    tasks, staff = make_tasks(6), make_staff(3, max_assignments=[1, 2, 2])
    scores = scores_frame(rng.random((6, 3)))
    with_flow = assign(tasks, staff, scores, AssignmentConfig(use_hours=False))
    monkeypatch.setattr(solvers_mod, "HAS_ORTOOLS", False)
    without = assign(tasks, staff, scores, AssignmentConfig(use_hours=False))
    assert with_flow.solver == "min-cost-flow" and without.solver == "milp-highs"
    assert without.total_score == pytest.approx(with_flow.total_score, abs=1e-6)
    assert without.total_score == pytest.approx(brute_force(tasks, staff, scores, False), abs=1e-6)


# ----------------------------------------------------------------------------- behaviour

def test_greedy_serves_urgent_task_first_optimal_maximises_score():
    tasks = make_tasks(2, priority=[2, 1])  # T1 is P1 (most urgent)
    staff = make_staff(2, max_assignments=[1, 1], skills=["x:3", "x:3"])
    scores = scores_frame(np.array([[0.9, 0.0], [0.8, 0.7]]))
    scores = scores[scores["score"] > 0]  # T0 can only go to S0
    greedy = assign(tasks, staff, scores, AssignmentConfig(method="greedy")).assignments.set_index("task_id")
    assert greedy.loc["T1", "staff_id"] == "S0"  # urgent task takes its best person...
    assert greedy.loc["T0", "staff_id"] == ""  # ...leaving T0 without anyone
    assert greedy.loc["T0", "reason"].startswith("capacity")
    opt = assign(tasks, staff, scores, AssignmentConfig(method="optimal"))
    assert opt.total_score == pytest.approx(0.9 + 0.7)
    assert opt.n_unassigned == 0


def test_priority_direction_is_configurable():
    tasks = make_tasks(2, priority=[1, 5])
    staff = make_staff(1, max_assignments=1)
    scores = scores_frame(np.array([[0.5], [0.5]]))
    asc = assign(tasks, staff, scores, AssignmentConfig(method="greedy"))
    desc = assign(tasks, staff, scores, AssignmentConfig(method="greedy", priority_ascending=False))
    assert asc.assignments.set_index("task_id").loc["T0", "staff_id"] == "S0"
    assert desc.assignments.set_index("task_id").loc["T1", "staff_id"] == "S0"


def test_deadline_breaks_priority_ties():
    tasks = make_tasks(2, due=[pd.Timestamp("2025-02-01"), pd.Timestamp("2025-01-05")])
    staff = make_staff(1, max_assignments=1)
    res = assign(tasks, staff, scores_frame(np.array([[0.9], [0.1]])), AssignmentConfig(method="greedy"))
    assert res.assignments.set_index("task_id").loc["T1", "staff_id"] == "S0"


def test_balanced_spreads_load_greedy_concentrates():
    tasks = make_tasks(4, hours=2.0)
    staff = make_staff(2, capacity_hours=[20.0, 20.0])
    scores = scores_frame(np.array([[0.80, 0.78]] * 4))
    greedy = assign(tasks, staff, scores, AssignmentConfig(method="greedy"))
    balanced = assign(tasks, staff, scores, AssignmentConfig(method="balanced", balance_weight=0.5))
    assert greedy.assignments["staff_id"].value_counts().to_dict() == {"S0": 4}
    assert balanced.assignments["staff_id"].value_counts().to_dict() == {"S0": 2, "S1": 2}
    assert balanced.spread.gini == 0.0 and greedy.spread.gini > 0.0
    assert greedy.total_score > balanced.total_score


def test_fairness_weight_evens_out_optimal():
    tasks = make_tasks(6, hours=1.0)
    staff = make_staff(3, max_assignments=6, capacity_hours=10.0)
    scores = scores_frame(np.array([[0.9, 0.85, 0.8]] * 6))
    plain = assign(tasks, staff, scores, AssignmentConfig(use_hours=False))
    fair = assign(tasks, staff, scores, AssignmentConfig(use_hours=False, fairness_weight=1.0))
    assert plain.assignments["staff_id"].value_counts().to_dict() == {"S0": 6}
    assert fair.assignments["staff_id"].value_counts().to_dict() == {"S0": 2, "S1": 2, "S2": 2}
    assert fair.spread.jain == pytest.approx(1.0)
    for use_hours in (True, False):  # the MILP path models the same cost
        cfg = AssignmentConfig(use_hours=use_hours, fairness_weight=1.0)
        assert assign(tasks, staff, scores, cfg).assignments["staff_id"].value_counts().max() == 2


def test_task_without_candidates_reports_reason_and_scores_default():
    tasks = make_tasks(2, required_skill=["x", "z"])
    res = assign(tasks, make_staff(2), None, AssignmentConfig(), default_score=1.0)
    row = res.assignments.set_index("task_id").loc["T1"]
    assert row["staff_id"] == "" and row["reason"] == "no eligible staff: missing_skill 2"
    assert res.n_assigned == 1 and res.total_score == 1.0


def test_compare_methods_table_and_progress():
    rng = np.random.default_rng(0)
    tasks, staff = make_tasks(8, hours=rng.choice([1.0, 2.0], 8)), make_staff(3, max_assignments=2,
                                                                             capacity_hours=4.0)
    seen = []
    table, results = compare_methods(tasks, staff, scores_frame(rng.random((8, 3))), AssignmentConfig(),
                                     on_progress=lambda f, t: seen.append(f))
    assert list(table["method"]) == ["greedy", "balanced", "optimal"]
    assert table.set_index("method").loc["optimal", "pct_of_optimal"] == pytest.approx(100.0)
    assert (table["pct_of_optimal"] <= 100 + 1e-9).all() and (table["violations"] == 0).all()
    assert seen[-1] == 1.0 and results["optimal"].solver == "milp-highs" and results["optimal"].gap == 0.0


def test_config_validation():
    with pytest.raises(ValueError):
        AssignmentConfig(method="magic")
    with pytest.raises(ValueError):
        AssignmentConfig(balance_weight=-1)
    with pytest.raises(ValueError, match="finite"):
        assign(make_tasks(1), make_staff(1), pd.DataFrame({"task_id": ["T0"], "staff_id": ["S0"],
                                                           "score": [np.inf]}))
