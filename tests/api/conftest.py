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
