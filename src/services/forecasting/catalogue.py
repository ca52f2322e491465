"""What can be forecast: the series catalogue of the stored history, and looking a series up by id or name."""

from __future__ import annotations

from src.data import forecast_store as fstore
from src.data.forecast_store import SeriesInfo
from src.services.context import Actor, AppContext, ServiceError, require_role


def series_catalogue(app: AppContext, actor: Actor, kind: str | None = None) -> list[SeriesInfo]:
    """Forecastable series in the stored history (``kind``: workload | unit_shifts | None for both)."""
    require_role(actor, "planner", "admin")
    out = fstore.series_catalogue(app.engine)
    return [s for s in out if kind is None or s.kind == kind]


def get_series(app: AppContext, series_id: str) -> SeriesInfo:
    for s in fstore.series_catalogue(app.engine):
        if s.series_id == series_id:
            return s
    raise ServiceError(f"No stored history for series {series_id!r}. Upload workload or unit-shift data first.")


def resolve_series(app: AppContext, name: str) -> SeriesInfo | None:
    """A series by id, or by its queue/plan name when that is unambiguous (``calls`` → ``workload:calls@…``)."""
    cat = fstore.series_catalogue(app.engine)
    for s in cat:
        if s.series_id == name:
            return s
    hits = [s for s in cat if s.queue == name or s.label == name]
    return hits[0] if len(hits) == 1 else None
