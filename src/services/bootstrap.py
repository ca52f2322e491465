"""First start: schema, the first admin account and the demo data — so `make run` needs no configuration."""

from __future__ import annotations

import logging
import os

from src.services import auth
from src.services.context import SYSTEM, AppContext, ServiceError
from src.services.data import has_any_data, load_demo_data

log = logging.getLogger(__name__)


def bootstrap(app: AppContext, *, load_demo: bool | None = None, echo=print) -> None:  # noqa: ANN001
    """Create the admin (printing a generated password once) and load demo data into an empty store."""
    env_pw = os.environ.get("APP_ADMIN_PASSWORD") or None
    try:
        password = auth.ensure_admin(app, env_pw)
    except ServiceError as exc:
        raise ServiceError(f"APP_ADMIN_PASSWORD is not acceptable: {exc} A password needs "
                           f"{auth.password_rules(auth.DEFAULT_ADMIN)}.") from None
    if password:
        bar = "=" * 64
        echo(f"{bar}\n First start: created user 'admin' with the password\n\n     {password}\n\n"
             f" It is shown only this once. Log in and change it on the Users page.\n{bar}")
    elif password == "":
        echo("Created user 'admin' with the password from APP_ADMIN_PASSWORD.")
    else:
        echo(existing_users_message(app, env_password_given=env_pw is not None))
    want_demo = app.settings.load_demo_data if load_demo is None else load_demo
    if want_demo and not has_any_data(app):
        echo("Loading demo data (first start, takes a few seconds)…")
        stored = load_demo_data(app)
        echo("Demo data stored: " + ", ".join(f"{k} {v:,} rows" for k, v in stored.items()))


def existing_users_message(app: AppContext, *, env_password_given: bool = False) -> str:
    """What bootstrap says when it creates no admin because accounts exist already.

    Why: an operator who runs ``bootstrap`` on a used database (or sets ``APP_ADMIN_PASSWORD`` there) expects an
    admin; silence made it look as if one was created. The message counts the accounts and the active admins and
    names the command that adds one. Bootstrap still succeeds (exit 0): ``make run`` calls it on every start.
    """
    users = auth.list_users(app, SYSTEM)
    admins = sum(1 for u in users if u["role"] == "admin" and not u["disabled"])
    text = (f"Users exist already ({len(users)}, {admins} active admin{'s' if admins != 1 else ''}); "
            "no admin created. Use `python -m src.cli users add NAME --role admin --generate` to add one.")
    if env_password_given:
        text += " APP_ADMIN_PASSWORD is only used for the first admin and was ignored."
    return text
