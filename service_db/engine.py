"""One async engine factory for SQLite (embedded default) and PostgreSQL (scale-out).

SQLite: every write transaction starts with `BEGIN IMMEDIATE`, so writers take the database's
write lock up front and queue on the busy timeout instead of failing with a lock-upgrade
deadlock; this is also what serializes ordering's sequence assigner and billing's pulls on one
file, whatever the process. Read-only transactions start with a plain `BEGIN`: in WAL mode they
read the last commit without waiting for a writer.
PostgreSQL: READ COMMITTED (its default), row locks and advisory locks where the rules need them;
read-only sessions in autocommit (`read_only`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from service_db.sqlite_inline import READER_BUSY_TIMEOUT_MS, begin_immediate, inline_dbapi

SQLITE_BUSY_TIMEOUT_MS = 30_000
# asyncpg waits 60 s for a connection by default; a request should learn sooner that
# PostgreSQL is not there (and answer 503).
POSTGRES_CONNECT_TIMEOUT_S = 10
# A pooled PostgreSQL connection idle this long is pinged before use (_ping_idle_connections).
IDLE_PING_SECONDS = 10.0
READ_ONLY_OPTION = "service_db_read_only"
SQLITE_SYNCHRONOUS_LEVELS = ("NORMAL", "FULL", "EXTRA")

Sessions = async_sessionmaker[AsyncSession]


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def sqlite_synchronous(asked: str | tuple[str, ...] | None) -> str:
    """SQLite's `synchronous` level from the URL's `?synchronous=` (NORMAL unless asked).

    In WAL mode NORMAL syncs the log at each checkpoint, not at each commit: a process that
    crashes or is killed loses nothing, a power cut or OS crash may lose the last commits (never
    the database's consistency). FULL syncs every commit; measured with the replication-lag
    benchmark, those syncs queued behind one another's and behind checkpoints on the same disk,
    up to 0.5 s a commit (lag p99 98-170 ms against 49 ms with NORMAL, confirm p99 249-359
    against 20 ms). Ask for `?synchronous=full` where a power cut must not lose an answered write.
    """
    if isinstance(asked, tuple):
        raise ValueError("synchronous is given more than once in the SQLite URL")
    value = (asked or "normal").upper()
    if value not in SQLITE_SYNCHRONOUS_LEVELS:
        raise ValueError(
            f"synchronous={value.lower()} in a SQLite URL: use one of "
            + ", ".join(level.lower() for level in SQLITE_SYNCHRONOUS_LEVELS)
        )
    return value


def _checked_database_url(value: str) -> str:
    """A database URL whose options this module reads are valid (settings refuse it at start,
    with the reason, rather than the engine failing with a traceback). Only SQLite's
    `synchronous` is read here; anything else is left to the driver (and a URL that does not
    parse is not echoed back: it may hold a password)."""
    try:
        url = make_url(value)
    except ArgumentError:
        return value
    if url.get_backend_name() == "sqlite":
        sqlite_synchronous(url.query.get("synchronous"))
    return value


# A service setting holding a database URL (ORDERING_/BILLING_/BFF_DATABASE_URL).
DatabaseUrl = Annotated[str, AfterValidator(_checked_database_url)]


def create_engine(database_url: str) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        engine = create_async_engine(
            url,
            pool_size=10,
            max_overflow=10,
            connect_args={"timeout": POSTGRES_CONNECT_TIMEOUT_S},
        )
        _wrap_connect_errors(engine)
        _ping_idle_connections(engine)
        return engine
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    synchronous = sqlite_synchronous(url.query.get("synchronous"))
    url = url.difference_update_query(["synchronous"])
    # On the loop's thread, not aiosqlite's worker (sqlite_inline.py says why).
    engine = create_async_engine(url, module=inline_dbapi())
    _take_over_sqlite_transactions(engine, synchronous)
    return engine


def _wrap_connect_errors(engine: AsyncEngine) -> None:
    # asyncpg's connect raises the socket's own ConnectionRefusedError / ConnectionResetError /
    # TimeoutError while PostgreSQL is down, and SQLAlchemy passes those through unwrapped, so
    # every caller would need to know about them. Raised as the driver's OperationalError they
    # become SQLAlchemy's OperationalError like every other "database unavailable".
    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except OSError as exc:
            message = f"cannot connect to the database: {type(exc).__name__}: {exc}"
            raise dialect.loaded_dbapi.OperationalError(message.rstrip(": ")) from exc


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use only when it sat idle for IDLE_PING_SECONDS.

    SQLAlchemy's `pool_pre_ping` pings at every checkout, and asyncpg's ping is three round
    trips (BEGIN, `;`, ROLLBACK): 14 % of ordering's CPU at 50 confirms/s, and three waits
    more in every transaction. A connection in steady use is known to be alive; one that sat
    idle may have been cut (a firewall, a PostgreSQL restart) and is checked, replaced if dead.
    A connection a restart cut while in use fails its statement instead: that request answers
    503 (`faults.is_unavailable`) and the pool drops every connection made before the failure.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            # The pool discards this connection and checks out another (a fresh one).
            raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc


def _take_over_sqlite_transactions(engine: AsyncEngine, synchronous: str) -> None:
    # The SQLAlchemy recipe for SQLite: take transaction control from the driver, then begin
    # each transaction ourselves, IMMEDIATE unless the session said it only reads.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {READER_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            begin_immediate(connection.connection.dbapi_connection, SQLITE_BUSY_TIMEOUT_MS)


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same engine, for sessions that only read (they must not write).

    PostgreSQL: its reads run in autocommit. Under READ COMMITTED every statement takes its own
    snapshot whether or not a transaction is open, so BEGIN and ROLLBACK around reads bought
    nothing but two round trips and asyncpg's transaction bookkeeping (9 % of an ordering
    replica's CPU in the replication-lag benchmark, py-spy).
    """
    options: dict[str, Any] = {READ_ONLY_OPTION: True}
    if is_postgres(engine):
        options["isolation_level"] = "AUTOCOMMIT"
    return engine.execution_options(**options)


async def cursor_connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection inside a transaction, even in a read-only session: a
    server-side cursor (`stream`, `yield_per`) lives in one, and PostgreSQL's read-only
    sessions run in autocommit (`read_only`)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return await session.connection(execution_options={"isolation_level": "READ COMMITTED"})
    return await session.connection()


class _TakeTurnsWriting(async_sessionmaker[AsyncSession]):
    """SQLite write sessions whose `begin()` first waits for this process's turn, in arrival
    order.

    SQLite has one writer at a time. Left to its busy handler, a waiting writer sleeps and
    retries (1, 2, 5, ... up to 100 ms a nap), so under load a newcomer often takes the lock
    that an older waiter was napping for: the tail grows to hundreds of milliseconds. Queueing
    writers of one process on an asyncio lock first hands the database over in FIFO order the
    moment it is free; the busy timeout still arbitrates between processes.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, class_=AsyncSession, expire_on_commit=False)
        self._turn = asyncio.Lock()  # FIFO: waiters are woken in the order they came

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]
        async with self._turn, super().begin() as session:
            yield session


def create_sessions(engine: AsyncEngine) -> Sessions:
    """Sessions on `engine`; on SQLite, write transactions opened with `begin()` take turns."""
    read_only_engine = engine.get_execution_options().get(READ_ONLY_OPTION, False)
    if engine.dialect.name == "sqlite" and not read_only_engine:
        return _TakeTurnsWriting(engine)
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
