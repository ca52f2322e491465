"""Reading the audit log (admin). Writing happens inside each service's own transaction (see data.store)."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

import pandas as pd

from src.data import store
from src.data.export import to_csv_bytes
from src.services.context import Actor, AppContext, require_role


def list_events(app: AppContext, actor: Actor, *, user: str | None = None, action: str | None = None,
                start: date | None = None, end: date | None = None, limit: int = 5000,
                timezone: str | None = None) -> pd.DataFrame:
    """Audit events, newest first; dates are inclusive days — UTC days, or days in ``timezone`` (the page passes
    the app's zone, in which it shows the times)."""
    require_role(actor, "admin")
    since = _utc_bound(datetime.combine(start, time.min), timezone) if start else None
    until = _utc_bound(datetime.combine(end, time.max), timezone) if end else None
    return store.audit_events(app.engine, actor=user or None, action=action or None, since=since, until=until,
                              limit=limit)


def _utc_bound(local: datetime, timezone: str | None) -> datetime:
    """A wall-clock bound in ``timezone`` as the naive UTC time the store compares with (unchanged without a zone)."""
    if not timezone:
        return local
    return pd.Timestamp(local).tz_localize(timezone, nonexistent="shift_forward", ambiguous=False) \
        .tz_convert("UTC").tz_localize(None).to_pydatetime()


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items()) or "–"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "–" if value is None else str(value)


def readable_detail(detail_json: str | None, sep: str = " · ") -> str:
    """An event's stored JSON detail as one line: ``file: a.csv · rows: 3 · before: ml_enabled yes, …``.

    Why: the page showed the raw ``detail_json`` ({"file": "a.csv", "replaced_rows": 0, …}), which an admin
    had to read like code. Keys lose their underscores; text that is not a JSON object is shown as it is.
    ``sep`` joins the entries (a line break for the page's full view of one event).
    """
    if not detail_json:
        return ""
    try:
        value = json.loads(detail_json)
    except (TypeError, ValueError):
        return str(detail_json)
    if not isinstance(value, dict):
        return _plain(value)
    return sep.join(f"{str(k).replace('_', ' ')}: {_plain(v)}" for k, v in value.items())


def readable_events(events: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """The events as the Audit page shows them: the time in ``timezone`` (stored in UTC), the detail as one line,
    columns named in words. The CSV export keeps the stored columns."""
    local = pd.to_datetime(events["ts_utc"]).dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
    return pd.DataFrame({"time": local, "user": events["actor"], "role": events["role"], "action": events["action"],
                         "object": events["object_type"], "object id": events["object_id"],
                         "outcome": events["outcome"], "detail": events["detail_json"].map(readable_detail)})


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
