"""Stored forecasts: one row per training run and series, and its forecast rows.

Why a store module of its own: a forecast is what the Staffing page plans from and what the accuracy page
compares with the actuals that arrive later, so it must be readable exactly as it was produced — the model
and registry version, the backtest of every compared model (as JSON), the measured interval coverage, the
reason the model was chosen, and per timestamp the point forecast, the 80/95% bounds and Prophet's
components. Rows are unique on (series, ds, model version); a run is inserted with all its rows and its
audit event in the caller's one write transaction (:func:`insert_run`).

Also here: the *series catalogue* — which forecastable series the stored history holds (contact-centre
queue[/site] at its native interval, care-home unit and site totals per day) — and the loaders that turn
stored history into the engine's ``ds, y`` frames, because both are plain queries on the store's tables.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
)

from src.data import db

log = logging.getLogger(__name__)

#: interval levels the product stores (the engine can do others; the pages and staffing use these)
LEVELS: tuple[int, ...] = (80, 95)
COMPONENTS: tuple[str, ...] = ("trend", "daily", "weekly", "yearly", "holidays")
SERIES_KINDS: tuple[str, ...] = ("workload", "unit_shifts")

forecast_runs = Table(
    "forecast_runs", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series_id", String(300), nullable=False),
    Column("series_kind", String(16), nullable=False),
    Column("label", String(300), nullable=False),
    Column("model", String(32), nullable=False),
    Column("model_version_id", String(64), nullable=False),
    Column("freq", String(16), nullable=False),
    Column("horizon", Integer, nullable=False),
    Column("history_start", DateTime, nullable=True),
    Column("history_end", DateTime, nullable=False),
    Column("forecast_start", DateTime, nullable=False),
    Column("forecast_end", DateTime, nullable=False),
    Column("params_json", Text, nullable=False),
    Column("metrics_json", Text, nullable=False),
    Column("backtest_json", Text, nullable=False),
    Column("coverage_json", Text, nullable=False),
    Column("diagnostics_json", Text, nullable=False, default="{}"),
    Column("reason", Text, nullable=False),
    Column("seconds", Float, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("model_version_id", name="uq_forecast_runs_version"),
    CheckConstraint("horizon >= 1", name="ck_forecast_runs_horizon"),
    CheckConstraint("series_kind IN ('workload', 'unit_shifts')", name="ck_forecast_runs_kind"),
    Index("ix_forecast_runs_series", "series_id", "created_at"),
)

forecast_rows = Table(
    "forecast_rows", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("forecast_runs.id", ondelete="CASCADE"), nullable=False),
    Column("series_id", String(300), nullable=False),
    Column("model_version_id", String(64), nullable=False),
    Column("ds", DateTime, nullable=False),
    Column("yhat", Float, nullable=False),
    Column("yhat_lower_80", Float, nullable=True),
    Column("yhat_upper_80", Float, nullable=True),
    Column("yhat_lower_95", Float, nullable=True),
    Column("yhat_upper_95", Float, nullable=True),
    Column("is_open", Boolean, nullable=False, default=True),
    Column("trend", Float, nullable=True),
    Column("daily", Float, nullable=True),
    Column("weekly", Float, nullable=True),
    Column("yearly", Float, nullable=True),
    Column("holidays", Float, nullable=True),
    UniqueConstraint("series_id", "ds", "model_version_id", name="uq_forecast_rows_key"),
    CheckConstraint("yhat >= 0", name="ck_forecast_rows_yhat"),
    Index("ix_forecast_rows_run", "run_id", "ds"),
)

_RUN_JSON = ("params_json", "metrics_json", "backtest_json", "coverage_json", "diagnostics_json")


# --------------------------------------------------------------------------------------------- series

@dataclass(frozen=True)
class SeriesInfo:
    """One forecastable series of the stored history."""

    series_id: str
    kind: str  # workload | unit_shifts
    label: str
    queue: str  # the name the Staffing page plans by (queue; care: "site / unit" or the site)
    site: str
    unit: str
    rows: int
    first: datetime | None
    last: datetime | None


def workload_series_id(queue: str, site: str) -> str:
    return f"workload:{queue}@{site}" if site else f"workload:{queue}"


def care_series_id(site: str, unit: str | None) -> str:
    return f"care:{site}/{unit}" if unit else f"care:{site}"


def series_catalogue(engine: Engine) -> list[SeriesInfo]:
    """Every forecastable series: workload per queue[/site], care homes per unit and per site total."""
    w, u = db.workload, db.unit_shifts
    out: list[SeriesInfo] = []
    with db.read_conn(engine) as conn:
        rows = conn.execute(select(w.c.queue, w.c.site, func.count(), func.min(w.c.timestamp), func.max(w.c.timestamp))
                            .group_by(w.c.queue, w.c.site).order_by(w.c.site, w.c.queue)).all()
        for queue, site, n, first, last in rows:
            site = site or ""
            out.append(SeriesInfo(workload_series_id(queue, site), "workload",
                                  f"{queue} · {site}" if site else str(queue), str(queue), site, "", int(n),
                                  first, last))
        units = conn.execute(select(u.c.site, u.c.unit, func.count(), func.min(u.c.date), func.max(u.c.date))
                             .group_by(u.c.site, u.c.unit).order_by(u.c.site, u.c.unit)).all()
    sites: dict[str, list[Any]] = {}
    for site, unit, n, first, last in units:
        out.append(SeriesInfo(care_series_id(site, unit), "unit_shifts", f"{site} / {unit}", f"{site} / {unit}",
                              str(site), str(unit), int(n), first, last))
        agg = sites.setdefault(site, [0, first, last])
        agg[0] += int(n)
        agg[1] = min(agg[1], first)
        agg[2] = max(agg[2], last)
    for site, (n, first, last) in sorted(sites.items()):
        out.append(SeriesInfo(care_series_id(site, None), "unit_shifts", f"{site} (all units)", str(site),
                              str(site), "", n, first, last))
    return out


def load_series_history(engine: Engine, info: SeriesInfo, *, start: datetime | None = None,
                        end: datetime | None = None) -> pd.DataFrame:
    """The stored history of one series as ``ds, y`` (float), sorted; care-home site totals summed per day."""
    if info.kind == "workload":
        t = db.workload
        q = select(t.c.timestamp.label("ds"), t.c.volume.label("y")).where(t.c.queue == info.queue,
                                                                          t.c.site == info.site)
        tcol = t.c.timestamp
    else:
        t = db.unit_shifts
        q = select(t.c.date.label("ds"), func.sum(t.c.shifts).label("y")).where(t.c.site == info.site)
        if info.unit:
            q = q.where(t.c.unit == info.unit)
        q = q.group_by(t.c.date)
        tcol = t.c.date
    if start is not None:
        q = q.where(tcol >= start)
    if end is not None:
        q = q.where(tcol <= end)
    q = q.order_by(tcol)
    with db.read_conn(engine) as conn:
        rows = conn.execute(q).all()
    frame = pd.DataFrame(rows, columns=["ds", "y"])
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame["y"] = frame["y"].astype(float)
    return frame


# ---------------------------------------------------------------------------------------------- runs

def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) or math.isinf(f) else f


def _json(obj: Any) -> str:
    def clean(o: Any) -> Any:
        if isinstance(o, dict):
            return {str(k): clean(v) for k, v in o.items()}
        if isinstance(o, list | tuple):
            return [clean(v) for v in o]
        if isinstance(o, np.generic):
            o = o.item()
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, pd.Timestamp | datetime):
            return o.isoformat()
        return o

    return json.dumps(clean(obj), ensure_ascii=False, sort_keys=True, allow_nan=False)


def insert_run(conn: Connection, *, run: dict[str, Any], forecast: pd.DataFrame,
               components: pd.DataFrame | None) -> int:
    """Insert one run row and all its forecast rows inside the caller's transaction; return the run id.

    ``run`` holds the ``forecast_runs`` columns, with the ``*_json`` values as Python objects.
    ``forecast`` has ``ds, yhat, yhat_lower_80 … yhat_upper_95, is_open``; ``components`` (optional)
    ``ds`` + :data:`COMPONENTS`.
    """
    values = dict(run)
    for key in _RUN_JSON:
        values[key] = _json(values.get(key) or {})
    values.setdefault("created_at", db.utcnow())
    run_id = conn.execute(insert(forecast_runs).values(**values).returning(forecast_runs.c.id)).scalar_one()
    frame = forecast.copy()
    if components is not None and len(components):
        comp = components[["ds", *COMPONENTS]]
        frame = frame.merge(comp, on="ds", how="left")
    records = []
    for rec in frame.to_dict("records"):
        out = {"run_id": run_id, "series_id": run["series_id"], "model_version_id": run["model_version_id"],
               "ds": pd.Timestamp(rec["ds"]).to_pydatetime(), "yhat": max(0.0, _num(rec["yhat"]) or 0.0),
               "is_open": bool(rec.get("is_open", True))}
        for lv in LEVELS:
            for side in ("lower", "upper"):
                col = f"yhat_{side}_{lv}"
                out[col] = _num(rec.get(col))
        for c in COMPONENTS:
            out[c] = _num(rec.get(c))
        records.append(out)
    for i in range(0, len(records), 5000):
        conn.execute(insert(forecast_rows), records[i:i + 5000])
    return int(run_id)


def _decode_run(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _RUN_JSON:
        if key in out:
            try:
                out[key[:-5]] = json.loads(out.pop(key) or "{}")
            except json.JSONDecodeError:
                out[key[:-5]] = {}
    return out


def list_runs(engine: Engine, *, series_id: str | None = None, series_ids: list[str] | None = None,
              limit: int = 500) -> list[dict[str, Any]]:
    """Runs, newest first, with decoded JSON (``params``, ``metrics``, ``backtest``, ``coverage``, ``diagnostics``)."""
    t = forecast_runs
    q = select(t).order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit)
    if series_id is not None:
        q = q.where(t.c.series_id == series_id)
    if series_ids is not None:
        q = q.where(t.c.series_id.in_(list(series_ids)))
    with db.read_conn(engine) as conn:
        return [_decode_run(dict(r)) for r in conn.execute(q).mappings()]


def get_run(engine: Engine, run_id: int) -> dict[str, Any] | None:
    with db.read_conn(engine) as conn:
        row = conn.execute(select(forecast_runs).where(forecast_runs.c.id == int(run_id))).mappings().first()
    return _decode_run(dict(row)) if row else None


def latest_run_for_version(engine: Engine, version_id: str) -> dict[str, Any] | None:
    t = forecast_runs
    with db.read_conn(engine) as conn:
        row = conn.execute(select(t).where(t.c.model_version_id == version_id)
                           .order_by(t.c.created_at.desc(), t.c.id.desc()).limit(1)).mappings().first()
    return _decode_run(dict(row)) if row else None


def load_rows(engine: Engine, run_ids: list[int] | int) -> pd.DataFrame:
    """Forecast rows of one or several runs, ordered by run and ds."""
    ids = [int(run_ids)] if isinstance(run_ids, int | np.integer) else [int(i) for i in run_ids]
    t = forecast_rows
    cols = [t.c.run_id, t.c.series_id, t.c.model_version_id, t.c.ds, t.c.yhat,
            *[t.c[f"yhat_{s}_{lv}"] for lv in LEVELS for s in ("lower", "upper")], t.c.is_open,
            *[t.c[c] for c in COMPONENTS]]
    frames = []
    with db.read_conn(engine) as conn:
        for i in range(0, len(ids), 200):
            rows = conn.execute(select(*cols).where(t.c.run_id.in_(ids[i:i + 200]))
                                .order_by(t.c.run_id, t.c.ds)).all()
            frames.append(pd.DataFrame(rows, columns=[c.name for c in cols]))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[c.name for c in cols])
    out["ds"] = pd.to_datetime(out["ds"])
    num = [c.name for c in cols if c.name not in ("run_id", "series_id", "model_version_id", "ds", "is_open")]
    out[num] = out[num].astype(float)
    out["is_open"] = out["is_open"].astype(bool)
    return out


def count_rows(engine: Engine, run_id: int | None = None) -> int:
    q = select(func.count()).select_from(forecast_rows)
    if run_id is not None:
        q = q.where(forecast_rows.c.run_id == int(run_id))
    with db.read_conn(engine) as conn:
        return int(conn.execute(q).scalar() or 0)
