"""Staff detail: one person's overtime — hours, acceptance, response time, preferences, recent shifts and offers."""

from __future__ import annotations

import streamlit as st

from src.services import overtime as ot
from src.services.context import ServiceError
from src.ui import overtime_absences as absences
from src.ui import state
from src.ui.common import app_context, require_page_role
from src.ui.dates import DATE_INPUT_FORMAT
from src.ui.overtime_common import as_of_input, as_of_notes
from src.ui.tables import dash_missing, right_text
from src.ui.text import md, md_list

actor = require_page_role("planner", "admin")
app = app_context()

st.title("Staff detail")

try:
    people = ot.staff_list(app, actor)
    as_of_default = ot.default_as_of(app, actor)
except ServiceError as exc:
    st.error(md(str(exc)))
    st.stop()
if people.empty:
    st.info("No staff list is stored yet. An administrator can upload it on the **Data** page.")
    st.stop()

labels = {sid: f"{name} ({sid} · {site}{'' if willing else ' · not OT-willing'})" for sid, name, site, willing in
          zip(people["staff_id"], people["name"], people["site"], people["ot_willing"], strict=True)}
ids = list(labels)
wanted = st.query_params.get("staff")
if wanted not in ids:  # open on someone overtime is about: OT-willing, at a site with overtime requests
    ot_sites = set(ot.options(app, actor).sites)
    wanted = next((s for s, site, willing in zip(people["staff_id"], people["site"], people["ot_willing"],
                                                   strict=True) if willing and site in ot_sites), ids[0])
c1, c2, c3 = st.columns([2.2, 1, 2.8])
sid = c1.selectbox("Person", ids, format_func=labels.get, key=state.key("ot_staff_pick"),
                   index=ids.index(wanted) if wanted in ids else 0)
as_of = as_of_input(c2, app, as_of_default, "ot_staff_asof")
days = c3.segmented_control("Window", [30, 60, 90, 180, 365], default=90, format_func=lambda d: f"{d} d",
                            key=state.key("ot_staff_days")) or 90

try:
    view = ot.staff_detail(app, actor, sid, days=int(days), as_of_date=as_of)
except ServiceError as exc:
    st.error(md(str(exc)))
    st.stop()
d = view.detail

m = st.columns(5)
m[0].metric(f"OT hours worked ({d.days} d)", f"{d.hours_worked:.1f} h")
m[1].metric("Hours charged", f"{d.hours_charged:.1f} h", help="worked + declined (+ unanswered) offers")
m[2].metric("Acceptance rate", f"{d.acceptance_rate:.0%}" if d.acceptance_rate is not None else "–",
            help=f"{d.accepted} of {d.offers} offers; smoothed (used in the ranking): {d.acceptance_smoothed:.0%}")
m[3].metric("Avg response time", f"{d.avg_response_minutes:.0f} min" if d.avg_response_minutes is not None else "–")
m[4].metric("Offers", d.offers)
as_of_notes(app, as_of_default, "ot_staff_asof", d.days, view.as_of, 0)

st.subheader("Preferences and contract")
skills = ", ".join(f"{md(k)} {v}" for k, v in sorted(d.skills.items())) or "–"
st.markdown(f"- **Home site:** {md(d.site)} · **Role:** {md(d.role)}\n"
            f"- **Contract:** {d.contract_hours:g} h/week · **Willing to work overtime:** "
            f"{'yes' if d.ot_willing else 'no'}\n"
            f"- **Preferred sites:** {md_list(d.preferred_sites) or '–'}\n"
            f"- **Skills (level 1–5):** {skills}")

st.subheader("Roster")
week_day = st.columns([1, 3])[0].date_input("Week of", value=ot.local_now(app).date(),
                                            key=state.key("ot_staff_roster_week"), format=DATE_INPUT_FORMAT,
                                            help="Any day of the week (Monday to Sunday) to show.")
try:
    week = ot.roster_week(app, actor, sid, week_day)
