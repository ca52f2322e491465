"""Forecast adapter: stored forecasts (through :mod:`src.services.forecasting`) as volume to plan, one planning
period at a time.

Tests replace ``forecasting_service`` in this module (``monkeypatch.setattr(forecast_mod, "forecasting_service",
fake)``): this is where the name is looked up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from src.services import forecasting as forecasting_service
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import _check_horizon, infer_interval_seconds
from .results import VolumeInput

log = logging.getLogger(__name__)


def _forecast_runs(app: AppContext, actor: Actor) -> list[dict[str, Any]]:
    """Stored forecast runs (newest first)."""
    return list(forecasting_service.runs_for_series(app, actor, None, limit=2000))


def forecast_series(app: AppContext, actor: Actor) -> list[str]:
    """Series ids that have a stored forecast (``workload:calls@CC-Berlin``, ``care:Haus …/Unit``)."""
    require_role(actor, "planner", "admin")
    return sorted({str(r["series_id"]) for r in _forecast_runs(app, actor)})


def series_label(series_id: str) -> str:
    """``workload:calls@CC-Berlin`` → ``calls · CC-Berlin``; ``care:Haus A/Linde`` → ``Haus A / Linde``."""
    kind, _, rest = series_id.partition(":")
    if kind == "workload":
        q, _, site = rest.partition("@")
        return f"{q} · {site}" if site else q
    if kind == "care":
        site, _, unit = rest.partition("/")
        return f"{site} / {unit}" if unit else f"{site} (all units)"
    return series_id


def latest_forecast(app: AppContext, actor: Actor, series: str) -> pd.DataFrame | None:
    """The latest stored forecast of ``series`` as ``queue, ds, yhat[, yhat_upper_80, yhat_upper_95]`` or None
    when there is no forecast for it."""
    require_role(actor, "planner", "admin")
    try:
        frame = forecasting_service.latest_forecast(app, actor, series)
    except (LookupError, ValueError) as exc:
        log.info("no forecast for %s: %s", series, exc)
        return None
    if frame is None or len(frame) == 0:
        return None
    frame = pd.DataFrame(frame).copy()
    qcol = next((c for c in ("queue", "series_id", "series", "unique_id") if c in frame), None)
    frame["queue"] = frame[qcol].astype(str) if qcol else series
    if "ds" not in frame:
        raise ServiceError("The stored forecast has no ds column.")
    frame["ds"] = pd.to_datetime(frame["ds"])
    keep = [c for c in ("queue", "ds", "yhat", "yhat_upper_80", "yhat_upper_95", "aht_seconds") if c in frame]
    return frame[keep].sort_values("ds").reset_index(drop=True)


#: the length of a planning period from stored forecasts when none is given (a planning week)
FORECAST_PLAN_DAYS = 7


@dataclass(frozen=True)
class ForecastPeriod:
    """The stored forecast Staffing plans a series with (its current run) and the time it covers.

    Why: each series has its own current forecast — a back-dated test forecast of one queue and next week's of
    another are both "latest". A plan is for one period, so the page shows these periods, the planner picks the
    week, and only the forecasts that cover that week go into the plan (:func:`forecast_volume`).
    """

    series: str
    label: str
    frame: pd.DataFrame  # queue, ds, yhat[, yhat_upper_80, yhat_upper_95]

    @property
    def first(self) -> pd.Timestamp:
        return pd.Timestamp(self.frame["ds"].min())

    @property
    def last(self) -> pd.Timestamp:
        return pd.Timestamp(self.frame["ds"].max())

    @property
    def daily(self) -> bool:
        return bool((self.frame["ds"] == self.frame["ds"].dt.normalize()).all())

    @property
    def first_day(self) -> date:
        """The first whole day the forecast covers (a forecast starting at 14:00 after the history's last
        interval starts planning the next morning)."""
        day = self.first.normalize()
        return (day if self.first == day else day + pd.Timedelta(days=1)).date()

    def describe(self) -> str:
        """``Sun 2026-11-01 00:00 → Sat 2026-11-07 23:00`` (daily forecasts without the time)."""
        fmt = "%a %Y-%m-%d" if self.daily else "%a %Y-%m-%d %H:%M"
        return f"{self.first.strftime(fmt)} → {self.last.strftime(fmt)}"

    def covers(self, t0: pd.Timestamp, t1: pd.Timestamp) -> bool:
        """Whether every interval of [t0, t1) that this series is open in has a forecast value.

        Intervals of the window outside the forecast count as covered when the forecast holds the same weekday and
        time with no volume (closed): a forecast that starts after Friday's last call still covers the weekend of
        a week that ends on Saturday. A forecast of another week covers nothing of it.
        """
        f = self.frame
        inside = f[(f["ds"] >= t0) & (f["ds"] < t1)]
        if inside.empty:
            return False
        step = pd.Timedelta(seconds=86400 if self.daily else infer_interval_seconds(f["ds"]))
        grid = pd.date_range(t0, t1 - pd.Timedelta(seconds=1), freq=step)
        missing = grid.difference(pd.DatetimeIndex(inside["ds"]))
        if missing.empty:
            return True
        value = (f["yhat_upper_95"] if "yhat_upper_95" in f else f["yhat"]).fillna(0).to_numpy()
        # the most the forecast expects in each weekly slot (weekday, time of day); a slot it never holds is open
        most: dict[tuple[int, pd.Timedelta], float] = {}
        for key, v in zip(_slots(f["ds"]), value, strict=True):
            most[key] = max(most.get(key, 0.0), float(v))
        return all(most.get(s, 1.0) <= 0 for s in _slots(missing))


def _slots(ds: pd.Series | pd.DatetimeIndex) -> list[tuple[int, pd.Timedelta]]:
    """Weekday and time of day of each timestamp: the key of a weekly slot."""
    t = pd.Series(pd.DatetimeIndex(ds))
    return list(zip(t.dt.weekday, t - t.dt.normalize(), strict=True))


def forecast_periods(app: AppContext, actor: Actor, series: Sequence[str]) -> list[ForecastPeriod]:
    """The current stored forecast of each of ``series`` with the period it covers (series without one are left
    out), in the order given."""
    require_role(actor, "planner", "admin")
    out = []
    for s in dict.fromkeys(series):
        f = latest_forecast(app, actor, s)
        if f is not None:
            out.append(ForecastPeriod(series=str(s), label=series_label(str(s)), frame=f))
    return out


def default_forecast_window(periods: Sequence[ForecastPeriod], days: int = FORECAST_PLAN_DAYS) -> tuple[date, int]:
    """The planning period to offer first: from the first whole day of the forecast that starts latest (the
    upcoming period, not a back-dated test), ``days`` long or as far as that forecast reaches."""
    if not periods:
        raise ServiceError("There is no stored forecast for these series.")
    latest = max(periods, key=lambda p: p.first)
    start = latest.first_day
    reach = (latest.last.normalize() - pd.Timestamp(start)).days + 1
    return start, int(max(1, min(days, reach)))


def periods_by_time(periods: Sequence[ForecastPeriod]) -> list[tuple[str, list[str]]]:
    """Forecast periods with the series that have them, latest first: ``[("Sat 2026-10-31 14:00 → …", ["calls ·
    CC-Berlin"]), …]`` — one line per period on the page and in notes, however many units share it."""
    groups: dict[str, list[str]] = {}
    for p in sorted(periods, key=lambda p: p.first, reverse=True):
        groups.setdefault(p.describe(), []).append(p.label)
    return list(groups.items())


def _period_text(t0: pd.Timestamp, t1: pd.Timestamp) -> str:
    return f"{t0:%a %Y-%m-%d} → {t1 - pd.Timedelta(days=1):%a %Y-%m-%d}"


def forecast_volume(app: AppContext, actor: Actor, *, series: Sequence[str], start: date | None = None,
                    days: int | None = None) -> VolumeInput:
    """Volume for one planning period (``days`` days from ``start``) from the stored forecasts that cover it.

    Without ``start`` the period is :func:`default_forecast_window` (the upcoming week of the latest forecast);
    without ``days`` it is :data:`FORECAST_PLAN_DAYS` days. A series whose current forecast is for another period
    (a back-dated test forecast, last month's run) is left out with a note naming it and the period its forecast
    is for — different periods are never added into one plan. When no chosen series covers the period, a
    ServiceError says which periods the forecasts are for.
    """
    require_role(actor, "planner", "admin")
    if not series:
        raise ServiceError("Choose at least one forecast series.")
    periods = forecast_periods(app, actor, series)
    have = {p.series for p in periods}
    missing = [str(s) for s in dict.fromkeys(series) if str(s) not in have]
    if not periods:
        raise ServiceError("No stored forecast for " + ", ".join(map(str, series)) +
                           ". Run a forecast first or plan from history.")
    care = {p.series.startswith("care:") for p in periods}
    if len(care) > 1:
        raise ServiceError("Plan contact-centre queues and care homes separately (choose one kind of series).")
    is_care = care == {True}
    if start is None:
        start, default_days = default_forecast_window(periods)
        days = default_days if days is None else days
    t0, t1 = _check_horizon(start, FORECAST_PLAN_DAYS if days is None else days)
    window = _period_text(t0, t1)
    used = [p for p in periods if p.covers(t0, t1)]
    other = [p for p in periods if p not in used]
    if not used:
        raise ServiceError(f"No stored forecast covers {window}. The forecasts are for: " + "; ".join(
            f"{period} ({', '.join(labels)})" for period, labels in periods_by_time(other)) +
            ". Choose a period they cover, or train a forecast for it.")
    frame = pd.concat([p.frame for p in used], ignore_index=True)
    frame = frame[(frame["ds"] >= t0) & (frame["ds"] < t1)]
    value_cols = [c for c in ("yhat", "yhat_upper_80", "yhat_upper_95") if c in frame]
    frame = frame.groupby(["queue", "ds"], as_index=False)[value_cols].sum()  # one queue at several sites
    frame["yhat"] = pd.to_numeric(frame["yhat"], errors="coerce").clip(lower=0)
    notes = []
    if other:
        notes.append(f"No forecast for {window}, left out of this plan: " + "; ".join(
            f"{', '.join(labels)} (forecast for {period})" for period, labels in periods_by_time(other)) + ".")
    if missing:
        notes.append(f"No stored forecast for {', '.join(series_label(m) for m in missing)}.")
    return VolumeInput(frame=frame.reset_index(drop=True), source="forecast",
                       detail=f"Stored forecast for {window}: " + ", ".join(p.label for p in used),
                       interval_seconds=86400 if is_care else infer_interval_seconds(frame["ds"]),
                       notes=tuple(notes), channel="care" if is_care else None)
