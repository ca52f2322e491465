"""Staffing (planner): volume → required agents per interval and day → shift plan → what-if → exports."""

from __future__ import annotations

import hashlib
import math
import re

import pandas as pd
import streamlit as st

from src.services import staffing as svc
from src.services.context import ServiceError
from src.ui import charts_staffing as charts
from src.ui import state
from src.ui.common import app_context, metric_delta, require_page_role
from src.ui.tables import dash_missing, right_text

actor = require_page_role("planner", "admin")
app = app_context()

SOURCES = {"history": "Workload history", "forecast": "Stored forecast", "upload": "Upload a volume file",
           "care": "Care homes (unit shifts)"}
BASIS = {"point": "Point forecast", "upper_80": "Upper 80 % bound (risk-averse)",
         "upper_95": "Upper 95 % bound (very risk-averse)"}
PCT = st.column_config.NumberColumn
WHATIF_KEYS = ("wi_volume", "wi_aht", "wi_sl", "wi_shrink")
SL_OPTIONS = ["as planned", *[f"{v} %" for v in range(50, 100)]]
SHRINK_OPTIONS = ["as planned", *[f"{v} %" for v in range(0, 61)]]
#: the requirement table of a live and of an opened saved plan (same columns: svc.requirement_rows)
INTERVAL_COLS = {
    "ds": st.column_config.DatetimeColumn("interval", format="ddd YYYY-MM-DD HH:mm"),
    "date": None,
    "volume": st.column_config.NumberColumn("volume", format="%.1f"),
    "aht_seconds": st.column_config.NumberColumn("AHT (s)", format="%.0f"),
    "traffic": st.column_config.NumberColumn("traffic (Erl)", format="%.2f"),
    "agents_raw": st.column_config.NumberColumn("productive agents", format="%d"),
    "agents": st.column_config.NumberColumn("required agents", format="%d"),
    "agents_fractional": st.column_config.NumberColumn("fractional", format="%.2f"),
    "service_level": st.column_config.NumberColumn("SL", format="percent"),
    "asa_seconds": st.column_config.NumberColumn("ASA (s)", format="%.1f"),
    "occupancy": st.column_config.NumberColumn("occupancy", format="percent"),
    "p_wait": st.column_config.NumberColumn("P(wait)", format="percent"),
    "p_abandon": st.column_config.NumberColumn("P(abandon)", format="percent"),
    "backlog_hours": st.column_config.NumberColumn("backlog (h)", format="%.1f"),
    "planned": st.column_config.NumberColumn("planned people", format="%.1f"),
    "planned_service_level": st.column_config.NumberColumn("SL with planned", format="percent"),
    # coverage per interval of a shift plan
    "required": st.column_config.NumberColumn("required", format="%d"),
    "productive_agents": st.column_config.NumberColumn("productive agents", format="%d"),
}
#: people per shift start: the count next to the start (in its narrow column "people" came last, out of sight)
SHIFT_COLS = {
    "start": st.column_config.DatetimeColumn("start", format="ddd DD.MM HH:mm"),
    "people": st.column_config.NumberColumn("people", format="%d", width="small"),
    "end": st.column_config.DatetimeColumn("end", format="ddd DD.MM HH:mm"),
    "paid_hours": st.column_config.NumberColumn("paid hours", format="%.1f"),
}
SHIFT_ORDER = ["pattern", "start", "people", "end", "paid_hours"]
#: daily and summary tables mix channels: a value that does not apply to a queue (SL of an e-mail queue) is "–"
NOT_FOR_EVERY_CHANNEL = {"service_level": "{:.1%}", "asa_seconds": "{:.1f}", "p_abandon": "{:.1%}",
                         "intervals_below_target": "{:,.0f}"}

st.title("Staffing")
st.caption("Turn volume into people: required agents per interval (Erlang C, or Erlang A with patience), "
           "e-mail backlog and outbound workload, care-home staff per unit and day — then a shift plan, what-ifs "
           "and an Excel workbook.")

options = svc.planning_options(app, actor)


def _set_volume(volume: svc.VolumeInput) -> None:
    state.put("volume", volume)
    state.put("params_base", svc.params_table(svc.default_params_for(volume)))
    state.put("volume_id", hashlib.sha1(pd.util.hash_pandas_object(volume.frame, index=False).values.tobytes()
                                        + volume.detail.encode()).hexdigest()[:10])
    state.pop("shift")


