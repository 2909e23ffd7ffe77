"""BFF accounts for tests: made in the BFF's real database, signed in through /auth/login."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bff.accounts import Accounts
from bff.accounts_db import create_schema
from bff.authentication import AUTH_STATE_KEY, Auth
from bff.roles import Role
from service_db.engine import create_engine, create_sessions

PASSWORD = "correct horse battery staple"
# Signs in as every role: the suite's default user, for tests about something else than roles.
EVERY_ROLE = frozenset(Role)


async def add_user(
    database_url: str, name: str, roles: Iterable[Role], password: str = PASSWORD
) -> None:
    engine = create_engine(database_url)
    try:
        await create_schema(engine)
        await Accounts(create_sessions(engine)).add(name, password, frozenset(roles))
    finally:
        await engine.dispose()


async def sign_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> None:
    """Sign `client` in (its cookie jar keeps the session)."""
    response = await client.post("/auth/login", json={"name": name, "password": password})
    assert response.status_code == 200, response.text


async def sign_in_directly(state: dict[str, Any], client: httpx.AsyncClient, name: str) -> None:
    """A session made by the running app's own store, its cookie put in `client`'s jar."""
    auth: Auth = state[AUTH_STATE_KEY]
    assert auth.accounts is not None
    account = await auth.accounts.get(name)
    assert account is not None
    session_id = await auth.sessions.create_for(account)
    client.cookies.set(auth.cookie_name, session_id)


def sign_in_sync(client: httpx.Client, name: str, password: str = PASSWORD) -> None:
    response = client.post("/auth/login", json={"name": name, "password": password})
    assert response.status_code == 200, response.text


def add_user_sync(database_url: str, name: str, roles: Iterable[Role]) -> None:
    """add_user for synchronous tests (in a thread of its own: Playwright's sync API keeps an
    event loop running in the test's thread)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, add_user(database_url, name, roles)).result()


def session_cookies(bff_url: str, name: str, password: str = PASSWORD) -> dict[str, str]:
    """Sign in to a running BFF; the cookies to send as that user."""
    with httpx.Client(base_url=bff_url, timeout=30) as client:
        sign_in_sync(client, name, password)
        return dict(client.cookies)
