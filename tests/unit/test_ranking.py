"""Ranking: no look-ahead features, rules, metrics, model training/storage, scorer safety layers, shadow mode."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from src.models.ranking import (
    FEATURES,
    RankerModel,
    RuleWeights,
    ScorerSettings,
    TrainConfig,
    build_features,
    calibration_curve,
    explain,
    history_features,
    ranking_metrics,
    rule_breakdown,
    rule_scores,
    score_candidates,
    shadow_report,
    train_ranker,
)


def synthetic_history(n: int = 1500, n_staff: int = 30, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    skill_lvl = rng.integers(0, 6, n_staff)
    staff = pd.DataFrame({
        "staff_id": [f"S{i:02d}" for i in range(n_staff)], "name": "x", "site": rng.choice(["a", "b"], n_staff),
        "role": "r", "skills": [f"x:{lv}" if lv else "y:2" for lv in skill_lvl],
        "hire_date": pd.Timestamp("2022-01-01") - pd.to_timedelta(rng.integers(0, 2000, n_staff), unit="D"),
        "contract_hours": 40.0, "ot_willing": True, "preferred_sites": "",
    })
    who = rng.integers(0, n_staff, n)
    assigned = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 365 * 24, n)), unit="h")
    p = 1 / (1 + np.exp(-(-1.5 + 0.6 * skill_lvl[who])))
    hist = pd.DataFrame({
        "task_id": [f"H{i:05d}" for i in range(n)], "staff_id": staff["staff_id"].to_numpy()[who],
        "task_type": rng.choice(["visit", "repair"], n), "priority": rng.integers(1, 4, n),
        "due": assigned + pd.to_timedelta(rng.integers(2, 72, n), unit="h"), "assigned_at": assigned,
        "outcome": np.where(rng.random(n) < p, "success", "failure"), "site": rng.choice(["a", "b"], n),
        "required_skill": "x", "hours": rng.choice([1.0, 2.0, 4.0], n),
    })
    return hist, staff


@pytest.fixture(scope="module")
def data():
    return synthetic_history()


@pytest.fixture(scope="module")
def trained(data):
    hist, staff = data
    return train_ranker(hist, staff, TrainConfig(num_boost_round=60, min_data_in_leaf=20))


def open_tasks(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({"task_id": [f"O{i}" for i in range(n)], "task_type": "visit", "site": "a", "priority": 1,
                         "due": pd.Timestamp("2025-01-03"), "required_skill": "x:1", "hours": 2.0})


# ----------------------------------------------------------------------------- features

def test_features_exact_values_and_outcome_known_at_due():
    staff = pd.DataFrame({"staff_id": ["A"], "site": "a", "skills": "x:4", "hire_date": pd.Timestamp("2024-01-01"),
                          "contract_hours": 10.0, "preferred_sites": "b"})
    t0 = pd.Timestamp("2024-03-01 12:00")
    hist = pd.DataFrame({
        "task_id": ["h1", "h2", "h3"], "staff_id": "A", "task_type": ["visit", "visit", "repair"],
        "assigned_at": [t0 - pd.Timedelta(days=100), t0 - pd.Timedelta(days=3), t0 - pd.Timedelta(days=2)],
        "due": [t0 - pd.Timedelta(days=99), t0 - pd.Timedelta(days=1), t0 + pd.Timedelta(days=5)],
        "outcome": ["success", "failure", "success"], "hours": [1.0, 2.0, 3.0],
    })
    pairs = pd.DataFrame({"task_id": ["o"], "staff_id": ["A"], "as_of": [t0], "task_type": ["visit"], "priority": [2],
                          "due": [t0 + pd.Timedelta(hours=36)], "site": ["b"], "required_skill": ["x:3"],
                          "hours": [2.0]})
    f = build_features(pairs, staff, hist).iloc[0]
    assert list(build_features(pairs, staff, hist).columns[3:]) == list(FEATURES)
    assert f["days_employed"] == pytest.approx(60.5)
    assert f["days_until_due"] == pytest.approx(1.5)
    assert f["tasks_90d"] == 2  # h1 is older than 90 days
    assert f["load_ratio"] == pytest.approx((2.0 + 3.0) / 10.0)
    assert f["past_tasks"] == 2  # h3's outcome is only known at its due date, after t0
    assert f["past_success_rate"] == pytest.approx((1 + 1) / (2 + 2))
    assert f["type_tasks"] == 2 and f["type_success_rate"] == pytest.approx(0.5)
    assert (f["skill_level"], f["skill_match"], f["site_match"], f["preferred_site"]) == (4, 1, 0, 1)
    assert f["hour"] == 12 and f["weekday"] == (t0 + pd.Timedelta(hours=36)).dayofweek


def test_no_look_ahead_appending_future_history_changes_nothing(data):
    hist, staff = data
    cut = hist["assigned_at"].iloc[len(hist) // 2]
    past = hist[hist["assigned_at"] <= cut]
    before = history_features(past, staff)
    after = history_features(hist, staff)
    after = after[after["as_of"] <= cut].reset_index(drop=True)
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after)
    # and the future rows do change features of later rows (the test can fail)
    assert not history_features(hist, staff).iloc[-1:]["past_tasks"].eq(0).all()


def test_history_features_drop_unknown_outcomes(data):
    hist, staff = data
    h = hist.head(10).copy()
    h.loc[0, "outcome"] = "maybe"
    f = history_features(h, staff)
    assert len(f) == 9 and set(f["label"]) <= {0, 1}


# ----------------------------------------------------------------------------- rules and metrics

def test_rules_breakdown_sums_to_score_and_weights_validate(data):
    hist, staff = data
    feats = history_features(hist.head(50), staff)
    w = RuleWeights(skill=1, experience=0, track_record=0, workload=0)
    np.testing.assert_allclose(rule_scores(feats, w), np.clip(feats["skill_level"] / 5, 0, 1))
    br = rule_breakdown(feats, RuleWeights())
    np.testing.assert_allclose(br.groupby("row")["contribution"].sum().to_numpy(), rule_scores(feats))
    with pytest.raises(ValueError):
        RuleWeights(skill=-1)
    with pytest.raises(ValueError, match="unknown"):
        RuleWeights.from_mapping({"skil": 1})
    assert RuleWeights.from_mapping({"skill": "0.7"}).skill == 0.7


def test_ranking_metrics_hand_computed():
    labels = np.array([1, 0, 0, 1, 1, 1, 0])
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.5, 0.4, 0.3])
    groups = np.array(["g1", "g1", "g1", "g1", "g2", "g2", "g3"])  # g2 all success, g3 all failure: skipped
    r = ranking_metrics(labels, scores, groups, k=3)
    assert r["n_groups"] == 1 and r["n_skipped"] == 2
    assert r["precision_at_k"] == pytest.approx(2 / 3)  # g1 top 3: 0.9 (1), 0.8 (0), 0.2 (1)
    assert r["ndcg_at_k"] == pytest.approx((1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3)))
    # a perfect scorer reaches 1.0 and a reversed one is worse
    assert ranking_metrics(labels, labels + 0.0, groups)["ndcg_at_k"] == pytest.approx(1.0)
    assert ranking_metrics(labels, -scores, groups)["ndcg_at_k"] < r["ndcg_at_k"]


def test_ranking_metrics_precision_and_ndcg_values():
    labels = np.array([1, 0, 0, 1])
    scores = np.array([0.9, 0.8, 0.1, 0.2])
    r = ranking_metrics(labels, scores, np.zeros(4), k=3)
    assert r["precision_at_k"] == pytest.approx(2 / 3)
    assert r["ndcg_at_k"] == pytest.approx((1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3)))
    assert r["random_precision_at_k"] == pytest.approx(0.5)


def test_calibration_curve_bins():
    cc = calibration_curve(np.array([0, 1, 1, 1]), np.array([0.05, 0.15, 0.95, 0.9]), n_bins=10)
    assert cc["count"].tolist() == [1, 1, 2]
    assert cc["observed_rate"].tolist() == [0.0, 1.0, 1.0]


# ----------------------------------------------------------------------------- model

def test_training_reports_model_vs_rules_and_learns_signal(trained):
    comp = trained.comparison.set_index("scorer")
    assert {"binary", "lambdarank", "rules"} <= set(comp.index)
    assert comp["chosen"].sum() == 1
    assert comp.loc["binary", "auc"] > 0.65  # skill drives success in the synthetic data
    assert trained.split["train_rows"] > trained.split["test_rows"] > 0
    assert trained.split["train_end"] < trained.split["test_start"]
    assert set(trained.calibration_curves) == {"binary", "lambdarank", "rules"}


def test_model_roundtrip_text_and_json_only(trained, data, tmp_path):
    hist, staff = data
    model = trained.model
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metadata.json", "model.txt"]
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["features"] == list(FEATURES) and meta["calibration"]["method"] == "platt"
    loaded = RankerModel.load(tmp_path)
    feats = history_features(hist.tail(100), staff)
    np.testing.assert_allclose(loaded.predict_proba(feats), model.predict_proba(feats))
    p = model.predict_proba(feats)
    assert np.all((p > 0) & (p < 1))
    contrib = model.contributions(feats)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), model.predict_raw(feats), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="format"):
        RankerModel.from_texts(model.model_text, json.dumps({**meta, "format_version": 99}))


def test_training_refuses_tiny_history(data):
    hist, staff = data
    with pytest.raises(ValueError, match="at least 200"):
        train_ranker(hist.head(50), staff)


# ----------------------------------------------------------------------------- scorer

class BrokenModel:
    rule_weights = RuleWeights()

    def predict_proba(self, features):
        raise RuntimeError("boom")


def test_missing_model_uses_rules(data):
    hist, staff = data
    res = score_candidates(open_tasks(), staff, hist, None, now=pd.Timestamp("2025-01-01"))
    assert set(res.scores["reason"]) == {"model_missing"} and set(res.scores["scorer"]) == {"rules"}
    np.testing.assert_allclose(res.scores["score"], res.scores["rule_score"])
    assert res.scores["model_score"].isna().all()


def test_failing_model_falls_back_to_rules(data):
    hist, staff = data
    res = score_candidates(open_tasks(), staff, hist, BrokenModel(), now=pd.Timestamp("2025-01-01"))
    assert set(res.decisions["reason"]) == {"model_error"} and set(res.scores["scorer"]) == {"rules"}


def test_confidence_threshold_switches_per_task(trained, data):
    hist, staff = data
    now = pd.Timestamp("2025-01-01")
    high = score_candidates(open_tasks(), staff, hist, trained.model, ScorerSettings(confidence_threshold=1.0),
                            now=now)
    low = score_candidates(open_tasks(), staff, hist, trained.model, ScorerSettings(confidence_threshold=0.0),
                           now=now)
    assert set(high.decisions["reason"]) == {"low_confidence"} and set(high.scores["scorer"]) == {"rules"}
    assert set(low.decisions["reason"]) == {"model"}
    np.testing.assert_allclose(low.scores["score"], low.scores["model_score"])
    # mixed: threshold between the tasks' best probabilities
    tasks = open_tasks(2)
    tasks.loc[1, "required_skill"] = ""
    probe = score_candidates(tasks, staff, hist, trained.model, ScorerSettings(confidence_threshold=0.0), now=now)
    best = probe.decisions.set_index("task_id")["model_best"]
    if best.iloc[0] != best.iloc[1]:
        thr = float(best.mean())
        mixed = score_candidates(tasks, staff, hist, trained.model, ScorerSettings(confidence_threshold=thr), now=now)
        reasons = mixed.decisions.set_index("task_id")["reason"]
        assert set(reasons) == {"model", "low_confidence"}
        assert reasons[best.idxmax()] == "model"


def test_disabled_switches_and_settings_from_env(trained, data):
    hist, staff = data
    s = ScorerSettings.from_mapping({"WFP_ML_ENABLED": "false", "WFP_CONFIDENCE_THRESHOLD": "0.3"})
    assert (s.ml_enabled, s.ranking_enabled, s.shadow_mode, s.confidence_threshold) == (False, True, False, 0.3)
    res = score_candidates(open_tasks(), staff, hist, trained.model, s, now=pd.Timestamp("2025-01-01"))
    assert set(res.scores["reason"]) == {"ml_disabled"}
    res = score_candidates(open_tasks(), staff, hist, trained.model, ScorerSettings(ranking_enabled=False),
                           now=pd.Timestamp("2025-01-01"))
    assert set(res.scores["reason"]) == {"ranking_disabled"}
    with pytest.raises(ValueError):
        ScorerSettings(confidence_threshold=1.5)


def test_shadow_mode_logs_model_next_to_rules_and_report(trained, data):
    hist, staff = data
    res = score_candidates(open_tasks(), staff, hist, trained.model,
                           ScorerSettings(shadow_mode=True, confidence_threshold=0.0), now=pd.Timestamp("2025-01-01"))
    assert set(res.scores["scorer"]) == {"rules"} and set(res.scores["reason"]) == {"shadow_mode"}
    assert res.scores["model_score"].notna().all()
    assert (res.scores.groupby("task_id")["model_rank"].min() == 1).all()
    top = res.decisions
    outcomes = pd.DataFrame({"task_id": top["task_id"], "staff_id": top["top_staff_id"],
                             "outcome": ["success", "failure", "success", "success"]})
    rep = shadow_report(res.scores, outcomes)
    agree = (top["top_staff_id"] == top["model_top_staff_id"]).to_numpy()
    assert rep["tasks"] == 4 and rep["agreement"] == pytest.approx(agree.mean())
    y = np.array([1, 0, 1, 1])
    if agree.any():
        assert rep["success_when_agree"] == pytest.approx(y[agree].mean())
    assert set(rep["model"]) >= {"auc", "log_loss"}


def test_explanations_and_exclusions(trained, data):
    hist, staff = data
    st = staff.copy()
    st["availability"] = [False] + [True] * (len(st) - 1)
    res = score_candidates(open_tasks(1), st, hist, trained.model, ScorerSettings(confidence_threshold=0.0),
                           now=pd.Timestamp("2025-01-01"))
    ex = explain(res, "O0", trained.model)
    reasons = ex["excluded"].set_index("staff_id")["reason"]
    assert reasons["S00"] == "unavailable"
    assert set(reasons) <= {"unavailable", "site", "missing_skill", "capacity"}
    n = len(res.scores)
    assert len(ex["rules"]) == 4 * n and len(ex["model"]) == (len(FEATURES) + 1) * n
    one = res.scores.iloc[0]
    contrib = ex["model"][ex["model"]["staff_id"] == one["staff_id"]]["contribution"].sum()
    feats = res.features.iloc[[0]]
    assert contrib == pytest.approx(float(trained.model.predict_raw(feats)[0]), abs=1e-6)
    assert len(res.excluded) + n == len(st)
