"""Users, password policy, login lock-out, cookie verification and role checks in the service layer."""

from __future__ import annotations

import time

import jwt
import pytest

from src.data import store
from src.services import auth
from src.services.context import Actor, PermissionDenied, ServiceError
from src.settings import ConfigError, check_cookie_key
from tests.conftest import ADMIN, PLANNER

GOOD_PW = "Correct-Horse-7"


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch):
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def users_app(app):
    auth.ensure_admin(app, "Secure-Root-Pass1")
    auth.create_user(app, ADMIN, username="pat", display_name="Pat Planner", role="planner", password=GOOD_PW)
    return app


# ---------------------------------------------------------------- lock-out policy (pure)

POLICY = auth.LockoutPolicy(max_failures=3, window_seconds=60, lockout_seconds=300)


def test_lockout_after_max_failures_within_window():
    attempts = [(100.0, False), (110.0, False), (120.0, False)]
    assert auth.lockout_remaining(attempts, 121.0, POLICY) == pytest.approx(299.0)
    assert auth.lockout_remaining(attempts, 420.0, POLICY) == 0.0  # lock is time based


def test_failures_spread_beyond_window_do_not_lock():
    attempts = [(0.0, False), (100.0, False), (200.0, False)]
    assert auth.lockout_remaining(attempts, 201.0, POLICY) == 0.0


def test_success_resets_failure_count():
    attempts = [(100.0, False), (110.0, False), (115.0, True), (120.0, False)]
    assert auth.lockout_remaining(attempts, 121.0, POLICY) == 0.0


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        auth.LockoutPolicy(max_failures=0)


def test_lockout_persists_and_blocks_even_the_right_password(users_app):
    app = users_app
    now = time.time()
    for i in range(app.settings.login_max_failures):
        auth.record_login(app, "pat", False, ts=now - 10 + i)
    with pytest.raises(PermissionDenied, match="Too many failed logins"):
        auth.check_login_allowed(app, "PAT ")
    auth.check_login_allowed(app, "admin")  # other users unaffected
    failed = store.audit_events(app.engine, action="auth.login")
    assert (failed["outcome"] == "failed").sum() == app.settings.login_max_failures


# ---------------------------------------------------------------- passwords and users

@pytest.mark.parametrize("pw,msg", [
    ("short1A!", "at least"), ("alllowercaseletters", "three of"), (" Padded-Pass-1 ", "spaces"),
    ("x" * 60 + "Aa1!ééééééé", "bytes"), ("pat-Secret-123", "username"),
])
def test_password_policy(pw, msg):
    with pytest.raises(ServiceError, match=msg):
        auth.check_password_policy(pw, "pat")


def test_passwords_are_stored_as_bcrypt_hashes(users_app):
    user = store.get_user(users_app.engine, "pat")
    assert user["password_hash"].startswith("$2b$") and GOOD_PW not in user["password_hash"]
    assert auth.verify_password(GOOD_PW, user["password_hash"])
    assert not auth.verify_password("wrong", user["password_hash"])
    assert not auth.verify_password("x" * 100, user["password_hash"])  # bcrypt 5 raises: we say False


def test_generated_passwords_satisfy_policy():
    for _ in range(20):
        auth.check_password_policy(auth.generate_password())


def test_planner_cannot_call_admin_services(users_app):
    with pytest.raises(PermissionDenied):
        auth.create_user(users_app, PLANNER, username="eve", display_name="Eve", role="admin", password=GOOD_PW)
    with pytest.raises(PermissionDenied):
        auth.set_role(users_app, PLANNER, "pat", "admin")
    with pytest.raises(PermissionDenied):
        auth.list_users(users_app, PLANNER)


def test_user_admin_changes_are_audited(users_app):
    app = users_app
    auth.set_role(app, ADMIN, "pat", "admin")
    auth.set_disabled(app, ADMIN, "pat", True)
    auth.set_password(app, ADMIN, "pat", "Another-Pass-9")
    actions = list(store.audit_events(app.engine)["action"])
    for a in ("user.create", "user.set_role", "user.disable", "user.set_password"):
        assert a in actions
    assert auth.actor_for(app, "pat") is None  # disabled users are not actors


def test_last_admin_cannot_be_removed(users_app):
    other = Actor("root2", "admin")
    with pytest.raises(ServiceError, match="last active admin"):
        auth.set_role(users_app, other, "admin", "planner")
    with pytest.raises(ServiceError, match="yourself"):
        auth.set_disabled(users_app, ADMIN, "admin", True)


@pytest.mark.parametrize("username", ["a", "1abc", "has space", "x" * 40, "ünï"])
def test_bad_usernames_rejected(users_app, username):
    with pytest.raises(ServiceError, match="Usernames"):
        auth.create_user(users_app, ADMIN, username=username, display_name="X", role="planner", password=GOOD_PW)


def test_duplicate_user_rejected(users_app):
    with pytest.raises(ServiceError, match="exists"):
        auth.create_user(users_app, ADMIN, username="Pat", display_name="X", role="planner", password=GOOD_PW)


def test_ensure_admin_only_once(app):
    pw = auth.ensure_admin(app)
    assert pw and auth.verify_password(pw, store.get_user(app.engine, "admin")["password_hash"])
    assert auth.ensure_admin(app) is None


# ---------------------------------------------------------------- cookies

def _token(app, username="pat", exp_offset=3600.0, key=None, **extra):
    claims = {"username": username, "exp_date": time.time() + exp_offset, **extra}
    return jwt.encode(claims, key or app.settings.cookie_key, algorithm="HS256")


def test_valid_cookie_accepted(users_app):
    assert auth.verify_session_token(users_app, _token(users_app))["username"] == "pat"


@pytest.mark.parametrize("case", ["forged_weak_key", "garbage", "no_exp", "exp_too_far", "expired", "unknown_user"])
def test_bad_cookies_refused(users_app, case):
    app = users_app
    token = {
        "forged_weak_key": lambda: _token(app, key="some_key"),
        "garbage": lambda: "not-a-jwt",
        "no_exp": lambda: jwt.encode({"username": "pat"}, app.settings.cookie_key, algorithm="HS256"),
        "exp_too_far": lambda: _token(app, exp_offset=10 * 365 * 86400),
        "expired": lambda: _token(app, exp_offset=-5),
        "unknown_user": lambda: _token(app, username="ghost"),
    }[case]()
    assert auth.verify_session_token(app, token) is None


def test_logout_and_disable_revoke_existing_cookies(users_app):
    app = users_app
    token = _token(app, exp_offset=app.settings.cookie_expiry_days * 86400)
    assert auth.verify_session_token(app, token)
    time.sleep(0.01)
    auth.record_logout(app, Actor("pat", "planner"))
    assert auth.verify_session_token(app, token) is None
    assert "auth.logout" in set(store.audit_events(app.engine)["action"])


@pytest.mark.parametrize("key", [None, "", "some_key", "short-key", "a" * 40])
def test_weak_cookie_keys_refused(key):
    with pytest.raises(ConfigError):
        check_cookie_key(key)
