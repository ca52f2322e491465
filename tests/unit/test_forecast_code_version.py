"""The model registry stamps each version with the code revision. Why a test: the revision is read from the
repository's ``.git`` found relative to the service's own file, and moving ``services/forecasting.py`` into a
package moved that file one folder deeper — a wrong level silently stamps every version "dev"."""

import importlib.metadata
import subprocess
from pathlib import Path

import pytest

from src.services.forecasting import _common

ROOT = Path(__file__).resolve().parents[2]


def test_code_version_is_the_checked_out_revision_when_not_installed(monkeypatch):
    head = ROOT / ".git" / "HEAD"
    if not head.is_file():
        pytest.skip("not a plain git checkout")
    ref = head.read_text().strip()
    if ref.startswith("ref: ") and not (head.parent / ref[5:]).is_file():
        pytest.skip("branch ref is packed")

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    expected = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()[:12]
    assert _common._code_version() == expected
