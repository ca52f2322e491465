"""Absence component shared by the Live rankings and Staff detail pages: record an absence, list and delete them.

Thin: widgets → ``src.services.overtime`` (record_absence / list_absences / delete_absence) → draw. Messages are
passed to the next run through a session-state flash so they survive the rerun that a callback triggers.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from src.services import overtime as ot
from src.services.context import Actor, AppContext, ServiceError
from src.ui import state
from src.ui.dates import DATE_INPUT_FORMAT
from src.ui.text import md

REASON_LABELS = {"sick": "Sick", "leave": "Leave / holiday", "training": "Training", "other": "Other"}


def _k(prefix: str, name: str) -> str:
    return state.key(f"{prefix}_abs_{name}")


def _flash_key(prefix: str) -> str:
    return f"{prefix}_abs_flash"


def _on_add(app: AppContext, actor: Actor, prefix: str, fixed_staff: str | None) -> None:
    ss = st.session_state
    sid = fixed_staff or (ss.get(_k(prefix, "who")) or "").split(" · ")[0]
    span = ss.get(_k(prefix, "dates")) or ()
    if isinstance(span, date):
        span = (span,)
    if not span:
        state.put(_flash_key(prefix), ("error", "Choose the first (and last) day of the absence."))
        return
    try:
        a = ot.record_absence(app, actor, staff_id=sid, date_from=span[0], date_to=span[-1],
                              reason=ss.get(_k(prefix, "reason"), "sick"), note=ss.get(_k(prefix, "note")))
    except ServiceError as exc:
        state.put(_flash_key(prefix), ("error", str(exc)))
        return
    state.put(_flash_key(prefix), ("success", f"Recorded: {a.describe()}. Rankings exclude them on those days."))


def _on_delete(app: AppContext, actor: Actor, prefix: str, absence_id: int) -> None:
    try:
        a = ot.delete_absence(app, actor, absence_id)
    except ServiceError as exc:
        state.put(_flash_key(prefix), ("error", str(exc)))
        return
    state.put(_flash_key(prefix), ("info", f"Deleted the absence of {a.staff_id} "
                                           f"{a.date_from:%Y-%m-%d}–{a.date_to:%Y-%m-%d} ({a.reason})."))


def show(app: AppContext, actor: Actor, *, key: str, default_day: date, staff: pd.DataFrame | None = None,
         staff_id: str | None = None, start: date | None = None, end: date | None = None,
         title: str = "Absences") -> None:
    """Draw the absence form and the absences list.

    Either ``staff`` (staff_id, name columns: a person picker is shown) or ``staff_id`` (one fixed person).
    The list shows that person's absences, or everyone's touching ``start``..``end``.
    """
    flash = state.pop(_flash_key(key))
    if flash:  # messages name people and sites from uploads: shown as typed (#13.10)
        getattr(st, flash[0])(md(flash[1]))
    with st.form(_k(key, "form"), clear_on_submit=False, border=True):
        st.markdown(f"**Record an absence** — {title.lower()} are excluded from rankings on those days")
        cols = st.columns([2.2, 2.1, 1.3, 2]) if staff_id is None else st.columns([2.1, 1.3, 2])
        i = 0
        if staff_id is None:
            people = staff if staff is not None else pd.DataFrame(columns=["staff_id", "name"])
            options = [f"{s} · {n}" for s, n in zip(people["staff_id"], people["name"], strict=True)]
            cols[0].selectbox("Person", options, index=None, key=_k(key, "who"), placeholder="type a name or id")
            i = 1
        cols[i].date_input("From – to (inclusive)", value=(default_day, default_day), key=_k(key, "dates"),
                           format=DATE_INPUT_FORMAT, help="Pick one day twice for a single day.")
        cols[i + 1].selectbox("Reason", list(REASON_LABELS), format_func=REASON_LABELS.get, key=_k(key, "reason"))
        cols[i + 2].text_input("Note (optional, no health details)", max_chars=ot.MAX_ABSENCE_NOTE,
                               key=_k(key, "note"))
        st.form_submit_button("Record absence", on_click=_on_add, args=(app, actor, key, staff_id))
    try:
        ab = ot.list_absences(app, actor, staff_id=staff_id, start=start, end=end)
    except ServiceError as exc:
        st.error(md(str(exc)))
        return
    if ab.empty:
        st.caption("No absences recorded" + (" for these days." if start is not None else "."))
        return
    view = ab[["id", "staff_id", "name", "date_from", "date_to", "days", "reason", "note", "created_by"]]
    st.dataframe(view, hide_index=True, width="stretch", key=_k(key, "table"),
                 column_config={"id": st.column_config.NumberColumn("#", width="small"),
                                "staff_id": "Staff", "name": "Name",
                                "date_from": st.column_config.DateColumn("From", format="YYYY-MM-DD"),
                                "date_to": st.column_config.DateColumn("To", format="YYYY-MM-DD"),
                                "days": st.column_config.NumberColumn("Days", width="small"),
                                "reason": "Reason", "note": "Note", "created_by": "Recorded by"})
    labels = {int(r.id): f"#{r.id} · {r.name or r.staff_id} · {r.date_from:%Y-%m-%d}–{r.date_to:%Y-%m-%d} · "
                         f"{r.reason}" for r in ab.itertuples(index=False)}
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    pick = c1.selectbox("Delete an absence (entered by mistake or ended early)", list(labels),
                        format_func=labels.get, index=None, key=_k(key, "del_pick"), placeholder="choose one")
    c2.button("Delete absence", key=_k(key, "del"), disabled=pick is None,
              on_click=_on_delete, args=(app, actor, key, pick))
