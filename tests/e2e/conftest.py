"""Real-browser fixtures: a Streamlit server on a free port with its own SQLite file, driven by Playwright
through Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORDS = {"admin": "E2e-Root-Pass-1x", "pat": "E2e-Planner-Pass-2"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'e2e.db'}", APP_COOKIE_KEY=secrets.token_urlsafe(48),
               APP_ADMIN_PASSWORD=PASSWORDS["admin"], LOAD_DEMO_DATA="false", MODELS_DIR=str(tmp / "models"),
               OUTPUTS_DIR=str(tmp / "outputs"), PYTHONPATH=str(ROOT))
    return env


def cli(env: dict[str, str], *args: str, extra_env: dict[str, str] | None = None) -> None:
    """Run ``python -m src.cli ARGS`` against a test server's store (fails the test on a non-zero exit)."""
    subprocess.run([sys.executable, "-m", "src.cli", *args], cwd=ROOT, env={**env, **(extra_env or {})},
                   check=True, capture_output=True)


def prepare_store(tmp: Path, *, demo: bool) -> dict[str, str]:
    """A fresh store for a test server: schema, admin, planner ``pat`` and (optionally) the demo data."""
    env = _env(tmp)
    cli(env, "bootstrap", *([] if demo else ["--no-demo"]))
    cli(env, "users", "add", "pat", "--role", "planner", "--name", "Pat Planner",
        extra_env={"WFP_NEW_PASSWORD": PASSWORDS["pat"]})
    return env


@contextlib.contextmanager
def running_app(env: dict[str, str]) -> Iterator[str]:
    """Start ``streamlit run src/app.py`` on a free port with ``env``; yield its URL; stop it afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (make test installs it as root: apt-get install chromium)")
    port = _free_port()
    log = open(Path(env["OUTPUTS_DIR"]).parent / f"streamlit-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "src/app.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def server_env(tmp_path_factory) -> dict[str, str]:
    return prepare_store(tmp_path_factory.mktemp("e2e"), demo=False)


@pytest.fixture(scope="session")
def app_url(server_env):
    with running_app(server_env) as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}, "accept_downloads": True}


def login(page, url: str, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.get_by_label("Username").first).to_be_visible(timeout=30_000)
    wait_idle(page)  # a rerun still in flight may show a stale copy of the form next to the new one
    expect(page.get_by_label("Username")).to_have_count(1, timeout=30_000)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Workforce Planner")).to_be_visible(timeout=30_000)
    # the login cookie is written by a component shortly after the page shows; wait for it
    deadline = time.time() + 10
    while time.time() < deadline and not any(c["name"] == "wfp_auth" for c in page.context.cookies()):
        time.sleep(0.1)
    wait_idle(page)


def wait_idle(page, timeout_ms: int = 30_000) -> None:
    """Streamlit's own e2e wait: let a rerun start, then wait until the script has finished and nothing is
    still loading. Clicks that land while a rerun (e.g. the cookie component's) is in flight can be lost."""
    from playwright.sync_api import expect

    page.wait_for_timeout(300)
    expect(page.locator("[data-testid=stApp][data-test-script-state=notRunning]")).to_have_count(1,
                                                                                                 timeout=timeout_ms)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout_ms)


def open_page(page, link: str, heading: str, attempts: int = 3) -> None:
    """Click a sidebar link and wait for the page's heading; retry when a concurrent rerun swallowed the click."""
    from playwright.sync_api import expect

    for attempt in range(attempts):
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=link, exact=True).click()
        try:
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=15_000)
            wait_idle(page)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise
