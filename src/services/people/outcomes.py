"""Outcomes of finalized assignments (they become the ranker's training history) and the shadow-mode report
that compares the model's choices with the rules against those outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from src.data import db, store
from src.data import people_store as ps
from src.data.validation import validate_frame
from src.models.ranking import shadow_report
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import _sha


def assignments_awaiting_outcome(app: AppContext, actor: Actor) -> pd.DataFrame:
    require_role(actor, "planner", "admin")
    return ps.load_finalized(app.engine, with_outcome=False)


def finalized_assignments(app: AppContext, actor: Actor, *, start: date | None = None,
                          end: date | None = None) -> pd.DataFrame:
    require_role(actor, "planner", "admin")
    s = pd.Timestamp(start).to_pydatetime() if start else None
    e = (pd.Timestamp(end) + pd.Timedelta(days=1)).to_pydatetime() if end else None
    return ps.load_finalized(app.engine, start=s, end=e)


def record_outcomes(app: AppContext, actor: Actor, outcomes: dict[str, str]) -> int:
    """Record success/failure of finalized assignments. They are added to the assignment history (the
    ranker's training data) and marked on the assignment; recording again replaces the earlier outcome."""
    require_role(actor, "planner", "admin")
    if not outcomes:
        raise ServiceError("Choose at least one assignment and its outcome.")
    bad = {k: v for k, v in outcomes.items() if v not in ("success", "failure")}
    if bad:
        raise ServiceError(f"Outcome must be 'success' or 'failure' (got {next(iter(bad.values()))!r}).")
    final = ps.load_finalized(app.engine, task_ids=list(outcomes))
    missing = sorted(set(outcomes) - set(final["task_id"]))
    if missing:
        raise ServiceError(f"Task {missing[0]} has no finalized assignment.")
    hist = final[["task_id", "staff_id", "task_type", "priority", "due", "assigned_at", "site", "required_skill",
                  "hours"]].copy()
    hist["outcome"] = hist["task_id"].map(outcomes)
    report = validate_frame("assignments", hist, file="outcomes")
    if not report.ok:
        raise ServiceError(f"The outcomes could not be added to the history: {report.errors[0].message}")
    sha = _sha(pd.util.hash_pandas_object(report.frame, index=False).values.tobytes())
    # the history rows and the outcome marks in one transaction (re-recording replaces: policy replace)
    with db.write_tx(app.engine) as conn:
        store.ingest_frame_in(conn, kind="assignments", frame=report.frame, file_name="recorded outcomes",
                              sha256=sha, actor=actor.username, role=actor.role, policy="replace",
                              audit_detail={"source": "people.record_outcomes"})
        for task_id, outcome in outcomes.items():
            ps.set_outcome(conn, task_id, outcome, actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.outcome",
                          object_type="assignment", object_id=next(iter(outcomes)) if len(outcomes) == 1 else None,
                          detail={"count": len(outcomes), "success": sum(v == "success" for v in outcomes.values())})
    return len(outcomes)


# ============================================================================================ shadow mode

@dataclass(frozen=True)
class ShadowSummary:
    decisions: int  # tasks logged in shadow mode
    agreement_logged: float
    report: dict[str, Any] = field(default_factory=dict)
    log: pd.DataFrame = field(default_factory=pd.DataFrame)


def shadow_mode_report(app: AppContext, actor: Actor) -> ShadowSummary:
    """Shadow log (model choice next to the rule decision that was used) and, where outcomes were
    recorded, the comparison of both scores against them (``shadow_report``)."""
    require_role(actor, "admin")
    logged = ps.load_shadow(app.engine)
    pairs = ps.shadow_pairs(app.engine)
    rep: dict[str, Any] = {}
    if len(pairs):
        pairs["model_rank"] = pd.to_numeric(pairs["model_rank"], errors="coerce")
        rep = shadow_report(pairs[["task_id", "staff_id", "rule_score", "model_score", "model_rank"]],
                            pairs[["task_id", "staff_id", "outcome"]])
    agree = float(logged["agree"].mean()) if len(logged) else float("nan")
    return ShadowSummary(decisions=len(logged), agreement_logged=agree, report=rep, log=logged)
