"""Upload batches over the API: list the history (planner, admin), delete a batch (admin; 404 unknown, 403 others).

Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (``api_app``). Every check of a delete looks at the store
itself — rows, batch row, audit event — not only at the response.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, insert, select

from src.data import db, store
from src.services import auth, tokens
from src.services import data as data_service
from tests.api.conftest import bearer
from tests.conftest import ADMIN

WORKLOAD_A = b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n2025-03-03 09:00,calls,15\n2025-03-03 10:00,calls,9\n"
WORKLOAD_B = b"timestamp,queue,volume\n2025-03-04 08:00,calls,20\n2025-03-04 09:00,calls,21\n"
SHIFTS = b"date,site,unit,shifts\n2025-03-03,Haus Lindenhof,A,7\n2025-03-04,Haus Lindenhof,A,8\n"

LIST = "/api/v1/data/batches"


def _ingest(ctx, name: str, content: bytes, kind: str = "workload") -> int:
    out = data_service.ingest_upload(ctx, ADMIN, kind=kind, filename=name, content=content)
    assert out.stored, out.message
    return out.result.batch_id


def _rows_of(ctx, kind: str, batch_id: int) -> int:
    table = db.KIND_TABLES[kind]
    with db.read_conn(ctx.engine) as conn:
        return len(conn.execute(select(table.c.id).where(table.c.batch_id == batch_id)).all())


def _batch_ids(ctx) -> set[int]:
    return {int(i) for i in store.upload_history(ctx.engine)["id"]}


def _delete_events(ctx):
    return store.audit_events(ctx.engine, action="data.delete_batch")


@pytest.fixture
def batches(api_app) -> tuple[int, int, int]:
    """Two workload uploads and one care-home shifts upload, stored by the admin in this order."""
    return (_ingest(api_app, "a.csv", WORKLOAD_A), _ingest(api_app, "b.csv", WORKLOAD_B),
            _ingest(api_app, "shifts.csv", SHIFTS, kind="unit_shifts"))


@pytest.fixture
def ada_token(api_app) -> str:
    """An admin token owned by 'ada' — not the fixtures' own ``admin`` — so the audit shows whose token it was."""
    auth.create_user(api_app, ADMIN, username="ada", display_name="Ada", role="admin", password="Admin-Pass-4242")
    return tokens.create_token(api_app, ADMIN, owner="ada", role="admin", name="ci ada")


@pytest.mark.parametrize("method,path", [("get", LIST), ("delete", f"{LIST}/1")])
def test_batch_endpoints_need_a_token(client, batches, method, path):
    r = getattr(client, method)(path)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert getattr(client, method)(path, headers=bearer("wfp_wrong")).status_code == 401


@pytest.mark.parametrize("role", ["planner", "admin"])
def test_history_lists_every_batch_newest_first(client, batches, planner_token, admin_token, role):
    a, b, s = batches
    r = client.get(LIST, headers=bearer(planner_token if role == "planner" else admin_token))
    assert r.status_code == 200, r.text
    listed = r.json()
    assert [x["id"] for x in listed] == [s, b, a]
    first = listed[-1]
    assert (first["kind"], first["file_name"], first["rows"], first["replaced_rows"], first["policy"]) == \
        ("workload", "a.csv", 3, 0, "reject")
    assert first["sha256"] == hashlib.sha256(WORKLOAD_A).hexdigest() and first["uploaded_by"] == "admin"
    assert first["uploaded_at"].endswith("Z")  # record-keeping time in UTC
    assert first["range_start"].startswith("2025-03-03T08:00:00+") and \
        first["range_end"].startswith("2025-03-03T10:00:00+")  # business time with the APP_TIMEZONE offset
    assert listed[0]["kind"] == "unit_shifts" and listed[0]["file_name"] == "shifts.csv"
    only = client.get(LIST, params={"limit": 1}, headers=bearer(admin_token)).json()
    assert [x["id"] for x in only] == [s]


def test_history_of_an_empty_store_and_bad_limits(client, api_app, planner_token):
    assert client.get(LIST, headers=bearer(planner_token)).json() == []
    for limit in (0, 1001, "x"):
        r = client.get(LIST, params={"limit": limit}, headers=bearer(planner_token))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"]


