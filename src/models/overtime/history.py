"""Overtime history accounting: outcome of every offer, what is known when, and *charged* hours.

Charged hours follow overtime-equalisation practice: an offer is charged to the person it was made to,
whether they worked it or turned it down, so that people who decline do not keep rising to the top of the
list. Per offer (one history row):

- ``accepted``  → charged the hours worked (``hours_worked``);
- ``declined``  (a response that is not an acceptance) → charged the offered hours;
- ``no_answer`` (no response) → charged the offered hours too when ``rules.charge_no_answer`` (default),
  else nothing.

Offered hours of a request are taken from an ``offered_hours``/``hours`` column when the history has one,
else from the largest ``hours_worked`` among that request's rows (what the person who took it worked), else
``rules.default_shift_hours``.

No look-ahead: each offer has a ``known_at`` time — the response time; for an acceptance without a response
time the contact time; for an unanswered offer the shift start (the offer lapses then). Only offers with
``known_at < as_of`` count at ``as_of``; offers still pending then are ignored.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .rules import OvertimeRules, normalise_shift_type
from .staff import as_bool, fold

logger = logging.getLogger(__name__)

HISTORY_COLUMNS: tuple[str, ...] = (
    "request_id", "shift_date", "site", "shift_type", "staff_id", "contacted_at", "responded_at", "accepted",
    "hours_worked",
)

#: outcome labels of an offer
ACCEPTED, DECLINED, NO_ANSWER = "accepted", "declined", "no_answer"


def prepare_history(history: pd.DataFrame | None, rules: OvertimeRules) -> pd.DataFrame:
    """Normalise an overtime-history frame and add the accounting columns used everywhere in this package.

    Added columns: ``site_key`` (folded site name), ``shift_type_key``, ``shift_start`` (NaT for unknown shift
    types), ``offered_hours``, ``status`` (accepted/declined/no_answer), ``known_at``, ``response_minutes``
    (NaN without response), ``worked_hours``, ``declined_hours``, ``no_answer_hours``, ``charged_hours``,
    ``shift_end`` and ``commit_hours`` (hours an accepted offer occupies in the person's week: hours worked, or
    the offered hours while still 0).
    """
    if history is None or len(history) == 0:
        cols = list(HISTORY_COLUMNS) + ["unit", "site_key", "shift_type_key", "shift_start", "shift_end",
                                        "offered_hours", "status", "known_at", "response_minutes", "worked_hours",
                                        "declined_hours", "no_answer_hours", "charged_hours", "commit_hours"]
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        for c in ("shift_date", "contacted_at", "responded_at", "shift_start", "shift_end", "known_at"):
            empty[c] = pd.Series(dtype="datetime64[ns]")
        for c in ("hours_worked", "offered_hours", "response_minutes", "worked_hours", "declined_hours",
                  "no_answer_hours", "charged_hours", "commit_hours"):
            empty[c] = pd.Series(dtype=float)
        empty["accepted"] = pd.Series(dtype=bool)
        return empty
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns and c != "responded_at"]
    if missing:
        raise ValueError(f"Overtime history is missing column(s): {', '.join(missing)}.")
    h = history.copy()
    if "responded_at" not in h.columns:
        h["responded_at"] = pd.NaT
    if "unit" not in h.columns:
        h["unit"] = None
    h["request_id"] = h["request_id"].astype(str)
    h["staff_id"] = h["staff_id"].astype(str)
    h["site"] = h["site"].astype(str)
    h["site_key"] = h["site"].map(fold)
    h["shift_date"] = pd.to_datetime(h["shift_date"]).dt.normalize()
    h["contacted_at"] = pd.to_datetime(h["contacted_at"])
    h["responded_at"] = pd.to_datetime(h["responded_at"])
    h["accepted"] = as_bool(h["accepted"])
    h["hours_worked"] = pd.to_numeric(h["hours_worked"], errors="coerce").fillna(0.0).astype(float)

    h["shift_type_key"] = h["shift_type"].map(normalise_shift_type)
    offsets = {k: pd.Timedelta(hours=t.hour, minutes=t.minute) for k, t in rules.shift_starts.items()}
    offset = h["shift_type_key"].map(offsets)
    unknown = offset.isna()
    if unknown.any():
        logger.warning("%d overtime history rows have an unknown shift type (%s); their start time is unknown",
                       int(unknown.sum()), ", ".join(sorted(h.loc[unknown, "shift_type"].astype(str).unique())[:5]))
    h["shift_start"] = h["shift_date"] + pd.to_timedelta(offset)

    explicit = None
    for col in ("offered_hours", "hours"):
        if col in h.columns:
            explicit = pd.to_numeric(h[col], errors="coerce")
            break
    request_max = h.groupby("request_id")["hours_worked"].transform("max")
    offered = request_max.where(request_max > 0, rules.default_shift_hours)
    if explicit is not None:
        offered = explicit.where(explicit > 0, offered)
    h["offered_hours"] = offered.astype(float)

    responded = h["responded_at"].notna()
    h["status"] = np.where(h["accepted"], ACCEPTED, np.where(responded, DECLINED, NO_ANSWER))
    lapse = h["shift_start"].fillna(h["shift_date"])
    h["known_at"] = h["responded_at"].where(responded, h["contacted_at"].where(h["accepted"], lapse))
    minutes = (h["responded_at"] - h["contacted_at"]).dt.total_seconds() / 60.0
    h["response_minutes"] = minutes.clip(lower=0.0)

    is_acc = h["status"] == ACCEPTED
    h["worked_hours"] = np.where(is_acc, h["hours_worked"], 0.0)
    h["declined_hours"] = np.where(h["status"] == DECLINED, h["offered_hours"], 0.0)
    h["no_answer_hours"] = np.where(h["status"] == NO_ANSWER, h["offered_hours"], 0.0)
    h["charged_hours"] = h["worked_hours"] + h["declined_hours"] + (
        h["no_answer_hours"] if rules.charge_no_answer else 0.0
    )
    h["commit_hours"] = np.where(is_acc, h["hours_worked"].where(h["hours_worked"] > 0, h["offered_hours"]), 0.0)
    h["shift_end"] = h["shift_start"] + pd.to_timedelta(h["commit_hours"].where(is_acc, h["offered_hours"]), unit="h")
    return h.reset_index(drop=True)


def known_offers(prepared: pd.DataFrame, as_of: pd.Timestamp, days: int | None) -> pd.DataFrame:
    """Offers whose outcome is known before ``as_of`` and that were made in the last ``days`` days.

    ``days=None`` keeps every known offer. The window is on the contact time: hours are charged when offered.
    """
    mask = prepared["known_at"] < as_of
    if days is not None:
        mask &= prepared["contacted_at"] >= as_of - pd.Timedelta(days=days)
        mask &= prepared["contacted_at"] < as_of
    return prepared.loc[mask]


def per_person_hours(offers: pd.DataFrame) -> pd.DataFrame:
    """Per staff_id: offers, accepted, declined, no_answer counts and worked/declined/no-answer/charged hours,
    median and mean response minutes (no-answers excluded from the mean; see reliability for the median rule).
    """
    if offers.empty:
        return pd.DataFrame(
            columns=["offers", "accepted", "declined", "no_answer", "hours_worked", "hours_declined",
                     "hours_no_answer", "hours_charged", "mean_response_minutes", "last_contacted_at"],
        ).rename_axis("staff_id")
    flags = offers.assign(
        _acc=(offers["status"] == ACCEPTED).astype(int), _dec=(offers["status"] == DECLINED).astype(int),
        _na=(offers["status"] == NO_ANSWER).astype(int),
    )
    out = flags.groupby("staff_id").agg(
        offers=("status", "size"), accepted=("_acc", "sum"), declined=("_dec", "sum"), no_answer=("_na", "sum"),
        hours_worked=("worked_hours", "sum"), hours_declined=("declined_hours", "sum"),
        hours_no_answer=("no_answer_hours", "sum"), hours_charged=("charged_hours", "sum"),
        mean_response_minutes=("response_minutes", "mean"), last_contacted_at=("contacted_at", "max"),
    )
    return out
