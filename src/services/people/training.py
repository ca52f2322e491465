"""Training the success model on the stored history (compared with the rules on the newest slice, saved as a
new ranker version) and the report the Ranking model page shows about the active model.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from src.data import db, store
from src.models.ranking import TrainConfig
from src.models.ranking import train_ranker as _train_ranker
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import Progress, _noop
from .ranker_store import RankerVersion, _active_id, _root, _save_version, _version_of, _write_active, active_ranker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOutcome:
    version: RankerVersion
    comparison: pd.DataFrame
    calibration_curves: dict[str, pd.DataFrame]
    importance: pd.DataFrame
    split: dict[str, Any]
    seconds: float


def train_ranker(app: AppContext, actor: Actor, *, config: TrainConfig | None = None, activate: bool = True,
                 on_progress: Progress | None = None) -> TrainOutcome:
    """Train the success model on the stored history, compare it with the rules on the newest slice,
    save it as a new version (and make it active). Raises ServiceError when there is too little history."""
    require_role(actor, "admin")
    progress = on_progress or _noop
    t0 = datetime.now(UTC)
    progress(0.02, "Reading assignment history and staff")
    history = store.load_frame(app.engine, "assignments")
    staff = store.load_frame(app.engine, "staff")
    if history.empty or staff.empty:
        raise ServiceError("Training needs stored assignment history and staff. Upload them on the Data page "
                           "(or load the demo data) first.")

    def inner(f: float, text: str) -> None:
        progress(0.05 + 0.85 * f, text[:1].upper() + text[1:])

    try:
        result = _train_ranker(history, staff, config, on_progress=inner)
    except ValueError as exc:
        raise ServiceError(f"Cannot train a ranker on this history: {exc}.") from None
    progress(0.92, "Saving the model")
    comp = result.comparison.set_index("scorer")
    chosen = str(result.model.kind)
    headline = {
        "chosen": chosen, "rows": len(history), **{f"{k}_{m}": _num(comp.loc[k, m]) for k in comp.index
                                                    for m in ("auc", "log_loss", "precision_at_3", "ndcg_at_3")},
        "split": result.split,
        "calibration_curves": {k: v.to_dict("records") for k, v in result.calibration_curves.items()},
    }
    version = _save_version(app, result.model, actor.username, headline)
    try:
        with db.write_tx(app.engine) as conn:
            store.write_audit(conn, actor=actor.username, role=actor.role, action="people.ranker_train",
                              object_type="ranker", object_id=version.version,
                              detail={"activate": activate, **{k: v for k, v in headline.items()
                                                                if k != "calibration_curves"}})
            if activate:
                _write_active(app, version.version)
    except BaseException:
        shutil.rmtree(version.path, ignore_errors=True)
        raise
    progress(1.0, f"Saved ranker {version.version}" + (" (active)" if activate else ""))
    seconds = (datetime.now(UTC) - t0).total_seconds()
    log.info("ranker %s trained by %s in %.1fs (kind=%s)", version.version, actor.username, seconds, chosen)
    return TrainOutcome(version=_version_of(version.path, _active_id(app)), comparison=result.comparison,
                        calibration_curves=result.calibration_curves, importance=result.model.feature_importance(),
                        split=result.split, seconds=seconds)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else round(f, 6)


@dataclass(frozen=True)
class RankerReport:
    """What the Ranking model page shows about the active model."""

    version: RankerVersion | None
    status: str
    comparison: pd.DataFrame
    calibration: dict[str, pd.DataFrame]
    importance: pd.DataFrame


def ranker_report(app: AppContext, actor: Actor) -> RankerReport:
    require_role(actor, "admin")
    model, status = active_ranker(app)
    active = _active_id(app)
    version = None
    if active:
        try:
            version = _version_of(_root(app) / active, active)
        except ServiceError:
            version = None
    if model is None:
        return RankerReport(version, status, pd.DataFrame(), {}, pd.DataFrame())
    comp = pd.DataFrame(model.metrics.get("comparison") or [])
    stored = (version.metrics.get("calibration_curves") if version else None) or {
        str(model.metrics.get("chosen", "model")): model.metrics.get("calibration_curve") or []}
    curves = {k: pd.DataFrame(v) for k, v in stored.items()}
    return RankerReport(version, status, comp, curves, model.feature_importance())
