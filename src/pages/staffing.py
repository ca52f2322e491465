"""Staffing (planner): volume → required agents per interval and day → shift plan → what-if → exports.

The plan tab runs as named steps (:func:`_plan`): volume, parameters, what-if, the plans, headline metrics,
result tabs, export. Care-home plans (every unit a care unit) speak of units, shifts and staff per shift.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from src.models.capacity import ShiftPlanResult, StaffingPlan
from src.services import staffing as svc
from src.services.context import ServiceError
from src.ui import charts_staffing as charts
from src.ui import state
from src.ui.common import app_context, metric_delta, require_page_role
from src.ui.dates import DATE_INPUT_FORMAT, DATETIME_COLUMN_FORMAT, local_column
from src.ui.tables import dash_missing, right_text
from src.ui.text import md, md_list

actor = require_page_role("planner", "admin")
app = app_context()

SOURCES = {"history": "Workload history", "forecast": "Stored forecast", "upload": "Upload a volume file",
           "care": "Care homes (unit shifts)"}
BASIS = {"point": "Point forecast", "upper_80": "Upper 80 % bound (risk-averse)",
         "upper_95": "Upper 95 % bound (very risk-averse)"}
PCT = st.column_config.NumberColumn
WHATIF_KEYS = ("wi_volume", "wi_aht", "wi_sl", "wi_shrink")
WHATIF_NEUTRAL = (0, 0, "as planned", "as planned")
SL_OPTIONS = ["as planned", *[f"{v} %" for v in range(50, 100)]]
SHRINK_OPTIONS = ["as planned", *[f"{v} %" for v in range(0, 61)]]
#: "–" in the quality columns of a closed interval (no contacts: no service level, ASA or occupancy)
CLOSED_HELP = "– = closed (no contacts in this interval): no value, and not part of any average."
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
    "service_level": st.column_config.NumberColumn("SL", format="percent", help=CLOSED_HELP),
    "asa_seconds": st.column_config.NumberColumn("ASA (s)", format="%.1f", help=CLOSED_HELP),
    "occupancy": st.column_config.NumberColumn("occupancy", format="percent",
                                               help="– = nobody is needed in this interval (closed)."),
    "p_wait": st.column_config.NumberColumn("P(wait)", format="percent", help=CLOSED_HELP),
    "p_abandon": st.column_config.NumberColumn("P(abandon)", format="percent", help=CLOSED_HELP),
    "backlog_hours": st.column_config.NumberColumn("backlog (h)", format="%.1f"),
    "planned": st.column_config.NumberColumn("planned people", format="%.1f"),
    "planned_service_level": st.column_config.NumberColumn("SL with planned", format="percent", help=CLOSED_HELP),
    # coverage per interval of a shift plan
    "required": st.column_config.NumberColumn("required", format="%d"),
    "productive_agents": st.column_config.NumberColumn("productive agents", format="%d"),
}
#: the same table for a care unit: one row per day, shifts and the staff they need
CARE_INTERVAL_COLS = {
    "ds": st.column_config.DatetimeColumn("day", format="ddd YYYY-MM-DD"),
    "date": None,
    "volume": st.column_config.NumberColumn("shifts", format="%.1f"),
    "agents": st.column_config.NumberColumn("staff to schedule", format="%d"),
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
#: how many series of one forecast period the caption names before it counts them instead
MAX_NAMED_SERIES = 6

st.title("Staffing")
st.caption("Turn volume into people: required agents per interval (Erlang C, or Erlang A with patience), "
           "e-mail backlog and outbound workload, care-home staff per unit and day — then a shift plan, what-ifs "
           "and an Excel workbook.")

options = svc.planning_options(app, actor)


def _is_care(params: Mapping[str, svc.QueueParams]) -> bool:
    """Whether every unit of a plan is a care unit: then the page speaks of units, shifts and staff."""
    return bool(params) and all(p.channel == "care" for p in params.values())


def _set_volume(volume: svc.VolumeInput) -> None:
    """A newly loaded volume starts a new plan: its own parameters, no shift plan, and a neutral what-if.

    Why the what-if too: a +10 % set on the calls plan otherwise carried over to the care plan loaded next, which
    opened at +10 % shifts and recorded it on its workbook's Info sheet. Called before the what-if widgets are
    drawn in this run, so their values can still be set here.
    """
    state.put("volume", volume)
    state.put("params_base", svc.params_table(svc.default_params_for(volume)))
    state.put("volume_id", hashlib.sha1(pd.util.hash_pandas_object(volume.frame, index=False).values.tobytes()
                                        + volume.detail.encode()).hexdigest()[:10])
    state.pop("shift")
    _reset_whatif()


def _reset_whatif() -> None:
    for k, neutral in zip(WHATIF_KEYS, WHATIF_NEUTRAL, strict=True):
        st.session_state[state.key(k)] = neutral


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
        if r.get("occupancy") is None:
            st.caption("No calls in the interval: nobody waits, so there is no service level, ASA or occupancy.")
        else:
            extra = f"occupancy {r['occupancy']:.1%} · P(wait) {r['p_wait']:.1%}"
            if "p_abandon" in r and r.get("p_abandon") is not None:
                extra += f" · P(abandon) {r['p_abandon']:.1%}"
            st.caption(extra)  # escaped: numbers only
        st.plotly_chart(charts.erlang_curve(calc.table, sl_target=sl_t / 100 if sl_t > 0 else None,
                                            required=int(r["agents_raw"])), width="stretch")
    except ServiceError as exc:
        st.error(md(str(exc)))


# ------------------------------------------------------------------------------------------ 1. volume
def _from_history() -> None:
    if not options.queues:
        st.info("No workload history is stored yet. An administrator can upload it on the **Data** page.")
        return
    st.caption(f"Stored history: {_fmt_dt(options.history_first)} → {_fmt_dt(options.history_last)}, "
               f"{len(options.queues)} queues, {(options.interval_seconds or 3600) // 60}-minute intervals.")
    with st.form(state.key("history_form")):
        c1, c2, c3 = st.columns([3, 1, 1])
        queues = c1.multiselect("Queues", options.queues, default=options.queues, key=state.key("h_queues"))
        start = c2.date_input("First day", value=options.default_start, key=state.key("h_start"),
                              format=DATE_INPUT_FORMAT)
        days = c3.number_input("Days", min_value=1, max_value=svc.MAX_HORIZON_DAYS, value=7, step=1,
                               key=state.key("h_days"))
        method = st.radio("Plan like", list(svc.HISTORY_METHODS), format_func=svc.HISTORY_METHODS.get,
                          horizontal=True, key=state.key("h_method"))
        if st.form_submit_button("Load volume", type="primary"):
            _set_volume(svc.history_volume(app, actor, queues=queues, start=start, days=int(days), method=method))


@st.cache_data(ttl=60, max_entries=32, show_spinner=False)
def _forecast_periods(series: tuple[str, ...], stamp: str, username: str, _app: object,
                      _actor: object) -> list[svc.ForecastPeriod]:
    """The current forecast of each series and its period, cached per selection until a forecast is stored
    (``stamp``) or a minute has passed (an activated version).

    Why: looking them up costs ~0.1 s per series (the forecast service resolves each id against the series
    catalogue), and the page reruns on every what-if slider move. Load volume always reads them afresh.
    """
    return svc.forecast_periods(_app, _actor, list(series))  # type: ignore[arg-type]


def _from_forecast() -> None:
    """Stored forecasts: the series, the period each one's current forecast is for, and the planning period.

    The series picker is outside the form so the periods and the default planning period follow the selection.
    """
    if not options.forecast_series:
        st.info("No stored forecast yet. Run a forecast first (Forecast page), or plan from workload history "
                "or an uploaded volume file.")
        return
    wl = [x for x in options.forecast_series if x.startswith("workload:")]
    series = st.multiselect("Forecast series (contact-centre queues or care homes, not both)",
                            options.forecast_series, default=wl or options.forecast_series[:1],
                            format_func=svc.series_label, key=state.key("f_series"))
    if not series:
        st.info("Choose at least one forecast series.")
        return
    periods = _forecast_periods(tuple(series), options.forecast_stamp, actor.username, app, actor)
    if not periods:
        st.info("None of these series has a stored forecast.")
        return
    lines = [f"{md_list(labels) if len(labels) <= MAX_NAMED_SERIES else f'{len(labels)} series'}: {period}"
             for period, labels in svc.periods_by_time(periods)]
    st.caption("Current forecasts — " + "; ".join(lines) + ". A plan is for one period: only the forecasts that "
               "cover it are planned, the others are named and left out.")
    first, n_days = svc.default_forecast_window(periods)
    picked = hashlib.sha1("|".join(series).encode()).hexdigest()[:8]  # a new selection starts at its own default
    with st.form(state.key("forecast_form")):
        c1, c2 = st.columns([1, 1])
        start = c1.date_input("Plan from", value=first, key=state.key(f"f_start_{picked}"), format=DATE_INPUT_FORMAT,
                              help="The first day of the planning period. Default: the first whole day of the "
                                   "latest forecast — the upcoming period, not a back-dated test forecast.")
        days = c2.number_input("Days", min_value=1, max_value=svc.MAX_HORIZON_DAYS, value=n_days,
                               key=state.key(f"f_days_{picked}"))
        if st.form_submit_button("Load volume", type="primary"):
            _set_volume(svc.forecast_volume(app, actor, series=series, start=start, days=int(days)))


def _from_upload() -> None:
    st.caption("CSV or Excel with columns `ds` (or `timestamp`), `queue`, and `volume` (whole numbers) or "
               "`yhat` (a forecast, decimals allowed); optional `aht_seconds`, `yhat_upper_80`, `yhat_upper_95`. "
               "Nothing is stored.")
    up = st.file_uploader("Volume file", type=["csv", "xlsx", "txt", "tsv"], key=state.key("vol_upload"),
                          max_upload_size=app.settings.upload_max_mb)
    if up is None:
        return
    result = svc.validate_volume_upload(app, actor, filename=up.name, content=up.getvalue())
    if result.volume is None:
        st.error(md(result.report.summary()))
        issues = result.report.to_frame()
        st.dataframe(issues[issues["severity"] != "info"], hide_index=True, width="stretch",
                     column_config={"message": st.column_config.TextColumn("message", width="large")})
        return
    st.success(md(result.report.summary()))
    if st.button("Use this volume", type="primary", key=state.key("use_upload")):
        _set_volume(result.volume)


def _from_care() -> None:
    if not options.care_units:
        st.info("No care-home unit shifts are stored yet. An administrator can upload them on the **Data** page.")
        return
    st.caption(f"Stored unit shifts: {options.care_units} units, {_fmt_dt(options.care_first)} → "
               f"{_fmt_dt(options.care_last)}.")
    with st.form(state.key("care_form")):
        c1, c2, c3 = st.columns([2, 1, 1])
        method = c1.radio("Plan like", list(svc.HISTORY_METHODS), format_func=svc.HISTORY_METHODS.get,
                          key=state.key("c_method"))
        start = c2.date_input("First day", value=options.default_start, key=state.key("c_start"),
                              format=DATE_INPUT_FORMAT)
        days = c3.number_input("Days", min_value=1, max_value=svc.MAX_HORIZON_DAYS, value=7,
                               key=state.key("c_days"))
        if st.form_submit_button("Load volume", type="primary"):
            _set_volume(svc.care_volume(app, actor, start=start, days=int(days), method=method))


VOLUME_STEPS = {"history": _from_history, "forecast": _from_forecast, "upload": _from_upload, "care": _from_care}


def _volume_step() -> svc.VolumeInput | None:
    """Source picker and its inputs; the loaded volume (kept for the session) or None."""
    st.subheader("1 · Volume")
    source = st.radio("Where does the volume come from?", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                      key=state.key("source"))
    try:
        VOLUME_STEPS[source]()
    except ServiceError as exc:
        st.error(md(str(exc)))
    volume: svc.VolumeInput | None = state.get("volume")
    if volume is None:
        st.info("Choose a volume source and press **Load volume** to see the staffing requirement.")
        return None
    first, last = volume.frame["ds"].min(), volume.frame["ds"].max()
    if volume.channel == "care":
        what = f"{len(volume.frame):,} unit-days, {len(volume.queues)} unit(s)"
    else:
        what = (f"{len(volume.frame):,} intervals, {len(volume.queues)} queue(s), "
                f"{svc.interval_label(volume.interval_seconds)}")
    # a forecast's detail already names its planning period
    when = "" if volume.source == "forecast" else f", {first:%a %Y-%m-%d} → {last:%a %Y-%m-%d}"
    st.success(f"**{md(volume.detail)}** — {what}{when}.")
    for note in volume.notes:
        st.warning(md(note))
    return volume


# -------------------------------------------------------------------------------------- 2. parameters
def _parameters_step(volume: svc.VolumeInput) -> tuple[dict[str, svc.QueueParams], str, bool] | None:
    """The parameter table per queue (per unit for care homes), the volume basis and whether to use the data's
    AHT; None (with the error shown) while the table has an invalid entry."""
    base = state.get("params_base")
    care = set(base["channel"]) == {"care"}
    st.subheader("2 · Staff per shift per unit" if care else "2 · Parameters per queue")
    vol_id = state.get("volume_id")
    c1, c2 = st.columns([2, 2])
    basis_opts = ["point"] + [b for b, ok in volume.has_upper.items() if ok]
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
        base, hide_index=True, width="stretch", key=state.key(f"params_{vol_id}"),
        disabled=["queue"], num_rows="fixed", placeholder="–",
        column_order=svc.param_columns(base["channel"].tolist()),
        column_config={
            "queue": st.column_config.TextColumn("unit" if care else "queue"),
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
            "care_ratio": PCT("staff per shift", min_value=0.1, format="%.2f",
                              help="Staff to schedule for each shift of the unit's plan (1 = one person per shift)."),
        })
    try:
        return svc.params_from_table(edited, interval_seconds=volume.interval_seconds), basis, use_aht
    except ServiceError as exc:
        st.error(md(str(exc)))
        return None


# ----------------------------------------------------------------------------------------- 3. what-if
def _whatif_step(params: dict[str, svc.QueueParams]) -> svc.Scenario:
    """The what-if sliders (neutral for a newly loaded volume, see :func:`_set_volume`) as a scenario."""
    st.subheader("3 · What-if")
    for k, neutral in zip(WHATIF_KEYS, WHATIF_NEUTRAL, strict=True):
        st.session_state.setdefault(state.key(k), neutral)
    all_care = _is_care(params)
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
    return svc.Scenario(volume_pct=float(vol_pct), aht_pct=float(aht_pct), sl_target=_opt_pct(sl_choice),
                        shrinkage=_opt_pct(shrink_choice))


# ---------------------------------------------------------------------------------------- the plans
def _compute(volume: svc.VolumeInput, params: dict[str, svc.QueueParams], basis: str, use_aht: bool,
             scenario: svc.Scenario) -> tuple[StaffingPlan, StaffingPlan] | None:
    """The plan as entered and the plan with the what-if (the same object when the what-if is neutral)."""
    try:
        base_plan = svc.build_plan(app, actor, volume, params, basis=basis, use_interval_aht=use_aht)
        plan = base_plan if scenario.neutral else svc.build_plan(app, actor, volume, params, basis=basis,
                                                                 scenario=scenario, use_interval_aht=use_aht)
    except ServiceError as exc:
        st.error(md(str(exc)))
        return None
    return base_plan, plan


def _headline(plan: StaffingPlan, base_plan: StaffingPlan, scenario: svc.Scenario) -> None:
    """Notes, headline metrics (with deltas against the plan as entered) and the what-if caption.

    Containers that are always drawn keep the result tabs below at a fixed place: a what-if note or caption
    appearing above them made the browser redraw the tabs on "Requirement per interval", so moving a slider
    while reading the Daily summary or the Shift plan jumped away from it.
    """
    notes_box = st.container()
    for note in plan.notes:
        notes_box.warning(md(note))
    all_care = _is_care(plan.params)
    any_voice = any(pp.channel == "voice" for pp in plan.params.values())
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
                  help="Volume-weighted over the open intervals of the voice queues (closed hours have no SL).")
        m4.metric("Intervals below SL target", f"{totals['below_target']:,.0f}", _delta("below_target", "{:+,.0f}"),
                  delta_color="inverse")
    whatif_box = st.container()
    if not scenario.neutral:
        whatif_box.caption(f"What-if: {scenario.describe(care=all_care)}. Deltas compare with the plan as entered.")


# ------------------------------------------------------------------------------------------ results
def _req_hash(plan: StaffingPlan, queue: str) -> str:
    sub = plan.intervals[plan.intervals["queue"] == queue]
    return hashlib.sha1(sub[["ds", "agents"]].to_csv().encode()).hexdigest()[:12]


def _current_shift_plan(plan: StaffingPlan) -> ShiftPlanResult | None:
    """The session's shift plan if it was built for this requirement (parameters and what-if unchanged)."""
    shift_state = state.get("shift")  # (queue, requirement hash, ShiftPlanResult)
    if shift_state is not None and shift_state[0] in plan.params and shift_state[1] == _req_hash(plan, shift_state[0]):
        return shift_state[2]
    return None


