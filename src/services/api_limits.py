"""Failed REST authentications per client address, counted in the database.

Why the database: the API may run as several processes (workers, hosts); a count kept in one process's memory
lets a client spread its guesses over the processes. The failures are rows of ``login_attempts`` (the table of the
login throttling in :mod:`src.services.auth`) under the key ``API:<address>``: login usernames are stored
lower-cased (``auth.normalise_username``), so an upper-case key can never be a username someone types into the
login form, and neither throttle can lock out the other. Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time

from sqlalchemy import delete

from src.data import db, store
from src.services.context import AppContext

KEY_PREFIX = "API:"


def client_key(address: str) -> str:
    """The ``login_attempts`` key of a client address (upper-case prefix: never a normalised username)."""
    return (KEY_PREFIX + (address or "unknown"))[:128]


def recent_failures(app: AppContext, address: str, window_s: float, *, now: float | None = None,
                    since: float | None = None) -> int:
    """Failed authentications of ``address`` in the last ``window_s`` seconds (and not before ``since``)."""
    now = time.time() if now is None else now
    start = now - window_s if since is None else max(now - window_s, since)
    return sum(1 for _ts, ok in store.login_attempts_since(app.engine, client_key(address), start) if not ok)


def record_failure(app: AppContext, address: str, *, keep_s: float, now: float | None = None) -> None:
    """Record one failed authentication of ``address`` and drop its rows older than ``keep_s`` (one transaction),
    so the table holds at most a window's worth of rows per client."""
    now = time.time() if now is None else now
    key = client_key(address)
    t = db.login_attempts
    with db.write_tx(app.engine) as conn:
        store.record_login_attempt(conn, key, now, False)
        conn.execute(delete(t).where(t.c.username == key, t.c.ts < now - keep_s))
