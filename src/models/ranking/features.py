"""Features of a (task, person) pair computed only from what was known before the task.

Every row has an ``as_of`` time: ``assigned_at`` for historical pairs (training/evaluation), "now"
for open tasks (scoring). Only history strictly before ``as_of`` is used:

- activity counts (``tasks_90d``, ``load_ratio``) use past rows with ``assigned_at < as_of``;
- outcome-based rates use past rows whose outcome was *known* before ``as_of``. An outcome is taken
  to be known at the task's ``due`` time (or at ``assigned_at`` if ``due`` is missing or earlier),
  so a task assigned yesterday but due next week does not leak its outcome into today's features.

Appending history rows later than ``as_of`` therefore cannot change a row's features (tested).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from src.data.kinds import OUTCOME_VALUES
from src.models.assignment.eligibility import parse_list, parse_requirement, parse_skills

logger = logging.getLogger(__name__)

#: The model's inputs, in order. ``task_type`` is categorical (encoded by the model with its stored
#: mapping); all others are numeric and may be NaN when unknown.
FEATURES: tuple[str, ...] = (
    "task_type",          # categorical: kind of task
    "priority",           # task priority as given (lower = more urgent by convention)
    "days_until_due",     # (due - as_of) in days
    "weekday",            # weekday of the due date (0 = Monday), when the work happens
    "hour",               # hour of day of as_of (assignment time; late assignments fail more often)
    "task_hours",         # estimated task duration
    "days_employed",      # tenure at as_of: (as_of - hire_date) in days
    "tasks_90d",          # tasks assigned to the person in the 90 days before as_of
    "load_ratio",         # hours assigned in the 7 days before as_of ÷ contract hours
    "past_tasks",         # tasks of the person with a known outcome before as_of
    "past_success_rate",  # (successes + 1) / (past_tasks + 2): Laplace-smoothed, 0.5 for newcomers
    "type_tasks",         # like past_tasks, only this task type
    "type_success_rate",  # like past_success_rate, only this task type
    "skill_level",        # person's level (0..5) in the required skill; NaN if the task needs none
    "skill_match",        # 1 if the person holds the required skill at the required level (or none needed)
    "site_match",         # 1 if the task's site is the person's home site (1 if the task has no site)
    "preferred_site",     # 1 if the task's site is among the person's preferred sites
)
CATEGORICAL: tuple[str, ...] = ("task_type",)
_DAY_S = 86_400
_NS = 1_000_000_000


def parse_outcome(values: pd.Series) -> pd.Series:
    """Map bool / ``success`` / ``failure`` (and the aliases in kinds.py) to float 1/0, NaN if unknown."""
    if values.dtype == bool:
        return values.astype(float)

    def one(v: object) -> float:
        if isinstance(v, bool | np.bool_):
            return float(v)
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return np.nan
        key = str(v).strip().lower()
        if key in OUTCOME_VALUES:
            return float(OUTCOME_VALUES[key])
        try:
            return float(float(key) > 0)
        except ValueError:
            return np.nan

    return values.map(one).astype(float)


def _seconds(values: pd.Series | np.ndarray) -> np.ndarray:
    """Datetimes → int64 seconds; NaT → ``iinfo.min`` sentinel (callers mask with ``_valid``)."""
    arr = pd.to_datetime(pd.Series(values), errors="coerce").to_numpy(dtype="datetime64[ns]")
    out = arr.astype(np.int64) // _NS
    return np.where(np.isnat(arr), np.iinfo(np.int64).min, out)


def _sum_before(ev_key: np.ndarray, ev_t: np.ndarray, ev_v: np.ndarray, q_key: np.ndarray, q_t: np.ndarray,
                window_s: int | None = None) -> np.ndarray:
    """For each query, sum ``ev_v`` over events with the same key and ``q_t - window <= ev_t < q_t``.

    One sort plus two binary searches: events and queries are mapped to one int64 axis
    ``key * span + time`` so that per-key time ranges never overlap.
    """
    out = np.zeros(q_key.size)
    if ev_key.size == 0 or q_key.size == 0:
        return out
    base = min(int(ev_t.min()), int(q_t.min())) - (window_s or 0)
    span = max(int(ev_t.max()), int(q_t.max())) - base + 2
    comp = ev_key.astype(np.int64) * span + (ev_t - base)
    order = np.argsort(comp, kind="stable")
    comp = comp[order]
    csum = np.concatenate([[0.0], np.cumsum(ev_v[order].astype(float))])
    qk = q_key.astype(np.int64) * span
    hi = np.searchsorted(comp, qk + (q_t - base), side="left")
    lo_t = (q_t - window_s - base) if window_s is not None else np.zeros_like(q_t)
    lo = np.searchsorted(comp, qk + lo_t, side="left")  # csum is global: subtract the key block's start
    return csum[hi] - csum[lo]


def _codes(*arrays: np.ndarray) -> list[np.ndarray]:
    """Joint integer codes for several arrays of keys (same key → same code)."""
    sizes = [len(a) for a in arrays]
    codes, _ = pd.factorize(pd.Series(np.concatenate([np.asarray(a, dtype=object) for a in arrays])), sort=False)
    return np.split(codes.astype(np.int64), np.cumsum(sizes)[:-1])


def build_features(pairs: pd.DataFrame, staff: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Features for each row of ``pairs`` (one row per task × person), in input order.

    ``pairs`` needs ``task_id, staff_id, as_of`` and the task columns ``task_type, priority, due, site,
    required_skill, hours`` (missing ones become NaN). ``staff`` is the staff table; ``history`` the
    assignment history (``staff_id, task_type, assigned_at, due, outcome, hours``). Returns a frame with
    ``task_id, staff_id, as_of`` followed by :data:`FEATURES`.
    """
    n = len(pairs)
    p = pairs.reset_index(drop=True)
    col = lambda f, name: f[name] if name in f.columns else pd.Series([np.nan] * len(f))  # noqa: E731
    as_of = pd.to_datetime(p["as_of"], errors="coerce")
    q_t = _seconds(as_of)
    valid_q = ~as_of.isna().to_numpy()
    due = pd.to_datetime(col(p, "due"), errors="coerce")
    out = pd.DataFrame({"task_id": p["task_id"].astype(str).to_numpy(),
                        "staff_id": p["staff_id"].astype(str).to_numpy(), "as_of": as_of.to_numpy()})
    out["task_type"] = col(p, "task_type").astype("string").str.strip().str.lower().to_numpy(dtype=object)
    out["priority"] = pd.to_numeric(col(p, "priority"), errors="coerce").to_numpy(dtype=float)
    out["days_until_due"] = ((due - as_of).dt.total_seconds() / _DAY_S).to_numpy(dtype=float)
    out["weekday"] = due.dt.dayofweek.astype(float).to_numpy()
    out["hour"] = as_of.dt.hour.astype(float).to_numpy()
    out["task_hours"] = pd.to_numeric(col(p, "hours"), errors="coerce").to_numpy(dtype=float)

    # static staff attributes
    st = staff.copy()
    st["staff_id"] = st["staff_id"].astype(str)
    st = st.drop_duplicates("staff_id").set_index("staff_id")
    idx = st.index.get_indexer(out["staff_id"])
    known = idx >= 0
    take = np.where(known, idx, 0)

    def staff_col(name: str) -> pd.Series:
        if name not in st.columns or len(st) == 0:
            return pd.Series([np.nan] * n)
        s = st[name].iloc[take].reset_index(drop=True)
        return s.where(pd.Series(known), other=np.nan)

    hire = pd.to_datetime(staff_col("hire_date"), errors="coerce")
    out["days_employed"] = ((as_of - hire).dt.total_seconds() / _DAY_S).to_numpy(dtype=float)
    contract = pd.to_numeric(staff_col("contract_hours"), errors="coerce").to_numpy(dtype=float)

    # history-based counts (strictly before as_of)
    h = history.reset_index(drop=True)
    h_staff = h["staff_id"].astype(str).to_numpy(dtype=object) if len(h) else np.array([], dtype=object)
    h_assigned = pd.to_datetime(col(h, "assigned_at"), errors="coerce")
    h_due = pd.to_datetime(col(h, "due"), errors="coerce")
    h_known = h_due.where(h_due.notna() & (h_due > h_assigned), h_assigned)
    h_type = col(h, "task_type").astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)
    h_out = parse_outcome(col(h, "outcome")) if len(h) else pd.Series([], dtype=float)
    h_hours = pd.to_numeric(col(h, "hours"), errors="coerce").fillna(0).to_numpy(dtype=float)
    ok_assigned = h_assigned.notna().to_numpy()
    ok_known = (h_known.notna() & h_out.notna()).to_numpy()
    q_t_safe = np.where(valid_q, q_t, 0)

    s_ev, s_q = _codes(h_staff, out["staff_id"].to_numpy(dtype=object))
    ta = _seconds(h_assigned)
    tk = _seconds(h_known)
    out["tasks_90d"] = _sum_before(s_ev[ok_assigned], ta[ok_assigned], np.ones(ok_assigned.sum()), s_q, q_t_safe,
                                   window_s=90 * _DAY_S)
    hours_7d = _sum_before(s_ev[ok_assigned], ta[ok_assigned], h_hours[ok_assigned], s_q, q_t_safe,
                           window_s=7 * _DAY_S)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["load_ratio"] = np.where(contract > 0, hours_7d / contract, np.nan)
    y = h_out.fillna(0).to_numpy(dtype=float)
    n_past = _sum_before(s_ev[ok_known], tk[ok_known], np.ones(ok_known.sum()), s_q, q_t_safe)
    succ = _sum_before(s_ev[ok_known], tk[ok_known], y[ok_known], s_q, q_t_safe)
    out["past_tasks"] = n_past
    out["past_success_rate"] = (succ + 1) / (n_past + 2)
    st_ev, st_q = _codes(h_staff + "\x1f" + h_type, out["staff_id"].to_numpy(dtype=object) + "\x1f"
                         + out["task_type"].fillna("").to_numpy(dtype=object))
    n_type = _sum_before(st_ev[ok_known], tk[ok_known], np.ones(ok_known.sum()), st_q, q_t_safe)
    s_type = _sum_before(st_ev[ok_known], tk[ok_known], y[ok_known], st_q, q_t_safe)
    out["type_tasks"] = n_type
    out["type_success_rate"] = (s_type + 1) / (n_type + 2)

    # skills and sites
    skills = [parse_skills(v) for v in staff_col("skills")]
    req = [parse_requirement(v) for v in col(p, "required_skill")]
    level = np.array([np.nan if not name else float(sk.get(name, 0))
                      for sk, (name, _) in zip(skills, req, strict=True)])
    need = np.array([lvl for _, lvl in req], dtype=float)
    out["skill_level"] = level
    out["skill_match"] = np.where(np.isnan(level), 1.0, (level >= need).astype(float))
    t_site = col(p, "site").astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)
    home = staff_col("site").astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)
    prefs = [set(parse_list(v)) for v in staff_col("preferred_sites")]
    out["site_match"] = np.where(t_site == "", 1.0, (t_site == home).astype(float))
    out["preferred_site"] = np.array([float(bool(s) and s in pr) for s, pr in zip(t_site, prefs, strict=True)])

    numeric = [f for f in FEATURES if f not in CATEGORICAL]
    out.loc[~valid_q, [f for f in numeric if f not in ("priority", "task_hours")]] = np.nan
    return out[["task_id", "staff_id", "as_of", *FEATURES]]


