"""Model versions: the list with backtest metrics, and the audited admin actions activate, roll back, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from src.data import db, store
from src.data import forecast_store as fstore
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import _registry, model_label
from .catalogue import resolve_series


def list_versions(app: AppContext, actor: Actor, series_id: str | None = None) -> pd.DataFrame:
    """Model versions with their backtest metrics, newest first."""
    require_role(actor, "planner", "admin")
    versions = _registry(app).list_versions(series_id)
    labels = {s.series_id: s.label for s in fstore.series_catalogue(app.engine)}
    rows = []
    for v in versions:
        m = v.metrics
        rows.append({"version": v.version_id, "series_id": v.series_id, "series": labels.get(v.series_id, v.series_id),
                     "model": v.model, "active": v.active, "created_at": pd.Timestamp(v.created_at).tz_localize(None)
                     if pd.Timestamp(v.created_at).tzinfo else pd.Timestamp(v.created_at),
                     "created_by": v.created_by, "mase": m.get("mase"), "wape": m.get("wape"), "mape": m.get("mape"),
                     "coverage_80": m.get("coverage_80"), "coverage_95": m.get("coverage_95"),
                     "code_version": v.code_version})
    cols = ["version", "series_id", "series", "model", "active", "created_at", "created_by", "mase", "wape", "mape",
            "coverage_80", "coverage_95", "code_version"]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("mase", "wape", "mape", "coverage_80", "coverage_95"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    return df.sort_values("created_at", ascending=False).reset_index(drop=True)


def _registry_action(app: AppContext, actor: Actor, action: str, object_id: str, fn: Callable[[], Any],
                     detail: dict[str, Any]) -> Any:
    from src.models.registry import RegistryError

    require_role(actor, "admin")
    with db.write_tx(app.engine) as conn:
        try:
            result = fn()
        except RegistryError as exc:
            raise ServiceError(str(exc)) from None
        store.write_audit(conn, actor=actor.username, role=actor.role, action=action, object_type="model_version",
                          object_id=object_id, detail=detail)
    return result


def _series_label(app: AppContext, series_id: str) -> str:
    """The label a planner knows a series by (``calls · CC-Berlin``); the id when the history is gone."""
    info = resolve_series(app, series_id)
    return info.label if info is not None else series_id


def _version_text(v: Any) -> str:
    return f"{model_label(v.model, short=True)} (version {v.version_id})"


def activate_version(app: AppContext, actor: Actor, version_id: str) -> str:
    """Make a model version the active one of its series (admin). Returns a message naming the series by its
    label (the messages named it ``workload:calls@CC-Berlin``)."""
    require_role(actor, "admin")
    reg = _registry(app)
    try:
        before = reg.get(version_id)
        previous = reg.active(before.series_id)
    except Exception as exc:  # noqa: BLE001 - RegistryError and friends become a user message
        raise ServiceError(str(exc)) from None
    v = _registry_action(app, actor, "model.activate", version_id, lambda: reg.activate(version_id),
                         {"series_id": before.series_id, "previous": previous.version_id if previous else None})
    return (f"{_series_label(app, v.series_id)}: {_version_text(v)} is now the active model — Staffing plans with "
            "its forecast.")


def rollback_version(app: AppContext, actor: Actor, series_id: str) -> str:
    """Re-activate the previously active version of a series (admin)."""
    require_role(actor, "admin")
    reg = _registry(app)
    try:
        current = reg.active(series_id)
    except Exception as exc:  # noqa: BLE001
        raise ServiceError(str(exc)) from None
    v = _registry_action(app, actor, "model.rollback", series_id, lambda: reg.rollback(series_id),
                         {"series_id": series_id, "from": current.version_id if current else None})
    return f"Rolled back {_series_label(app, series_id)} to {_version_text(v)}."


def delete_version(app: AppContext, actor: Actor, version_id: str) -> str:
    """Delete a model version's files (admin; not the active one). Its stored forecasts stay for tracking."""
    require_role(actor, "admin")
    reg = _registry(app)
    try:
        v = reg.get(version_id)
    except Exception as exc:  # noqa: BLE001 - RegistryError and friends become a user message
        raise ServiceError(str(exc)) from None
    _registry_action(app, actor, "model.delete", version_id, lambda: reg.delete(version_id), {})
    return (f"Deleted {_series_label(app, v.series_id)}: {_version_text(v)}; its stored forecasts remain for "
            "accuracy tracking.")
