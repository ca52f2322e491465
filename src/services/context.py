"""Who is acting and with which application resources — passed to every service function.

Why explicit objects instead of globals: the same services serve the Streamlit pages, the CLI and the REST
API; each entry point authenticates in its own way and then hands an :class:`Actor` to the service, which
re-checks the role itself (a page that forgot to hide a button must still not be able to change data).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine

from src.data import db
from src.settings import Settings, load_settings

log = logging.getLogger(__name__)

Role = Literal["admin", "planner"]
ROLES: tuple[str, ...] = ("admin", "planner")


class PermissionDenied(PermissionError):
    """The actor's role does not allow this action."""


class ServiceError(ValueError):
    """A user-facing error: the message is safe and meant to be shown as is."""


@dataclass(frozen=True)
class Actor:
    username: str
    role: Role
    display_name: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Unknown role {self.role!r}")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


SYSTEM = Actor(username="system", role="admin", display_name="System")


def require_role(actor: Actor | None, *roles: Role) -> Actor:
    """Return ``actor`` if it holds one of ``roles`` (admin may do everything), else raise PermissionDenied."""
    if actor is None:
        raise PermissionDenied("Please log in.")
    if actor.role == "admin" or actor.role in roles:
        return actor
    raise PermissionDenied(f"Your role ({actor.role}) may not do this; it needs: {', '.join(roles)}.")


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    engine: Engine


_lock = threading.Lock()
_app: AppContext | None = None


def build_app(settings: Settings | None = None) -> AppContext:
    """Create an application context (engine + schema) from settings; does not load demo data."""
    settings = settings or load_settings()
    engine = db.make_engine(settings.database_url)
    db.init_schema(engine)
    return AppContext(settings=settings, engine=engine)


def get_app() -> AppContext:
    """The process-wide application context, created on first use."""
    global _app
    with _lock:
        if _app is None:
            _app = build_app()
        return _app


def set_app(app: AppContext | None) -> None:
    """Replace the process-wide context (tests, or an entry point that built its own)."""
    global _app
    with _lock:
        _app = app
