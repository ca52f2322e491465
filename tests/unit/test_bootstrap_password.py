"""The first admin's password rules are said up front: in the README and in bootstrap's refusal, all of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.services import auth
from src.services.bootstrap import bootstrap
from src.services.context import ServiceError
from tests.conftest import fresh_app

ROOT = Path(__file__).resolve().parents[2]


def test_bootstrap_refusal_names_every_rule(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    monkeypatch.setenv("APP_ADMIN_PASSWORD", "Admin-2026-pass")  # long, three classes — but holds 'admin'
    app = fresh_app("sqlite", tmp_path)
    with pytest.raises(ServiceError) as err:
        bootstrap(app, load_demo=False, echo=lambda _: None)
    text = str(err.value)
    assert "must not contain the username" in text
    assert "at least 10 characters" in text and "three of" in text and "('admin')" in text


@pytest.mark.parametrize("doc", ["README.md", "config.example.env"])
def test_docs_say_the_admin_password_must_not_contain_the_username(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    assert "not contain" in text.lower().replace("\n", " ") and "Admin-2026-pass" in text
