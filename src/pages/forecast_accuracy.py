"""Forecast accuracy (planner): stored forecasts vs the actuals that arrived, drift, alerts, model versions.

Admins can activate a model version or roll a series back to its previous active version.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from src.services import forecasting as svc
from src.services.context import PermissionDenied, ServiceError
from src.ui import charts_forecast, state
from src.ui.common import app_context, require_page_role

actor = require_page_role("planner", "admin")
app = app_context()

KIND_LABELS = {"workload": "Contact centre (queues)", "unit_shifts": "Care homes (units)"}


def _admin_action(fn, arg: str) -> None:
    """Button callback: run an admin registry action and keep its message for this run."""
    try:
        state.put("fa_message", ("success", fn(app, actor, arg)))
    except (ServiceError, PermissionDenied) as exc:
        state.put("fa_message", ("error", str(exc)))


st.title("Forecast accuracy")
st.caption("How the stored forecasts did once the actuals arrived: live MAE / MAPE / interval coverage per series "
           "against the backtest, where the model struggles, and alerts to act on.")

kind = st.radio("History", list(KIND_LABELS), format_func=KIND_LABELS.get, horizontal=True, key=state.key("fa_kind"))
report = svc.accuracy_report(app, actor, kind)

msg = state.pop("fa_message")
if msg:
    (st.success if msg[0] == "success" else st.error)(msg[1])

if report.per_series.empty:
    st.info("No forecast is stored for this kind of history yet. Train one on the **Forecast** page — set "
            "*Train on history up to* to an earlier date to check its accuracy here right away.")
    st.stop()

per = report.per_series
scored = per[per["live_n"] > 0]
k1, k2, k3, k4 = st.columns(4)
k1.metric("Series with forecasts", len(per))
k2.metric("With actuals to compare", len(scored))
k3.metric("Retrain recommended", int(per["drift"].sum()))
k4.metric("Alerts", len(report.alerts))

for row in per[per["drift"]].itertuples():
    st.warning(f"**{row.series}**: {row.status}.")

st.subheader("Alerts")
if len(report.alerts):
    st.dataframe(report.alerts, hide_index=True, width="stretch", column_config={
        "when": st.column_config.DatetimeColumn("first affected", format="YYYY-MM-DD HH:mm"),
        "detail": st.column_config.TextColumn("detail", width="large")})
else:
    st.success("No alerts: no high-uncertainty days, no actuals outside the 95% interval, no demand above capacity.")

st.subheader("Live accuracy per series")
cols = [c for c in ["series", "scored_model", "live_n", "live_mae", "backtest_mae", "live_mape", "backtest_mape",
                    "live_coverage_80", "live_coverage_95", "drift", "status"] if c in per]
st.dataframe(per[cols], hide_index=True, width="stretch", column_config={
    "scored_model": "model scored", "live_n": st.column_config.NumberColumn("actuals", format="%d"),
    "live_mae": st.column_config.NumberColumn("MAE live", format="%.2f"),
    "backtest_mae": st.column_config.NumberColumn("MAE backtest", format="%.2f"),
    "live_mape": st.column_config.NumberColumn("MAPE live %", format="%.1f"),
    "backtest_mape": st.column_config.NumberColumn("MAPE backtest %", format="%.1f"),
    "live_coverage_80": st.column_config.NumberColumn("cov 80 % live", format="%.0f"),
    "live_coverage_95": st.column_config.NumberColumn("cov 95 % live", format="%.0f"),
    "drift": st.column_config.CheckboxColumn("retrain?"),
    "status": st.column_config.TextColumn("status", width="large")})

if len(report.heatmap):
    if kind == "workload":
        fig = charts_forecast.mape_heatmap(report.heatmap, "MAPE by queue × weekday", "weekday", "queue")
    else:
        fig = charts_forecast.mape_heatmap(report.heatmap, "MAPE by care home × unit", "unit", "care home")
    st.plotly_chart(fig, width="stretch")

if len(report.pairs):
    st.subheader("Predicted vs actual")
    names = list(dict.fromkeys(report.pairs["series"]))
    pick = st.selectbox("Series", names, key=state.key("fa_series"))
    pairs = report.pairs[report.pairs["series"] == pick]
    st.plotly_chart(charts_forecast.accuracy_chart(pairs, f"{pick}: forecast vs actual"), width="stretch")

st.subheader("Model versions")
versions = svc.list_versions(app, actor)
versions = versions[versions["series_id"].isin(set(per["series_id"]))]
st.dataframe(versions.drop(columns=["series_id"]), hide_index=True, width="stretch", column_config={
    "active": st.column_config.CheckboxColumn("active"),
    "created_at": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
    "mase": st.column_config.NumberColumn("MASE", format="%.3f"),
    "wape": st.column_config.NumberColumn("WAPE %", format="%.1f"),
    "mape": st.column_config.NumberColumn("MAPE %", format="%.1f"),
    "coverage_80": st.column_config.NumberColumn("cov 80 %", format="%.0f"),
    "coverage_95": st.column_config.NumberColumn("cov 95 %", format="%.0f")})

if actor.is_admin and len(versions):
    st.markdown("**Manage versions** (admin)")
    a1, a2, a3 = st.columns(3)
    labels = {r.version: f"{r.series} · {r.model} · {pd.Timestamp(r.created_at):%Y-%m-%d %H:%M}"
              + (" (active)" if r.active else "") for r in versions.itertuples()}
    inactive = [v for v in versions["version"] if not versions.set_index("version").loc[v, "active"]]
    with a1:
        to_activate = st.selectbox("Activate version", inactive or [None], format_func=lambda v: labels.get(v, "—"),
                                   key=state.key("fa_activate"))
        st.button("Activate", key=state.key("fa_activate_btn"), disabled=to_activate is None,
                  on_click=_admin_action, args=(svc.activate_version, to_activate))
    with a2:
        series_ids = list(dict.fromkeys(versions["series_id"]))
        series_label = dict(zip(versions["series_id"], versions["series"], strict=False))
        to_rollback = st.selectbox("Roll back series", series_ids, format_func=series_label.get,
                                   key=state.key("fa_rollback"))
        st.button("Roll back to previous active", key=state.key("fa_rollback_btn"), on_click=_admin_action,
                  args=(svc.rollback_version, to_rollback))
    with a3:
        to_delete = st.selectbox("Delete version", inactive or [None], format_func=lambda v: labels.get(v, "—"),
                                 key=state.key("fa_delete"))
        st.button("Delete", key=state.key("fa_delete_btn"), disabled=to_delete is None, on_click=_admin_action,
                  args=(svc.delete_version, to_delete))
