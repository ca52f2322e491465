"""Forecast (planner): choose series, horizon and model → train in the background → chart, backtest, downloads.

Training runs in a thread-pool executor held in ``st.cache_resource``; the future lives in session state and a
fragment polls it every second, so a click elsewhere (even another page) does not lose the training.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from src.services import forecasting as svc
from src.services.context import PermissionDenied, ServiceError
from src.ui import charts_forecast, state
from src.ui.common import app_context, require_page_role

log = logging.getLogger(__name__)

actor = require_page_role("planner", "admin")
app = app_context()

KIND_LABELS = {"workload": "Contact centre (queues)", "unit_shifts": "Care homes (units, shifts per day)"}
DEFAULT_HORIZON = {"workload": 7, "unit_shifts": 28}


@dataclass
class TrainingJob:
    future: Future
    series: list[str]
    started: float = field(default_factory=time.time)
    progress: dict[str, Any] = field(default_factory=lambda: {"fraction": 0.0, "text": "Starting…"})


@st.cache_resource(show_spinner=False)
def _executor() -> ThreadPoolExecutor:
    """One background worker per server process (2 cores: one training at a time, the UI stays responsive)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="forecast-train")


def _start(series: list[str], horizon: int, model: str, folds: int, history_end, activate: bool | None) -> None:
    progress: dict[str, Any] = {"fraction": 0.0, "text": "Queued…"}

    def report(fraction: float, text: str) -> None:
        progress["fraction"], progress["text"] = float(fraction), text

    future = _executor().submit(svc.train_forecasts, app, actor, series, horizon_days=horizon, model=model,
                                folds=folds, history_end=history_end, activate=activate, on_progress=report)
    state.put("fc_job", TrainingJob(future=future, series=series, progress=progress))
    state.pop("fc_message")
    state.pop("fc_error")


def _finish(job: TrainingJob) -> None:
    state.pop("fc_job")
    try:
        outcome = job.future.result()
    except (ServiceError, PermissionDenied) as exc:
        state.put("fc_error", str(exc))
        return
    except Exception as exc:  # noqa: BLE001 - shown to the user, logged with the traceback
        log.exception("forecast training failed")
        state.put("fc_error", f"Training failed unexpectedly ({type(exc).__name__}: {exc}). Nothing was stored.")
        return
    state.put("fc_message", outcome.message)
    state.put("fc_view_series", outcome.runs[0].series_id)
    state.put("fc_view_run", outcome.runs[0].run_id)


st.title("Forecast")
st.caption("Forecast workload per queue (at its own interval) or care-home shifts per day, with calibrated 80% and "
           "95% intervals. *Auto* backtests every model on your history and keeps the most accurate one.")

catalogue = svc.series_catalogue(app, actor)
if not catalogue:
    st.info("No workload or care-home history is stored yet. An administrator can upload it on the **Data** page.")
    st.stop()
by_id = {s.series_id: s for s in catalogue}

job: TrainingJob | None = state.get("fc_job")
if job is not None and job.future.done():
    _finish(job)
    job = None
training = job is not None

kinds = [k for k in KIND_LABELS if any(s.kind == k for s in catalogue)]
kind = st.radio("History", kinds, format_func=KIND_LABELS.get, horizontal=True, key=state.key("fc_kind"),
                disabled=training)
options = [s.series_id for s in catalogue if s.kind == kind]
remembered = [s for s in (state.get("fc_selection") or []) if s in options]
selected = st.multiselect(
    "Series to forecast", options, default=remembered or options[:1], format_func=lambda s: by_id[s].label,
    key=state.key(f"fc_series_{kind}"), max_selections=svc.MAX_SERIES_PER_RUN, disabled=training,
    help="Contact centre: one series per queue and site at its native interval. Care homes: each unit, and each "
         "home's total ('all units').")
state.put("fc_selection", selected)
if selected:
    first = min(by_id[s].first for s in selected)
    last = max(by_id[s].last for s in selected)
    st.caption(f"Stored history: {pd.Timestamp(first):%Y-%m-%d} → {pd.Timestamp(last):%Y-%m-%d %H:%M} "
               f"({sum(by_id[s].rows for s in selected):,} rows).")

