"""CLI: users add|list|set-password|disable|enable|token (run on the server by an operator, acts as 'system')."""

from __future__ import annotations

import argparse
import getpass
import os

from src.services import auth as auth_service
from src.services import tokens as token_service
from src.services.context import SYSTEM, PermissionDenied, ServiceError, get_app


def _password(args: argparse.Namespace) -> str:
    if args.generate:
        return auth_service.generate_password()
    env = os.environ.get("WFP_NEW_PASSWORD")
    if env:
        return env
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat: "):
        raise ServiceError("The passwords differ.")
    return first


def _token(app, args: argparse.Namespace) -> None:  # noqa: ANN001
    """API tokens, as on Users → API tokens: ``create`` prints the token once (only the token, for scripts:
    ``TOKEN=$(python -m src.cli users token create admin --role admin --name nightly)``); ``list``; ``revoke``."""
    if args.token_action == "create":
        print(token_service.create_token(app, SYSTEM, owner=args.owner, role=args.role, name=args.name))
    elif args.token_action == "list":
        for t in token_service.list_tokens(app, SYSTEM):
            state = "revoked" if t.get("revoked_at") else "active"
            print(f"{t['id']:>5} {t['prefix']:12} {t['owner']:16} {t['role']:8} {state:8} {t['name']}")
    else:
        token_service.revoke_token(app, SYSTEM, args.token_id)
        print(f"Token {args.token_id} revoked.")


def cmd_users(args: argparse.Namespace) -> int:
    app = get_app()
    try:
        if args.action == "list":
            for u in auth_service.list_users(app, SYSTEM):
                print(f"{u['username']:20} {u['role']:8} {'disabled' if u['disabled'] else 'active':8} "
                      f"{u['display_name']}")
        elif args.action == "add":
            pw = _password(args)
            auth_service.create_user(app, SYSTEM, username=args.username, display_name=args.name or args.username,
                                     role=args.role, password=pw)
            print(f"Created {args.username} ({args.role})." + (f" Password: {pw}" if args.generate else ""))
        elif args.action == "set-password":
            pw = _password(args)
            auth_service.set_password(app, SYSTEM, args.username, pw)
            print(f"Password of {args.username} changed." + (f" Password: {pw}" if args.generate else ""))
        elif args.action in ("disable", "enable"):
            auth_service.set_disabled(app, SYSTEM, args.username, args.action == "disable")
            print(f"{args.username} {args.action}d.")
        elif args.action == "token":
            _token(app, args)
    except (ServiceError, PermissionDenied) as exc:
        print(f"error: {exc}")
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="manage user accounts")
    usub = p.add_subparsers(dest="action", required=True)
    usub.add_parser("list")
    a = usub.add_parser("add")
    a.add_argument("username")
    a.add_argument("--role", choices=["admin", "planner"], default="planner")
    a.add_argument("--name", help="display name")
    a.add_argument("--generate", action="store_true", help="generate a random password and print it once")
    s = usub.add_parser("set-password")
    s.add_argument("username")
    s.add_argument("--generate", action="store_true")
    for name in ("disable", "enable"):
        usub.add_parser(name).add_argument("username")
    t = usub.add_parser("token", help="API tokens: create (printed once), list, revoke")
    tsub = t.add_subparsers(dest="token_action", required=True)
    c = tsub.add_parser("create", help="print a new token once; only its hash is stored")
    c.add_argument("owner", help="the user the token acts for (audited as them)")
    c.add_argument("--role", choices=["admin", "planner"], required=True)
    c.add_argument("--name", required=True, help="what the token is for, e.g. 'telephony import'")
    tsub.add_parser("list")
    r = tsub.add_parser("revoke")
    r.add_argument("token_id", type=int)
    p.set_defaults(func=cmd_users)
