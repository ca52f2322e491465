"""A planner builds a staffing plan from the stored workload history, checks a what-if and a shift plan, and
downloads the Excel workbook — the downloaded bytes are opened with openpyxl.

This module starts its own server on its own database (the shared e2e server starts empty) and ingests the
shipped workload sample through the CLI, exactly as an administrator's automation would.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import cli, login, prepare_store, running_app

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
    expect(page.get_by_text("Workload history: average of")).to_be_visible(timeout=30_000)
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
    assert headers[0] == "queue"
    queues = {summary.cell(row=r, column=1).value for r in range(2, summary.max_row + 1)}
    assert {"calls", "emails"} <= queues
    hours_col = headers.index("agent_hours") + 1
    total = sum(summary.cell(row=r, column=hours_col).value or 0 for r in range(2, summary.max_row + 1))
    assert abs(total - base_hours) <= 1.0  # the workbook holds the numbers the page showed
    iv = wb["Intervals"]
    assert iv.freeze_panes == "A2"
    assert wb["Shift plan"]._charts, "a native Excel chart on the shift-plan sheet"
    assert list(outputs.glob("staffing_plan_*.xlsx")), "a timestamped copy is kept under outputs/"