def _reset_whatif() -> None:
    st.session_state[state.key("wi_volume")] = 0
    st.session_state[state.key("wi_aht")] = 0
    st.session_state[state.key("wi_sl")] = "as planned"
    st.session_state[state.key("wi_shrink")] = "as planned"


def _opt_pct(choice: str) -> float | None:
    return None if choice == "as planned" else float(choice.rstrip(" %")) / 100


def _fmt_dt(ts: pd.Timestamp | None) -> str:
    return "—" if ts is None or pd.isna(ts) else f"{ts:%Y-%m-%d}"


def _calculator() -> None:
    """Single-interval Erlang C / Erlang A calculator (typed-in volume)."""
    st.caption("One interval, typed in: Erlang C, or Erlang A when a patience is given.")
    with st.form(state.key("calc_form")):
        a1, a2, a3, a4 = st.columns(4)
        calls = a1.number_input("Calls in the interval", min_value=0.0, value=100.0, step=1.0, key=state.key("k_calls"))
        aht = a2.number_input("AHT (s)", min_value=1.0, value=180.0, step=1.0, key=state.key("k_aht"))
        interval_min = a3.selectbox("Interval", [15, 30, 60], index=1, format_func=lambda m: f"{m} minutes",
                                    key=state.key("k_interval"))
        model = a4.radio("Model", ["Erlang C", "Erlang A"], horizontal=True, key=state.key("k_model"))
        b1, b2, b3, b4, b5 = st.columns(5)
        sl_t = b1.number_input("SL target %", min_value=0.0, max_value=99.9, value=80.0, key=state.key("k_sl"))
        within = b2.number_input("answered within (s)", min_value=0.0, value=20.0, key=state.key("k_within"))
        asa_t = b3.number_input("ASA target (s, 0 = none)", min_value=0.0, value=0.0, key=state.key("k_asa"))
        shrink = b4.number_input("shrinkage %", min_value=0.0, max_value=95.0, value=30.0, key=state.key("k_shrink"))
        occ = b5.number_input("max occupancy %", min_value=1.0, max_value=100.0, value=85.0, key=state.key("k_occ"))
        patience = st.number_input("Mean patience (s) — Erlang A", min_value=1.0, value=120.0,
                                   key=state.key("k_patience"))
        st.form_submit_button("Calculate")
    try:
        calc = svc.erlang_calculator(
            app, actor, calls=float(calls), aht_seconds=float(aht), interval_seconds=interval_min * 60.0,
            sl_target=float(f"{sl_t / 100:.10g}") if sl_t > 0 else None, answer_within_s=float(within),
            asa_target_s=float(asa_t) if asa_t > 0 else None, shrinkage=float(f"{shrink / 100:.10g}"),
            max_occupancy=float(f"{occ / 100:.10g}"), patience_s=float(patience) if model == "Erlang A" else None)
        r = calc.row
        c1, c2, c3, c4, c5 = st.columns(5)
        c1.metric(f"Agents ({calc.model})", f"{r['agents']}",
                  help=f"{r['agents_raw']} productive agents ÷ (1 − shrinkage), rounded up exactly.")
        c2.metric("Productive agents", f"{r['agents_raw']}", help=f"fractional: {r['agents_fractional']:.2f}")
        c3.metric("Traffic", f"{r['traffic']:.2f} Erl")
        c4.metric("Service level", "—" if r["service_level"] is None else f"{r['service_level']:.1%}")
        c5.metric("ASA", "—" if r["asa_seconds"] is None else f"{r['asa_seconds']:.1f} s")
        extra = f"occupancy {r['occupancy']:.1%} · P(wait) {r['p_wait']:.1%}"
        if "p_abandon" in r and r.get("p_abandon") is not None:
            extra += f" · P(abandon) {r['p_abandon']:.1%}"
        st.caption(extra)
        st.plotly_chart(charts.erlang_curve(calc.table, sl_target=sl_t / 100 if sl_t > 0 else None,
                                            required=int(r["agents_raw"])), width="stretch")
    except ServiceError as exc:
        st.error(str(exc))


