"""Optional LightGBM acceptance-probability model that may replace the smoothed historical rate.

Why optional and guarded: the historical rate is transparent and needs no training. A model is only worth its
opacity when it predicts acceptances better, so :func:`fit_acceptance_model` trains on the earlier offers,
evaluates both the model and the historical rate on the later offers (a time split by request — nothing from the
test period leaks into training, and every feature of an offer uses only what was known when it was made), and
sets ``report.use_model`` only when the model's log loss on the held-out offers is lower.

Features of an offer (person × request, at contact time ``t``):
``hist_rate`` (Beta-smoothed acceptance rate over the look-back window, the baseline itself), ``prior_offers``,
``charged_per_40`` (charged hours per 40 contract hours in the window), ``reliability`` (the ranking's value),
``accepted_30d`` (overtime shifts accepted in the 30 days before ``t``), ``days_since_accept`` (capped at the
window), ``own_site``, ``preferred_site``, ``weekend``, ``shift_code`` (early 0, late 1, night 2, day 3, other 4),
``lead_hours`` (shift start − ``t``), ``contract_hours``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score

from .history import ACCEPTED, NO_ANSWER, prepare_history
from .ranking import reliability_value, smoothed_acceptance
from .rules import OvertimeRules, ShiftRequest, normalise_shift_type, shift_interval
from .staff import fold, prepare_staff

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]

FEATURES: tuple[str, ...] = (
    "hist_rate", "prior_offers", "charged_per_40", "reliability", "accepted_30d", "days_since_accept", "own_site",
    "preferred_site", "weekend", "shift_code", "lead_hours", "contract_hours",
)
_SHIFT_CODES = {"early": 0, "late": 1, "night": 2, "day": 3}


@dataclass(frozen=True)
class AcceptanceModelReport:
    """Held-out comparison of the LightGBM model and the smoothed historical rate."""

    n_train: int
    n_test: int
    split_at: pd.Timestamp
    logloss_model: float
    logloss_rate: float
    auc_model: float
    auc_rate: float
    use_model: bool

    def __post_init__(self) -> None:
        if self.n_train < 1 or self.n_test < 1:
            raise ValueError("Both the training and the test split need offers.")

    def to_dict(self) -> dict[str, object]:
        return {"n_train": self.n_train, "n_test": self.n_test, "split_at": self.split_at.isoformat(),
                "logloss_model": self.logloss_model, "logloss_rate": self.logloss_rate,
                "auc_model": None if math.isnan(self.auc_model) else self.auc_model,
                "auc_rate": None if math.isnan(self.auc_rate) else self.auc_rate, "use_model": self.use_model}


@dataclass(frozen=True, eq=False)
class AcceptanceModel:
    """A trained booster with its feature list and the held-out report that decides whether it is used."""

    booster: lgb.Booster
    features: tuple[str, ...]
    report: AcceptanceModelReport

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Acceptance probabilities for rows of :func:`offer_features`/:func:`candidate_features` output."""
        return np.asarray(self.booster.predict(features[list(self.features)].to_numpy(dtype=float)), dtype=float)

    def model_string(self) -> str:
        """The LightGBM text model (inspectable; store it instead of a pickle)."""
        return self.booster.model_to_string()

    @classmethod
    def from_model_string(cls, text: str, report: AcceptanceModelReport) -> AcceptanceModel:
        """Rebuild a model saved with :meth:`model_string`."""
        return cls(booster=lgb.Booster(model_str=text), features=FEATURES, report=report)


@dataclass(frozen=True, eq=False)
class _PersonHistory:
    """One person's prepared offers as numpy arrays (fast repeated look-ups at many times ``t``)."""

    known_at: np.ndarray
    contacted_at: np.ndarray
    accepted: np.ndarray
    charged: np.ndarray
    response: np.ndarray  # minutes; inf for no answer; nan for declined without a time

    @classmethod
    def of(cls, rows: pd.DataFrame) -> _PersonHistory:
        resp = rows["response_minutes"].where(rows["status"] != NO_ANSWER, np.inf).to_numpy(dtype=float)
        return cls(known_at=rows["known_at"].to_numpy(dtype="datetime64[ns]"),
                   contacted_at=rows["contacted_at"].to_numpy(dtype="datetime64[ns]"),
                   accepted=(rows["status"] == ACCEPTED).to_numpy(), charged=rows["charged_hours"].to_numpy(float),
                   response=resp)


