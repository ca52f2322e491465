"""Volume from stored data: what the page can offer (:func:`planning_options`), workload history ("the average of
the last 4 weeks", "last week", "the same week last year") and care-home unit shifts, each mapped onto the planning
period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from src.data import store
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import _check_horizon, infer_interval_seconds
from .forecast import _forecast_runs
from .results import PlanningOptions, VolumeInput

HISTORY_METHODS: dict[str, str] = {
    "last_4_weeks": "Average of the last 4 weeks (same weekday and time)",
    "last_week": "Last week (same weekday and time)",
    "same_week_last_year": "Same week last year (52 weeks earlier, same weekdays)",
}
_WEEKS_BACK = {"last_4_weeks": 4, "last_week": 1}


def _next_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


def planning_options(app: AppContext, actor: Actor) -> PlanningOptions:
    """Queues, date ranges and sources available for planning."""
    require_role(actor, "planner", "admin")
    summary = store.dataset_summary(app.engine).set_index("kind")

    def rng(kind: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None, int]:
        if kind not in summary.index or not summary.loc[kind, "rows"]:
            return None, None, 0
        row = summary.loc[kind]
        return pd.Timestamp(row["first"]), pd.Timestamp(row["last"]), int(row["series"] or 0)

    first, last, _ = rng("workload")
    cfirst, clast, units = rng("unit_shifts")
    queues = store.distinct_values(app.engine, "workload", "queue") if last is not None else []
    interval = None
    if last is not None:
        sample = store.load_frame(app.engine, "workload", start=(last - pd.Timedelta(days=2)).to_pydatetime())
        interval = infer_interval_seconds(sample["timestamp"]) if len(sample) else None
    runs = _forecast_runs(app, actor)
    fc_series = sorted({str(r["series_id"]) for r in runs})
    stamp = f"{max((int(r.get('id') or 0) for r in runs), default=0)}/{len(runs)}"
    anchor = max([d for d in (last, clast) if d is not None], default=pd.Timestamp(date.today()))
    return PlanningOptions(queues=queues, history_first=first, history_last=last, interval_seconds=interval,
                           care_units=units, care_first=cfirst, care_last=clast, forecast_series=fc_series,
                           default_start=_next_monday(anchor.date()), forecast_stamp=stamp)


def _profile_volume(hist: pd.DataFrame, value_cols: Sequence[str], *, t0: pd.Timestamp, t1: pd.Timestamp,
                    method: str, first_stored: pd.Timestamp, what: str) -> tuple[pd.DataFrame, str]:
    """Reference volume mapped onto [t0, t1): ``hist`` has queue, ds and value columns (already aggregated).

    Weekly methods average the same weekday and time over the reference weeks before ``t0``; intervals absent
    from a reference week that lies inside the stored history count as 0 (the queue was closed). The yearly
    method copies the window 364 days earlier onto the target dates.
    """
    if method == "same_week_last_year":
        lag = pd.Timedelta(days=364)
        if first_stored.normalize() > t0 - lag:
            raise ServiceError(f"The {what} history starts on {first_stored:%Y-%m-%d}; the same week last year "
                               f"needs data from {t0 - lag:%Y-%m-%d}. Choose the average of the last 4 weeks.")
        ref = hist[(hist["ds"] >= t0 - lag) & (hist["ds"] < t1 - lag)].copy()
        ref["ds"] = ref["ds"] + lag
        detail = f"same week last year ({t0 - lag:%Y-%m-%d} → {t1 - lag - pd.Timedelta(days=1):%Y-%m-%d})"
        return ref.reset_index(drop=True), detail
    weeks = _WEEKS_BACK.get(method)
    if weeks is None:
        raise ServiceError(f"Unknown history method {method!r}; choose one of {', '.join(HISTORY_METHODS)}.")
    ref_start = t0 - pd.Timedelta(weeks=weeks)
    covered = [k for k in range(1, weeks + 1) if t0 - pd.Timedelta(weeks=k) >= first_stored.normalize()]
    ref = hist[(hist["ds"] >= ref_start) & (hist["ds"] < t0)].copy()
    if ref.empty or not covered:
        raise ServiceError(f"No {what} history in the {weeks} week(s) before {t0:%Y-%m-%d}; choose a start date "
                           f"right after the stored history or another method.")
    n_weeks = len(covered)
    ref = ref[ref["ds"] >= t0 - pd.Timedelta(weeks=max(covered))]
    ref["weekday"] = ref["ds"].dt.weekday
    ref["tod"] = ref["ds"] - ref["ds"].dt.normalize()
    agg: dict[str, Any] = {c: "sum" for c in value_cols}
    prof = ref.groupby(["queue", "weekday", "tod"], as_index=False).agg(agg)
    for c in value_cols:
        prof[c] = prof[c] / n_weeks
    if "aht_seconds" in ref:
        w = ref.assign(_w=ref[value_cols[0]], _wx=ref[value_cols[0]] * ref["aht_seconds"])
        aht = w.groupby(["queue", "weekday", "tod"], as_index=False)[["_w", "_wx"]].sum()
        aht["aht_seconds"] = np.where(aht["_w"] > 0, aht["_wx"] / aht["_w"].where(aht["_w"] > 0), np.nan)
        prof = prof.merge(aht[["queue", "weekday", "tod", "aht_seconds"]], on=["queue", "weekday", "tod"])
    days = pd.DataFrame({"day": pd.date_range(t0, t1 - pd.Timedelta(days=1), freq="D")})
    days["weekday"] = days["day"].dt.weekday
    out = days.merge(prof, on="weekday")
    out["ds"] = out["day"] + out["tod"]
    out = out.drop(columns=["day", "weekday", "tod"])
    detail = (f"average of {n_weeks} week(s) {t0 - pd.Timedelta(weeks=max(covered)):%Y-%m-%d} → "
              f"{t0 - pd.Timedelta(days=1):%Y-%m-%d}")
    return out.sort_values(["queue", "ds"]).reset_index(drop=True), detail


def history_volume(app: AppContext, actor: Actor, *, queues: Sequence[str], start: date, days: int = 7,
                   method: str = "last_4_weeks") -> VolumeInput:
    """Volume per queue and interval for ``days`` days from ``start``, derived from stored workload history."""
    require_role(actor, "planner", "admin")
    if not queues:
        raise ServiceError("Choose at least one queue.")
    t0, t1 = _check_horizon(start, days)
    known = set(store.distinct_values(app.engine, "workload", "queue"))
    unknown = [q for q in queues if q not in known]
    if unknown:
        raise ServiceError(f"No stored history for queue(s) {', '.join(map(str, unknown))}.")
    if method == "same_week_last_year":
        lo, hi = t0 - pd.Timedelta(days=364), t1 - pd.Timedelta(days=364)
    else:
        lo, hi = t0 - pd.Timedelta(weeks=_WEEKS_BACK.get(method, 4)), t0
    raw = store.load_frame(app.engine, "workload", where={"queue": list(queues)}, start=lo.to_pydatetime(),
                           end=(hi - pd.Timedelta(seconds=1)).to_pydatetime())
    summary = store.dataset_summary(app.engine).set_index("kind")
    first_stored = pd.Timestamp(summary.loc["workload", "first"])
    interval = infer_interval_seconds(raw["timestamp"]) if len(raw) else 3600
    raw = raw.assign(_wx=raw["volume"] * raw["aht_seconds"].fillna(0), _w=raw["volume"].where(
        raw["aht_seconds"].notna(), 0))
    hist = raw.groupby(["queue", "timestamp"], as_index=False)[["volume", "_wx", "_w"]].sum()
    hist["aht_seconds"] = hist["_wx"] / hist["_w"].where(hist["_w"] > 0)
    hist = hist.rename(columns={"timestamp": "ds", "volume": "yhat"}).drop(columns=["_wx", "_w"])
    hist["yhat"] = hist["yhat"].astype(float)
    frame, detail = _profile_volume(hist, ["yhat"], t0=t0, t1=t1, method=method, first_stored=first_stored,
                                    what="workload")
    if frame.empty:
        raise ServiceError("The chosen history has no intervals for these queues and dates.")
    missing = [q for q in queues if q not in set(frame["queue"])]
    notes = (f"No reference data for {', '.join(missing)}; left out.",) if missing else ()
    frame = frame[["queue", "ds", "yhat", "aht_seconds"]]
    return VolumeInput(frame=frame, source="history", detail=f"Workload history: {detail}",
                       interval_seconds=interval, notes=notes)


def care_volume(app: AppContext, actor: Actor, *, sites: Sequence[str] | None = None, start: date, days: int = 7,
                method: str = "last_4_weeks") -> VolumeInput:
    """Shifts per care-home unit and day for ``days`` days from ``start``, from stored unit shifts."""
    require_role(actor, "planner", "admin")
    t0, t1 = _check_horizon(start, days)
    if store.table_row_count(app.engine, "unit_shifts") == 0:
        raise ServiceError("No care-home unit shifts are stored yet; an administrator can upload them on the Data "
                           "page.")
    where = {"site": list(sites)} if sites else None
    raw = store.load_frame(app.engine, "unit_shifts", where=where)
    if raw.empty:
        raise ServiceError("No unit shifts stored for the chosen care homes.")
    hist = pd.DataFrame({"queue": raw["site"].astype(str) + " · " + raw["unit"].astype(str),
                         "ds": pd.to_datetime(raw["date"]), "yhat": raw["shifts"].astype(float)})
    frame, detail = _profile_volume(hist, ["yhat"], t0=t0, t1=t1, method=method, first_stored=hist["ds"].min(),
                                    what="unit-shift")
    return VolumeInput(frame=frame[["queue", "ds", "yhat"]], source="care", detail=f"Care-home unit shifts: {detail}",
                       interval_seconds=86400, channel="care")
