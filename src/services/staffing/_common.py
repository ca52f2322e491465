"""Helpers every staffing use case shares: service errors from domain errors, the interval length of a volume,
the planning horizon check and the requirement columns that belong to one channel.

Why a module of its own: the volume sources, the forecast adapter, planning and the exports all use these; keeping
them here (importing no other staffing module) keeps the package free of import circles.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from src.services.context import ServiceError

MAX_HORIZON_DAYS = 56


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


def interval_label(seconds: int) -> str:
    """``3600`` → ``60-minute intervals``; ``86400`` → ``one value per day``."""
    return "one value per day" if seconds == 86400 else f"{seconds // 60}-minute intervals"


def _check_horizon(start: date, days: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    if not isinstance(days, int | np.integer) or not 1 <= int(days) <= MAX_HORIZON_DAYS:
        raise ServiceError(f"Plan between 1 and {MAX_HORIZON_DAYS} days (got {days!r}).")
    t0 = pd.Timestamp(start).normalize()
    return t0, t0 + pd.Timedelta(days=int(days))


#: columns of the requirement table that only mean something for one channel
_VOICE_ONLY = ("service_level", "asa_seconds", "p_wait", "p_abandon")
_EMAIL_ONLY = ("backlog_hours",)
#: contact-centre columns a care unit has only placeholder values for (AHT of a day, traffic, occupancy; staff
#: needed before and after a 0 % shrinkage are the same number)
_NOT_CARE = ("aht_seconds", "traffic", "agents_raw", "agents_fractional", "occupancy")