with st.form(state.key("fc_form")):
    c1, c2, c3, c4 = st.columns(4)
    horizon = c1.number_input("Horizon (days)", min_value=1, max_value=svc.MAX_HORIZON_DAYS,
                              value=DEFAULT_HORIZON[kind], step=1, disabled=training)
    model = c2.selectbox("Model", svc.MODEL_CHOICES, format_func=svc.MODEL_LABELS.get, disabled=training)
    folds = c3.number_input("Backtest folds", min_value=1, max_value=svc.MAX_FOLDS, value=3, step=1,
                            disabled=training, help="Rolling-origin windows of one horizon each; 2+ folds measure "
                                                    "interval coverage out of sample.")
    history_end = c4.date_input("Train on history up to", value=None, disabled=training, format="YYYY-MM-DD",
                                help="Empty = all stored history. An earlier date makes a back-dated forecast you "
                                     "can check against actuals on *Forecast accuracy* right away.")
    activate = None
    if actor.is_admin:
        activate = st.checkbox("Make the new model version active (Staffing plans with the active version)",
                               value=True, disabled=training) or None
    submitted = st.form_submit_button("Train forecast", type="primary", disabled=training,
                                      icon=":material/model_training:")

if submitted and not training:
    if not selected:
        st.error("Choose at least one series to forecast.")
    else:
        _start(list(selected), int(horizon), str(model), int(folds), history_end, activate)
        job = state.get("fc_job")
        training = True


@st.fragment(run_every="1s")
def _progress() -> None:
    current: TrainingJob | None = state.get("fc_job")
    if current is None:
        return
    if current.future.done():
        st.rerun()
    frac = min(1.0, max(0.0, float(current.progress["fraction"])))
    with st.status(f"Training {len(current.series)} series…", state="running", expanded=True):
        st.progress(frac, text=current.progress["text"])
        st.caption(f"Running for {time.time() - current.started:.0f} s. You may open other pages — the training "
                   "continues and its result is stored.")


if training:
    _progress()

if state.get("fc_error"):
    st.error(state.get("fc_error"))
if state.get("fc_message"):
    st.success(state.get("fc_message"))

# ------------------------------------------------------------------------------------------ results
runs_all = svc.runs_for_series(app, actor)
runs_all = [r for r in runs_all if r["series_id"] in by_id and by_id[r["series_id"]].kind == kind]
st.divider()
st.subheader("Stored forecasts")
if not runs_all:
    st.info("No forecast stored for this kind of history yet: choose series above and press **Train forecast**.")
    st.stop()
series_with_runs = list(dict.fromkeys(r["series_id"] for r in runs_all))
wanted = state.get("fc_view_series")
s1, s2 = st.columns([1, 2])
view_series = s1.selectbox("Series", series_with_runs, format_func=lambda s: by_id[s].label,
                           index=series_with_runs.index(wanted) if wanted in series_with_runs else 0,
                           key=state.key(f"fc_view_series_{kind}"))
series_runs = [r for r in runs_all if r["series_id"] == view_series]
run_ids = [int(r["id"]) for r in series_runs]
run_labels = {int(r["id"]): (f"#{r['id']} · {r['model']} · {pd.Timestamp(r['forecast_start']):%Y-%m-%d} → "
                             f"{pd.Timestamp(r['forecast_end']):%Y-%m-%d} · trained "
                             f"{pd.Timestamp(r['created_at']):%Y-%m-%d %H:%M} by {r['created_by']}")
              for r in series_runs}
wanted_run = state.get("fc_view_run")
run_id = s2.selectbox("Forecast run (newest first)", run_ids, format_func=run_labels.get,
                      index=run_ids.index(wanted_run) if wanted_run in run_ids else 0,
                      key=state.key(f"fc_run_{view_series}"))
view = svc.load_run(app, actor, int(run_id))
run = view.run
metrics = run["metrics"]

m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Model", run["model"], help=svc.MODEL_LABELS.get(run["model"]))
m2.metric("Backtest MASE", f"{metrics.get('mase') or float('nan'):.2f}",
          help="Mean absolute error relative to 'same slot last week'; below 1 beats it.")
