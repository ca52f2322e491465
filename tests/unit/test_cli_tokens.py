"""`users token create|list|revoke`: API tokens from the command line, as on Users → API tokens (audited)."""

from __future__ import annotations

import pytest

from src import cli
from src.data import store
from src.services import auth, tokens
from src.services.context import set_app
from tests.conftest import ADMIN, fresh_app


@pytest.fixture
def cli_app(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    ctx = fresh_app("sqlite", tmp_path)
    auth.ensure_admin(ctx, "Secure-Root-Pass1")
    auth.create_user(ctx, ADMIN, username="pat", display_name="Pat", role="planner", password="Planner-Pass-77")
    set_app(ctx)
    yield ctx
    set_app(None)
    ctx.engine.dispose()


def test_create_prints_only_a_working_token_then_list_and_revoke(cli_app, capsys):
    assert cli.main(["users", "token", "create", "pat", "--role", "planner", "--name", "telephony import"]) == 0
    token = capsys.readouterr().out.strip()
    assert "\n" not in token and len(token) > 20  # only the token: TOKEN=$(…) in scripts
    actor = tokens.authenticate_token(cli_app, token)
    assert actor is not None and (actor.username, actor.role) == ("pat", "planner")
    assert cli.main(["users", "token", "list"]) == 0
    listed = capsys.readouterr().out
    assert "telephony import" in listed and "active" in listed and token not in listed
    token_id = tokens.list_tokens(cli_app, ADMIN)[0]["id"]
    assert cli.main(["users", "token", "revoke", str(token_id)]) == 0
    assert tokens.authenticate_token(cli_app, token) is None
    assert set(store.audit_events(cli_app.engine)["action"]) >= {"token.create", "token.revoke"}


def test_bad_token_requests_are_one_line_errors(cli_app, capsys):
    assert cli.main(["users", "token", "create", "pat", "--role", "planner", "--name", " "]) == 1
    assert capsys.readouterr().out.startswith("error: Give the token a name")
    assert cli.main(["users", "token", "revoke", "999"]) == 1
    assert "No active token with id 999" in capsys.readouterr().out
