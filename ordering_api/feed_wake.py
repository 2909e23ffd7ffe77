"""Long-poll support for the feed: waiters sleep until the assigner numbers a change.

`FeedWaker` is one process's wake-up signal. A waiter takes the current `generation()` *before*
it looks at the feed, and then waits for a newer one: a change numbered between its look and its
wait has already moved the generation, so no wake-up is ever lost.

- In one process (SQLite, or any database): the assigner calls `notify()` after it committed
  positions.
- Across replicas on PostgreSQL: the assigner's transaction also runs `NOTIFY ordering_feed`,
  delivered when it commits; every replica LISTENs on a dedicated asyncpg connection
  (`listen_forever`) and calls `notify()`. The listener subscribes before the replica serves,
  and after a reconnect it notifies once so every waiter looks again (whatever it might have
  missed while the connection was down).

`AssignerKick` is how a write asks the assigner to run now rather than at its next tick.
"""

from __future__ import annotations

import asyncio
import logging

import anyio
import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from service_db.engine import is_postgres

logger = logging.getLogger("ordering_api.feed")

CHANNEL = "ordering_feed"
RECONNECT_SECONDS = 1.0


class FeedWaker:
    def __init__(self) -> None:
        self._generation = 0
        self._changed = asyncio.Event()
        # Set when the server is shutting down: held long polls answer what they have now.
        self.closing = False

    def close(self) -> None:
        self.closing = True
        self.notify()

    def generation(self) -> int:
        return self._generation

    def notify(self) -> None:
        self._generation += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_past(self, generation: int, within: float) -> bool:
        """Wait up to `within` s for a generation after `generation`; whether one came."""
        with anyio.move_on_after(within):
            while self._generation == generation:
                await self._changed.wait()
        return self._generation != generation


class AssignerKick:
    """Wakes the scheduled assigner early: a write that left a change pending calls `kick()`."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def kick(self) -> None:
        self._event.set()

    async def wait(self, within: float) -> None:
        """Until kicked, or `within` seconds at most."""
        with anyio.move_on_after(within):
            await self._event.wait()
        self._event.clear()


def _asyncpg_dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen_forever(
    engine: AsyncEngine, waker: FeedWaker, *, task_status: anyio.abc.TaskStatus[None]
) -> None:
    """PostgreSQL only: LISTEN for other replicas' numbering, reconnecting when dropped.

    Started with `TaskGroup.start`: the first subscription is in place before the app serves.
    """
    started = False
    while True:
        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(_asyncpg_dsn(engine))
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _c, lost=lost: lost.set())
            await connection.add_listener(CHANNEL, lambda *_args: waker.notify())
            if started:
                waker.notify()  # whatever was numbered while we were not listening
            else:
                started = True
                task_status.started()
            await lost.wait()
            logger.warning("feed listener connection lost: reconnecting")
        except (OSError, asyncpg.PostgresError) as exc:
            logger.warning("feed listener cannot connect (%s): retrying", exc)
            if not started:
                started = True
                task_status.started()  # serve anyway: waiters still wake on this replica
        finally:
            if connection is not None:
                with anyio.CancelScope(shield=True):
                    await connection.close(timeout=2)
        await anyio.sleep(RECONNECT_SECONDS)


def uses_notify(engine: AsyncEngine) -> bool:
    return is_postgres(engine)
