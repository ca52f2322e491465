"""Home page through AppTest: the loaded-data table and the last uploads read as words, not codes or 'None'."""

from __future__ import annotations

from pathlib import Path

from src.services import data as data_service
from tests.app.conftest import logged_in
from tests.conftest import ADMIN

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "sample"


def test_loaded_data_says_dash_where_a_dataset_has_no_series_or_dates(ui_app):
    for kind, name in (("staff", "staff_sample.csv"), ("workload", "workload_sample.csv")):
        out = data_service.ingest_upload(ui_app, ADMIN, kind=kind, filename=name,
                                         content=(SAMPLES / name).read_bytes())
        assert out.stored, out.message
    at = logged_in("pat", "planner").run()
    assert not at.exception, at.exception
    loaded = at.dataframe[0].value.set_index("Dataset")
    assert loaded.loc["Staff", ["Series", "From", "To"]].tolist() == ["–", "–", "–"]
    assert loaded.loc["Workload history (contact centre)", ["Series", "From", "To"]].tolist() == [
        "2", "2026-10-04", "2026-10-31"]
    uploads = at.dataframe[1].value
    assert set(uploads["Kind"]) == {"Staff", "Workload history (contact centre)"}  # not "staff", "workload"


def test_last_uploads_are_shown_in_the_app_zone(ui_app):
    """Issue 13.14: 'At (UTC)' beside local times elsewhere; one zone (APP_TIMEZONE) on every page."""
    import pandas as pd

    from src.data import store

    name = "staff_sample.csv"
    assert data_service.ingest_upload(ui_app, ADMIN, kind="staff", filename=name,
                                      content=(SAMPLES / name).read_bytes()).stored
    at = logged_in("pat", "planner").run()
    assert not at.exception, at.exception
    uploads = at.dataframe[1].value
    assert "At (UTC)" not in uploads.columns
    utc = pd.Timestamp(store.upload_history(ui_app.engine)["uploaded_at"].iloc[0])
    local = utc.tz_localize("UTC").tz_convert(ui_app.settings.timezone).tz_localize(None)
    assert pd.Timestamp(uploads["At"].iloc[0]) == local
