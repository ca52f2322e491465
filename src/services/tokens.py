"""API tokens: created and revoked by admins, shown once, stored hashed, bound to an owner and a role.

A token can never carry more rights than its owner: a planner's token is a planner token, and a token of a
user who is later disabled or demoted stops working (or is limited) at once, because the owner is re-read on
every request.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from src.data import db, store, token_store
from src.services.auth import actor_for, normalise_username
from src.services.context import ROLES, Actor, AppContext, ServiceError, require_role

TOKEN_PREFIX = "wfp_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(app: AppContext, actor: Actor, *, owner: str, role: str, name: str) -> str:
    """Create a token for ``owner`` with ``role`` (admin only); returns the plaintext token — shown once."""
    require_role(actor, "admin")
    owner = normalise_username(owner)
    name = (name or "").strip()
    if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
        raise ServiceError("Give the token a name of 1–100 characters (e.g. 'telephony import').")
    if role not in ROLES:
        raise ServiceError(f"Role must be one of: {', '.join(ROLES)}.")
    owner_actor = actor_for(app, owner)
    if owner_actor is None:
        raise ServiceError(f"There is no active user called {owner!r}.")
    if role == "admin" and owner_actor.role != "admin":
        raise ServiceError("A token cannot have more rights than its owner (the owner is not an admin).")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write_tx(app.engine) as conn:
        token_id = token_store.insert_token(conn, name=name, token_hash=_hash(token), prefix=token[:10], owner=owner,
                                          role=role, created_by=actor.username)
        store.write_audit(conn, actor=actor.username, role=actor.role, action="token.create", object_type="api_token",
                          object_id=token_id, detail={"owner": owner, "role": role, "name": name})
    return token


def revoke_token(app: AppContext, actor: Actor, token_id: int) -> None:
    require_role(actor, "admin")
    with db.write_tx(app.engine) as conn:
        if not token_store.revoke(conn, int(token_id)):
            raise ServiceError(f"No active token with id {token_id}.")
        store.write_audit(conn, actor=actor.username, role=actor.role, action="token.revoke", object_type="api_token",
                          object_id=token_id)


def list_tokens(app: AppContext, actor: Actor) -> list[dict[str, Any]]:
    require_role(actor, "admin")
    return token_store.list_tokens(app.engine)


def authenticate_token(app: AppContext, token: str | None) -> Actor | None:
    """The actor a bearer token stands for, or None (unknown, revoked, owner disabled)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = token_store.find_active(app.engine, _hash(token))
    if not row:
        return None
    owner = actor_for(app, row["owner"])
    if owner is None:
        return None
    role = row["role"] if owner.role == "admin" else "planner"
    token_store.touch(app.engine, row["id"], db.utcnow())
    return Actor(username=owner.username, role=role, display_name=f"{owner.display_name} (token {row['name']})")
