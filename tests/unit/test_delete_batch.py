"""Deleting an upload batch: one transaction, audited, admin only, refused while other records depend on it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, insert, select

from src.data import db, store
from src.services import data as data_service
from src.services.context import PermissionDenied, ServiceError
from tests.conftest import ADMIN, PLANNER

WORKLOAD_A = b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n2025-03-03 09:00,calls,15\n2025-03-03 10:00,calls,9\n"
WORKLOAD_B = b"timestamp,queue,volume\n2025-03-04 08:00,calls,20\n2025-03-04 09:00,calls,21\n"
SHIFTS = b"date,site,unit,shifts\n2025-03-03,Haus Lindenhof,A,7\n2025-03-04,Haus Lindenhof,A,8\n"


def _ingest(app, name: str, content: bytes, kind: str = "workload", policy: str = "reject") -> int:
    out = data_service.ingest_upload(app, ADMIN, kind=kind, filename=name, content=content, policy=policy)
    assert out.stored, out.message
    return out.result.batch_id


def _batch_ids(app) -> set[int]:
    return {int(i) for i in store.upload_history(app.engine)["id"]}


def _rows_of(app, kind: str, batch_id: int) -> int:
    table = db.KIND_TABLES[kind]
    with db.read_conn(app.engine) as conn:
        return len(conn.execute(select(table.c.id).where(table.c.batch_id == batch_id)).all())


def _delete_events(app):
    return store.audit_events(app.engine, action="data.delete_batch")


@pytest.fixture
def three_batches(app):
    a = _ingest(app, "a.csv", WORKLOAD_A)
    b = _ingest(app, "b.csv", WORKLOAD_B)
    s = _ingest(app, "shifts.csv", SHIFTS, kind="unit_shifts")
    return a, b, s


def test_admin_deletes_rows_and_batch_and_leaves_other_batches(app, three_batches):
    a, b, s = three_batches
    deleted = data_service.delete_batch(app, ADMIN, a)
    assert (deleted.batch_id, deleted.kind, deleted.file_name, deleted.rows_deleted) == (a, "workload", "a.csv", 3)
    assert _rows_of(app, "workload", a) == 0
    assert _batch_ids(app) == {b, s}
    assert _rows_of(app, "workload", b) == 2 and _rows_of(app, "unit_shifts", s) == 2
    assert list(store.load_frame(app.engine, "workload")["volume"]) == [20, 21]


def test_delete_is_audited_with_actor_role_and_details(app, three_batches):
    a, _, _ = three_batches
    data_service.delete_batch(app, ADMIN, a)
    events = _delete_events(app)
    assert len(events) == 1
    ev = events.iloc[0]
    assert (ev["actor"], ev["role"], ev["outcome"], ev["object_type"], ev["object_id"]) == \
        ("admin", "admin", "ok", "workload", str(a))
    detail = json.loads(ev["detail_json"])
    assert detail["batch_id"] == a and detail["kind"] == "workload"
    assert detail["file"] == "a.csv" and detail["rows_deleted"] == 3 and detail["uploaded_by"] == "admin"


def test_rows_deleted_counts_what_is_still_stored(app):
    a = _ingest(app, "a.csv", WORKLOAD_A)
    overlap = b"timestamp,queue,volume\n2025-03-03 10:00,calls,30\n2025-03-03 11:00,calls,31\n"
    b = _ingest(app, "overlap.csv", overlap, policy="replace")  # takes 10:00 away from batch a
    preview = data_service.describe_batch(app, ADMIN, a)
    assert (preview.rows_uploaded, preview.rows_stored, preview.deletable) == (3, 2, True)
    assert data_service.delete_batch(app, ADMIN, a).rows_deleted == 2
    assert _batch_ids(app) == {b} and _rows_of(app, "workload", b) == 2


def test_planner_is_denied_nothing_deleted_and_attempt_audited(app, three_batches):
    a, b, s = three_batches
    with pytest.raises(PermissionDenied):
        data_service.delete_batch(app, PLANNER, a)
    assert _batch_ids(app) == {a, b, s} and _rows_of(app, "workload", a) == 3
    events = _delete_events(app)
    assert list(events["outcome"]) == ["denied"] and list(events["actor"]) == ["pat"]
    with pytest.raises(PermissionDenied):
        data_service.describe_batch(app, PLANNER, a)


def test_unknown_batch_is_a_clear_error(app, three_batches):
    with pytest.raises(ServiceError, match="Upload batch 9999 does not exist"):
        data_service.delete_batch(app, ADMIN, 9999)
    with pytest.raises(ServiceError, match="does not exist"):
        data_service.describe_batch(app, ADMIN, 9999)
    with pytest.raises(ServiceError, match="Invalid upload batch id"):
        data_service.delete_batch(app, ADMIN, 0)
    assert len(_batch_ids(app)) == 3
    assert list(_delete_events(app)["outcome"]) == ["rejected"]


def test_schema_scan_sees_the_data_tables_batch_keys(app):
    with db.read_conn(app.engine) as conn:
        fks = store._referencing_foreign_keys(conn, {"upload_batches"})
    assert {(t, tuple(cols)) for t, cols, _, _ in fks} >= {(t.name, ("batch_id",)) for t in db.KIND_TABLES.values()}


@pytest.mark.parametrize("target", ["row", "batch"])
def test_dependent_records_refuse_the_delete_and_keep_everything(app, three_batches, target):
    a, b, s = three_batches
    meta = MetaData()
    if target == "row":
        dep = Table("test_workload_notes", meta, Column("id", Integer, primary_key=True),
                    Column("workload_id", Integer, ForeignKey(db.workload.c.id), nullable=False))
    else:
        dep = Table("test_batch_notes", meta, Column("id", Integer, primary_key=True),
                    Column("batch_ref", Integer, ForeignKey(db.upload_batches.c.id), nullable=False))
    with db.write_tx(app.engine) as conn:
        meta.create_all(conn, tables=[db.workload, db.upload_batches, dep], checkfirst=True)
        if target == "row":
            first = conn.execute(select(db.workload.c.id).where(db.workload.c.batch_id == a).limit(1)).scalar_one()
            conn.execute(insert(dep).values(workload_id=first))
        else:
            conn.execute(insert(dep).values(batch_ref=a))

    preview = data_service.describe_batch(app, ADMIN, a)
    assert not preview.deletable and dep.name in preview.blocked_message
    with pytest.raises(ServiceError, match=f"cannot be deleted.*{dep.name}") as err:
        data_service.delete_batch(app, ADMIN, a)
    assert "1 row(s)" in str(err.value) and "Nothing was deleted" in str(err.value)
    assert _batch_ids(app) == {a, b, s} and _rows_of(app, "workload", a) == 3
    assert list(_delete_events(app)["outcome"]) == ["rejected"]
    # an unrelated batch of the same kind is still deletable
    assert data_service.delete_batch(app, ADMIN, b).rows_deleted == 2


def test_failure_inside_the_transaction_deletes_nothing(app, three_batches, monkeypatch):
    a, b, s = three_batches

    def broken_audit(*_args, **_kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(store, "write_audit", broken_audit)
    with pytest.raises(RuntimeError):
        store.delete_batch(app.engine, batch_id=a, actor="admin", role="admin")
    monkeypatch.undo()
    assert _batch_ids(app) == {a, b, s} and _rows_of(app, "workload", a) == 3


def test_a_deleted_batch_id_is_never_given_to_the_next_upload(app, three_batches):
    """A client retrying 'DELETE batch 3' after a re-upload must not delete the new file (SQLite's plain INTEGER
    PRIMARY KEY would reuse the freed highest id)."""
    newest = max(three_batches)
    data_service.delete_batch(app, ADMIN, newest)
    again = _ingest(app, "shifts.csv", SHIFTS, kind="unit_shifts")
    assert again > newest
