"""Intraday re-forecast: the rest of a day of a stored forecast scaled by that day's actuals so far (reads only,
stores nothing), the form's defaults, parsing typed / uploaded partial-day volumes and the CSV export.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dt_time
from typing import Any

import pandas as pd

from src.data import export
from src.data import forecast_store as fstore
from src.data.forecast_store import LEVELS
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import _jsonable
from .catalogue import resolve_series
from .runs import RunView, current_run

log = logging.getLogger(__name__)


#: most lines a typed / uploaded partial-day series may have (one day of 1-minute intervals is 1,440)
MAX_INTRADAY_LINES = 1500
MAX_INTRADAY_BYTES = 200_000


@dataclass
class IntradayView:
    """Original vs re-forecast for one day of a stored intraday forecast, given that day's actuals so far.

    ``frame`` (one row per grid interval of the day): ``ds, is_open, actual`` (NaN where unknown),
    ``elapsed`` (before ``now``), ``yhat`` and ``yhat_lower/upper_<L>`` (the stored forecast), ``reforecast`` and
    ``reforecast_lower/upper_<L>`` (equal to the stored values before ``now``). ``rest_actual`` and the two
    ``rest_mae_*`` are only set when the store already holds the rest of the day (a past day): then the page can
    show honestly whether the re-forecast was closer than the original.
    """

    series_id: str
    label: str
    run_id: int
    model: str
    freq: str
    day: date
    now: pd.Timestamp
    source: str  # "stored" | "entered"
    frame: pd.DataFrame
    factor: float
    actual_so_far: float
    forecast_so_far: float
    share_seen: float
    rest_original: float
    rest_reforecast: float
    rest_actual: float | None = None
    rest_mae_original: float | None = None
    rest_mae_reforecast: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for the REST API): summary numbers, message, notes and the day's rows."""
        keys = ("series_id", "label", "run_id", "model", "freq", "day", "now", "source", "factor", "actual_so_far",
                "forecast_so_far", "share_seen", "rest_original", "rest_reforecast", "rest_actual",
                "rest_mae_original", "rest_mae_reforecast", "notes")
        out = {k: getattr(self, k) for k in keys} | {"message": self.message,
                                                     "rows": self.frame.to_dict("records")}
        return _jsonable(out)

    @property
    def message(self) -> str:
        diff = (self.actual_so_far / self.forecast_so_far - 1) * 100 if self.forecast_so_far > 0 else float("nan")
        text = (f"Before {self.now:%H:%M}: {self.actual_so_far:,.0f} actual vs {self.forecast_so_far:,.1f} forecast "
                f"({diff:+.0f}%). {self.share_seen:.0%} of the day's forecast volume has passed, so the rest of "
                f"the day is scaled by {self.factor:.3f}: {self.rest_original:,.1f} → {self.rest_reforecast:,.1f}.")
        if self.rest_actual is not None:
            better = "closer" if (self.rest_mae_reforecast or 0) < (self.rest_mae_original or 0) else "not closer"
            text += (f" The store already holds the rest of this day ({self.rest_actual:,.0f} actual): the "
                     f"re-forecast was {better} (MAE {self.rest_mae_reforecast:.2f} vs {self.rest_mae_original:.2f}).")
        return text


