"""Presenting a stored forecast to people: the download table, readable model reasons, the backtest and
diagnostics tables, and the CSV/XLSX export.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from src.data import export
from src.data.forecast_store import LEVELS
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import MODEL_SHORT, model_label
from .runs import RunView


def forecast_export_frame(view: RunView) -> pd.DataFrame:
    """The download table: series, ds, yhat and both intervals, model, version, high-uncertainty flag."""
    fc = view.forecast
    out = pd.DataFrame({"series": view.run["label"], "ds": fc["ds"], "yhat": fc["yhat"].round(3)})
    for lv in LEVELS:
        out[f"yhat_lower_{lv}"] = fc[f"yhat_lower_{lv}"].round(3)
        out[f"yhat_upper_{lv}"] = fc[f"yhat_upper_{lv}"].round(3)
    out["open"] = fc["is_open"].to_numpy()
    out["high_uncertainty"] = fc["high_uncertainty"].to_numpy()
    out["model"] = view.run["model"]
    out["model_version"] = view.run["model_version_id"]
    return out


_MODEL_CODE = re.compile(r"\b(" + "|".join(sorted(MODEL_SHORT, key=len, reverse=True)) + r")\b")


def readable_reason(text: str) -> str:
    """The engine's 'why this model' sentence with model codes as names (``lightgbm won: … vs profile …``); the
    engine keeps the codes because the CLI's users script against them."""
    return _MODEL_CODE.sub(lambda m: model_label(m.group(1), short=True), text)


#: backtest columns in the order a planner compares models (accuracy first, then intervals, then cost),
#: with the headers the Forecast page and the Excel download show
BACKTEST_COLUMNS: dict[str, str] = {
    "model": "model", "chosen": "chosen", "mase": "MASE", "wape": "WAPE %", "mape": "MAPE %", "smape": "sMAPE %",
    "mae": "MAE", "rmse": "RMSE", "coverage_80": "coverage 80 %", "coverage_95": "coverage 95 %",
    "width_80": "mean width 80", "width_95": "mean width 95", "folds": "folds", "n": "points scored",
    "seconds": "seconds per fold", "error": "error",
}


def backtest_table(view: RunView) -> pd.DataFrame:
    """Every compared model of a run, best MASE first, with readable model names and the columns of
    :data:`BACKTEST_COLUMNS` (codes kept as column names; the caller picks the headers).

    Why: the stored backtest is JSON with its keys sorted alphabetically (``chosen, coverage_80, error, …,
    model`` — the model name came eleventh) and holds engine-internal columns (``mase_common``); an ``error``
    column that is empty for every model is dropped.
    """
    bt = view.backtest
    cols = [c for c in BACKTEST_COLUMNS if c in bt.columns]
    out = bt[cols].copy() if len(bt) else pd.DataFrame(columns=cols)
    if "error" in out:
        out["error"] = out["error"].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v))
                                        or str(v).strip() == "" else str(v))
        if out["error"].isna().all():
            out = out.drop(columns=["error"])
    if "model" in out:
        out["model"] = out["model"].map(model_label)
    if "chosen" in out:
        out["chosen"] = out["chosen"].fillna(False).astype(bool)
    for c in out.columns:
        if c not in ("model", "chosen", "error"):
            out[c] = pd.to_numeric(out[c], errors="coerce")
    if "mase" in out:
        out = out.sort_values("mase", na_position="last", kind="stable")
    return out.reset_index(drop=True)


#: what each data diagnostic of the engine means, in the order a planner reads them
DIAGNOSTIC_LABELS: dict[str, str] = {
    "start": "History from", "end": "History to", "freq": "Interval", "n_observed": "Intervals with a value",
    "n_missing": "Open intervals without a value (filled)", "n_duplicates": "Duplicate timestamps",
    "n_outliers": "Outliers (replaced for training)", "active_slots": "Open slots per week",
    "slots_per_week": "Slots per week", "closed_on_holidays": "Closed on public holidays", "notes": "Notes",
}


def diagnostics_table(run: dict[str, Any]) -> pd.DataFrame:
    """The engine's data diagnostics of a run as ``item, value`` text a planner can read.

    Why: the raw dict shows keys such as ``n_missing`` and ``active_slots``, ``True`` and ISO timestamps
    (``2026-10-31T13:00:00``). Known keys get a label and come first; keys a newer engine adds are listed after
    them under their own name, so nothing is hidden. The series id and model repeat the page and are left out.
    """
    diag = dict(run.get("diagnostics") or {})
    for k in ("series_id", "model"):
        diag.pop(k, None)

    def fmt(key: str, value: Any) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)) or value == "":
            return "–"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if key in ("start", "end"):
            try:
                return f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"
            except (TypeError, ValueError):
                return str(value)
        if isinstance(value, int | float):
            return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
        return str(value)

    ordered = [k for k in DIAGNOSTIC_LABELS if k in diag] + [k for k in diag if k not in DIAGNOSTIC_LABELS]
    return pd.DataFrame([{"item": DIAGNOSTIC_LABELS.get(k, k.replace("_", " ")), "value": fmt(k, diag[k])}
                         for k in ordered], columns=["item", "value"])


def export_forecast(app: AppContext, actor: Actor, view: RunView, fmt: str) -> bytes:
    """CSV or XLSX bytes of a stored forecast (through the one export module: formula-safe).

    The Forecast sheet and the CSV keep the documented machine-readable columns (``ds, yhat, yhat_lower_80 …``,
    as the CLI writes and Staffing reads); the Backtest and About sheets are for people: readable headers,
    numbers as numbers and times as times.
    """
    require_role(actor, "planner", "admin")
    table = forecast_export_frame(view)
    if fmt == "csv":
        return export.to_csv_bytes(table)
    if fmt != "xlsx":
        raise ServiceError(f"Unknown export format {fmt!r}; choose csv or xlsx.")
    bt = backtest_table(view)
    bt = bt.rename(columns=BACKTEST_COLUMNS)
    run = view.run
    metrics = run.get("metrics") or {}

    def num(v: Any, digits: int) -> float | None:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return None
        return round(f, digits) if math.isfinite(f) else None

    info = pd.DataFrame([
        ("Series", run["label"]), ("Model", model_label(run["model"])), ("Model code", run["model"]),
        ("Model version", run["model_version_id"]), ("Why this model", run["reason"]), ("Interval", run["freq"]),
        ("History from", pd.Timestamp(run["history_start"]).to_pydatetime() if run.get("history_start") else None),
        ("History to", pd.Timestamp(run["history_end"]).to_pydatetime()),
        ("Forecast from", pd.Timestamp(run["forecast_start"]).to_pydatetime()),
        ("Forecast to", pd.Timestamp(run["forecast_end"]).to_pydatetime()),
        ("Trained by", run["created_by"]), ("Trained at (UTC)", pd.Timestamp(run["created_at"]).to_pydatetime()),
        ("Backtest MASE", num(metrics.get("mase"), 3)), ("Backtest WAPE %", num(metrics.get("wape"), 1)),
        *[(f"Measured coverage of the {lv}% interval (%)", num(run["coverage"].get(str(lv)), 1)) for lv in LEVELS],
    ], columns=["item", "value"])
    sheets = {"Forecast": table, "Backtest": bt, "About": info}
    charts = [export.ChartSpec(sheet="Forecast", x_column="ds", y_columns=("yhat", "yhat_upper_95"),
                               title=f"Forecast {run['label']}", y_title="volume")]
    return export.to_excel_bytes(sheets, title=f"Forecast {run['label']}", charts=charts)
