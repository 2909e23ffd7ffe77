"""Stored answers of writes sent with an `Idempotency-Key` (service_http.idempotency uses it).

One table per service database, `idempotency_keys`, made by each service's migration. A row is
inserted in the same transaction as the write it answers: the write and its key commit
together or not at all, and the primary key makes a second, concurrent attempt with the same
key fail to insert (on PostgreSQL it waits for the first to commit), so it rolls its own write
back and answers the first one's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

TABLE_NAME = "idempotency_keys"
MAX_KEY_LENGTH = 255


def idempotency_table(metadata: MetaData) -> Table:
    """The table on a service's own metadata (so its migrations and models agree)."""
    return Table(
        TABLE_NAME,
        metadata,
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        # sha256 of method, path and body: the same key with another request is refused.
        Column("fingerprint", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("location", String(500), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str
    status: int
    body: bytes
    location: str | None


async def stored_answer(
    connection: AsyncConnection, table: Table, key: str, kept_since: datetime
) -> StoredAnswer | None:
    """The answer stored for `key`, unless it is older than `kept_since` (then it is gone)."""
    row = (
        await connection.execute(
            select(table.c.fingerprint, table.c.status, table.c.body, table.c.location).where(
                table.c.key == key, table.c.created_at >= kept_since
            )
        )
    ).first()
    if row is None:
        return None
    return StoredAnswer(row.fingerprint, row.status, bytes(row.body), row.location)


async def forget_expired(connection: AsyncConnection, table: Table, kept_since: datetime) -> None:
    """Remove the keys older than `kept_since` in the caller's transaction (the index on
    created_at makes that cheap when there are none), so the table holds at most what the
    retention keeps. Run before the write: ordering's confirm holds the feed counter's lock from
    its numbering to its commit, and a sweep of a day's expired keys must not run under it."""
    await connection.execute(delete(table).where(table.c.created_at < kept_since))


async def record_answer(
    connection: AsyncConnection,
    table: Table,
    key: str,
    answer: StoredAnswer,
    now: datetime,
) -> bool:
    """Store `answer` for `key` in the caller's transaction; False when the key is taken."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    inserted = await connection.execute(
        insert(table)
        .values(
            key=key,
            fingerprint=answer.fingerprint,
            status=answer.status,
            body=answer.body,
            location=answer.location,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )
    return inserted.first() is not None
