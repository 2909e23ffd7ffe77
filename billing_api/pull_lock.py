"""The cross-replica pull lock: one pull at a time per billing database.

PostgreSQL: a session advisory lock held on a dedicated connection for the whole pull. SQLite:
no lock; every write transaction is `BEGIN IMMEDIATE` (service_db.engine), so writers on one
file are serialized anyway, and the token's compare-and-set settles any overlap.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service_db.engine import is_postgres

logger = logging.getLogger("billing_api.sync")

# pg_advisory_lock key shared by every billing replica on one database ("bilp").
PULL_LOCK_KEY = 0x62696C70
# SQLSTATE of a wait that ran into lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


@asynccontextmanager
async def pull_lock(engine: AsyncEngine, wait: float) -> AsyncIterator[bool]:
    """Take the pull lock, waiting up to `wait` seconds; yields whether it was taken.

    Raises SQLAlchemyError when the database cannot be asked.
    """
    if not is_postgres(engine):
        yield True
        return
    connection = await engine.connect()
    try:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        got = await _acquire(connection, wait)
        if not got:
            yield False
            return
        try:
            yield True
        finally:
            # Shielded: a cancelled pull must still give the lock back. If that fails,
            # dropping the connection ends the session, which releases it too.
            with anyio.CancelScope(shield=True):
                try:
                    await connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": PULL_LOCK_KEY}
                    )
                except SQLAlchemyError:
                    await connection.invalidate()
    finally:
        with anyio.CancelScope(shield=True):
            try:
                await connection.close()
            except SQLAlchemyError:
                # A connection PostgreSQL dropped may fail to close; it is gone either way.
                logger.info("pull lock connection did not close cleanly")


async def _acquire(connection: AsyncConnection, wait: float) -> bool:
    """Whether the lock was taken within `wait` seconds.

    A free lock (the usual case) costs one round trip. Waiting is PostgreSQL's own lock queue
    under a `lock_timeout`: the waiter gets the lock the moment its holder lets go (polling
    would add up to a poll period to every contended pull).
    """
    got = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": PULL_LOCK_KEY})
    if got or wait <= 0:
        return bool(got)
    try:
        await connection.execute(text(f"SET lock_timeout = {max(1, round(wait * 1000))}"))
        try:
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PULL_LOCK_KEY})
            got = True
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            got = False
        # The connection goes back to the pool: it must not keep the short lock timeout.
        await connection.execute(text("RESET lock_timeout"))
        return got
    except BaseException:
        # Cancelled or failed mid-wait, the lock may have been granted all the same: end the
        # session (not back to the pool), which gives any session lock back.
        with anyio.CancelScope(shield=True):
            await connection.invalidate()
        raise


async def pull_lock_held_elsewhere(engine: AsyncEngine) -> bool:
    """Whether some session on this database (another replica) holds the pull lock."""
    if not is_postgres(engine):
        return False
    async with engine.connect() as connection:
        held = await connection.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                " AND granted AND classid = 0 AND objid = :key AND objsubid = 1"
                " AND database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database()))"
            ),
            {"key": PULL_LOCK_KEY},
        )
    return bool(held)
