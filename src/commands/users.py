"""CLI: users add|list|set-password|disable|enable (run on the server by an operator, acts as 'system')."""

from __future__ import annotations

import argparse
import getpass
import os

from src.services import auth as auth_service
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
    p.set_defaults(func=cmd_users)
