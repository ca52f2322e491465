"""The forecasting engine's input: a long frame ``series_id, ds, y`` checked and normalised once.

Kept apart from the engine and the backtest, which both start from it (the backtest used to import it from the
engine, which imports the backtest — an import circle).
"""

from __future__ import annotations

import warnings

import pandas as pd


def _wall_clock(values: pd.Series) -> pd.Series:
    """Timestamps as naive local wall-clock time.

    Workload follows the local clock (the 9 o'clock peak stays at 9 across a clock change), so a UTC
    offset is dropped, not converted: ``2024-03-31T09:00+02:00`` becomes 09:00. Exports that carry
    the offset change at the clock change (``+01:00`` in winter, ``+02:00`` in summer) parse to mixed
    offsets, which pandas leaves as plain objects; each is reduced to its wall-clock time.
    """
    if not pd.api.types.is_datetime64_any_dtype(values):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # "mixed time zones" → object column, handled below
                values = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"Column ds must hold timestamps (ISO 8601, e.g. 2024-01-31 08:00): {exc}") from None
    if values.dtype == object:
        try:
            values = pd.to_datetime(pd.Series([pd.Timestamp(v).tz_localize(None) if getattr(v, "tzinfo", None)
                                               else pd.Timestamp(v) for v in values], index=values.index))
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"Column ds must hold timestamps (ISO 8601, e.g. 2024-01-31 08:00): {exc}") from None
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values


def normalise_input(df: pd.DataFrame) -> pd.DataFrame:
    """Validate and normalise a long frame to ``series_id`` (str), ``ds`` (datetime64), ``y`` (float).

    Column names are matched case-insensitively; a missing ``series_id`` means one series named
    ``"series"``. Raises ``ValueError`` naming the problem (missing columns, unparsable values).
    """
    cols = {str(c).strip().lower(): c for c in df.columns}
    missing = [c for c in ("ds", "y") if c not in cols]
    if missing:
        raise ValueError(f"Input needs columns ds and y (and optionally series_id); missing: {', '.join(missing)}")
    out = pd.DataFrame({
        "series_id": df[cols["series_id"]].astype(str) if "series_id" in cols else "series",
        "ds": df[cols["ds"]],
        "y": df[cols["y"]],
    })
    out["ds"] = _wall_clock(out["ds"])
    try:
        out["y"] = pd.to_numeric(out["y"], errors="raise").astype(float)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Column y must be numeric: {exc}") from None
    if out.empty:
        raise ValueError("Input has no rows")
    return out.sort_values(["series_id", "ds"], kind="stable").reset_index(drop=True)
