"""Hard constraints: which (task, staff) pairs are allowed at all, and why the others are not.

Every assignment method and the candidate scorer share this one definition so that a pair the
optimiser may use is exactly a pair the explanation page calls eligible. The result keeps one
reason code per (task, staff) cell (``int8``; 5,000 × 1,000 is 5 MB), which makes "why was this
person excluded?" a lookup instead of a recomputation.

Rules (checked in this order; the first failing rule is the recorded reason):

1. ``unavailable`` — staff ``availability`` is false (missing column → everyone available).
2. ``site`` — the task has a site, site matching is required (``site_required`` argument, or a
   per-task boolean ``site_required`` column), and the task site is neither the person's ``site``
   nor one of their ``preferred_sites``.
3. ``missing_skill`` — the task's ``required_skill`` (``name`` or ``name:level``) is not among the
   person's ``skills`` at that level or above. An empty requirement matches everyone.
4. ``capacity`` — the person has no assignment left (``max_assignments`` ≤ 0), or, when hour limits
   are used, the task's ``hours`` exceed ``capacity_hours - current_load_hours``.
5. ``not_scored`` — an explicit score table was given and this pair is not listed in it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: reason codes stored in :attr:`Candidates.reasons`; 0 means eligible.
REASONS: dict[int, str] = {
    0: "eligible",
    1: "unavailable",
    2: "site",
    3: "missing_skill",
    4: "capacity",
    5: "not_scored",
}
ELIGIBLE, UNAVAILABLE, SITE, MISSING_SKILL, CAPACITY, NOT_SCORED = range(6)

#: level assumed for a skill listed without ``:level`` (kinds.py allows bare names; 3 = middle of 1..5).
DEFAULT_SKILL_LEVEL = 3
_SPLIT = re.compile(r"[|;,]")


def _norm(value: object) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # list-like cells are not missing
        pass
    return str(value).strip().lower()


def parse_skills(cell: object) -> dict[str, int]:
    """Parse ``"forklift:3|first_aid"`` into ``{"forklift": 3, "first_aid": DEFAULT_SKILL_LEVEL}``.

    Names are case-insensitive (lower-cased); separators ``|``, ``;`` and ``,`` are accepted, as in
    the upload contract. An unparsable level falls back to the default rather than dropping the skill,
    because losing a qualification silently would exclude the person from work they can do.
    """
    out: dict[str, int] = {}
    text = _norm(cell)
    if not text:
        return out
    for token in _SPLIT.split(text):
        token = token.strip()
        if not token:
            continue
        name, _, level = token.partition(":")
        name = name.strip()
        if not name:
            continue
        try:
            lvl = int(float(level)) if level.strip() else DEFAULT_SKILL_LEVEL
        except ValueError:
            lvl = DEFAULT_SKILL_LEVEL
        out[name] = max(out.get(name, 0), lvl)
    return out


def parse_requirement(cell: object) -> tuple[str, int]:
    """Parse a task's ``required_skill``: ``"forklift:2"`` → ``("forklift", 2)``; empty → ``("", 0)``."""
    text = _norm(cell)
    if not text:
        return "", 0
    name, _, level = text.partition(":")
    try:
        lvl = int(float(level)) if level.strip() else 1
    except ValueError:
        lvl = 1
    return name.strip(), max(lvl, 1)


def parse_list(cell: object) -> list[str]:
    """Split a ``list`` cell (``|``, ``;`` or ``,``) into normalised tokens."""
    return [t.strip() for t in _SPLIT.split(_norm(cell)) if t.strip()]


def _bool_column(frame: pd.DataFrame, name: str, default: bool) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), default)
    col = frame[name]
    if col.dtype == bool:
        return col.to_numpy()
    mapped = col.map(lambda v: default if _norm(v) == "" else _norm(v) in {"1", "true", "yes", "y", "ja", "j", "x"})
    return mapped.to_numpy(dtype=bool)


def _float_column(frame: pd.DataFrame, name: str, default: float) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), default, dtype=float)
    return pd.to_numeric(frame[name], errors="coerce").fillna(default).to_numpy(dtype=float)


def has_hours(tasks: pd.DataFrame, staff: pd.DataFrame) -> bool:
    """Hour limits are possible when tasks carry ``hours`` and staff carry ``capacity_hours``."""
    return (
        "hours" in tasks.columns
        and "capacity_hours" in staff.columns
        and pd.to_numeric(tasks["hours"], errors="coerce").notna().any()
    )


