"""Audit log (admin): who changed data, models, users and assignments — filter and export as CSV."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from src.services import audit as audit_service
from src.ui import state
from src.ui.common import app_context, require_page_role
from src.ui.dates import DATE_INPUT_FORMAT, DATETIME_COLUMN_FORMAT

actor = require_page_role("admin")
app = app_context()

st.title("Audit log")
c1, c2, c3, c4 = st.columns(4)
user = c1.text_input("User", key=state.key("audit_user")).strip().lower()
action = c2.selectbox("Action", ["(all)"] + audit_service.actions(app, actor), key=state.key("audit_action"))
# days and times in the app's zone (APP_TIMEZONE), like every other page; the store keeps UTC
tz = app.settings.timezone
today = pd.Timestamp.now(tz=tz).date()
start = c3.date_input("From", value=today - timedelta(days=30), format=DATE_INPUT_FORMAT, key=state.key("audit_from"))
end = c4.date_input("To", value=today, format=DATE_INPUT_FORMAT, key=state.key("audit_to"))
if start > end:
    st.error("'From' must not be after 'To'.")
    st.stop()
events = audit_service.list_events(app, actor, user=user or None, action=None if action == "(all)" else action,
                                   start=start, end=end, timezone=tz)
st.caption(f"{len(events):,} events (newest first, at most 5,000 shown). Times in {tz}.")
shown = audit_service.readable_events(events, tz)
st.dataframe(shown, hide_index=True, width="stretch", column_config={
    "time": st.column_config.DatetimeColumn("time", format=DATETIME_COLUMN_FORMAT + ":ss"),
    "detail": st.column_config.TextColumn("detail", width="large")})
if len(events):
    # a long detail (a training's metrics, a settings change) is cut off in its cell: the whole of one event on demand
    by_id = {int(i): n for n, i in enumerate(events["id"])}
    def _event_label(event_id: int) -> str:
        row = shown.iloc[by_id[event_id]]
        return f"{row['time']:%Y-%m-%d %H:%M:%S} · {row['action']} · {row['object id'] or ''}"

    pick = st.selectbox("Full detail of an event", list(by_id), index=None, placeholder="Choose an event",
                        format_func=_event_label, key=state.key("audit_event"))
    if pick is not None:
        st.text(audit_service.readable_detail(events["detail_json"].iloc[by_id[pick]], sep="\n") or "(no detail)")
    st.download_button("Export CSV", data=lambda: audit_service.export_csv(app, actor, events),
                       file_name=f"audit_{start}_{end}.csv", mime="text/csv", on_click="ignore")
