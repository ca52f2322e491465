"""streamlit-authenticator 0.4.2 glued to our user store, lock-out and audit log.

What we keep from the library: its login form and its signed re-login cookie. What we replace, because the
library gets it wrong (shared/SECURITY_FINDINGS.md G):
- cookie check: the library accepts any signed token with any expiry and crashes without ``exp_date``;
  :func:`src.services.auth.verify_session_token` also enforces the configured lifetime and server-side
  revocation (logout, password reset, disable);
- throttling: checked before the library looks at the password, per username, time based, persisted;
- credentials: rebuilt from the database each run (bcrypt hashes only, ``auto_hash=False``), never written to
  a YAML file;
- audit: every login, failure and logout.
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth

from src.services import auth as auth_service
from src.services.context import Actor, AppContext, PermissionDenied
from src.ui import state
from src.ui.text import md

log = logging.getLogger(__name__)


def _build_authenticator(app: AppContext) -> stauth.Authenticate:
    s = app.settings
    authenticator = stauth.Authenticate(
        auth_service.authenticator_credentials(app), s.cookie_name, s.cookie_key, s.cookie_expiry_days,
        auto_hash=False, login_sleep_time=0,  # sleep 0: deep links survive the cookie component's rerun
    )
    cookie_ctrl = authenticator.cookie_controller
    auth_ctrl = authenticator.authentication_controller
    original_login = auth_ctrl.login

    def safe_get_cookie() -> dict[str, Any] | None | bool:
        if st.session_state.get("logout"):
            return False
        try:
            raw = st.context.cookies.get(s.cookie_name)
        except Exception:  # noqa: BLE001 - no request context (AppTest): no cookie
            return None
        return auth_service.verify_session_token(app, raw if isinstance(raw, str) else None)

    def guarded_login(username: str | None = None, password: str | None = None, *args: Any,
                      **kwargs: Any) -> bool | None:
        if kwargs.get("token") is not None or not username:
            return original_login(username, password, *args, **kwargs)
        name = auth_service.normalise_username(username)
        try:
            auth_service.check_login_allowed(app, name)
        except PermissionDenied as exc:
            auth_service.record_login(app, name, False, reason="locked")
            raise stauth.LoginError(str(exc)) from None
        ok = original_login(username, password, *args, **kwargs)
        auth_service.record_login(app, name, bool(ok), reason="" if ok else "bad credentials")
        return ok

    cookie_ctrl.get_cookie = safe_get_cookie  # type: ignore[method-assign]
    auth_ctrl.login = guarded_login  # type: ignore[method-assign]
    return authenticator


def authenticate(app: AppContext) -> tuple[Actor | None, stauth.Authenticate]:
    """Render the login form when needed; return the logged-in actor (re-read from the database) or None."""
    authenticator = _build_authenticator(app)
    try:
        authenticator.login(location="main", fields={"Form name": "Sign in to Workforce Planner",
                                                     "Username": "Username", "Password": "Password",
                                                     "Login": "Sign in"})
    except stauth.LoginError as exc:  # the library's message can repeat the typed username
        st.error(md(exc))
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("Username or password is incorrect.")
    if not status:
        return None, authenticator
    actor = auth_service.actor_for(app, st.session_state.get("username"))
    if actor is None:  # disabled or deleted since the cookie was issued
        for key in ("authentication_status", "username", "name", "roles"):
            st.session_state[key] = None
        st.error("Your account is disabled. Ask an administrator.")
        return None, authenticator
    state.set_actor(actor)
    return actor, authenticator


def logout_button(app: AppContext, authenticator: stauth.Authenticate, actor: Actor) -> None:
    """Sidebar logout; revokes the user's cookies server-side and audits the logout."""

    def _on_logout(_info: dict[str, Any]) -> None:
        auth_service.record_logout(app, actor)
        state.clear_actor()

    authenticator.logout("Log out", location="sidebar", key="wfp_logout", callback=_on_logout)