@dataclass(frozen=True)
class Candidates:
    """Eligibility of every (task, staff) pair plus the per-task/per-staff numbers the solvers need.

    Arrays are aligned with ``task_ids`` (length ``n_tasks``) and ``staff_ids`` (length ``n_staff``).
    ``edge_task``/``edge_staff`` list the eligible pairs in task-major order; ``edge_score`` is their
    score (NaN until :func:`attach_scores`).
    """

    task_ids: np.ndarray
    staff_ids: np.ndarray
    reasons: np.ndarray  # int8 (n_tasks, n_staff)
    task_hours: np.ndarray  # float, 0 when unknown
    task_priority: np.ndarray  # float, NaN when unknown
    task_due: np.ndarray  # datetime64[ns], NaT when unknown
    remaining_hours: np.ndarray  # capacity_hours - current_load_hours (inf when hours are not used)
    capacity_hours: np.ndarray  # inf when unknown
    current_load_hours: np.ndarray
    max_assignments: np.ndarray  # int64
    available: np.ndarray  # bool
    use_hours: bool
    edge_task: np.ndarray = field(repr=False)
    edge_staff: np.ndarray = field(repr=False)
    edge_score: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        if self.reasons.shape != (len(self.task_ids), len(self.staff_ids)):
            raise ValueError("reasons must have shape (n_tasks, n_staff)")
        if not (len(self.edge_task) == len(self.edge_staff) == len(self.edge_score)):
            raise ValueError("edge arrays must have equal length")

    @property
    def n_tasks(self) -> int:
        return len(self.task_ids)

    @property
    def n_staff(self) -> int:
        return len(self.staff_ids)

    def eligible_frame(self) -> pd.DataFrame:
        """Eligible pairs as ``task_id, staff_id, score``."""
        return pd.DataFrame({
            "task_id": self.task_ids[self.edge_task],
            "staff_id": self.staff_ids[self.edge_staff],
            "score": self.edge_score,
        })

    def excluded_frame(self, task_ids: list[str] | None = None) -> pd.DataFrame:
        """Excluded pairs as ``task_id, staff_id, reason`` (optionally only for some tasks)."""
        rows = np.arange(self.n_tasks)
        if task_ids is not None:
            rows = np.flatnonzero(np.isin(self.task_ids, np.asarray(task_ids, dtype=object)))
        sub = self.reasons[rows]
        ti, si = np.nonzero(sub)
        return pd.DataFrame({
            "task_id": self.task_ids[rows[ti]],
            "staff_id": self.staff_ids[si],
            "reason": [REASONS[int(c)] for c in sub[ti, si]],
        })

    def no_candidate_reason(self, task_index: int) -> str:
        """Human-readable reason why a task has no eligible person, e.g. ``"no eligible staff: site 12, ..."``."""
        codes, counts = np.unique(self.reasons[task_index], return_counts=True)
        parts = [f"{REASONS[int(c)]} {int(n)}" for c, n in sorted(zip(codes, counts, strict=True), key=lambda x: -x[1])
                 if c != ELIGIBLE]
        return "no eligible staff: " + ", ".join(parts) if parts else "no staff"


