"""Manage the BFF's local accounts from a shell (argparse: four verbs need nothing more).

    python -m bff.users add NAME --role approver [--role viewer] [--display-name "Ann Lee"]
    python -m bff.users list
    python -m bff.users disable NAME | enable NAME
    python -m bff.users reset-password NAME
    python -m bff.users set-roles NAME --role clerk [--role viewer]
    python -m bff.users sign-out-everywhere NAME

The database is `BFF_DATABASE_URL` (or `--database-url`), migrated first like at start-up.
A password is read from the `BFF_NEW_PASSWORD` environment variable or, on a terminal, asked
for twice; without either one is generated and printed once. A password is never printed
otherwise, and never taken from the command line (it would sit in the shell history and in
`ps`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from pydantic_settings import BaseSettings, SettingsConfigDict

from bff.accounts import Account, AccountError, Accounts
from bff.accounts_db import create_schema
from bff.passwords import generate_password
from bff.roles import Role, parse_roles, roles_text
from service_db.engine import create_engine, create_sessions

PASSWORD_ENV = "BFF_NEW_PASSWORD"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/bff.db"


class AccountsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BFF_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL


def _new_password() -> tuple[str, bool]:
    """(password, generated)."""
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given, False
    if sys.stdin.isatty():
        first = getpass.getpass("New password (empty: generate one): ")
        if first:
            if getpass.getpass("Again: ") != first:
                raise AccountError("the passwords differ")
            return first, False
    return generate_password(), True


def _describe(account: Account) -> str:
    state = "disabled" if account.disabled else "enabled"
    return f"{account.name}\t{account.display_name}\t{roles_text(account.roles) or '-'}\t{state}"


async def run(args: argparse.Namespace) -> str:
    engine = create_engine(args.database_url or AccountsSettings().database_url)
    try:
        await create_schema(engine)
        accounts = Accounts(create_sessions(engine))
        roles = parse_roles(args.role or []) if hasattr(args, "role") else frozenset[Role]()
        if args.command == "add":
            password, generated = _new_password()
            account = await accounts.add(args.name, password, roles, args.display_name)
            shown = (
                f"\npassword: {password}  (shown once; hand it over safely)" if generated else ""
            )
            return f"added {_describe(account)}{shown}"
        if args.command == "list":
            return "\n".join(_describe(account) for account in await accounts.all()) or "no users"
        if args.command in ("disable", "enable"):
            account = await accounts.change(args.name, disabled=args.command == "disable")
            return f"{args.command}d {account.name}"
        if args.command == "set-roles":
            account = await accounts.change(args.name, roles=roles)
            return f"roles of {account.name}: {roles_text(account.roles) or '-'}"
        if args.command == "sign-out-everywhere":
            account = await accounts.change(args.name, end_sessions=True)
            return f"ended every session of {account.name}"
        assert args.command == "reset-password"
        password, generated = _new_password()
        account = await accounts.change(args.name, password=password)
        shown = f"\npassword: {password}  (shown once; hand it over safely)" if generated else ""
        return f"new password set for {account.name}; its sessions are ended{shown}"
    finally:
        await engine.dispose()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m bff.users", description=__doc__.split("\n")[0])
    top.add_argument("--database-url", help="default: BFF_DATABASE_URL")
    verbs = top.add_subparsers(dest="command", required=True)
    role_help = f"a role to grant ({', '.join(r.value for r in Role)}); repeat for several"
    add = verbs.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", action="append", required=True, help=role_help)
    add.add_argument("--display-name", help="the name people see (default: NAME)")
    verbs.add_parser("list", help="list users with their roles")
    for verb, text in (
        ("disable", "stop a user signing in (ends their sessions)"),
        ("enable", "let a disabled user sign in again"),
        ("reset-password", "set a new password (ends their sessions)"),
        ("sign-out-everywhere", "end every session of a user"),
    ):
        verbs.add_parser(verb, help=text).add_argument("name")
    set_roles = verbs.add_parser("set-roles", help="replace a user's roles")
    set_roles.add_argument("name")
    set_roles.add_argument("--role", action="append", required=True, help=role_help)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        print(asyncio.run(run(args)))
    except (AccountError, ValueError) as exc:
        print(f"users: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
