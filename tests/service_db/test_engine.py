"""SQLite writers of one process take turns in arrival order (service_db.engine)."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

import service_db.engine as engine_module
from bff.settings import BffSettings
from billing_api.settings import BillingSettings
from ordering_api.settings import OrderingSettings
from service_db.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine, create_sessions, read_only

WRITERS = 8


async def test_sqlite_writers_get_the_database_in_the_order_they_asked(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        sessions = create_sessions(engine)
        async with engine.begin() as connection:
            await connection.execute(
                text("CREATE TABLE turns (id INTEGER PRIMARY KEY AUTOINCREMENT, writer INTEGER)")
            )

        async def writer(index: int) -> None:
            async with sessions.begin() as session:
                connection = await session.connection()
                insert = text("INSERT INTO turns (writer) VALUES (:writer)")
                await connection.execute(insert, {"writer": index})

        for _ in range(3):
            # Tasks start in creation order, each running until it waits for its turn. Left to
            # SQLite's busy handler (napping writers retrying), the order came out shuffled.
            await asyncio.gather(*(writer(index) for index in range(WRITERS)))

        async with read_only(engine).connect() as connection:
            rows = (await connection.execute(text("SELECT writer FROM turns ORDER BY id"))).all()
        assert [row[0] for row in rows] == list(range(WRITERS)) * 3
    finally:
        await engine.dispose()


async def _synchronous_level(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text("PRAGMA synchronous"))).scalar_one())
    finally:
        await engine.dispose()


async def test_sqlite_commits_sync_at_checkpoints_unless_the_url_asks_for_every_commit(
    sqlite_url: str,
) -> None:
    assert await _synchronous_level(sqlite_url) == 1  # NORMAL
    assert await _synchronous_level(f"{sqlite_url}?synchronous=full") == 2  # FULL


def test_an_unknown_synchronous_level_is_refused_with_the_choices(sqlite_url: str) -> None:
    with pytest.raises(
        ValueError, match="synchronous=sometimes in a SQLite URL: use one of normal"
    ):
        create_engine(f"{sqlite_url}?synchronous=sometimes")


async def test_a_writer_waiting_for_another_connections_lock_lets_the_loop_run(
    sqlite_url: str,
) -> None:
    """SQLite runs on the loop's thread (service_db.sqlite_inline): waiting for the write lock
    must be asynchronous naps, never SQLite's busy handler sleeping on the loop."""
    engine = create_engine(sqlite_url)
    try:
        sessions = create_sessions(engine)
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        database = sqlite_url.split("///", 1)[1]
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        entered = asyncio.Event()

        async def write() -> None:
            async with sessions.begin() as session:
                await (await session.connection()).execute(text("INSERT INTO t DEFAULT VALUES"))
                entered.set()

        writing = asyncio.create_task(write())
        started = time.monotonic()
        for _ in range(20):  # the loop keeps turning while the writer waits
            await asyncio.sleep(0.005)
        # Blocked in SQLite's busy handler, the loop would stand still for the busy timeout.
        assert time.monotonic() - started < SQLITE_BUSY_TIMEOUT_MS / 1000 / 3
        assert not entered.is_set()
        holder.rollback()
        holder.close()
        await asyncio.wait_for(writing, 10)
        assert entered.is_set()
    finally:
        await engine.dispose()


async def _terminate_other_sessions(pg_url: str) -> int:
    """Cut every other connection to this database, as a PostgreSQL restart or a firewall
    dropping idle connections would."""
    engine = create_engine(pg_url)
    try:
        async with engine.connect() as connection:
            cut = await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return len(cut.all())
    finally:
        await engine.dispose()


async def test_a_postgres_connection_cut_while_idle_is_replaced_before_use(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
    engine = create_engine(pg_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))  # pooled now, idle from here on
        assert await _terminate_other_sessions(pg_url) >= 1
        async with engine.connect() as connection:  # pinged, found dead, replaced
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_only_postgres_connections_idle_long_enough_are_pinged(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pinging at every checkout was three round trips per transaction: only idle ones are."""
    pings: list[object] = []
    real_ping = AsyncAdapt_asyncpg_connection.ping

    def counted_ping(self: AsyncAdapt_asyncpg_connection) -> None:
        pings.append(self)
        real_ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted_ping)

    async def three_transactions() -> None:
        for _ in range(3):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 2"))

    engine = create_engine(pg_url)
    try:
        await three_transactions()
        assert pings == []  # in steady use (IDLE_PING_SECONDS is 10 s)
        monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
        await three_transactions()
        assert len(pings) == 3  # each checkout of the pooled connection
    finally:
        await engine.dispose()


def test_a_synchronous_level_given_twice_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="more than once"):
        create_engine(f"{sqlite_url}?synchronous=full&synchronous=normal")


async def _statements_share_a_transaction(sessions_engine: object) -> bool:
    """Whether two statements of one session ran in one transaction: now() is the start of
    the transaction, so it is the same for both only then."""
    async with create_sessions(sessions_engine)() as session:  # type: ignore[arg-type]
        connection = await session.connection()
        first = (await connection.execute(text("SELECT now()"))).scalar()
        second = (await connection.execute(text("SELECT now()"))).scalar()
    return bool(first == second)


async def test_postgres_reads_run_without_begin_and_writes_in_a_transaction(pg_url: str) -> None:
    """A read-only session's statements each commit on their own (READ COMMITTED gives every
    statement its own snapshot anyway): no BEGIN and ROLLBACK round trips around reads."""
    engine = create_engine(pg_url)
    try:
        assert await _statements_share_a_transaction(engine)
        assert not await _statements_share_a_transaction(read_only(engine))
        assert await _statements_share_a_transaction(engine)  # pooled connection reset
    finally:
        await engine.dispose()


@pytest.mark.parametrize("settings_class", [OrderingSettings, BillingSettings, BffSettings])
def test_a_service_refuses_an_unknown_synchronous_level_in_its_settings(
    settings_class: type[BaseSettings], sqlite_url: str
) -> None:
    """Refused when the settings are read, naming the setting and the choices (not a traceback
    from deep inside the engine once the app starts)."""
    with pytest.raises(ValidationError) as refused:
        settings_class(database_url=f"{sqlite_url}?synchronous=sometimes")
    message = str(refused.value)
    assert "database_url" in message
    assert "synchronous=sometimes in a SQLite URL: use one of normal, full, extra" in message
    assert settings_class(database_url=f"{sqlite_url}?synchronous=full")
