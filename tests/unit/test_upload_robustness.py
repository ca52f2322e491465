"""Upload robustness (issue #20.4, .6, .7, .8): decompression cost, text longer than its column, tracebacks shown to
users, wrong values stored silently. Store-touching tests run on SQLite and, with TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

from datetime import date

from src.data import db, store
from src.data.loader import ParseOptions
from src.data.validation import validate_upload
from src.services import data as data_service
from tests.conftest import ADMIN

TODAY = date(2025, 1, 31)
OPT = ParseOptions(today=TODAY)


# --------------------------------------------------------------------------------------------
# #20.6 text longer than the column
# --------------------------------------------------------------------------------------------

LONG_QUEUE = "q" * 300


def _long_queue_csv() -> bytes:
    return (f"timestamp,queue,volume\n2024-01-02 08:00,calls,5\n2024-01-02 08:30,{LONG_QUEUE},7\n").encode()


def test_text_longer_than_its_column_is_an_error_naming_row_column_and_limit() -> None:
    report = validate_upload("workload", "long.csv", _long_queue_csv(), OPT)
    assert not report.ok and report.frame is None
    [err] = [i for i in report.errors if i.code == "text_too_long"]
    limit = db.workload.c.queue.type.length  # the schema's number, not a copy
    assert (err.file, err.row, err.column) == ("long.csv", 3, "queue")
    assert "300 characters" in err.message and f"at most {limit}" in err.message


def test_every_limited_text_column_is_checked_from_the_schema() -> None:
    from src.data.validation import text_limits

    limits = text_limits(kinds_spec("staff"))
    assert limits["staff_id"] == db.staff.c.staff_id.type.length
    assert limits["name"] == db.staff.c.name.type.length
    assert "skills" not in limits  # Text: no limit
    assert text_limits(kinds_spec("roster"))["unit"] == db.roster.c.unit.type.length


def kinds_spec(key: str):  # noqa: ANN201
    from src.data import kinds

    return kinds.get_kind(key)


def test_text_longer_than_its_column_stores_nothing_on_every_database(app) -> None:
    out = data_service.ingest_upload(app, ADMIN, kind="workload", filename="long.csv", content=_long_queue_csv())
    assert not out.stored and "nothing was stored" in out.message
    assert [i.code for i in out.report.errors] == ["text_too_long"]
    assert store.table_row_count(app.engine, "workload") == 0


def test_exact_column_length_is_stored_on_every_database(app) -> None:
    limit = db.workload.c.queue.type.length
    content = f"timestamp,queue,volume\n2024-01-02 08:00,{'ü' * limit},5\n".encode()
    out = data_service.ingest_upload(app, ADMIN, kind="workload", filename="edge.csv", content=content,
                                     options=OPT)
    assert out.stored, out.message
    assert store.load_frame(app.engine, "workload")["queue"].tolist() == ["ü" * limit]


def test_overlong_file_name_is_stored_shortened_on_every_database(app) -> None:
    name = "x" * 300 + "\n.csv"
    content = b"timestamp,queue,volume\n2024-01-02 08:00,calls,5\n"
    out = data_service.ingest_upload(app, ADMIN, kind="workload", filename=name, content=content, options=OPT)
    assert out.stored, out.message
    stored = store.upload_history(app.engine)["file_name"].iloc[0]
    assert len(stored) <= db.upload_batches.c.file_name.type.length and stored.startswith("xxx")
