"""Use cases of capacity planning: volume in → required staff per interval and day → shift plan → exports.

Volume sources (each returns the same long frame ``queue, ds, yhat[, aht_seconds, yhat_upper_80, yhat_upper_95]``):

* ``forecast`` — the latest stored forecast, through the adapter :func:`latest_forecast` (skipped gracefully
  while no forecast store exists);
* ``history`` — stored workload history: "the average of the last 4 weeks", "last week" or "the same week last
  year" (52 weeks back, so weekdays line up), per queue and time of day. This path always works with demo data;
* ``upload`` — a volume CSV/XLSX (``ds``/``timestamp``, ``queue``, ``volume`` or a fractional ``yhat``) checked
  with row-level errors by the workload validator (:func:`validate_volume_upload`);
* ``care`` — stored care-home unit shifts → required staff per unit and day.

The page, the CLI and a future REST API call these functions; every one checks the role first. Saving a plan and
exporting it write an audit event (exports also keep a timestamped copy under ``settings.outputs_dir``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from src.data import db, export, plan_store, store
from src.data.kinds import get_kind, normalise_header
from src.data.loader import ParseOptions, UploadRejected, read_table
from src.data.parsing import IssueCollector, decimal_evidence, parse_numbers
from src.data.validation import ValidationReport, alias_lookup, validate_raw
from src.models.capacity import (
    QueueParams,
    ShiftPattern,
    ShiftPlanResult,
    StaffingPlan,
    erlang_a_metrics,
    plan_from_intervals,
    plan_shifts,
    plan_staffing,
    required_agents,
    required_agents_erlang_a,
    staffing_workbook,
    what_if,
)
from src.models.capacity.erlang import average_speed_of_answer, erlang_c, occupancy, service_level
from src.services import forecasting as forecasting_service
from src.services.context import Actor, AppContext, ServiceError, require_role
from src.services.data import upload_limits
from src.services.data import validate_upload as _validate_upload

log = logging.getLogger(__name__)

Source = Literal["forecast", "history", "upload", "care"]
HistoryMethod = Literal["last_4_weeks", "last_week", "same_week_last_year"]
HISTORY_METHODS: dict[str, str] = {
    "last_4_weeks": "Average of the last 4 weeks (same weekday and time)",
    "last_week": "Last week (same weekday and time)",
    "same_week_last_year": "Same week last year (52 weeks earlier, same weekdays)",
}
_WEEKS_BACK = {"last_4_weeks": 4, "last_week": 1}
MAX_HORIZON_DAYS = 56
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UPLOAD_POINT = ("yhat", "forecast", "prognose")
_UPLOAD_UPPER = {"yhat_upper_80": "yhat_upper_80", "yhat_upper_95": "yhat_upper_95"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# ----------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class VolumeInput:
    """Volume to plan, with where it came from (shown on the page, stored with a saved plan)."""

    frame: pd.DataFrame  # queue, ds, yhat[, aht_seconds, yhat_upper_80, yhat_upper_95]
    source: Source
    detail: str
    interval_seconds: int
    notes: tuple[str, ...] = ()
    channel: str | None = None  # forces one channel for every queue (care homes)

    @property
    def queues(self) -> list[str]:
        return list(dict.fromkeys(self.frame["queue"].astype(str)))

    @property
    def has_upper(self) -> dict[str, bool]:
        return {b: f"yhat_{b}" in self.frame.columns and self.frame[f"yhat_{b}"].notna().any()
                for b in ("upper_80", "upper_95")}


@dataclass(frozen=True)
class PlanningOptions:
    """What the inputs of the Staffing page can offer right now."""

    queues: list[str]
    history_first: pd.Timestamp | None
    history_last: pd.Timestamp | None
    interval_seconds: int | None
    care_units: int
    care_first: pd.Timestamp | None
    care_last: pd.Timestamp | None
    forecast_series: list[str]
    default_start: date
    #: changes when a forecast is stored (newest run id and run count): a key for caching what depends on them
    forecast_stamp: str = ""


@dataclass(frozen=True)
class Scenario:
    """What-if changes applied on top of the per-queue parameters (neutral by default)."""

    volume_pct: float = 0.0
    aht_pct: float = 0.0
    sl_target: float | None = None  # replaces the SL target of voice queues that have one
    shrinkage: float | None = None  # replaces every queue's shrinkage

    def __post_init__(self) -> None:
        for name, v in (("Volume change", self.volume_pct), ("AHT change", self.aht_pct)):
            if not math.isfinite(v) or not -90 <= v <= 300:
                raise ServiceError(f"{name} must be between -90 % and +300 % (got {v!r}).")
        if self.sl_target is not None and not 0 < self.sl_target < 1:
            raise ServiceError(f"The what-if SL target must be above 0 % and below 100 % (got {self.sl_target!r}).")
        if self.shrinkage is not None and not 0 <= self.shrinkage <= 0.9:
            raise ServiceError(f"The what-if shrinkage must be between 0 % and 90 % (got {self.shrinkage!r}).")

    @property
    def neutral(self) -> bool:
        return self.volume_pct == 0 and self.aht_pct == 0 and self.sl_target is None and self.shrinkage is None

    def describe(self, *, care: bool = False) -> str:
        """``volume +10 %, SL target 85%`` (``shifts +10 %`` for care units), or ``as planned``."""
        parts = []
        if self.volume_pct:
            parts.append(f"{'shifts' if care else 'volume'} {self.volume_pct:+g} %")
        if self.aht_pct:
            parts.append(f"AHT {self.aht_pct:+g} %")
        if self.sl_target is not None:
            parts.append(f"SL target {self.sl_target:.0%}")
        if self.shrinkage is not None:
            parts.append(f"shrinkage {self.shrinkage:.0%}")
        return ", ".join(parts) or "as planned"


@dataclass(frozen=True)
class CalculatorResult:
    """One interval from the Erlang calculator panel: the requirement and a table of nearby agent counts."""

    model: str
    row: dict[str, float | int | None]
    table: pd.DataFrame


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    file_name: str
    mime: str
    saved_path: Path


@dataclass(frozen=True)
class VolumeUpload:
    """Result of checking an uploaded volume file: the validator's report (row-level issues) and, if clean,
    the volume frame."""

    report: ValidationReport
    volume: VolumeInput | None


# ------------------------------------------------------------------------------------------ helpers
def _service_error(exc: Exception) -> ServiceError:
    return ServiceError(str(exc).strip() or exc.__class__.__name__)


def infer_interval_seconds(ds: pd.Series | pd.DatetimeIndex) -> int:
    """Interval length from the timestamps: the smallest step between consecutive distinct times (1 h if unknown)."""
    t = pd.Series(pd.to_datetime(pd.Series(ds)).drop_duplicates().sort_values().to_numpy())
    if len(t) < 2:
        return 3600
    step = t.diff().dropna()
    step = step[step > pd.Timedelta(0)]
    if step.empty:
        return 3600
    return int(step.min().total_seconds())


def default_params(queue: str, *, interval_seconds: int, aht_seconds: float | None = None,
                   channel: str | None = None) -> QueueParams:
    """Sensible starting parameters for a queue, guessed from its name (e-mails, outbound, care, else voice)."""
    name = queue.lower()
    if channel is None:
        if "mail" in name:
            channel = "email"
        elif name.startswith("outbound") or "outbound" in name:
            channel = "outbound"
        else:
            channel = "voice"
    # AHTs below one second are data errors (or unit mix-ups): fall back to the channel default rather than
    # rounding them to 0, which QueueParams rightly refuses
    aht = float(aht_seconds) if aht_seconds and math.isfinite(aht_seconds) and aht_seconds >= 1 else None
    if channel == "care":
        return QueueParams(channel="care", aht_seconds=aht or 86400.0, sl_target=None, shrinkage=0.0,
                           max_occupancy=1.0, interval_seconds=float(interval_seconds))
    if channel == "email":
        return QueueParams(channel="email", aht_seconds=round(aht or 480.0, 1), sl_target=None, shrinkage=0.3,
                           max_occupancy=0.9, interval_seconds=float(interval_seconds), response_hours=24.0)
    if channel == "outbound":
        return QueueParams(channel="outbound", aht_seconds=round(aht or 240.0, 1), sl_target=None, shrinkage=0.3,
                           max_occupancy=0.85, interval_seconds=float(interval_seconds))
    return QueueParams(channel="voice", aht_seconds=round(aht or 300.0, 1), sl_target=0.8, answer_within_s=20.0,
                       shrinkage=0.3, max_occupancy=0.85, interval_seconds=float(interval_seconds))


def _mean_aht(frame: pd.DataFrame) -> dict[str, float]:
    if "aht_seconds" not in frame or frame["aht_seconds"].isna().all():
        return {}
    f = frame.dropna(subset=["aht_seconds"])
    w = f["yhat"].clip(lower=0)
    out = {}
    for q, grp in f.assign(_w=w, _wx=w * f["aht_seconds"]).groupby("queue"):
        out[str(q)] = float(grp["_wx"].sum() / grp["_w"].sum()) if grp["_w"].sum() > 0 \
            else float(grp["aht_seconds"].mean())
    return out


def interval_label(seconds: int) -> str:
    """``3600`` → ``60-minute intervals``; ``86400`` → ``one value per day``."""
    return "one value per day" if seconds == 86400 else f"{seconds // 60}-minute intervals"


def param_columns(channels: Sequence[str]) -> list[str]:
    """The columns of the parameter table that matter for these channels (voice, email, outbound, care)."""
    ch = {str(c) for c in channels}
    if ch == {"care"}:
        return ["queue", "care_ratio"]  # a care unit: shifts × staff per shift; no channel choice, no call targets
    cols = ["queue", "channel"]
    if ch - {"care"}:
        cols.append("aht_seconds")
    if "voice" in ch:
        cols += ["sl_target_pct", "answer_within_s", "asa_target_s", "patience_s"]
    if ch - {"care"}:
        cols += ["shrinkage_pct", "max_occupancy_pct"]
    if "email" in ch:
        cols.append("response_hours")
    if "care" in ch:
        cols.append("care_ratio")
    return cols


def default_params_for(volume: VolumeInput) -> dict[str, QueueParams]:
    """Defaults for every queue of ``volume``; AHT from the data where the data has it."""
    aht = _mean_aht(volume.frame)
    channel = volume.channel or ("care" if volume.source == "care" else None)
    return {q: default_params(q, interval_seconds=volume.interval_seconds, aht_seconds=aht.get(q), channel=channel)
            for q in volume.queues}


PARAM_COLUMNS = ("queue", "channel", "aht_seconds", "sl_target_pct", "answer_within_s", "asa_target_s",
                 "patience_s", "shrinkage_pct", "max_occupancy_pct", "response_hours", "care_ratio")


def params_table(params: Mapping[str, QueueParams]) -> pd.DataFrame:
    """Parameters as an editable table (percentages as 0–100 numbers, blanks for 'not used')."""
    rows = []
    for q, p in params.items():
        rows.append({
            "queue": q, "channel": p.channel, "aht_seconds": p.aht_seconds,
            "sl_target_pct": None if p.sl_target is None else round(p.sl_target * 100, 6),
            "answer_within_s": p.answer_within_s, "asa_target_s": p.asa_target_s, "patience_s": p.patience_s,
            "shrinkage_pct": round(p.shrinkage * 100, 6), "max_occupancy_pct": round(p.max_occupancy * 100, 6),
            "response_hours": p.response_hours, "care_ratio": p.care_ratio,
        })
    frame = pd.DataFrame(rows, columns=list(PARAM_COLUMNS))
    for c in PARAM_COLUMNS[2:]:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    return frame


def _opt_number(row: Mapping[str, Any], col: str) -> float | None:
    v = row.get(col)
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ServiceError(f"Queue {row.get('queue')!s}: {col.replace('_', ' ')} must be a number "
                           f"(got {v!r}).") from None
    if math.isnan(f):
        return None
    if not math.isfinite(f):
        raise ServiceError(f"Queue {row.get('queue')!s}: {col.replace('_', ' ')} must be a finite number.")
    return f


def _pct(v: float | None) -> float | None:
    """67 (percent) → 0.67 via the decimal string, so 30 % is exactly the 0.3 a planner means."""
    return None if v is None else float(f"{v / 100:.10g}")


def params_from_table(table: pd.DataFrame, *, interval_seconds: int) -> dict[str, QueueParams]:
    """Per-queue parameters from the (edited) table; a clear ServiceError names the queue and the field."""
    out: dict[str, QueueParams] = {}
    for row in table.to_dict("records"):
        q = str(row.get("queue") or "").strip()
        if not q:
            raise ServiceError("Every parameter row needs its queue name.")
        channel = str(row.get("channel") or "voice").strip().lower()
        if channel not in ("voice", "email", "outbound", "care"):
            raise ServiceError(f"Queue {q}: channel must be voice, email, outbound or care (got {channel!r}).")
        aht = _opt_number(row, "aht_seconds")
        sl = _pct(_opt_number(row, "sl_target_pct"))
        asa = _opt_number(row, "asa_target_s")
        if channel == "voice" and sl is None and asa is None:
            raise ServiceError(f"Queue {q}: give a service-level target or an ASA target for a voice queue.")
        kwargs: dict[str, Any] = dict(
            channel=channel, aht_seconds=aht if aht is not None else 300.0,
            sl_target=sl if channel == "voice" else None,
            answer_within_s=_opt_number(row, "answer_within_s") if _opt_number(row, "answer_within_s") is not None
            else 20.0,
            asa_target_s=asa if channel == "voice" else None,
            patience_s=_opt_number(row, "patience_s") if channel == "voice" else None,
            shrinkage=_pct(_opt_number(row, "shrinkage_pct")) or 0.0,
            max_occupancy=_pct(_opt_number(row, "max_occupancy_pct")) or 1.0,
            interval_seconds=float(interval_seconds),
            response_hours=_opt_number(row, "response_hours") or 24.0,
            care_ratio=_opt_number(row, "care_ratio") or 1.0,
        )
        try:
            out[q] = QueueParams(**kwargs)
        except ValueError as exc:
            raise ServiceError(f"Queue {q}: {exc}") from None
    if not out:
        raise ServiceError("There are no queues to plan.")
    return out


# --------------------------------------------------------------------------------- volume sources
def _next_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


def planning_options(app: AppContext, actor: Actor) -> PlanningOptions:
    """Queues, date ranges and sources available for planning."""
    require_role(actor, "planner", "admin")
    summary = store.dataset_summary(app.engine).set_index("kind")

    def rng(kind: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None, int]:
        if kind not in summary.index or not summary.loc[kind, "rows"]:
            return None, None, 0
        row = summary.loc[kind]
        return pd.Timestamp(row["first"]), pd.Timestamp(row["last"]), int(row["series"] or 0)

    first, last, _ = rng("workload")
    cfirst, clast, units = rng("unit_shifts")
    queues = store.distinct_values(app.engine, "workload", "queue") if last is not None else []
    interval = None
    if last is not None:
        sample = store.load_frame(app.engine, "workload", start=(last - pd.Timedelta(days=2)).to_pydatetime())
        interval = infer_interval_seconds(sample["timestamp"]) if len(sample) else None
    runs = _forecast_runs(app, actor)
    fc_series = sorted({str(r["series_id"]) for r in runs})
    stamp = f"{max((int(r.get('id') or 0) for r in runs), default=0)}/{len(runs)}"
    anchor = max([d for d in (last, clast) if d is not None], default=pd.Timestamp(date.today()))
    return PlanningOptions(queues=queues, history_first=first, history_last=last, interval_seconds=interval,
                           care_units=units, care_first=cfirst, care_last=clast, forecast_series=fc_series,
                           default_start=_next_monday(anchor.date()), forecast_stamp=stamp)


def _check_horizon(start: date, days: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    if not isinstance(days, int | np.integer) or not 1 <= int(days) <= MAX_HORIZON_DAYS:
        raise ServiceError(f"Plan between 1 and {MAX_HORIZON_DAYS} days (got {days!r}).")
    t0 = pd.Timestamp(start).normalize()
    return t0, t0 + pd.Timedelta(days=int(days))


def _profile_volume(hist: pd.DataFrame, value_cols: Sequence[str], *, t0: pd.Timestamp, t1: pd.Timestamp,
                    method: str, first_stored: pd.Timestamp, what: str) -> tuple[pd.DataFrame, str]:
    """Reference volume mapped onto [t0, t1): ``hist`` has queue, ds and value columns (already aggregated).

    Weekly methods average the same weekday and time over the reference weeks before ``t0``; intervals absent
    from a reference week that lies inside the stored history count as 0 (the queue was closed). The yearly
    method copies the window 364 days earlier onto the target dates.
    """
    if method == "same_week_last_year":
        lag = pd.Timedelta(days=364)
        if first_stored.normalize() > t0 - lag:
            raise ServiceError(f"The {what} history starts on {first_stored:%Y-%m-%d}; the same week last year "
                               f"needs data from {t0 - lag:%Y-%m-%d}. Choose the average of the last 4 weeks.")
        ref = hist[(hist["ds"] >= t0 - lag) & (hist["ds"] < t1 - lag)].copy()
        ref["ds"] = ref["ds"] + lag
        detail = f"same week last year ({t0 - lag:%Y-%m-%d} → {t1 - lag - pd.Timedelta(days=1):%Y-%m-%d})"
        return ref.reset_index(drop=True), detail
    weeks = _WEEKS_BACK.get(method)
    if weeks is None:
        raise ServiceError(f"Unknown history method {method!r}; choose one of {', '.join(HISTORY_METHODS)}.")
    ref_start = t0 - pd.Timedelta(weeks=weeks)
    covered = [k for k in range(1, weeks + 1) if t0 - pd.Timedelta(weeks=k) >= first_stored.normalize()]
    ref = hist[(hist["ds"] >= ref_start) & (hist["ds"] < t0)].copy()
    if ref.empty or not covered:
        raise ServiceError(f"No {what} history in the {weeks} week(s) before {t0:%Y-%m-%d}; choose a start date "
                           f"right after the stored history or another method.")
    n_weeks = len(covered)
    ref = ref[ref["ds"] >= t0 - pd.Timedelta(weeks=max(covered))]
    ref["weekday"] = ref["ds"].dt.weekday
    ref["tod"] = ref["ds"] - ref["ds"].dt.normalize()
    agg: dict[str, Any] = {c: "sum" for c in value_cols}
    prof = ref.groupby(["queue", "weekday", "tod"], as_index=False).agg(agg)
    for c in value_cols:
        prof[c] = prof[c] / n_weeks
    if "aht_seconds" in ref:
        w = ref.assign(_w=ref[value_cols[0]], _wx=ref[value_cols[0]] * ref["aht_seconds"])
        aht = w.groupby(["queue", "weekday", "tod"], as_index=False)[["_w", "_wx"]].sum()
        aht["aht_seconds"] = np.where(aht["_w"] > 0, aht["_wx"] / aht["_w"].where(aht["_w"] > 0), np.nan)
        prof = prof.merge(aht[["queue", "weekday", "tod", "aht_seconds"]], on=["queue", "weekday", "tod"])
    days = pd.DataFrame({"day": pd.date_range(t0, t1 - pd.Timedelta(days=1), freq="D")})
    days["weekday"] = days["day"].dt.weekday
    out = days.merge(prof, on="weekday")
    out["ds"] = out["day"] + out["tod"]
    out = out.drop(columns=["day", "weekday", "tod"])
    detail = (f"average of {n_weeks} week(s) {t0 - pd.Timedelta(weeks=max(covered)):%Y-%m-%d} → "
              f"{t0 - pd.Timedelta(days=1):%Y-%m-%d}")
    return out.sort_values(["queue", "ds"]).reset_index(drop=True), detail


def history_volume(app: AppContext, actor: Actor, *, queues: Sequence[str], start: date, days: int = 7,
                   method: str = "last_4_weeks") -> VolumeInput:
    """Volume per queue and interval for ``days`` days from ``start``, derived from stored workload history."""
    require_role(actor, "planner", "admin")
    if not queues:
        raise ServiceError("Choose at least one queue.")
    t0, t1 = _check_horizon(start, days)
    known = set(store.distinct_values(app.engine, "workload", "queue"))
    unknown = [q for q in queues if q not in known]
    if unknown:
        raise ServiceError(f"No stored history for queue(s) {', '.join(map(str, unknown))}.")
    if method == "same_week_last_year":
        lo, hi = t0 - pd.Timedelta(days=364), t1 - pd.Timedelta(days=364)
    else:
        lo, hi = t0 - pd.Timedelta(weeks=_WEEKS_BACK.get(method, 4)), t0
    raw = store.load_frame(app.engine, "workload", where={"queue": list(queues)}, start=lo.to_pydatetime(),
                           end=(hi - pd.Timedelta(seconds=1)).to_pydatetime())
    summary = store.dataset_summary(app.engine).set_index("kind")
    first_stored = pd.Timestamp(summary.loc["workload", "first"])
    interval = infer_interval_seconds(raw["timestamp"]) if len(raw) else 3600
    raw = raw.assign(_wx=raw["volume"] * raw["aht_seconds"].fillna(0), _w=raw["volume"].where(
        raw["aht_seconds"].notna(), 0))
    hist = raw.groupby(["queue", "timestamp"], as_index=False)[["volume", "_wx", "_w"]].sum()
    hist["aht_seconds"] = hist["_wx"] / hist["_w"].where(hist["_w"] > 0)
    hist = hist.rename(columns={"timestamp": "ds", "volume": "yhat"}).drop(columns=["_wx", "_w"])
    hist["yhat"] = hist["yhat"].astype(float)
    frame, detail = _profile_volume(hist, ["yhat"], t0=t0, t1=t1, method=method, first_stored=first_stored,
                                    what="workload")
    if frame.empty:
        raise ServiceError("The chosen history has no intervals for these queues and dates.")
    missing = [q for q in queues if q not in set(frame["queue"])]
    notes = (f"No reference data for {', '.join(missing)}; left out.",) if missing else ()
    frame = frame[["queue", "ds", "yhat", "aht_seconds"]]
    return VolumeInput(frame=frame, source="history", detail=f"Workload history: {detail}",
                       interval_seconds=interval, notes=notes)


def care_volume(app: AppContext, actor: Actor, *, sites: Sequence[str] | None = None, start: date, days: int = 7,
                method: str = "last_4_weeks") -> VolumeInput:
    """Shifts per care-home unit and day for ``days`` days from ``start``, from stored unit shifts."""
    require_role(actor, "planner", "admin")
    t0, t1 = _check_horizon(start, days)
    if store.table_row_count(app.engine, "unit_shifts") == 0:
        raise ServiceError("No care-home unit shifts are stored yet; an administrator can upload them on the Data "
                           "page.")
    where = {"site": list(sites)} if sites else None
    raw = store.load_frame(app.engine, "unit_shifts", where=where)
    if raw.empty:
        raise ServiceError("No unit shifts stored for the chosen care homes.")
    hist = pd.DataFrame({"queue": raw["site"].astype(str) + " · " + raw["unit"].astype(str),
                         "ds": pd.to_datetime(raw["date"]), "yhat": raw["shifts"].astype(float)})
    frame, detail = _profile_volume(hist, ["yhat"], t0=t0, t1=t1, method=method, first_stored=hist["ds"].min(),
                                    what="unit-shift")
    return VolumeInput(frame=frame[["queue", "ds", "yhat"]], source="care", detail=f"Care-home unit shifts: {detail}",
                       interval_seconds=86400, channel="care")


def validate_volume_upload(app: AppContext, actor: Actor, *, filename: str, content: bytes,
                           options: ParseOptions | None = None) -> VolumeUpload:
    """Check a volume file (``ds``/``timestamp``, ``queue``, ``volume`` or ``yhat``, optional ``aht_seconds``,
    ``yhat_upper_80``/``_95``) with the workload validator; nothing is stored.

    Whole-number ``volume`` columns go through :func:`src.data.validation.validate_upload` unchanged. A
    fractional forecast column (``yhat``) is checked cell by cell as a non-negative number and the other columns
    by the workload rules, so the report still names file, row and column for every problem.
    """
    require_role(actor, "planner", "admin")
    options = options or ParseOptions()
    try:
        raw = read_table(filename, content, options, upload_limits(app), kind="workload")
    except UploadRejected:
        return VolumeUpload(_validate_upload(app, actor, kind="workload", filename=filename, content=content,
                                             options=options), None)
    norm = [normalise_header(h) for h in raw.headers]
    point = next((j for j, h in enumerate(norm) if h in _UPLOAD_POINT), None)
    uppers = {_UPLOAD_UPPER[h]: j for j, h in enumerate(norm) if h in _UPLOAD_UPPER}
    sink = IssueCollector(raw.file, raw.sheet)
    rows = np.asarray(raw.row_numbers, dtype=np.int64)
    parsed: dict[str, np.ndarray] = {}
    special = ([("yhat", point)] if point is not None else []) + list(uppers.items())
    for name, j in special:
        cells = [r[j] if j < len(r) else None for r in raw.rows]
        if options.decimal != "auto":
            dec = options.decimal
        else:
            ev = decimal_evidence(cells)
            dec = next(iter(ev)) if len(ev) == 1 else None
        p = parse_numbers(cells, decimal=dec, integer=False, non_negative=True, positive=False, rows=rows,
                          column=raw.headers[j], sink=sink)
        for i in np.flatnonzero(p.empty):
            sink.add("error", "missing_value", f"Row {rows[i]}, column '{raw.headers[j]}': the value is empty.",
                     row=int(rows[i]), column=raw.headers[j])
        parsed[name] = np.where(p.valid, p.values, np.nan)
    headers, drop = list(raw.headers), {j for _, j in special}
    if point is not None and "volume" not in [_volume_alias(h) for h in norm]:
        headers[point] = "volume"  # the workload rules check everything else; the yhat cells were checked above
        drop.discard(point)
        rows_cells = [[("0" if j == point else c) for j, c in enumerate(r)] for r in raw.rows]
    else:
        rows_cells = [list(r) for r in raw.rows]
    keep = [j for j in range(len(headers)) if j not in drop]
    raw2 = replace(raw, headers=[headers[j] for j in keep],
                   rows=[[r[j] if j < len(r) else None for j in keep] for r in rows_cells])
    report = validate_raw("workload", raw2, options)
    extra = sink.finish()
    issues = [i for i in report.issues if i.code != "future_date"] + extra
    rank = {"error": 0, "warning": 1, "info": 2}
    issues.sort(key=lambda i: rank.get(i.severity, 3))
    totals = dict(report.totals)
    totals.pop("future_date", None)
    for s in ("error", "warning", "info"):
        totals[s] = sum(1 for i in issues if i.severity == s)
    ok = not any(i.severity == "error" for i in issues)
    frame = report.frame if ok else None
    final = replace(report, issues=issues, frame=frame, totals=totals)
    if frame is None:
        return VolumeUpload(final, None)
    vol = pd.DataFrame({"queue": frame["queue"].astype(str), "site": frame["site"].fillna("").astype(str),
                        "ds": pd.to_datetime(frame["timestamp"]),
                        "yhat": parsed["yhat"] if "yhat" in parsed and point is not None and "volume" not in
                        [_volume_alias(h) for h in norm] else frame["volume"].astype(float),
                        "aht_seconds": pd.to_numeric(frame["aht_seconds"], errors="coerce")})
    for b in uppers:
        vol[b] = parsed[b]
    agg = _sum_sites(vol, [c for c in ("yhat", *uppers) if c in vol])
    interval = infer_interval_seconds(agg["ds"])
    return VolumeUpload(final, VolumeInput(frame=agg, source="upload", detail=f"Uploaded file {raw.file}",
                                           interval_seconds=interval))


def _volume_alias(h: str) -> str | None:
    return alias_lookup(get_kind("workload")).get(h)


def _sum_sites(vol: pd.DataFrame, value_cols: list[str]) -> pd.DataFrame:
    """One row per queue and interval: volumes summed over sites, AHT volume-weighted."""
    w = vol["yhat"].where(vol["aht_seconds"].notna(), 0.0)
    tmp = vol.assign(_w=w, _wx=w * vol["aht_seconds"].fillna(0))
    out = tmp.groupby(["queue", "ds"], as_index=False)[[*value_cols, "_w", "_wx"]].sum(min_count=1)
    out["aht_seconds"] = out["_wx"] / out["_w"].where(out["_w"] > 0)
    out = out.drop(columns=["_w", "_wx"])
    if out["aht_seconds"].isna().all():
        out = out.drop(columns=["aht_seconds"])
    return out.sort_values(["queue", "ds"]).reset_index(drop=True)


# ----------------------------------------------------------------------------- forecast adapter
def _forecast_runs(app: AppContext, actor: Actor) -> list[dict[str, Any]]:
    """Stored forecast runs (newest first)."""
    return list(forecasting_service.runs_for_series(app, actor, None, limit=2000))


def forecast_series(app: AppContext, actor: Actor) -> list[str]:
    """Series ids that have a stored forecast (``workload:calls@CC-Berlin``, ``care:Haus …/Unit``)."""
    require_role(actor, "planner", "admin")
    return sorted({str(r["series_id"]) for r in _forecast_runs(app, actor)})


def series_label(series_id: str) -> str:
    """``workload:calls@CC-Berlin`` → ``calls · CC-Berlin``; ``care:Haus A/Linde`` → ``Haus A / Linde``."""
    kind, _, rest = series_id.partition(":")
    if kind == "workload":
        q, _, site = rest.partition("@")
        return f"{q} · {site}" if site else q
    if kind == "care":
        site, _, unit = rest.partition("/")
        return f"{site} / {unit}" if unit else f"{site} (all units)"
    return series_id


def latest_forecast(app: AppContext, actor: Actor, series: str) -> pd.DataFrame | None:
    """The latest stored forecast of ``series`` as ``queue, ds, yhat[, yhat_upper_80, yhat_upper_95]`` or None
    when there is no forecast for it."""
    require_role(actor, "planner", "admin")
    try:
        frame = forecasting_service.latest_forecast(app, actor, series)
    except (LookupError, ValueError) as exc:
        log.info("no forecast for %s: %s", series, exc)
        return None
    if frame is None or len(frame) == 0:
        return None
    frame = pd.DataFrame(frame).copy()
    qcol = next((c for c in ("queue", "series_id", "series", "unique_id") if c in frame), None)
    frame["queue"] = frame[qcol].astype(str) if qcol else series
    if "ds" not in frame:
        raise ServiceError("The stored forecast has no ds column.")
    frame["ds"] = pd.to_datetime(frame["ds"])
    keep = [c for c in ("queue", "ds", "yhat", "yhat_upper_80", "yhat_upper_95", "aht_seconds") if c in frame]
    return frame[keep].sort_values("ds").reset_index(drop=True)


#: the length of a planning period from stored forecasts when none is given (a planning week)
FORECAST_PLAN_DAYS = 7


@dataclass(frozen=True)
class ForecastPeriod:
    """The stored forecast Staffing plans a series with (its current run) and the time it covers.

    Why: each series has its own current forecast — a back-dated test forecast of one queue and next week's of
    another are both "latest". A plan is for one period, so the page shows these periods, the planner picks the
    week, and only the forecasts that cover that week go into the plan (:func:`forecast_volume`).
    """

    series: str
    label: str
    frame: pd.DataFrame  # queue, ds, yhat[, yhat_upper_80, yhat_upper_95]

    @property
    def first(self) -> pd.Timestamp:
        return pd.Timestamp(self.frame["ds"].min())

    @property
    def last(self) -> pd.Timestamp:
        return pd.Timestamp(self.frame["ds"].max())

    @property
    def daily(self) -> bool:
        return bool((self.frame["ds"] == self.frame["ds"].dt.normalize()).all())

    @property
    def first_day(self) -> date:
        """The first whole day the forecast covers (a forecast starting at 14:00 after the history's last
        interval starts planning the next morning)."""
        day = self.first.normalize()
        return (day if self.first == day else day + pd.Timedelta(days=1)).date()

    def describe(self) -> str:
        """``Sun 2026-11-01 00:00 → Sat 2026-11-07 23:00`` (daily forecasts without the time)."""
        fmt = "%a %Y-%m-%d" if self.daily else "%a %Y-%m-%d %H:%M"
        return f"{self.first.strftime(fmt)} → {self.last.strftime(fmt)}"

    def covers(self, t0: pd.Timestamp, t1: pd.Timestamp) -> bool:
        """Whether every interval of [t0, t1) that this series is open in has a forecast value.

        Intervals of the window outside the forecast count as covered when the forecast holds the same weekday and
        time with no volume (closed): a forecast that starts after Friday's last call still covers the weekend of
        a week that ends on Saturday. A forecast of another week covers nothing of it.
        """
        f = self.frame
        inside = f[(f["ds"] >= t0) & (f["ds"] < t1)]
        if inside.empty:
            return False
        step = pd.Timedelta(seconds=86400 if self.daily else infer_interval_seconds(f["ds"]))
        grid = pd.date_range(t0, t1 - pd.Timedelta(seconds=1), freq=step)
        missing = grid.difference(pd.DatetimeIndex(inside["ds"]))
        if missing.empty:
            return True
        value = (f["yhat_upper_95"] if "yhat_upper_95" in f else f["yhat"]).fillna(0).to_numpy()
        # the most the forecast expects in each weekly slot (weekday, time of day); a slot it never holds is open
        most: dict[tuple[int, pd.Timedelta], float] = {}
        for key, v in zip(_slots(f["ds"]), value, strict=True):
            most[key] = max(most.get(key, 0.0), float(v))
        return all(most.get(s, 1.0) <= 0 for s in _slots(missing))


def _slots(ds: pd.Series | pd.DatetimeIndex) -> list[tuple[int, pd.Timedelta]]:
    """Weekday and time of day of each timestamp: the key of a weekly slot."""
    t = pd.Series(pd.DatetimeIndex(ds))
    return list(zip(t.dt.weekday, t - t.dt.normalize(), strict=True))


def forecast_periods(app: AppContext, actor: Actor, series: Sequence[str]) -> list[ForecastPeriod]:
    """The current stored forecast of each of ``series`` with the period it covers (series without one are left
    out), in the order given."""
    require_role(actor, "planner", "admin")
    out = []
    for s in dict.fromkeys(series):
        f = latest_forecast(app, actor, s)
        if f is not None:
            out.append(ForecastPeriod(series=str(s), label=series_label(str(s)), frame=f))
    return out


def default_forecast_window(periods: Sequence[ForecastPeriod], days: int = FORECAST_PLAN_DAYS) -> tuple[date, int]:
    """The planning period to offer first: from the first whole day of the forecast that starts latest (the
    upcoming period, not a back-dated test), ``days`` long or as far as that forecast reaches."""
    if not periods:
        raise ServiceError("There is no stored forecast for these series.")
    latest = max(periods, key=lambda p: p.first)
    start = latest.first_day
    reach = (latest.last.normalize() - pd.Timestamp(start)).days + 1
    return start, int(max(1, min(days, reach)))


def periods_by_time(periods: Sequence[ForecastPeriod]) -> list[tuple[str, list[str]]]:
    """Forecast periods with the series that have them, latest first: ``[("Sat 2026-10-31 14:00 → …", ["calls ·
    CC-Berlin"]), …]`` — one line per period on the page and in notes, however many units share it."""
    groups: dict[str, list[str]] = {}
    for p in sorted(periods, key=lambda p: p.first, reverse=True):
        groups.setdefault(p.describe(), []).append(p.label)
    return list(groups.items())


def _period_text(t0: pd.Timestamp, t1: pd.Timestamp) -> str:
    return f"{t0:%a %Y-%m-%d} → {t1 - pd.Timedelta(days=1):%a %Y-%m-%d}"


def forecast_volume(app: AppContext, actor: Actor, *, series: Sequence[str], start: date | None = None,
                    days: int | None = None) -> VolumeInput:
    """Volume for one planning period (``days`` days from ``start``) from the stored forecasts that cover it.

    Without ``start`` the period is :func:`default_forecast_window` (the upcoming week of the latest forecast);
    without ``days`` it is :data:`FORECAST_PLAN_DAYS` days. A series whose current forecast is for another period
    (a back-dated test forecast, last month's run) is left out with a note naming it and the period its forecast
    is for — different periods are never added into one plan. When no chosen series covers the period, a
    ServiceError says which periods the forecasts are for.
    """
    require_role(actor, "planner", "admin")
    if not series:
        raise ServiceError("Choose at least one forecast series.")
    periods = forecast_periods(app, actor, series)
    have = {p.series for p in periods}
    missing = [str(s) for s in dict.fromkeys(series) if str(s) not in have]
    if not periods:
        raise ServiceError("No stored forecast for " + ", ".join(map(str, series)) +
                           ". Run a forecast first or plan from history.")
    care = {p.series.startswith("care:") for p in periods}
    if len(care) > 1:
        raise ServiceError("Plan contact-centre queues and care homes separately (choose one kind of series).")
    is_care = care == {True}
    if start is None:
        start, default_days = default_forecast_window(periods)
        days = default_days if days is None else days
    t0, t1 = _check_horizon(start, FORECAST_PLAN_DAYS if days is None else days)
    window = _period_text(t0, t1)
    used = [p for p in periods if p.covers(t0, t1)]
    other = [p for p in periods if p not in used]
    if not used:
        raise ServiceError(f"No stored forecast covers {window}. The forecasts are for: " + "; ".join(
            f"{period} ({', '.join(labels)})" for period, labels in periods_by_time(other)) +
            ". Choose a period they cover, or train a forecast for it.")
    frame = pd.concat([p.frame for p in used], ignore_index=True)
    frame = frame[(frame["ds"] >= t0) & (frame["ds"] < t1)]
    value_cols = [c for c in ("yhat", "yhat_upper_80", "yhat_upper_95") if c in frame]
    frame = frame.groupby(["queue", "ds"], as_index=False)[value_cols].sum()  # one queue at several sites
    frame["yhat"] = pd.to_numeric(frame["yhat"], errors="coerce").clip(lower=0)
    notes = []
    if other:
        notes.append(f"No forecast for {window}, left out of this plan: " + "; ".join(
            f"{', '.join(labels)} (forecast for {period})" for period, labels in periods_by_time(other)) + ".")
    if missing:
        notes.append(f"No stored forecast for {', '.join(series_label(m) for m in missing)}.")
    return VolumeInput(frame=frame.reset_index(drop=True), source="forecast",
                       detail=f"Stored forecast for {window}: " + ", ".join(p.label for p in used),
                       interval_seconds=86400 if is_care else infer_interval_seconds(frame["ds"]),
                       notes=tuple(notes), channel="care" if is_care else None)


# --------------------------------------------------------------------------------------- planning
def build_plan(app: AppContext, actor: Actor, volume: VolumeInput, params: Mapping[str, QueueParams], *,
               basis: str = "point", scenario: Scenario | None = None, use_interval_aht: bool = True,
               on_progress: Callable[[float, str], None] | None = None) -> StaffingPlan:
    """Required agents per interval and day (with achieved SL/ASA/occupancy/abandonment) for the volume,
    the per-queue parameters and an optional what-if scenario."""
    require_role(actor, "planner", "admin")
    scenario = scenario or Scenario()
    if basis != "point" and not volume.has_upper.get(basis, False):
        raise ServiceError(f"This volume has no {basis.replace('_', ' ')} % bound; plan on the point forecast.")
    frame = volume.frame
    if not use_interval_aht and "aht_seconds" in frame:
        frame = frame.drop(columns=["aht_seconds"])
    elif "aht_seconds" in frame and frame["aht_seconds"].isna().any():
        fallback = frame["queue"].map({q: p.aht_seconds for q, p in params.items()})
        frame = frame.assign(aht_seconds=frame["aht_seconds"].fillna(fallback))
    adjusted = {}
    for q, p in params.items():
        sl = scenario.sl_target if (scenario.sl_target is not None and p.channel == "voice"
                                    and p.sl_target is not None) else None
        shrink = scenario.shrinkage if p.channel != "care" else None
        try:
            adjusted[q] = what_if(p, sl_target=sl, shrinkage=shrink)
        except ValueError as exc:
            raise ServiceError(f"Queue {q}: {exc}") from None
    try:
        return plan_staffing(frame, adjusted, volume=basis,  # type: ignore[arg-type]
                             volume_factor=1 + scenario.volume_pct / 100.0,
                             aht_factor=1 + scenario.aht_pct / 100.0, on_progress=on_progress)
    except ValueError as exc:
        raise _service_error(exc) from None


def plan_totals(plan: StaffingPlan) -> dict[str, float]:
    """Headline numbers for metrics: agent hours, peak agents, volume-weighted SL of voice queues."""
    s = plan.summary
    voice = s[s["channel"] == "voice"]
    vol = float(voice["volume"].sum())
    sl = float((voice["service_level"] * voice["volume"]).sum() / vol) if vol > 0 else float("nan")
    hours = float(s["agent_hours"].sum(min_count=1)) if len(s) else 0.0
    care = plan.intervals[plan.intervals["queue"].isin(s.loc[s["channel"] == "care", "queue"])]
    return {"agent_hours": hours if math.isfinite(hours) else 0.0, "peak_agents": float(s["peak_agents"].max()),
            "service_level": sl, "volume": float(s["volume"].sum()),
            "below_target": float(s["intervals_below_target"].sum(min_count=1)),
            "care_staff_days": float(care["agents"].sum())}


# ------------------------------------------------------------------------------------ shift plan
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PATTERN_COLUMNS = ("name", "start", "hours", "break_minutes", "break_after_minutes", "days")


def default_patterns_table() -> pd.DataFrame:
    """Starting shift patterns for the editor: 8 h (30 min unpaid break) and 4 h shifts at common starts."""
    rows = []
    for start in ("07:00", "08:00", "09:00", "10:00", "11:00", "12:00"):
        rows.append({"name": f"{start} 8h", "start": start, "hours": 8.0, "break_minutes": 30.0,
                     "break_after_minutes": None, "days": "Mon-Sun"})
    for start in ("08:00", "10:00", "12:00", "14:00", "16:00"):
        rows.append({"name": f"{start} 4h", "start": start, "hours": 4.0, "break_minutes": 0.0,
                     "break_after_minutes": None, "days": "Mon-Sun"})
    frame = pd.DataFrame(rows, columns=list(PATTERN_COLUMNS))
    frame["break_after_minutes"] = frame["break_after_minutes"].astype(float)
    return frame


def _parse_days(text: Any, row: int) -> tuple[int, ...]:
    s = str(text or "Mon-Sun").strip()
    if s.lower() in ("", "all", "daily", "mon-sun"):
        return (0, 1, 2, 3, 4, 5, 6)
    names = {n.lower(): i for i, n in enumerate(WEEKDAY_NAMES)}
    out: set[int] = set()
    for part in re.split(r"[,\s;]+", s):
        if not part:
            continue
        ends = part.split("-")
        try:
            if len(ends) == 1:
                out.add(names[ends[0][:3].lower()])
            elif len(ends) == 2:
                a, b = names[ends[0][:3].lower()], names[ends[1][:3].lower()]
                out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
            else:
                raise KeyError(part)
        except KeyError:
            raise ServiceError(f"Shift pattern row {row}: days {s!r} — use weekday names like 'Mon-Fri' or "
                               "'Sat,Sun'.") from None
    return tuple(sorted(out))


def patterns_from_table(table: pd.DataFrame) -> tuple[ShiftPattern, ...]:
    """Shift patterns from the editor table; a ServiceError names the row and the field."""
    out: list[ShiftPattern] = []
    names: set[str] = set()
    for i, row in enumerate(table.to_dict("records"), start=1):
        if all(v is None or (isinstance(v, float) and math.isnan(v)) or v == "" for v in row.values()):
            continue
        start = str(row.get("start") or "").strip()
        name = str(row.get("name") or "").strip() or f"{start} shift"
        try:
            hours = float(row.get("hours"))
            brk = float(row.get("break_minutes") or 0)
            after_raw = row.get("break_after_minutes")
            after = None if after_raw is None or (isinstance(after_raw, float) and math.isnan(after_raw)) \
                else float(after_raw)
        except (TypeError, ValueError):
            raise ServiceError(f"Shift pattern row {i} ({name}): hours and break minutes must be numbers.") from None
        if not math.isfinite(hours) or not 0.5 <= hours <= 16:
            raise ServiceError(f"Shift pattern row {i} ({name}): length must be between 0.5 and 16 hours.")
        length = int(round(hours * 60))
        breaks: tuple[tuple[int, int], ...] = ()
        if brk < 0 or (after is not None and after < 0):
            raise ServiceError(f"Shift pattern row {i} ({name}): break minutes cannot be negative.")
        if brk > 0:
            off = int(after) if after is not None else (length // 2 - int(brk) // 2) // 30 * 30
            breaks = ((off, int(brk)),)
        if name in names:
            raise ServiceError(f"Shift pattern row {i}: the name {name!r} is used twice.")
        names.add(name)
        try:
            out.append(ShiftPattern(name=name, start=start, length_minutes=length, breaks=breaks,
                                    weekdays=_parse_days(row.get("days"), i)))
        except ValueError as exc:
            raise ServiceError(f"Shift pattern row {i} ({name}): {exc}") from None
    if not out:
        raise ServiceError("Add at least one shift pattern.")
    return tuple(out)


def build_shift_plan(app: AppContext, actor: Actor, plan: StaffingPlan, *, queue: str,
                     patterns: Sequence[ShiftPattern], time_limit_s: float = 20.0,
                     on_progress: Callable[[float, str], None] | None = None) -> ShiftPlanResult:
    """People per shift start covering the queue's required agents at minimum paid hours, with the SL achieved."""
    require_role(actor, "planner", "admin")
    if queue not in plan.params:
        raise ServiceError(f"Queue {queue!r} is not in this plan.")
    if plan.params[queue].channel == "care":
        raise ServiceError("Care-home requirements are already staff per unit and day; no shift plan is needed.")
    try:
        return plan_shifts(plan, patterns, queue=queue, time_limit_s=time_limit_s, on_progress=on_progress)
    except ValueError as exc:
        raise _service_error(exc) from None


# ------------------------------------------------------------------------------ Erlang calculator
def erlang_calculator(app: AppContext, actor: Actor, *, calls: float, aht_seconds: float,
                      interval_seconds: float = 1800, sl_target: float | None = 0.8, answer_within_s: float = 20.0,
                      asa_target_s: float | None = None, shrinkage: float = 0.0, max_occupancy: float = 1.0,
                      patience_s: float | None = None, sl_basis: str = "offered") -> CalculatorResult:
    """Required agents for one interval (Erlang C, or Erlang A with a patience) and the performance of nearby
    agent counts."""
    require_role(actor, "planner", "admin")
    common = dict(interval_seconds=interval_seconds, sl_target=sl_target, answer_within_s=answer_within_s,
                  asa_target_s=asa_target_s, max_occupancy=max_occupancy, shrinkage=shrinkage)
    if not all(math.isfinite(v) for v in (calls, aht_seconds, interval_seconds)) or calls < 0:
        raise ServiceError("Calls must be 0 or more and AHT and interval finite numbers.")
    if aht_seconds <= 0 or interval_seconds <= 0:
        raise ServiceError("AHT and the interval length must be positive.")
    try:
        if patience_s:
            res = required_agents_erlang_a(calls, aht_seconds, patience_s, sl_basis=sl_basis, **common)
            model = "Erlang A"
        else:
            res = required_agents(calls, aht_seconds, **common)
            model = "Erlang C"
    except ValueError as exc:
        raise _service_error(exc) from None
    row = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in res.row().items()}
    if calls == 0:  # no queue to wait in: a service level of 100 % would be a number about nothing (as in plans)
        row.update({k: None for k in _VOICE_ONLY + ("occupancy",) if k in row})
    raw = int(row["agents_raw"])
    traffic = calls * aht_seconds / interval_seconds
    lo = max(1, raw - 5)
    n = np.arange(lo, max(raw + 6, lo + 6))
    if patience_s:
        m = erlang_a_metrics(n, calls, aht_seconds, patience_s, interval_seconds=interval_seconds,
                             answer_within_s=answer_within_s, sl_basis=sl_basis)
        sl, asa, pab, pw = m.service_level, m.asa_seconds, m.p_abandon, m.p_wait
    else:
        sl = service_level(n, traffic, aht_seconds, answer_within_s)
        asa = average_speed_of_answer(n, traffic, aht_seconds)
        pab = np.zeros(n.size)
        pw = erlang_c(n, traffic)
    table = pd.DataFrame({"agents": n, "service_level": sl, "asa_seconds": np.where(np.isfinite(asa), asa, np.nan),
                          "occupancy": occupancy(n, traffic), "p_wait": pw, "p_abandon": pab})
    if calls == 0:
        table[["service_level", "asa_seconds", "occupancy", "p_wait", "p_abandon"]] = np.nan
    table["meets_target"] = table["agents"] >= raw
    return CalculatorResult(model=model, row=row, table=table)


# ------------------------------------------------------------------------------- exports & saving
def _plan_rows(plan: StaffingPlan, shift_plan: ShiftPlanResult | None) -> pd.DataFrame:
    """Interval rows of the plan, joined with the shift plan's planned people and achieved SL where there is one."""
    iv = plan.intervals.copy()
    if shift_plan is not None:
        sp = shift_plan.intervals[["queue", "ds", "planned", "over", "under", "service_level"]].rename(
            columns={"service_level": "planned_service_level"})
        iv = iv.merge(sp, on=["queue", "ds"], how="left")
    return iv


#: what the shift plan's people achieve per interval (live ``ShiftPlanResult.intervals`` column → stored column)
_PLANNED_QUALITY = {"productive_agents": "planned_productive_agents", "asa_seconds": "planned_asa_seconds",
                    "p_abandon": "planned_p_abandon"}


def _stored_rows(plan: StaffingPlan, shift_plan: ShiftPlanResult | None) -> pd.DataFrame:
    """The rows a saved plan keeps: :func:`_plan_rows` (requirement with every quality column, incl. P(wait) and the
    e-mail backlog) plus what the shift plan's people achieve — so a saved plan opens and re-exports with the same
    columns as the live one."""
    rows = _plan_rows(plan, shift_plan)
    if shift_plan is not None:
        have = [c for c in _PLANNED_QUALITY if c in shift_plan.intervals]
        extra = shift_plan.intervals[["queue", "ds", *have]].rename(columns=_PLANNED_QUALITY)
        rows = rows.merge(extra, on=["queue", "ds"], how="left")
    return rows


#: columns of the requirement table that only mean something for one channel
_VOICE_ONLY = ("service_level", "asa_seconds", "p_wait", "p_abandon")
_EMAIL_ONLY = ("backlog_hours",)
#: contact-centre columns a care unit has only placeholder values for (AHT of a day, traffic, occupancy; staff
#: needed before and after a 0 % shrinkage are the same number)
_NOT_CARE = ("aht_seconds", "traffic", "agents_raw", "agents_fractional", "occupancy")


def requirement_rows(plan: StaffingPlan, queue: str, shift_plan: ShiftPlanResult | None = None) -> pd.DataFrame:
    """One queue's requirement per interval as the Staffing page shows it, for a live and a saved plan alike.

    Why here: the live table and an opened saved plan must show the same columns. The quality columns of the
    queue's channel stay even when they are empty (a plan saved before they were stored shows them blank, rather
    than hiding that they were not recorded); columns of other channels are left out. With a shift plan of this
    queue, ``planned`` people and the SL they achieve (``planned_service_level``) are joined on.
    """
    if queue not in plan.params:
        raise ServiceError(f"Queue {queue!r} is not in this plan.")
    channel = plan.params[queue].channel
    rows = plan.intervals[plan.intervals["queue"] == queue].drop(columns=["queue"]).reset_index(drop=True)
    if shift_plan is not None and len(shift_plan.intervals) and shift_plan.intervals["queue"].iloc[0] == queue:
        rows = rows.merge(shift_plan.intervals[["ds", "planned", "service_level"]].rename(
            columns={"service_level": "planned_service_level"}), on="ds", how="left")
    drop = [*(_VOICE_ONLY if channel != "voice" else ()), *(_EMAIL_ONLY if channel != "email" else ()),
            *(_NOT_CARE if channel == "care" else ())]
    return rows.drop(columns=[c for c in drop if c in rows])


def _safe_name(name: str) -> str:
    clean = _CONTROL.sub(" ", str(name)).strip()
    return clean[:200]


def plan_info(volume: VolumeInput | None, scenario: Scenario | None, actor: Actor,
              shift_plan: ShiftPlanResult | None = None) -> dict[str, Any]:
    """Key facts printed on the workbook's Info sheet."""
    info: dict[str, Any] = {"created_by": actor.username, "created_at": datetime.now().strftime("%Y-%m-%d %H:%M")}
    care = volume is not None and (volume.channel == "care" or volume.source == "care")
    if volume is not None:
        info.update(source=volume.source, source_detail=volume.detail)
        if not care:  # care units have one value per day: "1440 minutes" says nothing
            info["interval_minutes"] = volume.interval_seconds / 60
    info["what_if"] = (scenario or Scenario()).describe(care=care)
    if shift_plan is not None:
        info.update(shift_plan_status=shift_plan.status, paid_hours=round(shift_plan.paid_hours, 2),
                    uncovered_agent_intervals=round(shift_plan.under_agent_intervals, 2))
    return info


def export_plan(app: AppContext, actor: Actor, plan: StaffingPlan, *, fmt: str,
                shift_plan: ShiftPlanResult | None = None, info: Mapping[str, Any] | None = None,
                name: str = "staffing_plan") -> ExportFile:
    """Excel workbook or CSV of the plan; keeps a timestamped copy under ``outputs_dir`` and audits the export."""
    require_role(actor, "planner", "admin")
    _check_format(fmt)
    return _write_export(app, actor, plan, fmt=fmt, shift_plan=shift_plan, info=info, name=name)


def _check_format(fmt: str) -> None:
    if fmt not in ("xlsx", "csv"):
        raise ServiceError("Export format must be xlsx or csv.")


def _write_export(app: AppContext, actor: Actor, plan: StaffingPlan, *, fmt: str,
                  shift_plan: ShiftPlanResult | None, info: Mapping[str, Any] | None, name: str,
                  audit_extra: Mapping[str, Any] | None = None) -> ExportFile:
    """Bytes (workbook or CSV) → timestamped copy in ``outputs_dir`` → audit event; the copy is removed when the
    audit event cannot be written."""
    if fmt == "xlsx":
        data = staffing_workbook(plan, shift_plan=shift_plan, info=info)
        mime = XLSX_MIME
    else:
        data = export.to_csv_bytes(_plan_rows(plan, shift_plan))
        mime = "text/csv"
    file_name = f"{name}.{fmt}"
    path = export.save_output(file_name, data, app.settings.outputs_dir)
    try:
        with db.write_tx(app.engine) as conn:
            store.write_audit(conn, actor=actor.username, role=actor.role, action="staffing.export",
                              object_type="staffing_plan", object_id=path.name,
                              detail={"format": fmt, "bytes": len(data), "queues": list(plan.params),
                                      "intervals": len(plan.intervals), "shift_plan": shift_plan is not None,
                                      **(audit_extra or {})})
    except Exception:
        path.unlink(missing_ok=True)  # no unaudited copies
        raise
    log.info("staffing export %s by %s", path.name, actor.username)
    return ExportFile(data=data, file_name=file_name, mime=mime, saved_path=path)


def save_plan(app: AppContext, actor: Actor, plan: StaffingPlan, *, name: str, volume: VolumeInput,
              scenario: Scenario | None = None, shift_plan: ShiftPlanResult | None = None) -> int:
    """Store the plan (parameters, interval rows, shift starts) and its audit event in one transaction."""
    require_role(actor, "planner", "admin")
    clean = _safe_name(name)
    if not clean:
        raise ServiceError("Give the plan a name.")
    rows = _stored_rows(plan, shift_plan)
    hours = plan.intervals["queue"].map({q: p.interval_seconds / 3600 for q, p in plan.params.items()})
    rows["agent_hours"] = np.where(rows["queue"].map({q: p.channel == "care" for q, p in plan.params.items()}),
                                   0.0, rows["agents"] * hours.to_numpy())
    shifts = None
    if shift_plan is not None and len(shift_plan.shifts):
        shifts = shift_plan.shifts.assign(queue=str(shift_plan.intervals["queue"].iloc[0]))
    params = {q: asdict(p) for q, p in plan.params.items()}
    with db.write_tx(app.engine) as conn:
        plan_id = plan_store.insert_plan(
            conn, name=clean, source=volume.source, source_detail=volume.detail, volume_basis=plan.volume_basis,
            params=params, scenario=asdict(scenario or Scenario()), intervals=rows, shifts=shifts,
            paid_hours=shift_plan.paid_hours if shift_plan is not None else None, created_by=actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="staffing.plan_save",
                          object_type="staffing_plan", object_id=plan_id,
                          detail={"name": clean, "source": volume.source, "queues": list(plan.params),
                                  "intervals": len(rows), "shift_plan": shift_plan is not None,
                                  "what_if": (scenario or Scenario()).describe()})
    return plan_id


def list_saved_plans(app: AppContext, actor: Actor) -> pd.DataFrame:
    require_role(actor, "planner", "admin")
    return plan_store.list_plans(app.engine)


def load_saved_plan(app: AppContext, actor: Actor, plan_id: int) -> dict[str, Any]:
    require_role(actor, "planner", "admin")
    found = plan_store.load_plan(app.engine, int(plan_id))
    if found is None:
        raise ServiceError(f"There is no saved plan {plan_id}.")
    return found


def saved_plan_stem(plan_id: int, name: str) -> str:
    """File stem of a saved plan's download: ``staffing_plan_12_Week_45`` (id and name, ``[A-Za-z0-9_]`` only)."""
    slug = re.sub(r"[^0-9A-Za-z]+", "_", str(name)).strip("_")[:60].rstrip("_")
    return f"staffing_plan_{int(plan_id)}" + (f"_{slug}" if slug else "")


def _saved_shift_plan(iv: pd.DataFrame, shifts: pd.DataFrame, paid_hours: float | None) -> ShiftPlanResult | None:
    """The stored shift plan (planned people per interval of one queue, people per shift start) as a result object;
    None when the plan was saved without one."""
    has = iv["planned"].notna()
    if not has.any():
        return None
    queue = str(shifts["queue"].iloc[0]) if len(shifts) else str(iv.loc[has, "queue"].iloc[0])
    sub = iv[(iv["queue"] == queue) & has]
    required = sub["agents"].astype(float).to_numpy()
    planned = sub["planned"].astype(float).to_numpy()
    under = np.maximum(required - planned, 0.0)

    def stored(col: str) -> pd.Series:
        # NaN where the plan was saved before schema 2 recorded the column: shown and exported as empty cells
        return sub[col] if col in sub else pd.Series(np.nan, index=sub.index)

    productive = stored("planned_productive_agents")
    if productive.notna().all():
        productive = productive.round().astype(np.int64)  # whole people, as in the live shift plan
    # the columns of plan_shifts' intervals in their order, so the Shift plan sheet matches the live export
    rows = pd.DataFrame({"queue": queue, "ds": sub["ds"].to_numpy(), "required": required, "planned": planned,
                         "over": np.maximum(planned - required, 0.0), "under": under,
                         "volume": sub["volume"].to_numpy(), "productive_agents": productive.to_numpy(),
                         "service_level": stored("planned_service_level").to_numpy(),
                         "asa_seconds": stored("planned_asa_seconds").to_numpy(),
                         "p_abandon": stored("planned_p_abandon").to_numpy()})
    starts = shifts[shifts["queue"] == queue].drop(columns=["queue"]).reset_index(drop=True)
    paid = float(paid_hours) if paid_hours is not None else float((starts["paid_hours"] * starts["people"]).sum())
    return ShiftPlanResult(intervals=rows, shifts=starts, status="as saved", optimal=True, paid_hours=paid,
                           under_agent_intervals=float(under.sum()), objective=float("nan"))


def saved_plan_parts(found: Mapping[str, Any], actor: Actor) -> tuple[StaffingPlan, ShiftPlanResult | None,
                                                                      dict[str, Any]]:
    """A loaded saved plan (:func:`load_saved_plan`) as the objects the live export takes: the plan rebuilt from its
    stored interval rows (numbers exactly as saved, nothing recomputed), its shift plan if it had one, and the facts
    for the Info sheet."""
    head = found["header"]
    plan_id = head.get("id")
    try:
        params = {str(q): QueueParams(**p) for q, p in head["params"].items()}
    except (TypeError, ValueError) as exc:
        raise ServiceError(f"Saved plan {plan_id}: its stored parameters cannot be read ({exc}).") from None
    iv = found["intervals"]
    if iv.empty:
        raise ServiceError(f"Saved plan {plan_id} has no interval rows to export.")
    try:
        plan = plan_from_intervals(iv.drop(columns=[c for c in iv if str(c).startswith("planned")]), params,
                                   volume_basis=head.get("volume_basis") or "point")
    except ValueError as exc:
        raise ServiceError(f"Saved plan {plan_id}: {exc}") from None
    shift_plan = _saved_shift_plan(iv, found["shifts"], head.get("paid_hours"))
    care = all(p.channel == "care" for p in params.values())
    try:
        what = Scenario(**head.get("scenario", {})).describe(care=care)
    except (TypeError, ServiceError):
        what = str(head.get("scenario", ""))
    seconds = {p.interval_seconds for p in params.values()}
    created = head.get("created_at")
    info: dict[str, Any] = {
        "saved_plan_id": plan_id, "plan_name": head.get("name"), "created_by": head.get("created_by"),
        "created_at": f"{pd.Timestamp(created):%Y-%m-%d %H:%M} UTC" if created is not None else "",
        "source": head.get("source"), "source_detail": head.get("source_detail")}
    if len(seconds) == 1 and not care:
        info["interval_minutes"] = seconds.pop() / 60
    info.update(volume_basis=plan.volume_basis, what_if=what)
    if shift_plan is not None:
        info.update(shift_plan_status=shift_plan.status, paid_hours=round(shift_plan.paid_hours, 2),
                    uncovered_agent_intervals=round(shift_plan.under_agent_intervals, 2))
    info.update(exported_by=actor.username, exported_at=datetime.now().strftime("%Y-%m-%d %H:%M"))
    return plan, shift_plan, info


#: requirement-table columns stored since schema version 2 (older saved plans have them empty)
_V2_LABELS = {"p_wait": "P(wait)", "backlog_hours": "backlog (h)"}


@dataclass(frozen=True)
class SavedPlan:
    """A saved plan opened for reading: the same objects a live plan has (requirement with its quality columns,
    shift plan), so the page draws and exports it with the live plan's code, plus its stored header facts."""

    plan_id: int
    name: str
    header: Mapping[str, Any]
    plan: StaffingPlan
    shift_plan: ShiftPlanResult | None
    info: Mapping[str, Any]

    @property
    def queues(self) -> list[str]:
        return list(self.plan.params)

    @property
    def stem(self) -> str:
        """File stem of its downloads (:func:`saved_plan_stem`)."""
        return saved_plan_stem(self.plan_id, self.name)

    def not_recorded(self, queue: str) -> list[str]:
        """Names of the quality columns of ``queue``'s table that this plan holds no numbers for.

        Why: a plan saved before schema version 2 kept no P(wait) or e-mail backlog; its table shows those
        columns empty, and the page says why instead of leaving the reader to guess (a voice queue always has a
        P(wait) and an e-mail queue a backlog when they were recorded)."""
        rows = requirement_rows(self.plan, queue, self.shift_plan)
        return [label for col, label in _V2_LABELS.items() if col in rows and len(rows) and rows[col].isna().all()]

    def describe(self) -> str:
        """One line for the page: source, what-if, author and time of saving."""
        h = self.header
        created = h.get("created_at")
        when = f"{pd.Timestamp(created):%Y-%m-%d %H:%M} UTC" if created is not None else "an unknown time"
        shift = f", shift plan for {self.shift_plan.intervals['queue'].iloc[0]}" if self.shift_plan is not None else ""
        return (f"{h.get('source_detail') or h.get('source')} · what-if: {self.info.get('what_if', 'as planned')}"
                f"{shift} · saved by {h.get('created_by')} on {when}")


def open_saved_plan(app: AppContext, actor: Actor, plan_id: int) -> SavedPlan:
    """A saved plan rebuilt from its stored rows (numbers exactly as saved, nothing recomputed) for viewing and
    re-export. Needs no live inputs: a planner or manager can open last month's plan with no volume loaded."""
    require_role(actor, "planner", "admin")
    found = load_saved_plan(app, actor, plan_id)
    plan, shift_plan, info = saved_plan_parts(found, actor)
    head = found["header"]
    return SavedPlan(plan_id=int(head["id"]), name=str(head["name"]), header=head, plan=plan,
                     shift_plan=shift_plan, info=info)


def export_saved_plan(app: AppContext, actor: Actor, plan_id: int, *, fmt: str) -> ExportFile:
    """The live plan's Excel workbook or CSV, rebuilt from a saved plan (stored intervals with their quality
    columns, shift plan, parameters and facts); written, audited and copied to ``outputs_dir`` by the live
    export's own path (:func:`_write_export`)."""
    require_role(actor, "planner", "admin")
    _check_format(fmt)
    saved = open_saved_plan(app, actor, plan_id)
    return _write_export(app, actor, saved.plan, fmt=fmt, shift_plan=saved.shift_plan, info=saved.info,
                         name=saved.stem, audit_extra={"saved_plan_id": saved.plan_id})


__all__ = [
    "build_plan", "build_shift_plan", "CalculatorResult", "care_volume", "default_forecast_window", "default_params",
    "default_params_for", "default_patterns_table", "erlang_calculator", "export_plan", "export_saved_plan",
    "ExportFile", "forecast_periods", "FORECAST_PLAN_DAYS", "forecast_series", "forecast_volume", "ForecastPeriod",
    "HISTORY_METHODS", "history_volume", "infer_interval_seconds", "interval_label", "latest_forecast",
    "list_saved_plans", "load_saved_plan", "open_saved_plan", "param_columns", "params_from_table", "params_table",
    "patterns_from_table", "periods_by_time", "plan_info", "plan_totals", "planning_options", "PlanningOptions",
    "requirement_rows", "save_plan", "saved_plan_parts", "saved_plan_stem", "SavedPlan", "Scenario", "series_label",
    "validate_volume_upload", "VolumeInput", "VolumeUpload",
]
