"""Fairness report, dashboard numbers and staff detail for overtime — pure functions over staff + history.

Fairness is measured on overtime hours *per 40 contract hours* (part-timers pro rata) over a window of
``days`` before ``as_of``. The headline basis is *charged* hours (worked + declined [+ unanswered], the
same accounting the ranking's fairness factor uses), because that is what overtime equalisation evens out;
``basis="worked"`` measures hours actually worked instead. The population is every OT-willing person whose
home site uses overtime requests (a site that appears in the history before ``as_of``; all OT-willing staff when
there is no history) plus anyone who was offered overtime in the window — zeros included: getting nothing is what
fairness is about, but a contact centre that never asks for overtime must not count as "under-utilised".
``sites=[...]`` restricts the report to those sites (their staff and the offers made for them).

Fairness score: ``score = 100 × (1 − Gini)``: 100 when everyone carries the same share, 100/n when one
person carries everything (Gini = 1 − 1/n).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..fairness import FairnessSummary, summarise
from .history import ACCEPTED, NO_ANSWER, known_offers, per_person_hours, prepare_history
from .ranking import smoothed_acceptance
from .rules import OvertimeRules
from .staff import fold, prepare_staff, split_list

ProgressCallback = Callable[[float, str], None]
Basis = Literal["charged", "worked"]

DEFAULT_WINDOWS: tuple[int, ...] = (30, 60, 90, 180, 365)
OVER_FACTOR = 1.5
SCORE_FORMULA = "score = 100 × (1 − Gini)"

#: response-time buckets (minutes) for the distribution chart
RESPONSE_BUCKETS: tuple[float, ...] = (0, 15, 30, 60, 120, 240, 480, 1440, math.inf)


def fairness_score(gini_value: float) -> float:
    """The 0–100 fairness score from a Gini coefficient (see :data:`SCORE_FORMULA`)."""
    return 100.0 * (1.0 - gini_value)


@dataclass(frozen=True, eq=False)
class FairnessReport:
    """Overtime spread over one window: per-person hours, flags, metrics and the score with its formula."""

    as_of: pd.Timestamp
    days: int
    basis: str
    per_person: pd.DataFrame
    average: float
    summary: FairnessSummary
    summary_worked: FairnessSummary
    summary_charged: FairnessSummary
    score: float
    formula: str = field(default=SCORE_FORMULA)

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("days must be >= 1.")
        if self.basis not in ("charged", "worked"):
            raise ValueError("basis must be 'charged' or 'worked'.")
        if not 0.0 <= self.score <= 100.0:
            raise ValueError("score must be within 0..100.")

    @property
    def under_utilised(self) -> list[str]:
        """staff_ids below the average (pro rata)."""
        return self.per_person.loc[self.per_person["under_utilised"], "staff_id"].tolist()

    @property
    def over_utilised(self) -> list[str]:
        """staff_ids above 1.5 × the average (pro rata)."""
        return self.per_person.loc[self.per_person["over_utilised"], "staff_id"].tolist()

    def metrics(self) -> dict[str, float]:
        """Headline numbers: score, gini, jain, cv, max_mean, average, total, n."""
        s = self.summary
        return {"score": self.score, "gini": s.gini, "jain": s.jain, "cv": s.cv, "max_mean": s.max_mean,
                "average": self.average, "total": s.total, "n": float(s.n)}

    def to_frame(self) -> pd.DataFrame:
        """The per-person frame (bars: ``value`` per person; average line: :attr:`average`)."""
        return self.per_person.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what ``overtime fairness --json`` prints)."""
        people = self.per_person.replace({np.nan: None}).to_dict(orient="records")
        return {
            "as_of": self.as_of.isoformat(), "days": self.days, "basis": self.basis,
            "unit": "hours per 40 contract hours", "formula": self.formula,
            "metrics": self.metrics(),
            "worked": _summary_dict(self.summary_worked), "charged": _summary_dict(self.summary_charged),
            "people": [{k: _py(v) for k, v in row.items()} for row in people],
        }


def _summary_dict(s: FairnessSummary) -> dict[str, float]:
    return {"n": s.n, "total": s.total, "mean": s.mean, "gini": s.gini, "jain": s.jain, "cv": s.cv,
            "max_mean": s.max_mean}


