"""Use cases around forecasting: train from stored history, keep model versions, serve stored forecasts,
track their accuracy once actuals arrive.

The flow the Forecast page (and later the REST API) shares: :func:`series_catalogue` (what can be
forecast) → :func:`train_forecasts` (planner/admin: engine backtest + model choice + refit, every model
saved through :class:`~src.models.registry.ModelRegistry`, forecasts stored with one audit event per run in
ONE transaction — all series or none) → :func:`load_run` / :func:`latest_forecast` (read) →
:func:`accuracy_report` (live accuracy vs. the backtest, drift and capacity alerts). Activating, rolling
back and deleting model versions is admin-only and audited.

REST-friendly surface (plain arguments in, JSON-able values out; every function checks the role first and
raises :class:`ServiceError` with a user-facing message, :class:`PermissionDenied` for a wrong role):

- ``series_catalogue(app, actor, kind=None) -> list[SeriesInfo]`` — what can be forecast (``series_id`` values).
- ``run_forecast(app, actor, series_id, horizon_days, model="auto", folds=3, history_end=None) -> int`` — train,
  store and audit one series; returns the stored run id (synchronous: seconds to a minute).
- ``get_forecast(app, actor, run_id) -> dict`` — run metadata, backtest metrics, measured coverage and the rows
  (ISO timestamps, ``yhat``, 80/95 bounds, ``is_open``, ``high_uncertainty``); no NaN (None instead).
- ``runs_for_series(app, actor, series_id=None) -> list[dict]`` — stored runs, newest first.
- ``intraday_reforecast(app, actor, series_id, day=, now=, actuals=None|text|frame) -> IntradayView``
  (``IntradayView.to_dict()`` for JSON).
- ``accuracy_report``, ``list_versions``; admin: ``activate_version``, ``rollback_version``, ``delete_version``.

Model files are signed with an HMAC over their metadata when ``MODEL_SIGNING_KEY`` is set (≥ 16 characters);
unset = unsigned. With a key set, versions saved without one (or with another key) fail to load with a clear error.

Which forecast is "current" for a series (what Staffing plans with): the newest run of the series' *active*
model version; without an active version, the newest run. A new training becomes active when the series
has none yet, or when an admin asks for it; a planner's retraining is stored beside the active version until
an admin activates it (the Forecast accuracy page shows both side by side).

Which module holds what (``from src.services.forecasting import name`` keeps working for every name below):

* :mod:`._common` — model choices and names, limits, the model registry and its signing key, JSON conversion;
  imports no sibling;
* :mod:`.catalogue` — the series catalogue and looking a series up by id or queue name;
* :mod:`.training` — ``train_forecasts`` (with the ``fit_many``/``on_store`` hooks of ``src.services.jobs``), the
  engine calls ``fit_series``/``fit_series_in_process`` and ``run_forecast``;
* :mod:`.runs` — stored runs: ``load_run``, ``current_run``, ``latest_forecast``, ``get_forecast``;
* :mod:`.presenting` — download table, readable reasons, backtest and diagnostics tables, ``export_forecast``;
* :mod:`.versions` — model versions: list, activate, roll back, delete (admin, audited);
* :mod:`.accuracy` — ``accuracy_report``: live accuracy vs. the backtest, drift and capacity alerts;
* :mod:`.intraday` — the intraday re-forecast of one day, its form defaults and its CSV export.

A test that replaces a name the use cases call each other through (``current_run``, ``resolve_series``, …)
patches it in the submodule that looks it up; the pages, the API and the jobs call through this package.
"""

from __future__ import annotations

from ._common import (
    DRIFT_FACTOR,
    HIGH_UNCERTAINTY,
    HIGH_UNCERTAINTY_LEVEL,
    MAX_FOLDS,
    MAX_HORIZON_DAYS,
    MAX_SERIES_PER_RUN,
    MIN_SIGNING_KEY_CHARS,
    MODEL_CHOICES,
    MODEL_LABELS,
    MODEL_SHORT,
    SIGNING_KEY_ENV,
    ProgressCallback,
    model_label,
)
from ._common import _signing_key as _signing_key
from .accuracy import AccuracyReport, accuracy_report
from .accuracy import _drift as _drift
from .catalogue import get_series, resolve_series, series_catalogue
from .intraday import (
    MAX_INTRADAY_BYTES,
    MAX_INTRADAY_LINES,
    IntradayDefaults,
    IntradayView,
    export_intraday,
    intraday_defaults,
    intraday_reforecast,
    parse_partial_day,
)
from .presenting import (
    BACKTEST_COLUMNS,
    DIAGNOSTIC_LABELS,
    backtest_table,
    diagnostics_table,
    export_forecast,
    forecast_export_frame,
    readable_reason,
)
from .runs import RunView, current_run, get_forecast, latest_forecast, load_run, runs_for_series
from .runs import _flag_uncertainty as _flag_uncertainty
from .training import (
    SeriesFit,
    SeriesFitter,
    TrainedSeries,
    TrainOutcome,
    fit_series,
    fit_series_in_process,
    run_forecast,
    train_forecasts,
)
from .versions import activate_version, delete_version, list_versions, rollback_version

__all__ = [
    "accuracy_report", "AccuracyReport", "activate_version", "backtest_table", "current_run", "delete_version",
    "diagnostics_table", "export_forecast", "export_intraday", "fit_series", "fit_series_in_process",
    "forecast_export_frame", "get_forecast", "get_series", "intraday_defaults", "intraday_reforecast",
    "IntradayDefaults", "IntradayView", "latest_forecast", "list_versions", "load_run", "model_label",
    "parse_partial_day", "readable_reason", "resolve_series", "rollback_version", "run_forecast", "RunView",
    "runs_for_series", "series_catalogue", "train_forecasts", "TrainedSeries", "TrainOutcome",
    # module constants and types the pages, the API, the jobs and the tests read as ``svc.NAME``
    "BACKTEST_COLUMNS", "DIAGNOSTIC_LABELS", "DRIFT_FACTOR", "HIGH_UNCERTAINTY", "HIGH_UNCERTAINTY_LEVEL",
    "MAX_FOLDS", "MAX_HORIZON_DAYS", "MAX_INTRADAY_BYTES", "MAX_INTRADAY_LINES", "MAX_SERIES_PER_RUN",
    "MIN_SIGNING_KEY_CHARS", "MODEL_CHOICES", "MODEL_LABELS", "MODEL_SHORT", "ProgressCallback", "SeriesFit",
    "SeriesFitter", "SIGNING_KEY_ENV",
]
