"""Assignment (planner): choose tasks and method → preview with scores and explanations → compare methods
→ override with a reason → finalize. Open tasks and outcomes are managed in their own tabs."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pandas as pd
import streamlit as st

from src.data.export import to_csv_bytes
from src.models.assignment import METHODS
from src.services import people
from src.services.context import ServiceError
from src.ui import charts_people, state
from src.ui.common import app_context, require_page_role
from src.ui.dates import DATE_INPUT_FORMAT, DATETIME_COLUMN_FORMAT, fmt_date, fmt_datetime
from src.ui.tables import dash_missing, headers, right_text
from src.ui.text import md

actor = require_page_role("planner", "admin")
app = app_context()

PREVIEW_KEY = "asg_preview_id"
METHOD_HELP = {
    "optimal": "maximise the total score under every limit (exact when small; reports the gap otherwise)",
    "greedy": "most urgent task first, each to its best-scoring free person",
    "balanced": "like greedy, but a person's score drops as their load grows (spreads work)",
}

st.title("Assignment")
st.caption("Tasks are scored by the ranking model where it is confident and by transparent rules otherwise; "
           "hard limits (skills, site, hours, tasks per person) are never broken.")

summary = people.task_summary(app, actor)
m1, m2, m3 = st.columns(3)
m1.metric("Open tasks", f"{summary['open']:,}")
m2.metric("Due", f"{fmt_date(summary['first_due'])} – {fmt_date(summary['last_due'])}" if summary["open"] else "—",
          help=f"{fmt_datetime(summary['first_due'])} – {fmt_datetime(summary['last_due'])}" if summary["open"]
          else None)
m3.metric("Awaiting outcome", f"{summary['awaiting_outcome']:,}",
          help="Finalized assignments whose success or failure has not been recorded yet.")

preview_tab, tasks_tab, outcomes_tab = st.tabs(["Preview & finalize", "Open tasks", "Outcomes"])


def _show_error(exc: Exception) -> None:
    st.error(md(exc))  # service messages name tasks, people and sites


TASKS_MESSAGE, OUTCOME_MESSAGE = "asg_tasks_message", "asg_outcome_message"


def _rerun_with(flash: str, message: str) -> None:
    """Show ``message`` after a full rerun, so the counts above the tabs include what was just stored."""
    state.put(flash, message)
    st.rerun()


# ----------------------------------------------------------------------------------------- preview
with preview_tab:
    message = state.pop("asg_message")
    if message:
        st.success(md(message))
    if summary["open"] == 0 and state.get(PREVIEW_KEY) is None:
        st.info("There are no open tasks. Create some in the **Open tasks** tab (demo pattern or CSV upload).")
    default_start = summary["first_due"].date() if summary["open"] else people.next_week_start(app)
    default_end = summary["last_due"].date() if summary["open"] else default_start + timedelta(days=6)
    with st.form(state.key("asg_form")):
        c1, c2, c3 = st.columns([2, 1.3, 1])
        period = c1.date_input("Tasks due between", value=(default_start, default_end), format=DATE_INPUT_FORMAT,
                               key=state.key("asg_period"))
        method = c2.selectbox("Method", list(METHODS), index=list(METHODS).index("optimal"),
                              format_func=lambda m: f"{m} — {METHOD_HELP[m].split(' (')[0]}",
                              key=state.key("asg_method"))
        max_tasks = c3.number_input("Max tasks per person", min_value=0, max_value=1000, value=5, step=1,
                                    help="0 = no count limit (contract hours still apply).",
                                    key=state.key("asg_max"))
        c4, c5, c6, c7 = st.columns(4)
        use_hours = c4.checkbox("Respect contract hours", value=True, key=state.key("asg_hours"),
                                help="A person's tasks in the period may not exceed their contract hours pro rata, "
                                     "minus tasks already finalized.")
        site_required = c5.checkbox("Same site only", value=True, key=state.key("asg_site"),
                                    help="Tasks go to people of that site or who list it as preferred.")
        balance = c6.number_input("Balance weight", min_value=0.0, max_value=10.0, value=0.5, step=0.1,
                                  key=state.key("asg_balance"), help="balanced method: penalty per unit of load")
        fairness = c7.number_input("Fairness weight", min_value=0.0, max_value=10.0, value=0.0, step=0.1,
                                   key=state.key("asg_fair"),
                                   help="optimal method: rising cost per extra task of one person (0 = off)")
        submitted = st.form_submit_button("Preview assignments", type="primary")
    if submitted:
        if not isinstance(period, tuple | list) or len(period) != 2:
            st.error("Choose a start and an end date.")
        else:
            try:
                options = people.PreviewOptions(method=method, use_hours=use_hours,
                                                max_tasks_per_person=int(max_tasks), site_required=site_required,
                                                balance_weight=float(balance), fairness_weight=float(fairness))
                with st.status("Scoring candidates and solving…", expanded=True) as status:
                    bar = st.progress(0.0)
                    view = people.create_preview(app, actor, start=period[0], end=period[1], options=options,
                                                 on_progress=lambda f, t: bar.progress(min(max(f, 0.0), 1.0), t))
                    status.update(label=f"Preview {view.preview['id']} ready", state="complete", expanded=False)
                state.put(PREVIEW_KEY, int(view.preview["id"]))
            except ServiceError as exc:
                _show_error(exc)

    pid = state.get(PREVIEW_KEY) or people.latest_draft(app, actor)
    view = None
    if pid is not None:
        try:
            view = people.preview_view(app, actor, int(pid))
        except ServiceError as exc:
            _show_error(exc)
            state.pop(PREVIEW_KEY)
    if view is not None:
        prev = view.preview
        res = prev["summary"].get("result", {})
        rows = view.rows
        st.subheader(f"Preview {prev['id']} · {prev['method']} · {prev['status']}")
        decisions = prev["summary"].get("decisions", {})
        mix = ", ".join(f"{people.DECISION_LABELS.get(k, k)}: {v}" for k, v in decisions.items())
        # both times in the app's zone: "Created … 20:31 UTC, scored as of 21:31" read as an hour's discrepancy
        created = fmt_datetime(prev["created_at"], utc=True)
        scored = fmt_datetime(prev["scored_as_of"])
        when = f"on {created}" + ("" if scored == created else f", scored as of {scored}")
        st.caption(f"Created by {md(prev['created_by'])} {when}. Who decided per task — {mix}. "
                   f"Model: {md(prev['summary'].get('model_status', '?'))}.")
        k1, k2, k3, k4, k5 = st.columns(5)
        assigned = int((rows["staff_id"] != "").sum())
        k1.metric("Assigned", f"{assigned} of {len(rows)}")
        k2.metric("Unassigned", f"{len(rows) - assigned}")
        k3.metric("Total score", f"{pd.to_numeric(rows['score'], errors='coerce').sum():.2f}")
        k4.metric("Constraint violations", f"{res.get('violations', 0)}")
        k5.metric("Overrides", f"{int(rows['overridden'].sum())}")

        st.markdown("**Methods compared on the same tasks and scores**")
        comp = view.comparison
        if len(comp):
            st.plotly_chart(charts_people.method_comparison(comp), width="stretch")
            show = dash_missing(comp[["method", "solver", "total_score", "pct_of_optimal", "assigned", "unassigned",
                                      "violations", "util_std", "util_gini", "util_jain", "util_max_mean", "gap",
                                      "seconds"]], {"gap": "{:.2f}%"})  # greedy/balanced have no bound
            st.dataframe(show, hide_index=True, width="stretch", column_config={
                "total_score": st.column_config.NumberColumn("total score", format="%.2f"),
                "pct_of_optimal": st.column_config.NumberColumn("% of optimal", format="%.1f%%"),
                "util_std": st.column_config.NumberColumn("util std", format="%.3f"),
                "util_gini": st.column_config.NumberColumn("Gini", format="%.3f"),
                "util_jain": st.column_config.NumberColumn("Jain", format="%.3f"),
                "util_max_mean": st.column_config.NumberColumn("max/mean", format="%.2f"),
                "gap": right_text("gap to bound"),
                "seconds": st.column_config.NumberColumn("seconds", format="%.3f"),
            })
            st.caption("Utilisation = assigned hours ÷ capacity over everyone available (Gini 0 and Jain 1 = "
                       "perfectly even). The preview keeps the method you chose; run it again with another method "
                       "to switch.")

        st.markdown("**Assignments**")
        table = rows[["task_id", "task_type", "site", "priority", "due", "hours", "staff_id", "name", "score",
                      "decision", "reason", "overridden", "override_reason"]]
        st.dataframe(table, hide_index=True, width="stretch", column_config=headers(table.columns) | {
            "due": st.column_config.DatetimeColumn("due", format=DATETIME_COLUMN_FORMAT),
            "score": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0, format="%.2f"),
            "decision": st.column_config.TextColumn("decided by"),
            "reason": st.column_config.TextColumn("why unassigned", width="medium"),
        })
        st.download_button("Download preview (CSV)", to_csv_bytes(table), file_name=f"preview_{prev['id']}.csv",
                           mime="text/csv", on_click="ignore", key=state.key("asg_dl"))
        if len(view.utilisation):
            st.plotly_chart(charts_people.utilisation_bars(view.utilisation), width="stretch")

        st.markdown("**Explain and override a task**")
        labels = {r.task_id: f"{r.task_id} · {r.task_type} · {r.site} · → {r.staff_id or 'unassigned'}"
                  for r in rows.itertuples()}
        # The labels name the assignee. A keyed selectbox kept showing the chosen task's old label after an
        # override ("→ S0012" when it now went to S0014), so its key follows the assignments, and the chosen task
        # is carried over to the new widget.
        version = hashlib.sha1("|".join(rows["staff_id"].astype(str)).encode()).hexdigest()[:10]
        last = state.get("asg_task_last")
        task_id = st.selectbox("Task", list(labels), format_func=labels.get,
                               index=list(labels).index(last) if last in labels else 0,
                               key=state.key(f"asg_task_{prev['id']}_{version}"))
        state.put("asg_task_last", task_id)
        try:
            ex = people.explain_task(app, actor, int(prev["id"]), task_id)
        except ServiceError as exc:
            _show_error(exc)
            ex = None
        if ex is not None:
            cands = ex["candidates"]
            current = rows.loc[rows["task_id"] == task_id, "staff_id"].iloc[0]
            if len(cands):
                # the same words as the preview's "decided by" (not the codes); no model score and no model rank
                # without a model (the rank was 0 for everyone)
                shown = cands.head(25).assign(reason=lambda d: d["reason"].map(
                    lambda r: people.DECISION_LABELS.get(r, r)))
                if "model_rank" in shown:
                    shown["model_rank"] = shown["model_rank"].where(shown["model_score"].notna()
                                                                    & (shown["model_rank"] > 0))
                shown = dash_missing(shown, {"model_score": "{:.3f}", "model_rank": "{:.0f}"})
                st.dataframe(shown, hide_index=True, width="stretch", column_config=headers(shown.columns) | {
                    "model_rank": right_text("model rank"),
                    "tasks_in_preview": st.column_config.NumberColumn(
                        "tasks in this preview", help="Tasks this person has in the preview besides this one"),
                    "score": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0, format="%.3f"),
                    "rule_score": st.column_config.NumberColumn("rule score", format="%.3f"),
                    "model_score": right_text("model score"),
                    "reason": st.column_config.TextColumn("decided by"),
                    "free_hours": st.column_config.NumberColumn("free hours", format="%.1f"),
                    "can_take": st.column_config.CheckboxColumn("has room"),
                })
                names = dict(zip(cands["staff_id"], cands["name"], strict=True))
                top = cands["staff_id"].head(8).tolist()
                e1, e2 = st.columns(2)
                e1.plotly_chart(charts_people.rule_breakdown(ex["rules"], top, names), width="stretch")
                if len(ex["model"]):
                    who = e2.selectbox("Model explanation for", cands["staff_id"].tolist(),
                                       format_func=lambda s: f"{s} {names.get(s, '')}", key=state.key("asg_who"))
                    e2.plotly_chart(charts_people.model_contributions(ex["model"], who), width="stretch")
                else:
                    e2.info("No active ranking model: the rules decide (train one on the Ranking model page).")
            else:
                st.warning("Nobody is eligible for this task.")
            excluded = ex["excluded"]
            with st.expander(f"Excluded candidates ({len(excluded)})"):
                if len(excluded):
                    counts = excluded["reason"].value_counts()
                    why = " · ".join(f"{md(str(k).replace('_', ' '))}: {v}" for k, v in counts.items())
                    st.caption(f"By reason — {why}")
                    st.dataframe(excluded, hide_index=True, width="stretch", column_config=headers(excluded.columns))
                else:
                    st.caption("Nobody was excluded.")

            if prev["status"] == "draft":
                free = cands[cands["can_take"] & (cands["staff_id"] != current)] if len(cands) else cands
                choices = [""] + free["staff_id"].tolist()
                full = int((~cands["can_take"]).sum()) if len(cands) else 0
                if full:
                    st.caption(f"{full} eligible candidate(s) are left out of the list: they reached the task or "
                               "hour limit in this preview.")
                # a successful override clears its reason (it belonged to that change; left filled it would be
                # submitted again with the next override); a failed one keeps it, so the planner loses nothing.
                # The text input is cleared here, before it is drawn (Streamlit forbids changing a drawn widget), by
                # setting it to "": only a value *set* through session state is sent to the browser — deleting the
                # key left the old text on screen.
                if state.pop("asg_reason_clear"):
                    st.session_state[state.key("asg_reason")] = ""
                with st.form(state.key("asg_override_form")):
                    o1, o2 = st.columns([1, 2])
                    new_staff = o1.selectbox("Assign to", choices, key=state.key("asg_new_staff"),
                                             format_func=lambda s: "(leave unassigned)" if s == "" else
                                             f"{s} {names.get(s, '')}" if len(cands) else s)
                    reason = o2.text_input("Reason (required, kept in the audit log)", key=state.key("asg_reason"),
                                           max_chars=500)
                    if st.form_submit_button(f"Override {md(task_id)}"):
                        try:
                            ch = people.override_assignment(app, actor, int(prev["id"]), task_id, new_staff, reason)
                            st.toast(f"{md(ch['task_id'])}: {md(ch['from'] or 'unassigned')} → "
                                     f"{md(ch['to'] or 'unassigned')}")
                            state.put("asg_reason_clear", True)
                            st.rerun()
                        except ServiceError as exc:
                            _show_error(exc)

        if prev["status"] == "draft":
            st.divider()
            f1, f2, _ = st.columns([1.2, 1, 3])
            if f1.button(f"Finalize {assigned} assignments", type="primary", key=state.key("asg_finalize")):
                try:
                    out = people.finalize_preview(app, actor, int(prev["id"]))
                    state.put("asg_message", out.message)
                    st.rerun()
                except ServiceError as exc:
                    _show_error(exc)
            if f2.button("Discard preview", key=state.key("asg_discard")):
                try:
                    people.discard_preview(app, actor, int(prev["id"]))
                    state.pop(PREVIEW_KEY)
                    st.rerun()
                except ServiceError as exc:
                    _show_error(exc)

# ----------------------------------------------------------------------------------------- open tasks
with tasks_tab:
    tasks_message = state.pop(TASKS_MESSAGE)
    if tasks_message:
        st.success(md(tasks_message))
    with st.form(state.key("asg_gen_form")):
        st.markdown("**Create demo tasks** from the pattern of the stored history (types, sites, priorities, "
                    "hours, weekdays)")
        g1, g2, g3 = st.columns(3)
        g_start = g1.date_input("First day", value=people.next_week_start(app), format=DATE_INPUT_FORMAT,
                                key=state.key("asg_gen_start"))
        g_days = g2.number_input("Days", min_value=1, max_value=31, value=7, key=state.key("asg_gen_days"))
        g_n = g3.number_input("Number of tasks (0 = as many as usual)", min_value=0, max_value=5000, value=0,
                              key=state.key("asg_gen_n"))
        if st.form_submit_button("Create tasks"):
            try:
                out = people.generate_demo_tasks(app, actor, start=g_start, days=int(g_days),
                                                 n_tasks=int(g_n) or None)
                _rerun_with(TASKS_MESSAGE, out.message)  # the counts at the top were drawn before the tasks existed
            except ServiceError as exc:
                _show_error(exc)
    if actor.is_admin:
        with st.expander("Upload open tasks (CSV or Excel)"):
            st.caption("Columns: `task_id, task_type, site, priority, due, required_skill, hours` "
                       "(site and required_skill may be empty; skill as `name` or `name:level`).")
            up = st.file_uploader("Tasks file", type=["csv", "xlsx", "txt"], key=state.key("asg_tasks_upload"),
                                  max_upload_size=app.settings.upload_max_mb)
            if up is not None:
                report = people.validate_tasks_upload(app, actor, filename=up.name, content=up.getvalue())
                (st.success if report.frame is not None else st.error)(md(report.summary()))
                issues = report.to_frame()
                if len(issues):
                    st.dataframe(issues, hide_index=True, width="stretch", column_config={
                        "message": st.column_config.TextColumn("message", width="large")})
                if report.frame is not None and st.button(f"Store {len(report.frame):,} tasks", type="primary",
                                                          key=state.key("asg_tasks_store")):
                    try:
                        _rep, stored = people.import_tasks(app, actor, filename=up.name, content=up.getvalue())
                        if stored:
                            _rerun_with(TASKS_MESSAGE, stored.message)
                        st.error(md(_rep.summary()))
                    except ServiceError as exc:
                        _show_error(exc)
    tasks = people.open_tasks(app, actor)
    st.markdown(f"**Open tasks** ({len(tasks):,})")
    if len(tasks):
        shown_tasks = tasks[["task_id", "task_type", "site", "priority", "due", "required_skill", "hours", "source"]]
        st.dataframe(shown_tasks, hide_index=True, width="stretch", column_config=headers(shown_tasks.columns) | {
            "due": st.column_config.DatetimeColumn("due", format=DATETIME_COLUMN_FORMAT)})
    else:
        st.caption("No open tasks.")

# ----------------------------------------------------------------------------------------- outcomes
with outcomes_tab:
    outcome_message = state.pop(OUTCOME_MESSAGE)
    if outcome_message:
        st.success(md(outcome_message))
    waiting = people.assignments_awaiting_outcome(app, actor)
    st.caption("Recorded outcomes are added to the assignment history and become training data for the ranker.")
    if len(waiting):
        shown_waiting = waiting[["task_id", "task_type", "site", "due", "staff_id", "scorer", "method", "overridden"]]
        st.dataframe(shown_waiting, hide_index=True, width="stretch", column_config=headers(shown_waiting.columns) | {
            "due": st.column_config.DatetimeColumn("due", format=DATETIME_COLUMN_FORMAT)})
        with st.form(state.key("asg_outcome_form")):
            chosen = st.multiselect("Assignments", waiting["task_id"].tolist(), key=state.key("asg_out_tasks"))
            result = st.radio("Outcome", ["success", "failure"], horizontal=True, key=state.key("asg_out_result"))
            if st.form_submit_button("Record outcome"):
                try:
                    n = people.record_outcomes(app, actor, {t: result for t in chosen})
                    _rerun_with(OUTCOME_MESSAGE, f"Recorded {n} outcome(s) as {result}.")
                except ServiceError as exc:
                    _show_error(exc)
    else:
        st.caption("No finalized assignments are waiting for an outcome.")
