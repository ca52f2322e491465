"""LightGBM success model with calibration, a lambdarank challenger, and safe (no-pickle) storage.

Training (:func:`train_ranker`) uses a strictly time-based split of the history features:
oldest → ``train``, next → ``calibration`` (fits Platt or isotonic calibration of the raw score and
of the rule score, so both become comparable probabilities), newest → ``test`` (all reported metrics).
A lambdarank ranker (grouped by task type × week) is trained as a challenger and kept only if it
beats the binary classifier on test NDCG@3, is at least as good on Precision@3, and its calibrated
log loss is no worse (cross-task decisions rely on calibrated probabilities); it is calibrated the same way.

A fitted :class:`RankerModel` is plain data: the booster's text model plus JSON metadata (feature
list, category codes, calibration parameters as numbers, metrics). ``save(dir)``/``load(dir)`` and
``to_texts()``/``from_texts()`` round-trip it exactly; nothing is pickled.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from src.models.ranking.evaluation import calibration_curve, compare_scorers, evaluation_groups
from src.models.ranking.features import CATEGORICAL, FEATURES, history_features
from src.models.ranking.rules import RuleWeights, rule_scores

logger = logging.getLogger(__name__)

MODEL_FILE = "model.txt"
METADATA_FILE = "metadata.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Calibration:
    """Monotone map from a raw score to a probability: Platt ``1/(1+exp(-(a·s+b)))`` or isotonic
    (piecewise-linear interpolation through ``x``/``y`` knots, clipped at the ends)."""

    method: Literal["platt", "isotonic", "identity"]
    a: float = 1.0
    b: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in ("platt", "isotonic", "identity"):
            raise ValueError(f"unknown calibration method {self.method!r}")
        if self.method == "isotonic" and (len(self.x) != len(self.y) or len(self.x) < 1):
            raise ValueError("isotonic calibration needs equally long, non-empty x and y")

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        if self.method == "platt":
            return 1.0 / (1.0 + np.exp(-(self.a * raw + self.b)))
        if self.method == "isotonic":
            return np.interp(raw, np.asarray(self.x), np.asarray(self.y))
        return np.clip(raw, 0.0, 1.0)

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray, method: str = "platt") -> Calibration:
        raw = np.asarray(raw, dtype=float)
        y = np.asarray(y, dtype=int)
        if y.size == 0 or y.min() == y.max():
            rate = float(y.mean()) if y.size else 0.5
            rate = min(max(rate, 1e-3), 1 - 1e-3)
            return cls("platt", a=0.0, b=float(np.log(rate / (1 - rate))))
        if method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
            return cls("isotonic", x=tuple(map(float, iso.X_thresholds_)), y=tuple(map(float, iso.y_thresholds_)))
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
        return cls("platt", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "a": self.a, "b": self.b, "x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        return cls(d["method"], float(d.get("a", 1.0)), float(d.get("b", 0.0)),
                   tuple(map(float, d.get("x", ()))), tuple(map(float, d.get("y", ()))))


@dataclass(frozen=True)
class TrainConfig:
    """Training parameters. Fractions are of the history rows ordered by ``assigned_at``."""

    test_fraction: float = 0.2
    calibration_fraction: float = 0.15
    num_boost_round: int = 300
    learning_rate: float = 0.03
    num_leaves: int = 15
    min_data_in_leaf: int = 40
    feature_fraction: float = 0.9
    calibration: Literal["platt", "isotonic"] = "platt"
    try_lambdarank: bool = True
    group_freq: str = "W"
    random_state: int = 0
    rule_weights: RuleWeights = field(default_factory=RuleWeights)

    def __post_init__(self) -> None:
        if not (0 < self.test_fraction < 0.5 and 0 < self.calibration_fraction < 0.5):
            raise ValueError("test_fraction and calibration_fraction must be in (0, 0.5)")
        if self.num_boost_round < 1 or self.num_leaves < 2 or self.min_data_in_leaf < 1:
            raise ValueError("invalid LightGBM size parameters")
        if self.calibration not in ("platt", "isotonic"):
            raise ValueError("calibration must be 'platt' or 'isotonic'")


@dataclass(frozen=True)
class RankerModel:
    """A trained success scorer. ``kind`` is ``"binary"`` or ``"lambdarank"``; both output calibrated
    probabilities through ``calibration``. ``rules_calibration`` maps rule scores to the same scale so
    a per-task fallback to rules stays comparable with model scores."""

    model_text: str = field(repr=False)
    kind: Literal["binary", "lambdarank"]
    features: tuple[str, ...]
    categories: dict[str, tuple[str, ...]]
    calibration: Calibration
    rules_calibration: Calibration
    rule_weights: RuleWeights
    metrics: dict[str, Any] = field(default_factory=dict, compare=False)
    created_at: str = ""
    data_fingerprint: str = ""
    _booster: lgb.Booster = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in ("binary", "lambdarank"):
            raise ValueError(f"unknown model kind {self.kind!r}")
        booster = lgb.Booster(model_str=self.model_text)
        if list(booster.feature_name()) != list(self.features):
            raise ValueError("model text and feature list disagree")
        object.__setattr__(self, "_booster", booster)

    # ---------------------------------------------------------------- prediction
    def matrix(self, features: pd.DataFrame) -> pd.DataFrame:
        """Model input: the feature columns in order, categoricals as stored integer codes (unknown → NaN)."""
        missing = [f for f in self.features if f not in features.columns]
        if missing:
            raise ValueError(f"missing feature columns: {missing}")
        X = features[list(self.features)].copy()
        for c in self.categories:
            code = {v: i for i, v in enumerate(self.categories[c])}
            X[c] = X[c].map(lambda v, code=code: code.get(str(v).strip().lower(), np.nan)).astype(float)
        return X.astype(float)

    def predict_raw(self, features: pd.DataFrame) -> np.ndarray:
        """Raw booster score (log-odds for ``binary``, ranking score for ``lambdarank``)."""
        return np.asarray(self._booster.predict(self.matrix(features), raw_score=True), dtype=float)

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated success probability, comparable across tasks."""
        return self.calibration(self.predict_raw(features))

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Per-feature contributions to the raw score (LightGBM ``pred_contrib``; columns = features +
        ``bias``; each row sums to the raw score)."""
        contrib = self._booster.predict(self.matrix(features), pred_contrib=True)
        return pd.DataFrame(np.asarray(contrib), columns=[*self.features, "bias"], index=features.index)

    def feature_importance(self) -> pd.DataFrame:
        """Total gain per feature, largest first."""
        gain = self._booster.feature_importance(importance_type="gain")
        return (pd.DataFrame({"feature": self.features, "gain": gain})
                .sort_values("gain", ascending=False, kind="mergesort").reset_index(drop=True))

    def rules_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Rule scores mapped onto the model's probability scale."""
        return self.rules_calibration(rule_scores(features, self.rule_weights))

    # ---------------------------------------------------------------- storage (no pickle)
    def metadata(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION, "kind": self.kind, "features": list(self.features),
            "categories": {k: list(v) for k, v in self.categories.items()},
            "calibration": self.calibration.to_dict(), "rules_calibration": self.rules_calibration.to_dict(),
            "rule_weights": self.rule_weights.as_dict(), "metrics": _jsonable(self.metrics),
            "created_at": self.created_at, "data_fingerprint": self.data_fingerprint,
            "lightgbm_version": lgb.__version__,
        }

    def to_texts(self) -> tuple[str, str]:
        """(LightGBM text model, JSON metadata)."""
        return self.model_text, json.dumps(self.metadata(), indent=2, sort_keys=True, allow_nan=True)

    @classmethod
    def from_texts(cls, model_text: str, metadata_json: str) -> RankerModel:
        meta = json.loads(metadata_json)
        if int(meta.get("format_version", 0)) != FORMAT_VERSION:
            raise ValueError(f"unsupported ranker format {meta.get('format_version')!r}")
        return cls(
            model_text=model_text, kind=meta["kind"], features=tuple(meta["features"]),
            categories={k: tuple(v) for k, v in meta["categories"].items()},
            calibration=Calibration.from_dict(meta["calibration"]),
            rules_calibration=Calibration.from_dict(meta["rules_calibration"]),
            rule_weights=RuleWeights.from_mapping(meta["rule_weights"]), metrics=meta.get("metrics", {}),
            created_at=meta.get("created_at", ""), data_fingerprint=meta.get("data_fingerprint", ""),
        )

    def save(self, directory: str | Path) -> Path:
        """Write ``model.txt`` and ``metadata.json`` into ``directory`` (created if needed)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        text, meta = self.to_texts()
        (d / MODEL_FILE).write_text(text, encoding="utf-8")
        (d / METADATA_FILE).write_text(meta, encoding="utf-8")
        return d

    @classmethod
    def load(cls, directory: str | Path) -> RankerModel:
        d = Path(directory)
        return cls.from_texts((d / MODEL_FILE).read_text(encoding="utf-8"),
                              (d / METADATA_FILE).read_text(encoding="utf-8"))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, pd.DataFrame):
        return _jsonable(obj.to_dict("records"))
    return obj


@dataclass(frozen=True)
class TrainResult:
    """The chosen model plus the comparison tables (test slice only)."""

    model: RankerModel
    comparison: pd.DataFrame  # one row per scorer: model, lambdarank (if tried), rules
    calibration_curves: dict[str, pd.DataFrame]
    split: dict[str, Any]


def time_split(frame: pd.DataFrame, config: TrainConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (train, calibration, test) by ``as_of`` order; rows sharing a timestamp stay together."""
    t = pd.to_datetime(frame["as_of"]).to_numpy()
    cut_test = np.quantile(t.astype(np.int64), 1 - config.test_fraction, method="lower")
    cut_cal = np.quantile(t.astype(np.int64), 1 - config.test_fraction - config.calibration_fraction,
                          method="lower")
    ti = t.astype(np.int64)
    test = ti > cut_test
    cal = (ti > cut_cal) & ~test
    return ~(test | cal), cal, test


