"""Store: atomic ingest, overlap policies, append-only audit, schema version — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading

import pandas as pd
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from src.data import db, store
from src.data.store import IngestConflict


def workload_frame(start="2025-01-06 08:00", periods=10, queue="calls", volume=5) -> pd.DataFrame:
    ts = pd.date_range(start, periods=periods, freq="h")
    return pd.DataFrame({"timestamp": ts, "queue": queue, "site": "CC", "volume": volume, "aht_seconds": 240.0})


def count(app, table) -> int:
    with app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def ingest(app, frame, policy="reject", name="w.csv", kind="workload"):
    return store.ingest_frame(app.engine, kind=kind, frame=frame, file_name=name, sha256="0" * 64, actor="admin",
                              role="admin", policy=policy)


def test_ingest_stores_every_row_one_batch_and_one_audit_event(app):
    res = ingest(app, workload_frame(periods=24))
    assert res.rows == 24 and res.replaced_rows == 0
    assert count(app, db.workload) == 24
    assert count(app, db.upload_batches) == 1
    events = store.audit_events(app.engine, action="data.ingest")
    assert len(events) == 1 and events.iloc[0]["object_id"] == str(res.batch_id)


def test_failed_ingest_stores_nothing(app):
    bad = workload_frame(periods=300)
    bad.loc[250, "volume"] = -1  # violates the CHECK constraint (validation would have caught it)
    with pytest.raises(IntegrityError):
        ingest(app, bad)
    assert count(app, db.workload) == 0
    assert count(app, db.upload_batches) == 0
    assert len(store.audit_events(app.engine, action="data.ingest")) == 0


def test_reject_policy_refuses_overlap_and_stores_nothing(app):
    ingest(app, workload_frame(periods=10))
    with pytest.raises(IngestConflict) as exc:
        ingest(app, workload_frame(start="2025-01-06 15:00", periods=10))
    assert exc.value.overlapping == 3  # 15:00, 16:00, 17:00 already stored
    assert "Nothing was stored" in str(exc.value)
    assert count(app, db.workload) == 10
    assert count(app, db.upload_batches) == 1


def test_replace_policy_replaces_the_overlapping_range_without_double_counting(app):
    ingest(app, workload_frame(periods=10, volume=5))
    res = ingest(app, workload_frame(start="2025-01-06 15:00", periods=10, volume=7), policy="replace")
    assert res.replaced_rows == 3
    assert count(app, db.workload) == 17
    stored = store.load_frame(app.engine, "workload")
    assert stored["timestamp"].is_unique
    assert stored.set_index("timestamp").loc[pd.Timestamp("2025-01-06 16:00"), "volume"] == 7
    assert stored["volume"].sum() == 7 * 5 + 10 * 7


def test_replace_only_touches_the_same_series(app):
    ingest(app, workload_frame(queue="calls"))
    ingest(app, workload_frame(queue="emails"), policy="replace")
    assert count(app, db.workload) == 20


def test_staff_replace_by_id(app):
    staff = pd.DataFrame({"staff_id": ["S1", "S2"], "name": ["A", "B"], "site": "H1", "role": "Agent",
                          "skills": "calls:3", "hire_date": pd.to_datetime(["2020-01-01", "2021-01-01"]),
                          "contract_hours": [40.0, 20.0], "ot_willing": [True, False], "preferred_sites": ""})
    ingest(app, staff, kind="staff")
    staff2 = staff.iloc[[1]].assign(contract_hours=30.0)
    res = ingest(app, staff2, kind="staff", policy="replace")
    assert res.replaced_rows == 1
    stored = store.load_frame(app.engine, "staff").set_index("staff_id")
    assert stored.loc["S2", "contract_hours"] == 30.0 and len(stored) == 2
    assert stored["ot_willing"].dtype == bool


def test_audit_log_is_append_only(app):
    with db.write_tx(app.engine) as conn:
        store.write_audit(conn, actor="a", role="admin", action="x")
    with pytest.raises(DBAPIError):
        with db.write_tx(app.engine) as conn:
            conn.execute(update(db.audit_event).values(actor="mallory"))
    with pytest.raises(DBAPIError):
        with db.write_tx(app.engine) as conn:
            conn.execute(text("DELETE FROM audit_event"))
    assert store.audit_events(app.engine).iloc[0]["actor"] == "a"


def test_audit_neutralises_log_injection(app):
    with db.write_tx(app.engine) as conn:
        store.write_audit(conn, actor="admin", role="admin", action="data.ingest",
                          detail={"file": "evil\r\nadmin login ok.csv"})
    detail = json.loads(store.audit_events(app.engine).iloc[0]["detail_json"])
    assert detail["file"] == "evil\\r\\nadmin login ok.csv"


def test_schema_version_recorded_and_newer_schema_refused(app):
    with app.engine.connect() as conn:
        assert conn.execute(select(func.max(db.schema_version.c.version))).scalar() == db.SCHEMA_VERSION
    db.init_schema(app.engine)  # idempotent
    with db.write_tx(app.engine) as conn:
        conn.execute(db.schema_version.insert().values(version=db.SCHEMA_VERSION + 1, applied_at=db.utcnow()))
    with pytest.raises(RuntimeError, match="newer than this code"):
        db.init_schema(app.engine)


def test_instances_starting_at_once_create_the_schema_once(app):
    """Several app processes starting together on an empty database: none fails, one version row."""
    db.drop_all(app.engine)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        engine = db.make_engine(str(app.engine.url.render_as_string(hide_password=False)))
        try:
            barrier.wait()
            db.init_schema(engine)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with app.engine.connect() as conn:
        versions = conn.execute(select(db.schema_version.c.version)).scalars().all()
    assert versions == [db.SCHEMA_VERSION]


def test_constraints_survive_ingest(sqlite_app):
    ingest(sqlite_app, workload_frame())
    with sqlite_app.engine.connect() as conn:
        ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name='workload'")).scalar()
    assert "CHECK" in ddl and "UNIQUE" in ddl


def test_sqlite_pragmas_and_begin_immediate(sqlite_app):
    seen: list[str] = []
    from sqlalchemy import event

    @event.listens_for(sqlite_app.engine, "before_cursor_execute")
    def _capture(conn, cursor, statement, *args):  # noqa: ANN001
        seen.append(statement)

    with sqlite_app.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
    ingest(sqlite_app, workload_frame())
    assert "BEGIN IMMEDIATE" in seen


def test_concurrent_ingest_and_reads_do_not_lock(app):
    errors: list[Exception] = []

    def writer(q: str) -> None:
        try:
            for day in range(5):
                ingest(app, workload_frame(start=f"2025-02-{day + 1:02d} 08:00", periods=8, queue=q))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(20):
                store.dataset_summary(app.engine)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(q,)) for q in ("calls", "emails")] + \
              [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert count(app, db.workload) == 2 * 5 * 8
    assert count(app, db.upload_batches) == 10


def test_dataset_summary_reports_ranges(app):
    ingest(app, workload_frame(periods=48))
    summary = store.dataset_summary(app.engine).set_index("kind")
    assert summary.loc["workload", "rows"] == 48
    assert summary.loc["workload", "series"] == 1
    assert pd.Timestamp(summary.loc["workload", "last"]) == pd.Timestamp("2025-01-08 07:00")
    assert summary.loc["staff", "rows"] == 0