def _requirement_view(plan: StaffingPlan, q: str, shift_plan: ShiftPlanResult | None, *,
                      base: StaffingPlan | None = None, suffix: str = "") -> None:
    """One queue's (unit's) chart and requirement table — for the live plan and an opened saved plan alike."""
    p = plan.params[q]
    care = p.channel == "care"
    same_queue = shift_plan is not None and shift_plan.intervals["queue"].iloc[0] == q
    title = f"{q}: staff to schedule per day" if care else f"{q}: required vs planned agents ({p.channel})"
    st.plotly_chart(charts.requirement_chart(
        plan.intervals[plan.intervals["queue"] == q], interval_seconds=p.interval_seconds,
        planned=shift_plan.intervals if same_queue else None,
        base=None if base is None else base.intervals[base.intervals["queue"] == q],
        sl_target=p.sl_target if p.channel == "voice" else None, title=title + suffix,
        people="staff" if care else "agents"), width="stretch")
    rows = svc.requirement_rows(plan, q, shift_plan if same_queue else None)
    st.dataframe(rows, hide_index=True, width="stretch", column_config=CARE_INTERVAL_COLS if care else INTERVAL_COLS,
                 height=min(360, 38 + 35 * len(rows)), placeholder="–")


def _requirement_tab(plan: StaffingPlan, base_plan: StaffingPlan, scenario: svc.Scenario,
                     shift_plan: ShiftPlanResult | None) -> None:
    queues = list(plan.params)
    label = "Unit" if _is_care(plan.params) else "Queue"
    q = st.selectbox(label, queues, key=state.key("req_queue")) if len(queues) > 1 else queues[0]
    _requirement_view(plan, q, shift_plan, base=None if scenario.neutral else base_plan)


