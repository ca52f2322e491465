"""Intraday re-forecast: scale the rest of today's forecast by how today is running so far.

Contact centres re-plan at midday: if the morning ran 20% above forecast, the afternoon probably
will too. The evidence grows with the share of the day's *expected* volume already seen, so the
observed ratio ``actual / forecast`` is shrunk toward 1 by that share ``p``:
``factor = 1 + p · (ratio - 1)``, clipped to ``[min_factor, max_factor]``. Early in the day (p≈0)
the forecast barely moves; late in the day it follows the actuals. Point forecast and bounds are
multiplied by the same factor; other days are untouched. No library does this for you.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def reforecast_intraday(forecast: pd.DataFrame, actuals: pd.DataFrame, now: pd.Timestamp, *,
                        min_factor: float = 0.5, max_factor: float = 2.0) -> pd.DataFrame:
    """Return ``forecast`` with today's remaining intervals (``ds >= now``) rescaled per series.

    ``forecast``: ``[series_id,] ds, yhat, yhat_lower_L, yhat_upper_L…``; ``actuals``: ``[series_id,] ds, y``
    for today's elapsed intervals. Added columns: ``factor`` (1.0 where unchanged) and ``reforecast``
    (True for rescaled rows). A series without forecast volume so far keeps factor 1.
    """
    if not 0 < min_factor <= 1 <= max_factor:
        raise ValueError("need 0 < min_factor <= 1 <= max_factor")
    now = pd.Timestamp(now)
    out = forecast.copy()
    act = actuals.copy()
    if "series_id" not in out.columns:
        out["series_id"] = "series"
    if "series_id" not in act.columns:
        act["series_id"] = "series"
    out["ds"] = pd.to_datetime(out["ds"])
    act["ds"] = pd.to_datetime(act["ds"])
    out["factor"] = 1.0
    out["reforecast"] = False
    day_start, day_end = now.normalize(), now.normalize() + pd.Timedelta(days=1)
    value_cols = [c for c in out.columns if c == "yhat" or c.startswith(("yhat_lower_", "yhat_upper_"))]
    act = act[(act["ds"] >= day_start) & (act["ds"] < now)].groupby(["series_id", "ds"], as_index=False)["y"].sum()
    for sid, part in out.groupby("series_id", sort=False):
        today = part[(part["ds"] >= day_start) & (part["ds"] < day_end)]
        if today.empty:
            continue
        seen = today.merge(act[act["series_id"] == sid][["ds", "y"]], on="ds", how="inner")
        seen = seen[seen["ds"] < now]
        f_sofar = float(seen["yhat"].sum())
        f_day = float(today["yhat"].sum())
        if f_sofar <= 0 or f_day <= 0:
            continue
        ratio = float(seen["y"].sum()) / f_sofar
        share = min(1.0, f_sofar / f_day)
        factor = float(np.clip(1.0 + share * (ratio - 1.0), min_factor, max_factor))
        rest = today.index[today["ds"] >= now]
        out.loc[rest, value_cols] = out.loc[rest, value_cols].to_numpy(dtype=float) * factor
        out.loc[rest, "factor"] = factor
        out.loc[rest, "reforecast"] = True
    if "series_id" not in forecast.columns:
        out = out.drop(columns="series_id")
    return out
