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
st.dataframe(audit_service.readable_events(events, tz), hide_index=True, width="stretch", column_config={
    "time": st.column_config.DatetimeColumn("time", format=DATETIME_COLUMN_FORMAT + ":ss"),
    "detail": st.column_config.TextColumn("detail", width="large")})
if len(events):
    st.download_button("Export CSV", data=lambda: audit_service.export_csv(app, actor, events),
                       file_name=f"audit_{start}_{end}.csv", mime="text/csv", on_click="ignore")
