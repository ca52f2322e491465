"""What every overtime page needs first: the filter options, or a clear stop when there is nothing to show."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from src.services import overtime as ot
from src.services.context import Actor, AppContext, ServiceError
from src.ui import state
from src.ui.dates import DATE_INPUT_FORMAT
from src.ui.text import md


def options_or_stop(app: AppContext, actor: Actor) -> ot.OvertimeOptions:
    """The page's choices (sites, shift types, default date); stops the page with a message when unusable."""
    try:
        opts = ot.options(app, actor)
    except ServiceError as exc:
        st.error(md(str(exc)))
        st.stop()
    if opts.staff_count == 0:
        st.info("No staff list is stored yet. An administrator can upload staff and overtime history on the "
                "**Data** page.")
        st.stop()
    return opts


#: short names of the exclusion rules (the codes of ``src.models.overtime.EXCLUSION_CODES``) for tables and counts
EXCLUSION_LABELS = {"not_willing": "not OT-willing", "site": "site", "absent": "absent",
                    "already_working": "already working", "min_rest": "minimum rest",
                    "max_weekly_hours": "weekly hours", "role": "role", "skill": "qualification"}


#: the app's open requests, here and on Live rankings: words for the column names, nothing cut off
OPEN_REQUEST_COLUMNS = {
    "code": st.column_config.TextColumn("Request", width=100), "site": st.column_config.TextColumn("Site"),
    "unit": st.column_config.TextColumn("Unit"),
    "shift_date": st.column_config.DateColumn("Shift date", format="YYYY-MM-DD", width=90),
    "shift_type": st.column_config.TextColumn("Shift", width=60),
    "hours": st.column_config.NumberColumn("Hours", format="%g", width=56),
    "contacts": st.column_config.NumberColumn("Contacted", width=80, help="people offered the shift"),
    "responses": st.column_config.NumberColumn("Answers", width=70),
    "created_by": st.column_config.TextColumn("Created by", width=100)}

#: people excluded for these reasons could not be asked in any case; they are listed after the others
_NEVER_ASKED = frozenset({"site", "not_willing"})
_NOT_QUALIFIED = frozenset({"role", "skill"})


def excluded_table(result) -> tuple[pd.DataFrame, str]:  # noqa: ANN001 - a RankingResult
    """The excluded staff as the pages show them — staff_id, name, rules (short names), reasons — and a one-line
    count per rule ("already working 12 · minimum rest 9 · …", most frequent first), so a manager sees at a glance
    whether the roster, the rest rule or the weekly hours took people out.

    Ordered by how close a person came: first those blocked only by availability (absent, already working, rest,
    weekly hours — the ones a manager might still negotiate with), then missing role or qualification, then
    people outside the site scope or not willing to work overtime; staff_id within each group."""
    ex = result.excluded_frame()
    codes = [[c for c in cell.split(",") if c] for cell in ex["codes"]]
    ex.insert(2, "rules", [", ".join(EXCLUSION_LABELS.get(c, c) for c in cs) for cs in codes])
    ex["_order"] = [2 if _NEVER_ASKED & set(cs) else 1 if _NOT_QUALIFIED & set(cs) else 0 for cs in codes]
    ex = ex.sort_values(["_order", "staff_id"], kind="mergesort").reset_index(drop=True)
    counts = Counter(EXCLUSION_LABELS.get(c, c) for cs in codes for c in cs)
    summary = " · ".join(f"{label} {n}" for label, n in counts.most_common())
    return ex[["staff_id", "name", "rules", "reasons"]], summary


# ------------------------------------------------------------------------------------------ the reports' "as of"

#: the "as of" day chosen in this session, shared by the Overtime dashboard, Fairness report and Staff detail
AS_OF = "ot_asof"


def _remember_as_of(widget_key: str) -> None:
    state.put(AS_OF, st.session_state.get(widget_key))


def _as_of_today(widget_key: str, today: date) -> None:
    st.session_state[widget_key] = today
    state.put(AS_OF, today)


def as_of_input(container: Any, app: AppContext, default: ot.AsOfDefault, name: str) -> date:
    """The "As of (end of day)" input of a report page, set once per session and then kept.

    Why: the day used to be passed as ``value=`` on every run from the newest activity, so recording a coverage
    request moved the window by weeks and changed every number without notice. The first visit of the session uses
    :func:`src.services.overtime.default_as_of` (stable: the end of the uploaded history, or today); the day chosen
    on one report is kept across reruns, page switches and new activity, and the other reports open on it too.
    """
    key = state.key(name)
    if key not in st.session_state:  # the widget's key is dropped while another page shows: restore it
        st.session_state[key] = state.get(AS_OF) or default.day
    container.date_input("As of (end of day)", key=key, max_value=ot.local_now(app).date(), format=DATE_INPUT_FORMAT,
                         on_change=_remember_as_of, args=(key,),
                         help=f"Reports count what was known at the end of this day. Default: {default.describe()}. "
                              "Activity recorded in the app does not move it.")
    return st.session_state[key]


def window_text(days: int, as_of: pd.Timestamp) -> str:
    """"90 days up to the end of 31.10.2026" (a past day) or "… up to 08.12.2026 00:17 (now)" (today)."""
    if as_of == as_of.normalize():
        return f"{days} days up to the end of {as_of - pd.Timedelta(days=1):%Y-%m-%d}"
    return f"{days} days up to {as_of:%Y-%m-%d %H:%M} (now)"


def as_of_notes(app: AppContext, default: ot.AsOfDefault, name: str, days: int, as_of: pd.Timestamp,
                later_offers: int) -> None:
    """Say which day the numbers are for and where that day comes from; when offers were made after it (recorded
    in the app since the history ends, say), say how many are left out and offer to count up to today."""
    day = st.session_state.get(state.key(name))
    source = ("the default: " + default.describe()) if day == default.day else \
        f"chosen (default: {default.describe()})"
    st.caption(f"{window_text(days, as_of)} — {source}.")
    today = ot.local_now(app).date()
    if later_offers and day is not None and day < today:
        c1, c2 = st.columns([4, 1], vertical_alignment="center")
        c1.info(f"{later_offers:,} offer(s) made after {day:%Y-%m-%d} (for example coverage requests recorded in "
                "this app) are not counted here.")
        c2.button("Count up to today", key=state.key(name + "_today"), on_click=_as_of_today,
                  args=(state.key(name), today))


#: a person's columns in the ranking tables, in words (they showed as staff_id, name, role, site)
PERSON_COLUMNS = {"staff_id": st.column_config.TextColumn("Staff", width="small"),
                  "name": st.column_config.TextColumn("Name"), "role": st.column_config.TextColumn("Role"),
                  "site": st.column_config.TextColumn("Site")}