except ServiceError as exc:
    st.error(md(str(exc)))
else:
    if len(week.shifts):
        st.dataframe(week.shifts, hide_index=True, width="stretch", key="roster_week",
                     column_config={"date": st.column_config.DateColumn("Date", format="ddd DD.MM.YYYY"),
                                    "shift_type": "Shift", "start": st.column_config.DatetimeColumn("Start",
                                                                                                    format="HH:mm"),
                                    "end": st.column_config.DatetimeColumn("End", format="DD.MM. HH:mm"),
                                    "site": "Site", "unit": "Unit",
                                    "hours": st.column_config.NumberColumn("Paid hours", format="%.1f")})
        st.caption(f"{week.rostered_hours:.1f} h rostered in {len(week.shifts)} shift(s) in the week of "
                   f"{week.week_start:%Y-%m-%d} (contract {week.contract_hours:g} h). Overtime rankings for a shift "
                   "that week count these hours towards the weekly maximum and treat these shifts as work "
                   "(no overlap, minimum rest).")
    else:
        st.caption(f"No rostered shifts in the week of {week.week_start:%Y-%m-%d}: overtime rankings for that week "
                   f"assume the contract hours ({week.contract_hours:g} h).")

#: recent shifts and offers, one above the other at full width: side by side (about 460 px each) the site, unit,
#: minutes and request id were cut off
RECENT_COLS = {"request_id": st.column_config.TextColumn("Request", width=100),
               "shift_date": st.column_config.DateColumn("Date", format="YYYY-MM-DD", width=90),
               "site": st.column_config.TextColumn("Site", width=220),
               "unit": st.column_config.TextColumn("Unit", width=200),
               "shift_type": st.column_config.TextColumn("Shift", width=60),
               "status": st.column_config.TextColumn("Answer", width=80),
               "hours_worked": st.column_config.NumberColumn("Hours", format="%.1f", width=60),
               "response_minutes": right_text("Answer after (min)", width=130,
                                              help="minutes from the offer to the answer")}
st.subheader("Recent overtime shifts")
if len(d.recent_shifts):
    st.dataframe(dash_missing(d.recent_shifts, {"unit": "{}", "response_minutes": "{:.0f}"}), hide_index=True,
                 width="stretch", column_config=RECENT_COLS, key="recent_shifts",  # all accepted: no answer column
                 column_order=["shift_date", "shift_type", "hours_worked", "site", "unit", "response_minutes",
                               "request_id"])
else:
    st.caption("No overtime shifts worked before this date.")
st.subheader("Recent offers")
if len(d.recent_offers):
    st.dataframe(dash_missing(d.recent_offers, {"unit": "{}", "response_minutes": "{:.0f}"}), hide_index=True,
                 width="stretch", column_config=RECENT_COLS, key="recent_offers",
                 column_order=["shift_date", "shift_type", "status", "response_minutes", "site", "unit",
                               "request_id"])
else:
    st.caption("No offers before this date.")

st.subheader("Absences")
st.caption("Sick leave, holidays and training recorded here exclude this person from overtime rankings on those "
           "days.")
absences.show(app, actor, key="ots", default_day=ot.local_now(app).date(), staff_id=sid, title="Absences")

if len(view.contacts):
    st.subheader("Contacts recorded in the app")
    # "answer": a pending offer of a filled request reads "not needed" (cancelled: "withdrawn"), not "–"
    st.dataframe(dash_missing(view.contacts[["request_id", "channel", "contacted_at", "contacted_by", "answer",
                                             "responded_at"]], {"responded_at": "{:%Y-%m-%d %H:%M}"}),
                 hide_index=True, width="stretch", key="app_contacts",
                 column_config={"request_id": "Request", "channel": "Channel",
                                "contacted_at": st.column_config.DatetimeColumn("Contacted",
                                                                                format="YYYY-MM-DD HH:mm"),
                                "contacted_by": "Contacted by", "answer": "Answer",
                                "responded_at": right_text("Answered")})
