"""Router and login: role → pages, the real login form, lock-out, and page guards."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from src.data import store
from src.ui.router import PAGES
from tests.app.conftest import APP_FILE, PASSWORDS, logged_in

# generated from the router's table, so a new page is covered without editing this file
ALL_PAGES = [f"pages/{spec.file}" for spec in PAGES]
ADMIN_PAGES = [f"pages/{spec.file}" for spec in PAGES if "planner" not in spec.roles]
PLANNER_PAGES = [f"pages/{spec.file}" for spec in PAGES if "planner" in spec.roles]


def test_the_page_table_names_every_page_file():
    files = {p.name for p in (Path(APP_FILE).parent / "pages").glob("*.py")}
    assert files == {spec.file for spec in PAGES}
    assert "pages/ranking_model.py" in ADMIN_PAGES  # the admin-only page the hand-written list missed


def _login(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()


def test_anonymous_sees_only_the_login_form(ui_app):
    at = AppTest.from_file(APP_FILE, default_timeout=30).run()
    assert not at.exception
    assert len(at.text_input) == 2
    assert not at.session_state["authentication_status"]


def test_login_with_the_form_and_wrong_password(ui_app):
    at = AppTest.from_file(APP_FILE, default_timeout=30).run()
    _login(at, "pat", "wrong-password")
    assert not at.exception
    assert any("incorrect" in e.value for e in at.error)
    _login(at, "pat", PASSWORDS["pat"])
    assert not at.exception
    assert at.session_state["authentication_status"] is True
    assert at.title[0].value == "Workforce Planner"
    events = store.audit_events(ui_app.engine, action="auth.login")
    assert sorted(events["outcome"]) == ["failed", "ok"]


def test_lockout_blocks_the_correct_password(ui_app):
    at = AppTest.from_file(APP_FILE, default_timeout=30).run()
    for _ in range(ui_app.settings.login_max_failures):
        _login(at, "pat", "nope-nope")
    _login(at, "pat", PASSWORDS["pat"])
    assert not at.exception
    assert not at.session_state["authentication_status"]
    assert any("Too many failed logins" in e.value for e in at.error)


@pytest.mark.parametrize("page", ALL_PAGES)
def test_admin_opens_every_page_without_exception(ui_app, page):
    at = logged_in("admin", "admin").run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title[0].value


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_planner_cannot_reach_admin_pages(ui_app, page):
    at = logged_in("pat", "planner").run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find"):
        at.switch_page(page).run()


@pytest.mark.parametrize("page", PLANNER_PAGES)
def test_planner_opens_every_planner_page_without_exception(ui_app, page):
    at = logged_in("pat", "planner").run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title[0].value


def test_planner_home(ui_app):
    at = logged_in("pat", "planner").run()
    assert not at.exception
    assert at.title[0].value == "Workforce Planner"
    assert "pat" in at.sidebar.markdown[0].value


def test_disabled_user_session_is_refused(ui_app):
    from src.services import auth
    from tests.conftest import ADMIN

    auth.set_disabled(ui_app, ADMIN, "pat", True)
    at = logged_in("pat", "planner").run()
    assert not at.exception
    assert any("disabled" in e.value for e in at.error)


def test_anonymous_session_registers_only_the_sign_in_page(ui_app):
    """No fallback to Streamlit's legacy src/pages/ listing: every page file is unreachable before login."""
    at = AppTest.from_file(APP_FILE, default_timeout=30).run()
    for page in ALL_PAGES:
        with pytest.raises(ValueError, match="Could not find"):
            at.switch_page(page).run()


@pytest.mark.parametrize("error, expected", [
    ("config", "The app is not configured yet: APP_COOKIE_KEY is missing"),
    ("database", "The database cannot be opened (OperationalError)"),
])
def test_missing_setup_is_explained_instead_of_a_redacted_crash(monkeypatch, error, expected):
    from sqlalchemy.exc import OperationalError

    from src.services import context
    from src.settings import ConfigError

    def broken(settings=None):
        if error == "config":
            raise ConfigError("APP_COOKIE_KEY is missing. Run `make run` once.")
        raise OperationalError("connect", {}, Exception("could not connect to server db.internal:5432"))

    context.set_app(None)
    monkeypatch.setattr(context, "build_app", broken)
    at = AppTest.from_file(APP_FILE, default_timeout=30).run()
    assert not at.exception
    assert any(expected in e.value for e in at.error)
    assert not any("db.internal" in e.value for e in at.error)
    assert not at.text_input  # no login form
