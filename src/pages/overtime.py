"""Overtime dashboard: willing staff, fairness, response times, shifts covered, top responders, recent requests."""

from __future__ import annotations

import streamlit as st

from src.services import overtime as ot
from src.services.context import ServiceError
from src.ui import charts_overtime as charts
from src.ui import state
from src.ui.common import app_context, require_page_role
from src.ui.dates import fmt_datetime
from src.ui.overtime_common import OPEN_REQUEST_COLUMNS, as_of_input, as_of_notes, options_or_stop
from src.ui.tables import dash_missing
from src.ui.text import md

actor = require_page_role("planner", "admin")
app = app_context()

st.title("Overtime")
st.caption("How overtime is requested, answered and shared out. Uploaded overtime history and the coverage "
           "requests recorded in this app are counted together.")

opts = options_or_stop(app, actor)

c1, c2, c3 = st.columns([1, 2.8, 2.2])
as_of = as_of_input(c1, app, opts.as_of_default, "ot_dash_asof")
days = c2.segmented_control("Window", [30, 60, 90, 180, 365], default=90, format_func=lambda d: f"{d} d",
                            key=state.key("ot_dash_days")) or 90
sites = c3.multiselect("Sites", opts.sites, key=state.key("ot_dash_sites"), placeholder="all sites")

try:
    view = ot.dashboard(app, actor, days=int(days), as_of_date=as_of, sites=sites or None)
except ServiceError as exc:
    st.error(md(str(exc)))
    st.stop()
s = view.stats

m = st.columns(6)
m[0].metric("OT-willing staff", s.ot_willing_staff)
m[1].metric("Fairness score", f"{s.fairness_score:.0f} / 100", help="100 × (1 − Gini) of charged overtime hours "
            "per 40 contract hours — see the Fairness report")
m[2].metric("Avg response time", f"{s.avg_response_minutes:.0f} min" if s.avg_response_minutes is not None else "–",
            help="mean minutes from contact to answer (unanswered offers excluded)"
                 + (f"; median {s.median_response_minutes:.0f} min" if s.median_response_minutes is not None else ""))
m[3].metric("OT shifts covered", s.total_ot_shifts, help="accepted offers in the window")
m[4].metric("Requests filled", f"{s.filled_requests} / {s.total_requests}")
m[5].metric("Acceptance rate", f"{s.acceptance_rate:.0%}" if s.acceptance_rate is not None else "–",
            help="accepted offers / all offers in the window")
as_of_notes(app, opts.as_of_default, "ot_dash_asof", s.days, view.as_of, view.later_offers)

left, right = st.columns(2)
if len(view.trend):
    left.plotly_chart(charts.acceptance_trend_chart(view.trend), width="stretch")
else:
    left.info("No offers in the last year before this date.")
right.plotly_chart(charts.response_time_chart(view.responses, f"Response times (last {s.days} days)"),
                   width="stretch")

# Top responders and recent requests one above the other: side by side (2/5 and 3/5 of the page) the site names,
# the acceptance rate and the first-contact time were cut off.
st.subheader("Top responders")
if len(s.top_responders):
    # one format for every rate: "63%" (Streamlit's "percent" preset showed 62.5% next to 55.56%)
    st.dataframe(s.top_responders.assign(acceptance_rate=s.top_responders["acceptance_rate"] * 100),
                 hide_index=True, width="content", key="top_responders",
                 column_config={"staff_id": st.column_config.TextColumn("Staff", width=70),
                                "name": st.column_config.TextColumn("Name", width=180),
                                "accepted": st.column_config.NumberColumn("Accepted", width=80,
                                                                          help="accepted offers in the window"),
                                "offers": st.column_config.NumberColumn("Offers", width=70),
                                "acceptance_rate": st.column_config.NumberColumn("Acceptance", format="%.0f%%",
                                                                                 width=90, help="accepted / offers"),
                                "median_response_minutes": st.column_config.NumberColumn(
                                    "Median answer (min)", format="%.0f", width=140,
                                    help="median minutes from the offer to the answer")})
else:
    st.caption("Nobody was offered overtime in this window.")

