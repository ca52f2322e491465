"""Overtime in a real browser: request coverage → ranked list → record an acceptance → the fairness report changes.

Starts its own server on a demo-loaded database (the shared e2e server starts empty), so the rankings and the
fairness report have a year of overtime history to work with.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, PASSWORDS, ROOT, _env, _free_port, login

pytestmark = pytest.mark.e2e
SHOTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed")
    tmp = tmp_path_factory.mktemp("e2e_overtime")
    env = _env(tmp)
    subprocess.run([sys.executable, "-m", "src.cli", "bootstrap"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # loads the demo data
    subprocess.run([sys.executable, "-m", "src.cli", "users", "add", "pat", "--role", "planner", "--name",
                    "Pat Planner"], cwd=ROOT, env={**env, "WFP_NEW_PASSWORD": PASSWORDS["pat"]}, check=True,
                   capture_output=True)
    port = _free_port()
    log = open(tmp / "streamlit.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "src/app.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not start")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _metric(page, label: str) -> str:
    value = page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")
    expect(value).to_be_visible(timeout=30_000)
    return value.inner_text()


def _settled(page) -> None:
    """Wait until the app finished its rerun (Streamlit's own e2e helper does the same)."""
    page.wait_for_timeout(250)
    expect(page.locator("[data-testid=stApp][data-test-script-state=notRunning]")).to_have_count(1, timeout=30_000)


def _hours(text: str) -> float:
    return float(text.replace(",", "").replace(" h", ""))


def test_request_coverage_record_acceptance_and_fairness_changes(page, demo_url):
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 2400})  # the app scrolls inside: tall pages for screenshots
    login(page, demo_url, "pat")
    nav = page.get_by_test_id("stSidebarNav")

    nav.get_by_role("link", name="Overtime", exact=True).click()
    expect(page.get_by_role("heading", name="Recent requests")).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SHOTS / "e2e_overtime_dashboard.png"), full_page=True)

    nav.get_by_role("link", name="Live rankings").click()
    _settled(page)
    page.get_by_role("button", name="Rank staff").click()
    request_button = page.get_by_role("button", name="Request coverage")
    expect(request_button).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Excluded staff")).to_be_visible()
    page.screenshot(path=str(SHOTS / "e2e_overtime_rankings.png"), full_page=True)
    request_button.click()
    expect(page.get_by_role("heading", name="Coverage request OTR-000001")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Ranked contact list")).to_be_visible()

    nav.get_by_role("link", name="Fairness report").click()
    before = _hours(_metric(page, "Hours worked"))

    nav.get_by_role("link", name="Live rankings").click()
    expect(page.get_by_role("heading", name="Coverage request OTR-000001")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Record contact").click()
    expect(page.get_by_text("Recorded 1 contact(s) for OTR-000001")).to_be_visible(timeout=30_000)
    _settled(page)
    page.get_by_role("button", name="Record answer").click()  # "Accepted" is the default answer
    expect(page.get_by_text("OTR-000001 is filled.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("filled by")).to_be_visible()
    page.screenshot(path=str(SHOTS / "e2e_overtime_filled.png"), full_page=True)

    nav.get_by_role("link", name="Fairness report").click()
    expect(page.get_by_test_id("stMetric").filter(has_text="Hours worked").get_by_test_id("stMetricValue")) \
        .not_to_have_text(f"{before:,.1f} h", timeout=30_000)
    after = _hours(_metric(page, "Hours worked"))
    assert after == pytest.approx(before + 8.0)  # the accepted early shift (8 h, the demo's typical length)
    page.screenshot(path=str(SHOTS / "e2e_overtime_fairness.png"), full_page=True)

    nav.get_by_role("link", name="Staff detail").click()
    expect(page.get_by_role("heading", name="Recent overtime shifts")).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SHOTS / "e2e_overtime_staff.png"), full_page=True)

    # a manager records the best-ranked person as sick on the shift day: the next ranking excludes them
    nav.get_by_role("link", name="Live rankings").click()
    page.get_by_role("button", name="Close this request panel").click()
    _settled(page)
    page.get_by_role("button", name="Rank staff").click()
    expect(page.get_by_role("button", name="Request coverage")).to_be_visible(timeout=30_000)
    first = page.locator("text.ytick text, g.ytick text").filter(has_text="1. ").first  # plotly axis label
    expect(first).to_be_attached(timeout=30_000)
    name = first.text_content().split(". ", 1)[1].strip()
    excluded_before = int(_metric(page, "Excluded"))
    page.get_by_text("Absences on").click()
    who = page.get_by_test_id("stSelectbox").filter(has_text="Person")
    who.click()
    page.keyboard.type(name)
    page.get_by_role("option").filter(has_text=name).first.click()
    page.get_by_role("button", name="Record absence").click()
    expect(page.get_by_text("Recorded:")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"{name} (")).to_be_visible()
    page.get_by_role("button", name="Rank staff").click()
    expect(page.get_by_test_id("stMetric").filter(has_text="Excluded").get_by_test_id("stMetricValue")) \
        .to_have_text(str(excluded_before + 1), timeout=30_000)
    expect(page.locator("g.ytick text").filter(has_text=f". {name}")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "e2e_overtime_absence.png"), full_page=True)
