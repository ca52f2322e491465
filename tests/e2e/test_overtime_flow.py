"""Overtime in a real browser: request coverage → ranked list → record an acceptance → the fairness report changes
(once its day covers today: new activity does not move it).

Starts its own server on a demo-loaded database (the shared e2e server starts empty), so the rankings and the
fairness report have a year of overtime history to work with.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, login, open_page, prepare_store, running_app, wait_idle

pytestmark = pytest.mark.e2e
SHOTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    env = prepare_store(tmp_path_factory.mktemp("e2e_overtime"), demo=True)
    with running_app(env) as url:
        yield url


def _metric(page, label: str) -> str:
    value = page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")
    expect(value).to_be_visible(timeout=30_000)
    return value.inner_text()


def _settled(page) -> None:
    """Wait until the app finished its rerun (Streamlit's own e2e helper does the same)."""
    wait_idle(page)


def _hours(text: str) -> float:
    return float(text.replace(",", "").replace(" h", ""))


def test_request_coverage_record_acceptance_and_fairness_changes(page, demo_url):
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 2400})  # the app scrolls inside: tall pages for screenshots
    login(page, demo_url, "pat")
    open_page(page, "Overtime", "Overtime")
    expect(page.get_by_role("heading", name="Recent requests")).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SHOTS / "e2e_overtime_dashboard.png"), full_page=True)

    # the Fairness report's day before anything is recorded: the last day of the uploaded history
    open_page(page, "Fairness report", "Fairness report")
    expect(page.get_by_text("the default: the last day of the uploaded overtime history")).to_be_visible()
    default_hours = _hours(_metric(page, "Hours worked"))

    open_page(page, "Live rankings", "Live rankings")
    page.get_by_role("button", name="Rank staff").click()
    request_button = page.get_by_role("button", name="Request coverage")
    expect(request_button).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Excluded staff")).to_be_visible()
    page.screenshot(path=str(SHOTS / "e2e_overtime_rankings.png"), full_page=True)
    request_button.click()
    expect(page.get_by_role("heading", name="Coverage request OTR-000001")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Ranked contact list")).to_be_visible()
    headline = page.get_by_text(re.compile(r" shift on .* · [\d.]+ h · status")).inner_text()
    shift_hours = float(re.search(r" · ([\d.]+) h · status", headline).group(1))  # the next shift's length
    _settled(page)
    # #13.15: the dropdown of people has no "Select all" row; offering to everyone is a separate, counted box
    people = page.get_by_test_id("stMultiSelect").filter(has_text="People to offer the shift to")
    people.locator("input").click()
    expect(page.get_by_role("option").first).to_be_visible(timeout=10_000)
    expect(page.get_by_role("option", name=re.compile(r"^Select (all|\d+ matches)"))).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page.get_by_text(re.compile(r"^Offer it to all \d+ people not contacted yet$"))).to_be_visible()
    page.get_by_role("button", name="Record contact").click()
    expect(page.get_by_text("Recorded 1 contact(s) for OTR-000001")).to_be_visible(timeout=30_000)
    _settled(page)

    # #13.3: the request and its offer do not move the report's day or its numbers; the page says what is left out
    open_page(page, "Fairness report", "Fairness report")
    assert _hours(_metric(page, "Hours worked")) == default_hours
    expect(page.get_by_text(re.compile(r"^1 offer\(s\) made after "))).to_be_visible()
    page.get_by_role("button", name="Count up to today").click()
    expect(page.get_by_text(re.compile(r"— chosen \(default: the last day"))).to_be_visible(timeout=30_000)
    _settled(page)
    before = _hours(_metric(page, "Hours worked"))

    open_page(page, "Live rankings", "Live rankings")
    expect(page.get_by_role("heading", name="Coverage request OTR-000001")).to_be_visible(timeout=30_000)
    _settled(page)
    page.get_by_role("button", name="Record answer").click()  # "Accepted" is the default answer
    expect(page.get_by_text("OTR-000001 is filled.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("filled by")).to_be_visible()
    page.screenshot(path=str(SHOTS / "e2e_overtime_filled.png"), full_page=True)

    open_page(page, "Fairness report", "Fairness report")  # the session keeps "today"
    expect(page.get_by_test_id("stMetric").filter(has_text="Hours worked").get_by_test_id("stMetricValue")) \
        .not_to_have_text(f"{before:,.1f} h", timeout=30_000)
    after = _hours(_metric(page, "Hours worked"))
    assert after == pytest.approx(before + shift_hours)  # the accepted shift (8 or 9 h in the demo)
    page.screenshot(path=str(SHOTS / "e2e_overtime_fairness.png"), full_page=True)

    open_page(page, "Staff detail", "Staff detail")
    expect(page.get_by_role("heading", name="Recent overtime shifts")).to_be_visible(timeout=30_000)
    page.screenshot(path=str(SHOTS / "e2e_overtime_staff.png"), full_page=True)

    # a manager records the best-ranked person as sick on the shift day: the next ranking excludes them
    open_page(page, "Live rankings", "Live rankings")
    page.get_by_role("button", name="Close this request panel").click()
    _settled(page)
    page.get_by_role("button", name="Rank staff").click()
    expect(page.get_by_role("button", name="Request coverage")).to_be_visible(timeout=30_000)
    first = page.locator("g.ytick text").filter(has_text=re.compile(r"^1\. "))  # plotly axis label of rank 1
    expect(first).to_be_attached(timeout=30_000)
    name = first.text_content().split(". ", 1)[1].strip()
    excluded_before = int(_metric(page, "Excluded"))
    page.get_by_text("Absences on").click()
    who = page.get_by_test_id("stSelectbox").filter(has_text="Person")
    box = who.locator("input")
    for _ in range(3):  # a click that lands during a rerun can leave the dropdown closed: retry
        box.click()
        page.keyboard.type(name)
        page.keyboard.press("Enter")
        try:
            expect(box).to_have_value(re.compile(rf" · {re.escape(name)}$"), timeout=5_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
            wait_idle(page)
    expect(box).to_have_value(re.compile(rf" · {re.escape(name)}$"))
    page.get_by_role("button", name="Record absence").click()
    expect(page.get_by_text("Recorded:")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"{name} (")).to_be_visible()
    page.get_by_role("button", name="Rank staff").click()
    expect(page.get_by_test_id("stMetric").filter(has_text="Excluded").get_by_test_id("stMetricValue")) \
        .to_have_text(str(excluded_before + 1), timeout=30_000)
    expect(page.locator("g.ytick text").filter(has_text=re.compile(rf"^\d+\. {re.escape(name)}$"))).to_have_count(0)
    page.screenshot(path=str(SHOTS / "e2e_overtime_absence.png"), full_page=True)
