"""Foundation endpoints: health, status, data summary/validate/ingest; auth, roles, limits, errors."""

from __future__ import annotations

from pathlib import Path

from src.api import security
from src.data import store
from src.services import tokens
from src.services.context import PermissionDenied, ServiceError
from tests.api.conftest import bearer
from tests.conftest import ADMIN, PLANNER

GOOD = b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n2025-03-03 09:00,calls,15\n"
BAD = b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n2025-03-03 09:00,calls,-1\n"


def test_health_needs_no_auth(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_status_requires_token(client, api_app, planner_token):
    r = client.get("/status")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/status", headers=bearer("wfp_not-a-real-token")).status_code == 401
    ok = client.get("/status", headers=bearer(planner_token))
    assert ok.status_code == 200 and ok.json()["data_loaded"] is False
    assert ok.json()["database"] == api_app.engine.dialect.name


def test_validate_returns_the_same_report_as_the_ui(client, planner_token):
    r = client.post("/api/v1/data/validate", headers=bearer(planner_token), data={"kind": "workload"},
                    files={"file": ("bad.csv", BAD, "text/csv")})
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False
    issue = next(i for i in body["issues"] if i["severity"] == "error")
    assert issue["row"] == 3 and issue["column"] == "volume"


def test_every_upload_kind_is_served(client, planner_token):
    from typing import get_args

    from src.api.schemas import Kind
    from src.data.kinds import KINDS

    assert set(get_args(Kind)) == set(KINDS)
    sample = Path(__file__).resolve().parents[2] / "data" / "sample" / "roster_sample_de.csv"
    r = client.post("/api/v1/data/validate", headers=bearer(planner_token), data={"kind": "roster"},
                    files={"file": (sample.name, sample.read_bytes(), "text/csv")})
    assert r.status_code == 200 and r.json()["rows"] > 0
    assert not [i for i in r.json()["issues"] if i["severity"] == "error"]


def test_validate_a_sheet_with_one_column_per_queue(client, planner_token):
    sheet = b"Datum;Uhrzeit;Service;Vertrieb\n04.03.2024;08:00;12;3\n04.03.2024;08:30;15;4\n"
    r = client.post("/api/v1/data/validate", headers=bearer(planner_token),
                    data={"kind": "workload", "queues_in_columns": "true"},
                    files={"file": ("plan.csv", sheet, "text/csv")})
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["rows"] == 4


def test_ingest_is_admin_only_and_audited_with_token_owner(client, api_app, planner_token, admin_token):
    files = {"file": ("good.csv", GOOD, "text/csv")}
    r = client.post("/api/v1/data/ingest", headers=bearer(planner_token), data={"kind": "workload"}, files=files)
    assert r.status_code == 403
    assert store.table_row_count(api_app.engine, "workload") == 0
    r = client.post("/api/v1/data/ingest", headers=bearer(admin_token), data={"kind": "workload"}, files=files)
    assert r.status_code == 200 and r.json()["stored"] is True and r.json()["rows"] == 2
    audit = store.audit_events(api_app.engine, action="data.ingest")
    assert audit.iloc[0]["actor"] == "admin"


def test_ingest_broken_file_stores_nothing(client, api_app, admin_token):
    """#20.9: a rejected upload is a client error — 422 with the same document (was 200 with stored: false)."""
    r = client.post("/api/v1/data/ingest", headers=bearer(admin_token), data={"kind": "workload"},
                    files={"file": ("bad.csv", BAD, "text/csv")})
    assert r.status_code == 422 and r.json()["stored"] is False and r.json()["batch_id"] is None
    issue = next(i for i in r.json()["report"]["issues"] if i["severity"] == "error")
    assert issue["row"] == 3 and issue["column"] == "volume" and "nothing was stored" in r.json()["message"]
    assert store.table_row_count(api_app.engine, "workload") == 0
    files = {"file": ("good.csv", GOOD, "text/csv")}
    assert client.post("/api/v1/data/ingest", headers=bearer(admin_token), data={"kind": "workload"},
                       files=files).status_code == 200
    again = client.post("/api/v1/data/ingest", headers=bearer(admin_token), data={"kind": "workload"}, files=files)
    assert again.status_code == 422 and again.json()["stored"] is False and "already stored" in again.json()["message"]
    doc = client.get("/openapi.json").json()["paths"]["/api/v1/data/ingest"]["post"]["responses"]["422"]
    refs = str(doc["content"]["application/json"]["schema"])
    assert "IngestOut" in refs and "ValidationErrorOut" in refs


def test_validation_errors_are_422_with_field_paths(client, planner_token):
    r = client.post("/api/v1/data/validate", headers=bearer(planner_token), data={"kind": "nonsense"},
                    files={"file": ("x.csv", GOOD, "text/csv")})
    assert r.status_code == 422
    assert any(e["loc"][-1] == "kind" for e in r.json()["detail"])


def test_request_size_limit(client, planner_token, monkeypatch):
    r = client.post("/api/v1/data/validate", headers={**bearer(planner_token), "content-length": str(10**10)},
                    content=b"x")
    assert r.status_code == 413


def test_failed_auth_rate_limited(client, planner_token):
    for _ in range(security.limiter.max_failures):
        assert client.get("/status", headers=bearer("wfp_wrong")).status_code == 401
    r = client.get("/status", headers=bearer(planner_token))
    assert r.status_code == 429 and r.headers["retry-after"] == "60"


def test_revoked_and_disabled_tokens_stop_working(client, api_app, planner_token):
    from src.services import auth

    assert client.get("/status", headers=bearer(planner_token)).status_code == 200
    auth.set_disabled(api_app, ADMIN, "pat", True)
    assert client.get("/status", headers=bearer(planner_token)).status_code == 401
    auth.set_disabled(api_app, ADMIN, "pat", False)
    token_id = tokens.list_tokens(api_app, ADMIN)[0]["id"]
    tokens.revoke_token(api_app, ADMIN, token_id)
    assert client.get("/status", headers=bearer(planner_token)).status_code == 401


def test_token_rules(api_app):
    import pytest

    with pytest.raises(PermissionDenied):
        tokens.create_token(api_app, PLANNER, owner="pat", role="planner", name="x")
    with pytest.raises(ServiceError, match="more rights"):
        tokens.create_token(api_app, ADMIN, owner="pat", role="admin", name="x")
    token = tokens.create_token(api_app, ADMIN, owner="pat", role="planner", name="x")
    listed = tokens.list_tokens(api_app, ADMIN)
    assert all("token_hash" not in t for t in listed) and token not in str(listed)
    assert "token.create" in set(store.audit_events(api_app.engine)["action"])


def test_no_stack_traces_in_responses(client, admin_token, monkeypatch):
    from src.services import data as data_service

    def boom(*_a, **_k):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(data_service, "data_summary", boom)
    r = client.get("/status", headers=bearer(admin_token))
    assert r.status_code == 500 and "secret" not in r.text and "Traceback" not in r.text


def test_openapi_document_served(client):
    doc = client.get("/openapi.json").json()
    assert "/api/v1/data/ingest" in doc["paths"]


def _chunked(head: bytes, total: int, chunk: int = 1 << 20):
    """A body sent without Content-Length (Transfer-Encoding: chunked): ``head`` then filler up to ``total`` bytes."""
    yield head
    sent = len(head)
    while sent < total:
        part = b"x" * min(chunk, total - sent)
        sent += len(part)
        yield part


def test_chunked_body_over_the_limit_is_413(client, planner_token):
    """#13.20: a 61 MiB body without Content-Length got 400 ("error parsing the body"); 413 like a declared one."""
    from src.api.app import MAX_BODY_BYTES

    boundary = "wfpboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nworkload\r\n--{boundary}\r\n"
            f"Content-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\ntimestamp,queue,volume\n").encode()
    headers = {**bearer(planner_token), "content-type": f"multipart/form-data; boundary={boundary}"}
    r = client.post("/api/v1/data/validate", headers=headers, content=_chunked(head, 61 * 1024 * 1024))
    assert r.status_code == 413 and str(MAX_BODY_BYTES) in r.json()["detail"]
    r = client.post("/api/v1/overtime/requests", headers={**bearer(planner_token), "content-type": "application/json"},
                    content=_chunked(b'{"site": "', MAX_BODY_BYTES + 1))
    assert r.status_code == 413


