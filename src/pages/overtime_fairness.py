"""Fairness report: is overtime shared evenly? Per-person hours (pro rata), flags, metrics over windows and time."""

from __future__ import annotations

import streamlit as st

from src.data.export import to_csv_bytes
from src.models.overtime.report import OVER_FACTOR
from src.services import overtime as ot
from src.services.context import ServiceError
from src.ui import charts_overtime as charts
from src.ui import state
from src.ui.common import app_context, require_page_role
from src.ui.overtime_common import as_of_input, as_of_notes, options_or_stop
from src.ui.text import md

actor = require_page_role("planner", "admin")
app = app_context()

st.title("Fairness report")
st.caption("Overtime hours per person, compared pro rata: hours per 40 contract hours, so a 20-hour part-timer's "
           "10 hours count like a full-timer's 20.")

opts = options_or_stop(app, actor)

c1, c2, c3, c4 = st.columns([1, 2.8, 1.3, 1.9])
as_of = as_of_input(c1, app, opts.as_of_default, "ot_fair_asof")
days = c2.segmented_control("Window", [30, 60, 90, 180, 365], default=90, format_func=lambda d: f"{d} d",
                            key=state.key("ot_fair_days")) or 90
basis = c3.radio("Hours counted", ["charged", "worked"], horizontal=True, key=state.key("ot_fair_basis"),
                 format_func={"charged": "charged", "worked": "worked"}.get,
                 help="charged = hours worked + hours declined (+ unanswered offers), as overtime equalisation "
                      "counts them; worked = only hours actually worked")
sites = c4.multiselect("Sites", opts.sites, key=state.key("ot_fair_sites"), placeholder="every site with requests")

try:
    with st.spinner("Computing fairness…"):
        view = ot.fairness(app, actor, days=int(days), as_of_date=as_of, basis=basis, sites=sites or None)
except ServiceError as exc:
    st.error(md(str(exc)))
    st.stop()
rep = view.report
met = rep.metrics()
worked_total = float(rep.per_person["hours_worked"].sum())
charged_total = float(rep.per_person["hours_charged"].sum())

m = st.columns(4)
m[0].metric("Fairness score (0–100)", f"{rep.score:.1f}")
m[1].metric("Gini", f"{met['gini']:.3f}", help="0 = everyone the same, towards 1 = one person carries it all")
m[2].metric("Jain's index", f"{met['jain']:.3f}", help="1 = everyone the same, 1/n = one person carries it all")
m[3].metric("Max / mean", f"{met['max_mean']:.2f}", help="the busiest person's hours / the average")
m = st.columns(4)
m[0].metric("Hours worked", f"{worked_total:,.1f} h", help=f"overtime hours worked in the last {rep.days} days")
m[1].metric("Hours charged", f"{charged_total:,.1f} h", help="worked + declined (+ unanswered) offers")
m[2].metric("Over-utilised", len(rep.over_utilised), help=f"more than {OVER_FACTOR:g} × the average")
m[3].metric("Under-utilised", len(rep.under_utilised), help="below the average")
st.markdown(f"**Score formula:** `{rep.formula}` — Gini = Σᵢ (2i − n − 1)·xᵢ / (n·Σ x) over the sorted "
            f"per-person values xᵢ; Jain = (Σ x)² / (n·Σ x²). {int(met['n'])} people (OT-willing staff of the sites "
            f"that request overtime, plus anyone offered overtime), "
            f"average {rep.average:.1f} h per 40 contract hours.")
as_of_notes(app, opts.as_of_default, "ot_fair_asof", rep.days, view.as_of, view.later_offers)

st.plotly_chart(charts.fairness_bars(rep.per_person, rep.average, over_factor=OVER_FACTOR,
                                     title=f"{basis.capitalize()} overtime hours per person per 40 contract hours "
                                           f"(last {rep.days} days)"), width="stretch")
left, right = st.columns([5, 4])  # the window table needs ~400 px: at 2/5 its last column was cut off
if len(view.timeseries):
    left.plotly_chart(charts.fairness_over_time(view.timeseries, f"Fairness over time ({rep.days}-day window, "
                                                                 "weekly)"), width="stretch")
right.plotly_chart(charts.window_scores(view.windows), width="stretch")
with right:
    # a third of the page: short labels and narrow columns, or over/under-utilised were cut off
    st.dataframe(view.windows[["days", "score", "gini", "jain", "max_mean", "average", "over_utilised",
                               "under_utilised"]], hide_index=True, width="stretch", column_config={
        "days": st.column_config.NumberColumn("Days", width=40),
        "score": st.column_config.NumberColumn("Score", format="%.1f", width=46),
        "gini": st.column_config.NumberColumn("Gini", format="%.3f", width=46),
        "jain": st.column_config.NumberColumn("Jain", format="%.3f", width=44),
        "max_mean": st.column_config.NumberColumn("Max÷avg", format="%.2f", width=58,
                                                  help="the busiest person's hours ÷ the average"),
        "average": st.column_config.NumberColumn("Avg", format="%.1f", width=46,
                                                 help="average hours per 40 contract hours"),
        "over_utilised": st.column_config.NumberColumn("Over", width=42, help="over-utilised people"),
        "under_utilised": st.column_config.NumberColumn("Under", width=46, help="under-utilised people")})

st.subheader("Per person")
table = rep.per_person.copy()
table["flag"] = ["over-utilised" if o else ("under-utilised" if u else "") for o, u in
                 zip(table["over_utilised"], table["under_utilised"], strict=True)]
cols = ["staff_id", "name", "site", "contract_hours", "offers", "accepted", "declined", "no_answer", "hours_worked",
        "hours_charged", "worked_per_40", "charged_per_40", "flag"]
# the flag is what the table is for: next to the name (it was the last column, out of sight)
st.dataframe(table[cols], hide_index=True, width="stretch",
             column_order=["staff_id", "name", "flag", "site", *[c for c in cols if c not in
                                                                 ("staff_id", "name", "flag", "site")]],
             column_config={"staff_id": st.column_config.TextColumn("Staff", width="small"),
                            "name": st.column_config.TextColumn("Name"),
                            "flag": st.column_config.TextColumn("Flag"), "site": st.column_config.TextColumn("Site"),
                            "contract_hours": st.column_config.NumberColumn("Contract h", format="%g"),
                            "offers": "Offers", "accepted": "Accepted", "declined": "Declined",
                            "no_answer": "No answer",
                            "hours_worked": st.column_config.NumberColumn("Worked h", format="%.1f"),
                            "hours_charged": st.column_config.NumberColumn("Charged h", format="%.1f"),
                            "worked_per_40": st.column_config.NumberColumn("Worked per 40", format="%.1f"),
                            "charged_per_40": st.column_config.NumberColumn("Charged per 40", format="%.1f")})
st.download_button("Download per-person table (CSV)", to_csv_bytes(table[cols]),
                   file_name=f"overtime_fairness_{rep.days}d_{view.as_of:%Y%m%d}.csv", mime="text/csv",
                   on_click="ignore")
st.caption("Open a person's overtime picture on **Staff detail**.")