def _py(v: Any) -> Any:
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _as_of(as_of: Any) -> pd.Timestamp:
    ts = pd.Timestamp(as_of)
    if pd.isna(ts):
        raise ValueError("as_of is required.")
    return ts.tz_localize(None) if ts.tz else ts


def _report_from_prepared(people: pd.DataFrame, hist: pd.DataFrame, as_of: pd.Timestamp, days: int,
                          basis: Basis, rules: OvertimeRules, sites: Sequence[str] | None = None) -> FairnessReport:
    if sites is not None:
        site_keys = {fold(x) for x in sites}
        hist = hist.loc[hist["site_key"].isin(site_keys)]
    else:
        site_keys = set(hist.loc[hist["contacted_at"] < as_of, "site_key"].unique())
    offers = known_offers(hist, as_of, days)
    per = per_person_hours(offers)
    home_ok = people["site_key"].isin(site_keys) if (site_keys or sites is not None) else True
    pop = people.loc[(people["ot_willing"] & home_ok) | people["staff_id"].isin(per.index)]
    out = pop[["staff_id", "name", "site", "contract_hours", "ot_willing"]].copy()
    for col in ("offers", "accepted", "declined", "no_answer"):
        out[col] = out["staff_id"].map(per[col]).fillna(0).astype(int) if not per.empty else 0
    for col in ("hours_worked", "hours_declined", "hours_no_answer", "hours_charged"):
        out[col] = out["staff_id"].map(per[col]).fillna(0.0).astype(float) if not per.empty else 0.0
    pro = pop["pro_rata"].to_numpy()
    out["worked_per_40"] = out["hours_worked"].to_numpy() * pro
    out["charged_per_40"] = out["hours_charged"].to_numpy() * pro
    out["value"] = out["charged_per_40"] if basis == "charged" else out["worked_per_40"]
    average = float(out["value"].mean()) if len(out) else 0.0
    out["under_utilised"] = out["value"] < average - 1e-12
    out["over_utilised"] = out["value"] > OVER_FACTOR * average + 1e-12
    out = out.sort_values(["value", "staff_id"], ascending=[False, True]).reset_index(drop=True)
    s_worked = summarise(out["worked_per_40"].to_numpy())
    s_charged = summarise(out["charged_per_40"].to_numpy())
    summary = s_charged if basis == "charged" else s_worked
    formula = (f"{SCORE_FORMULA}; Gini of {basis} overtime hours per {rules.pro_rata_reference_hours:g} contract "
               f"hours over the last {days} days")
    return FairnessReport(as_of=as_of, days=days, basis=basis, per_person=out, average=average, summary=summary,
                          summary_worked=s_worked, summary_charged=s_charged,
                          score=fairness_score(summary.gini), formula=formula)


def fairness_report(staff: pd.DataFrame, history: pd.DataFrame | None, as_of: Any, days: int = 90, *,
                    basis: Basis = "charged", sites: Sequence[str] | None = None,
                    rules: OvertimeRules | None = None) -> FairnessReport:
    """Per-person overtime hours over the ``days`` before ``as_of`` (pro rata), flags, metrics and score.

    Columns of ``per_person``: staff_id, name, site, contract_hours, ot_willing, offers, accepted, declined,
    no_answer, hours_worked, hours_declined, hours_no_answer, hours_charged, worked_per_40, charged_per_40,
    value (the chosen basis), under_utilised (< average), over_utilised (> 1.5 × average).
    """
    rules = rules or OvertimeRules()
    if int(days) != days or days < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}.")
    people = prepare_staff(staff, rules.pro_rata_reference_hours)
    hist = prepare_history(history, rules)
    return _report_from_prepared(people, hist, _as_of(as_of), int(days), basis, rules, sites)


