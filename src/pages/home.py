"""Home: what data is loaded, its date ranges and row counts, the last uploads, and what to do next."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from src.data.kinds import KINDS
from src.services import data as data_service
from src.ui import charts_data as charts
from src.ui.common import app_context, require_page_role
from src.ui.dates import DATETIME_COLUMN_FORMAT, fmt_date, local_column
from src.ui.tables import dash_missing, right_text

actor = require_page_role("planner", "admin")
app = app_context()

st.title("Workforce Planner")
st.caption("History → forecast → required staff → plan → people → tracking, for contact centres and care homes.")

summary = data_service.data_summary(app, actor)
total_rows = int(summary["rows"].sum()) if len(summary) else 0
SHORT = {"workload": "Workload rows", "unit_shifts": "Unit-shift rows", "staff": "Staff", "assignments": "Assignments",
         "overtime": "Overtime contacts", "roster": "Rostered shifts"}
cols = st.columns(len(summary) or 1)
for col, row in zip(cols, summary.itertuples(), strict=False):
    col.metric(SHORT.get(row.kind, row.dataset), f"{row.rows:,}",
               help=row.dataset + (f": {fmt_date(row.first)} → {fmt_date(row.last)}" if pd.notna(row.first) else ""))

if total_rows == 0:
    st.info("No data is loaded yet. An administrator can upload files on the **Data** page "
            "(sample files are offered there to show each format).")
else:
    st.subheader("Loaded data")
    view = summary.astype({"series": "Int64"}).rename(columns={
        "dataset": "Dataset", "rows": "Rows", "series": "Series", "first": "From",
        "last": "To", "batches": "Uploads"}).drop(columns=["kind"])
    # staff have no series and no date range: "–", not a grey "None"
    view = dash_missing(view, {"Series": "{:,}", "From": fmt_date, "To": fmt_date})
    st.dataframe(view, hide_index=True, width="stretch",
                 column_config={"Series": right_text(), "Rows": st.column_config.NumberColumn(format="localized")})
    daily = data_service.recent_daily_volume(app, actor, days=120)
    if len(daily):
        st.plotly_chart(charts.daily_volume(daily, "Contact-centre volume per day (last 120 days)"),
                        width="stretch")

st.subheader("Last uploads")
history = data_service.upload_history(app, actor, limit=10)
if len(history):
    # the upload time in the app's zone (stored in UTC), like every other time on the pages
    history = history.assign(kind=history["kind"].map(lambda k: KINDS[k].title if k in KINDS else k),
                             uploaded_at=local_column(history["uploaded_at"]))
    st.dataframe(history[["id", "kind", "file_name", "rows", "replaced_rows", "policy", "uploaded_by",
                          "uploaded_at"]].rename(columns={"id": "Batch", "kind": "Kind", "file_name": "File",
                                                          "rows": "Rows", "replaced_rows": "Replaced",
                                                          "policy": "Overlap", "uploaded_by": "By",
                                                          "uploaded_at": "At"}),
                 hide_index=True, width="stretch",
                 column_config={"At": st.column_config.DatetimeColumn("At", format=DATETIME_COLUMN_FORMAT)})
else:
    st.caption("Nothing uploaded yet.")

st.subheader("What to do next")
NEXT_STEPS = [  # (page file, label, icon, why) in pipeline order; admin-only pages only for admins
    ("pages/data.py", "Data", ":material/upload_file:", "upload your own history or try a sample file", True),
    ("pages/users.py", "Users", ":material/group:", "create planner accounts; change the first-start password", True),
    ("pages/forecast.py", "Forecast", ":material/trending_up:", "forecast each queue or care unit with intervals",
     False),
    ("pages/staffing.py", "Staffing", ":material/groups:", "turn volume into required agents and a shift plan", False),
    ("pages/assignment.py", "Assignment", ":material/assignment_ind:", "assign open tasks to the right people", False),
    ("pages/overtime_rankings.py", "Live rankings", ":material/format_list_numbered:",
     "find who to ask for an unfilled shift, fairly", False),
    ("pages/forecast_accuracy.py", "Forecast accuracy", ":material/fact_check:",
     "track forecasts against actuals", False),
]
for i, (path, label, icon, why, _admin_only) in enumerate(
        [step for step in NEXT_STEPS if actor.is_admin or not step[4]], 1):
    c1, c2 = st.columns([1, 3])
    c1.page_link(path, label=f"{i}. {label}", icon=icon)
    c2.caption(why)  # escaped: the page's own text