def _plan() -> None:
    """Volume → parameters → what-if → requirement, shift plan, exports."""
    # --------------------------------------------------------------------------------------- 1. volume
    st.subheader("1 · Volume")
    source = st.radio("Where does the volume come from?", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                      key=state.key("source"))
    try:
        if source == "history":
            if not options.queues:
                st.info("No workload history is stored yet. An administrator can upload it on the **Data** page.")
            else:
                st.caption(f"Stored history: {_fmt_dt(options.history_first)} → {_fmt_dt(options.history_last)}, "
                           f"{len(options.queues)} queues, {(options.interval_seconds or 3600) // 60}-minute "
                           "intervals.")
                with st.form(state.key("history_form")):
                    c1, c2, c3 = st.columns([3, 1, 1])
                    queues = c1.multiselect("Queues", options.queues, default=options.queues, key=state.key("h_queues"))
                    start = c2.date_input("First day", value=options.default_start, key=state.key("h_start"))
                    days = c3.number_input("Days", min_value=1, max_value=svc.MAX_HORIZON_DAYS, value=7, step=1,
                                           key=state.key("h_days"))
                    method = st.radio("Plan like", list(svc.HISTORY_METHODS), format_func=svc.HISTORY_METHODS.get,
                                      horizontal=True, key=state.key("h_method"))
                    if st.form_submit_button("Load volume", type="primary"):
                        _set_volume(svc.history_volume(app, actor, queues=queues, start=start, days=int(days),
                                                       method=method))
        elif source == "forecast":
            if not options.forecast_series:
                st.info("No stored forecast yet. Run a forecast first (Forecast page), or plan from workload history "
                        "or an uploaded volume file.")
            else:
                with st.form(state.key("forecast_form")):
                    c1, c2, c3 = st.columns([3, 1, 1])
                    wl = [x for x in options.forecast_series if x.startswith("workload:")]
                    series = c1.multiselect("Forecast series (contact-centre queues or care homes, not both)",
                                            options.forecast_series, default=wl or options.forecast_series[:1],
                                            format_func=svc.series_label, key=state.key("f_series"))
                    cut = c2.checkbox("Only part of the horizon", key=state.key("f_cut"))
                    start = c2.date_input("First day", value=options.default_start, key=state.key("f_start"))
                    days = c3.number_input("Days", min_value=1, max_value=svc.MAX_HORIZON_DAYS, value=7,
                                           key=state.key("f_days"))
                    if st.form_submit_button("Load volume", type="primary"):
                        _set_volume(svc.forecast_volume(app, actor, series=series, start=start if cut else None,
                                                        days=int(days) if cut else None))
        elif source == "upload":
            st.caption("CSV or Excel with columns `ds` (or `timestamp`), `queue`, and `volume` (whole numbers) or "
                       "`yhat` (a forecast, decimals allowed); optional `aht_seconds`, `yhat_upper_80`, "
                       "`yhat_upper_95`. "
                       "Nothing is stored.")
            up = st.file_uploader("Volume file", type=["csv", "xlsx", "txt", "tsv"], key=state.key("vol_upload"),
                                  max_upload_size=app.settings.upload_max_mb)
            if up is not None:
                result = svc.validate_volume_upload(app, actor, filename=up.name, content=up.getvalue())
                if result.volume is None:
                    st.error(result.report.summary())
                    issues = result.report.to_frame()
                    st.dataframe(issues[issues["severity"] != "info"], hide_index=True, width="stretch",
                                 column_config={"message": st.column_config.TextColumn("message", width="large")})
                else:
                    st.success(result.report.summary())
                    if st.button("Use this volume", type="primary", key=state.key("use_upload")):
                        _set_volume(result.volume)
        else:
            if not options.care_units:
                st.info("No care-home unit shifts are stored yet. An administrator can upload them on the **Data** "
                        "page.")
            else:
                st.caption(f"Stored unit shifts: {options.care_units} units, {_fmt_dt(options.care_first)} → "
                           f"{_fmt_dt(options.care_last)}.")
                with st.form(state.key("care_form")):
                    c1, c2, c3 = st.columns([2, 1, 1])
                    method = c1.radio("Plan like", list(svc.HISTORY_METHODS), format_func=svc.HISTORY_METHODS.get,
                                      key=state.key("c_method"))
                    start = c2.date_input("First day", value=options.default_start, key=state.key("c_start"))
                    days = c3.number_input("Days", min_value=1, max_value=svc.MAX_HORIZON_DAYS, value=7,
                                           key=state.key("c_days"))
                    if st.form_submit_button("Load volume", type="primary"):
                        _set_volume(svc.care_volume(app, actor, start=start, days=int(days), method=method))
    except ServiceError as exc:
        st.error(str(exc))

    volume: svc.VolumeInput | None = state.get("volume")
    if volume is None:
        st.info("Choose a volume source and press **Load volume** to see the staffing requirement.")
        return

    st.success(f"**{volume.detail}** — {len(volume.frame):,} intervals, {len(volume.queues)} queue(s), "
               f"{svc.interval_label(volume.interval_seconds)}, {volume.frame['ds'].min():%a %Y-%m-%d} → "
               f"{volume.frame['ds'].max():%a %Y-%m-%d}.")
    for note in volume.notes:
        st.warning(note)

    # ----------------------------------------------------------------------------------- 2. parameters
    st.subheader("2 · Parameters per queue")
    vol_id = state.get("volume_id")
    c1, c2 = st.columns([2, 2])
    upper = volume.has_upper
    basis_opts = ["point"] + [b for b, ok in upper.items() if ok]
    basis = "point"
    if len(basis_opts) > 1:
        basis = c1.radio("Plan on", basis_opts, format_func=BASIS.get, horizontal=True, key=state.key("basis"))
    has_aht = bool("aht_seconds" in volume.frame and volume.frame["aht_seconds"].notna().any())
    use_aht = False
    if has_aht:
        use_aht = c2.checkbox("Use the AHT of each interval from the data (else the AHT in the table)", value=True,
                              key=state.key(f"use_aht_{vol_id}"))
    # a blank parameter means "not used" (no ASA target, Erlang C without patience, no SL target for e-mails):
    # "–" instead of Streamlit's grey "None", which read like a value; the cell itself stays empty (NaN)
    edited = st.data_editor(
        state.get("params_base"), hide_index=True, width="stretch", key=state.key(f"params_{vol_id}"),
        disabled=["queue"], num_rows="fixed", placeholder="–",
        column_order=svc.param_columns(state.get("params_base")["channel"].tolist()),
        column_config={
            "queue": st.column_config.TextColumn("queue"),
            "channel": st.column_config.SelectboxColumn("channel", options=["voice", "email", "outbound", "care"],
                                                        required=True),
            "aht_seconds": PCT("AHT (s)", min_value=1, format="%.0f"),
            "sl_target_pct": PCT("SL target %", min_value=0, max_value=99.99, format="%.0f",
                                 help="Share of calls answered within the answer-within time (voice)."),
            "answer_within_s": PCT("answer within (s)", min_value=0, format="%.0f"),
            "asa_target_s": PCT("ASA target (s)", min_value=1, format="%.0f", help="Optional average speed of answer."),
            "patience_s": PCT("patience (s)", min_value=1, format="%.0f",
                              help="Mean caller patience; set it to plan with Erlang A (abandonment)."),
            "shrinkage_pct": PCT("shrinkage %", min_value=0, max_value=95, format="%.0f"),
            "max_occupancy_pct": PCT("max occupancy %", min_value=1, max_value=100, format="%.0f"),
            "response_hours": PCT("e-mail response (h)", min_value=0.25, format="%.1f"),
            "care_ratio": PCT("care cover ratio", min_value=0.1, format="%.2f"),
        })

    try:
        params = svc.params_from_table(edited, interval_seconds=volume.interval_seconds)
    except ServiceError as exc:
        st.error(str(exc))
        return

    # -------------------------------------------------------------------------------------- 3. what-if
    st.subheader("3 · What-if")
    for k, default in zip(WHATIF_KEYS, (0, 0, "as planned", "as planned"), strict=True):
        st.session_state.setdefault(state.key(k), default)
    all_care = all(pp.channel == "care" for pp in params.values())
    any_voice = any(pp.channel == "voice" for pp in params.values())
    w1, w2, w3, w4, w5 = st.columns([3, 3, 3, 3, 1])
    vol_pct = w1.slider("Shifts ±%" if all_care else "Volume ±%", -50, 100, step=5, key=state.key("wi_volume"),
                        format="%+d%%")
    aht_pct, sl_choice, shrink_choice = 0, "as planned", "as planned"
    if not all_care:
        aht_pct = w2.slider("AHT ±%", -50, 100, step=5, key=state.key("wi_aht"), format="%+d%%")
        shrink_choice = w4.select_slider("Shrinkage", SHRINK_OPTIONS, key=state.key("wi_shrink"))
    if any_voice:
        sl_choice = w3.select_slider("SL target (voice)", SL_OPTIONS, key=state.key("wi_sl"))
    w5.button("Reset", on_click=_reset_whatif, key=state.key("wi_reset"), help="Back to the plan as entered.")
    scenario = svc.Scenario(volume_pct=float(vol_pct), aht_pct=float(aht_pct), sl_target=_opt_pct(sl_choice),
                            shrinkage=_opt_pct(shrink_choice))

    try:
        base_plan = svc.build_plan(app, actor, volume, params, basis=basis, use_interval_aht=use_aht)
        plan = base_plan if scenario.neutral else svc.build_plan(app, actor, volume, params, basis=basis,
                                                                 scenario=scenario, use_interval_aht=use_aht)
    except ServiceError as exc:
        st.error(str(exc))
        return
    # Containers that are always drawn keep the result tabs below at a fixed place: a what-if note or caption
    # appearing above them made the browser redraw the tabs on "Requirement per interval", so moving a slider
    # while reading the Daily summary or the Shift plan jumped away from it.
    notes_box = st.container()
    for note in plan.notes:
        notes_box.warning(note)

    totals, base_totals = svc.plan_totals(plan), svc.plan_totals(base_plan)
    m1, m2, m3, m4 = st.columns(4)


    def _delta(key: str, fmt: str) -> str | None:
        return None if scenario.neutral else metric_delta(totals[key] - base_totals[key], fmt)


    if totals["agent_hours"]:
        m1.metric("Agent hours (after shrinkage)", f"{totals['agent_hours']:,.0f}", _delta("agent_hours", "{:+,.0f}"),
                  delta_color="inverse")
    if totals["care_staff_days"]:
        m1.metric("Care staff shifts", f"{totals['care_staff_days']:,.0f}", _delta("care_staff_days", "{:+,.0f}"),
                  delta_color="inverse")
    m2.metric("Peak staff per unit and day" if all_care else "Peak agents in one interval",
              f"{totals['peak_agents']:,.0f}", _delta("peak_agents", "{:+,.0f}"), delta_color="inverse")
    if any_voice:
        m3.metric("Service level (voice)",
                  "—" if not math.isfinite(totals["service_level"]) else f"{totals['service_level']:.1%}",
                  None if scenario.neutral
                  else metric_delta((totals["service_level"] - base_totals["service_level"]) * 100, "{:+.1f} pts"),
                  help="Volume-weighted over every interval of the voice queues.")
        m4.metric("Intervals below SL target", f"{totals['below_target']:,.0f}", _delta("below_target", "{:+,.0f}"),
                  delta_color="inverse")
    whatif_box = st.container()
    if not scenario.neutral:
        whatif_box.caption(f"What-if: {scenario.describe()}. Deltas compare with the plan as entered.")

    # --------------------------------------------------------------------------------------- 4. results
    shift_state = state.get("shift")  # (queue, requirement hash, ShiftPlanResult)


    def _req_hash(queue: str) -> str:
        sub = plan.intervals[plan.intervals["queue"] == queue]
        return hashlib.sha1(sub[["ds", "agents"]].to_csv().encode()).hexdigest()[:12]


    shift_plan = None
    if shift_state is not None and shift_state[0] in plan.params and shift_state[1] == _req_hash(shift_state[0]):
        shift_plan = shift_state[2]

    tab_req, tab_daily, tab_shift = st.tabs(["Requirement per interval", "Daily summary", "Shift plan"])

    with tab_req:
        queues = list(plan.params)
        q = st.selectbox("Queue", queues, key=state.key("req_queue")) if len(queues) > 1 else queues[0]
        p = plan.params[q]
        rows = plan.intervals[plan.intervals["queue"] == q]
        same_queue = shift_plan is not None and shift_plan.intervals["queue"].iloc[0] == q
        planned = shift_plan.intervals if same_queue else None
        base_rows = None if scenario.neutral else base_plan.intervals[base_plan.intervals["queue"] == q]
        st.plotly_chart(charts.requirement_chart(rows, interval_seconds=p.interval_seconds, planned=planned,
                                                 base=base_rows,
                                                 sl_target=p.sl_target if p.channel == "voice" else None,
                                                 title=f"{q}: required vs planned agents ({p.channel})"),
                        width="stretch")
        st.dataframe(svc.requirement_rows(plan, q, shift_plan if same_queue else None), hide_index=True,
                     width="stretch", column_config=INTERVAL_COLS, height=360)

    with tab_daily:
        has_hours = plan.daily["agent_hours"].notna().any()
        st.plotly_chart(charts.daily_chart(plan.daily, value="agent_hours" if has_hours else "agents_total",
                                           title="Scheduled hours per day" if has_hours else "Staff per day"),
                        width="stretch")
        st.dataframe(dash_missing(plan.daily.dropna(axis=1, how="all"), NOT_FOR_EVERY_CHANNEL), hide_index=True,
                     width="stretch", column_config={
            "date": st.column_config.DateColumn("date", format="ddd YYYY-MM-DD"),
            "volume": st.column_config.NumberColumn("shifts" if all_care else "volume", format="%.1f"),
            "agents_total": st.column_config.NumberColumn("staff", format="%d") if all_care else None,
            "agent_hours": st.column_config.NumberColumn("agent hours", format="%.1f"),
            "productive_hours": st.column_config.NumberColumn("productive hours", format="%.1f"),
            "peak_agents": st.column_config.NumberColumn("peak agents", format="%d"),
            "service_level": right_text("SL"),
            "asa_seconds": right_text("ASA (s)"),
            "p_abandon": right_text("P(abandon)"),
            "occupancy": st.column_config.NumberColumn("occupancy", format="percent")})
        st.dataframe(dash_missing(plan.summary.dropna(axis=1, how="all"), NOT_FOR_EVERY_CHANNEL), hide_index=True,
                     width="stretch", column_config={
            "volume": st.column_config.NumberColumn("volume", format="%.0f"),
            "agent_hours": st.column_config.NumberColumn("agent hours", format="%.1f"),
            "peak_agents": st.column_config.NumberColumn("peak agents", format="%d"),
            "service_level": right_text("SL"),
            "p_abandon": right_text("P(abandon)"),
            "intervals_below_target": right_text("intervals below target")})

    with tab_shift:
        shiftable = [x for x, pp in plan.params.items() if pp.channel != "care"]
        if not shiftable:
            st.info("Care-home requirements are already staff per unit and day; no interval shift plan is needed.")
        else:
            st.caption("How many people start each shift pattern so every interval is covered at minimum paid hours "
                       "(integer program, HiGHS). Breaks are unpaid and not on the phones. Intervals no pattern can "
                       "reach are reported as under-staffed.")
            with st.form(state.key("shift_form")):
                c1, c2 = st.columns([2, 1])
                sq = c1.selectbox("Queue", shiftable, key=state.key("shift_queue"))
                limit = c2.number_input("Solver time limit (s)", min_value=2, max_value=120, value=20,
                                        key=state.key("shift_limit"))
                # an empty "break after" means "in the middle of the shift" (its help says so): an empty cell,
                # not a grey "None"
                pattern_table = st.data_editor(
                    svc.default_patterns_table(), hide_index=True, width="stretch", num_rows="dynamic",
                    key=state.key("patterns"), placeholder="",
                    column_config={
                        "name": st.column_config.TextColumn("name"),
                        "start": st.column_config.TextColumn("start (HH:MM)", validate=r"^\d{1,2}:\d{2}$"),
                        "hours": st.column_config.NumberColumn("hours", min_value=0.5, max_value=16, format="%.1f"),
                        "break_minutes": st.column_config.NumberColumn("unpaid break (min)", min_value=0,
                                                                       format="%.0f"),
                        "break_after_minutes": st.column_config.NumberColumn(
                            "break after (min)", min_value=0, format="%.0f",
                            help="Empty = in the middle of the shift."),
                        "days": st.column_config.TextColumn("days", help="e.g. Mon-Sun, Mon-Fri, Sat,Sun")})
                go_shift = st.form_submit_button("Build shift plan", type="primary")
            if go_shift:
                try:
                    patterns = svc.patterns_from_table(pattern_table)
                    with st.status("Building the shift plan…", expanded=False) as status:
                        bar = st.progress(0.0)
                        result = svc.build_shift_plan(app, actor, plan, queue=sq, patterns=patterns,
                                                      time_limit_s=float(limit),
                                                      on_progress=lambda f, t: bar.progress(min(1.0, f), text=t))
                        status.update(label=f"Shift plan: {result.status}", state="complete")
                    state.put("shift", (sq, _req_hash(sq), result))
                    shift_plan = result
                except ServiceError as exc:
                    st.error(str(exc))
            elif shift_state is not None and shift_plan is None:
                st.warning("The requirement changed since the shift plan was built (parameters or what-if); "
                           "build it again.")
            if shift_plan is not None:
                sp_q = str(shift_plan.intervals["queue"].iloc[0])
                spp = plan.params[sp_q]
                k1, k2, k3, k4 = st.columns(4)
                k1.metric("Paid hours", f"{shift_plan.paid_hours:,.1f}")
                k2.metric("People-shifts", f"{int(shift_plan.shifts['people'].sum()):,}")
                k3.metric("Uncovered agent-intervals", f"{shift_plan.under_agent_intervals:,.1f}")
                vol = shift_plan.intervals["volume"]
                sl_sp = (shift_plan.intervals["service_level"] * vol).sum() / vol.sum() if vol.sum() > 0 else math.nan
                k4.metric("SL with planned people", "—" if not math.isfinite(sl_sp) else f"{sl_sp:.1%}")
                if not shift_plan.optimal:
                    st.warning(f"Solver status: {shift_plan.status} — the best plan found is shown.")
                st.plotly_chart(charts.requirement_chart(
                    plan.intervals[plan.intervals["queue"] == sp_q], interval_seconds=spp.interval_seconds,
                    planned=shift_plan.intervals, sl_target=spp.sl_target if spp.channel == "voice" else None,
                    title=f"{sp_q}: shift plan"), width="stretch")
                st.plotly_chart(charts.over_under_chart(shift_plan.intervals), width="stretch")
                c1, c2 = st.columns([1, 2])
                c1.markdown("**People per shift start**")
                c1.dataframe(shift_plan.shifts, hide_index=True, width="stretch", column_order=SHIFT_ORDER,
                             column_config=SHIFT_COLS)
                c2.markdown("**Coverage per interval**")
                c2.dataframe(shift_plan.intervals.drop(columns=["queue"]), hide_index=True, width="stretch",
                             column_config=INTERVAL_COLS)

    # ------------------------------------------------------------------------------------ 5. export/save
    st.subheader("4 · Export and save")
    info = svc.plan_info(volume, scenario, actor, shift_plan)
    stem = "staffing_plan_" + re.sub(r"[^0-9A-Za-z]+", "_", f"{volume.frame['ds'].min():%Y-%m-%d}")
    e1, e2, e3 = st.columns([1, 1, 2])


    def _export(fmt: str) -> bytes:
        return svc.export_plan(app, actor, plan, fmt=fmt, shift_plan=shift_plan, info=info, name=stem).data


    e1.download_button("Download Excel workbook", data=lambda: _export("xlsx"), file_name=f"{stem}.xlsx",
                       mime=svc.XLSX_MIME, on_click="ignore", type="primary", icon=":material/download:",
                       key=state.key("dl_xlsx"))
    e2.download_button("Download CSV", data=lambda: _export("csv"), file_name=f"{stem}.csv", mime="text/csv",
                       on_click="ignore", icon=":material/download:", key=state.key("dl_csv"))
    with e3.form(state.key("save_form"), border=False):
        s1, s2 = st.columns([3, 1])
        name = s1.text_input("Plan name", value=f"Plan from {volume.frame['ds'].min():%Y-%m-%d}",
                             label_visibility="collapsed", key=state.key("save_name"), max_chars=200)
        if s2.form_submit_button("Save plan"):
            try:
                pid = svc.save_plan(app, actor, plan, name=name, volume=volume, scenario=scenario,
                                    shift_plan=shift_plan)
                # rerun so the Saved plans tab lists (and opens) the new plan whatever order the tabs are drawn in
                st.session_state[state.key("saved_flash")] = f"Saved as plan #{pid} ({name.strip()})."
                st.session_state[state.key("saved_pick_next")] = pid  # applied before the selectbox is drawn
                st.toast(f"Saved plan #{pid}")
                st.rerun()
            except ServiceError as exc:
                st.error(str(exc))
    flash = st.session_state.pop(state.key("saved_flash"), None)
    if flash:
        e3.success(flash + " Open or download it again on the **Saved plans** tab.")
    st.caption("Every download is audited and a timestamped copy is kept in the outputs folder. The workbook has "
               "Summary, Intervals, Daily, Shift plan and Parameters sheets with a native chart.")


