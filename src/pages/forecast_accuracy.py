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
from src.ui.dates import DATETIME_COLUMN_FORMAT, fmt_datetime, local_column
from src.ui.tables import dash_missing, fit_width, right_text
from src.ui.text import md

actor = require_page_role("planner", "admin")
app = app_context()

KIND_LABELS = {"workload": "Contact centre (queues)", "unit_shifts": "Care homes (units)"}


def _delete(version_id: str) -> None:
    """Delete-button callback: delete, then untick the confirmation so the next version needs its own."""
    _admin_action(svc.delete_version, version_id)
    state.put("fa_delete_confirm", False)


def _when(value) -> str:
    """An alert's first affected time; a whole day (midnight) without its 00:00."""
    ts = pd.Timestamp(value)
    return f"{ts:%a %Y-%m-%d}" if ts == ts.normalize() else f"{ts:%a %Y-%m-%d %H:%M}"


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
    (st.success if msg[0] == "success" else st.error)(md(msg[1]))  # messages name series (queues, units)

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
    st.warning(f"**{md(row.series)}**: {md(row.status)}.")

st.subheader("Alerts")
if len(report.alerts):
    # a static table: the detail is a sentence that st.dataframe cut off (its cells do not wrap); a day-level
    # time (high uncertainty, daily series) without a meaningless 00:00
    alerts = dash_missing(report.alerts, {"when": _when})[["series", "alert", "when", "detail"]]
    # st.table renders its cells as Markdown: a queue named =HYPERLINK("http://x","y") became a live link
    alerts = alerts.assign(**{c: alerts[c].map(md) for c in ("series", "alert", "detail")})
    st.table(alerts.rename(columns={"when": "first affected"}), hide_index=True)
else:
    st.success("No alerts: no high-uncertainty days, no actuals outside the 95% interval, no demand above capacity.")

st.subheader("Live accuracy per series")
# status first after the series (it was pushed off to the right); '–' where a series has no actuals yet
live_formats = {"live_n": "{:,.0f}", "live_mae": "{:.2f}", "backtest_mae": "{:.2f}", "live_mape": "{:.1f}",
                "backtest_mape": "{:.1f}", "live_coverage_80": "{:.0f}", "live_coverage_95": "{:.0f}"}
scored_model = (per["scored_model"] if "scored_model" in per else per["model"]).fillna(per["model"])
live = dash_missing(per.assign(scored_model=scored_model.map(lambda m: svc.model_label(m, short=True))),
                    live_formats)
live_headers = {"live_n": ("n", "Actuals compared"),
                "live_mae": ("MAE", "Mean absolute error against the actuals that arrived"),
                "backtest_mae": ("MAE bt", "MAE in the backtest when the model was trained"),
                "live_mape": ("MAPE %", "Mean absolute percentage error against the actuals"),
                "backtest_mape": ("MAPE bt", "MAPE (%) in the backtest"),
                "live_coverage_80": ("cov 80", "% of actuals inside the 80% interval (target 75–85)"),
                "live_coverage_95": ("cov 95", "% of actuals inside the 95% interval (target 90–98)")}
st.dataframe(live, hide_index=True, width="stretch",
             column_order=[c for c in ["series", "status", "scored_model", *live_formats] if c in live],
             column_config={"series": st.column_config.TextColumn("series", width=fit_width(live["series"]),
                                                                  pinned=True),
                            "status": st.column_config.TextColumn("status", width=fit_width(live["status"])),
                            "scored_model": st.column_config.TextColumn(
                                "model scored", width=fit_width(live["scored_model"], header="model scored"))}
             | {c: right_text(h, width=54, help=tip) for c, (h, tip) in live_headers.items()})

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
# what a planner compares first; the long version id and code version last (they pushed coverage off screen)
version_formats = {"mase": "{:.3f}", "wape": "{:.1f}", "mape": "{:.1f}", "coverage_80": "{:.0f}",
                   "coverage_95": "{:.0f}"}
# units of one home differ only at the end of the name ("Haus Abendrot / Wohnbereich Kasta…"): the series column is
# as wide as its longest name and stays in view; times in the app's zone (stored in UTC)
st.dataframe(dash_missing(versions.assign(model_name=versions["model"].map(lambda m: svc.model_label(m, short=True)),
                                          created_at=local_column(versions["created_at"])),
                          version_formats | {"created_by": "{}", "code_version": "{}"}),
             hide_index=True, width="stretch",
             column_order=["series", "model_name", "active", *version_formats, "created_at", "created_by", "version",
                           "code_version"],
             column_config={
                 "series": st.column_config.TextColumn("series", width=fit_width(versions["series"]), pinned=True),
                 "model_name": st.column_config.TextColumn(
                     "model", width=fit_width(versions["model"].map(lambda m: svc.model_label(m, short=True)))),
                 "active": st.column_config.CheckboxColumn("active", width=55),
                 "created_at": st.column_config.DatetimeColumn("created", format=DATETIME_COLUMN_FORMAT),
                 "created_by": st.column_config.TextColumn("by", width=70),
                 "version": st.column_config.TextColumn("version"),
                 "code_version": st.column_config.TextColumn("code")}
             | {c: right_text(h, width=62) for c, h in (("mase", "MASE"), ("wape", "WAPE %"), ("mape", "MAPE %"),
                                                        ("coverage_80", "cov 80 %"), ("coverage_95", "cov 95 %"))})

if actor.is_admin and len(versions):
    st.markdown("**Manage versions** (admin)")
    a1, a2, a3 = st.columns(3)
    # pickers keyed per kind: one key for both kinds kept a queue's version picked while care homes were shown (its
    # options held only "—"), and Activate/Delete stayed enabled for a version not on screen
    labels = {r.version: f"{r.series} · {svc.model_label(r.model, short=True)} · {fmt_datetime(r.created_at, utc=True)}"
              + (" (active)" if r.active else "") for r in versions.itertuples()}
    inactive = [v for v in versions["version"] if not versions.set_index("version").loc[v, "active"]]
    with a1:
        to_activate = st.selectbox("Activate version", inactive or [None], format_func=lambda v: labels.get(v, "—"),
                                   key=state.key(f"fa_activate_{kind}"))
        st.button("Activate", key=state.key("fa_activate_btn"), disabled=to_activate is None,
                  on_click=_admin_action, args=(svc.activate_version, to_activate))
    with a2:
        series_ids = list(dict.fromkeys(versions["series_id"]))
        series_label = dict(zip(versions["series_id"], versions["series"], strict=False))
        to_rollback = st.selectbox("Roll back series", series_ids, format_func=series_label.get,
                                   key=state.key(f"fa_rollback_{kind}"))
        st.button("Roll back to previous active", key=state.key("fa_rollback_btn"), on_click=_admin_action,
                  args=(svc.rollback_version, to_rollback))
    with a3:
        to_delete = st.selectbox("Delete version", inactive or [None], format_func=lambda v: labels.get(v, "—"),
                                 key=state.key(f"fa_delete_{kind}"))
        # the picker starts on the newest inactive version: one click deleted it without asking
        confirmed = st.checkbox("Delete this version's model files", key=state.key("fa_delete_confirm"),
                                disabled=to_delete is None)
        st.button("Delete", key=state.key("fa_delete_btn"), disabled=to_delete is None or not confirmed,
                  on_click=_delete, args=(to_delete,))
