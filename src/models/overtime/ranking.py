"""Explainable overtime ranking: hard eligibility first, then a 5-factor weighted score out of 100.

Why this shape: a manager must be able to see *why* a person is first, and why someone is missing. So every
exclusion carries plain-language reasons, and every candidate carries each factor's value in [0, 1], its weight
and its contribution in points (``100 × weight × value``); the total is the sum of the contributions (0–100).

Factors (all in [0, 1]):

- **availability** = ½ · rest score + ½ · weekly headroom score.
  rest score = clip((closest gap to another shift − min rest) / rest buffer, 0, 1), 1 with no shift nearby;
  headroom score = clip((max weekly − base hours − overtime already that week − this shift) / shift hours, 0, 1),
  i.e. 1 when one more such shift would still fit in the week. The base hours are the person's rostered hours
  in the shift's ISO week when the schedule has rostered shifts of theirs that week, else their contract hours
  (see :func:`rank_candidates`).
- **acceptance** = Beta-smoothed acceptance rate (accepted + a) / (offers + a + b), a = p·s, b = (1−p)·s over
  offers in the look-back window; unanswered offers count as not accepted. No offers → the prior p, labelled
  "no history (prior)".
- **fairness** = clip(1 − x / (2 · m), 0, 1) where x = the person's charged hours (worked + declined [+ no
  answer]) in the look-back window per 40 contract hours and m = the mean of x over the OT-willing staff who may
  be asked for this site (``rules.site_scope``), eligible today or not:
  nobody charged → 1, an average share → 0.5, twice the average or more → 0. When m = 0 everybody scores 1.
- **site_preference** = own site 1.0, a listed preferred site 0.75, any other 0.0 (configurable).
- **reliability** = 0.5 ^ (median response minutes / half-life), no answer counting as an infinitely slow
  response; never contacted → the prior (0.5), labelled "no history (prior)".
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .history import ACCEPTED, known_offers, per_person_hours, prepare_history
from .rules import FACTORS, FrozenDict, OvertimeRules, ShiftRequest, parse_required_skill, shift_interval
from .staff import fold, prepare_staff, split_list

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]

PRIOR_LABEL = "no history (prior)"

#: exclusion codes (stable identifiers for pages, CLI and tests) → short description
EXCLUSION_CODES: Mapping[str, str] = MappingProxyType({
    "not_willing": "not willing to work overtime",
    "site": "the site is outside the sites they work at or prefer",
    "absent": "absent",
    "already_working": "already working at that time",
    "max_weekly_hours": "would exceed the maximum weekly hours",
    "min_rest": "would break the minimum rest",
    "role": "lacks the required role",
    "skill": "lacks the required qualification",
})


@dataclass(frozen=True)
class FactorScore:
    """One factor of one candidate: value in [0, 1], weight, contribution in points (100 × weight × value)."""

    name: str
    value: float
    weight: float
    label: str
    is_prior: bool = False

    def __post_init__(self) -> None:
        if self.name not in FACTORS:
            raise ValueError(f"Unknown factor {self.name!r}.")
        if not (0.0 <= self.value <= 1.0) or not math.isfinite(self.value):
            raise ValueError(f"Factor {self.name} value {self.value!r} is outside [0, 1].")

    @property
    def contribution(self) -> float:
        """Points this factor adds to the total (0–100 scale)."""
        return 100.0 * self.weight * self.value

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "weight": self.weight, "contribution": self.contribution,
                "label": self.label, "is_prior": self.is_prior}


@dataclass(frozen=True)
class Candidate:
    """An eligible person with the explanation of their score."""

    rank: int
    staff_id: str
    name: str
    site: str
    role: str
    factors: tuple[FactorScore, ...]
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValueError("rank starts at 1.")
        if tuple(f.name for f in self.factors) != FACTORS:
            raise ValueError(f"Candidate factors must be {FACTORS} in that order.")
        object.__setattr__(self, "details", FrozenDict(self.details))

    @property
    def total(self) -> float:
        """Score out of 100: the sum of the factor contributions."""
        return float(sum(f.contribution for f in self.factors))

    @property
    def labels(self) -> tuple[str, ...]:
        """Names of the factors that fell back to a prior (cold start)."""
        return tuple(f.name for f in self.factors if f.is_prior)

    def factor(self, name: str) -> FactorScore:
        for f in self.factors:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: rank, ids, total and per factor value/weight/contribution/label (the CLI format)."""
        return {
            "rank": self.rank, "staff_id": self.staff_id, "name": self.name, "site": self.site, "role": self.role,
            "total": self.total,
            "factors": {f.name: f.to_dict() for f in self.factors},
            "prior_factors": list(self.labels),
            "details": {k: _jsonable(v) for k, v in self.details.items()},
        }


