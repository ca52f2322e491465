"""Per-queue planning parameters: defaults guessed from a queue's name and data, and the editable parameter table
the page shows (percentages as 0–100 numbers) read back with errors naming the queue and the field."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from src.models.capacity import QueueParams
from src.services.context import ServiceError

from .results import VolumeInput


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
