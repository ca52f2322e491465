"""Planner: create open tasks → preview → override one task with a reason → finalize (real browser).

Starts its own server on a store with the demo data and a trained ranker (the shared e2e server is empty)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, cli, login, open_page, prepare_store, running_app

pytestmark = pytest.mark.e2e
SHOTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def people_url(tmp_path_factory):
    env = prepare_store(tmp_path_factory.mktemp("e2e_people"), demo=True)
    cli(env, "train-ranker", "--json")
    with running_app(env) as url:
        yield url


def _idle(page) -> None:
    """Streamlit's own wait: let a rerun start, then wait until the script has finished."""
    page.wait_for_timeout(300)
    expect(page.locator("[data-testid=stApp][data-test-script-state=notRunning]")).to_have_count(1, timeout=30_000)


def test_preview_override_finalize(page, people_url):
    SHOTS.mkdir(exist_ok=True)
    login(page, people_url, "pat")
    open_page(page, "Assignment", "Assignment")

    page.get_by_role("tab", name="Open tasks").click()
    page.get_by_role("button", name="Create tasks").click()
    expect(page.get_by_text("Created").first).to_be_visible(timeout=30_000)

    page.get_by_role("tab", name="Preview & finalize").click()
    page.get_by_role("button", name="Preview assignments").click()
    expect(page.get_by_role("heading", name="Preview 1")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Methods compared on the same tasks and scores")).to_be_visible()
    _idle(page)
    page.get_by_role("heading", name="Preview 1").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "e2e_assignment_compare.png"))

    assign_to = page.get_by_test_id("stSelectbox").filter(has_text="Assign to")
    expect(assign_to).to_be_visible(timeout=30_000)
    option = page.get_by_role("option").nth(1)
    for _ in range(5):  # the list can close again when a rerun lands right after the click
        assign_to.locator("input").click()
        try:
            option.wait_for(timeout=3_000)
            break
        except Exception:  # noqa: BLE001
            page.keyboard.press("Escape")
    option.click()
    expect(assign_to).not_to_contain_text("(leave unassigned)")
    page.get_by_label("Reason (required, kept in the audit log)").fill("knows the resident")
    page.get_by_role("button", name="Override").click()
    overrides = page.get_by_test_id("stMetric").filter(has_text="Overrides").get_by_test_id("stMetricValue")
    expect(overrides).to_have_text("1", timeout=30_000)
    _idle(page)
    page.screenshot(path=str(SHOTS / "e2e_assignment_preview.png"), full_page=True)

    page.get_by_role("button", name="Finalize").click()
    expect(page.get_by_text("Finalized preview 1").first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Finalize")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "e2e_assignment_finalized.png"), full_page=True)


def test_admin_sees_ranking_model(page, people_url):
    login(page, people_url, "admin")
    page.goto(people_url + "/ranking-model")  # deep link: the admin menu is long and folds its tail away
    expect(page.get_by_role("heading", name="Ranking model")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Calibration on the newest (test) tasks")).to_be_visible(timeout=20_000)
    page.screenshot(path=str(SHOTS / "e2e_ranking_model.png"), full_page=True)