def _person_state(past: _PersonHistory, t: pd.Timestamp, pro_rata: float, rules: OvertimeRules) -> dict[str, float]:
    """Features describing one person's overtime history as known at ``t``."""
    t64 = np.datetime64(t.to_datetime64(), "ns")
    lo = t64 - np.timedelta64(int(rules.lookback_days), "D")
    m = (past.known_at < t64) & (past.contacted_at >= lo) & (past.contacted_at < t64)
    acc = past.accepted & m
    n, k = int(m.sum()), int(acc.sum())
    resp = past.response[m]
    resp = resp[~np.isnan(resp)]
    acc_times = past.known_at[acc]
    recent = int((acc_times >= t64 - np.timedelta64(30, "D")).sum())
    if k:
        since = (t64 - acc_times.max()) / np.timedelta64(1, "s") / 86400.0
        days_since = min(float(rules.lookback_days), float(since))
    else:
        days_since = float(rules.lookback_days)
    return {
        "hist_rate": smoothed_acceptance(k, n, rules),
        "prior_offers": float(n),
        "charged_per_40": float(past.charged[m].sum()) * pro_rata,
        "reliability": reliability_value(resp, rules),
        "accepted_30d": float(recent),
        "days_since_accept": days_since,
    }


def _request_features(site_key: str, shift_date: pd.Timestamp, shift_type: str, start: pd.Timestamp | None,
                      t: pd.Timestamp, person: pd.Series) -> dict[str, float]:
    lead = (start - t).total_seconds() / 3600.0 if start is not None and not pd.isna(start) else np.nan
    return {
        "own_site": float(person["site_key"] == site_key),
        "preferred_site": float(site_key in person["preferred_set"]),
        "weekend": float(pd.Timestamp(shift_date).dayofweek >= 5),
        "shift_code": float(_SHIFT_CODES.get(normalise_shift_type(shift_type), 4)),
        "lead_hours": lead,
        "contract_hours": float(person["contract_hours"]),
    }


