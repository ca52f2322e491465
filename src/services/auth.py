"""Users, passwords, login throttling and session-cookie checks.

Users live in the database, not in the YAML file streamlit-authenticator would rewrite without a lock on
every login (shared/SECURITY_FINDINGS.md G: concurrent logins corrupted it). Passwords are bcrypt hashes only.
The library's own ``max_login_attempts`` is either inert or a permanent lock-out, so throttling is done here:
per username, time based, persisted (works across sessions, processes and restarts).
"""

from __future__ import annotations

import logging
import re
import secrets
import string
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import bcrypt
import jwt

from src.data import db, store
from src.services.context import ROLES, Actor, AppContext, PermissionDenied, ServiceError, require_role

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
MIN_PASSWORD_LENGTH = 10
#: the account the first start creates
DEFAULT_ADMIN = "admin"
MAX_PASSWORD_BYTES = 72  # bcrypt ignores/refuses anything longer
BCRYPT_ROUNDS = 12


# ----------------------------------------------------------------------------------------------- passwords

def password_rules(username: str = "") -> str:
    """The password policy in one sentence — said up front (bootstrap, README, forms) instead of one rule per
    failed attempt."""
    name = f" ('{username}')" if username else ""
    return (f"at least {MIN_PASSWORD_LENGTH} characters (at most {MAX_PASSWORD_BYTES} bytes), three of: lower case, "
            f"upper case, digits, symbols; it must not contain the username{name} nor start or end with a space")


def check_password_policy(password: str, username: str = "") -> None:
    """Raise ServiceError with a plain sentence if ``password`` is not acceptable."""
    if password != password.strip():
        raise ServiceError("The password must not start or end with spaces (the login form strips them).")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ServiceError(f"The password must be at most {MAX_PASSWORD_BYTES} bytes long.")
    if username and username.lower() in password.lower():
        raise ServiceError("The password must not contain the username.")
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if classes < 3:
        raise ServiceError("The password needs at least three of: lower case, upper case, digits, symbols.")


def hash_password(password: str, rounds: int | None = None) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds or BCRYPT_ROUNDS)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:  # too long (bcrypt 5) or malformed hash
        return False


def generate_password(length: int = 16) -> str:
    """A random password that satisfies the policy (used for the first admin and for resets)."""
    alphabet = string.ascii_letters + string.digits + "-_.!%"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        try:
            check_password_policy(pw)
            return pw
        except ServiceError:
            continue


def normalise_username(username: str) -> str:
    """The login form lower-cases and strips usernames; so do we, everywhere."""
    return (username or "").strip().lower()


# ----------------------------------------------------------------------------------------------- user admin

def _validate_new_user(username: str, display_name: str, role: str) -> None:
    if not USERNAME_RE.match(username):
        raise ServiceError("Usernames are 2–32 characters: lower-case letters, digits, '.', '_' or '-', "
                           "starting with a letter.")
    if not display_name.strip() or len(display_name) > 128:
        raise ServiceError("Give a display name of 1–128 characters.")
    if any(ord(c) < 32 for c in display_name):
        raise ServiceError("The display name must not contain control characters.")
    if role not in ROLES:
        raise ServiceError(f"Role must be one of: {', '.join(ROLES)}.")


def create_user(app: AppContext, actor: Actor, *, username: str, display_name: str, role: str,
                password: str) -> None:
    """Create a user (admin only). The password is hashed; the audit log records who created whom."""
    require_role(actor, "admin")
    username = normalise_username(username)
    _validate_new_user(username, display_name, role)
    check_password_policy(password, username)
    with db.write_tx(app.engine) as conn:
        if store.get_user(conn, username):
            raise ServiceError(f"A user called {username!r} exists already.")
        store.insert_user(conn, username=username, display_name=display_name.strip(), role=role,
                          password_hash=hash_password(password))
        store.write_audit(conn, actor=actor.username, role=actor.role, action="user.create", object_type="user",
                          object_id=username, detail={"role": role})


def list_users(app: AppContext, actor: Actor) -> list[dict[str, Any]]:
    require_role(actor, "admin")
    return [{k: v for k, v in u.items() if k != "password_hash"} for u in store.list_users(app.engine)]


