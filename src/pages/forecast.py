"""Forecast (planner): choose series, horizon and model → train in the background → chart, backtest, downloads.

Training runs in a thread-pool executor held in ``st.cache_resource``; the future lives in session state and a
fragment polls it every second, so a click elsewhere (even another page) does not lose the training.
"""

from __future__ import annotations

import logging
import re
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
from src.ui.dates import DATE_INPUT_FORMAT, fmt_date, fmt_datetime
from src.ui.tables import dash_missing, fit_width, format_value, right_text
from src.ui.text import md

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
    # show the new forecast: the viewer's pickers are keyed widgets, so their *keys* must change — an ``index=``
    # is ignored once the widget exists, and the page kept showing the previous run after a retraining
    first = outcome.runs[0]
    info = by_id.get(first.series_id)
    if info is not None:
        state.put(f"fc_view_series_{info.kind}", first.series_id)
        state.put(f"fc_run_{first.series_id}", first.run_id)


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
    st.caption(f"Stored history: {fmt_date(first)} → {fmt_datetime(last)} "
               f"({sum(by_id[s].rows for s in selected):,} rows).")

FORM_KEYS = ("fc_model", "fc_folds", "fc_history_end", "fc_activate")


def _submit(kind: str) -> None:
    """Train-button callback: start the training *before* the page body runs, so the run that follows the click
    already draws the form disabled with the progress below it.

    Why a callback: drawn by the submitting run, the form looked usable for the whole training (only the
    progress fragment reruns; a second click was silently ignored). And Streamlit drops the incoming value of a
    widget drawn disabled, which reset horizon, model, folds and date to what they were before the submit — so
    the submitted values are written back as session-state values, which survive that.
    """
    ss = st.session_state
    if state.get("fc_job") is not None:  # a double click: one training per session at a time
        return
    keys = [state.key(f"fc_horizon_{kind}"), *(state.key(k) for k in FORM_KEYS)]
    for k in keys:
        if k in ss:
            ss[k] = ss[k]
    selected_now = list(ss.get(state.key(f"fc_series_{kind}")) or [])
    if not selected_now:
        state.put("fc_form_error", "Choose at least one series to forecast.")
        return
    activate_now = bool(ss.get(state.key("fc_activate"))) or None if actor.is_admin else None
    _start(selected_now, int(ss[state.key(f"fc_horizon_{kind}")]), str(ss[state.key("fc_model")]),
           int(ss[state.key("fc_folds")]), ss.get(state.key("fc_history_end")), activate_now)


# defaults through session state (not ``value=``): a value the callback writes back would otherwise also trigger
# Streamlit's "default value and Session State" warning
st.session_state.setdefault(state.key(f"fc_horizon_{kind}"), DEFAULT_HORIZON[kind])
st.session_state.setdefault(state.key("fc_folds"), 3)
if actor.is_admin:
    st.session_state.setdefault(state.key("fc_activate"), True)
with st.form(state.key("fc_form")):
    c1, c2, c3, c4 = st.columns(4)
    # keyed, so that disabling the form while training keeps the planner's choices
    c1.number_input("Horizon (days)", min_value=1, max_value=svc.MAX_HORIZON_DAYS, step=1, disabled=training,
                    key=state.key(f"fc_horizon_{kind}"))
    c2.selectbox("Model", svc.MODEL_CHOICES, format_func=svc.MODEL_LABELS.get, disabled=training,
                 key=state.key("fc_model"))
    c3.number_input("Backtest folds", min_value=1, max_value=svc.MAX_FOLDS, step=1, disabled=training,
                    key=state.key("fc_folds"),
                    help="Rolling-origin windows of one horizon each; 2+ folds measure interval coverage out of "
                         "sample.")
    c4.date_input("Train on history up to", value=None, disabled=training, format=DATE_INPUT_FORMAT,
                  key=state.key("fc_history_end"),
                  help="Empty = all stored history. An earlier date makes a back-dated forecast you can check "
                       "against actuals on *Forecast accuracy* right away.")
    # a series' first version always becomes active (svc.train_forecasts): Staffing plans with the active version,
    # and a series without one would be planned with whatever run is newest — so the form says so
    if actor.is_admin:
        st.checkbox("Make the new model version active (Staffing plans with the active version)",
                    disabled=training, key=state.key("fc_activate"),
                    help="Unticked, a new version is stored beside the active one, to compare on *Forecast "
                         "accuracy*. A series' first version always becomes active, ticked or not: Staffing needs "
                         "one to plan with.")
    else:
        st.caption("A series' first version becomes its active model, the one Staffing plans with. Later versions "
                   "are stored beside it until an administrator activates them on *Forecast accuracy*.")
    st.form_submit_button("Train forecast", type="primary", disabled=training, icon=":material/model_training:",
                          on_click=_submit, args=(kind,))

form_error = state.pop("fc_form_error")
if form_error:
    st.error(form_error)  # escaped: the page's own text


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
    st.error(md(state.get("fc_error")))  # service messages name the series (queue, site, unit)
if state.get("fc_message"):
    st.success(md(state.get("fc_message")))

# ------------------------------------------------------------------------------------------ results
runs_all = svc.runs_for_series(app, actor)
runs_all = [r for r in runs_all if r["series_id"] in by_id and by_id[r["series_id"]].kind == kind]
st.divider()
st.subheader("Stored forecasts")
if not runs_all:
    st.info("No forecast stored for this kind of history yet: choose series above and press **Train forecast**.")
    st.stop()
series_with_runs = list(dict.fromkeys(r["series_id"] for r in runs_all))
s1, s2 = st.columns([1, 2])
view_series = s1.selectbox("Series", series_with_runs, format_func=lambda s: by_id[s].label,
                           key=state.key(f"fc_view_series_{kind}"))
series_runs = [r for r in runs_all if r["series_id"] == view_series]
run_ids = [int(r["id"]) for r in series_runs]
run_labels = {int(r["id"]): (f"#{r['id']} · {svc.model_label(r['model'], short=True)} · "
                             f"{pd.Timestamp(r['forecast_start']):%Y-%m-%d} → "
                             f"{pd.Timestamp(r['forecast_end']):%Y-%m-%d} · trained "
                             f"{fmt_datetime(r['created_at'], utc=True)} by {r['created_by']}")
              for r in series_runs}
run_id = s2.selectbox("Forecast run (newest first)", run_ids, format_func=run_labels.get,
                      key=state.key(f"fc_run_{view_series}"))
view = svc.load_run(app, actor, int(run_id))
run = view.run
metrics = run["metrics"]

m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Model", svc.model_label(run["model"], short=True), help=svc.model_label(run["model"]))
m2.metric("Backtest MASE", format_value(metrics.get("mase"), "{:.2f}"),
          help="Mean absolute error relative to 'same slot last week'; below 1 beats it.")
m3.metric("Backtest WAPE", format_value(metrics.get("wape"), "{:.1f}%"), help="Share of the volume missed.")
for col, lv in ((m4, 80), (m5, 95)):
    cov = run["coverage"].get(str(lv))
    col.metric(f"Measured coverage {lv}%", "n/a" if cov is None else f"{cov:.0f}%",
               help="Share of out-of-sample actuals inside the interval in the backtest (needs ≥ 2 folds). "
                    f"Target: {'75–85' if lv == 80 else '90–98'}%.")
st.info(f"**Why {svc.model_label(run['model'], short=True)}:** {md(svc.readable_reason(run['reason']))}")
status = "active — Staffing plans with it" if view.active else \
    "not the active version (an admin can activate it on Forecast accuracy)"
st.caption(f"Model version `{run['model_version_id']}` · {status} · interval {run['freq']} · history "
           f"{fmt_date(run['history_start'])} → {fmt_datetime(run['history_end'])}.")

daily = run["freq"] == "1D"
y_title = "shifts per day" if run["series_kind"] == "unit_shifts" else f"contacts per {run['freq']} interval"
st.plotly_chart(charts_forecast.forecast_chart(view.history, view.forecast, f"{run['label']} — forecast",
                                               y_title=y_title, daily=daily), width="stretch")
