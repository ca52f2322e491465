"""One way to show dates and times on every page: ISO dates, 24-hour times, in the app's zone (``APP_TIMEZONE``).

Why: the store keeps audit, upload, user and model times in UTC while task, shift and forecast times are local
wall-clock times. Shown side by side, "Created 2026-12-07 20:31 UTC, scored as of 21:31" read as an hour's
discrepancy, and pages mixed "07 Dec", "2026-12-07" and the browser's own date picker format. Every page formats
through these functions and constants, and converts a stored UTC time to the app's zone first (``utc=True``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

#: ``st.date_input(format=DATE_INPUT_FORMAT)`` on every page
DATE_INPUT_FORMAT = "YYYY-MM-DD"
#: ``st.column_config.DatetimeColumn(format=…)`` / ``DateColumn(format=…)``
DATETIME_COLUMN_FORMAT = "YYYY-MM-DD HH:mm"
DATE_COLUMN_FORMAT = "YYYY-MM-DD"
DATE = "%Y-%m-%d"
DATETIME = "%Y-%m-%d %H:%M"


def app_timezone() -> str:
    """The zone the app shows times in (``APP_TIMEZONE``, default Europe/Berlin)."""
    from src.services.context import get_app

    return get_app().settings.timezone


def to_local(value: Any, *, utc: bool, tz: str | None = None) -> pd.Timestamp | None:
    """``value`` as a naive wall-clock time in the app's zone; a stored UTC time (``utc=True``) is converted.

    Aware values are converted whatever ``utc`` says. None/NaN/NaT give None.
    """
    if value is None or (not isinstance(value, str | date | datetime) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return None
    if ts.tzinfo is None and not utc:
        return ts
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert(tz or app_timezone()).tz_localize(None)


def local_column(values: pd.Series, *, tz: str | None = None) -> pd.Series:
    """A column of stored UTC times (naive or aware) as naive wall-clock times in the app's zone, for tables."""
    ts = pd.to_datetime(values, errors="coerce")
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize("UTC")
    return ts.dt.tz_convert(tz or app_timezone()).dt.tz_localize(None)


def fmt_date(value: Any, *, missing: str = "–") -> str:
    """A day as ``2026-12-07`` (``missing`` for None/NaT)."""
    ts = to_local(value, utc=False)
    return missing if ts is None else f"{ts:{DATE}}"


def fmt_datetime(value: Any, *, utc: bool = False, seconds: bool = False, tz: str | None = None,
                 missing: str = "–") -> str:
    """A time as ``2026-12-07 21:31`` in the app's zone; ``utc=True`` for a time the store keeps in UTC."""
    ts = to_local(value, utc=utc, tz=tz)
    return missing if ts is None else f"{ts:{DATETIME + (':%S' if seconds else '')}}"
