"""AppTest fixtures: a temporary SQLite store with an admin and a planner, wired in as the app's context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from src.services import auth
from src.services.context import AppContext, set_app
from src.services.data import load_demo_data
from tests.conftest import ADMIN, fresh_app

APP_FILE = str(Path(__file__).resolve().parents[2] / "src" / "app.py")
PASSWORDS = {"admin": "Secure-Root-Pass1", "pat": "Planner-Pass-77"}


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def ui_app(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    ctx = fresh_app("sqlite", tmp_path)
    auth.ensure_admin(ctx, PASSWORDS["admin"])
    auth.create_user(ctx, ADMIN, username="pat", display_name="Pat Planner", role="planner", password=PASSWORDS["pat"])
    set_app(ctx)
    yield ctx
    set_app(None)
    ctx.engine.dispose()


@contextmanager
def demo_store(tmp_path_factory, name: str) -> Iterator[AppContext]:
    """A SQLite store with the demo data, an admin and the planner ``pat`` — for a module-scoped fixture (loading
    the demo takes seconds, so a page module shares one; tests that change data make their own records)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(auth, "BCRYPT_ROUNDS", 4)
    ctx = fresh_app("sqlite", tmp_path_factory.mktemp(name))
    auth.ensure_admin(ctx, PASSWORDS["admin"])
    auth.create_user(ctx, ADMIN, username="pat", display_name="Pat Planner", role="planner", password=PASSWORDS["pat"])
    load_demo_data(ctx)
    try:
        yield ctx
    finally:
        mp.undo()
        ctx.engine.dispose()


def logged_in(username: str, role: str, timeout: float = 30) -> AppTest:
    """An AppTest whose session is already authenticated (the library's login() is then a no-op)."""
    at = AppTest.from_file(APP_FILE, default_timeout=timeout)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["name"] = username
    at.session_state["roles"] = [role]
    at.session_state["logout"] = None
    return at
