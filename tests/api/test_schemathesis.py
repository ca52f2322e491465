"""Property-based run of schemathesis against the app's own OpenAPI document, in-process (ASGI transport).

Every operation gets a small, derandomised budget of generated requests with a valid admin token over the demo
data; each response must not be a 5xx, must have a status code the operation documents, and must match its
documented schema and content type. Forecast training
(POST /api/v1/forecast) is left out: its happy path trains models (seconds per call); tests/api/test_api_forecast.py
covers it. Budget per operation: ``MAX_EXAMPLES`` (whole file ≈ 60 s on the 2-core CI box).

The demo-data run is pinned to SQLite (``demo_backend`` below): on PostgreSQL it passed as well but took another
66 s (measured), a fifth of the whole suite, for operations the TestClient tests already run on both backends.
Deleting a batch is fuzzed separately on a small store of its own, on both backends (about a second each): run
with the demo data, an admin token and ids from 1 up, it would delete the demo batches the later operations need.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from src.api.app import create_app  # noqa: E402
from src.services import data as data_service  # noqa: E402
from src.services.context import set_app  # noqa: E402
from tests.api.conftest import bearer  # noqa: E402
from tests.conftest import ADMIN  # noqa: E402

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]
DELETE_BATCH = {"method": "DELETE", "path": "/api/v1/data/batches/{batch_id}"}

full_schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
schema = full_schema.exclude(method="POST", path="/api/v1/forecast").exclude(**DELETE_BATCH)
batch_schema = full_schema.include(**DELETE_BATCH)
fuzz_settings = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def demo_backend() -> str:
    """Pins ``demo_api`` (tests/api/conftest.py) to SQLite for this module; see the module docstring."""
    return "sqlite"


@pytest.fixture
def demo_store(demo_api, fresh_limiter):
    """Requests go through the ASGI app built above; its routes read the demo store (installed again per test,
    since the batch test below installs a store of its own)."""
    set_app(demo_api.ctx)
    return demo_api


@schema.parametrize()
@fuzz_settings
def test_api_conforms_to_its_openapi_document(case, demo_store):
    case.call_and_validate(headers=demo_store.headers("admin"), checks=CHECKS)


@pytest.fixture
def three_batches(api_app) -> list[int]:
    content = b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n"
    return [data_service.ingest_upload(api_app, ADMIN, kind="workload", filename=f"w{day}.csv",
                                       content=content.replace(b"03 08", b"%02d 08" % day)).result.batch_id
            for day in (3, 4, 5)]


@batch_schema.parametrize()
@fuzz_settings
def test_batch_delete_conforms_to_its_openapi_document(case, api_app, admin_token, three_batches):
    """One store for all examples: the first ids hit the stored batches (200), later ones unknown ids (404)."""
    case.call_and_validate(headers=bearer(admin_token), checks=CHECKS)
