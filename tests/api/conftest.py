"""REST API fixtures: a temporary store, users, tokens per role and a TestClient.

Every store-backed fixture runs once per backend of ``tests.conftest.BACKENDS``: SQLite always, PostgreSQL too
when ``TEST_DATABASE_URL`` is set. The API is where values from outside (path ids, dates with offsets, free
text) reach the database, and PostgreSQL is stricter than SQLite about them (32-bit integer keys, string
lengths, types): what passes on SQLite alone may be a 500 in production.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from src.api import security
from src.api.app import create_app
from src.services import auth, tokens
from src.services.context import set_app
from tests.conftest import ADMIN, BACKENDS, fresh_app


@pytest.fixture
def api_app(app, monkeypatch):
    """The shared empty store of ``tests/conftest.py`` (one per backend) with users admin + pat, served by the API."""
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    monkeypatch.setattr(security, "limiter", security.FailedAuthLimiter(since=time.time()))
    auth.ensure_admin(app, "Secure-Root-Pass1")
    auth.create_user(app, ADMIN, username="pat", display_name="Pat", role="planner", password="Planner-Pass-77")
    set_app(app)
    yield app
    set_app(None)


@pytest.fixture
def client(api_app) -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


@pytest.fixture
def admin_token(api_app) -> str:
    return tokens.create_token(api_app, ADMIN, owner="admin", role="admin", name="ci admin")


@pytest.fixture
def planner_token(api_app) -> str:
    return tokens.create_token(api_app, ADMIN, owner="pat", role="planner", name="ci planner")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class DemoApi:
    """A demo-data store shared by one test module: context, client and one token per role."""

    def __init__(self, ctx, client: TestClient, admin: str, planner: str) -> None:
        self.ctx, self.client, self.admin, self.planner = ctx, client, admin, planner

    def headers(self, role: str) -> dict[str, str]:
        return bearer(self.admin if role == "admin" else self.planner)


@pytest.fixture(scope="module", params=BACKENDS)
def demo_backend(request) -> str:
    """The backend ``demo_api`` runs on: each of BACKENDS. A module overrides this fixture to pin one backend
    (test_schemathesis.py: SQLite only)."""
    return request.param


@pytest.fixture(scope="module")
def demo_api(demo_backend, tmp_path_factory):
    """The demo data loaded once per test module and backend, users admin + pat, a token each, a TestClient.

    Tests sharing it must not depend on each other's writes (use fresh requests/previews)."""
    from src.services.data import load_demo_data

    mp = pytest.MonkeyPatch()
    mp.setattr(auth, "BCRYPT_ROUNDS", 4)
    ctx = fresh_app(demo_backend, tmp_path_factory.mktemp("demo_api"))
    load_demo_data(ctx)
    auth.ensure_admin(ctx, "Secure-Root-Pass1")
    auth.create_user(ctx, ADMIN, username="pat", display_name="Pat", role="planner", password="Planner-Pass-77")
    admin = tokens.create_token(ctx, ADMIN, owner="admin", role="admin", name="ci admin")
    planner = tokens.create_token(ctx, ADMIN, owner="pat", role="planner", name="ci planner")
    set_app(ctx)
    yield DemoApi(ctx, TestClient(create_app(), raise_server_exceptions=False), admin, planner)
    set_app(None)
    ctx.engine.dispose()
    mp.undo()


@pytest.fixture
def fresh_limiter(monkeypatch):
    """A new failed-auth limiter per test, so 401 tests never push later tests into 429 (the failures are kept in
    the database, shared by the module's tests: the new limiter ignores those recorded before it)."""
    monkeypatch.setattr(security, "limiter", security.FailedAuthLimiter(since=time.time()))
