"""Every CLI command answers a configuration or database problem with one line, not a traceback (#20.7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "DATABASE_URL"))}
    base.update(PYTHONPATH=str(ROOT), MODELS_DIR=str(tmp_path / "m"), OUTPUTS_DIR=str(tmp_path / "o"), **env)
    return subprocess.run([sys.executable, "-m", "src.cli", *args], cwd=tmp_path, env=base, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("args", [("users", "list"), ("train-ranker",), ("jobs", "list")])
def test_weak_cookie_key_is_one_line(tmp_path, args):
    res = _cli(tmp_path, *args, APP_COOKIE_KEY="short", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert res.returncode == 2, res
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        "Configuration error: APP_COOKIE_KEY is too short (5 characters); use at least 32 random characters. "
        "The settings are described in config.example.env."]


def test_unreachable_database_is_one_line_without_the_url(tmp_path):
    res = _cli(tmp_path, "users", "list", APP_COOKIE_KEY="Xq3-vT9_pLm2Zr8wKc4YbN7hJd1sFg6eAu5oRi0Q",
               DATABASE_URL="postgresql+psycopg://wfp:secret-pw@127.0.0.1:1/nowhere")
    assert res.returncode == 2, res
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Database error (OperationalError): check DATABASE_URL")
    assert "secret-pw" not in res.stderr and "Traceback" not in res.stderr


def test_verbose_shows_the_details(tmp_path):
    res = _cli(tmp_path, "-v", "users", "list", APP_COOKIE_KEY="short", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert res.returncode == 2 and "Traceback" in res.stderr
