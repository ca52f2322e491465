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

Which module holds what (``from src.services.staffing import name`` keeps working for every name below):

* :mod:`.results` — the dataclasses the use cases take and return (``VolumeInput``, ``Scenario``, …);
* :mod:`._common` — shared helpers (interval length, horizon check, per-channel columns); imports no sibling;
* :mod:`.params` — per-queue parameters: defaults and the editable parameter table;
* :mod:`.volumes` — page options, workload history and care-home unit shifts as volume;
* :mod:`.upload` — an uploaded volume file checked by the workload validator;
* :mod:`.forecast` — the forecast adapter (looks up ``forecasting_service``: patch it there in tests);
* :mod:`.planning` — required staff for a volume (``build_plan``, ``plan_totals``) and the Erlang calculator;
* :mod:`.shifts` — shift patterns and the shift plan;
* :mod:`.exports` — requirement table, Info facts, Excel/CSV export of a live plan;
* :mod:`.saved` — saving, listing, opening and re-exporting saved plans.
"""

from __future__ import annotations

from src.models.capacity import QueueParams as QueueParams  # the page builds parameters as svc.QueueParams

from ._common import MAX_HORIZON_DAYS, infer_interval_seconds, interval_label
from .exports import XLSX_MIME, export_plan, plan_info, requirement_rows
from .forecast import (
    FORECAST_PLAN_DAYS,
    ForecastPeriod,
    default_forecast_window,
    forecast_periods,
    forecast_series,
    forecast_volume,
    latest_forecast,
    periods_by_time,
    series_label,
)
from .params import PARAM_COLUMNS, default_params, default_params_for, param_columns, params_from_table, params_table
from .planning import build_plan, erlang_calculator, plan_totals
from .results import (
    CalculatorResult,
    ExportFile,
    HistoryMethod,
    PlanningOptions,
    Scenario,
    Source,
    VolumeInput,
    VolumeUpload,
)
from .saved import (
    SavedPlan,
    export_saved_plan,
    list_saved_plans,
    load_saved_plan,
    open_saved_plan,
    save_plan,
    saved_plan_parts,
    saved_plan_stem,
)
from .shifts import PATTERN_COLUMNS, WEEKDAY_NAMES, build_shift_plan, default_patterns_table, patterns_from_table
from .upload import validate_volume_upload
from .volumes import HISTORY_METHODS, care_volume, history_volume, planning_options

__all__ = [
    "build_plan", "build_shift_plan", "CalculatorResult", "care_volume", "default_forecast_window", "default_params",
    "default_params_for", "default_patterns_table", "erlang_calculator", "export_plan", "export_saved_plan",
    "ExportFile", "forecast_periods", "FORECAST_PLAN_DAYS", "forecast_series", "forecast_volume", "ForecastPeriod",
    "HISTORY_METHODS", "history_volume", "infer_interval_seconds", "interval_label", "latest_forecast",
    "list_saved_plans", "load_saved_plan", "open_saved_plan", "param_columns", "params_from_table", "params_table",
    "patterns_from_table", "periods_by_time", "plan_info", "plan_totals", "planning_options", "PlanningOptions",
    "requirement_rows", "save_plan", "saved_plan_parts", "saved_plan_stem", "SavedPlan", "Scenario", "series_label",
    "validate_volume_upload", "VolumeInput", "VolumeUpload",
    # module constants and types the page, the API and the tests read as ``svc.NAME``
    "HistoryMethod", "MAX_HORIZON_DAYS", "PARAM_COLUMNS", "PATTERN_COLUMNS", "Source", "WEEKDAY_NAMES", "XLSX_MIME",
]
