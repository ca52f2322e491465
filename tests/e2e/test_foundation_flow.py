"""Admin uploads a sample CSV, sees it on Home, logs out; a planner has no Data/Users pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, open_page, wait_idle

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts"


def _sample(kind: str) -> Path:
    files = sorted((ROOT / "data" / "sample").glob(f"{kind}*.csv"))
    assert files, f"no {kind} sample CSV shipped"
    return files[0]


def test_admin_uploads_sample_and_sees_it_on_home(page, app_url):
    SHOTS.mkdir(exist_ok=True)
    login(page, app_url, "admin")
    open_page(page, "Data", "Data")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(_sample("unit_shifts")))
    page.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name="Unit shifts (care homes)").click()
    store = page.get_by_role("button", name="Store")
    expect(store).to_be_visible(timeout=30_000)
    store.click()
    expect(page.get_by_text("Stored").first).to_be_visible(timeout=30_000)
    open_page(page, "Home", "Loaded data")
    rows = len(_sample("unit_shifts").read_bytes().splitlines()) - 1
    expect(page.get_by_test_id("stMetricValue").filter(has_text=f"{rows:,}")).to_be_visible()
    page.screenshot(path=str(SHOTS / "e2e_home_after_upload.png"), full_page=True)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("Username")).to_be_visible(timeout=20_000)


def test_broken_upload_shows_report(page, app_url, tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_bytes("timestamp;queue;volume\n2025-03-03 08:00;calls;12\n2025-03-03 09:00;calls;-4\n"
                    "03/04/2025 10:00;calls;zwölf\n".encode())
    login(page, app_url, "admin")
    open_page(page, "Data", "Data")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(bad))
    expect(page.get_by_role("heading", name="Validation report")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Store")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "e2e_validation_report.png"), full_page=True)


def test_planner_has_no_admin_pages(page, app_url):
    login(page, app_url, "pat")
    expect(page.get_by_text("· planner")).to_be_visible()
    # the navigation is drawn (so the absence checks below cannot pass before it renders)
    expect(page.get_by_role("link", name="Staffing", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_role("link", name="Data")).to_have_count(0)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    page.goto(app_url + "/users")  # deep link to a page the role does not have
    expect(page.get_by_text("is not available for your role (planner)")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("tab", name="Add user")).to_have_count(0)  # nothing of the Users page ran


def test_anonymous_visitor_sees_only_the_login_form(page, app_url):
    page.goto(app_url + "/data")
    expect(page.get_by_label("Username")).to_be_visible(timeout=30_000)
    wait_idle(page)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_role("link", name="Data")).to_have_count(0)
    expect(page.get_by_role("heading", name="Data")).to_have_count(0)
