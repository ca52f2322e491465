"""Transparent rule-based scorer: the fallback whenever the model is absent, failing or unsure, and
the baseline every model metric is compared against.

score = Σ weight_f × factor_f / Σ weight_f, every factor in [0, 1]:

- ``skill``: level in the required skill ÷ 5 (1 when the task needs no skill);
- ``experience``: half tenure (days employed ÷ ``experience_days``, capped at 1), half familiarity
  with this task type (tasks of this type ÷ ``familiar_tasks``, capped at 1);
- ``track_record``: Laplace-smoothed past success rate (0.5 for newcomers);
- ``workload``: 1 − hours in the last 7 days ÷ contract hours (capped to [0, 1]; 0.5 if unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

FACTORS: tuple[str, ...] = ("skill", "experience", "track_record", "workload")


@dataclass(frozen=True)
class RuleWeights:
    """Weights of the rule-based scorer (config-driven: see :meth:`from_mapping`)."""

    skill: float = 0.4
    experience: float = 0.2
    track_record: float = 0.2
    workload: float = 0.2
    experience_days: float = 730.0
    familiar_tasks: float = 10.0

    def __post_init__(self) -> None:
        w = [self.skill, self.experience, self.track_record, self.workload]
        if any((not np.isfinite(x)) or x < 0 for x in w) or sum(w) <= 0:
            raise ValueError("rule weights must be finite, non-negative and not all zero")
        if self.experience_days <= 0 or self.familiar_tasks <= 0:
            raise ValueError("experience_days and familiar_tasks must be > 0")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> RuleWeights:
        """Build from a config mapping; unknown keys are rejected so typos do not pass silently."""
        names = {f.name for f in fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown rule weight(s): {sorted(unknown)}")
        return cls(**{k: float(v) for k, v in values.items()})  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def weight(self, factor: str) -> float:
        return float(getattr(self, factor))


def rule_factors(features: pd.DataFrame, weights: RuleWeights | None = None) -> pd.DataFrame:
    """The four factors (columns :data:`FACTORS`, values in [0, 1]) for each feature row."""
    w = weights or RuleWeights()
    f = features
    lvl = f["skill_level"].to_numpy(dtype=float)
    skill = np.where(np.isnan(lvl), 1.0, np.clip(lvl / 5.0, 0, 1))
    tenure = np.clip(np.nan_to_num(f["days_employed"].to_numpy(dtype=float), nan=0.0) / w.experience_days, 0, 1)
    familiar = np.clip(np.nan_to_num(f["type_tasks"].to_numpy(dtype=float), nan=0.0) / w.familiar_tasks, 0, 1)
    track = np.nan_to_num(f["past_success_rate"].to_numpy(dtype=float), nan=0.5)
    load = f["load_ratio"].to_numpy(dtype=float)
    workload = np.where(np.isnan(load), 0.5, 1.0 - np.clip(load, 0, 1))
    return pd.DataFrame({"skill": skill, "experience": 0.5 * tenure + 0.5 * familiar,
                         "track_record": np.clip(track, 0, 1), "workload": workload}, index=features.index)


def rule_scores(features: pd.DataFrame, weights: RuleWeights | None = None) -> np.ndarray:
    """Weighted mean of the factors, in [0, 1]."""
    w = weights or RuleWeights()
    fac = rule_factors(features, w)
    wv = np.array([w.weight(k) for k in FACTORS])
    return fac[list(FACTORS)].to_numpy() @ wv / wv.sum()


def rule_breakdown(features: pd.DataFrame, weights: RuleWeights | None = None) -> pd.DataFrame:
    """Explanation in long form: one row per (input row, factor) with ``factor, value, weight,
    contribution`` where ``contribution = value × weight / Σ weights`` (contributions sum to the score)."""
    w = weights or RuleWeights()
    fac = rule_factors(features, w)
    total = sum(w.weight(k) for k in FACTORS)
    rows = []
    for k in FACTORS:
        rows.append(pd.DataFrame({"row": features.index, "factor": k, "value": fac[k].to_numpy(),
                                  "weight": w.weight(k), "contribution": fac[k].to_numpy() * w.weight(k) / total}))
    return pd.concat(rows, ignore_index=True)
