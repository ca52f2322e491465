"""Reading the audit log (admin). Writing happens inside each service's own transaction (see data.store)."""

from __future__ import annotations

from datetime import date, datetime, time

import pandas as pd

from src.data import store
from src.data.export import to_csv_bytes
from src.services.context import Actor, AppContext, require_role


def list_events(app: AppContext, actor: Actor, *, user: str | None = None, action: str | None = None,
                start: date | None = None, end: date | None = None, limit: int = 5000) -> pd.DataFrame:
    """Audit events, newest first; dates are inclusive UTC days."""
    require_role(actor, "admin")
    since = datetime.combine(start, time.min) if start else None
    until = datetime.combine(end, time.max) if end else None
    return store.audit_events(app.engine, actor=user or None, action=action or None, since=since, until=until,
                              limit=limit)


def actions(app: AppContext, actor: Actor) -> list[str]:
    require_role(actor, "admin")
    return store.audit_actions(app.engine)


def export_csv(app: AppContext, actor: Actor, events: pd.DataFrame) -> bytes:
    """CSV of the given events (formula-neutralised); the export itself is audited."""
    require_role(actor, "admin")
    from src.data import db

    with db.write_tx(app.engine) as conn:
        store.write_audit(conn, actor=actor.username, role=actor.role, action="audit.export",
                          detail={"rows": len(events)})
    return to_csv_bytes(events)