def _daily_tab(plan: StaffingPlan) -> None:
    all_care = _is_care(plan.params)
    has_hours = plan.daily["agent_hours"].notna().any()
    st.plotly_chart(charts.daily_chart(plan.daily, value="agent_hours" if has_hours else "agents_total",
                                       title="Scheduled hours per day" if has_hours else "Staff per day"),
                    width="stretch")
    st.dataframe(dash_missing(plan.daily.dropna(axis=1, how="all"), NOT_FOR_EVERY_CHANNEL), hide_index=True,
                 width="stretch", column_config={
        "queue": st.column_config.TextColumn("unit" if all_care else "queue"),
        "date": st.column_config.DateColumn("date", format="ddd YYYY-MM-DD"),
        "volume": st.column_config.NumberColumn("shifts" if all_care else "volume", format="%.1f"),
        "agents_total": st.column_config.NumberColumn("staff", format="%d") if all_care else None,
        "agent_hours": st.column_config.NumberColumn("agent hours", format="%.1f"),
        "productive_hours": st.column_config.NumberColumn("productive hours", format="%.1f"),
        "peak_agents": None if all_care else st.column_config.NumberColumn("peak agents", format="%d"),
        "service_level": right_text("SL"),
        "asa_seconds": right_text("ASA (s)"),
        "p_abandon": right_text("P(abandon)"),
        "occupancy": st.column_config.NumberColumn("occupancy", format="percent")})
    summary = plan.summary.dropna(axis=1, how="all")
    if all_care:
        summary = summary.drop(columns=["channel"], errors="ignore")
    st.dataframe(dash_missing(summary, NOT_FOR_EVERY_CHANNEL), hide_index=True, width="stretch", column_config={
        "queue": st.column_config.TextColumn("unit" if all_care else "queue"),
        "intervals": st.column_config.NumberColumn("days" if all_care else "intervals", format="%d"),
        "volume": st.column_config.NumberColumn("shifts" if all_care else "volume", format="%.0f"),
        "agent_hours": st.column_config.NumberColumn("agent hours", format="%.1f"),
        "peak_agents": st.column_config.NumberColumn("peak staff in one day" if all_care else "peak agents",
                                                     format="%d"),
        "service_level": right_text("SL"),
        "p_abandon": right_text("P(abandon)"),
        "intervals_below_target": right_text("intervals below target")})


