"""Data page → Upload history → Delete an upload batch, driven through AppTest."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, insert

from src.data import db, store
from src.services import data as data_service
from tests.app.conftest import logged_in
from tests.conftest import ADMIN

FIRST = b"timestamp,queue,volume\n2025-03-03 08:00,calls,12\n2025-03-03 09:00,calls,15\n2025-03-03 10:00,calls,11\n"
SECOND = b"timestamp,queue,volume\n2025-03-04 08:00,calls,20\n2025-03-04 09:00,calls,21\n"
PICK = "wfp_delete_batch"


def _ingest(ctx, name: str, content: bytes) -> int:
    out = data_service.ingest_upload(ctx, ADMIN, kind="workload", filename=name, content=content)
    assert out.stored, out.message
    return out.result.batch_id


def _history_ids(ctx) -> set[int]:
    return {int(i) for i in store.upload_history(ctx.engine)["id"]}


def _delete_button(at):
    return next(b for b in at.button if b.label.startswith("Delete batch"))


def _data_page_with_batch_chosen(batch_id: int):
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    at.selectbox(key=PICK).set_value(batch_id).run()
    assert not at.exception, at.exception
    return at


def test_admin_previews_confirms_and_deletes_a_batch(ui_app):
    first = _ingest(ui_app, "wrong-file.csv", FIRST)
    second = _ingest(ui_app, "right-file.csv", SECOND)
    at = _data_page_with_batch_chosen(first)

    preview = " ".join(m.value for m in at.markdown)
    assert "wrong-file.csv" in preview and "**3** row(s)" in preview and "**admin**" in preview
    assert _delete_button(at).disabled, "the button waits for the explicit confirmation"
    assert _history_ids(ui_app) == {first, second}

    at.checkbox(key=f"wfp_delete_confirm_{first}").check().run()
    assert not _delete_button(at).disabled
    _delete_button(at).click().run()
    assert not at.exception, at.exception
    assert any(f"Deleted batch {first}" in s.value and "3 row(s)" in s.value for s in at.success)
    assert _history_ids(ui_app) == {second}
    assert store.table_row_count(ui_app.engine, "workload") == 2
    assert list(store.audit_events(ui_app.engine, action="data.delete_batch")["outcome"]) == ["ok"]
    options = at.selectbox(key=PICK).options  # the history offered for the next delete no longer lists it
    assert any(o.startswith(f"#{second} ") for o in options)
    assert not any(o.startswith(f"#{first} ") for o in options)


def test_batch_with_dependent_records_cannot_be_deleted_from_the_page(ui_app):
    first = _ingest(ui_app, "a.csv", FIRST)
    notes = Table("test_batch_notes", MetaData(), Column("id", Integer, primary_key=True),
                  Column("batch_ref", Integer, ForeignKey(db.upload_batches.c.id), nullable=False))
    with db.write_tx(ui_app.engine) as conn:
        notes.create(conn)
        conn.execute(insert(notes).values(batch_ref=first))
    at = _data_page_with_batch_chosen(first)
    assert any("cannot be deleted" in e.value and "test\\_batch\\_notes" in e.value for e in at.error)
    assert at.checkbox(key=f"wfp_delete_confirm_{first}").disabled
    assert _delete_button(at).disabled
    assert _history_ids(ui_app) == {first}


def test_planner_never_sees_the_delete_control(ui_app):
    _ingest(ui_app, "a.csv", FIRST)
    at = logged_in("pat", "planner").run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find"):
        at.switch_page("pages/data.py").run()
    assert not any(b.label.startswith("Delete batch") for b in at.button)
    assert not any(s.key == PICK for s in at.selectbox)


def test_deleting_a_replacing_batch_warns_that_the_replaced_rows_stay_gone(ui_app):
    _ingest(ui_app, "first.csv", FIRST)
    again = data_service.ingest_upload(ui_app, ADMIN, kind="workload", filename="again.csv", content=FIRST,
                                       policy="replace")
    assert again.stored, again.message
    at = _data_page_with_batch_chosen(again.result.batch_id)
    warning = next(w.value for w in at.warning if "replaced 3 older row(s)" in w.value)
    assert "gap for 2025-03-03 – 2025-03-03" in warning
    first = min(_history_ids(ui_app))
    at.selectbox(key=PICK).set_value(first).run()
    assert not [w for w in at.warning if "replaced" in w.value], "a batch that replaced nothing gets no warning"
