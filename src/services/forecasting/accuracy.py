"""Accuracy tracking: stored forecasts against the actuals that arrived since, drift against the backtest, and
alerts (high uncertainty, actuals outside the 95% interval, demand above the known capacity).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from src.data import forecast_store as fstore
from src.data import store
from src.data.forecast_store import LEVELS, SeriesInfo
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import DRIFT_FACTOR, HIGH_UNCERTAINTY, HIGH_UNCERTAINTY_LEVEL
from .runs import _flag_uncertainty, current_run


@dataclass
class AccuracyReport:
    """Live accuracy of stored forecasts against the actuals that arrived since."""

    per_series: pd.DataFrame  # one row per series: live vs backtest metrics, drift flag and message
    pairs: pd.DataFrame  # series_id, label, ds, yhat, bounds, y, outside_95
    heatmap: pd.DataFrame  # row, column, mape (site×unit for care, queue×weekday for contact centre)
    alerts: pd.DataFrame  # series, when, kind, message
    kind: str


def _live_metrics(pairs: pd.DataFrame) -> dict[str, float]:
    from src.models.forecasting import metrics as M

    y, f = pairs["y"].to_numpy(float), pairs["yhat"].to_numpy(float)
    out = {"n": int(np.isfinite(y).sum()), "mae": M.mae(y, f), "mape": M.mape(y, f), "wape": M.wape(y, f)}
    for lv in LEVELS:
        out[f"coverage_{lv}"] = M.coverage(y, pairs[f"yhat_lower_{lv}"].to_numpy(float),
                                           pairs[f"yhat_upper_{lv}"].to_numpy(float))
    return out


def _drift(live: dict[str, float], backtest: dict[str, Any]) -> tuple[bool, str]:
    bt_mae = backtest.get("mae")
    msgs = []
    drift = False
    if bt_mae is not None and np.isfinite(live["mae"]) and float(bt_mae) > 0 and \
            live["mae"] > DRIFT_FACTOR * float(bt_mae):
        drift = True
        msgs.append(f"accuracy much worse than in backtest (MAE {live['mae']:.2f} vs {float(bt_mae):.2f}) — "
                    "retrain recommended")
    cov95 = live.get("coverage_95")
    if cov95 is not None and np.isfinite(cov95) and live["n"] >= 10 and cov95 < 80:
        drift = True
        msgs.append(f"only {cov95:.0f}% of actuals inside the 95% interval — retrain recommended")
    return drift, "; ".join(msgs) or "in line with the backtest"


def _capacity(app: AppContext, info: SeriesInfo, history: pd.DataFrame) -> tuple[float | None, str]:
    """Known capacity of a series: staff contract hours for a care site total, else the highest volume handled."""
    if info.kind == "unit_shifts" and not info.unit:
        staff = store.load_frame(app.engine, "staff", where={"site": info.site})
        if len(staff):
            per_day = float(staff["contract_hours"].sum()) / 8.0 / 7.0
            return per_day, f"{len(staff)} staff × contract hours ≈ {per_day:.0f} shifts/day"
    if len(history):
        peak = float(history["y"].max())
        return peak, f"highest volume handled so far ({peak:.0f})"
    return None, ""


def accuracy_report(app: AppContext, actor: Actor, kind: str = "workload") -> AccuracyReport:
    """Predicted vs actual for every series of ``kind`` with stored forecasts, plus drift and capacity alerts.

    Per series the newest run whose forecast period already has actuals is scored (or the newest run if none
    has). Alerts: high-uncertainty days of current forecasts, actuals outside the 95% interval, and forecast
    demand above the known capacity.
    """
    require_role(actor, "planner", "admin")
    if kind not in fstore.SERIES_KINDS:
        raise ServiceError(f"Unknown series kind {kind!r}.")
    catalogue = {s.series_id: s for s in fstore.series_catalogue(app.engine) if s.kind == kind}
    runs = [r for r in fstore.list_runs(app.engine, series_ids=list(catalogue), limit=5000)]
    per_series, pair_frames, alerts = [], [], []
    by_series: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by_series.setdefault(r["series_id"], []).append(r)
    for sid, sruns in sorted(by_series.items()):
        info = catalogue[sid]
        last_actual = pd.Timestamp(info.last) if info.last is not None else None
        scored = next((r for r in sruns
                       if last_actual is not None and pd.Timestamp(r["forecast_start"]) <= last_actual), None)
        current = current_run(app, sid) or sruns[0]
        hist_start = pd.Timestamp(min(pd.Timestamp(r["forecast_start"]) for r in sruns)) - pd.Timedelta(days=120)
        history = fstore.load_series_history(app.engine, info, start=hist_start.to_pydatetime())
        row: dict[str, Any] = {"series_id": sid, "series": info.label, "model": current["model"],
                               "version": current["model_version_id"], "trained": current["created_at"],
                               "backtest_mae": current["metrics"].get("mae"),
                               "backtest_mape": current["metrics"].get("mape"),
                               "backtest_coverage_80": current["metrics"].get("coverage_80"),
                               "backtest_coverage_95": current["metrics"].get("coverage_95")}
        if scored is not None:
            rows = fstore.load_rows(app.engine, int(scored["id"]))
            merged = rows.merge(history.rename(columns={"y": "y"}), on="ds", how="inner")
            merged = merged[merged["is_open"] | (merged["y"] > 0)]
            if len(merged):
                live = _live_metrics(merged)
                drift, msg = _drift(live, scored["metrics"])
                row.update({"scored_run": int(scored["id"]), "scored_model": scored["model"], "live_n": live["n"],
                            "live_mae": live["mae"], "live_mape": live["mape"], "live_wape": live["wape"],
                            "live_coverage_80": live["coverage_80"], "live_coverage_95": live["coverage_95"],
                            "backtest_mae": scored["metrics"].get("mae"),
                            "backtest_mape": scored["metrics"].get("mape"),
                            "drift": drift, "status": msg})
                merged = merged.assign(series_id=sid, series=info.label,
                                       outside_95=(merged["y"] < merged["yhat_lower_95"])
                                       | (merged["y"] > merged["yhat_upper_95"]))
                pair_frames.append(merged[["series_id", "series", "ds", "yhat", *[f"yhat_{s}_{lv}" for lv in LEVELS
                                                                                for s in ("lower", "upper")],
                                           "y", "outside_95"]])
                out = merged[merged["outside_95"]]
                if len(out):
                    worst = out.assign(gap=(out["y"] - out["yhat"]).abs()).sort_values("gap", ascending=False).iloc[0]
                    alerts.append({"series": info.label, "when": worst["ds"], "alert": "actual outside 95% interval",
                                   "detail": f"{len(out)} of {len(merged)} actuals outside the 95% interval; worst "
                                             f"{worst['ds']:%Y-%m-%d %H:%M}: actual {worst['y']:.0f} vs forecast "
                                             f"{worst['yhat']:.1f} [{worst['yhat_lower_95']:.1f}–"
                                             f"{worst['yhat_upper_95']:.1f}]"})
                if drift:
                    alerts.append({"series": info.label, "when": merged["ds"].max(), "alert": "drift", "detail": msg})
        if "status" not in row:
            row.update({"live_n": 0, "drift": False, "status": "no actuals yet for the forecast period"})
        per_series.append(row)
        # alerts on the current forecast: high uncertainty and demand above capacity
        cur = _flag_uncertainty(fstore.load_rows(app.engine, int(current["id"])))
        unc = cur[cur["high_uncertainty"]]
        if len(unc):
            days = unc["ds"].dt.normalize().value_counts().sort_index()
            alerts.append({"series": info.label, "when": days.index[0], "alert": "high uncertainty",
                           "detail": f"{len(days)} day(s) with {HIGH_UNCERTAINTY_LEVEL}% intervals wider than "
                                     f"{HIGH_UNCERTAINTY:.0%} of the "
                                     f"forecast, e.g. " + ", ".join(f"{d:%a %d %b}" for d in days.index[:5])})
        cap, cap_text = _capacity(app, info, history)
        if cap is not None:
            over = cur[cur["yhat"] > cap]
            if len(over):
                unit = "day(s)" if current["freq"] == "1D" else "interval(s)"  # a care home said "28 interval(s)"
                detail = (f"{len(over)} {unit} forecast above the known capacity: {cap_text}; peak forecast "
                          f"{over['yhat'].max():.1f}")
                worked = float(history["y"].max()) if len(history) else float("nan")
                if math.isfinite(worked) and worked > cap * 1.1:
                    # the staff list cannot explain what was already worked: say so, or the alert reads as if
                    # every day of the forecast were impossible to staff
                    detail += (f". Up to {worked:.0f} were already worked on one day, so the staff list probably "
                               "does not hold everyone who works there")
                alerts.append({"series": info.label, "when": over["ds"].iloc[0], "alert": "demand above capacity",
                               "detail": detail})
    pairs = pd.concat(pair_frames, ignore_index=True) if pair_frames else pd.DataFrame(
        columns=["series_id", "series", "ds", "yhat", "y", "outside_95"])
    heat = _heatmap(pairs, catalogue, kind)
    per_df = pd.DataFrame(per_series)
    alert_df = pd.DataFrame(alerts, columns=["series", "when", "alert", "detail"])
    return AccuracyReport(per_series=per_df, pairs=pairs, heatmap=heat, alerts=alert_df, kind=kind)


def _heatmap(pairs: pd.DataFrame, catalogue: dict[str, SeriesInfo], kind: str) -> pd.DataFrame:
    from src.models.forecasting import metrics as M

    if pairs.empty:
        return pd.DataFrame(columns=["row", "column", "mape"])
    out = []
    if kind == "workload":
        p = pairs.assign(weekday=pairs["ds"].dt.day_name().str[:3])
        for (sid, wd), g in p.groupby(["series_id", "weekday"]):
            out.append({"row": catalogue[sid].queue, "column": wd, "mape": M.mape(g["y"], g["yhat"])})
        order = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        df = pd.DataFrame(out)
        df["column"] = pd.Categorical(df["column"], categories=order, ordered=True)
        return df.sort_values(["row", "column"]).reset_index(drop=True)
    for sid, g in pairs.groupby("series_id"):
        info = catalogue[sid]
        out.append({"row": info.site, "column": info.unit or "(all units)", "mape": M.mape(g["y"], g["yhat"])})
    return pd.DataFrame(out)