def _fingerprint(history: pd.DataFrame) -> str:
    cols = [c for c in ("task_id", "staff_id", "assigned_at", "outcome") if c in history.columns]
    h = pd.util.hash_pandas_object(history[cols].astype(str), index=False).to_numpy()
    return hashlib.sha256(np.sort(h).tobytes()).hexdigest()[:16]


def _params(config: TrainConfig, objective: str) -> dict[str, Any]:
    return {
        "objective": objective, "learning_rate": config.learning_rate, "num_leaves": config.num_leaves,
        "min_data_in_leaf": config.min_data_in_leaf, "feature_fraction": config.feature_fraction,
        "bagging_seed": config.random_state, "feature_fraction_seed": config.random_state,
        "seed": config.random_state, "deterministic": True, "num_threads": 1, "verbose": -1,
        "max_cat_to_onehot": 8,
    }


def train_ranker(
    history: pd.DataFrame,
    staff: pd.DataFrame,
    config: TrainConfig | None = None,
    *,
    on_progress: Callable[[float, str], None] | None = None,
) -> TrainResult:
    """Train, calibrate and evaluate the success model against the rules on a time-based split.

    Raises ``ValueError`` when the history is too small or one-sided to learn from (callers then keep
    using the rules, which is what the scorer does without a model).
    """
    config = config or TrainConfig()
    progress = on_progress or (lambda f, t: None)
    progress(0.0, "building features")
    feats = history_features(history, staff).sort_values("as_of", kind="mergesort").reset_index(drop=True)
    if len(feats) < 200 or feats["label"].nunique() < 2:
        raise ValueError("need at least 200 history rows with both successes and failures to train")
    tr, ca, te = time_split(feats, config)
    if min(tr.sum(), ca.sum(), te.sum()) < 30:
        raise ValueError("history too short for a train/calibration/test split")
    categories = {c: tuple(sorted(feats.loc[tr, c].dropna().astype(str).unique())) for c in CATEGORICAL}
    stub = _Encoder(categories)
    X = stub.matrix(feats)
    y = feats["label"].to_numpy()
    groups = evaluation_groups(feats, config.group_freq)
    progress(0.2, "training LightGBM classifier")
    binary = lgb.train(_params(config, "binary"),
                       lgb.Dataset(X[tr], y[tr], categorical_feature=list(CATEGORICAL), free_raw_data=False),
                       num_boost_round=config.num_boost_round)
    candidates: dict[str, lgb.Booster] = {"binary": binary}
    if config.try_lambdarank:
        progress(0.5, "training lambdarank challenger")
        order = np.argsort(groups[tr], kind="stable")
        _, sizes = np.unique(groups[tr][order], return_counts=True)
        params = {**_params(config, "lambdarank"), "eval_at": [3]}
        candidates["lambdarank"] = lgb.train(
            params, lgb.Dataset(X[tr].iloc[order], y[tr][order], group=sizes, categorical_feature=list(CATEGORICAL)),
            num_boost_round=config.num_boost_round)
    progress(0.75, "calibrating and evaluating")
    rules_raw = rule_scores(feats, config.rule_weights)
    rules_cal = Calibration.fit(rules_raw[ca], y[ca], "platt")
    probs: dict[str, np.ndarray] = {}
    cals: dict[str, Calibration] = {}
    for name, booster in candidates.items():
        raw = booster.predict(X, raw_score=True)
        cals[name] = Calibration.fit(raw[ca], y[ca], config.calibration)
        probs[name] = cals[name](raw[te])
    probs["rules"] = rules_cal(rules_raw[te])
    comparison = compare_scorers(y[te], groups[te], probs)
    chosen = "binary"
    if "lambdarank" in probs:
        row = comparison.set_index("scorer")
        lr, bi = row.loc["lambdarank"], row.loc["binary"]
        # calibrated scores drive cross-task decisions, so a ranker that ranks better but predicts worse loses
        if (lr["ndcg_at_3"] > bi["ndcg_at_3"] and lr["precision_at_3"] >= bi["precision_at_3"]
                and lr["log_loss"] <= bi["log_loss"]):
            chosen = "lambdarank"
    comparison.insert(1, "chosen", comparison["scorer"] == chosen)
    curves = {name: calibration_curve(y[te], p) for name, p in probs.items()}
    split = {
        "train_rows": int(tr.sum()), "calibration_rows": int(ca.sum()), "test_rows": int(te.sum()),
        "train_end": str(feats.loc[tr, "as_of"].max()), "test_start": str(feats.loc[te, "as_of"].min()),
        "group_by": f"task_type x {config.group_freq}",
    }
    metrics = {"chosen": chosen, "comparison": comparison, "split": split,
               "calibration_curve": curves[chosen]}
    model = RankerModel(
        model_text=candidates[chosen].model_to_string(), kind=chosen, features=FEATURES, categories=categories,
        calibration=cals[chosen], rules_calibration=rules_cal, rule_weights=config.rule_weights,
        metrics=_jsonable(metrics), created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        data_fingerprint=_fingerprint(history),
    )
    progress(1.0, f"done: kept {chosen}")
    logger.info("ranker trained kind=%s rows=%s", chosen, split)
    return TrainResult(model=model, comparison=comparison, calibration_curves=curves, split=split)


class _Encoder:
    """Shares :meth:`RankerModel.matrix` encoding before a booster exists."""

    def __init__(self, categories: dict[str, tuple[str, ...]]) -> None:
        self.categories = categories
        self.features = FEATURES

    matrix = RankerModel.matrix