def offer_features(staff: pd.DataFrame, history: pd.DataFrame, rules: OvertimeRules | None = None,
                   as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per offer whose outcome is known (before ``as_of`` if given): request_id, staff_id, contacted_at,
    the :data:`FEATURES` at contact time and ``accepted`` (the label). Offers to unknown staff are skipped."""
    rules = rules or OvertimeRules()
    people = prepare_staff(staff, rules.pro_rata_reference_hours).set_index("staff_id", drop=False)
    h = prepare_history(history, rules)
    if as_of is not None:
        h = h.loc[h["known_at"] < pd.Timestamp(as_of)]
    rows = []
    for sid, grp in h.groupby("staff_id", sort=False):
        if sid not in people.index:
            continue
        p = people.loc[sid]
        full = _PersonHistory.of(grp)
        for r in grp.itertuples(index=False):
            t = r.contacted_at
            feats = _person_state(full, t, float(p["pro_rata"]), rules)
            feats.update(_request_features(fold(r.site), r.shift_date, r.shift_type, r.shift_start, t, p))
            rows.append({"request_id": r.request_id, "staff_id": sid, "contacted_at": t, **feats,
                         "accepted": int(r.status == ACCEPTED)})
    cols = ["request_id", "staff_id", "contacted_at", *FEATURES, "accepted"]
    return pd.DataFrame(rows, columns=cols).sort_values(["contacted_at", "request_id", "staff_id"]).reset_index(
        drop=True)


def fit_acceptance_model(staff: pd.DataFrame, history: pd.DataFrame, rules: OvertimeRules | None = None, *,
                         as_of: pd.Timestamp | None = None, test_fraction: float = 0.25, random_state: int = 0,
                         n_jobs: int = 1, n_estimators: int = 200,
                         on_progress: ProgressCallback | None = None) -> AcceptanceModel:
    """Train on the earlier requests, compare with the historical rate on the latest ``test_fraction`` of them.

    The split is by request (ordered by first contact) so one request never straddles train and test. The
    returned report says whether the model beat the rate (lower held-out log loss); the caller should only use
    the model when ``report.use_model`` is true. ValueError when there are too few offers or only one outcome.
    """
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be in (0, 1).")
    rules = rules or OvertimeRules()
    if on_progress:
        on_progress(0.0, "building offer features")
    data = offer_features(staff, history, rules, as_of)
    if len(data) < 40 or data["accepted"].nunique() < 2:
        raise ValueError(f"Need at least 40 offers with both outcomes to train; got {len(data)}.")
    first = data.groupby("request_id")["contacted_at"].min().sort_values(kind="mergesort")
    n_test_req = max(1, int(round(len(first) * test_fraction)))
    split_at = first.iloc[len(first) - n_test_req]
    test_ids = set(first.index[len(first) - n_test_req:])
    is_test = data["request_id"].isin(test_ids).to_numpy()
    train, test = data.loc[~is_test], data.loc[is_test]
    if train["accepted"].nunique() < 2:
        raise ValueError("The training period has only one outcome.")
    if on_progress:
        on_progress(0.5, f"training LightGBM on {len(train)} offers")
    clf = lgb.LGBMClassifier(n_estimators=n_estimators, learning_rate=0.05, num_leaves=15, min_child_samples=20,
                             subsample=0.8, subsample_freq=1, colsample_bytree=0.9, reg_lambda=1.0,
                             random_state=random_state, n_jobs=n_jobs, deterministic=True, force_row_wise=True,
                             verbose=-1)
    clf.fit(train[list(FEATURES)].to_numpy(dtype=float), train["accepted"].to_numpy())
    p_model = clf.predict_proba(test[list(FEATURES)].to_numpy(dtype=float))[:, 1]
    p_rate = test["hist_rate"].to_numpy(dtype=float)
    y = test["accepted"].to_numpy()
    ll_model = float(log_loss(y, np.clip(p_model, 1e-6, 1 - 1e-6), labels=[0, 1]))
    ll_rate = float(log_loss(y, np.clip(p_rate, 1e-6, 1 - 1e-6), labels=[0, 1]))
    two = len(np.unique(y)) == 2
    auc_model = float(roc_auc_score(y, p_model)) if two else math.nan
    auc_rate = float(roc_auc_score(y, p_rate)) if two else math.nan
    report = AcceptanceModelReport(n_train=len(train), n_test=len(test), split_at=pd.Timestamp(split_at),
                                   logloss_model=ll_model, logloss_rate=ll_rate, auc_model=auc_model,
                                   auc_rate=auc_rate, use_model=ll_model < ll_rate)
    logger.info("acceptance model: log loss %.4f vs rate %.4f (AUC %.3f vs %.3f) → use_model=%s",
                ll_model, ll_rate, auc_model, auc_rate, report.use_model)
    if on_progress:
        on_progress(1.0, "done")
    return AcceptanceModel(booster=clf.booster_, features=FEATURES, report=report)


def candidate_features(request: ShiftRequest, staff: pd.DataFrame, history: pd.DataFrame | None,
                       rules: OvertimeRules, staff_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The :data:`FEATURES` for offering ``request`` to each person at ``rules.as_of`` (default: shift start)."""
    start, _ = shift_interval(request, rules)
    t = pd.Timestamp(rules.as_of) if rules.as_of is not None else start
    people = prepare_staff(staff, rules.pro_rata_reference_hours)
    if staff_ids is not None:
        people = people.loc[people["staff_id"].isin({str(s) for s in staff_ids})]
    h = prepare_history(history, rules)
    by_staff = {sid: _PersonHistory.of(g) for sid, g in h.groupby("staff_id")} if not h.empty else {}
    empty = _PersonHistory.of(h.iloc[0:0])
    rows = []
    for _, p in people.iterrows():
        feats = _person_state(by_staff.get(p["staff_id"], empty), t, float(p["pro_rata"]), rules)
        feats.update(_request_features(fold(request.site), pd.Timestamp(request.shift_date), request.shift_type,
                                       start, t, p))
        rows.append({"staff_id": p["staff_id"], **feats})
    return pd.DataFrame(rows, columns=["staff_id", *FEATURES])


def acceptance_override(model: AcceptanceModel, request: ShiftRequest, staff: pd.DataFrame,
                        history: pd.DataFrame | None, rules: OvertimeRules,
                        staff_ids: Iterable[str] | None = None) -> dict[str, float] | None:
    """staff_id → model probability for :func:`rank_candidates`, or None when the model did not beat the rate."""
    if not model.report.use_model:
        return None
    feats = candidate_features(request, staff, history, rules, staff_ids)
    if feats.empty:
        return {}
    probs = np.clip(model.predict(feats), 0.0, 1.0)
    return dict(zip(feats["staff_id"], probs.astype(float).tolist(), strict=True))
