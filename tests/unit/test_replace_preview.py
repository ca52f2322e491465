"""services.data.preview_replace: what 'replace' would delete, computed without storing (issue 13.7)."""

from __future__ import annotations

import pandas as pd

from src.data import store
from src.services import data as data_service
from tests.conftest import ADMIN
from tests.unit.fixtures_files import csv_bytes

HEADER = ["staff_id", "date", "shift_type", "start", "end", "site", "unit", "hours"]


def _roster(rows: list[list[str]]) -> bytes:
    return csv_bytes([HEADER, *rows])


def _frame(app, content: bytes) -> pd.DataFrame:
    report = data_service.validate_upload(app, ADMIN, kind="roster", filename="r.csv", content=content)
    assert report.ok, report.summary()
    return report.frame


def test_preview_counts_what_replace_deletes_and_stores_nothing(app):
    week = [[sid, f"2026-11-0{d}", "early", "", "", "Haus A", "WB 1", ""] for sid in ("S1", "S2", "S3")
            for d in range(2, 8)]
    other_site = [["S7", "2026-11-03", "early", "", "", "Haus B", "WB 1", ""]]
    data_service.ingest_upload(app, ADMIN, kind="roster", filename="v1.csv", content=_roster(week + other_site))
    before = store.table_row_count(app.engine, "roster")
    assert before == 19

    # a correction of S1's Tuesday and Wednesday only: the site's stored shifts from the 3rd to the 4th go
    fix = _roster([["S1", "2026-11-03", "late", "", "", "Haus A", "WB 1", ""],
                   ["S1", "2026-11-04", "late", "", "", "Haus A", "WB 1", ""]])
    preview = data_service.preview_replace(app, ADMIN, kind="roster", frame=_frame(app, fix))
    assert store.table_row_count(app.engine, "roster") == before, "a preview stores nothing"
    ov = preview.overlap
    assert preview.rows == 6 and ov.people == ("S1", "S2", "S3") and ov.people_not_in_file == ("S2", "S3")
    assert ov.sites == ("Haus A",) and pd.Timestamp(ov.first) == pd.Timestamp("2026-11-03")
    assert pd.Timestamp(ov.last) == pd.Timestamp("2026-11-04")
    assert preview.message.startswith("6 stored roster (regular shifts) shifts overlap this file (from 2026-11-03 "
                                      "to 2026-11-04; site Haus A; 3 people, 2 of them not in this file (S2, S3)")

    outcome = data_service.ingest_upload(app, ADMIN, kind="roster", filename="v2.csv", content=fix, policy="replace")
    assert outcome.result.replaced_rows == preview.rows, "the preview and the store agree"


def test_preview_of_a_file_that_only_adds(app):
    fresh = _roster([["S1", "2026-11-03", "late", "", "", "Haus A", "WB 1", ""]])
    preview = data_service.preview_replace(app, ADMIN, kind="roster", frame=_frame(app, fresh))
    assert preview.rows == 0 and "only adds" in preview.message