@dataclass(frozen=True)
class ExcludedStaff:
    """A person who cannot take the shift, with every reason (codes from :data:`EXCLUSION_CODES`)."""

    staff_id: str
    name: str
    reasons: tuple[str, ...]
    codes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.reasons or len(self.reasons) != len(self.codes):
            raise ValueError("An exclusion needs at least one reason and one code per reason.")
        bad = [c for c in self.codes if c not in EXCLUSION_CODES]
        if bad:
            raise ValueError(f"Unknown exclusion code(s): {bad}.")

    def to_dict(self) -> dict[str, Any]:
        return {"staff_id": self.staff_id, "name": self.name, "reasons": list(self.reasons),
                "codes": list(self.codes)}


@dataclass(frozen=True)
class RankingResult:
    """Ordered candidates and excluded staff for one shift request."""

    request: ShiftRequest
    rules: OvertimeRules
    as_of: pd.Timestamp
    shift_start: pd.Timestamp
    shift_end: pd.Timestamp
    candidates: tuple[Candidate, ...]
    excluded: tuple[ExcludedStaff, ...]
    acceptance_source: str = "historical rate"

    def __post_init__(self) -> None:
        if [c.rank for c in self.candidates] != list(range(1, len(self.candidates) + 1)):
            raise ValueError("Candidate ranks must be 1..n in order.")
        ids = [c.staff_id for c in self.candidates] + [e.staff_id for e in self.excluded]
        if len(ids) != len(set(ids)):
            raise ValueError("A person is listed twice in the ranking result.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form of the whole ranking (what ``overtime rank --json`` prints)."""
        r = self.request
        return {
            "request": {
                "site": r.site, "unit": r.unit, "shift_date": pd.Timestamp(r.shift_date).date().isoformat(),
                "shift_type": r.shift_type, "hours": r.hours, "start": self.shift_start.isoformat(),
                "end": self.shift_end.isoformat(), "required_role": r.required_role,
                "required_skill": r.required_skill, "request_id": r.request_id,
            },
            "as_of": self.as_of.isoformat(),
            "weights": dict(self.rules.weights),
            "acceptance_source": self.acceptance_source,
            "candidates": [c.to_dict() for c in self.candidates],
            "excluded": [e.to_dict() for e in self.excluded],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate: rank, ids, total, and ``<factor>_value/_weight/_points/_label`` columns."""
        rows = []
        for c in self.candidates:
            row: dict[str, Any] = {"rank": c.rank, "staff_id": c.staff_id, "name": c.name, "site": c.site,
                                   "role": c.role, "total": c.total}
            for f in c.factors:
                row[f"{f.name}_value"] = f.value
                row[f"{f.name}_weight"] = f.weight
                row[f"{f.name}_points"] = f.contribution
                row[f"{f.name}_label"] = f.label
            row["prior_factors"] = ", ".join(c.labels)
            rows.append(row)
        cols = ["rank", "staff_id", "name", "site", "role", "total"] + [
            f"{f}_{k}" for f in FACTORS for k in ("value", "weight", "points", "label")] + ["prior_factors"]
        return pd.DataFrame(rows, columns=cols)

    def breakdown_frame(self) -> pd.DataFrame:
        """Long form (rank, staff_id, name, factor, value, weight, points, label, is_prior) for stacked bars."""
        rows = [
            {"rank": c.rank, "staff_id": c.staff_id, "name": c.name, "factor": f.name, "value": f.value,
             "weight": f.weight, "points": f.contribution, "label": f.label, "is_prior": f.is_prior}
            for c in self.candidates for f in c.factors
        ]
        return pd.DataFrame(rows, columns=["rank", "staff_id", "name", "factor", "value", "weight", "points",
                                           "label", "is_prior"])

    def excluded_frame(self) -> pd.DataFrame:
        """One row per excluded person: staff_id, name, reasons (joined by "; "), codes (joined by ",")."""
        rows = [{"staff_id": e.staff_id, "name": e.name, "reasons": "; ".join(e.reasons),
                 "codes": ",".join(e.codes)} for e in self.excluded]
        return pd.DataFrame(rows, columns=["staff_id", "name", "reasons", "codes"])


def _jsonable(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return None if pd.isna(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, np.floating | float):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _fmt_h(hours: float) -> str:
    return f"{hours:.1f} h"


def _fmt_t(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d %H:%M")


def _intervals_by_staff(frame: pd.DataFrame | None, start_col: str, end_col: str, label: str
                        ) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp, str]]]:
    out: dict[str, list[tuple[pd.Timestamp, pd.Timestamp, str]]] = {}
    if frame is None or frame.empty:
        return out
    f = frame.dropna(subset=[start_col, end_col])
    labels = f["label"].fillna(label).astype(str) if "label" in f.columns else pd.Series(label, index=f.index)
    for sid, s, e, what in zip(f["staff_id"].astype(str), pd.to_datetime(f[start_col]),
                               pd.to_datetime(f[end_col]), labels, strict=True):
        out.setdefault(sid, []).append((s, e, what))
    return out


def rostered_hours_in_week(schedule: pd.DataFrame | None, week_start: pd.Timestamp, week_end: pd.Timestamp
                           ) -> dict[str, tuple[float, int]]:
    """staff_id → (paid hours, number of shifts) of the rostered schedule rows starting in [week_start, week_end).

    Rows count when the optional ``rostered`` column is true; their hours are the ``hours`` column where given,
    else end − start. A person missing from the result has no roster that week (the caller falls back to the
    contract). A night shift belongs to the week of the day it starts, like on the roster itself.
    """
    if schedule is None or schedule.empty or "rostered" not in schedule.columns:
        return {}
    f = schedule.loc[schedule["rostered"].eq(True)].dropna(subset=["start", "end"])
    starts = pd.to_datetime(f["start"])
    f = f.loc[(starts >= week_start) & (starts < week_end)]
    if f.empty:
        return {}
    length = (pd.to_datetime(f["end"]) - pd.to_datetime(f["start"])).dt.total_seconds() / 3600.0
    hours = pd.to_numeric(f["hours"], errors="coerce").fillna(length) if "hours" in f.columns else length
    grouped = hours.groupby(f["staff_id"].astype(str)).agg(["sum", "count"])
    return {str(sid): (float(row["sum"]), int(row["count"])) for sid, row in grouped.iterrows()}


def _role_names(required: str | tuple[str, ...] | None) -> list[str]:
    if required is None:
        return []
    return list(required) if isinstance(required, tuple) else split_list(required)


def _required_roles(required: str | tuple[str, ...] | None) -> frozenset[str]:
    return frozenset(fold(r) for r in _role_names(required))


def _site_in_scope(p: pd.Series, req_site: str, rules: OvertimeRules) -> bool:
    if rules.site_scope == "any" or p["site_key"] == req_site:
        return True
    return rules.site_scope == "preferred" and req_site in p["preferred_set"]


def smoothed_acceptance(accepted: int, offers: int, rules: OvertimeRules) -> float:
    """Posterior mean of the acceptance rate under the Beta prior of ``rules`` ((k + a) / (n + a + b))."""
    a = rules.prior_acceptance * rules.prior_strength
    b = (1.0 - rules.prior_acceptance) * rules.prior_strength
    if offers + a + b == 0:
        return rules.prior_acceptance
    return (accepted + a) / (offers + a + b)


def reliability_value(response_minutes: np.ndarray, rules: OvertimeRules) -> float:
    """0.5 ** (median / half-life) over response minutes where no answer is ``inf``; empty → the prior."""
    if response_minutes.size == 0:
        return rules.prior_reliability
    median = float(np.median(response_minutes))
    if math.isinf(median):
        return 0.0
    return float(0.5 ** (median / rules.response_half_life_minutes))


def charged_per_reference(staff: pd.DataFrame, offers: pd.DataFrame) -> pd.Series:
    """Charged hours per ``reference`` contract hours for every staff_id in ``staff`` (prepared), 0 if none."""
    charged = offers.groupby("staff_id")["charged_hours"].sum() if not offers.empty else pd.Series(dtype=float)
    raw = staff["staff_id"].map(charged).fillna(0.0).astype(float)
    return pd.Series((raw * staff["pro_rata"]).to_numpy(), index=staff["staff_id"].to_numpy())


def rank_candidates(
    request: ShiftRequest,
    staff: pd.DataFrame,
    history: pd.DataFrame | None,
    rules: OvertimeRules | None = None,
    *,
    schedule: pd.DataFrame | None = None,
    absences: pd.DataFrame | None = None,
    acceptance_override: Mapping[str, float] | None = None,
    acceptance_source: str = "historical rate",
    on_progress: ProgressCallback | None = None,
) -> RankingResult:
    """Rank everyone in ``staff`` for ``request``: excluded (with reasons) or scored and ordered.

    ``schedule`` (staff_id, start, end; optional label, rostered, hours) lists shifts people already work;
    ``absences`` (staff_id, date, optional reason) days they are away. Overtime already accepted in ``history``
    (known before ``as_of``) counts as work too. Every schedule row and accepted overtime shift counts for the
    overlap ("already working") and minimum-rest rules.

    Maximum weekly hours: base + overtime accepted for that ISO week + this shift must not exceed
    ``rules.max_weekly_hours``. The base is the sum of the person's **rostered** shifts that week (schedule rows
    with ``rostered`` true whose start falls in the week; their ``hours`` — paid hours — or end − start) when they
    have at least one; otherwise — no roster for them that week — their **contract hours**, the old assumption
    that they work their contract. Why not always the contract: a roster says what the week really holds (a
    part-timer covering extra shifts, a full-timer on leave), and the exclusion reason names which basis was used.
    ``acceptance_override`` (staff_id → probability) replaces the smoothed historical rate, e.g. with a model
    that beat it on held-out requests; ``acceptance_source`` names it in the result.
    Returns a :class:`RankingResult`; totals are points out of 100.
    """
    rules = rules or OvertimeRules()
    start, end = shift_interval(request, rules)
    as_of = pd.Timestamp(rules.as_of) if rules.as_of is not None else start
    if on_progress:
        on_progress(0.0, "preparing history")
    people = prepare_staff(staff, rules.pro_rata_reference_hours)
    hist = prepare_history(history, rules)
    if request.request_id is not None and not hist.empty:
        hist = hist.loc[hist["request_id"] != str(request.request_id)]
    known = hist.loc[hist["known_at"] < as_of]
    window = known_offers(hist, as_of, rules.lookback_days)

    # --- commitments: scheduled shifts + accepted overtime known at as_of
    commitments = _intervals_by_staff(schedule, "start", "end", "scheduled shift")
    accepted = known.loc[known["status"] == ACCEPTED]
    for sid, items in _intervals_by_staff(accepted, "shift_start", "shift_end", "overtime shift").items():
        mine = commitments.setdefault(sid, [])
        seen = {(s, e) for s, e, _ in mine}  # the schedule may already list it under a more specific label
        mine.extend(it for it in items if (it[0], it[1]) not in seen)
    week_start = start.normalize() - pd.Timedelta(days=start.weekday())
    week_end = week_start + pd.Timedelta(days=7)
    rostered_week = rostered_hours_in_week(schedule, week_start, week_end)
    in_week = accepted.loc[(accepted["shift_date"] >= week_start) & (accepted["shift_date"] < week_end)]
    week_ot = in_week.groupby("staff_id")["commit_hours"].sum()
    shift_days = set(pd.date_range(start.normalize(), (end - pd.Timedelta(microseconds=1)).normalize(), freq="D"))
    absent_ids: dict[str, list[pd.Timestamp]] = {}
    absent_why: dict[str, set[str]] = {}
    if absences is not None and not absences.empty:
        ab = absences.assign(date=pd.to_datetime(absences["date"]).dt.normalize())
        why = ab["reason"].fillna("").astype(str) if "reason" in ab.columns else pd.Series("", index=ab.index)
        for sid, day, reason in zip(ab["staff_id"].astype(str), ab["date"], why, strict=True):
            if day in shift_days:
                absent_ids.setdefault(sid, []).append(day)
                if reason:
                    absent_why.setdefault(sid, set()).add(reason)

    # --- history aggregates for the soft factors
    per = per_person_hours(window)
    x = charged_per_reference(people, window)
    req_site = fold(request.site)
    in_scope = people.apply(lambda p: _site_in_scope(p, req_site, rules), axis=1).to_numpy(dtype=bool) \
        if len(people) else np.zeros(0, dtype=bool)
    willing_x = x[people["ot_willing"].to_numpy() & in_scope]
    pool_mean = float(willing_x.mean()) if len(willing_x) else 0.0
    response = window["response_minutes"].where(window["status"] != "no_answer", np.inf)
    responses_by_staff = {sid: grp.dropna().to_numpy(dtype=float)
                          for sid, grp in response.groupby(window["staff_id"])} if not window.empty else {}
    roles = _required_roles(request.required_role)
    skill_name, skill_level = parse_required_skill(request.required_skill) if request.required_skill else (None, None)

    scored: list[dict[str, Any]] = []
    excluded: list[ExcludedStaff] = []
    n = len(people)
    for i, p in enumerate(people.itertuples(index=False)):
        if on_progress and n and i % 50 == 0:
            on_progress(0.1 + 0.8 * i / n, f"checking {i}/{n} staff")
        sid = p.staff_id
        reasons: list[str] = []
        codes: list[str] = []
        if not p.ot_willing:
            codes.append("not_willing")
            reasons.append("not willing to work overtime")
        if not in_scope[i]:
            codes.append("site")
            where = "own site" if rules.site_scope == "own" else "own or preferred sites"
            reasons.append(f"{request.site} is not among their {where} (home: {p.site})")
        if sid in absent_ids:
            days = ", ".join(d.strftime("%Y-%m-%d") for d in sorted(set(absent_ids[sid])))
            codes.append("absent")
            why_txt = f" ({', '.join(sorted(absent_why[sid]))})" if sid in absent_why else ""
            reasons.append(f"absent on {days}{why_txt}")
        own = commitments.get(sid, [])
        overlaps = [c for c in own if c[0] < end and c[1] > start]
        if overlaps:
            s, e, what = min(overlaps)
            codes.append("already_working")
            reasons.append(f"already working then ({what} {_fmt_t(s)}–{e.strftime('%H:%M')})")
        ot_week = float(week_ot.get(sid, 0.0))
        if sid in rostered_week:
            base_hours, n_rostered = rostered_week[sid]
            basis = f"rostered {_fmt_h(base_hours)} in {n_rostered} shift{'s' if n_rostered != 1 else ''}"
        else:
            base_hours, n_rostered = p.contract_hours, 0
            basis = f"contract {_fmt_h(p.contract_hours)}"
        week_total = base_hours + ot_week + request.hours
        if week_total > rules.max_weekly_hours + 1e-9:
            codes.append("max_weekly_hours")
            reasons.append(
                f"would work {_fmt_h(week_total)} in the week of {week_start:%Y-%m-%d} ({basis} + overtime "
                f"{_fmt_h(ot_week)} + this shift {_fmt_h(request.hours)}; max {_fmt_h(rules.max_weekly_hours)})"
            )
        min_gap: float | None = None
        worst: tuple[pd.Timestamp, pd.Timestamp, str, str] | None = None
        for s, e, what in own:
            if s < end and e > start:
                continue
            if e <= start:
                gap, side = (start - e).total_seconds() / 3600.0, "after"
            else:
                gap, side = (s - end).total_seconds() / 3600.0, "before"
            if min_gap is None or gap < min_gap:
                min_gap, worst = gap, (s, e, what, side)
        if min_gap is not None and worst is not None and min_gap < rules.min_rest_hours - 1e-9:
            s, e, what, side = worst
            when = f"ending {_fmt_t(e)}" if side == "after" else f"starting {_fmt_t(s)}"
            codes.append("min_rest")
            reasons.append(f"only {_fmt_h(min_gap)} rest {side} {what} {when} (min {_fmt_h(rules.min_rest_hours)})")
        if roles and p.role_key not in roles:
            codes.append("role")
            wanted = " or ".join(repr(r) for r in _role_names(request.required_role))
            reasons.append(f"role {p.role!r} is not the required {wanted}")
        if skill_name:
            have = p.skill_levels.get(skill_name)
            if have is None:
                codes.append("skill")
                reasons.append(f"lacks required skill {skill_name!r}")
            elif skill_level is not None and have < skill_level:
                codes.append("skill")
                reasons.append(f"skill {skill_name!r} at level {have}, needs {skill_level}")
        if codes:
            excluded.append(ExcludedStaff(sid, p.name, tuple(reasons), tuple(codes)))
            continue

        # --- soft factors
        rest_score = 1.0 if min_gap is None else min(1.0, max(0.0, (min_gap - rules.min_rest_hours)
                                                              / rules.rest_buffer_hours))
        headroom = rules.max_weekly_hours - week_total
        headroom_score = min(1.0, max(0.0, headroom / request.hours))
        availability = 0.5 * rest_score + 0.5 * headroom_score
        rest_txt = "no shift nearby" if min_gap is None else f"{_fmt_h(min_gap)} rest to nearest shift"
        avail_label = f"{rest_txt}; {_fmt_h(headroom)} weekly headroom after this shift"

        offers = int(per["offers"].get(sid, 0)) if not per.empty else 0
        acc = int(per["accepted"].get(sid, 0)) if not per.empty else 0
        acc_prior = False
        if acceptance_override is not None and sid in acceptance_override:
            acceptance = float(acceptance_override[sid])
            acc_label = f"{acceptance_source}: {acceptance:.0%}"
        elif offers == 0:
            acceptance, acc_label, acc_prior = rules.prior_acceptance, PRIOR_LABEL, True
        else:
            acceptance = smoothed_acceptance(acc, offers, rules)
            acc_label = f"{acc}/{offers} accepted (smoothed {acceptance:.0%})"

        xi = float(x.get(sid, 0.0))
        fairness = 1.0 if pool_mean <= 0 else min(1.0, max(0.0, 1.0 - xi / (2.0 * pool_mean)))
        charged = float(per["hours_charged"].get(sid, 0.0)) if not per.empty else 0.0
        fair_label = (f"{_fmt_h(charged)} charged in {rules.lookback_days} d "
                      f"({xi:.1f} per {rules.pro_rata_reference_hours:g} h contract; team avg {pool_mean:.1f})")

        if p.site_key == req_site:
            site_value, site_label = rules.own_site_score, "own site"
        elif req_site in p.preferred_set:
            site_value, site_label = rules.preferred_site_score, "preferred site"
        else:
            site_value, site_label = rules.other_site_score, f"other site (home: {p.site})"

        resp = responses_by_staff.get(sid, np.empty(0))
        reliability = reliability_value(resp, rules)
        rel_prior = resp.size == 0
        if rel_prior:
            rel_label = PRIOR_LABEL
        else:
            med = float(np.median(resp))
            rel_label = "median response: no answer" if math.isinf(med) else f"median response {med:.0f} min"

        w = rules.weights
        factors = (
            FactorScore("availability", availability, w["availability"], avail_label),
            FactorScore("acceptance", acceptance, w["acceptance"], acc_label, acc_prior),
            FactorScore("fairness", fairness, w["fairness"], fair_label),
            FactorScore("site_preference", site_value, w["site_preference"], site_label),
            FactorScore("reliability", reliability, w["reliability"], rel_label, rel_prior),
        )
        scored.append({
            "staff_id": sid, "name": p.name, "site": str(p.site), "role": str(p.role), "factors": factors,
            "hire_date": p.hire_date, "x": xi,
            "details": {
                "rest_gap_hours": min_gap, "rest_score": rest_score, "week_hours_after": week_total,
                "headroom_hours": headroom, "headroom_score": headroom_score, "overtime_this_week": ot_week,
                "offers": offers, "accepted": acc, "charged_hours": charged, "charged_per_reference": xi,
                "team_mean_charged_per_reference": pool_mean, "contract_hours": p.contract_hours,
                "hire_date": p.hire_date, "week_basis": "roster" if n_rostered else "contract",
                "rostered_hours_this_week": base_hours if n_rostered else None, "rostered_shifts_this_week": n_rostered,
            },
        })

    def key(item: dict[str, Any]) -> tuple:
        total = round(sum(f.contribution for f in item["factors"]), 9)
        if rules.tie_break == "seniority":
            hd = item["hire_date"]
            tb: Any = pd.Timestamp.max if pd.isna(hd) else pd.Timestamp(hd)
        elif rules.tie_break == "fewest_hours":
            tb = item["x"]
        else:
            tb = 0
        return (-total, tb, item["staff_id"])

    scored.sort(key=key)
    candidates = tuple(
        Candidate(rank=i + 1, staff_id=it["staff_id"], name=it["name"], site=it["site"], role=it["role"],
                  factors=it["factors"], details=it["details"])
        for i, it in enumerate(scored)
    )
    if on_progress:
        on_progress(1.0, f"{len(candidates)} candidates, {len(excluded)} excluded")
    logger.info("ranked %d candidates (%d excluded) for %s %s %s", len(candidates), len(excluded),
                request.site, pd.Timestamp(request.shift_date).date(), request.shift_type)
    return RankingResult(request=request, rules=rules, as_of=as_of, shift_start=start, shift_end=end,
                         candidates=candidates, excluded=tuple(excluded), acceptance_source=acceptance_source)
