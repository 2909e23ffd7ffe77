"""SQLite writers of one process take turns in arrival order (service_db.engine)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from service_db.engine import create_engine, create_sessions, read_only

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
