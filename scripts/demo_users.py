"""Demo accounts for `scripts/run`: one per role, made on the first start of a run's database.

Their passwords are generated then and kept in `<var dir>/demo-accounts.txt` (readable only by
its owner), so every later start prints the same ones in its banner. An accounts database
that already has users is left alone: the demo accounts are never re-created or reset, and a
deployment never gets them (only `scripts/run` calls this).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from bff.accounts import Accounts
from bff.accounts_db import create_schema
from bff.passwords import generate_password
from bff.roles import Role
from service_db.engine import create_engine, create_sessions

CREDENTIALS_FILE = "demo-accounts.txt"

# Name, display name, roles: every demo user can see the lists, plus one role's actions.
DEMO_USERS: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("viewer", "Vera Viewer", frozenset({Role.VIEWER})),
    ("clerk", "Carl Clerk", frozenset({Role.VIEWER, Role.CLERK})),
    ("approver", "Ada Approver", frozenset({Role.VIEWER, Role.APPROVER})),
    ("operator", "Otto Operator", frozenset({Role.VIEWER, Role.OPERATOR})),
)


@dataclass(frozen=True)
class DemoAccount:
    name: str
    roles: str
    password: str


async def _ensure(database_url: str, credentials: Path) -> list[DemoAccount]:
    engine = create_engine(database_url)
    try:
        await create_schema(engine)
        accounts = Accounts(create_sessions(engine))
        if await accounts.all():
            return _read(credentials)
        made = []
        for name, display_name, roles in DEMO_USERS:
            password = generate_password()
            await accounts.add(name, password, roles, display_name)
            made.append(DemoAccount(name, " ".join(sorted(r.value for r in roles)), password))
        credentials.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            for account in made:
                out.write(f"{account.name}\t{account.roles}\t{account.password}\n")
        return made
    finally:
        await engine.dispose()


def _read(credentials: Path) -> list[DemoAccount]:
    if not credentials.is_file():
        return []
    found = []
    for line in credentials.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            found.append(DemoAccount(*parts))
    return found


def ensure(database_url: str, credentials: Path) -> list[DemoAccount]:
    return asyncio.run(_ensure(database_url, credentials))


def banner(accounts: list[DemoAccount]) -> str:
    if not accounts:
        return "  Sign in with the accounts of this database (python -m bff.users list)."
    width = max(len(a.name) for a in accounts)
    lines = [f"    {a.name:<{width}}  {a.password}  ({a.roles})" for a in accounts]
    return "\n".join(["  Demo accounts (user name, password, roles):", *lines])