def _shift_tab(plan: StaffingPlan, shift_plan: ShiftPlanResult | None) -> ShiftPlanResult | None:
    """Shift-plan form and result; the shift plan in force after this run (a new one when built now)."""
    shiftable = [x for x, pp in plan.params.items() if pp.channel != "care"]
    if not shiftable:
        st.info("Care-home requirements are already staff per unit and day; no interval shift plan is needed.")
        return shift_plan
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
                "break_minutes": st.column_config.NumberColumn("unpaid break (min)", min_value=0, format="%.0f"),
                "break_after_minutes": st.column_config.NumberColumn(
                    "break after (min)", min_value=0, format="%.0f", help="Empty = in the middle of the shift."),
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
            state.put("shift", (sq, _req_hash(plan, sq), result))
            shift_plan = result
        except ServiceError as exc:
            st.error(md(str(exc)))
    elif state.get("shift") is not None and shift_plan is None:
        st.warning("The requirement changed since the shift plan was built (parameters or what-if); "
                   "build it again.")
    if shift_plan is None:
        return None
    sp_q = str(shift_plan.intervals["queue"].iloc[0])
    spp = plan.params[sp_q]
    k1, k2, k3, k4 = st.columns(4)
    k1.metric("Paid hours", f"{shift_plan.paid_hours:,.1f}")
    k2.metric("People-shifts", f"{int(shift_plan.shifts['people'].sum()):,}")
    k3.metric("Uncovered agent-intervals", f"{shift_plan.under_agent_intervals:,.1f}")
    vol = shift_plan.intervals["volume"]
    sl_sp = (shift_plan.intervals["service_level"] * vol).sum() / vol.sum() if vol.sum() > 0 else math.nan
    k4.metric("SL with planned people", "—" if not math.isfinite(sl_sp) else f"{sl_sp:.1%}",
              help="Volume-weighted over the open intervals (closed hours have no SL).")
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
                 column_config=INTERVAL_COLS, placeholder="–")
    return shift_plan


