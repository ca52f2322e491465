"""REST API end to end: an admin creates a token on the Users page (browser), another system uses it against the
real server (`python -m src.api`), the admin revokes it and the server refuses it at once."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _free_port, login, open_page, wait_idle

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def api_url(server_env):
    port = _free_port()
    log = open(Path(server_env["OUTPUTS_DIR"]).parent / "api.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "src.api", "--port", str(port)], cwd=ROOT, env=server_env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).json() == {"status": "ok"}:
                break
        except (httpx.HTTPError, ValueError):
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the API server did not start")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _users_token_tab(page, app_url):
    login(page, app_url, "admin")
    open_page(page, "Users", "Users")
    page.get_by_role("tab", name="API tokens").click()


def test_token_from_users_page_drives_the_api_until_revoked(page, app_url, api_url):
    SHOTS.mkdir(exist_ok=True)
    _users_token_tab(page, app_url)
    page.get_by_label("Token name").fill("e2e telephony")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("shown only this once")).to_be_visible(timeout=20_000)
    token = page.get_by_test_id("stCode").first.inner_text().strip()
    assert re.fullmatch(r"wfp_[A-Za-z0-9_-]{40,}", token), token
    page.screenshot(path=str(SHOTS / "e2e_api_token_created.png"), full_page=True)

    h = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{api_url}/status").status_code == 401
    status = httpx.get(f"{api_url}/status", headers=h)
    assert status.status_code == 200 and status.json()["database"] == "sqlite"
    r = httpx.post(f"{api_url}/api/v1/staffing", headers=h,
                   json={"interval": {"calls": 100, "aht_seconds": 180, "interval_seconds": 1800}})
    assert r.status_code == 200 and r.json()["calculator"]["requirement"]["agents"] == 14
    r = httpx.post(f"{api_url}/api/v1/staffing?format=xlsx", headers=h,
                   json={"volume": [{"queue": "calls", "ds": "2026-11-02T08:00", "yhat": 100},
                                    {"queue": "calls", "ds": "2026-11-02T08:30", "yhat": 140}]})
    assert r.status_code == 200 and r.content[:2] == b"PK"  # an xlsx (zip) workbook
    r = httpx.post(f"{api_url}/api/v1/data/ingest", headers=h, data={"kind": "workload"},
                   files={"file": ("w.csv", b"timestamp,queue,volume\n2025-03-03 08:00,calls,1\n", "text/csv")})
    assert r.status_code == 403  # a planner token (the form's default role) cannot upload
    assert "/api/v1/overtime/fairness" in httpx.get(f"{api_url}/openapi.json").json()["paths"]

    wait_idle(page)
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text(re.compile(r"Token #\d+ revoked\.")).first).to_be_visible(timeout=20_000)
    page.screenshot(path=str(SHOTS / "e2e_api_token_revoked.png"), full_page=True)
    assert httpx.get(f"{api_url}/status", headers=h).status_code == 401
