"""Users (admin): add users, reset passwords, change roles, disable/enable. Every change is audited."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from src.services import auth as auth_service
from src.services import tokens as token_service
from src.services.context import ROLES, PermissionDenied, ServiceError
from src.ui import state
from src.ui.common import app_context, require_page_role
from src.ui.tables import dash_missing

actor = require_page_role("admin")
app = app_context()

st.title("Users")
FLASH = "users_flash"


def _run(action, success: str, note: str | None = None) -> None:  # noqa: ANN001
    """Run a change; on success rerun the page so the user table and every user picker show it (they are drawn
    before the forms), with the message (and ``note``, e.g. a generated password) shown once afterwards."""
    try:
        action()
    except (ServiceError, PermissionDenied) as exc:
        st.error(str(exc))
    else:
        state.put(FLASH, (success, note))
        st.rerun()


# always drawn (empty most of the time): a message appearing above the tabs would shift them, and the browser then
# redraws them on the first tab — hiding, e.g., the API token that is shown only once
flash_box = st.container()
flash = state.pop(FLASH)
if flash:
    flash_box.success(flash[0])
    if flash[1]:
        flash_box.info(flash[1])


users = auth_service.list_users(app, actor)
table = pd.DataFrame(users)
if len(table):
    st.dataframe(table[["username", "display_name", "role", "disabled", "created_at", "updated_at"]],
                 hide_index=True, width="stretch")

add_tab, pw_tab, role_tab, disable_tab, token_tab = st.tabs(
    ["Add user", "Reset password", "Change role", "Disable / enable", "API tokens"])

with add_tab, st.form(state.key("add_user"), clear_on_submit=True):
    c1, c2, c3 = st.columns(3)
    username = c1.text_input("Username", help="2–32 lower-case letters, digits, '.', '_' or '-'")
    display = c2.text_input("Display name")
    role = c3.selectbox("Role", ROLES, index=1)
    password = st.text_input("Initial password", type="password",
                             help=f"At least {auth_service.MIN_PASSWORD_LENGTH} characters, three of: lower case, "
                                  "upper case, digits, symbols.")
    if st.form_submit_button("Add user", type="primary"):
        _run(lambda: auth_service.create_user(app, actor, username=username, display_name=display, role=role,
                                              password=password), f"User {username.strip().lower()} created.")

names = [u["username"] for u in users]
with pw_tab, st.form(state.key("reset_pw"), clear_on_submit=True):
    who = st.selectbox("User", names, key=state.key("pw_user"))
    new_pw = st.text_input("New password", type="password")
    generate = st.checkbox("Generate a random password instead (shown once)")
    if st.form_submit_button("Reset password"):
        pw = auth_service.generate_password() if generate else new_pw
        _run(lambda: auth_service.set_password(app, actor, who, pw), f"Password of {who} changed.",
             f"New password for {who}: `{pw}` — it is shown only now." if generate else None)

with role_tab, st.form(state.key("role")):
    who_r = st.selectbox("User", names, key=state.key("role_user"))
    new_role = st.selectbox("New role", ROLES, key=state.key("role_value"))
    if st.form_submit_button("Change role"):
        _run(lambda: auth_service.set_role(app, actor, who_r, new_role), f"{who_r} is now {new_role}.")

with disable_tab, st.form(state.key("disable")):
    who_d = st.selectbox("User", names, key=state.key("disable_user"))
    make_disabled = st.radio("Account", ["disable", "enable"], horizontal=True) == "disable"
    if st.form_submit_button("Apply"):
        _run(lambda: auth_service.set_disabled(app, actor, who_d, make_disabled),
             f"{who_d} {'disabled' if make_disabled else 'enabled'}.")

with token_tab:
    st.caption("Tokens let other systems use the REST API (`python -m src.api`). A token acts as its owner with the "
               "chosen role (never more than the owner has), is shown once, and is stored only as a hash.")
    with st.form(state.key("new_token"), clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        token_name = c1.text_input("Token name", placeholder="telephony import")
        owner = c2.selectbox("Owner", names, key=state.key("token_owner"))
        token_role = c3.selectbox("Role", ROLES, index=1, key=state.key("token_role"))
        if st.form_submit_button("Create token"):
            try:
                new_token = token_service.create_token(app, actor, owner=owner, role=token_role, name=token_name)
            except (ServiceError, PermissionDenied) as exc:
                st.error(str(exc))
            else:
                st.success("Token created. Copy it now — it is shown only this once:")
                st.code(new_token, language=None)
    existing = pd.DataFrame(token_service.list_tokens(app, actor))
    if len(existing):  # never revoked / never used: "–", not a grey "None"
        when = lambda v: f"{pd.Timestamp(v):%Y-%m-%d %H:%M:%S}"  # noqa: E731 - as the created_at column shows
        st.dataframe(dash_missing(existing, {"revoked_at": when, "last_used_at": when}), hide_index=True,
                     width="stretch")
        active = existing[existing["revoked_at"].isna()]
        if len(active):
            with st.form(state.key("revoke_token")):
                tid = st.selectbox("Token to revoke", list(active["id"]),
                                   format_func=lambda i: f"#{i} {active.set_index('id').loc[i, 'name']} "
                                                         f"({active.set_index('id').loc[i, 'owner']})")
                if st.form_submit_button("Revoke"):
                    _run(lambda: token_service.revoke_token(app, actor, int(tid)), f"Token #{tid} revoked.")
    else:
        st.caption("No API tokens yet.")
