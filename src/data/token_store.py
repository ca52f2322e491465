"""API tokens for the REST API: only a SHA-256 of each token is stored; the token itself is shown once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Engine, Integer, String, Table, insert, select, update

from src.data import db

api_tokens = Table(
    "api_tokens", db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
    Column("last_used_at", DateTime, nullable=True),
)


def insert_token(conn: Connection, *, name: str, token_hash: str, prefix: str, owner: str, role: str,
                 created_by: str) -> int:
    return conn.execute(insert(api_tokens).values(
        name=name, token_hash=token_hash, prefix=prefix, owner=owner, role=role, created_by=created_by,
        created_at=db.utcnow()).returning(api_tokens.c.id)).scalar_one()


def find_active(engine: Engine, token_hash: str) -> dict[str, Any] | None:
    with db.read_conn(engine) as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash,
                                                    api_tokens.c.revoked_at.is_(None))).mappings().first()
    return dict(row) if row else None


def touch(engine: Engine, token_id: int, when: datetime) -> None:
    with db.write_tx(engine) as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=when))


def revoke(conn: Connection, token_id: int) -> int:
    return conn.execute(update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                        .values(revoked_at=db.utcnow())).rowcount


def list_tokens(engine: Engine) -> list[dict[str, Any]]:
    cols = [c for c in api_tokens.c if c.name != "token_hash"]
    with db.read_conn(engine) as conn:
        return [dict(r) for r in conn.execute(select(*cols).order_by(api_tokens.c.id.desc())).mappings()]