m3.metric("Backtest WAPE", f"{metrics.get('wape') or float('nan'):.1f}%", help="Share of the volume missed.")
for col, lv in ((m4, 80), (m5, 95)):
    cov = run["coverage"].get(str(lv))
    col.metric(f"Measured coverage {lv}%", "n/a" if cov is None else f"{cov:.0f}%",
               help="Share of out-of-sample actuals inside the interval in the backtest (needs ≥ 2 folds). "
                    f"Target: {'75–85' if lv == 80 else '90–98'}%.")
st.info(f"**Why {run['model']}:** {run['reason']}")
status = "active — Staffing plans with it" if view.active else \
    "not the active version (an admin can activate it on Forecast accuracy)"
st.caption(f"Model version `{run['model_version_id']}` · {status} · interval {run['freq']} · history "
           f"{pd.Timestamp(run['history_start']):%Y-%m-%d} → {pd.Timestamp(run['history_end']):%Y-%m-%d %H:%M}.")

daily = run["freq"] == "1D"
y_title = "shifts per day" if run["series_kind"] == "unit_shifts" else f"contacts per {run['freq']} interval"
st.plotly_chart(charts_forecast.forecast_chart(view.history, view.forecast, f"{run['label']} — forecast",
                                               y_title=y_title, daily=daily), width="stretch")
n_unc = int(view.forecast["high_uncertainty"].sum())
if n_unc:
    unc_days = view.forecast.loc[view.forecast["high_uncertainty"], "ds"].dt.normalize().nunique()
    st.warning(f"{n_unc} {'day(s)' if daily else 'interval(s)'} on {unc_days} day(s) have high uncertainty (95% "
               "interval wider than half the forecast) — marked ◇ in the chart. Plan buffers there.")

if view.components is not None:
    with st.expander("Prophet components (trend, daily, weekly, yearly, holidays)", expanded=False):
        st.plotly_chart(charts_forecast.components_chart(view.components), width="stretch")

st.subheader("Backtest: every compared model")
if len(view.backtest):
    left, right = st.columns([3, 2])
    bt_cols = [c for c in ["model", "chosen", "mase", "wape", "mape", "smape", "mae", "rmse", "coverage_80",
                           "coverage_95", "width_95", "seconds", "folds", "error"] if c in view.backtest]
    left.dataframe(view.backtest[bt_cols], hide_index=True, width="stretch", column_config={
        "mase": st.column_config.NumberColumn("MASE", format="%.3f"),
        "wape": st.column_config.NumberColumn("WAPE %", format="%.1f"),
        "mape": st.column_config.NumberColumn("MAPE %", format="%.1f"),
        "smape": st.column_config.NumberColumn("sMAPE %", format="%.1f"),
        "mae": st.column_config.NumberColumn("MAE", format="%.2f"),
        "rmse": st.column_config.NumberColumn("RMSE", format="%.2f"),
        "coverage_80": st.column_config.NumberColumn("cov 80 %", format="%.1f"),
        "coverage_95": st.column_config.NumberColumn("cov 95 %", format="%.1f"),
        "width_95": st.column_config.NumberColumn("width 95", format="%.1f"),
        "seconds": st.column_config.NumberColumn("s / fold", format="%.2f"),
        "chosen": st.column_config.CheckboxColumn("chosen"),
    })
    right.plotly_chart(charts_forecast.backtest_chart(view.backtest, run["model"]), width="stretch")

with st.expander("Data diagnostics"):
    diag = run.get("diagnostics") or {}
    st.dataframe(pd.DataFrame([{"item": k, "value": str(v)} for k, v in diag.items()]), hide_index=True,
                 width="stretch")

st.subheader("Download")
d1, d2, _ = st.columns([1, 1, 1])
stem = f"forecast_{run['label']}_{run['id']}".replace(" ", "_").replace("/", "-").replace("·", "")
d1.download_button("Forecast (CSV)", svc.export_forecast(app, actor, view, "csv"), file_name=f"{stem}.csv",
                   mime="text/csv", on_click="ignore", icon=":material/download:", key=state.key("fc_dl_csv"))
