"""Shared pieces of the forecasting use cases: model choices and names, limits, the model registry (with its
optional signing key) and JSON conversion. Imports none of the sibling modules, so every one of them can use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from src.services.context import AppContext, ServiceError

ProgressCallback = Callable[[float, str], None]

#: what the model picker offers (auto first); prophet_default is Prophet() untouched, the benchmark reference
MODEL_CHOICES: tuple[str, ...] = ("auto", "profile", "seasonal_naive", "prophet", "lightgbm", "lightgbm_recursive",
                                  "ensemble", "prophet_default")
MODEL_LABELS: dict[str, str] = {
    "auto": "Auto (best in backtest)",
    "profile": "Weekday × time-of-day profile",
    "seasonal_naive": "Seasonal naive (same slot last week)",
    "prophet": "Prophet (weekday-specific days, holidays)",
    "lightgbm": "LightGBM (calendar + lags)",
    "lightgbm_recursive": "LightGBM recursive",
    "ensemble": "Ensemble (profile + Prophet + LightGBM)",
    "prophet_default": "Prophet, default settings",
}
MAX_HORIZON_DAYS = 60
MAX_SERIES_PER_RUN = 20
MAX_FOLDS = 5
#: live error this many times the backtest error → "retrain recommended"
DRIFT_FACTOR = 1.5
#: an interval counts as highly uncertain when its 80% band is wider than this share of the forecast. The 80% band,
#: not the 95% one: Poisson-like counts have a 95% band of ±2σ, wider than half the forecast below ~60 contacts per
#: interval, so the 95% rule flagged 64 of 65 open hours of the demo's calls queue and every day of a care unit —
#: a highlight that marks everything marks nothing
HIGH_UNCERTAINTY = 0.5
HIGH_UNCERTAINTY_LEVEL = 80


#: environment variable holding the optional HMAC key for model metadata (absent/empty = unsigned, as before)
SIGNING_KEY_ENV = "MODEL_SIGNING_KEY"
MIN_SIGNING_KEY_CHARS = 16


def _signing_key() -> bytes | None:
    """The registry signing key from ``MODEL_SIGNING_KEY`` (None when unset); a short key is refused."""
    import os

    raw = os.environ.get(SIGNING_KEY_ENV, "").strip()
    if not raw:
        return None
    if len(raw) < MIN_SIGNING_KEY_CHARS:
        raise ServiceError(f"{SIGNING_KEY_ENV} is set but shorter than {MIN_SIGNING_KEY_CHARS} characters; use a long "
                           "random value (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) or "
                           "unset it.")
    return raw.encode("utf-8")


def _registry(app: AppContext):
    from src.models.registry import ModelRegistry

    return ModelRegistry(app.settings.models_dir, code_version=_code_version(), signing_key=_signing_key())


def _code_version() -> str:
    try:
        from importlib.metadata import version

        return version("workforce-planner")
    except Exception:  # noqa: BLE001 - not installed as a package: use the source tree's revision
        from pathlib import Path

        head = Path(__file__).resolve().parents[3] / ".git" / "HEAD"
        try:
            ref = head.read_text().strip()
            if ref.startswith("ref: "):
                ref = (head.parent / ref[5:]).read_text().strip()
            return ref[:12]
        except OSError:
            return "dev"


#: the model names for narrow table columns (the full :data:`MODEL_LABELS` were cut off there)
MODEL_SHORT: dict[str, str] = {
    "auto": "auto", "profile": "Profile", "seasonal_naive": "Seasonal naive", "prophet": "Prophet",
    "lightgbm": "LightGBM", "lightgbm_recursive": "LightGBM recursive", "ensemble": "Ensemble",
    "prophet_default": "Prophet (default)",
}


def model_label(model: str, *, short: bool = False) -> str:
    """What a planner reads for a model code (``seasonal_naive`` → "Seasonal naive (same slot last week)", or
    "Seasonal naive" with ``short``); a code the engine added later and these lists do not know yet is shown as
    it is."""
    return (MODEL_SHORT if short else MODEL_LABELS).get(str(model), str(model))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | datetime | date):
        return pd.Timestamp(value).isoformat()
    return value
