"""Scorer settings (ML on/off, ranking on/off, shadow mode, confidence threshold): environment defaults until an
administrator stores them; every change is audited.
"""

from __future__ import annotations

import os
from dataclasses import asdict

from src.data import db, store
from src.data import people_store as ps
from src.models.ranking import ScorerSettings
from src.services.context import Actor, AppContext, ServiceError, require_role


def default_scorer_settings() -> ScorerSettings:
    """Environment defaults (``WFP_ML_ENABLED`` …); an invalid value is a configuration error."""
    try:
        return ScorerSettings.from_mapping(os.environ)
    except ValueError as exc:
        raise ServiceError(f"Invalid ranker settings in the environment: {exc}") from None


def scorer_settings(app: AppContext, actor: Actor) -> ScorerSettings:
    require_role(actor, "planner", "admin")
    return _settings(app)


def _settings(app: AppContext) -> ScorerSettings:
    row = ps.read_settings(app.engine)
    if row is None:
        return default_scorer_settings()
    return ScorerSettings(bool(row["ml_enabled"]), bool(row["ranking_enabled"]), bool(row["shadow_mode"]),
                          float(row["confidence_threshold"]))


def update_scorer_settings(app: AppContext, actor: Actor, settings: ScorerSettings) -> ScorerSettings:
    require_role(actor, "admin")
    before = _settings(app)
    with db.write_tx(app.engine) as conn:
        ps.write_settings(conn, asdict(settings), actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.settings",
                          object_type="ranker_settings", object_id=1,
                          detail={"before": asdict(before), "after": asdict(settings)})
    return settings
