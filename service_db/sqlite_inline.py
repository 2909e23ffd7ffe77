"""SQLite through SQLAlchemy's aiosqlite dialect, but run on the event loop's own thread.

aiosqlite hands every call (execute, fetch, commit, cursor close...) to a worker thread and
waits for the answer: on the machines we measured, that hop costs 0.1-0.3 ms, a hundred times
the work of the small statements our services run (a primary-key SELECT takes microseconds).
A one-order feed page cost billing about 7 statements and 9 ms of wall time, nearly all of it
hops; the write lock was held for all of them. Here each call runs where it is made, so a
statement costs what SQLite costs.

What this gives up, and why that is right for our SQLite (one process per database file, the
embedded default; PostgreSQL is the scale-out):
- A long statement holds the event loop while it runs. Ours are bounded (pages of at most a
  few thousand rows); the thread did not make them shorter, it only let other requests
  interleave. Awaiting a call never suspends either, so a walk over many rows (reconciliation)
  hands the loop over itself, every few hundred rows (service_db/yielding.py).
- SQLite's busy handler would *sleep on the loop* while another connection holds the write
  lock. So writers never wait inside SQLite: `busy_timeout` is 0 while `BEGIN IMMEDIATE` runs,
  and a busy database is retried from the event loop with short asynchronous naps
  (`begin_immediate`) up to the same overall timeout, so other requests (including the holder
  of the lock, when it is this process) go on meanwhile. Readers in WAL mode do not wait for
  writers at all; the small busy timeout left for them covers SQLite's rare brief locks (WAL
  recovery, a checkpoint's moment).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import types
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util.concurrency import await_

# Readers and statements inside a held write lock (see the module's docstring).
READER_BUSY_TIMEOUT_MS = 100
# First and longest nap between attempts to take the write lock.
_FIRST_NAP_S = 0.0005
_LONGEST_NAP_S = 0.01


class _RunHere:
    """Stands in for aiosqlite's queue to its worker thread: runs each call at once, on the
    calling thread, and settles its future (SQLAlchemy posts to the queue directly to set the
    isolation level)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as the thread would
            if future is not None and not future.done():
                future.set_exception(exc)
        else:
            if future is not None and not future.done():
                future.set_result(result)


class _NoThread:
    """aiosqlite starts and marks its worker thread; there is none."""

    daemon = True

    def start(self) -> None:
        pass

    def is_alive(self) -> bool:
        return False


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection API with every call made on the caller's thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _RunHere()  # type: ignore[assignment]
        self._thread = _NoThread()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def _connect(
    database: str | bytes, *, iter_chunk_size: int = 64, **kwargs: Any
) -> InlineConnection:
    location = database.decode() if isinstance(database, bytes) else str(database)
    # Made and used on the loop's thread; SQLAlchemy's pool may close it from another (GC).
    kwargs["check_same_thread"] = False
    return InlineConnection(lambda: sqlite3.connect(location, **kwargs), iter_chunk_size)


def _driver_module() -> types.ModuleType:
    """aiosqlite's module as the dialect sees it, with `connect` making inline connections."""
    module = types.ModuleType("service_db.sqlite_inline_driver")
    module.__dict__.update(
        {name: getattr(aiosqlite, name) for name in dir(aiosqlite) if not name.startswith("__")}
    )
    module.connect = _connect  # type: ignore[attr-defined]
    module.Connection = InlineConnection  # type: ignore[attr-defined]
    return module


def inline_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI to give `create_async_engine(..., module=...)` for a SQLite URL."""
    return AsyncAdapt_aiosqlite_dbapi(_driver_module(), sqlite3)


def begin_immediate(dbapi_connection: Any, timeout_ms: int) -> None:
    """`BEGIN IMMEDIATE` without ever sleeping on the event loop.

    Runs inside SQLAlchemy's greenlet (a `begin` event), so it may await: while another
    connection holds the write lock it naps asynchronously and tries again, up to `timeout_ms`
    in all, then raises SQLite's own "database is locked".
    """
    deadline = time.monotonic() + timeout_ms / 1000
    nap = _FIRST_NAP_S
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc) or time.monotonic() >= deadline:
                        raise
                await_(asyncio.sleep(nap))
                nap = min(nap * 2, _LONGEST_NAP_S)
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {READER_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc)