n_unc = int(view.forecast["high_uncertainty"].sum())
if n_unc:
    unc_days = view.forecast.loc[view.forecast["high_uncertainty"], "ds"].dt.normalize().nunique()
    where = "marked ◇ in the chart" if n_unc <= charts_forecast.MAX_UNCERTAINTY_MARKERS else \
        "their days are shaded in the chart"
    # a daily forecast said "28 day(s) on 28 day(s)"
    what = f"{n_unc} day(s) have" if daily else f"{n_unc} interval(s) on {unc_days} day(s) have"
    st.warning(f"{what} high uncertainty ({svc.HIGH_UNCERTAINTY_LEVEL}% interval wider than half the forecast) — "
               f"{where}. Plan buffers there.")

if view.components is not None:
    with st.expander("Prophet components (trend, daily, weekly, yearly, holidays)", expanded=False):
        st.plotly_chart(charts_forecast.components_chart(view.components), width="stretch")

st.subheader("Backtest: every compared model")
backtest = svc.backtest_table(view)
if len(backtest):
    # full width: beside the MASE chart the table cut off coverage, width, time and folds
    # (sMAPE, the 80% width and the point count are in the Excel download; here they pushed columns off)
    bt_formats = {"mase": "{:.3f}", "wape": "{:.1f}", "mape": "{:.1f}", "mae": "{:.2f}", "rmse": "{:.2f}",
                  "coverage_80": "{:.1f}", "coverage_95": "{:.1f}", "width_95": "{:.1f}", "folds": "{:.0f}",
                  "seconds": "{:.2f}"}
    headers = {"coverage_80": "cov 80 %", "coverage_95": "cov 95 %", "width_95": "width 95", "seconds": "s / fold"}
    st.dataframe(dash_missing(backtest, bt_formats | {"error": "{}"}), hide_index=True, width="stretch",
                 column_order=[c for c in ("model", "chosen", *bt_formats, "error") if c in backtest],
                 # as wide as the longest model name ("Prophet (tuned, holidays) + LightGBM ensemble" was cut off)
                 column_config={"model": st.column_config.TextColumn("model", width=fit_width(backtest["model"]),
                                                                     pinned=True),
                                "chosen": st.column_config.CheckboxColumn("chosen", width=60)}
                 | {c: right_text(headers.get(c, svc.BACKTEST_COLUMNS[c]), width=62) for c in bt_formats
                    if c in backtest}
                 | {"error": st.column_config.TextColumn("error", width="large")})
    st.caption("Coverage: share of out-of-sample actuals inside the interval (target 75–85 % for 80 %, 90–98 % for "
               "95 %); '–' where the backtest had too few folds to measure it.")
    st.plotly_chart(charts_forecast.backtest_chart(backtest, svc.model_label(run["model"])), width="stretch")

with st.expander("Data diagnostics"):
    diagnostics = svc.diagnostics_table(run)
    notes = diagnostics[diagnostics["item"] == "Notes"]
    diagnostics = diagnostics[diagnostics["item"] != "Notes"]  # a sentence: cut off in a table cell
    st.dataframe(diagnostics, hide_index=True, width="stretch", height=35 * (len(diagnostics) + 1) + 3,
                 column_config={"item": st.column_config.TextColumn("item", width="medium"),
                                "value": st.column_config.TextColumn("value", width="large")})
    for note in notes["value"]:
        if note != "–":
            st.caption(f"Notes: {md(note)}")

st.subheader("Download")
d1, d2, _ = st.columns([1, 1, 1])
stem = re.sub(r"_+", "_", f"forecast_{run['label']}_{run['id']}".replace("·", "").replace(" ", "_").replace("/", "-"))
d1.download_button("Forecast (CSV)", svc.export_forecast(app, actor, view, "csv"), file_name=f"{stem}.csv",
                   mime="text/csv", on_click="ignore", icon=":material/download:", key=state.key("fc_dl_csv"))
d2.download_button("Excel (forecast + backtest)", svc.export_forecast(app, actor, view, "xlsx"),
                   file_name=f"{stem}.xlsx", on_click="ignore", icon=":material/download:",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   key=state.key("fc_dl_xlsx"))
