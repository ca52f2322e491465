"""Planner trains a forecast on the demo history, leaves the page while it trains, comes back to the
chart, downloads the CSV and re-forecasts the rest of a day from typed morning volumes. Runs its own server whose store
holds the demo data (the shared e2e server starts empty)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, prepare_store, running_app

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    with running_app(prepare_store(tmp_path_factory.mktemp("e2e_forecast"), demo=True)) as url:
        yield url


def test_planner_trains_forecast_sees_chart_and_downloads_csv(page, demo_url, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    login(page, demo_url, "pat")
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Forecast", exact=True).click()
    expect(page.get_by_role("heading", name="Forecast", exact=True)).to_be_visible(timeout=20_000)
    expect(page.get_by_text("No forecast stored")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Train forecast").click()
    expect(page.get_by_test_id("stStatusWidget").or_(page.get_by_text("Training 1 series"))).to_be_visible(
        timeout=20_000)
    # leave while it trains: the training keeps running and its result is there when we come back
    nav.get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Workforce Planner")).to_be_visible(timeout=20_000)
    nav.get_by_role("link", name="Forecast", exact=True).click()
    expect(page.get_by_text("Trained and stored 1 forecast")).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Measured coverage 95%")).to_be_visible()
    page.screenshot(path=str(SHOTS / "e2e_forecast.png"), full_page=True)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Forecast (CSV)").click()
    target = tmp_path / dl.value.suggested_filename
    dl.value.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:7] == ["series", "ds", "yhat", "yhat_lower_80", "yhat_upper_80", "yhat_lower_95",
                           "yhat_upper_95"]
    assert len(rows) == 1 + 7 * 24 and rows[1][0] == "calls · CC-Berlin"

    # intraday re-forecast: the morning ran hot → the rest of the day goes up
    page.get_by_text("Type or upload today's volumes").click()
    box = page.get_by_label("Today's volumes so far — one interval per line: time,volume")
    expect(box).to_be_visible(timeout=20_000)
    box.fill("08:00,190\n09:00,260\n10:00,290\n11:00,280")
    page.get_by_role("button", name="Re-forecast the rest of the day").click()
    expect(page.get_by_text("Factor for the rest of the day")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("button", name="Re-forecast (CSV)")).to_be_visible()
    page.get_by_role("button", name="Re-forecast (CSV)").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "e2e_forecast_intraday.png"), full_page=True)
