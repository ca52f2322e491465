"""Live rankings: who should be asked to cover a shift, why, and the coverage request from first call to filled."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import streamlit as st

from src.services import overtime as ot
from src.services.context import ServiceError
from src.ui import charts_overtime as charts
from src.ui import overtime_absences as absences
from src.ui import state
from src.ui.common import app_context, require_page_role
from src.ui.dates import DATE_INPUT_FORMAT, DATETIME_COLUMN_FORMAT, local_column
from src.ui.overtime_common import OPEN_REQUEST_COLUMNS, PERSON_COLUMNS, excluded_table, options_or_stop
from src.ui.tables import dash_missing, right_text
from src.ui.text import md

actor = require_page_role("planner", "admin")
app = app_context()

PARAMS, ACTIVE, FLASH = "ot_rank_params", "ot_active_request", "ot_flash"
FACTOR_LABELS = charts.FACTOR_LABELS
RESPONSE_CHOICES = {"accepted": "Accepted", "declined": "Declined", "no_answer": "No answer"}


def _k(name: str) -> str:
    return state.key("otr_" + name)


def _flash(kind: str, text: str) -> None:
    """A message for the next run, shown as typed: it names sites, units and people from uploads (Markdown-escaped,
    #13.10)."""
    state.put(FLASH, (kind, md(text)))


# ------------------------------------------------------------------------------------------ callbacks

def _on_rank() -> None:
    ss = st.session_state
    weights = {f: float(ss.get(_k("w_" + f), 0) or 0) / 100.0 for f in FACTOR_LABELS}
    state.put(PARAMS, {
        "site": ss.get(_k("site")), "shift_date": ss.get(_k("date")), "shift_type": ss.get(_k("type")),
        "unit": ss.get(_k("unit")) or None, "hours": ss.get(_k("hours")),
        "required_role": ss.get(_k("role")) or None, "required_skill": (ss.get(_k("skill")) or "").strip() or None,
        "weights": weights, "tie_break": ss.get(_k("tie"), "seniority"),
    })
    state.pop(ACTIVE)


def _on_request(params: dict) -> None:
    p = {k: v for k, v in params.items() if k not in ("weights", "tie_break")}
    try:
        view = ot.create_request(app, actor, note=st.session_state.get(_k("note")), **p)
    except ServiceError as exc:
        _flash("error", str(exc))
        return
    state.put(ACTIVE, view.code)
    _flash("success", f"Coverage request {view.code} created. Contact people from the ranked list below.")


def _on_contact(code: str, pick_key: str, everyone: list[str]) -> None:
    """Record the picked offers; everyone not contacted yet only with the explicit "all" box ticked (Streamlit's
    own *Select all*, the first row of the dropdown, offered the shift to the whole list with one click)."""
    ss = st.session_state
    to_all = bool(ss.get(_k("contact_all")))
    ss[_k("contact_all")] = False  # one decision per round: the next round starts unticked
    picked = list(everyone) if to_all else [s.split(" · ")[0] for s in ss.get(pick_key) or []]
    try:
        ids = ot.contact(app, actor, code, picked, channel=ss.get(_k("channel"), "phone"))
    except ServiceError as exc:
        _flash("error", str(exc))
        return
    who = f"everyone not contacted yet ({len(ids)} people)" if to_all else ", ".join(ids)
    _flash("success", f"Recorded {len(ids)} contact(s) for {code}: {who}.")


def _on_response(code: str, contacted: dict[str, datetime], who_key: str) -> None:
    ss = st.session_state
    who = ss.get(who_key)
    if not who:
        _flash("error", "Choose who answered.")
        return
    sid = who.split(" · ")[0]
    minutes = ss.get(_k("resp_minutes"))
    when = None
    if minutes is not None:
        when = contacted[sid] + timedelta(minutes=float(minutes))
    # the minutes belong to this one answer: cleared after it, and after an error too — a kept "600" made the next
    # answer fail the same way ("The response time lies in the future")
    ss[_k("resp_minutes")] = None
    try:
        out = ot.record_response(app, actor, code, sid, ss.get(_k("resp_kind"), "accepted"), responded_at=when,
                                 fill=bool(ss.get(_k("resp_fill"), True)))
    except ServiceError as exc:
        _flash("error", f"{exc} Nothing was recorded; the minutes were cleared (empty = answered now)."
               if minutes is not None else str(exc))
        return
    _flash("success", out.message)


def _on_cancel(code: str) -> None:
    try:
        ot.cancel_request(app, actor, code, st.session_state.get(_k("cancel_reason")) or "")
    except ServiceError as exc:
        _flash("error", str(exc))
        return
    _flash("info", f"{code} was cancelled; pending offers are withdrawn.")


def _on_open(choices: dict[str, str]) -> None:
    label = st.session_state.get(_k("open_pick"))
    if label in choices:
        state.put(ACTIVE, choices[label])


def _on_close_panel() -> None:
    state.pop(ACTIVE)


# ------------------------------------------------------------------------------------------ drawing

def _draw_ranking(result, key: str) -> None:  # noqa: ANN001
    n_c, n_x = len(result.candidates), len(result.excluded)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Eligible", n_c)
    c2.metric("Excluded", n_x)
    c3.metric("Best score", f"{result.candidates[0].total:.1f}" if n_c else "–", help="points out of 100")
    c4.metric("Acceptance from", result.acceptance_source)
    st.caption(f"Shift {result.shift_start:%a %Y-%m-%d %H:%M}–{result.shift_end:%H:%M}; ranked on what was "
               f"known at {result.as_of:%Y-%m-%d %H:%M}. Weights: "
               + ", ".join(f"{FACTOR_LABELS[f]} {w:.0%}" for f, w in result.rules.weights.items())
               + ". Hatched bars = no history yet (neutral prior).")
    if n_c:
        st.plotly_chart(charts.score_breakdown(result.breakdown_frame()), width="stretch", key=f"chart_{key}")
        table = result.to_frame()
        view = table[["rank", "staff_id", "name", "role", "site", "total"]].copy()
        for f in FACTOR_LABELS:
            view[FACTOR_LABELS[f]] = table[f"{f}_points"].round(1)
        view["Why"] = [" · ".join(f"{FACTOR_LABELS[f]}: {row[f + '_label']}" for f in FACTOR_LABELS)
                       for _, row in table.iterrows()]
        st.dataframe(view, hide_index=True, width="stretch", key=f"table_{key}",
                     column_config={"total": st.column_config.ProgressColumn("Score", min_value=0, max_value=100,
                                                                             format="%.1f"),
                                    "rank": st.column_config.NumberColumn("#", width="small"),
                                    **PERSON_COLUMNS})
    else:
        st.warning("Nobody is eligible for this shift. The exclusions below say why.")
    with st.expander(f"Excluded staff ({n_x}) and why", expanded=n_c == 0):
        ex, by_rule = excluded_table(result)
        if len(ex):
            st.caption(f"By rule (a person can break several): {by_rule}. Listed first: people blocked only by "
                       "absence, rostered or overtime shifts, rest or weekly hours. Rostered shifts come from the "
                       "roster upload; a week's rostered hours replace the contract hours in the weekly maximum.")
            st.dataframe(ex, hide_index=True, width="stretch", key=f"excluded_{key}",
                         column_config={"staff_id": st.column_config.TextColumn("Staff", width="small"),
                                        "name": st.column_config.TextColumn("Name", width="small"),
                                        "rules": st.column_config.TextColumn("Rules", width="small"),
                                        "reasons": st.column_config.TextColumn("Why", width="large")})
        else:
            st.caption("Nobody was excluded.")


def _draw_request(view) -> None:  # noqa: ANN001
    r = view.request
    where = md(r["site"]) + (f" / {md(r['unit'])}" if r["unit"] else "")
    st.subheader(f"Coverage request {view.code}")
    status = {"open": ":orange-badge[open]", "filled": ":green-badge[filled]",
              "cancelled": ":gray-badge[cancelled]"}[r["status"]]
    st.markdown(f"**{where}** · {md(r['shift_type'])} shift on **{r['shift_date']:%a %Y-%m-%d}** · {r['hours']:g} h · "
                f"status {status}" + (f" · filled by **{md(r['filled_staff_id'])}**" if r["filled_staff_id"] else "")
                + (f"  \nRequires role {md(r['required_role'])}" if r["required_role"] else "")
                + (f"  \nRequires skill {md(r['required_skill'])}" if r["required_skill"] else ""))
    st.button("Close this request panel", on_click=_on_close_panel, key=_k("close_panel"))
    if view.ranking is not None and view.ranking.shift_start < ot.local_now(app):
        st.warning("This shift has already started; contacts and answers are recorded retroactively.")
    if view.is_open and view.ranking is not None:
        contact_list = view.contact_list()
        st.markdown("**Ranked contact list**")
        # not contacted / not answered yet: "–", not a grey "None"
        st.dataframe(dash_missing(contact_list, {"contacted_at": "{:%Y-%m-%d %H:%M}",
                                                 "responded_at": "{:%Y-%m-%d %H:%M}", "response_minutes": "{:.0f}"}),
                     hide_index=True, width="stretch", key="contact_list",
                     column_config={"total": st.column_config.ProgressColumn("Score", min_value=0, max_value=100,
                                                                             format="%.1f"),
                                    "rank": st.column_config.NumberColumn("#", width="small"), **PERSON_COLUMNS,
                                    "status": "Status", "contacted_at": right_text("Contacted"),
                                    "responded_at": right_text("Answered"), "response_minutes": right_text("Minutes")})
        left, right = st.columns(2)
        todo = contact_list.loc[contact_list["status"] == "not contacted"]
        # option lists change with every contact/answer: fresh widget keys keep stale selections out
        version = f"{view.code}_{len(view.contacts)}_{int(view.contacts['response'].notna().sum())}"
        pick_key, who_key = _k(f"contact_pick_{version}"), _k(f"resp_who_{version}")
        with left.form(_k("contact_form")):
            st.markdown("**1. Contact**")
            options = [f"{s} · {n}" for s, n in zip(todo["staff_id"], todo["name"], strict=True)]
            # no "Select all" row in the dropdown: offering the shift to everyone is the explicit box below
            st.multiselect("People to offer the shift to", options, default=options[:1], key=pick_key,
                           select_all=False, help="Best-ranked first. Only eligible people can be contacted.")
            if len(options) > 1:
                st.checkbox(f"Offer it to all {len(options)} people not contacted yet", key=_k("contact_all"),
                            help="Ignores the selection above and records an offer to each of them.")
            st.radio("Channel", ["phone", "sms", "email"], horizontal=True, key=_k("channel"),
                     help="SMS and e-mail offers go through the offer gateway (currently logged only).")
            st.form_submit_button("Record contact", on_click=_on_contact,
                                  args=(view.code, pick_key, todo["staff_id"].tolist()), type="primary")
        waiting = view.contacts.loc[view.contacts["response"].isna()]
        contacted = {sid: ts.to_pydatetime()
                     for sid, ts in zip(waiting["staff_id"], waiting["contacted_at"], strict=True)}
        with right.form(_k("response_form")):
            st.markdown("**2. Record the answer**")
            st.selectbox("Who answered", [f"{s} · {n}" for s, n in zip(waiting["staff_id"], waiting["name"],
                                                                       strict=True)],
                         key=who_key, placeholder="nobody is waiting for an answer", index=0 if len(waiting)
                         else None)
            st.radio("Answer", list(RESPONSE_CHOICES), format_func=RESPONSE_CHOICES.get, horizontal=True,
                     key=_k("resp_kind"))
            st.number_input("Answered how many minutes after the contact? (empty = now)", min_value=0,
                            max_value=60 * 24 * 14, value=None, step=5, key=_k("resp_minutes"))
            st.checkbox("An acceptance fills the shift", value=True, key=_k("resp_fill"))
            st.form_submit_button("Record answer", on_click=_on_response, args=(view.code, contacted, who_key),
                                  type="primary")
        accepted = view.contacts.loc[view.contacts["response"] == "accepted"]
        for sid, name in zip(accepted["staff_id"], accepted["name"], strict=True):
            st.button(f"Give the shift to {md(name)} ({md(sid)})", key=_k(f"fill_{sid}"),
                      on_click=lambda s=sid: _fill(view.code, s))
        with st.expander("Cancel this request"):
            st.text_input("Reason", key=_k("cancel_reason"))
            st.button("Cancel request", key=_k("cancel"), on_click=_on_cancel, args=(view.code,))
        _draw_ranking(view.ranking, "request")
    else:
        contacts = view.contacts
        if len(contacts):
            # a pending offer of a filled request reads "not needed" (cancelled: "withdrawn"), not "–"
            st.dataframe(dash_missing(contacts.assign(response=view.answers())[
                                          ["staff_id", "name", "channel", "contacted_at", "response", "responded_at",
                                           "response_minutes"]],
                                      {"responded_at": "{:%Y-%m-%d %H:%M}", "response_minutes": "{:.0f}"}),
                         hide_index=True, width="stretch", key="closed_contacts",
                         column_config={"staff_id": "Staff", "name": "Name", "channel": "Channel",
                                        "contacted_at": st.column_config.DatetimeColumn("Contacted",
                                                                                        format="DD.MM. HH:mm"),
                                        "response": "Answer", "responded_at": right_text("Answered"),
                                        "response_minutes": right_text("Minutes")})
        else:
            st.caption("Nobody was contacted.")


def _fill(code: str, sid: str) -> None:
    try:
        ot.fill_request(app, actor, code, sid)
    except ServiceError as exc:
        _flash("error", str(exc))
        return
    _flash("success", f"{code} is filled by {sid}.")


# ------------------------------------------------------------------------------------------ page

st.title("Live rankings")
st.caption("Who to ask first for an unfilled shift: hard rules exclude people (with the reason), then a 5-factor "
           "score ranks the rest — availability, acceptance history, fairness (fewest charged overtime hours), "
           "site preference and response speed.")

opts = options_or_stop(app, actor)

flash = state.pop(FLASH)
if flash:
    getattr(st, flash[0])(flash[1])

# The shift is initialised once per session: the last ranked shift, else the next shift that has not started yet
# (today's early shift at noon had long started). Passing ``value=`` on every run made the field jump after a
# request was created, because a changed ``value`` resets the widget. Both keys are dropped while another page
# shows, so both are restored together.
if _k("date") not in st.session_state:
    last = state.get(PARAMS) or {}
    if last.get("shift_date"):
        st.session_state[_k("date")] = last["shift_date"]
        if last.get("shift_type") in opts.shift_types:
            st.session_state[_k("type")] = last["shift_type"]
    else:
        upcoming = ot.next_shift(app, actor, opts.shift_types)
        st.session_state[_k("date")] = upcoming.day
        st.session_state[_k("type")] = upcoming.shift_type

with st.form(_k("rank_form")):
    c1, c2, c3, c4, c5 = st.columns([1.1, 1, 1.6, 1.6, 0.8])
    c1.date_input("Shift date", key=_k("date"), format=DATE_INPUT_FORMAT)
    c2.selectbox("Shift type", opts.shift_types, key=_k("type"))
    c3.selectbox("Site", opts.sites, key=_k("site"))
    unit_sites: dict[str, list[str]] = {}
    for site_name, site_units in opts.units.items():
        for u in site_units:
            unit_sites.setdefault(u, []).append(site_name)
    c4.selectbox("Unit (optional)", [""] + sorted(unit_sites), key=_k("unit"),
                 format_func=lambda u: f"{u} ({', '.join(unit_sites[u])})" if u else "any unit")
    c5.number_input("Hours", min_value=0.5, max_value=24.0, value=None, step=0.5, key=_k("hours"),
                    placeholder="typical", help="Empty = the typical length of that shift type: "
                    + ", ".join(f"{k} {v:g} h" for k, v in opts.shift_hours.items()))
    with st.expander("Requirements and scoring weights"):
        r1, r2, r3 = st.columns(3)
        r1.selectbox("Required role", [""] + opts.roles, key=_k("role"), format_func=lambda r: r or "any role")
        r2.text_input("Required skill (e.g. medication:3)", key=_k("skill"))
        r3.selectbox("Ties broken by", ["seniority", "fewest_hours", "staff_id"], key=_k("tie"),
                     format_func={"seniority": "seniority (earlier hire first)",
                                  "fewest_hours": "fewest overtime hours", "staff_id": "staff id"}.get)
        wcols = st.columns(5)
        defaults = {"availability": 40, "acceptance": 25, "fairness": 20, "site_preference": 10, "reliability": 5}
        for col, (f, label) in zip(wcols, FACTOR_LABELS.items(), strict=True):
            col.number_input(f"{label} %", min_value=0, max_value=100, value=defaults[f], step=5, key=_k("w_" + f))
        st.caption("Weights must add up to 100 %.")
    st.form_submit_button("Rank staff", on_click=_on_rank, type="primary")

params = state.get(PARAMS)
active = state.get(ACTIVE)
view = None

if active:
    try:
        view = ot.request_view(app, actor, active)
    except ServiceError as exc:
        st.error(md(str(exc)))
        state.pop(ACTIVE)
    else:
        _draw_request(view)
elif params:
    total_w = sum(params["weights"].values())
    if not math.isclose(total_w, 1.0, abs_tol=1e-9):
        st.error(f"The weights add up to {total_w:.0%}; they must add up to 100 %. Nothing was ranked.")
    else:
        try:
            with st.spinner("Ranking staff…"):
                result = ot.rank(app, actor, **params)
        except ServiceError as exc:
            st.error(md(str(exc)))
        else:
            st.subheader(f"{md(result.request.site)} · {result.request.shift_type} · "
                         f"{result.shift_start:%a %Y-%m-%d %H:%M}")
            if result.shift_start < ot.local_now(app):
                st.warning(f"This shift started at {result.shift_start:%H:%M on %Y-%m-%d}. A coverage request for "
                           "it records contacts and answers retroactively; for a shift still to come, change the "
                           "date or shift type above.")
            with st.container(border=True):
                st.markdown("**Request coverage** — store this shift as an open request and work through the "
                            "ranked list (every contact and answer is recorded and audited).")
                st.text_input("Note (optional)", key=_k("note"), max_chars=500)
                st.button("Request coverage", type="primary", key=_k("request"), on_click=_on_request,
                          args=(params,))
            _draw_ranking(result, "adhoc")
else:
    st.info("Choose the shift above and press **Rank staff**.")

shift_day = (state.get(PARAMS) or {}).get("shift_date") or st.session_state.get(_k("date")) or opts.default_date
if view is not None:
    shift_day = view.request["shift_date"].date()
with st.expander(f"Absences on {shift_day:%a %Y-%m-%d} — record sick leave, holidays, training"):
    st.caption("People recorded as absent are excluded from rankings on those days (reason shown). Rostered shifts "
               "(the roster upload on the Data page) and overtime shifts already taken on (accepted or filled) "
               "exclude people as \"already working\" and count towards the minimum rest; the weekly maximum counts "
               "a person's rostered hours that week (their contract hours when they have no roster that week) plus "
               "overtime.")
    absences.show(app, actor, key="otr", default_day=shift_day, staff=ot.staff_list(app, actor),
                  start=shift_day, end=shift_day, title="Absences")

st.divider()
st.subheader("Open coverage requests")
open_req = ot.list_requests(app, actor, status="open", limit=50)
if len(open_req):
    choices = {f"{r.code} · {r.site} · {r.shift_type} {r.shift_date:%Y-%m-%d} · {r.contacts} contacted": r.code
               for r in open_req.itertuples()}
    st.selectbox("Open a request", list(choices), index=None, key=_k("open_pick"), placeholder="choose a request",
                 on_change=_on_open, args=(choices,))
    shown = open_req[[*OPEN_REQUEST_COLUMNS, "created_at"]].assign(  # stored in UTC, shown in the app's zone
        created_at=local_column(open_req["created_at"]))
    st.dataframe(dash_missing(shown, {"unit": "{}"}),  # any unit: "–"
                 hide_index=True, width="stretch", key="open_requests",
                 column_config={**OPEN_REQUEST_COLUMNS,
                                "created_at": st.column_config.DatetimeColumn("Created",
                                                                              format=DATETIME_COLUMN_FORMAT)})
else:
    st.caption("No open requests.")
