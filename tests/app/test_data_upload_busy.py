"""Data page: with every upload worker busy the page says so and offers a retry instead of an exception."""

from __future__ import annotations

from src.services import data as data_service
from tests.api.test_api_upload_busy import _slot_held_elsewhere
from tests.app.conftest import logged_in
from tests.unit import fixtures_files as F

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_busy_upload_workers_are_a_warning_with_a_retry(ui_app, monkeypatch):
    monkeypatch.setattr(data_service, "UPLOAD_WORKERS", 1)
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/data.py").run()
    with _slot_held_elsewhere(data_service.upload_slots_dir(ui_app)):
        at.file_uploader[0].upload("w.xlsx", F.good_raw_xlsx(), XLSX)
        at.run(timeout=60)
        assert not at.exception, at.exception
        assert any("busy" in w.value for w in at.warning)
        assert not any(b.label.startswith("Store") for b in at.button)
    at.button(key="wfp_busy_retry").click().run(timeout=60)  # the worker is free again: the file is read
    assert not at.exception
    assert at.success and "ready to import" in at.success[0].value