def test_admin_deletes_a_batch_rows_gone_and_audited_with_the_token_owner(client, api_app, batches, ada_token):
    a, b, s = batches
    r = client.delete(f"{LIST}/{a}", headers=bearer(ada_token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["batch_id"], body["kind"], body["file_name"], body["uploaded_by"]) == (a, "workload", "a.csv", "admin")
    assert body["rows_deleted"] == {"workload": 3, "upload_batches": 1}
    assert "3 row(s)" in body["message"] and body["uploaded_at"].endswith("Z")
    # really gone from the store; the other batches untouched
    assert _rows_of(api_app, "workload", a) == 0 and _batch_ids(api_app) == {b, s}
    assert _rows_of(api_app, "workload", b) == 2 and _rows_of(api_app, "unit_shifts", s) == 2
    assert list(store.load_frame(api_app.engine, "workload")["volume"]) == [20, 21]
    events = _delete_events(api_app)
    assert len(events) == 1
    ev = events.iloc[0]
    assert (ev["actor"], ev["role"], ev["outcome"], ev["object_type"], ev["object_id"]) == \
        ("ada", "admin", "ok", "workload", str(a))
    assert json.loads(ev["detail_json"])["rows_deleted"] == 3
    # the history no longer lists it, and a second delete finds nothing
    assert [x["id"] for x in client.get(LIST, headers=bearer(ada_token)).json()] == [s, b]
    again = client.delete(f"{LIST}/{a}", headers=bearer(ada_token))
    assert again.status_code == 404 and "does not exist" in again.json()["detail"]


def test_planner_may_not_delete_nothing_deleted_attempt_audited(client, api_app, batches, planner_token):
    a, b, s = batches
    r = client.delete(f"{LIST}/{a}", headers=bearer(planner_token))
    assert r.status_code == 403 and "planner" in r.json()["detail"]
    assert _batch_ids(api_app) == {a, b, s} and _rows_of(api_app, "workload", a) == 3
    events = _delete_events(api_app)
    assert list(events["outcome"]) == ["denied"] and list(events["actor"]) == ["pat"]


def test_unknown_and_invalid_ids(client, api_app, batches, admin_token):
    r = client.delete(f"{LIST}/9999", headers=bearer(admin_token))
    assert r.status_code == 404 and r.json() == {"detail": "Upload batch 9999 does not exist."}
    assert list(_delete_events(api_app)["outcome"]) == ["rejected"]
    # ids outside 1..2**31-1 never reach the store (PostgreSQL's integer key would fail on a larger one)
    for bad in ("0", "-1", str(2**31), "abc"):
        r = client.delete(f"{LIST}/{bad}", headers=bearer(admin_token))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "batch_id"], bad
    assert len(_batch_ids(api_app)) == 3 and len(_delete_events(api_app)) == 1


def test_a_batch_other_records_depend_on_is_refused_with_their_names(client, api_app, batches, admin_token):
    a, b, s = batches
    meta = MetaData()
    notes = Table("test_batch_notes", meta, Column("id", Integer, primary_key=True),
                  Column("batch_ref", Integer, ForeignKey(db.upload_batches.c.id), nullable=False))
    with db.write_tx(api_app.engine) as conn:
        meta.create_all(conn, tables=[db.upload_batches, notes], checkfirst=True)
        conn.execute(insert(notes).values(batch_ref=a))
    r = client.delete(f"{LIST}/{a}", headers=bearer(admin_token))
    assert r.status_code == 422
    assert "test_batch_notes" in r.json()["detail"] and "Nothing was deleted" in r.json()["detail"]
    assert _batch_ids(api_app) == {a, b, s} and _rows_of(api_app, "workload", a) == 3
    assert list(_delete_events(api_app)["outcome"]) == ["rejected"]


def test_openapi_documents_the_batch_endpoints(client):
    doc = client.get("/openapi.json").json()
    listed = doc["paths"]["/api/v1/data/batches"]["get"]["responses"]["200"]["content"]["application/json"]
    assert (listed["schema"]["type"], listed["schema"]["items"]) == \
        ("array", {"$ref": "#/components/schemas/BatchOut"})
    delete = doc["paths"]["/api/v1/data/batches/{batch_id}"]["delete"]["responses"]
    assert delete["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/DeletedBatchOut"}
    assert delete["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    assert {"id", "kind", "file_name", "sha256", "rows", "uploaded_by", "uploaded_at"} <= \
        set(doc["components"]["schemas"]["BatchOut"]["required"])
