"""REST API fixtures: a temporary store, users, tokens per role and a TestClient."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from src.api import security
from src.api.app import create_app
from src.services import auth, tokens
from src.services.context import set_app
from tests.conftest import ADMIN, fresh_app


@pytest.fixture
def api_app(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    monkeypatch.setattr(security, "limiter", security.FailedAuthLimiter())
    ctx = fresh_app("sqlite", tmp_path)
    auth.ensure_admin(ctx, "Secure-Root-Pass1")
    auth.create_user(ctx, ADMIN, username="pat", display_name="Pat", role="planner", password="Planner-Pass-77")
    set_app(ctx)
    yield ctx
    set_app(None)
    ctx.engine.dispose()


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


@pytest.fixture(scope="module")
def demo_api(tmp_path_factory):
    """The demo data loaded once per test module (SQLite), users admin + pat, a token each, a TestClient.

    Tests sharing it must not depend on each other's writes (use fresh requests/previews)."""
    from src.services.data import load_demo_data

    mp = pytest.MonkeyPatch()
    mp.setattr(auth, "BCRYPT_ROUNDS", 4)
    ctx = fresh_app("sqlite", tmp_path_factory.mktemp("demo_api"))
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
    """A new failed-auth limiter per test, so 401 tests never push later tests into 429."""
    monkeypatch.setattr(security, "limiter", security.FailedAuthLimiter())
