"""Staffing plan: required agents per interval and per day from a forecast table and per-queue parameters.

Why one function: the Staffing page, the REST API, the CLI and the what-if controls all need the same
numbers. :func:`plan_staffing` takes the forecast long table (``queue``/``series_id``, ``ds``, ``yhat`` and
optionally ``yhat_upper_80``/``yhat_upper_95``) plus :class:`QueueParams` and returns a
:class:`StaffingPlan` with three DataFrames a page can draw directly. A what-if is simply another call
with changed parameters (``dataclasses.replace``) or ``volume_factor``/``aht_factor``; a year of hourly
intervals takes well under half a second for Erlang C queues.

Channels: ``voice`` → Erlang C (or Erlang A when ``patience_s`` is set); ``email`` → backlog model with a
response-time target; ``outbound`` → workload per interval; ``care`` → the forecast is shifts per
unit/day, staff = ceil(shifts × care_ratio).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from src.data.export import ChartSpec, to_excel_bytes

from .erlang import (
    apply_shrinkage,
    average_speed_of_answer,
    erlang_c,
    exact_fraction,
    required_agents,
    safe_ceil,
    service_level,
    validate_targets,
)
from .erlang_a import erlang_a_metrics, required_agents_erlang_a
from .shift_plan import ShiftPattern, ShiftPlanResult, solve_shift_plan
from .workload import backlog_plan, care_staff_required, workload_agents

logger = logging.getLogger(__name__)

ChannelKind = Literal["voice", "email", "outbound", "care"]
VolumeBasis = Literal["point", "upper_80", "upper_95"]
QUEUE_COLUMNS = ("queue", "series_id", "series", "unique_id")
POINT_COLUMNS = ("yhat", "y", "volume")
INTERVAL_COLUMNS = [
    "queue", "ds", "date", "volume", "aht_seconds", "traffic", "agents_raw", "agents", "agents_fractional",
    "service_level", "asa_seconds", "occupancy", "p_wait", "p_abandon", "backlog_hours",
]


@dataclass(frozen=True)
class QueueParams:
    """Planning parameters of one queue. Defaults: a voice queue, 80 % in 20 s, AHT 300 s, 30 % shrinkage,
    85 % occupancy cap, 30-minute intervals, Erlang C (no patience), e-mails within 24 h, care ratio 1."""

    channel: ChannelKind = "voice"
    aht_seconds: float = 300.0
    sl_target: float | None = 0.8
    answer_within_s: float = 20.0
    asa_target_s: float | None = None
    patience_s: float | None = None
    shrinkage: float = 0.3
    max_occupancy: float = 0.85
    interval_seconds: float = 1800
    response_hours: float = 24.0
    care_ratio: float = 1.0
    abandon_target: float | None = None
    sl_basis: Literal["offered", "answered"] = "offered"

    def __post_init__(self) -> None:
        if self.channel not in ("voice", "email", "outbound", "care"):
            raise ValueError(f"Unknown channel {self.channel!r}; use voice, email, outbound or care.")
        if not self.aht_seconds > 0:
            raise ValueError(f"AHT must be positive (got {self.aht_seconds!r}).")
        if not self.interval_seconds > 0:
            raise ValueError(f"Interval must be positive (got {self.interval_seconds!r}).")
        if self.patience_s is not None and not self.patience_s > 0:
            raise ValueError(f"Patience must be positive (got {self.patience_s!r}).")
        if not self.response_hours > 0 or not self.care_ratio > 0:
            raise ValueError("Response time and care ratio must be positive.")
        if self.abandon_target is not None and not 0 <= self.abandon_target < 1:
            raise ValueError("Abandonment target must be in [0, 1).")
        if self.sl_basis not in ("offered", "answered"):
            raise ValueError("sl_basis must be 'offered' or 'answered'.")
        validate_targets(self.sl_target, self.answer_within_s, self.asa_target_s, self.max_occupancy,
                         self.shrinkage)


@dataclass(frozen=True)
class StaffingPlan:
    """Result of :func:`plan_staffing`.

    ``intervals``: one row per queue × interval with columns :data:`INTERVAL_COLUMNS`.
    ``daily``: per queue × date: volume, agent_hours (scheduled, after shrinkage), productive_hours,
    peak_agents, service_level / asa_seconds / p_abandon (volume-weighted), occupancy.
    ``summary``: per queue totals over the horizon, incl. intervals_below_target.
    """

    intervals: pd.DataFrame
    daily: pd.DataFrame
    summary: pd.DataFrame
    params: Mapping[str, QueueParams]
    volume_basis: VolumeBasis = "point"
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        missing = set(INTERVAL_COLUMNS) - set(self.intervals.columns)
        if missing:
            raise ValueError(f"StaffingPlan.intervals lacks {sorted(missing)}")


def _pick(columns: Sequence[str], options: Sequence[str]) -> str | None:
    lower = {c.lower(): c for c in columns}
    for o in options:
        if o in lower:
            return lower[o]
    return None


def _volume_column(df: pd.DataFrame, basis: VolumeBasis) -> str:
    if basis == "point":
        col = _pick(df.columns, POINT_COLUMNS)
    elif basis in ("upper_80", "upper_95"):
        col = _pick(df.columns, (f"yhat_{basis}",))
    else:
        raise ValueError(f"volume basis must be point, upper_80 or upper_95 (got {basis!r}).")
    if col is None:
        want = "yhat (or y / volume)" if basis == "point" else f"yhat_{basis}"
        raise ValueError(f"The forecast has no {want} column; columns are {list(df.columns)}.")
    return col


def _voice(vol: np.ndarray, aht: np.ndarray, p: QueueParams) -> dict[str, np.ndarray]:
    common = dict(interval_seconds=p.interval_seconds, sl_target=p.sl_target, answer_within_s=p.answer_within_s,
                  asa_target_s=p.asa_target_s, max_occupancy=p.max_occupancy, shrinkage=p.shrinkage)
    if p.patience_s is None:
        r = required_agents(vol, aht, **common)
        out = {k: getattr(r, k) for k in ("traffic", "agents_raw", "agents", "agents_fractional", "service_level",
                                          "asa_seconds", "occupancy", "p_wait")}
        out["p_abandon"] = np.zeros(vol.size)
        return out
    ra = required_agents_erlang_a(vol, aht, p.patience_s, abandon_target=p.abandon_target, sl_basis=p.sl_basis,
                                  **common)
    return {k: getattr(ra, k) for k in ("traffic", "agents_raw", "agents", "agents_fractional", "service_level",
                                        "asa_seconds", "occupancy", "p_wait", "p_abandon")}


#: what a voice interval achieves; none of it exists in an interval with no calls (closed)
_VOICE_QUALITY = ("service_level", "asa_seconds", "occupancy", "p_wait", "p_abandon")


def _closed_to_nan(out: dict[str, np.ndarray], closed: np.ndarray, columns: Sequence[str]) -> None:
    """Blank ``columns`` of closed intervals in place.

    Why: Erlang C says 0 calls are all answered at once (SL 100 %, ASA 0, occupancy 0) — true and useless. A closed
    hour drawn at 100 % service level looked like the best hour of the day in the charts and the workbook, and a
    plain mean over intervals would count it. NaN shows as no value and stays out of every weighted average.
    """
    if closed.any():
        for c in columns:
            out[c] = np.where(closed, np.nan, np.asarray(out[c], dtype=float))


def _plan_queue(vol: np.ndarray, aht: np.ndarray, p: QueueParams) -> dict[str, np.ndarray]:
    n = vol.size
    nan = np.full(n, np.nan)
    if p.channel == "voice":
        out = _voice(vol, aht, p)
        out["backlog_hours"] = nan
        _closed_to_nan(out, ~(vol > 0), _VOICE_QUALITY)
        return out
    traffic = vol * aht / p.interval_seconds
    traffic_done = traffic
    if p.channel == "care":
        raw = care_staff_required(np.round(vol, 9), p.care_ratio)
        productive = raw.astype(float)
        backlog = nan
    elif p.channel == "email":
        bp = backlog_plan(vol, aht, interval_seconds=p.interval_seconds, response_hours=p.response_hours,
                          max_occupancy=p.max_occupancy)
        productive = bp.agents_fractional
        raw = safe_ceil(productive)
        backlog = bp.backlog_seconds / 3600.0
        # e-mails are worked from a backlog: the busy time of an interval is the work *done* in it, not the
        # work that arrived (arrivals are spread over the response window)
        traffic_done = bp.work_done_seconds / p.interval_seconds
    else:  # outbound
        productive = workload_agents(vol, aht, p.interval_seconds, p.max_occupancy)
        raw = safe_ceil(productive)
        backlog = nan
    busy = traffic_done if p.channel == "email" else traffic
    with np.errstate(divide="ignore", invalid="ignore"):
        # nobody scheduled (closed, or e-mails not due yet): no occupancy rather than 0 %
        occ = np.where(raw > 0, np.minimum(busy / raw, 1.0), np.nan)
    return {"traffic": traffic, "agents_raw": raw, "agents": apply_shrinkage(raw, p.shrinkage),
            "agents_fractional": productive / (1.0 - p.shrinkage), "service_level": nan, "asa_seconds": nan,
            "occupancy": occ if p.channel != "care" else nan, "p_wait": nan, "p_abandon": nan,
            "backlog_hours": backlog}


def _weighted(df: pd.DataFrame, col: str, weight: str) -> pd.Series:
    tmp = df[["queue", "date", col, weight]].copy()
    tmp["_wx"] = tmp[col] * tmp[weight]
    tmp.loc[tmp[col].isna() | ~np.isfinite(tmp[col]), "_wx"] = np.nan
    g = tmp.groupby(["queue", "date"], sort=True)
    num = g["_wx"].sum(min_count=1)
    den = g[weight].sum()
    return num / den.where(den > 0)


def plan_staffing(
    forecast: pd.DataFrame,
    params: QueueParams | Mapping[str, QueueParams] | None = None,
    *,
    volume: VolumeBasis = "point",
    volume_factor: float = 1.0,
    aht_factor: float = 1.0,
    on_progress: Callable[[float, str], None] | None = None,
) -> StaffingPlan:
    """Required agents per interval and per day for every queue of ``forecast``.

    ``forecast`` columns: ``ds`` (or ``timestamp``), a volume column (``yhat``/``y``/``volume`` for the point
    forecast, ``yhat_upper_80``/``yhat_upper_95`` for ``volume="upper_80"/"upper_95"``), optionally a queue
    column (``queue``, ``series_id``, ``series`` or ``unique_id``; otherwise one queue named "all") and
    ``aht_seconds`` per row (else the queue's AHT). ``params`` is one QueueParams for all queues or a mapping
    queue → params (key ``"*"`` is the fallback). ``volume_factor``/``aht_factor`` scale volume and AHT for
    what-if (1.1 = +10 %). Negative forecast values are planned as 0. Raises ``ValueError`` with a clear
    message for missing columns, unknown queues or invalid parameters.
    """
    if not volume_factor >= 0 or not aht_factor > 0:
        raise ValueError("volume_factor must be >= 0 and aht_factor > 0.")
    if forecast is None or forecast.empty:
        raise ValueError("The forecast table is empty.")
    ds_col = _pick(forecast.columns, ("ds", "timestamp", "date"))
    if ds_col is None:
        raise ValueError(f"The forecast has no ds/timestamp column; columns are {list(forecast.columns)}.")
    vol_col = _volume_column(forecast, volume)
    q_col = _pick(forecast.columns, QUEUE_COLUMNS)
    aht_col = _pick(forecast.columns, ("aht_seconds", "aht"))
    try:
        volumes = pd.to_numeric(forecast[vol_col], errors="raise").astype(float).to_numpy()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Column {vol_col!r} must be numeric: {exc}") from None
    df = pd.DataFrame({
        "queue": forecast[q_col].astype(str).to_numpy() if q_col else "all",
        "ds": pd.to_datetime(forecast[ds_col]).to_numpy(),
        "volume": volumes,
    })
    if aht_col:
        df["aht_in"] = pd.to_numeric(forecast[aht_col], errors="raise").astype(float).to_numpy()
    notes: list[str] = []
    if df["volume"].isna().any() or not np.all(np.isfinite(df["volume"].fillna(0))):
        raise ValueError(f"Column {vol_col!r} has missing or infinite values.")
    if (df["volume"] < 0).any():
        notes.append(f"{int((df['volume'] < 0).sum())} negative forecast values planned as 0.")
        df["volume"] = df["volume"].clip(lower=0)
    df = df.sort_values(["queue", "ds"], kind="stable").reset_index(drop=True)
    if df.duplicated(["queue", "ds"]).any():
        raise ValueError("The forecast has duplicate (queue, ds) rows.")
    if params is None:
        params = QueueParams()
    queues = list(dict.fromkeys(df["queue"]))
    if isinstance(params, QueueParams):
        per_queue = {q: params for q in queues}
    else:
        missing = [q for q in queues if q not in params and "*" not in params]
        if missing:
            raise ValueError(f"No parameters for queue(s) {missing}; give them or a '*' default.")
        per_queue = {q: params.get(q, params.get("*")) for q in queues}  # type: ignore[misc]

    parts = []
    for i, q in enumerate(queues):
        p = per_queue[q]
        sub = df[df["queue"] == q]
        vol = sub["volume"].to_numpy() * volume_factor
        aht = (sub["aht_in"].to_numpy() if aht_col else np.full(len(sub), p.aht_seconds)) * aht_factor
        if aht_col and np.any(~(aht > 0)):
            raise ValueError(f"Queue {q!r}: aht_seconds must be positive.")
        res = _plan_queue(vol, aht, p)
        part = pd.DataFrame({"queue": q, "ds": sub["ds"].to_numpy(), "volume": vol, "aht_seconds": aht, **res})
        parts.append(part)
        if on_progress:
            on_progress((i + 1) / len(queues), f"planned queue {q}")
    iv = pd.concat(parts, ignore_index=True)
    logger.info("Staffing plan: %d queues, %d intervals, basis %s", len(queues), len(iv), volume)
    return plan_from_intervals(iv, per_queue, volume_basis=volume, notes=tuple(notes))


def plan_from_intervals(
    intervals: pd.DataFrame,
    params: Mapping[str, QueueParams],
    *,
    volume_basis: VolumeBasis = "point",
    notes: Sequence[str] = (),
) -> StaffingPlan:
    """A :class:`StaffingPlan` (daily and summary tables) from per-interval requirement rows.

    :func:`plan_staffing` ends here; a saved plan is rebuilt here from its stored rows, so a re-export shows the
    numbers exactly as they were computed. ``intervals`` needs the columns of :data:`INTERVAL_COLUMNS` (``date``,
    ``p_wait`` and ``backlog_hours`` may be missing: derived from ``ds`` / left empty); ``params`` must cover
    every queue. Raises ``ValueError`` for missing columns or queues without parameters.
    """
    iv = intervals.reset_index(drop=True)
    if "date" not in iv:
        iv["date"] = pd.to_datetime(iv["ds"]).dt.normalize()
    for col in ("p_wait", "backlog_hours"):
        if col not in iv:
            iv[col] = np.nan
    missing_cols = [c for c in INTERVAL_COLUMNS if c not in iv.columns]
    if missing_cols:
        raise ValueError(f"The interval rows lack the columns {missing_cols}.")
    queues = list(dict.fromkeys(iv["queue"]))
    missing = [q for q in queues if q not in params]
    if missing:
        raise ValueError(f"No parameters for queue(s) {missing}.")
    per_queue = {q: params[q] for q in queues}
    iv = iv[INTERVAL_COLUMNS]
    hours = iv["queue"].map({q: p.interval_seconds / 3600.0 for q, p in per_queue.items()})
    is_care = iv["queue"].map({q: p.channel == "care" for q, p in per_queue.items()}).astype(bool)
    tmp = iv.assign(agent_hours=np.where(is_care, np.nan, iv["agents"] * hours),
                    productive_hours=np.where(is_care, np.nan, iv["agents_raw"] * hours),
                    busy_hours=np.where(is_care, np.nan, iv["occupancy"].fillna(0) * iv["agents_raw"] * hours))
    g = tmp.groupby(["queue", "date"], sort=True)
    daily = pd.DataFrame({
        "volume": g["volume"].sum(),
        "agents_total": g["agents"].sum(),
        "agent_hours": g["agent_hours"].sum(min_count=1),
        "productive_hours": g["productive_hours"].sum(min_count=1),
        "peak_agents": g["agents"].max(),
        "service_level": _weighted(tmp, "service_level", "volume"),
        "asa_seconds": _weighted(tmp, "asa_seconds", "volume"),
        "p_abandon": _weighted(tmp, "p_abandon", "volume"),
    })
    # busy hours (occupancy × productive agents) over productive hours: equals traffic ÷ capacity for calls and
    # outbound, and work done ÷ capacity for e-mails (never above 100 %)
    daily["occupancy"] = (g["busy_hours"].sum(min_count=1)
                          / daily["productive_hours"].where(daily["productive_hours"] > 0))
    daily = daily.reset_index()
    summary_rows = []
    for q in queues:
        p = per_queue[q]
        s = tmp[tmp["queue"] == q]
        below = np.nan
        if p.channel == "voice" and p.sl_target is not None:
            below = int((s["service_level"] < p.sl_target - 1e-9).sum())
        vol_sum = float(s["volume"].sum())
        summary_rows.append({
            "queue": q, "channel": p.channel, "intervals": len(s), "volume": vol_sum,
            "agent_hours": float(s["agent_hours"].sum()) if p.channel != "care" else np.nan,
            "peak_agents": int(s["agents"].max()) if len(s) else 0,
            "service_level": float((s["service_level"] * s["volume"]).sum() / vol_sum)
            if p.channel == "voice" and vol_sum > 0 else np.nan,
            "p_abandon": float((s["p_abandon"] * s["volume"]).sum() / vol_sum)
            if p.channel == "voice" and vol_sum > 0 else np.nan,
            "intervals_below_target": below,
        })
    return StaffingPlan(intervals=iv, daily=daily, summary=pd.DataFrame(summary_rows), params=per_queue,
                        volume_basis=volume_basis, notes=tuple(notes))


def what_if(
    params: QueueParams,
    *,
    aht_pct: float = 0.0,
    sl_target: float | None = None,
    shrinkage: float | None = None,
    answer_within_s: float | None = None,
) -> QueueParams:
    """Changed copy of ``params`` for a what-if (``aht_pct=10`` → AHT +10 %); volume ±% is
    ``plan_staffing(..., volume_factor=1 + pct/100)``."""
    changes: dict[str, float | None] = {"aht_seconds": params.aht_seconds * (1 + aht_pct / 100.0)}
    if sl_target is not None:
        changes["sl_target"] = sl_target
    if shrinkage is not None:
        changes["shrinkage"] = shrinkage
    if answer_within_s is not None:
        changes["answer_within_s"] = answer_within_s
    return replace(params, **changes)  # type: ignore[arg-type]


def achieved_with_agents(
    agents_on_shift: np.ndarray, volume: np.ndarray, aht: np.ndarray, p: QueueParams
) -> dict[str, np.ndarray]:
    """SL, ASA, P(abandon) and productive agents when ``agents_on_shift`` people are scheduled.

    Productive agents = floor(on shift × (1 − shrinkage)), computed exactly (0.3 is 3/10). Intervals with no calls
    (closed) have no SL, ASA or abandonment (NaN).
    """
    s = exact_fraction(p.shrinkage)
    scaled = np.asarray(agents_on_shift, dtype=float) * (s.denominator - s.numerator) / s.denominator
    productive = np.floor(scaled + 1e-9 * np.maximum(1.0, scaled)).astype(np.int64)
    a = volume * aht / p.interval_seconds
    if p.patience_s is None:
        sl = service_level(productive, a, aht, p.answer_within_s)
        asa = average_speed_of_answer(productive, a, aht)
        pab = np.zeros(a.size)
        pw = erlang_c(productive, a)
    else:
        m = erlang_a_metrics(productive, volume, aht, p.patience_s, interval_seconds=p.interval_seconds,
                             answer_within_s=p.answer_within_s, sl_basis=p.sl_basis)
        sl, asa, pab, pw = m.service_level, m.asa_seconds, m.p_abandon, m.p_wait
    out = {"productive_agents": productive, "service_level": sl, "asa_seconds": asa, "p_abandon": pab, "p_wait": pw}
    _closed_to_nan(out, ~(np.asarray(volume, dtype=float) > 0), ("service_level", "asa_seconds", "p_abandon", "p_wait"))
    return out


def plan_shifts(
    plan: StaffingPlan,
    patterns: Sequence[ShiftPattern],
    *,
    queue: str | None = None,
    time_limit_s: float = 30.0,
    under_penalty: float = 1000.0,
    on_progress: Callable[[float, str], None] | None = None,
) -> ShiftPlanResult:
    """Shift plan covering the final (after-shrinkage) agents of one queue, with the SL those people achieve.

    ``intervals`` of the result gains: queue, volume, productive_agents, service_level, asa_seconds,
    p_abandon (voice queues; NaN otherwise). ``queue`` may be omitted when the plan has one queue.
    """
    queues = list(plan.params)
    if queue is None:
        if len(queues) != 1:
            raise ValueError(f"Choose a queue for the shift plan: {queues}.")
        queue = queues[0]
    if queue not in plan.params:
        raise ValueError(f"Unknown queue {queue!r}; the plan has {queues}.")
    p = plan.params[queue]
    if p.channel == "care":
        raise ValueError("Care-home requirements are already in shifts per day; no interval shift plan needed.")
    sub = plan.intervals[plan.intervals["queue"] == queue]
    req = pd.Series(sub["agents"].to_numpy(dtype=float), index=pd.DatetimeIndex(sub["ds"]))
    res = solve_shift_plan(req, patterns, interval_minutes=p.interval_seconds / 60.0, time_limit_s=time_limit_s,
                           under_penalty=under_penalty, on_progress=on_progress)
    iv = res.intervals.copy()
    iv.insert(0, "queue", queue)
    iv["volume"] = sub["volume"].to_numpy()
    if p.channel == "voice":
        ach = achieved_with_agents(iv["planned"].to_numpy(), sub["volume"].to_numpy(), sub["aht_seconds"].to_numpy(),
                                   p)
        for k in ("productive_agents", "service_level", "asa_seconds", "p_abandon"):
            iv[k] = ach[k]
    else:
        for k in ("productive_agents", "service_level", "asa_seconds", "p_abandon"):
            iv[k] = np.nan
    return ShiftPlanResult(intervals=iv, shifts=res.shifts, status=res.status, optimal=res.optimal,
                           paid_hours=res.paid_hours, under_agent_intervals=res.under_agent_intervals,
                           objective=res.objective, extra=res.extra)


def params_frame(params: Mapping[str, QueueParams]) -> pd.DataFrame:
    """Parameters as a table (one row per queue) — for the Parameters sheet and the page."""
    return pd.DataFrame([{"queue": q, **asdict(p)} for q, p in params.items()])


#: Excel headers of the staffing workbook, one mapping per sheet (column code → what a manager reads in Excel).
#: Why here: the workbook is opened by people who never see the code, so every header says what the number is and
#: in which unit; the codes stay in the CSV export and the REST API, which machines read. Names follow the
#: computation above: ``agents_raw`` is the productive requirement (Erlang C/A for calls, backlog for e-mails,
#: workload for outbound, shifts × ratio for care) *before* shrinkage, ``agents`` the people to schedule after it.
_COMMON_HEADERS: dict[str, str] = {
    "queue": "Queue",
    "channel": "Channel",
    "ds": "Interval start",
    "date": "Date",
    "volume": "Volume (contacts; care: shifts)",
    "aht_seconds": "AHT (seconds)",
    "traffic": "Traffic (Erlangs)",
    "agents_raw": "Productive agents needed (before shrinkage)",
    "agents": "Agents to schedule (after shrinkage)",
    "agents_fractional": "Agents to schedule, unrounded (after shrinkage)",
    "service_level": "Service level achieved (%)",
    "asa_seconds": "Average speed of answer (seconds)",
    "occupancy": "Occupancy (%)",
    "p_wait": "Probability of waiting (%)",
    "p_abandon": "Probability of abandoning (%)",
    "backlog_hours": "E-mail backlog at interval end (hours of work)",
}
WORKBOOK_HEADERS: dict[str, dict[str, str]] = {
    "Summary": {**_COMMON_HEADERS,
                "intervals": "Intervals (count)",
                "volume": "Volume over the horizon (contacts; care: shifts)",
                "agent_hours": "Agent hours to schedule (after shrinkage)",
                "peak_agents": "Peak agents to schedule (after shrinkage)",
                "service_level": "Service level achieved (%, volume-weighted)",
                "p_abandon": "Probability of abandoning (%, volume-weighted)",
                "intervals_below_target": "Intervals below the SL target (count)"},
    "Intervals": dict(_COMMON_HEADERS),
    "Daily": {**_COMMON_HEADERS,
              "volume": "Volume per day (contacts; care: shifts)",
              "agents_total": "Agent-intervals to schedule (sum over the day)",
              "agent_hours": "Agent hours to schedule (after shrinkage)",
              "productive_hours": "Productive agent hours (before shrinkage)",
              "peak_agents": "Peak agents to schedule (after shrinkage)",
              "service_level": "Service level achieved (%, volume-weighted)",
              "asa_seconds": "Average speed of answer (seconds, volume-weighted)",
              "p_abandon": "Probability of abandoning (%, volume-weighted)",
              "occupancy": "Occupancy (%, busy ÷ productive hours)"},
    "Shift plan": {**_COMMON_HEADERS,
                   "required": "Agents required (after shrinkage)",
                   "planned": "People planned (on shift, breaks excluded)",
                   "over": "Over requirement (people)",
                   "under": "Under requirement (people short)",
                   "productive_agents": "Productive agents planned (after shrinkage)",
                   "service_level": "Service level with planned people (%)",
                   "asa_seconds": "Average speed of answer with planned people (seconds)",
                   "p_abandon": "Probability of abandoning with planned people (%)"},
    "Shift starts": {"pattern": "Shift pattern", "start": "Shift start", "end": "Shift end",
                     "paid_hours": "Paid hours per shift", "people": "People starting"},
    "Parameters": {"queue": "Queue", "volume_basis": "Volume basis (point forecast or upper bound)",
                   "channel": "Channel", "aht_seconds": "AHT (seconds)", "sl_target": "Service level target (%)",
                   "answer_within_s": "Answered within (seconds)", "asa_target_s": "ASA target (seconds)",
                   "patience_s": "Caller patience (seconds; Erlang A)", "shrinkage": "Shrinkage (%)",
                   "max_occupancy": "Maximum occupancy (%)", "interval_seconds": "Interval length (seconds)",
                   "response_hours": "E-mail response target (hours)",
                   "care_ratio": "Care staff per shift (ratio)", "abandon_target": "Abandonment target (%)",
                   "sl_basis": "Service level basis (offered or answered calls)"},
}
#: Excel headers of a care-home plan (every unit a care unit): care words, and only the columns that mean something
#: for a unit — staff per unit and day from its shifts. AHT (a day), answer-within time, traffic, occupancy and
#: service level are contact-centre quantities with placeholder values there, so those columns are left out.
CARE_WORKBOOK_HEADERS: dict[str, dict[str, str]] = {
    "Summary": {"queue": "Unit", "intervals": "Days (count)", "volume": "Shifts over the horizon",
                "peak_agents": "Peak staff in one day"},
    "Intervals": {"queue": "Unit", "ds": "Date", "volume": "Shifts", "agents": "Staff to schedule"},
    "Daily": {"queue": "Unit", "date": "Date", "volume": "Shifts per day", "agents_total": "Staff to schedule"},
    "Parameters": {"queue": "Unit", "volume_basis": "Shifts basis (point forecast or upper bound)",
                   "care_ratio": "Staff per shift"},
}
#: readable labels of the Info sheet's facts (unknown keys get their code with spaces, capitalised)
INFO_LABELS: dict[str, str] = {
    "saved_plan_id": "Saved plan ID", "plan_name": "Plan name", "created_by": "Created by",
    "created_at": "Created at", "source": "Volume source", "source_detail": "Volume source detail",
    "interval_minutes": "Interval length (minutes)", "volume_basis": "Volume basis", "what_if": "What-if",
    "shift_plan_status": "Shift plan status", "paid_hours": "Paid hours of the shift plan (hours)",
    "uncovered_agent_intervals": "Uncovered agent-intervals of the shift plan (count)",
    "exported_by": "Exported by", "exported_at": "Exported at",
}
_PERCENT_CODES = ("service_level", "occupancy", "p_wait", "p_abandon", "sl_target", "shrinkage", "max_occupancy",
                  "abandon_target")
_CODE_FORMATS: dict[str, str] = {**{c: "percent" for c in _PERCENT_CODES}, "date": "date",
                                 "asa_seconds": "decimal1", "agents_fractional": "decimal", "traffic": "decimal"}


def _info_value(v: object) -> object:
    """A fact as Excel should hold it: numbers stay numbers (a whole float such as 60.0 becomes 60), everything
    else is text (dates and names as they were formatted by the caller)."""
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not np.isfinite(f):
            return ""
        return int(f) if f.is_integer() else f
    return str(v)


def info_frame(info: Mapping[str, object]) -> pd.DataFrame:
    """The Info sheet: readable labels (:data:`INFO_LABELS`) and values that keep their type."""
    labels = [INFO_LABELS.get(str(k), str(k).replace("_", " ").capitalize()) for k in info]
    return pd.DataFrame({"Item": labels, "Value": pd.Series([_info_value(v) for v in info.values()], dtype=object)})


def _humanise(name: str, frame: pd.DataFrame,
              headers_of: Mapping[str, Mapping[str, str]] = WORKBOOK_HEADERS) -> tuple[pd.DataFrame, dict[str, str]]:
    """``frame`` with the sheet's Excel headers and the number formats keyed by them (formats are chosen by the
    column code, so a percentage stays a percentage whatever its label says). With the care headers only the
    columns they name are kept, in their order."""
    headers = headers_of.get(name, {})
    if headers_of is CARE_WORKBOOK_HEADERS and headers:
        frame = frame[[c for c in headers if c in frame.columns]]
    mapping = {c: headers.get(str(c), str(c)) for c in frame.columns}
    formats = {mapping[c]: _CODE_FORMATS[str(c)] for c in frame.columns if str(c) in _CODE_FORMATS}
    if headers_of is CARE_WORKBOOK_HEADERS and "ds" in frame.columns:
        formats[mapping["ds"]] = "date"  # one row per unit and day: a date, not a midnight timestamp
    return frame.rename(columns=mapping), formats


def staffing_workbook(
    plan: StaffingPlan,
    params: Mapping[str, QueueParams] | QueueParams | None = None,
    shift_plan: ShiftPlanResult | None = None,
    info: Mapping[str, object] | None = None,
) -> bytes:
    """Multi-sheet staffing workbook: Summary, Intervals, Daily, Shift plan (+ Shift starts), Parameters
    (+ Info: ``info`` key/value facts such as source, what-if and author, when given).

    Headers are the readable names of :data:`WORKBOOK_HEADERS` (with units), numbers stay numeric with their
    formats. A native line chart shows required (and, with a shift plan, planned) agents per interval. ``params``
    defaults to the parameters stored in the plan. A plan of care units only speaks of units, shifts and staff
    (:data:`CARE_WORKBOOK_HEADERS`) and leaves out the contact-centre columns.
    """
    if params is None:
        params = plan.params
    elif isinstance(params, QueueParams):
        params = {q: params for q in plan.params}
    care = bool(params) and all(p.channel == "care" for p in params.values())
    headers_of = CARE_WORKBOOK_HEADERS if care else WORKBOOK_HEADERS
    raw: dict[str, pd.DataFrame] = {"Summary": plan.summary, "Intervals": plan.intervals, "Daily": plan.daily}
    chart_codes: tuple[str, str, tuple[str, ...], str]
    if shift_plan is not None:
        raw["Shift plan"] = shift_plan.intervals
        raw["Shift starts"] = shift_plan.shifts
        chart_codes = ("Shift plan", "ds", ("required", "planned"), "Required vs planned agents")
    elif care:
        chart_codes = ("Intervals", "ds", ("agents",), "Staff to schedule per unit and day")
    else:
        chart_codes = ("Intervals", "ds", ("agents", "agents_raw"), "Required agents per interval")
    pf = params_frame(params)
    pf.insert(1, "volume_basis", plan.volume_basis)
    raw["Parameters"] = pf
    sheets: dict[str, pd.DataFrame] = {}
    sheet_formats: dict[str, dict[str, str]] = {}
    for name, frame in raw.items():
        sheets[name], sheet_formats[name] = _humanise(name, frame, headers_of)
    if info:
        sheets["Info"] = info_frame(info)
    chart_sheet, x, ys, title = chart_codes
    label = headers_of[chart_sheet]
    charts = [ChartSpec(sheet=chart_sheet, x_column=label[x], y_columns=tuple(label[y] for y in ys), title=title,
                        x_title="Date" if care else "Interval start", y_title="staff" if care else "agents")]
    return to_excel_bytes(sheets, title="Staffing plan", sheet_formats=sheet_formats, charts=charts)
