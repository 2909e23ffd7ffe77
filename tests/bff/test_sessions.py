"""The session store's rules, with a clock the test moves (no waiting): idle and absolute
timeouts, sign-out everywhere, account re-checks. Real aiocache memory backend, real accounts
database; tests/bff/test_redis_sessions.py runs the same store on a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiocache import Cache
from aiocache.serializers import JsonSerializer

from bff.accounts import Accounts
from bff.accounts_db import create_schema
from bff.roles import Role
from bff.sessions import SessionPolicy, SessionStore, session_key
from service_db.engine import create_engine, create_sessions

POLICY = SessionPolicy(idle_seconds=600, absolute_seconds=3600, recheck_seconds=30)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def accounts(tmp_path: Path) -> AsyncIterator[Accounts]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bff.db'}")
    await create_schema(engine)
    yield Accounts(create_sessions(engine))
    await engine.dispose()


def memory_store(accounts: Accounts, clock: Clock) -> SessionStore:
    backend = Cache(Cache.MEMORY)
    backend.serializer = JsonSerializer()
    return SessionStore(backend, POLICY, accounts, clock)


async def test_idle_timeout_and_activity_keeping_a_session_alive(accounts: Accounts) -> None:
    clock = Clock()
    store = memory_store(accounts, clock)
    account = await accounts.add("ann", "long enough pw", frozenset({Role.VIEWER}))
    session_id = await store.create_for(account)
    for _ in range(5):  # used every 9 minutes: alive for 45 minutes
        clock.now += 540
        assert await store.load(session_id) is not None
    clock.now += 600
    assert await store.load(session_id) is None
    assert await store.backend.get(session_key(session_id)) is None  # and gone


async def test_absolute_timeout_ends_even_a_busy_session(accounts: Accounts) -> None:
    clock = Clock()
    store = memory_store(accounts, clock)
    account = await accounts.add("ann", "long enough pw", frozenset({Role.VIEWER}))
    session_id = await store.create_for(account)
    for _ in range(11):
        clock.now += 300
        assert await store.load(session_id) is not None
    clock.now += 301  # 3601 s after sign-in
    assert await store.load(session_id) is None


async def test_the_store_keeps_only_a_digest_of_the_id(accounts: Accounts) -> None:
    store = memory_store(accounts, Clock())
    account = await accounts.add("ann", "long enough pw", frozenset({Role.VIEWER}))
    session_id = await store.create_for(account)
    assert await store.backend.exists(session_key(session_id))
    assert not await store.backend.exists(session_id)
    assert not await store.backend.exists(f"bff-session:{session_id}")
    assert await store.load("x" * 500) is None


async def test_account_changes_reach_sessions_at_the_next_recheck(accounts: Accounts) -> None:
    clock = Clock()
    store = memory_store(accounts, clock)
    account = await accounts.add("ann", "long enough pw", frozenset({Role.VIEWER}))
    session_id = await store.create_for(account)
    await accounts.change("ann", roles=frozenset({Role.VIEWER, Role.CLERK}))  # a role added
    principal = await store.load(session_id)
    assert principal is not None and principal.roles == {Role.VIEWER}  # not yet re-checked
    clock.now += 31
    principal = await store.load(session_id)
    assert principal is not None and principal.roles == {Role.VIEWER, Role.CLERK}
    await accounts.change("ann", roles=frozenset({Role.CLERK}))  # a role taken away
    clock.now += 31
    assert await store.load(session_id) is None


async def test_password_reset_ends_sessions(accounts: Accounts) -> None:
    clock = Clock()
    store = memory_store(accounts, clock)
    account = await accounts.add("ann", "long enough pw", frozenset({Role.VIEWER}))
    session_id = await store.create_for(account)
    await accounts.change("ann", password="another long one")
    clock.now += 31
    assert await store.load(session_id) is None


async def test_sign_out_everywhere_spares_later_sessions(accounts: Accounts) -> None:
    clock = Clock()
    store = memory_store(accounts, clock)
    account = await accounts.add("ann", "long enough pw", frozenset({Role.VIEWER}))
    before = await store.create_for(account)
    clock.now += 1
    await store.end_all("ann")
    clock.now += 1
    after = await store.create_for(account)
    assert await store.load(before) is None
    assert await store.load(after) is not None