def fairness_by_window(staff: pd.DataFrame, history: pd.DataFrame | None, as_of: Any,
                       windows: Sequence[int] = DEFAULT_WINDOWS, *, basis: Basis = "charged",
                       sites: Sequence[str] | None = None, rules: OvertimeRules | None = None) -> pd.DataFrame:
    """One row per window (days): n, total, average, gini, jain, cv, max_mean, score, over/under counts."""
    rules = rules or OvertimeRules()
    people = prepare_staff(staff, rules.pro_rata_reference_hours)
    hist = prepare_history(history, rules)
    ts = _as_of(as_of)
    rows = []
    for d in windows:
        r = _report_from_prepared(people, hist, ts, int(d), basis, rules, sites)
        rows.append({"days": int(d), **r.metrics(), "over_utilised": len(r.over_utilised),
                     "under_utilised": len(r.under_utilised)})
    return pd.DataFrame(rows, columns=["days", "score", "gini", "jain", "cv", "max_mean", "average", "total", "n",
                                       "over_utilised", "under_utilised"])


def fairness_timeseries(staff: pd.DataFrame, history: pd.DataFrame | None, as_of: Any, days: int = 90, *,
                        periods: int = 26, step_days: int = 7, basis: Basis = "charged",
                        sites: Sequence[str] | None = None, rules: OvertimeRules | None = None,
                        on_progress: ProgressCallback | None = None) -> pd.DataFrame:
    """Rolling metrics for the chart: at ``as_of − k·step_days`` (k = periods−1 … 0) the ``days``-window
    score, gini, jain, max_mean and total. Each point only sees what was known at that date."""
    if periods < 1 or step_days < 1:
        raise ValueError("periods and step_days must be >= 1.")
    rules = rules or OvertimeRules()
    people = prepare_staff(staff, rules.pro_rata_reference_hours)
    hist = prepare_history(history, rules)
    end = _as_of(as_of)
    rows = []
    for i, k in enumerate(range(periods - 1, -1, -1)):
        t = end - pd.Timedelta(days=k * step_days)
        r = _report_from_prepared(people, hist, t, int(days), basis, rules, sites)
        rows.append({"date": t, **{m: r.metrics()[m] for m in ("score", "gini", "jain", "max_mean", "total")}})
        if on_progress:
            on_progress((i + 1) / periods, f"fairness at {t:%Y-%m-%d}")
    return pd.DataFrame(rows, columns=["date", "score", "gini", "jain", "max_mean", "total"])


@dataclass(frozen=True, eq=False)
class DashboardStats:
    """Headline overtime numbers for the dashboard over the ``days`` before ``as_of``."""

    as_of: pd.Timestamp
    days: int
    ot_willing_staff: int
    fairness_score: float
    avg_response_minutes: float | None
    median_response_minutes: float | None
    total_ot_shifts: int
    total_requests: int
    filled_requests: int
    acceptance_rate: float | None
    top_responders: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(), "days": self.days, "ot_willing_staff": self.ot_willing_staff,
            "fairness_score": self.fairness_score, "avg_response_minutes": self.avg_response_minutes,
            "median_response_minutes": self.median_response_minutes, "total_ot_shifts": self.total_ot_shifts,
            "total_requests": self.total_requests, "filled_requests": self.filled_requests,
            "acceptance_rate": self.acceptance_rate,
            "top_responders": [{k: _py(v) for k, v in r.items()}
                               for r in self.top_responders.to_dict(orient="records")],
        }


def overtime_dashboard(staff: pd.DataFrame, history: pd.DataFrame | None, as_of: Any, days: int = 90, *,
                       top_n: int = 5, sites: Sequence[str] | None = None,
                       rules: OvertimeRules | None = None) -> DashboardStats:
    """OT-willing count, fairness score, response times, OT shifts (accepted offers), requests, top responders.

    Top responders: most accepted offers in the window, then fastest median response, then staff_id.
    """
    rules = rules or OvertimeRules()
    ts = _as_of(as_of)
    people = prepare_staff(staff, rules.pro_rata_reference_hours)
    hist = prepare_history(history, rules)
    if sites is not None:
        keys = {fold(x) for x in sites}
        hist = hist.loc[hist["site_key"].isin(keys)]
        people = people.loc[people["site_key"].isin(keys)]
    offers = known_offers(hist, ts, days)
    report = _report_from_prepared(people, hist, ts, int(days), "charged", rules, sites)
    resp = offers["response_minutes"].dropna()
    accepted = offers.loc[offers["status"] == ACCEPTED]
    requests = offers["request_id"].nunique()
    filled = accepted["request_id"].nunique()
    if offers.empty:
        top = pd.DataFrame(columns=["staff_id", "name", "accepted", "offers", "acceptance_rate",
                                    "median_response_minutes"])
    else:
        top = offers.assign(_acc=(offers["status"] == ACCEPTED).astype(int)).groupby("staff_id").agg(
            accepted=("_acc", "sum"), offers=("status", "size"), median_response_minutes=("response_minutes", "median"),
        ).reset_index()
        top["acceptance_rate"] = top["accepted"] / top["offers"]
        top["name"] = top["staff_id"].map(people.set_index("staff_id")["name"])
        top = top.sort_values(["accepted", "median_response_minutes", "staff_id"], ascending=[False, True, True],
                              na_position="last").head(top_n)
        top = top[["staff_id", "name", "accepted", "offers", "acceptance_rate", "median_response_minutes"]]
    return DashboardStats(
        as_of=ts, days=int(days), ot_willing_staff=int(people["ot_willing"].sum()),
        fairness_score=report.score,
        avg_response_minutes=float(resp.mean()) if len(resp) else None,
        median_response_minutes=float(resp.median()) if len(resp) else None,
        total_ot_shifts=int(len(accepted)), total_requests=int(requests), filled_requests=int(filled),
        acceptance_rate=float(len(accepted) / len(offers)) if len(offers) else None,
        top_responders=top.reset_index(drop=True),
    )