def build_candidates(
    tasks: pd.DataFrame,
    staff: pd.DataFrame,
    *,
    site_required: bool = True,
    use_hours: bool | None = None,
) -> Candidates:
    """Check every hard constraint for every (task, staff) pair (vectorised, no Python loop over pairs).

    ``use_hours=None`` enables hour limits when both task ``hours`` and staff ``capacity_hours``
    exist. Raises ``ValueError`` on duplicate ids, because a duplicated person would double their
    capacity without anyone noticing.
    """
    for frame, col, what in ((tasks, "task_id", "tasks"), (staff, "staff_id", "staff")):
        if col not in frame.columns:
            raise ValueError(f"{what} need a {col!r} column")
        if frame[col].astype(str).duplicated().any():
            raise ValueError(f"duplicate {col} values in {what}")
    if use_hours is None:
        use_hours = has_hours(tasks, staff)
    nt, ns = len(tasks), len(staff)
    task_ids = tasks["task_id"].astype(str).to_numpy(dtype=object)
    staff_ids = staff["staff_id"].astype(str).to_numpy(dtype=object)
    reasons = np.zeros((nt, ns), dtype=np.int8)

    def mark(mask: np.ndarray, code: int) -> None:
        # only the first failing rule is recorded
        np.copyto(reasons, np.int8(code), where=mask & (reasons == ELIGIBLE))

    available = _bool_column(staff, "availability", True)
    mark(np.broadcast_to(~available[None, :], (nt, ns)), UNAVAILABLE)

    # site: a person may work at their own site or at any preferred site
    task_site = tasks["site"].map(_norm).to_numpy(dtype=object) if "site" in tasks.columns else np.full(nt, "")
    need_site = _bool_column(tasks, "site_required", site_required) & (task_site != "")
    if need_site.any():
        sites = sorted({s for s in task_site if s})
        code = {s: i for i, s in enumerate(sites)}
        works = np.zeros((ns, len(sites)), dtype=bool)
        home = staff["site"].map(_norm) if "site" in staff.columns else pd.Series([""] * ns)
        prefs = staff["preferred_sites"] if "preferred_sites" in staff.columns else pd.Series([""] * ns)
        for j, (h, p) in enumerate(zip(home, prefs, strict=True)):
            for s in [h, *parse_list(p)]:
                if s in code:
                    works[j, code[s]] = True
        tcode = np.array([code.get(s, 0) for s in task_site])
        mark(need_site[:, None] & ~works[:, tcode].T, SITE)

    # skills
    req = [parse_requirement(v) for v in (tasks["required_skill"] if "required_skill" in tasks.columns
                                          else [None] * nt)]
    req_names = sorted({n for n, _ in req if n})
    if req_names:
        code = {s: i for i, s in enumerate(req_names)}
        levels = np.zeros((ns, len(req_names)), dtype=np.int8)
        for j, cell in enumerate(staff["skills"] if "skills" in staff.columns else [None] * ns):
            for name, lvl in parse_skills(cell).items():
                if name in code:
                    levels[j, code[name]] = min(lvl, 127)
        has_req = np.array([bool(n) for n, _ in req])
        tcode = np.array([code.get(n, 0) for n, _ in req])
        need = np.array([lvl for _, lvl in req], dtype=np.int8)
        mark(has_req[:, None] & (levels[:, tcode].T < need[:, None]), MISSING_SKILL)

    # capacity
    max_assign = _float_column(staff, "max_assignments", float(max(nt, 1)))
    max_assign = np.clip(np.floor(max_assign), 0, max(nt, 1)).astype(np.int64)
    cap_hours = _float_column(staff, "capacity_hours", np.inf)
    cur_load = _float_column(staff, "current_load_hours", 0.0)
    hours = np.clip(_float_column(tasks, "hours", 0.0), 0, None)
    remaining = np.clip(cap_hours - cur_load, 0, None) if use_hours else np.full(ns, np.inf)
    cap_mask = np.broadcast_to((max_assign <= 0)[None, :], (nt, ns))
    if use_hours:
        cap_mask = cap_mask | (hours[:, None] > remaining[None, :] + 1e-9)
    mark(cap_mask, CAPACITY)

    priority = _float_column(tasks, "priority", np.nan)
    due = (pd.to_datetime(tasks["due"], errors="coerce").to_numpy(dtype="datetime64[ns]") if "due" in tasks.columns
           else np.full(nt, np.datetime64("NaT"), dtype="datetime64[ns]"))
    et, es = np.nonzero(reasons == ELIGIBLE)
    logger.debug("eligibility: %d tasks x %d staff -> %d eligible pairs", nt, ns, et.size)
    return Candidates(
        task_ids=task_ids, staff_ids=staff_ids, reasons=reasons, task_hours=hours, task_priority=priority,
        task_due=due, remaining_hours=remaining, capacity_hours=cap_hours, current_load_hours=cur_load,
        max_assignments=max_assign, available=available, use_hours=bool(use_hours),
        edge_task=et.astype(np.int64), edge_staff=es.astype(np.int64), edge_score=np.full(et.size, np.nan),
    )


def attach_scores(cand: Candidates, scores: pd.DataFrame | None, *, default: float | None = None) -> Candidates:
    """Return a copy whose eligible edges carry scores from ``scores`` (``task_id, staff_id, score``).

    Pairs missing from ``scores`` become ``not_scored`` (an explicit score table is an allow-list);
    with ``scores=None`` every eligible pair gets ``default``. Non-finite scores are rejected.
    """
    if scores is None:
        if default is None:
            raise ValueError("either scores or a default score is required")
        return _replace_edges(cand, cand.reasons, cand.edge_task, cand.edge_staff,
                              np.full(cand.edge_task.size, float(default)))
    missing = {"task_id", "staff_id", "score"} - set(scores.columns)
    if missing:
        raise ValueError(f"scores need columns task_id, staff_id, score (missing {sorted(missing)})")
    s = pd.to_numeric(scores["score"], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite numbers")
    t_index = pd.Index(cand.task_ids)
    s_index = pd.Index(cand.staff_ids)
    ti = t_index.get_indexer(scores["task_id"].astype(str))
    si = s_index.get_indexer(scores["staff_id"].astype(str))
    ok = (ti >= 0) & (si >= 0)
    grid = np.full((cand.n_tasks, cand.n_staff), np.nan)
    grid[ti[ok], si[ok]] = s[ok]  # a duplicated pair keeps its last score
    reasons = cand.reasons.copy()
    np.copyto(reasons, np.int8(NOT_SCORED), where=(reasons == ELIGIBLE) & np.isnan(grid))
    et, es = np.nonzero(reasons == ELIGIBLE)
    return _replace_edges(cand, reasons, et.astype(np.int64), es.astype(np.int64), grid[et, es])


def _replace_edges(cand: Candidates, reasons: np.ndarray, et: np.ndarray, es: np.ndarray,
                   score: np.ndarray) -> Candidates:
    from dataclasses import replace

    return replace(cand, reasons=reasons, edge_task=et, edge_staff=es, edge_score=score)