# ------------------------------------------------------------------------------------- 4. export/save
def _export_step(volume: svc.VolumeInput, plan: StaffingPlan, scenario: svc.Scenario,
                 shift_plan: ShiftPlanResult | None) -> None:
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
                st.session_state[state.key("saved_flash")] = f"Saved as plan #{pid} ({md(name.strip())})."
                st.session_state[state.key("saved_pick_next")] = pid  # applied before the selectbox is drawn
                st.toast(f"Saved plan #{pid}")
                st.rerun()
            except ServiceError as exc:
                st.error(md(str(exc)))
    flash = st.session_state.pop(state.key("saved_flash"), None)
    if flash:
        e3.success(flash + " Open or download it again on the **Saved plans** tab.")
    if _is_care(plan.params):
        st.caption("Every download is audited and a timestamped copy is kept in the outputs folder. The workbook has "
                   "Summary, Intervals (staff per unit and day), Daily and Parameters (staff per shift) sheets with "
                   "a native chart.")
    else:
        st.caption("Every download is audited and a timestamped copy is kept in the outputs folder. The workbook has "
                   "Summary, Intervals, Daily, Shift plan and Parameters sheets with a native chart.")


def _plan() -> None:
    """Volume → parameters → what-if → requirement, shift plan, exports: one named step each."""
    volume = _volume_step()
    if volume is None:
        return
    inputs = _parameters_step(volume)
    if inputs is None:
        return
    params, basis, use_aht = inputs
    scenario = _whatif_step(params)
    plans = _compute(volume, params, basis, use_aht, scenario)
    if plans is None:
        return
    base_plan, plan = plans
    _headline(plan, base_plan, scenario)
    shift_plan = _current_shift_plan(plan)
    tab_req, tab_daily, tab_shift = st.tabs(["Requirement per interval", "Daily summary", "Shift plan"])
    with tab_req:
        _requirement_tab(plan, base_plan, scenario, shift_plan)
    with tab_daily:
        _daily_tab(plan)
    with tab_shift:
        shift_plan = _shift_tab(plan, shift_plan)
    _export_step(volume, plan, scenario, shift_plan)


@st.fragment
def _saved_plans() -> None:
    """Saved plans: list, open and download again.

    Why a tab of its own and a fragment: opening last week's plan needs no live inputs (no forecast, history or
    upload), so a manager can read or download it at once; and choosing a plan reruns only this part instead of
    recomputing the live plan.
    """
    saved = svc.list_saved_plans(app, actor)
    if not saved.empty:  # stored in UTC; shown in the app's zone like every other time
        saved = saved.assign(created_at=local_column(saved["created_at"]))
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
                     "created_at": st.column_config.DatetimeColumn("saved", format=DATETIME_COLUMN_FORMAT)})
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
            st.error(md(exc))
            return
        state.put("saved_open", opened)
    st.caption(md(opened.describe()))
    queues = opened.queues
    label = "Unit" if _is_care(opened.plan.params) else "Queue"
    q = st.selectbox(label, queues, key=state.key(f"saved_queue_{opened.plan_id}")) if len(queues) > 1 \
        else queues[0]
    sp = opened.shift_plan
    same_queue = sp is not None and sp.intervals["queue"].iloc[0] == q
    _requirement_view(opened.plan, q, sp, suffix=", as saved")
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
