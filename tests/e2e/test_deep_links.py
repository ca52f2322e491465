"""Deep links on a freshly started server: Streamlit's legacy page-folder mode must not run or list page files.

Until a process's first ``st.navigation`` call, Streamlit runs a requested file of ``src/pages/`` on its own and
lists every page file in the sidebar. Each test here starts its own server so the deep link is its first request.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORDS, open_page, running_app, wait_idle

pytestmark = pytest.mark.e2e


def _sign_in_on_the_form(page, username: str) -> None:
    """Log in on the form the deep link shows (conftest's login() opens the root address first)."""
    expect(page.get_by_label("Username").first).to_be_visible(timeout=30_000)
    wait_idle(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("path", ["users", "audit"])
def test_anonymous_deep_link_first_shows_only_the_login(page, server_env, path):
    with running_app(server_env) as url:
        page.goto(f"{url}/{path}")
        expect(page.get_by_label("Username").first).to_be_visible(timeout=30_000)
        wait_idle(page)
        # the page file's own guard ("Please log in.") never ran, nor did anything of the page
        expect(page.get_by_text("Please log in.")).to_have_count(0)
        expect(page.get_by_text("does not seem to exist")).to_have_count(0)  # no dialog over the login form
        expect(page.get_by_role("heading", name="Users")).to_have_count(0)
        expect(page.get_by_role("heading", name="Audit log")).to_have_count(0)
        # no page is listed before login: neither the page files nor the app's navigation
        expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
        expect(page.get_by_role("link", name="users")).to_have_count(0)


def test_signed_in_deep_link_on_a_fresh_server_opens_the_page_through_the_router(page, server_env):
    outside: list[str] = []  # the app must work offline: no request may leave the server (favicons were fetched
    page.on("request", lambda r: outside.append(r.url)  # from Google's font CDN on every page change)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    with running_app(server_env) as url:
        page.goto(f"{url}/users")
        _sign_in_on_the_form(page, "admin")
        expect(page.get_by_role("heading", name="Users")).to_be_visible(timeout=30_000)
        wait_idle(page)
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav.get_by_role("link", name="Audit log", exact=True)).to_be_visible()
        # tables hold user text (names): Streamlit's own CSV export would write it unneutralised, so it is off
        page.get_by_test_id("stDataFrame").first.hover()
        expect(page.get_by_test_id("stElementToolbar").first).to_be_attached()
        expect(page.get_by_role("button", name="Download as CSV")).to_have_count(0)
        # the router's titles, not the file names of the legacy listing
        expect(nav.get_by_role("link", name="overtime_rankings")).to_have_count(0)
        open_page(page, "Audit log", "Audit log")
        open_page(page, "Home", "Workforce Planner")
        assert outside == []


def test_planner_typing_an_admin_address_reads_not_available_for_the_role(page, server_env):
    with running_app(server_env) as url:
        page.goto(f"{url}/audit")
        _sign_in_on_the_form(page, "pat")
        expect(page.get_by_text("is not available for your role (planner)")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("does not seem to exist")).to_have_count(0)
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav.get_by_role("link", name="Staffing", exact=True)).to_be_visible()
        expect(nav.get_by_role("link", name="Audit log", exact=True)).to_have_count(0)
        expect(page.get_by_role("columnheader", name="Action")).to_have_count(0)  # nothing of the audit page ran
