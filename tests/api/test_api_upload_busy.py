"""All upload workers busy: REST answers 503 with Retry-After (documented), the CLI exits 75 with one line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from src.services import data as data_service
from tests.api.conftest import bearer
from tests.unit import fixtures_files as F

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def _slot_held_elsewhere(slots: Path) -> Iterator[None]:
    """One upload-worker slot held by another process (another REST worker or the app) for the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from src.data.upload_worker import "
         "worker_slot; slot = worker_slot(Path(sys.argv[1]), 1); slot.__enter__(); print('held', flush=True); "
         "time.sleep(120)", str(slots)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_busy_upload_workers_answer_503_with_retry_after(client, api_app, admin_token, monkeypatch):
    monkeypatch.setattr(data_service, "UPLOAD_WORKERS", 1)
    workbook = ("w.xlsx", F.good_raw_xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    with _slot_held_elsewhere(data_service.upload_slots_dir(api_app)):
        for path in ("/api/v1/data/validate", "/api/v1/data/ingest"):
            r = client.post(path, headers=bearer(admin_token), data={"kind": "workload"}, files={"file": workbook})
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert r.headers["Retry-After"] == str(data_service.UPLOAD_RETRY_AFTER_S)
            assert "busy" in r.json()["detail"]
    doc = client.get("/openapi.json").json()["paths"]["/api/v1/data/ingest"]["post"]["responses"]
    assert "503" in doc
    r = client.post("/api/v1/data/validate", headers=bearer(admin_token), data={"kind": "workload"},
                    files={"file": workbook})
    assert r.status_code == 200  # the slot is free again


def test_cli_ingest_on_a_busy_server_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    from src import cli
    from src.services.context import set_app
    from tests.conftest import fresh_app

    app = fresh_app("sqlite", tmp_path)
    set_app(app)
    monkeypatch.setattr(data_service, "UPLOAD_WORKERS", 1)
    book = tmp_path / "w.xlsx"
    book.write_bytes(F.good_raw_xlsx())
    try:
        with _slot_held_elsewhere(data_service.upload_slots_dir(app)):
            code = cli.main(["ingest", "workload", str(book)])
    finally:
        set_app(None)
        app.engine.dispose()
    err = capsys.readouterr().err
    assert code == 75 and err.startswith("Not stored: ") and "Retry in" in err and "Traceback" not in err