def parse_partial_day(data: str | bytes, day: date) -> pd.DataFrame:
    """Today's actuals typed or uploaded as lines ``time,volume`` → ``ds, y`` on ``day``.

    Accepted per line: ``08:00,35`` · ``08:00;35,5`` (German decimal comma) · ``08:00<TAB>35`` ·
    ``2025-03-04 08:00,35``; an optional header line; blank lines are skipped. Raises :class:`ServiceError`
    naming the line of every problem (up to 10): bad time, another day, non-numeric or negative volume, duplicates.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_INTRADAY_BYTES:
            raise ServiceError(f"The file is too large for one day of volumes ({len(data):,} bytes; at most "
                               f"{MAX_INTRADAY_BYTES:,}).")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            data = data.decode("cp1252", errors="replace")
    lines = data.splitlines()
    if len(lines) > MAX_INTRADAY_LINES:
        raise ServiceError(f"Too many lines ({len(lines):,}); one day has at most {MAX_INTRADAY_LINES:,} intervals.")
    rows: list[tuple[pd.Timestamp, float]] = []
    errors: list[str] = []
    seen: dict[pd.Timestamp, int] = {}
    day_ts = pd.Timestamp(day)
    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        sep = ";" if ";" in line else "\t" if "\t" in line else ","
        parts = [p.strip().strip('"') for p in line.split(sep)]
        if len(parts) != 2:
            errors.append(f"line {no}: expected two values 'time,volume', got {line[:40]!r}")
            continue
        when, value = parts
        if sep == ";":
            value = value.replace(",", ".")
        try:
            num = float(value)
        except ValueError:
            if not rows and not errors and not any(ch.isdigit() for ch in value + when):
                continue  # a header line such as "time,volume"
            errors.append(f"line {no}: volume {value!r} is not a number")
            continue
        try:
            ts = pd.Timestamp(f"{day_ts:%Y-%m-%d} {when}") if len(when) <= 8 else pd.Timestamp(when)
        except (ValueError, TypeError):
            errors.append(f"line {no}: time {when!r} is not HH:MM or a timestamp like 2025-03-04 08:00")
            continue
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        if ts.normalize() != day_ts:
            errors.append(f"line {no}: {ts:%Y-%m-%d %H:%M} is not on {day_ts:%Y-%m-%d}")
            continue
        if not math.isfinite(num) or num < 0:
            errors.append(f"line {no}: volume {value} must be a number ≥ 0")
            continue
        if ts in seen:
            errors.append(f"line {no}: {ts:%H:%M} appears twice (also line {seen[ts]})")
            continue
        seen[ts] = no
        rows.append((ts, num))
    if errors:
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise ServiceError("Today's volumes could not be read: " + "; ".join(errors[:10]) + more + ".")
    if not rows:
        raise ServiceError("Enter at least one interval of today's volumes, e.g. '08:00,35' (one per line).")
    return pd.DataFrame(rows, columns=["ds", "y"]).sort_values("ds").reset_index(drop=True)


def _covers(run: dict[str, Any], day: date) -> bool:
    return pd.Timestamp(run["forecast_start"]).normalize() <= pd.Timestamp(day) <= pd.Timestamp(run["forecast_end"])


@dataclass(frozen=True)
class IntradayDefaults:
    """What the re-forecast form offers for a stored run: its day range, a suggested day and time, the interval."""

    first: date
    last: date
    suggested: date
    suggested_now: dt_time
    step_seconds: int
    #: whether any open forecast day has stored actuals: a fresh forecast's days have none, so "stored volumes"
    #: can only fail there and the form offers typed volumes first
    has_stored_actuals: bool = False


def intraday_defaults(view: RunView) -> IntradayDefaults | None:
    """Day range and suggestions for an intraday re-forecast of a stored run (None for daily runs).

    Suggested day: the latest forecast day with open intervals whose actuals are already stored (a back-dated
    forecast lets a planner try the re-forecast on a past day), else the first forecast day with open intervals.
    Suggested time: the start of the middle open interval of that day. ``has_stored_actuals`` tells the form
    whether the stored volumes can serve at all.
    """
    if view.run["freq"] == "1D":
        return None
    fc = view.forecast
    first = pd.Timestamp(view.run["forecast_start"]).date()
    last = pd.Timestamp(view.run["forecast_end"]).date()
    open_ds = fc.loc[fc["is_open"].astype(bool), "ds"]
    open_days = sorted(set(open_ds.dt.date))
    hist = view.history
    stored = set(hist.loc[hist["ds"] >= pd.Timestamp(view.run["forecast_start"]), "ds"].dt.date) if len(hist) else set()
    with_actuals = [d for d in open_days if d in stored]
    suggested = with_actuals[-1] if with_actuals else (open_days[0] if open_days else first)
    slots = sorted(open_ds[open_ds.dt.date == suggested])
    mid = pd.Timestamp(slots[len(slots) // 2]) if len(slots) > 1 else pd.Timestamp(suggested) + pd.Timedelta(hours=12)
    try:
        step = int(pd.Timedelta(view.run["freq"]).total_seconds())
    except ValueError:
        step = 3600
    return IntradayDefaults(first, last, suggested, mid.time(), max(60, step), bool(with_actuals))


def intraday_reforecast(app: AppContext, actor: Actor, series_id: str, *, day: date,
                        now: datetime | pd.Timestamp | Any, actuals: pd.DataFrame | str | bytes | None = None,
                        run_id: int | None = None) -> IntradayView:
    """Re-forecast the rest of ``day`` from that day's actuals before ``now`` (planner; reads only, stores nothing).

    ``actuals``: None = the stored workload of that day (a past day, or today once an admin uploaded it); a frame
    ``ds, y`` or the typed / uploaded text of :func:`parse_partial_day`. ``now`` is a time of day or a timestamp on
    ``day``; intervals starting before it are "so far", the others are re-forecast. ``run_id``: the stored forecast
    to update (must cover ``day``); None = the series' current forecast if it covers the day, else the newest that
    does. The factor is :func:`src.models.forecasting.reforecast_intraday`'s: the ratio actual / forecast so far,
    shrunk toward 1 by the share of the day's forecast volume already seen, clipped to [0.5, 2].
    """
    require_role(actor, "planner", "admin")
    from src.models.forecasting import reforecast_intraday

    info = resolve_series(app, series_id)
    if info is None:
        raise ServiceError(f"No stored history for series {series_id!r}.")
    if info.kind != "workload":
        raise ServiceError(f"{info.label} is a daily series; an intraday re-forecast needs intervals within the day.")
    if not isinstance(day, date):
        raise ServiceError("Choose the day to re-forecast.")
    day = day.date() if isinstance(day, datetime) else day
    day_start = pd.Timestamp(day)
    day_end = day_start + pd.Timedelta(days=1)
    if isinstance(now, datetime | pd.Timestamp):
        now_ts = pd.Timestamp(now)
        if now_ts.tzinfo is not None:
            now_ts = now_ts.tz_localize(None)
        if now_ts.normalize() != day_start:
            raise ServiceError(f"'Now' ({now_ts:%Y-%m-%d %H:%M}) must be on the chosen day {day:%Y-%m-%d}.")
    elif hasattr(now, "hour") and hasattr(now, "minute"):
        now_ts = day_start + pd.Timedelta(hours=now.hour, minutes=now.minute)
    else:
        raise ServiceError("Choose the time of day up to which actuals are known.")

    if run_id is not None:
        run = fstore.get_run(app.engine, int(run_id))
        if run is None or run["series_id"] != info.series_id:
            raise ServiceError(f"Forecast run {run_id} does not exist for {info.label}.")
        if not _covers(run, day):
            raise ServiceError(f"Forecast run #{run_id} covers {pd.Timestamp(run['forecast_start']):%Y-%m-%d} → "
                               f"{pd.Timestamp(run['forecast_end']):%Y-%m-%d}, not {day:%Y-%m-%d}. Choose a day in "
                               "that period or train a forecast that covers it.")
    else:
        cur = current_run(app, info.series_id)
        run = cur if cur is not None and _covers(cur, day) else next(
            (r for r in fstore.list_runs(app.engine, series_id=info.series_id) if _covers(r, day)), None)
        if run is None:
            raise ServiceError(f"No stored forecast of {info.label} covers {day:%Y-%m-%d}. Train one first (for a "
                               "past day: 'Train on history up to' the day before).")
    if run["freq"] == "1D":
        raise ServiceError(f"Forecast run #{run['id']} is daily; an intraday re-forecast needs intervals within "
                           "the day.")
    rows = fstore.load_rows(app.engine, int(run["id"]))
    today = rows[(rows["ds"] >= day_start) & (rows["ds"] < day_end)].reset_index(drop=True)
    if today.empty:
        raise ServiceError(f"Forecast run #{run['id']} has no intervals on {day:%Y-%m-%d}.")
    open_today = today[today["is_open"]]
    if open_today.empty:
        raise ServiceError(f"{day:%a %Y-%m-%d} is closed in the forecast (no open intervals): nothing to re-forecast.")
    if now_ts <= open_today["ds"].min():
        raise ServiceError(f"Nothing has happened yet before {now_ts:%H:%M}: the first open interval starts at "
                           f"{open_today['ds'].min():%H:%M}. Choose a later time.")
    if now_ts > open_today["ds"].max():
        raise ServiceError(f"The last open interval starts at {open_today['ds'].max():%H:%M}; choose an earlier "
                           "time so that some of the day is left to re-forecast.")

    notes: list[str] = []
    stored = fstore.load_series_history(app.engine, info, start=day_start.to_pydatetime(),
                                        end=(day_end - pd.Timedelta(microseconds=1)).to_pydatetime())
    if actuals is None:
        source = "stored"
        given = stored[stored["ds"] < now_ts]
        if given.empty:
            raise ServiceError(f"No stored actuals for {info.label} on {day:%Y-%m-%d} before {now_ts:%H:%M}. Choose "
                               "a day whose volumes are stored, or type today's volumes so far.")
    else:
        source = "entered"
        if isinstance(actuals, str | bytes):
            given = parse_partial_day(actuals, day)
        else:
            if not {"ds", "y"} <= set(actuals.columns):
                raise ServiceError("Today's actuals need columns ds and y.")
            given = actuals[["ds", "y"]].assign(ds=lambda f: pd.to_datetime(f["ds"]), y=lambda f: f["y"].astype(float))
        late = given[given["ds"] >= now_ts]
        if len(late):
            raise ServiceError(f"{len(late)} entered interval(s) start at or after 'now' ({now_ts:%H:%M}), e.g. "
                               f"{late['ds'].iloc[0]:%H:%M}. Move 'now' later or remove them.")
        off = given[~given["ds"].isin(today["ds"])]
        if len(off):
            raise ServiceError(f"{len(off)} entered time(s) are not on the forecast's {run['freq']} grid, e.g. "
                               f"{off['ds'].iloc[0]:%H:%M}. Enter one value per interval start.")
    closed = given[given["ds"].isin(today.loc[~today["is_open"], "ds"])]
    if len(closed):
        notes.append(f"{len(closed)} interval(s) with actuals are closed in the forecast (e.g. "
                     f"{closed['ds'].iloc[0]:%H:%M}); they are not counted.")
        given = given[~given["ds"].isin(closed["ds"])]
    missing = open_today[(open_today["ds"] < now_ts) & ~open_today["ds"].isin(given["ds"])]
    if len(missing):
        notes.append(f"{len(missing)} open interval(s) before {now_ts:%H:%M} have no actual (e.g. "
                     f"{missing['ds'].iloc[0]:%H:%M}); the factor uses the intervals that have one.")
    if given.empty:
        raise ServiceError(f"None of the actuals fall into an open interval of the forecast before {now_ts:%H:%M}.")

    value_cols = ["yhat", *[f"yhat_{s}_{lv}" for lv in LEVELS for s in ("lower", "upper")]]
    base = today[["ds", "is_open", *value_cols]]
    updated = reforecast_intraday(base, given[["ds", "y"]], now_ts)
    factor = float(updated.loc[updated["reforecast"], "factor"].iloc[0]) if updated["reforecast"].any() else 1.0
    frame = base.copy()
    frame["elapsed"] = frame["ds"] < now_ts
    actual = given.set_index("ds")["y"]
    if source == "stored":
        actual = stored.set_index("ds")["y"]  # incl. the rest of the day when it is already stored (past days)
    frame["actual"] = frame["ds"].map(actual).astype(float)
    for col in value_cols:
        frame[col.replace("yhat", "reforecast", 1)] = updated[col].to_numpy()
    seen = frame[frame["elapsed"] & frame["actual"].notna() & frame["is_open"]]
    rest = frame[~frame["elapsed"]]
    view = IntradayView(
        series_id=info.series_id, label=info.label, run_id=int(run["id"]), model=str(run["model"]),
        freq=str(run["freq"]), day=day, now=now_ts, source=source, frame=frame, factor=factor,
        actual_so_far=float(seen["actual"].sum()), forecast_so_far=float(seen["yhat"].sum()),
        share_seen=min(1.0, float(seen["yhat"].sum()) / max(float(frame["yhat"].sum()), 1e-9)),
        rest_original=float(rest["yhat"].sum()), rest_reforecast=float(rest["reforecast"].sum()), notes=notes)
    scored = rest[rest["actual"].notna() & rest["is_open"]] if source == "stored" else rest.iloc[0:0]
    if len(scored) and len(scored) == int(rest["is_open"].sum()):
        view.rest_actual = float(scored["actual"].sum())
        view.rest_mae_original = float((scored["actual"] - scored["yhat"]).abs().mean())
        view.rest_mae_reforecast = float((scored["actual"] - scored["reforecast"]).abs().mean())
    log.info("intraday re-forecast %s %s now=%s factor=%.3f (%s actuals) by %s", info.series_id, day, now_ts,
             factor, source, actor.username)
    return view


def export_intraday(app: AppContext, actor: Actor, view: IntradayView) -> bytes:
    """CSV of the day: interval, actual so far, original forecast and re-forecast with both intervals."""
    require_role(actor, "planner", "admin")
    f = view.frame
    out = pd.DataFrame({"series": view.label, "ds": f["ds"], "open": f["is_open"],
                        "actual": f["actual"].where(f["elapsed"]).round(3), "forecast": f["yhat"].round(3)})
    for lv in LEVELS:
        out[f"forecast_lower_{lv}"] = f[f"yhat_lower_{lv}"].round(3)
        out[f"forecast_upper_{lv}"] = f[f"yhat_upper_{lv}"].round(3)
    out["reforecast"] = f["reforecast"].round(3)
    for lv in LEVELS:
        out[f"reforecast_lower_{lv}"] = f[f"reforecast_lower_{lv}"].round(3)
        out[f"reforecast_upper_{lv}"] = f[f"reforecast_upper_{lv}"].round(3)
    out["factor"] = [view.factor if not e else 1.0 for e in f["elapsed"]]
    out["forecast_run"] = view.run_id
    return export.to_csv_bytes(out)
