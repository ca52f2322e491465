"""A planner builds a staffing plan from the stored workload history, checks a what-if and a shift plan, and
downloads the Excel workbook — the downloaded bytes are opened with openpyxl.

This module starts its own server on its own database (the shared e2e server starts empty) and ingests the
shipped workload sample through the CLI, exactly as an administrator's automation would.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from src.models.capacity.staffing import WORKBOOK_HEADERS
from tests.e2e.conftest import cli, login, open_page, prepare_store, running_app, wait_idle

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def staffing_url(tmp_path_factory):
    env = prepare_store(tmp_path_factory.mktemp("e2e_staffing"), demo=False)
    cli(env, "ingest", "workload", str(ROOT / "data" / "sample" / "workload_sample.csv"))
    with running_app(env) as url:
        yield url, Path(env["OUTPUTS_DIR"])


def test_planner_builds_plan_from_history_and_downloads_excel(page, staffing_url, tmp_path):
    url, outputs = staffing_url
    SHOTS.mkdir(exist_ok=True)
    login(page, url, "pat")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Staffing").click()
    expect(page.get_by_role("heading", name="Staffing", exact=True)).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Load volume").click()
    expect(page.get_by_text("Workload history: average of").filter(visible=True)).to_be_visible(timeout=30_000)
    hours = page.get_by_test_id("stMetric").filter(has_text="Agent hours").get_by_test_id("stMetricValue")
    expect(hours).to_be_visible(timeout=30_000)
    base_hours = float(hours.inner_text().replace(",", ""))
    assert base_hours > 0

    # shift plan for the calls queue
    page.get_by_role("tab", name="Shift plan").click()
    page.get_by_role("button", name="Build shift plan").click()
    paid = page.get_by_test_id("stMetric").filter(has_text="Paid hours").get_by_test_id("stMetricValue")
    expect(paid).to_be_visible(timeout=60_000)
    assert float(paid.inner_text().replace(",", "")) > 0
    page.screenshot(path=str(SHOTS / "e2e_staffing_plan.png"), full_page=True)

    with page.expect_download(timeout=60_000) as dl_info:
        page.get_by_role("button", name="Download Excel workbook").click()
    download = dl_info.value
    assert download.suggested_filename.endswith(".xlsx")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    wb = load_workbook(io.BytesIO(target.read_bytes()))
    assert {"Summary", "Intervals", "Daily", "Shift plan", "Shift starts", "Parameters", "Info"} <= set(wb.sheetnames)
    summary = wb["Summary"]
    headers = [c.value for c in summary[1]]
    assert headers[0] == "Queue"
    queues = {summary.cell(row=r, column=1).value for r in range(2, summary.max_row + 1)}
    assert {"calls", "emails"} <= queues
    hours_col = headers.index("Agent hours to schedule (after shrinkage)") + 1
    total = sum(summary.cell(row=r, column=hours_col).value or 0 for r in range(2, summary.max_row + 1))
    assert abs(total - base_hours) <= 1.0  # the workbook holds the numbers the page showed
    iv = wb["Intervals"]
    assert iv.freeze_panes == "A2"
    assert wb["Shift plan"]._charts, "a native Excel chart on the shift-plan sheet"
    assert list(outputs.glob("staffing_plan_*.xlsx")), "a timestamped copy is kept under outputs/"


def test_saved_plan_opens_in_a_fresh_session_with_its_quality_columns(page, staffing_url, tmp_path):
    """A planner saves a plan; a new session with no live inputs opens it on the Saved plans tab and downloads it
    again — the workbook keeps P(wait) and the e-mail backlog of every interval."""
    url, _ = staffing_url
    login(page, url, "pat")
    open_page(page, "Staffing", "Staffing")
    page.get_by_role("button", name="Load volume").click()
    expect(page.get_by_text("Workload history: average of").filter(visible=True)).to_be_visible(timeout=30_000)
    page.get_by_label("Plan name").fill("E2E saved week")
    page.get_by_role("button", name="Save plan").click()
    expect(page.get_by_text("Saved as plan #")).to_be_visible(timeout=30_000)

    fresh = page.context.new_page()  # same login cookie, a new Streamlit session: nothing loaded
    fresh.goto(f"{url}/staffing")
    expect(fresh.get_by_role("heading", name="Staffing", exact=True)).to_be_visible(timeout=30_000)
    wait_idle(fresh)
    fresh.get_by_role("tab", name="Saved plans").click()
    # the newest plan is opened at once (the list itself is a canvas grid: read the picker instead)
    expect(fresh.get_by_role("combobox", name="Open a saved plan")).to_have_value(re.compile(r"#\d+ E2E saved week"),
                                                                                  timeout=30_000)
    expect(fresh.get_by_text("Agent hours (after shrinkage)")).to_have_count(0)  # no live plan in this session
    SHOTS.mkdir(exist_ok=True)
    fresh.screenshot(path=str(SHOTS / "e2e_staffing_saved_plans.png"), full_page=True)
    with fresh.expect_download(timeout=60_000) as dl_info:
        fresh.get_by_role("button", name="Download Excel workbook").click()
    target = tmp_path / dl_info.value.suggested_filename
    dl_info.value.save_as(target)
    assert target.name.startswith("staffing_plan_") and "E2E_saved_week" in target.name
    wb = load_workbook(io.BytesIO(target.read_bytes()))
    iv = wb["Intervals"]
    head = [c.value for c in iv[1]]
    label = WORKBOOK_HEADERS["Intervals"]
    cols = {name: [iv.cell(row=r, column=head.index(label[name]) + 1).value for r in range(2, iv.max_row + 1)]
            for name in ("queue", "p_wait", "backlog_hours")}
    calls = [w for q, w in zip(cols["queue"], cols["p_wait"], strict=True) if q == "calls"]
    emails = [b for q, b in zip(cols["queue"], cols["backlog_hours"], strict=True) if q == "emails"]
    assert calls and all(w is not None for w in calls), "P(wait) of every voice interval is in the re-export"
    assert emails and all(b is not None for b in emails), "the e-mail backlog is in the re-export"
