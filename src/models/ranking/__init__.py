"""People ranking: features without look-ahead, rule scorer, calibrated LightGBM model, safe scorer."""

from src.models.ranking.evaluation import (
    binary_metrics,
    calibration_curve,
    compare_scorers,
    evaluation_groups,
    ranking_metrics,
)
from src.models.ranking.features import FEATURES, build_features, candidate_features, history_features
from src.models.ranking.model import Calibration, RankerModel, TrainConfig, TrainResult, train_ranker
from src.models.ranking.rules import FACTORS, RuleWeights, rule_breakdown, rule_factors, rule_scores
from src.models.ranking.scorer import ScorerSettings, ScoringResult, explain, score_candidates, shadow_report

__all__ = [
    "FACTORS", "FEATURES", "Calibration", "RankerModel", "RuleWeights", "ScorerSettings", "ScoringResult",
    "TrainConfig", "TrainResult", "binary_metrics", "build_features", "calibration_curve", "candidate_features",
    "compare_scorers", "evaluation_groups", "explain", "history_features", "ranking_metrics", "rule_breakdown",
    "rule_factors", "rule_scores", "score_candidates", "shadow_report", "train_ranker",
]