def _change_user(app: AppContext, actor: Actor, username: str, action: str, detail: dict[str, Any],
                 **values: Any) -> None:
    require_role(actor, "admin")
    username = normalise_username(username)
    with db.write_tx(app.engine) as conn:
        user = store.get_user(conn, username)
        if not user:
            raise ServiceError(f"There is no user called {username!r}.")
        if username == actor.username and (values.get("disabled") or values.get("role", "admin") != "admin"):
            raise ServiceError("You cannot disable yourself or remove your own admin role.")
        if user["role"] == "admin" and (values.get("disabled") or values.get("role", "admin") != "admin"):
            from sqlalchemy import func, select
            admins = conn.execute(select(func.count()).select_from(db.users).where(
                db.users.c.role == "admin", db.users.c.disabled.is_(False))).scalar()
            if admins <= 1:
                raise ServiceError("This is the last active admin; create another admin first.")
        store.update_user(conn, username, **values)
        store.write_audit(conn, actor=actor.username, role=actor.role, action=action, object_type="user",
                          object_id=username, detail=detail)


def set_password(app: AppContext, actor: Actor, username: str, password: str) -> None:
    """Reset a user's password (admin). Existing login cookies of that user stop working."""
    check_password_policy(password, normalise_username(username))
    _change_user(app, actor, username, "user.set_password", {}, password_hash=hash_password(password),
                 sessions_valid_after=time.time())


def set_role(app: AppContext, actor: Actor, username: str, role: str) -> None:
    if role not in ROLES:
        raise ServiceError(f"Role must be one of: {', '.join(ROLES)}.")
    _change_user(app, actor, username, "user.set_role", {"role": role}, role=role)


def set_disabled(app: AppContext, actor: Actor, username: str, disabled: bool) -> None:
    values: dict[str, Any] = {"disabled": disabled}
    if disabled:
        values["sessions_valid_after"] = time.time()
    _change_user(app, actor, username, "user.disable" if disabled else "user.enable", {}, **values)


def ensure_admin(app: AppContext, password: str | None = None) -> str | None:
    """Create the first ``admin`` account when there are no users; return the password if one was generated.

    The password comes from ``APP_ADMIN_PASSWORD`` (passed in) or is random; it is never stored in clear.
    """
    if store.count_users(app.engine) > 0:
        return None
    generated = password is None
    password = password or generate_password()
    check_password_policy(password, DEFAULT_ADMIN)
    with db.write_tx(app.engine) as conn:
        if store.get_user(conn, DEFAULT_ADMIN):
            return None
        store.insert_user(conn, username=DEFAULT_ADMIN, display_name="Administrator", role="admin",
                          password_hash=hash_password(password))
        store.write_audit(conn, actor="system", role="admin", action="user.create", object_type="user",
                          object_id=DEFAULT_ADMIN, detail={"role": "admin", "bootstrap": True})
    return password if generated else ""


# ----------------------------------------------------------------------------------------------- login

@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window_seconds: int = 900
    lockout_seconds: int = 900

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window_seconds < 1 or self.lockout_seconds < 1:
            raise ValueError("Lockout policy values must be positive.")


def lockout_remaining(attempts: Sequence[tuple[float, bool]], now: float, policy: LockoutPolicy) -> float:
    """Seconds the username stays locked (0 = may try), from its attempts ``(ts, success)`` in time order.

    Failures count from the last success on; once ``max_failures`` failures fall inside ``window_seconds``,
    the user is locked for ``lockout_seconds`` after the latest of them. Time-based, so an attacker cannot
    lock someone out for ever, and a success resets the count.
    """
    failures: list[float] = []
    for ts, ok in attempts:
        if ok:
            failures.clear()
        else:
            failures.append(ts)
    recent = [ts for ts in failures if ts > now - policy.window_seconds - policy.lockout_seconds]
    for i in range(len(recent) - policy.max_failures + 1):
        window = recent[i:i + policy.max_failures]
        if window[-1] - window[0] <= policy.window_seconds:
            until = recent[-1] + policy.lockout_seconds
            if until > now:
                return until - now
    return 0.0


