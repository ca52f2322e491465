"""Shared fixtures: a fresh database per test on SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from src.data import db  # noqa: E402
from src.services.context import Actor, AppContext  # noqa: E402
from src.settings import Settings  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

ADMIN = Actor(username="admin", role="admin", display_name="Admin")
PLANNER = Actor(username="pat", role="planner", display_name="Pat Planner")


def make_settings(url: str, tmp_path: Path, **overrides) -> Settings:
    values = dict(database_url=url, cookie_key=secrets.token_urlsafe(48), models_dir=tmp_path / "models",
                  outputs_dir=tmp_path / "outputs", load_demo_data=False)
    values.update(overrides)
    return Settings(**values)


def fresh_app(backend: str, tmp_path: Path, **overrides) -> AppContext:
    url = f"sqlite:///{tmp_path / 'test.db'}" if backend == "sqlite" else PG_URL
    settings = make_settings(url, tmp_path, **overrides)
    engine = db.make_engine(settings.database_url)
    if backend != "sqlite":
        db.drop_all(engine)
    db.init_schema(engine)
    return AppContext(settings=settings, engine=engine)


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path) -> AppContext:
    """An application context on an empty database, once per available backend."""
    ctx = fresh_app(request.param, tmp_path)
    yield ctx
    ctx.engine.dispose()


@pytest.fixture
def sqlite_app(tmp_path) -> AppContext:
    ctx = fresh_app("sqlite", tmp_path)
    yield ctx
    ctx.engine.dispose()