@st.fragment
def _saved_plans() -> None:
    """Saved plans: list, open and download again.

    Why a tab of its own and a fragment: opening last week's plan needs no live inputs (no forecast, history or
    upload), so a manager can read or download it at once; and choosing a plan reruns only this part instead of
    recomputing the live plan.
    """
    saved = svc.list_saved_plans(app, actor)
    if saved.empty:
        st.info("No saved plans yet. Build a plan on the **Staffing plan** tab and press **Save plan**; it is then "
                "listed here for everyone who plans.")
        return
    st.caption(f"{len(saved):,} saved plan(s), newest first. Open one to see its requirement per interval with the "
               "service level, ASA, occupancy, P(wait), P(abandon) and backlog it was planned with, and download "
               "it again.")
    st.dataframe(saved, hide_index=True, width="stretch", height=min(38 + 35 * len(saved), 250),
                 column_order=["id", "name", "range_start", "range_end", "agent_hours", "paid_hours", "created_by",
                               "created_at", "queues", "intervals", "source_detail"],
                 column_config={
                     "id": st.column_config.NumberColumn("#", format="%d", width="small"),
                     "name": st.column_config.TextColumn("name", width="medium"),
                     "source_detail": st.column_config.TextColumn("volume from", width="large"),
                     "range_start": st.column_config.DatetimeColumn("first interval", format="ddd YYYY-MM-DD"),
                     "range_end": st.column_config.DatetimeColumn("last interval", format="ddd YYYY-MM-DD"),
                     "queues": st.column_config.NumberColumn("queues", format="%d", width="small"),
                     "intervals": st.column_config.NumberColumn("intervals", format="%d", width="small"),
                     "agent_hours": st.column_config.NumberColumn("agent hours", format="%.0f"),
                     "paid_hours": st.column_config.NumberColumn("paid hours", format="%.0f"),
                     "created_by": st.column_config.TextColumn("saved by"),
                     "created_at": st.column_config.DatetimeColumn("saved (UTC)", format="YYYY-MM-DD HH:mm")})
    names = dict(zip(saved["id"].tolist(), saved["name"].tolist(), strict=True))
    pending = st.session_state.pop(state.key("saved_pick_next"), None)
    if pending in names:
        st.session_state[state.key("saved_pick")] = pending
    pick = st.selectbox("Open a saved plan", list(names), key=state.key("saved_pick"),
                        format_func=lambda i: f"#{i} {names[i]}")
    # a saved plan never changes: keep the opened one for this session, so moving a live what-if slider (a full
    # rerun) does not read and rebuild a 56-day plan again
    opened: svc.SavedPlan | None = state.get("saved_open")
    if opened is None or opened.plan_id != int(pick):
        try:
            opened = svc.open_saved_plan(app, actor, int(pick))
        except ServiceError as exc:
            st.error(str(exc))
            return
        state.put("saved_open", opened)
    st.caption(opened.describe())
    queues = opened.queues
    q = st.selectbox("Queue", queues, key=state.key(f"saved_queue_{opened.plan_id}")) if len(queues) > 1 \
        else queues[0]
    p = opened.plan.params[q]
    sp = opened.shift_plan
    same_queue = sp is not None and sp.intervals["queue"].iloc[0] == q
    st.plotly_chart(charts.requirement_chart(
        opened.plan.intervals[opened.plan.intervals["queue"] == q], interval_seconds=p.interval_seconds,
        planned=sp.intervals if same_queue else None, sl_target=p.sl_target if p.channel == "voice" else None,
        title=f"{q}: required vs planned agents ({p.channel}), as saved"), width="stretch")
    st.dataframe(svc.requirement_rows(opened.plan, q, sp), hide_index=True, width="stretch",
                 column_config=INTERVAL_COLS, height=300)
    missing = opened.not_recorded(q)
    if missing:
        st.caption(f"Not recorded when this plan was saved (before they were kept with a plan): {', '.join(missing)} "
                   "— empty here and in the downloads.")
    if same_queue and len(sp.shifts):
        st.markdown("**People per shift start**")
        st.dataframe(sp.shifts, hide_index=True, width="stretch", column_order=SHIFT_ORDER, column_config=SHIFT_COLS)
    d1, d2, _ = st.columns([1, 1, 2])
    d1.download_button(
        "Download Excel workbook", file_name=f"{opened.stem}.xlsx", mime=svc.XLSX_MIME, on_click="ignore",
        data=lambda pid=opened.plan_id: svc.export_saved_plan(app, actor, pid, fmt="xlsx").data,
        icon=":material/download:", key=state.key("saved_dl_xlsx"))
    d2.download_button(
        "Download CSV", file_name=f"{opened.stem}.csv", mime="text/csv", on_click="ignore",
        data=lambda pid=opened.plan_id: svc.export_saved_plan(app, actor, pid, fmt="csv").data,
        icon=":material/download:", key=state.key("saved_dl_csv"))


plan_tab, saved_tab, calc_tab = st.tabs(["Staffing plan", "Saved plans", "Erlang calculator"])
with plan_tab:
    _plan()
with saved_tab:
    _saved_plans()
with calc_tab:
    _calculator()
