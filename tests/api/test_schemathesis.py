"""Property-based run of schemathesis against the app's own OpenAPI document, in-process (ASGI transport).

Every operation gets a small, derandomised budget of generated requests with a valid admin token over the demo
data; each response must not be a 5xx, must match its documented schema and content type. Forecast training
(POST /api/v1/forecast) is left out: its happy path trains models (seconds per call); tests/api/test_api_forecast.py
covers it. Budget per operation: ``MAX_EXAMPLES`` (whole file ≈ 60 s on the 2-core CI box).

The demo-data run is pinned to SQLite (``demo_backend`` below): on PostgreSQL it passed as well but took another
66 s (measured), a fifth of the whole suite, for operations the TestClient tests already run on both backends.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from src.api.app import create_app  # noqa: E402

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app()).exclude(method="POST", path="/api/v1/forecast")


@pytest.fixture(scope="module")
def demo_backend() -> str:
    """Pins ``demo_api`` (tests/api/conftest.py) to SQLite for this module; see the module docstring."""
    return "sqlite"


@pytest.fixture(autouse=True)
def _demo_context(demo_api, fresh_limiter):
    """Requests go through the ASGI app built above; its routes read the demo store set up by demo_api."""
    return demo_api


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, demo_api):
    case.call_and_validate(headers=demo_api.headers("admin"), checks=CHECKS)
