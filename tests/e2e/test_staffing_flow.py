"""A planner builds a staffing plan from the stored workload history, checks a what-if and a shift plan, and
downloads the Excel workbook — the downloaded bytes are opened with openpyxl.

This module starts its own server on its own database (the shared e2e server starts empty) and ingests the
shipped workload sample through the CLI, exactly as an administrator's automation would.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, PASSWORDS, _env, _free_port, login

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def staffing_url(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed")
    tmp = tmp_path_factory.mktemp("e2e_staffing")
    env = _env(tmp)
    run = dict(cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "src.cli", "bootstrap", "--no-demo"], **run)
    subprocess.run([sys.executable, "-m", "src.cli", "users", "add", "pat", "--role", "planner", "--name",
                    "Pat Planner"], **{**run, "env": {**env, "WFP_NEW_PASSWORD": PASSWORDS["pat"]}})
    subprocess.run([sys.executable, "-m", "src.cli", "ingest", "workload",
                    str(ROOT / "data" / "sample" / "workload_sample.csv")], **run)
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
    yield url, Path(env["OUTPUTS_DIR"])
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