with st.expander("Forecast table"):
    # readable headers; series, model and version are the same on every row and shown above
    st.dataframe(svc.forecast_export_frame(view), hide_index=True, width="stretch",
                 column_order=["ds", "yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95", "yhat_upper_95",
                               "open", "high_uncertainty"],
                 column_config={
                     "ds": st.column_config.DatetimeColumn("day" if daily else "interval start",
                                                           format="ddd YYYY-MM-DD" if daily
                                                           else "ddd YYYY-MM-DD HH:mm"),
                     "yhat": st.column_config.NumberColumn("forecast", format="%.1f"),
                     **{f"yhat_{side}_{lv}": st.column_config.NumberColumn(f"{lv}% {word}", format="%.1f")
                        for lv in (80, 95) for side, word in (("lower", "low"), ("upper", "high"))},
                     "open": st.column_config.CheckboxColumn("open"),
                     "high_uncertainty": st.column_config.CheckboxColumn(
                         "high uncertainty",
                         help=f"{svc.HIGH_UNCERTAINTY_LEVEL}% interval wider than half the forecast")})

# ---------------------------------------------------------------------------------- intraday re-forecast
defaults = svc.intraday_defaults(view)
if defaults is not None:
    st.divider()
    st.subheader("Intraday re-forecast")
    st.caption("Midday check: how is the day running against this forecast? The rest of the day is scaled by "
               "actual ÷ forecast so far, shrunk toward 1 by the share of the day's forecast volume already seen "
               "(early in the day the forecast barely moves), limited to 0.5–2×. Nothing is stored.")
    sources = {"stored": "Stored volumes of that day", "entered": "Type or upload today's volumes"}
    # a fresh forecast's days have no stored actuals yet: "stored volumes" could only fail there, so typed volumes
    # come first; keyed per run, so each run opens on what can work for it
    source = st.radio("Actuals so far", list(sources), format_func=sources.get, horizontal=True,
                      index=0 if defaults.has_stored_actuals else 1, key=state.key(f"fc_intra_source_{run_id}"))
    if source == "stored" and not defaults.has_stored_actuals:
        st.caption("No volumes are stored yet for any day of this forecast: type or upload today's volumes, or "
                   "train a back-dated forecast to try the re-forecast on a past day.")
    with st.form(state.key("fc_intra_form")):
        i1, i2 = st.columns(2)
        day = i1.date_input("Day", value=defaults.suggested, min_value=defaults.first, max_value=defaults.last,
                            format=DATE_INPUT_FORMAT, key=state.key(f"fc_intra_day_{run_id}"),
                            help="A day inside this forecast. Pick a past day to see how the re-forecast would "
                                 "have done against the rest of that day.")
        # keyed per run like the day: one key for all runs kept the first run's time, e.g. 14:00 for a Saturday
        # that closes at 13:00, so the button only answered with an error
        now = i2.time_input("Now (actuals before this time count)", value=defaults.suggested_now,
                            step=defaults.step_seconds, key=state.key(f"fc_intra_now_{run_id}"))
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
        st.error(md(state.get("fc_intraday_error")))
    elif intra is not None and intra.run_id == int(run_id):
        k1, k2, k3, k4 = st.columns(4)
        k1.metric("Factor for the rest of the day", f"{intra.factor:.3f}")
        k2.metric("Actual so far", f"{intra.actual_so_far:,.0f}",
                  delta=f"{(intra.actual_so_far / intra.forecast_so_far - 1) * 100:+.1f}% vs forecast"
                  if intra.forecast_so_far > 0 else None, delta_color="off")
        k3.metric("Rest of day: forecast", f"{intra.rest_original:,.1f}")
        k4.metric("Rest of day: re-forecast", f"{intra.rest_reforecast:,.1f}",
                  delta=f"{intra.rest_reforecast - intra.rest_original:+,.1f}", delta_color="off")
        st.info(md(intra.message))
        for note in intra.notes:
            st.caption(f"Note: {md(note)}")
        st.plotly_chart(charts_forecast.intraday_chart(intra.frame, intra.now,
                                                       f"{intra.label} — {intra.day:%a %Y-%m-%d}, re-forecast "
                                                       f"from {intra.now:%H:%M}", y_title=y_title), width="stretch")
        st.download_button("Re-forecast (CSV)", svc.export_intraday(app, actor, intra),
                           file_name=f"reforecast_{stem}_{intra.day:%Y%m%d}_{intra.now:%H%M}.csv", mime="text/csv",
                           on_click="ignore", icon=":material/download:", key=state.key("fc_dl_intraday"))
