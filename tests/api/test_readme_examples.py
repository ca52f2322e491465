"""README examples against the demo data (#13.23, first part): the overtime request example named a unit of another
care home ("Wohnbereich Linde" is in Haus Abendrot) and answered 422 on the demo data.

Here the coverage-request bodies are posted on every backend (PostgreSQL too when TEST_DATABASE_URL is set);
tests/unit/test_readme_examples.py runs every README command as written on a SQLite demo store."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("fresh_limiter")


def readme_bodies(path_suffix: str) -> list[dict]:
    """The JSON bodies (`-d '{…}'`) of the README's curl examples that post to ``$API/<path_suffix>``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        if line.lstrip().startswith("curl") and f"$API/{path_suffix} " in line + " ":
            m = re.search(r"-d '(\{.*\})'", line)
            if m:
                out.append(json.loads(m.group(1)))
    return out


def test_readme_overtime_request_example_runs_on_the_demo_data(demo_api):
    bodies = readme_bodies("overtime/requests")
    assert bodies, "the README shows how to create a coverage request"
    for body in bodies:
        r = demo_api.client.post("/api/v1/overtime/requests", headers=demo_api.headers("planner"), json=body)
        assert r.status_code == 201, r.text
        assert r.json()["request"]["unit"] == body.get("unit")