def policy_from(app: AppContext) -> LockoutPolicy:
    s = app.settings
    return LockoutPolicy(s.login_max_failures, s.login_window_seconds, s.login_lockout_seconds)


def login_lock_seconds(app: AppContext, username: str, now: float | None = None) -> float:
    now = time.time() if now is None else now
    policy = policy_from(app)
    since = now - policy.window_seconds - policy.lockout_seconds
    return lockout_remaining(store.login_attempts_since(app.engine, normalise_username(username), since),
                             now, policy)


def record_login(app: AppContext, username: str, success: bool, *, reason: str = "", ts: float | None = None) -> None:
    """Persist a login attempt and its audit event (own transaction: failures must persist)."""
    username = normalise_username(username)
    user = store.get_user(app.engine, username)
    with db.write_tx(app.engine) as conn:
        store.record_login_attempt(conn, username, time.time() if ts is None else ts, success)
        store.write_audit(conn, actor=username or "(empty)", role=user["role"] if user else None,
                          action="auth.login", outcome="ok" if success else "failed", object_type="user",
                          object_id=username, detail={"reason": reason} if reason else None)


def record_logout(app: AppContext, actor: Actor) -> None:
    """Audit the logout and revoke every cookie issued to this user so far (the library cannot)."""
    with db.write_tx(app.engine) as conn:
        store.update_user(conn, actor.username, sessions_valid_after=time.time())
        store.write_audit(conn, actor=actor.username, role=actor.role, action="auth.logout", object_type="user",
                          object_id=actor.username)


def authenticator_credentials(app: AppContext) -> dict[str, Any]:
    """The ``credentials`` dict for streamlit-authenticator: active users only, bcrypt hashes only.

    Rebuilt from the database on every run, so the library's in-memory counters never matter; the lock-out is
    enforced by :func:`check_login_allowed` before the library checks the password.
    """
    users: dict[str, Any] = {}
    for u in store.list_users(app.engine):
        if u["disabled"]:
            continue
        users[u["username"]] = {"name": u["display_name"], "password": u["password_hash"], "roles": [u["role"]],
                                "email": f"{u['username']}@localhost", "failed_login_attempts": 0,
                                "logged_in": False}
    return {"usernames": users}


def actor_for(app: AppContext, username: str | None) -> Actor | None:
    """Re-read the user on every request: a disabled user or a changed role takes effect at once."""
    if not username:
        return None
    user = store.get_user(app.engine, normalise_username(username))
    if not user or user["disabled"]:
        return None
    return Actor(username=user["username"], role=user["role"], display_name=user["display_name"])


def verify_session_token(app: AppContext, token: str | None, now: float | None = None) -> dict[str, Any] | None:
    """Check a login cookie more strictly than the library does; return its claims or None.

    Refuses: bad signature, any decode error, missing/non-numeric ``exp_date``, expiry further ahead than the
    configured lifetime (a forged long-lived token), unknown or disabled users, and tokens issued before the
    user's last logout / password reset / disable (server-side revocation).
    """
    if not token:
        return None
    now = time.time() if now is None else now
    try:
        claims = jwt.decode(token, app.settings.cookie_key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    if not isinstance(claims, dict):
        return None
    username, exp = claims.get("username"), claims.get("exp_date")
    if not isinstance(username, str) or not isinstance(exp, int | float) or isinstance(exp, bool):
        return None
    lifetime = app.settings.cookie_expiry_days * 86400
    if not now < exp <= now + lifetime + 60:
        return None
    user = store.get_user(app.engine, username)
    if not user or user["disabled"]:
        return None
    issued_at = exp - lifetime
    if issued_at < float(user["sessions_valid_after"] or 0.0):
        return None
    return {"username": username, "exp_date": exp}


def check_login_allowed(app: AppContext, username: str) -> None:
    """Raise PermissionDenied with the remaining lock time if the username is locked."""
    remaining = login_lock_seconds(app, username)
    if remaining > 0:
        minutes = max(1, round(remaining / 60))
        raise PermissionDenied(f"Too many failed logins for this user. Try again in about {minutes} minute(s).")