def history_features(history: pd.DataFrame, staff: pd.DataFrame) -> pd.DataFrame:
    """Training/evaluation rows: one per history row with ``as_of = assigned_at`` plus a ``label``
    column (1 success, 0 failure; rows with an unknown outcome are dropped)."""
    h = history.reset_index(drop=True).copy()
    h["as_of"] = pd.to_datetime(h["assigned_at"], errors="coerce")
    label = parse_outcome(h["outcome"])
    keep = label.notna() & h["as_of"].notna()
    feats = build_features(h[keep.to_numpy()], staff, history)
    feats["label"] = label[keep].to_numpy(dtype=int)
    return feats


def candidate_features(tasks: pd.DataFrame, pairs: pd.DataFrame, staff: pd.DataFrame, history: pd.DataFrame,
                       now: pd.Timestamp) -> pd.DataFrame:
    """Features for candidate ``pairs`` (``task_id, staff_id``) of open ``tasks``, as of ``now``."""
    t = tasks.copy()
    t["task_id"] = t["task_id"].astype(str)
    merged = pairs[["task_id", "staff_id"]].astype(str).merge(t.drop(columns=["staff_id"], errors="ignore"),
                                                              on="task_id", how="left")
    merged["as_of"] = pd.Timestamp(now)
    return build_features(merged, staff, history)