def test_unreadable_bodies_get_the_documented_422(client, planner_token):
    """#13.21: a body FastAPI cannot parse (broken multipart, JSON that is not UTF-8) answered 400, which no operation
    documents; now 422 with a message, like a JSON syntax error."""
    h = bearer(planner_token)
    r = client.post("/api/v1/data/validate", content=b"--x\r\nnot a part",
                    headers={**h, "content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 422 and "could not be read" in r.json()["detail"]
    r = client.post("/api/v1/overtime/requests", content=b'{"site": "\xff\xfe"}',
                    headers={**h, "content-type": "application/json"})
    assert r.status_code == 422
    doc = client.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert "400" not in op["responses"], (method, path)
            assert "422" in op["responses"], (method, path)


def _returning(ctx):
    def dependency():  # no parameters: FastAPI would read them as query parameters
        return ctx
    return dependency


def test_failed_auth_limit_is_shared_by_api_processes(api_app, planner_token):
    """#20.10: the limiter counted in one process's memory, so with several API processes a client could spread
    its guesses. Two app instances (own engine, own limiter object — as two processes) sharing one database: four
    failures spread over both block both."""
    import time

    from fastapi.testclient import TestClient

    from src.api.app import create_app
    from src.data import db
    from src.services.context import AppContext

    other = AppContext(settings=api_app.settings, engine=db.make_engine(api_app.settings.database_url))
    clients = []
    for ctx in (api_app, other):
        instance = create_app()
        instance.state.auth_limiter = security.FailedAuthLimiter(max_failures=4, since=time.time())
        instance.dependency_overrides[security.app_ctx] = _returning(ctx)
        clients.append(TestClient(instance, raise_server_exceptions=False))
    try:
        for i in range(4):
            assert clients[i % 2].get("/status", headers=bearer("wfp_wrong")).status_code == 401
        for c in clients:
            r = c.get("/status", headers=bearer(planner_token))
            assert r.status_code == 429 and r.headers["retry-after"] == "60"
    finally:
        other.engine.dispose()


def test_api_and_login_throttles_do_not_mix(api_app, client, planner_token):
    """API failures are stored under an upper-case key; login usernames are lower-cased, so typing that key into
    the login form can neither lock out an API client nor be locked by one."""
    from src.services import api_limits, auth

    for _ in range(12):
        auth.record_login(api_app, api_limits.client_key("testclient"), False)
    assert client.get("/status", headers=bearer(planner_token)).status_code == 200
    for _ in range(security.limiter.max_failures):
        assert client.get("/status", headers=bearer("wfp_wrong")).status_code == 401
    assert auth.login_lock_seconds(api_app, api_limits.client_key("testclient")) > 0  # the form's own 12 failures
    assert auth.login_lock_seconds(api_app, "pat") == 0