def acceptance_trend(history: pd.DataFrame | None, as_of: Any, *, freq: Literal["W", "M"] = "W",
                     days: int = 365, rules: OvertimeRules | None = None) -> pd.DataFrame:
    """Offers, acceptances and acceptance rate per week (Monday start) or calendar month of contact."""
    if freq not in ("W", "M"):
        raise ValueError("freq must be 'W' or 'M'.")
    rules = rules or OvertimeRules()
    offers = known_offers(prepare_history(history, rules), _as_of(as_of), days)
    cols = ["period", "offers", "accepted", "acceptance_rate"]
    if offers.empty:
        return pd.DataFrame(columns=cols)
    period = offers["contacted_at"].dt.to_period("W-SUN" if freq == "W" else "M").dt.start_time
    g = offers.assign(period=period, acc=offers["status"] == ACCEPTED).groupby("period")
    out = pd.DataFrame({"offers": g.size(), "accepted": g["acc"].sum().astype(int)}).reset_index()
    out["acceptance_rate"] = out["accepted"] / out["offers"]
    return out[cols]


def response_time_distribution(history: pd.DataFrame | None, as_of: Any, *, days: int = 90,
                               buckets: Sequence[float] = RESPONSE_BUCKETS,
                               rules: OvertimeRules | None = None) -> pd.DataFrame:
    """Responses per response-time bucket ([lower, upper) minutes) plus a final "no answer" row."""
    rules = rules or OvertimeRules()
    offers = known_offers(prepare_history(history, rules), _as_of(as_of), days)
    edges = list(buckets)
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise ValueError("buckets must be at least two increasing edges.")
    minutes = offers["response_minutes"].dropna().to_numpy()
    rows = []
    for lo, hi in zip(edges, edges[1:], strict=False):
        label = f"{lo:g}–{hi:g} min" if math.isfinite(hi) else f"≥ {lo:g} min"
        rows.append({"bucket": label, "lower_minutes": float(lo), "upper_minutes": float(hi),
                     "responses": int(((minutes >= lo) & (minutes < hi)).sum())})
    rows.append({"bucket": "no answer", "lower_minutes": math.nan, "upper_minutes": math.nan,
                 "responses": int((offers["status"] == NO_ANSWER).sum())})
    return pd.DataFrame(rows, columns=["bucket", "lower_minutes", "upper_minutes", "responses"])


