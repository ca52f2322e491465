"""Users (admin): add users, reset passwords, change roles, disable/enable. Every change is audited."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from src.services import auth as auth_service
from src.services import tokens as token_service
from src.services.context import ROLES, PermissionDenied, ServiceError
from src.ui import state
from src.ui.common import app_context, require_page_role
from src.ui.dates import DATETIME_COLUMN_FORMAT, fmt_datetime, local_column
from src.ui.tables import dash_missing
from src.ui.text import md

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
        st.error(md(exc))  # messages name users and tokens
    else:
        state.put(FLASH, (success, note))
        st.rerun()


# always drawn (empty most of the time): a message appearing above the tabs would shift them, and the browser then
# redraws them on the first tab — hiding, e.g., the API token that is shown only once
flash_box = st.container()
flash = state.pop(FLASH)
if flash:
    flash_box.success(flash[0])  # escaped: built with md() in _run
    if flash[1]:
        flash_box.info(flash[1])  # escaped: built with md() in _run


users = auth_service.list_users(app, actor)
table = pd.DataFrame(users)
if len(table):
    # readable headers, and the stored UTC times in the app's zone like every other time on the pages
    table = table.assign(created_at=local_column(table["created_at"]), updated_at=local_column(table["updated_at"]))
    st.dataframe(table[["username", "display_name", "role", "disabled", "created_at", "updated_at"]],
                 hide_index=True, width="stretch", column_config={
                     "username": st.column_config.TextColumn("user name"),
                     "display_name": st.column_config.TextColumn("display name"),
                     "created_at": st.column_config.DatetimeColumn("created", format=DATETIME_COLUMN_FORMAT),
                     "updated_at": st.column_config.DatetimeColumn("changed", format=DATETIME_COLUMN_FORMAT)})

add_tab, pw_tab, role_tab, disable_tab, token_tab = st.tabs(
    ["Add user", "Reset password", "Change role", "Disable / enable", "API tokens"])

ADD_FIELDS = ("add_username", "add_display", "add_password")
# The form is not cleared on submit: a rejected password (or a taken user name) cleared the user name and display
# name too, and the admin typed them again. Only a created user empties the form — set to "" before the inputs are
# drawn on the rerun that follows (Streamlit forbids changing a drawn widget's value).
if state.pop("add_user_clear"):
    for field_key in ADD_FIELDS:
        st.session_state[state.key(field_key)] = ""
with add_tab, st.form(state.key("add_user")):
    c1, c2, c3 = st.columns(3)
    username = c1.text_input("Username", help="2–32 lower-case letters, digits, '.', '_' or '-'",
                             key=state.key("add_username"))
    display = c2.text_input("Display name", key=state.key("add_display"))
    role = c3.selectbox("Role", ROLES, index=1)
    password = st.text_input("Initial password", type="password", key=state.key("add_password"),
                             help=f"At least {auth_service.MIN_PASSWORD_LENGTH} characters, three of: lower case, "
                                  "upper case, digits, symbols.")
    if st.form_submit_button("Add user", type="primary"):
        def _create() -> None:
            auth_service.create_user(app, actor, username=username, display_name=display, role=role,
                                     password=password)
            state.put("add_user_clear", True)

        _run(_create, f"User {md(username.strip().lower())} created.")

names = [u["username"] for u in users]
with pw_tab, st.form(state.key("reset_pw"), clear_on_submit=True):
    who = st.selectbox("User", names, key=state.key("pw_user"))
    new_pw = st.text_input("New password", type="password")
    generate = st.checkbox("Generate a random password instead (shown once)")
    if st.form_submit_button("Reset password"):
        pw = auth_service.generate_password() if generate else new_pw
        _run(lambda: auth_service.set_password(app, actor, who, pw), f"Password of {md(who)} changed.",
             f"New password for {md(who)}: `{pw}` — it is shown only now." if generate else None)

with role_tab, st.form(state.key("role")):
    who_r = st.selectbox("User", names, key=state.key("role_user"))
    new_role = st.selectbox("New role", ROLES, key=state.key("role_value"))
    if st.form_submit_button("Change role"):
        _run(lambda: auth_service.set_role(app, actor, who_r, new_role), f"{md(who_r)} is now {new_role}.")

with disable_tab, st.form(state.key("disable")):
    who_d = st.selectbox("User", names, key=state.key("disable_user"))
    make_disabled = st.radio("Account", ["disable", "enable"], horizontal=True) == "disable"
    if st.form_submit_button("Apply"):
        _run(lambda: auth_service.set_disabled(app, actor, who_d, make_disabled),
             f"{md(who_d)} {'disabled' if make_disabled else 'enabled'}.")

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
                st.error(md(exc))
            else:
                st.success("Token created. Copy it now — it is shown only this once:")
                st.code(new_token, language=None)
    existing = pd.DataFrame(token_service.list_tokens(app, actor))
    if len(existing):  # never revoked / never used: "–", not a grey "None"
        when = lambda v: fmt_datetime(v, utc=True, seconds=True)  # noqa: E731 - stored in UTC, shown in the app's zone
        st.dataframe(dash_missing(existing, {"created_at": when, "revoked_at": when, "last_used_at": when}),
                     hide_index=True, width="stretch", column_config={
                         "id": st.column_config.NumberColumn("#", format="%d"),
                         "prefix": st.column_config.TextColumn("starts with"),
                         "created_by": st.column_config.TextColumn("created by"),
                         "created_at": st.column_config.TextColumn("created"),
                         "revoked_at": st.column_config.TextColumn("revoked"),
                         "last_used_at": st.column_config.TextColumn("last used")})
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