d2.download_button("Excel (forecast + backtest)", svc.export_forecast(app, actor, view, "xlsx"),
                   file_name=f"{stem}.xlsx", on_click="ignore", icon=":material/download:",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   key=state.key("fc_dl_xlsx"))
with st.expander("Forecast table"):
    st.dataframe(svc.forecast_export_frame(view), hide_index=True, width="stretch")

# ---------------------------------------------------------------------------------- intraday re-forecast
defaults = svc.intraday_defaults(view)
if defaults is not None:
    st.divider()
    st.subheader("Intraday re-forecast")
    st.caption("Midday check: how is the day running against this forecast? The rest of the day is scaled by "
               "actual ÷ forecast so far, shrunk toward 1 by the share of the day's forecast volume already seen "
               "(early in the day the forecast barely moves), limited to 0.5–2×. Nothing is stored.")
    sources = {"stored": "Stored volumes of that day", "entered": "Type or upload today's volumes"}
    source = st.radio("Actuals so far", list(sources), format_func=sources.get, horizontal=True,
                      key=state.key("fc_intra_source"))
    with st.form(state.key("fc_intra_form")):
        i1, i2 = st.columns(2)
        day = i1.date_input("Day", value=defaults.suggested, min_value=defaults.first, max_value=defaults.last,
                            format="YYYY-MM-DD", key=state.key(f"fc_intra_day_{run_id}"),
                            help="A day inside this forecast. Pick a past day to see how the re-forecast would "
                                 "have done against the rest of that day.")
        now = i2.time_input("Now (actuals before this time count)", value=defaults.suggested_now,
                            step=defaults.step_seconds, key=state.key("fc_intra_now"))
        typed, upload = None, None
        if source == "entered":
            typed = st.text_area("Today's volumes so far — one interval per line: time,volume",
                                 placeholder="08:00,35\n09:00,52\n10:00,61", height=150,
                                 key=state.key("fc_intra_text"))
            upload = st.file_uploader("…or upload them as CSV (time,volume)", type=["csv", "txt"],
                                      key=state.key("fc_intra_file"))
        reforecast_now = st.form_submit_button("Re-forecast the rest of the day", icon=":material/update:")
    if reforecast_now:
        entered = None
        if source == "entered":
            entered = upload.getvalue() if upload is not None else (typed or "")
        try:
            state.put("fc_intraday", svc.intraday_reforecast(app, actor, view_series, day=day, now=now,
                                                             actuals=entered, run_id=int(run_id)))
            state.pop("fc_intraday_error")
        except (ServiceError, PermissionDenied) as exc:
            state.pop("fc_intraday")
            state.put("fc_intraday_error", str(exc))
    intra = state.get("fc_intraday")
    if state.get("fc_intraday_error"):
        st.error(state.get("fc_intraday_error"))
    elif intra is not None and intra.run_id == int(run_id):
        k1, k2, k3, k4 = st.columns(4)
        k1.metric("Factor for the rest of the day", f"{intra.factor:.3f}")
        k2.metric("Actual so far", f"{intra.actual_so_far:,.0f}",
                  delta=f"{(intra.actual_so_far / intra.forecast_so_far - 1) * 100:+.1f}% vs forecast"
                  if intra.forecast_so_far > 0 else None, delta_color="off")
        k3.metric("Rest of day: forecast", f"{intra.rest_original:,.1f}")
        k4.metric("Rest of day: re-forecast", f"{intra.rest_reforecast:,.1f}",
                  delta=f"{intra.rest_reforecast - intra.rest_original:+,.1f}", delta_color="off")
        st.info(intra.message)
        for note in intra.notes:
            st.caption(f"Note: {note}")
        st.plotly_chart(charts_forecast.intraday_chart(intra.frame, intra.now,
                                                       f"{intra.label} — {intra.day:%a %Y-%m-%d}, re-forecast "
                                                       f"from {intra.now:%H:%M}", y_title=y_title), width="stretch")
        st.download_button("Re-forecast (CSV)", svc.export_intraday(app, actor, intra),
                           file_name=f"reforecast_{stem}_{intra.day:%Y%m%d}_{intra.now:%H%M}.csv", mime="text/csv",
                           on_click="ignore", icon=":material/download:", key=state.key("fc_dl_intraday"))
