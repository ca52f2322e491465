"""Data use cases: validate (no side effects), ingest (admin, all or nothing, audited), samples, demo data."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.data import store
from src.services import data as data_service
from src.services.context import PermissionDenied
from tests.conftest import ADMIN, PLANNER

GOOD = b"Zeitstempel;Warteschlange;Anrufe\n03.03.2025 08:00;calls;12\n03.03.2025 09:00;calls;15\n"
BROKEN = b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n2025-03-03 09:00,calls,-3\n2025-03-03 10:00,calls,x\n"


def test_validate_has_no_side_effects_and_is_open_to_planners(app):
    report = data_service.validate_upload(app, PLANNER, kind="workload", filename="g.csv", content=GOOD)
    assert report.ok and report.rows_read == 2
    assert store.table_row_count(app.engine, "workload") == 0


def test_planner_cannot_ingest(app):
    with pytest.raises(PermissionDenied):
        data_service.ingest_upload(app, PLANNER, kind="workload", filename="g.csv", content=GOOD)
    assert store.table_row_count(app.engine, "workload") == 0


def test_ingest_good_file_german_headers(app):
    out = data_service.ingest_upload(app, ADMIN, kind="workload", filename="g.csv", content=GOOD)
    assert out.stored and out.result.rows == 2
    stored = store.load_frame(app.engine, "workload")
    assert list(stored["volume"]) == [12, 15]
    assert stored["timestamp"].iloc[0].strftime("%Y-%m-%d %H:%M") == "2025-03-03 08:00"
    batches = store.upload_history(app.engine)
    assert batches.iloc[0]["sha256"] == data_service.sha256_of(GOOD) and batches.iloc[0]["uploaded_by"] == "admin"


def test_broken_file_stores_nothing_and_reports_every_problem(app):
    out = data_service.ingest_upload(app, ADMIN, kind="workload", filename="b.csv", content=BROKEN)
    assert not out.stored and "nothing was stored" in out.message
    problems = {(i.row, i.column) for i in out.report.errors}
    assert {(3, "volume"), (4, "volume")} <= problems
    assert store.table_row_count(app.engine, "workload") == 0
    audit = store.audit_events(app.engine, action="data.ingest")
    assert list(audit["outcome"]) == ["rejected"]


def test_same_file_twice_is_rejected_unless_replacing(app):
    assert data_service.ingest_upload(app, ADMIN, kind="workload", filename="g.csv", content=GOOD).stored
    again = data_service.ingest_upload(app, ADMIN, kind="workload", filename="g.csv", content=GOOD)
    assert not again.stored and "already stored" in again.message
    replaced = data_service.ingest_upload(app, ADMIN, kind="workload", filename="g.csv", content=GOOD,
                                          policy="replace")
    assert replaced.stored and replaced.result.replaced_rows == 2
    assert store.table_row_count(app.engine, "workload") == 2


def test_overlapping_upload_rejected_by_default(app):
    data_service.ingest_upload(app, ADMIN, kind="workload", filename="g.csv", content=GOOD)
    overlap = b"timestamp,queue,volume\n2025-03-03 09:00,calls,20\n2025-03-03 10:00,calls,21\n"
    out = data_service.ingest_upload(app, ADMIN, kind="workload", filename="o.csv", content=overlap)
    assert not out.stored and "overlap" in out.message
    assert store.table_row_count(app.engine, "workload") == 2


@pytest.mark.parametrize("path", data_service.sample_files(), ids=lambda p: p.name)
def test_every_sample_file_ingests(sqlite_app, path: Path):
    kind = data_service.sample_kind(path)
    out = data_service.ingest_upload(sqlite_app, ADMIN, kind=kind, filename=path.name, content=path.read_bytes())
    assert out.stored, out.message
    assert out.result.rows == out.report.rows_read > 0


def test_demo_data_loads_every_kind(sqlite_app):
    stored = data_service.load_demo_data(sqlite_app)
    assert set(stored) == {"staff", "workload", "unit_shifts", "assignments", "overtime", "roster"}
    summary = store.dataset_summary(sqlite_app.engine).set_index("kind")
    assert summary.loc["workload", "rows"] == stored["workload"] > 30_000
    span = summary.loc["workload", "last"] - summary.loc["workload", "first"]
    assert span.days >= 730
    assert summary.loc["unit_shifts", "series"] >= 35