def recent_requests(history: pd.DataFrame | None, as_of: Any, *, limit: int = 20,
                    rules: OvertimeRules | None = None) -> pd.DataFrame:
    """Latest requests contacted before ``as_of`` with status: filled / open (answers pending) / unfilled."""
    rules = rules or OvertimeRules()
    ts = _as_of(as_of)
    h = prepare_history(history, rules)
    h = h.loc[h["contacted_at"] < ts]
    cols = ["request_id", "shift_date", "site", "shift_type", "contacts", "accepted_by", "first_contacted_at",
            "status"]
    if h.empty:
        return pd.DataFrame(columns=cols)
    known = h["known_at"] < ts
    h = h.assign(acc_known=(h["status"] == ACCEPTED) & known, pending=~known)
    rows = []
    for rid, g in h.groupby("request_id", sort=False):
        filled = bool(g["acc_known"].any())
        status = "filled" if filled else ("open" if bool(g["pending"].any()) else "unfilled")
        rows.append({
            "request_id": rid, "shift_date": g["shift_date"].iloc[0], "site": g["site"].iloc[0],
            "shift_type": g["shift_type"].iloc[0], "contacts": int(len(g)),
            "accepted_by": ", ".join(sorted(g.loc[g["acc_known"], "staff_id"])),
            "first_contacted_at": g["contacted_at"].min(), "status": status,
        })
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["first_contacted_at", "request_id"], ascending=[False, True]).head(limit).reset_index(
        drop=True)


@dataclass(frozen=True, eq=False)
class StaffDetail:
    """One person's overtime picture over the ``days`` before ``as_of``."""

    staff_id: str
    name: str
    site: str
    role: str
    contract_hours: float
    ot_willing: bool
    preferred_sites: tuple[str, ...]
    skills: dict[str, int]
    days: int
    hours_worked: float
    hours_charged: float
    offers: int
    accepted: int
    acceptance_rate: float | None
    acceptance_smoothed: float
    avg_response_minutes: float | None
    recent_shifts: pd.DataFrame
    recent_offers: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in (
            "staff_id", "name", "site", "role", "contract_hours", "ot_willing", "skills", "days", "hours_worked",
            "hours_charged", "offers", "accepted", "acceptance_rate", "acceptance_smoothed",
            "avg_response_minutes")}
        out["preferred_sites"] = list(self.preferred_sites)
        for k in ("recent_shifts", "recent_offers"):
            frame = getattr(self, k).replace({np.nan: None})
            out[k] = [{c: _py(v) for c, v in r.items()} for r in frame.to_dict(orient="records")]
        return out


def staff_detail(staff: pd.DataFrame, history: pd.DataFrame | None, staff_id: str, as_of: Any, days: int = 90,
                 *, recent: int = 10, rules: OvertimeRules | None = None) -> StaffDetail:
    """Hours worked/charged, acceptance rate (raw and smoothed), mean response time, preferences and the
    most recent overtime shifts (accepted) and offers of one person; KeyError for an unknown staff_id."""
    rules = rules or OvertimeRules()
    ts = _as_of(as_of)
    people = prepare_staff(staff, rules.pro_rata_reference_hours)
    match = people.loc[people["staff_id"] == str(staff_id)]
    if match.empty:
        raise KeyError(f"Unknown staff_id {staff_id!r}.")
    p = match.iloc[0]
    hist = prepare_history(history, rules)
    mine = hist.loc[hist["staff_id"] == str(staff_id)]
    window = known_offers(mine, ts, days)
    offers = int(len(window))
    accepted = int((window["status"] == ACCEPTED).sum())
    resp = window["response_minutes"].dropna()
    cols = ["request_id", "shift_date", "site", "unit", "shift_type", "status", "hours_worked", "response_minutes"]
    history_known = mine.loc[mine["known_at"] < ts].sort_values(["shift_date", "request_id"], ascending=[False, True])
    pref = p["preferred_sites"] if "preferred_sites" in people.columns else ""
    return StaffDetail(
        staff_id=str(p["staff_id"]), name=str(p["name"]), site=str(p["site"]), role=str(p["role"]),
        contract_hours=float(p["contract_hours"]), ot_willing=bool(p["ot_willing"]),
        preferred_sites=tuple(split_list(pref)), skills=dict(p["skill_levels"]), days=int(days),
        hours_worked=float(window["worked_hours"].sum()), hours_charged=float(window["charged_hours"].sum()),
        offers=offers, accepted=accepted, acceptance_rate=(accepted / offers) if offers else None,
        acceptance_smoothed=smoothed_acceptance(accepted, offers, rules),
        avg_response_minutes=float(resp.mean()) if len(resp) else None,
        recent_shifts=history_known.loc[history_known["status"] == ACCEPTED, cols].head(recent).reset_index(
            drop=True),
        recent_offers=history_known[cols].head(recent).reset_index(drop=True),
    )
