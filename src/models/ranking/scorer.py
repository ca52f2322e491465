"""Score candidates for open tasks with safety layers, shadow mode and explanations.

Decision per task (recorded in ``scorer``/``reason`` of every candidate row and in ``decisions``):

1. ``ml_enabled`` and ``ranking_enabled`` both on and a model given, else rules
   (reason ``ml_disabled`` / ``ranking_disabled`` / ``model_missing``);
2. model prediction raises → rules for every task (reason ``model_error``; logged);
3. the model's best calibrated probability for the task is below ``confidence_threshold`` → rules
   for that task (reason ``low_confidence``);
4. otherwise the model decides (reason ``model``).

In ``shadow_mode`` the rules always decide (reason ``shadow_mode``) while the model's score and rank
are recorded next to them (``model_score``, ``model_rank``), so :func:`shadow_report` can later
compare both against recorded outcomes. When a model exists, rule scores are mapped onto its
probability scale (``rules_calibration``) so a per-task fallback stays comparable across tasks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from src.models.assignment.eligibility import Candidates, build_candidates
from src.models.ranking.evaluation import binary_metrics
from src.models.ranking.features import candidate_features, parse_outcome
from src.models.ranking.model import RankerModel
from src.models.ranking.rules import RuleWeights, rule_breakdown, rule_scores

logger = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on", "y"}


@dataclass(frozen=True)
class ScorerSettings:
    """Runtime switches (env defaults, admin page). ``confidence_threshold`` is a calibrated probability."""

    ml_enabled: bool = True
    ranking_enabled: bool = True
    shadow_mode: bool = False
    confidence_threshold: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence_threshold <= 1.0:
            raise ValueError("confidence_threshold must be in [0, 1]")

    @classmethod
    def from_mapping(cls, values: Mapping[str, str], prefix: str = "WFP_") -> ScorerSettings:
        """Read ``WFP_ML_ENABLED``, ``WFP_RANKING_ENABLED``, ``WFP_SHADOW_MODE``, ``WFP_CONFIDENCE_THRESHOLD``
        (e.g. from ``os.environ``); missing keys keep the defaults."""
        d = cls()

        def flag(name: str, default: bool) -> bool:
            v = values.get(prefix + name)
            return default if v is None or str(v).strip() == "" else str(v).strip().lower() in _TRUE

        thr = values.get(prefix + "CONFIDENCE_THRESHOLD")
        return cls(flag("ML_ENABLED", d.ml_enabled), flag("RANKING_ENABLED", d.ranking_enabled),
                   flag("SHADOW_MODE", d.shadow_mode),
                   d.confidence_threshold if thr in (None, "") else float(thr))


@dataclass(frozen=True)
class ScoringResult:
    """``scores``: one row per eligible pair — ``task_id, staff_id, score, scorer, reason, rule_score,
    model_score, rank, model_rank``; ``decisions``: one row per task — ``task_id, scorer, reason,
    n_candidates, top_staff_id, model_top_staff_id, model_best``; ``excluded``: ``task_id, staff_id,
    reason``; ``features``: aligned with ``scores``; ``candidates``: the eligibility graph."""

    scores: pd.DataFrame
    decisions: pd.DataFrame
    excluded: pd.DataFrame
    features: pd.DataFrame
    candidates: Candidates

    def score_table(self) -> pd.DataFrame:
        """``task_id, staff_id, score`` — the input format of the assignment methods."""
        return self.scores[["task_id", "staff_id", "score"]]


def _rank(scores: pd.DataFrame, column: str) -> np.ndarray:
    return (scores.groupby("task_id", sort=False)[column].rank(method="first", ascending=False)
            .fillna(0).astype(int).to_numpy())


def score_candidates(
    tasks: pd.DataFrame,
    staff: pd.DataFrame,
    history: pd.DataFrame,
    model: RankerModel | None,
    settings: ScorerSettings | None = None,
    *,
    now: pd.Timestamp | None = None,
    weights: RuleWeights | None = None,
    site_required: bool = True,
    use_hours: bool | None = None,
) -> ScoringResult:
    """Score every eligible (task, person) pair; see the module docstring for the decision rules."""
    settings = settings or ScorerSettings()
    weights = weights or (model.rule_weights if model is not None else RuleWeights())
    now = pd.Timestamp.now().floor("s") if now is None else pd.Timestamp(now)
    cand = build_candidates(tasks, staff, site_required=site_required, use_hours=use_hours)
    pairs = pd.DataFrame({"task_id": cand.task_ids[cand.edge_task], "staff_id": cand.staff_ids[cand.edge_staff]})
    feats = candidate_features(tasks, pairs, staff, history, now)
    raw_rules = rule_scores(feats, weights)
    scores = pairs.copy()
    scores["rule_score"] = raw_rules
    scores["model_score"] = np.nan
    if not settings.ml_enabled:
        global_reason = "ml_disabled"
    elif not settings.ranking_enabled:
        global_reason = "ranking_disabled"
    elif model is None:
        global_reason = "model_missing"
    else:
        global_reason = ""
        try:
            p = np.asarray(model.predict_proba(feats), dtype=float)
            if p.shape != (len(feats),) or not np.all(np.isfinite(p)):
                raise ValueError("model returned invalid probabilities")
            scores["model_score"] = p
            scores["rule_score"] = model.rules_calibration(raw_rules)
        except Exception:  # any failure must fall back, never break the planner's page
            logger.exception("ranking model failed; falling back to rules for all tasks")
            global_reason = "model_error"
    best = scores.groupby("task_id", sort=False)["model_score"].transform("max").to_numpy()
    if global_reason:
        reason = np.full(len(scores), global_reason, dtype=object)
    elif settings.shadow_mode:
        reason = np.full(len(scores), "shadow_mode", dtype=object)
    else:
        reason = np.where(best >= settings.confidence_threshold, "model", "low_confidence").astype(object)
    use_model = reason == "model"
    scores["score"] = np.where(use_model, scores["model_score"], scores["rule_score"])
    scores["scorer"] = np.where(use_model, "model", "rules")
    scores["reason"] = reason
    scores["rank"] = _rank(scores, "score") if len(scores) else np.array([], dtype=int)
    scores["model_rank"] = _rank(scores, "model_score") if len(scores) else np.array([], dtype=int)
    scores = scores[["task_id", "staff_id", "score", "scorer", "reason", "rule_score", "model_score", "rank",
                     "model_rank"]]
    decisions = _decisions(cand, scores)
    logger.info("scored %d pairs for %d tasks: %s", len(scores), cand.n_tasks,
                decisions["reason"].value_counts().to_dict())
    return ScoringResult(scores=scores, decisions=decisions, excluded=cand.excluded_frame(), features=feats,
                         candidates=cand)


def _decisions(cand: Candidates, scores: pd.DataFrame) -> pd.DataFrame:
    base = pd.DataFrame({"task_id": cand.task_ids})
    if len(scores):
        g = scores.groupby("task_id", sort=False)
        top = scores[scores["rank"] == 1].set_index("task_id")["staff_id"]
        mtop = scores[scores["model_rank"] == 1].set_index("task_id")["staff_id"]
        agg = g.agg(scorer=("scorer", "first"), reason=("reason", "first"), n_candidates=("staff_id", "size"),
                    model_best=("model_score", "max"))
        base = base.join(agg, on="task_id").join(top.rename("top_staff_id"), on="task_id")
        base = base.join(mtop.rename("model_top_staff_id"), on="task_id")
    else:
        for c in ("scorer", "reason", "n_candidates", "model_best", "top_staff_id", "model_top_staff_id"):
            base[c] = np.nan
    base["n_candidates"] = base["n_candidates"].fillna(0).astype(int)
    base["reason"] = base["reason"].fillna("no_eligible_staff")
    base["scorer"] = base["scorer"].fillna("none")
    return base[["task_id", "scorer", "reason", "n_candidates", "top_staff_id", "model_top_staff_id", "model_best"]]


def explain(result: ScoringResult, task_id: str, model: RankerModel | None = None,
            weights: RuleWeights | None = None) -> dict[str, pd.DataFrame]:
    """Explanation for one task: ``rules`` (staff_id, factor, value, weight, contribution), ``model``
    (staff_id, feature, value, contribution — LightGBM ``pred_contrib``, log-odds units; empty without
    a model) and ``excluded`` (staff_id, reason)."""
    mask = (result.scores["task_id"] == str(task_id)).to_numpy()
    feats = result.features[mask]
    staff_ids = result.scores.loc[mask, "staff_id"].to_numpy()
    w = weights or (model.rule_weights if model is not None else RuleWeights())
    rules = rule_breakdown(feats.reset_index(drop=True), w)
    rules.insert(0, "staff_id", staff_ids[rules.pop("row").to_numpy()])
    model_long = pd.DataFrame(columns=["staff_id", "feature", "value", "contribution"])
    if model is not None and len(feats):
        contrib = model.contributions(feats.reset_index(drop=True))
        vals = feats.reset_index(drop=True)
        parts = [pd.DataFrame({"staff_id": staff_ids, "feature": f,
                               "value": vals[f].astype(object).to_numpy() if f in vals else np.nan,
                               "contribution": contrib[f].to_numpy()}) for f in contrib.columns]
        model_long = pd.concat(parts, ignore_index=True)
    excluded = result.candidates.excluded_frame([str(task_id)])[["staff_id", "reason"]]
    return {"rules": rules, "model": model_long, "excluded": excluded}


def shadow_report(log: pd.DataFrame, outcomes: pd.DataFrame) -> dict[str, object]:
    """Compare the rules' decisions with the shadow model's ranking against recorded outcomes.

    ``log`` is :attr:`ScoringResult.scores` from shadow-mode runs; ``outcomes`` has ``task_id,
    staff_id, outcome`` for the person actually assigned. Outcomes of people who were *not* assigned
    are unknown, so the report answers "would the model have picked better?" with evidence that can
    be observed: how often the model agreed with the decision, the success rate when it agreed vs
    disagreed, and which score (model or rules) predicted the observed outcomes better (AUC, log loss).
    """
    out = outcomes.copy()
    out["task_id"] = out["task_id"].astype(str)
    out["staff_id"] = out["staff_id"].astype(str)
    out["y"] = parse_outcome(out["outcome"])
    out = out.dropna(subset=["y"])
    chosen = out.merge(log, on=["task_id", "staff_id"], how="inner")
    chosen = chosen.dropna(subset=["model_score"])
    if chosen.empty:
        return {"tasks": 0, "agreement": float("nan"), "success_when_agree": float("nan"),
                "success_when_disagree": float("nan"), "model": {}, "rules": {}, "per_task": chosen}
    chosen["model_agrees"] = chosen["model_rank"] == 1
    y = chosen["y"].to_numpy(dtype=int)
    agree = chosen["model_agrees"].to_numpy()
    return {
        "tasks": int(len(chosen)),
        "agreement": float(agree.mean()),
        "success_when_agree": float(y[agree].mean()) if agree.any() else float("nan"),
        "success_when_disagree": float(y[~agree].mean()) if (~agree).any() else float("nan"),
        "model": binary_metrics(y, chosen["model_score"].to_numpy()),
        "rules": binary_metrics(y, chosen["rule_score"].to_numpy()),
        "per_task": chosen[["task_id", "staff_id", "y", "rule_score", "model_score", "model_rank", "model_agrees"]],
    }