st.subheader("Recent requests")
if len(view.recent):
    st.dataframe(dash_missing(view.recent, {"accepted_by": "{}"}), hide_index=True, width="stretch",
                 key="recent_requests",
                 column_order=["request_id", "shift_date", "shift_type", "site", "status", "accepted_by", "contacts",
                               "first_contacted_at"],
                 column_config={"request_id": st.column_config.TextColumn("Request", width=100),
                                "shift_date": st.column_config.DateColumn("Date", format="YYYY-MM-DD", width=90),
                                "site": st.column_config.TextColumn("Site", width=220),
                                "shift_type": st.column_config.TextColumn("Shift", width=60),
                                "contacts": st.column_config.NumberColumn("Asked", width=60,
                                                                          help="people contacted"),
                                "accepted_by": st.column_config.TextColumn("Taken by", width=200),
                                "status": st.column_config.TextColumn("Status", width=70),
                                "first_contacted_at": st.column_config.DatetimeColumn("First contact",
                                                                                      format="DD.MM.YYYY HH:mm",
                                                                                      width=130)})
else:
    st.caption("No requests before this date.")

st.subheader("Open coverage requests in the app")
if len(view.open_requests):
    st.dataframe(dash_missing(view.open_requests[list(OPEN_REQUEST_COLUMNS)], {"unit": "{}"}),
                 hide_index=True, width="stretch", key="open_requests", column_config=OPEN_REQUEST_COLUMNS)
    st.page_link("pages/overtime_rankings.py", label="Work on them in Live rankings", icon=":material/call:")
else:
    st.caption("None — start one from **Live rankings**.")


# ------------------------------------------------------------------------------------------ acceptance model
st.divider()
st.subheader("Acceptance model (optional)")
st.caption("The ranking's acceptance factor is each person's smoothed historical acceptance rate. A LightGBM model "
           "trained on the overtime history (who accepted which offer, given their recent overtime, response speed, "
           "site, weekday, shift type and lead time) replaces it only when it predicts the latest 25 % of requests "
           "better (lower log loss) — rankings then label the acceptance source \"lightgbm\".")
TRAINED = "ot_acc_trained"
if actor.is_admin:
    with st.form(state.key("ot_acc_form"), border=False):
        train = st.form_submit_button("Train acceptance model", icon=":material/model_training:")
    if train:
        with st.status("Training the acceptance model…", expanded=True) as box:
            bar = st.progress(0.0, text="Starting")
            try:
                trained = ot.train_acceptance_model(app, actor, on_progress=lambda f, t: bar.progress(
                    min(1.0, max(0.0, f)), text=t))
            except ServiceError as exc:
                box.update(label="Training failed", state="error")
                st.error(md(str(exc)))
            else:
                state.put(TRAINED, trained.version)
                box.update(label=f"Trained model {trained.version} in {trained.seconds:.1f} s", state="complete",
                           expanded=False)
try:
    info = ot.acceptance_model_status(app, actor)
except ServiceError as exc:
    st.error(md(str(exc)))
    info = None
if info is None:
    st.info("No acceptance model has been trained; rankings use the historical rate."
            + ("" if actor.is_admin else " An administrator can train one here."))
else:
    r = info.report
    if info.in_use:
        st.success(f"Rankings use the LightGBM model {info.version}: it beat the historical rate on "
                   f"{r.get('n_test')} held-out offers.")
    else:
        st.warning(f"Model {info.version} did not beat the historical rate on {r.get('n_test')} held-out offers; "
                   "rankings keep using the rate.")
    m = st.columns(4)
    m[0].metric("Log loss, model", f"{r['logloss_model']:.4f}",
                delta=f"{r['logloss_model'] - r['logloss_rate']:+.4f} vs rate", delta_color="inverse")
    m[1].metric("Log loss, historical rate", f"{r['logloss_rate']:.4f}")
    m[2].metric("AUC, model", f"{r['auc_model']:.3f}" if r.get("auc_model") is not None else "–",
                delta=(f"{r['auc_model'] - r['auc_rate']:+.3f} vs rate"
                       if r.get("auc_model") is not None and r.get("auc_rate") is not None else None))
    m[3].metric("AUC, historical rate", f"{r['auc_rate']:.3f}" if r.get("auc_rate") is not None else "–")
    st.plotly_chart(charts.acceptance_model_chart(info.comparison()), width="stretch")
    st.caption(f"Trained by {md(info.created_by)} on {fmt_datetime(info.created_at, utc=True)} on "
               f"{r.get('n_train')} offers before "
               f"{str(r.get('split_at', ''))[:16].replace('T', ' ')}; tested on the {r.get('n_test')} offers of the "
               "later requests.")
