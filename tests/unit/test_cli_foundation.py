"""CLI: validate / ingest / users / demo-data / bootstrap, through src.cli.main on a temporary database."""

from __future__ import annotations

import json
import os
import stat

import pytest

from src import cli
from src.data import store
from src.services import auth
from src.services.context import set_app
from src.settings import ensure_local_secret
from tests.conftest import fresh_app

BROKEN = b"date,site,unit,shifts\n2025-01-01,H1,A,3\n2025-01-02,H1,A,-1\n2025-13-03,H1,A,2\n"
GOOD = b"date,site,unit,shifts\n2025-01-01,H1,A,3\n2025-01-02,H1,A,4\n"


@pytest.fixture
def cli_app(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    ctx = fresh_app("sqlite", tmp_path)
    set_app(ctx)
    yield ctx
    set_app(None)
    ctx.engine.dispose()


def test_validate_prints_every_problem_and_exits_1(tmp_path, capsys):
    f = tmp_path / "bad.csv"
    f.write_bytes(BROKEN)
    assert cli.main(["validate", "unit_shifts", str(f)]) == 1
    out = capsys.readouterr().out
    assert "row 3" in out and "row 4" in out and "'shifts'" in out and "'date'" in out


def test_validate_json(tmp_path, capsys):
    f = tmp_path / "good.csv"
    f.write_bytes(GOOD)
    assert cli.main(["validate", "unit_shifts", str(f), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is True and payload["rows"] == 2


def test_validate_a_sheet_with_one_column_per_queue(tmp_path, capsys):
    f = tmp_path / "plan.csv"
    f.write_bytes(b"Datum;Uhrzeit;Service;Vertrieb\n04.03.2024;08:00;12;3\n04.03.2024;08:30;15;4\n")
    assert cli.main(["validate", "workload", str(f)]) == 1  # read as a long file: no queue/volume columns
    assert "one column per queue" in capsys.readouterr().out
    assert cli.main(["validate", "workload", str(f), "--queues-in-columns", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 4


def test_ingest_stores_nothing_on_error(cli_app, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(BROKEN)
    assert cli.main(["ingest", "unit_shifts", str(bad)]) == 1
    assert store.table_row_count(cli_app.engine, "unit_shifts") == 0
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD)
    assert cli.main(["ingest", "unit_shifts", str(good)]) == 0
    assert store.table_row_count(cli_app.engine, "unit_shifts") == 2


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="Cannot read"):
        cli.main(["validate", "workload", str(tmp_path / "nope.csv")])


def test_users_commands(cli_app, capsys, monkeypatch):
    monkeypatch.setenv("WFP_NEW_PASSWORD", "Planner-Pass-77")
    assert cli.main(["users", "add", "pat", "--role", "planner", "--name", "Pat"]) == 0
    assert cli.main(["users", "list"]) == 0
    assert "pat" in capsys.readouterr().out
    assert cli.main(["users", "add", "pat"]) == 1  # duplicate
    assert cli.main(["users", "disable", "pat"]) == 0
    assert store.get_user(cli_app.engine, "pat")["disabled"]
    monkeypatch.setenv("WFP_NEW_PASSWORD", "weak")
    assert cli.main(["users", "set-password", "pat"]) == 1


def test_demo_data_command_writes_files(tmp_path):
    assert cli.main(["demo-data", "--out", str(tmp_path), "--samples"]) == 0
    assert any(p.suffix == ".xlsx" for p in tmp_path.iterdir())


def test_bootstrap_prints_generated_password_once(cli_app, capsys, monkeypatch):
    monkeypatch.delenv("APP_ADMIN_PASSWORD", raising=False)
    from src.services.bootstrap import bootstrap

    lines: list[str] = []
    bootstrap(cli_app, load_demo=False, echo=lines.append)
    text = "\n".join(lines)
    assert "created user 'admin'" in text
    pw = text.split("password\n\n")[1].split()[0]
    assert auth.verify_password(pw, store.get_user(cli_app.engine, "admin")["password_hash"])
    lines.clear()
    bootstrap(cli_app, load_demo=False, echo=lines.append)
    assert lines == ["Users exist already (1, 1 active admin); no admin created. Use "
                     "`python -m src.cli users add NAME --role admin --generate` to add one."]


def test_bootstrap_on_a_used_database_says_why_no_admin_is_created(cli_app, capsys, monkeypatch):
    """It used to print nothing: an operator setting APP_ADMIN_PASSWORD on a used database believed an admin was
    created. It still exits 0, because `make run` bootstraps on every start."""
    from src.services.context import SYSTEM

    auth.create_user(cli_app, SYSTEM, username="pat", display_name="Pat", role="planner",
                     password="Strong-Pass-123")
    auth.create_user(cli_app, SYSTEM, username="nina", display_name="Nina", role="planner",
                     password="Strong-Pass-456")
    monkeypatch.setenv("APP_COOKIE_KEY", "k" * 64)
    monkeypatch.setenv("APP_ADMIN_PASSWORD", "Another-Strong-Pass-789")
    assert cli.main(["bootstrap", "--no-demo"]) == 0
    out = capsys.readouterr().out
    assert "Users exist already (2, 0 active admins); no admin created." in out
    assert "python -m src.cli users add NAME --role admin --generate" in out
    assert "APP_ADMIN_PASSWORD is only used for the first admin and was ignored." in out
    assert store.get_user(cli_app.engine, "admin") is None


def test_bootstrap_refuses_weak_env_password(cli_app, monkeypatch):
    from src.services.bootstrap import bootstrap
    from src.services.context import ServiceError

    monkeypatch.setenv("APP_ADMIN_PASSWORD", "admin")
    with pytest.raises(ServiceError, match="APP_ADMIN_PASSWORD"):
        bootstrap(cli_app, load_demo=False, echo=lambda _s: None)


def test_local_secret_file_is_private_and_stable(tmp_path):
    path = tmp_path / ".local" / "cookie_key"
    key = ensure_local_secret(path)
    assert len(key) >= 48 and ensure_local_secret(path) == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
