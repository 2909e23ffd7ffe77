"""The change feed and its sequence assigner (docs/design.md §3).

Writers only mark a published order pending (`change_seq = NULL`) in their own transaction.
The assigner later numbers pending orders in a short transaction of its own that holds the
feed counter's row lock until it commits. Hence:

- a change gets a position only after the change has committed, so a long transaction that
  commits late simply gets a later position (the failure of change dates cannot happen);
- assigner transactions are serialized, so positions become visible in increasing order:
  once position S is visible, nothing below S can appear later (prefix visibility);
- numbers come from the counter, never from max() over the orders, and never go back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import anyio
from sqlalchemy import Integer, Row, Select, TextualSelect, bindparam, column, text
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from ordering_api.db import Sessions
from ordering_api.feed_wake import CHANNEL as FEED_CHANNEL
from ordering_api.feed_wake import AssignerKick, FeedWaker
from ordering_api.models import FeedCounter
from ordering_api.order_rows import COUNTERS, LINE_COLUMNS, LINES, ORDER_COLUMNS, ORDERS, order_json
from service_db.faults import describe, is_unavailable

logger = logging.getLogger("ordering_api.feed")

ASSIGN_BATCH = 1000


async def ensure_feed_counter(sessions: Sessions) -> str:
    """Create the counter row (with a new feed id) on first start; return the feed id."""
    try:
        async with sessions.begin() as session:
            counter = await session.get(FeedCounter, 1)
            if counter is None:
                counter = FeedCounter(id=1, feed_id=uuid.uuid4().hex, last_position=0)
                session.add(counter)
            feed_id = counter.feed_id
    except IntegrityError:  # another replica created it at the same moment
        async with sessions() as session:
            existing = await session.get(FeedCounter, 1)
            assert existing is not None
            feed_id = existing.feed_id
    return feed_id


async def _lock_counter(connection: AsyncConnection) -> int:
    """The serialization point: the counter row, locked until the caller's commit; its last
    position handed out.

    PostgreSQL: SELECT ... FOR UPDATE under READ COMMITTED; a second assigner waits here, and its
    next statement sees everything the first one committed. SQLite: the transaction already
    holds the database's write lock (BEGIN IMMEDIATE, see db.py); FOR UPDATE is omitted.
    """
    query = sa_select(COUNTERS.c.last_position).where(COUNTERS.c.id == 1).with_for_update()
    last: int = (await connection.execute(query)).scalar_one()
    return last


# SQLite's planner, lacking statistics, takes the unique index on change_seq for
# `change_seq IS NULL` and then sorts every pending row; SQLAlchemy cannot render SQLite's
# INDEXED BY, hence the text. INDEXED BY also makes the statement fail loudly should the
# index ever stop matching the query (its WHERE is the index's predicate, word for word).
_SQLITE_BACKLOG = text(
    "SELECT number FROM orders INDEXED BY ix_orders_backlog"
    " WHERE published IS 1 AND change_seq IS NULL"
    " ORDER BY updated_at, number LIMIT :batch"
).columns(column("number", Integer))


def backlog_batch(
    batch: int, dialect: str, *, lock: bool = True
) -> Select[tuple[int]] | TextualSelect:
    """The next `batch` pending orders, oldest change first: the first entries of the partial
    index ix_orders_backlog (models.py), never a sort of the whole backlog.

    PostgreSQL: SKIP LOCKED, so an order a writer holds right now is numbered on a later run,
    after the writer commits, instead of making the assigner (and every feed reader) wait for
    it. SQLite: the assigner holds the database's write lock, there is nothing to skip.
    """
    if dialect == "sqlite":
        return _SQLITE_BACKLOG.bindparams(batch=batch)
    query = (
        sa_select(ORDERS.c.number)
        .where(ORDERS.c.published.is_(True), ORDERS.c.change_seq.is_(None))
        .order_by(ORDERS.c.updated_at, ORDERS.c.number)
        .limit(batch)
    )
    return query.with_for_update(skip_locked=True) if lock else query


async def assign_change_positions(session: AsyncSession, batch: int = ASSIGN_BATCH) -> int:
    """Number up to `batch` pending orders inside the caller's transaction; return how many."""
    return len(await _number_pending(session, batch))


async def _number_pending(session: AsyncSession, batch: int) -> dict[int, int]:
    """Number up to `batch` pending orders inside the caller's transaction: order -> position.

    Plain Core statements: on SQLite this runs inside every confirm and delete, where the ORM's
    unit of work cost more than the statements themselves.
    """
    await session.flush()  # the caller's own pending changes are part of the backlog
    connection = await session.connection()
    last = await _lock_counter(connection)
    query = backlog_batch(batch, connection.dialect.name)
    numbers = list((await connection.scalars(query)).all())
    if not numbers:
        return {}
    positions = {number: position for position, number in enumerate(numbers, start=last + 1)}
    # One executemany round trip, not a statement per order.
    await connection.execute(
        ORDERS.update()
        .where(ORDERS.c.number == bindparam("_number"))
        .values(change_seq=bindparam("_position")),
        [{"_number": number, "_position": position} for number, position in positions.items()],
    )
    await connection.execute(
        COUNTERS.update().where(COUNTERS.c.id == 1).values(last_position=last + len(numbers))
    )
    if connection.dialect.name == "postgresql":
        # Delivered at commit to every replica's listener (feed_wake.py): their long-polling
        # feed readers look again.
        await connection.execute(text(f"NOTIFY {FEED_CHANNEL}"))
    return positions


async def number_with_the_write(session: AsyncSession) -> dict[int, int]:
    """Number what is pending inside the caller's write transaction, as its last statements:
    order -> position. The caller commits next.

    This is the assigner's own step (`_number_pending`), run by the writer: positions are
    taken under the counter's lock and that lock is held until the writer commits, so
    positions still become visible in increasing order (prefix visibility), as they do for
    the assigner's transactions. SQLite: the writer holds the database's only write lock
    anyway. PostgreSQL: the counter row's lock, taken after the writer's own work, serializes
    only the writers' last round trips and their commits; the NOTIFY goes out with the commit.
    It spares each confirm a separate assigner transaction (a look, a turn at the lock, a
    commit) and a wake-up before billing hears of it: on PostgreSQL with two replicas, the
    assigner was 14 % of an ordering replica's CPU and about 9 ms of every change's lag.
    Changes a writer could not number (another writer holds their rows) are the assigner's.
    """
    return await _number_pending(session, ASSIGN_BATCH)


async def has_pending_changes(session: AsyncSession) -> bool:
    connection = await session.connection()
    query = backlog_batch(1, connection.dialect.name, lock=False)
    return (await connection.scalars(query)).first() is not None


async def run_assigner(
    sessions: Sessions, read_sessions: Sessions, waker: FeedWaker | None = None
) -> int:
    """Number every pending change, one short transaction per batch.

    Most runs find nothing to do, so it looks first without taking the counter lock (on SQLite,
    the database's write lock): idle feed reads and ticks then never queue behind each other or
    behind writers. A change committed before the look is seen by it, so a feed answer still
    holds every change committed before its request.
    """
    async with read_sessions() as session:
        if not await has_pending_changes(session):
            return 0
    return await _assign_all(sessions, waker)


async def assign_forever(
    sessions: Sessions,
    read_sessions: Sessions,
    interval: float,
    stop: anyio.Event,
    kick: AssignerKick | None = None,
    waker: FeedWaker | None = None,
    on_run: Callable[[int | None], None] | None = None,
) -> None:
    """The scheduled assigner; a failed run is logged and retried at the next tick.
    `on_run` hears of each run: the changes it numbered, or None when it failed (metrics).

    Besides its schedule it runs as soon as a write that left a change pending kicks it, so a
    long-polling reader hears of a confirm within milliseconds.

    It stops between runs when `stop` is set rather than being cancelled: cancelling an
    aiosqlite call mid-transaction leaves a connection whose close never completes, and the
    process then hangs on exit.
    """
    failing = False
    while not stop.is_set():
        try:
            assigned = await run_assigner(sessions, read_sessions, waker)
        except Exception as exc:
            if on_run is not None:
                on_run(None)
            # One line once per failure streak: a database that is down for an hour must not
            # write a line every tick. An outage is no bug, so no trace; anything else has one.
            if not failing:
                if is_unavailable(exc):
                    logger.warning(
                        "sequence assigner failing (database unavailable: %s); "
                        "retrying every %.1fs",
                        describe(exc),
                        interval,
                    )
                else:
                    logger.exception("sequence assigner failing; retrying every %.1fs", interval)
            failing = True
        else:
            if on_run is not None:
                on_run(assigned)
            if failing:
                logger.warning("sequence assigner recovered")
            failing = False
        if kick is not None:
            await kick.wait(interval)  # stopping kicks it too
        else:
            with anyio.move_on_after(interval):
                await stop.wait()


async def read_changes(session: AsyncSession, since: int, limit: int) -> dict[str, Any]:
    """One feed page after position `since` (a `FeedPage` as JSON-ready data): two queries,
    the page's orders and their lines, read as plain rows."""
    connection = await session.connection()
    counter = (
        await connection.execute(
            sa_select(COUNTERS.c.last_position, COUNTERS.c.feed_id).where(COUNTERS.c.id == 1)
        )
    ).one()
    orders = (
        await connection.execute(
            sa_select(*ORDER_COLUMNS)
            .where(ORDERS.c.change_seq > since)
            .order_by(ORDERS.c.change_seq)
            .limit(limit + 1)
        )
    ).all()
    has_more = len(orders) > limit
    orders = orders[:limit]
    lines: dict[int, list[Row[Any]]] = {order.number: [] for order in orders}
    if orders:
        # The page is the position range (since, last]: join on it rather than sending up to
        # `limit` numbers as parameters.
        in_page = (
            sa_select(*LINE_COLUMNS)
            .join(ORDERS, ORDERS.c.number == LINES.c.order_number)
            .where(ORDERS.c.change_seq > since, ORDERS.c.change_seq <= orders[-1].change_seq)
            .order_by(LINES.c.order_number, LINES.c.position)
        )
        for line in await connection.execute(in_page):
            lines[line.order_number].append(line)
    next_since = orders[-1].change_seq if orders else since
    return {
        "orders": [order_json(order, lines[order.number]) for order in orders],
        "next_since": next_since,
        "has_more": has_more,
        # The counter as it is, never raised to `since`: a reader ahead of it (its database
        # was restored from a backup) must be able to see that the feed is behind it.
        "high_water": counter.last_position,
        "feed_id": counter.feed_id,
    }


async def _assign_all(sessions: Sessions, waker: FeedWaker | None = None) -> int:
    total = 0
    while True:
        async with sessions.begin() as session:
            assigned = await assign_change_positions(session)
        total += assigned
        if assigned and waker is not None:
            waker.notify()  # committed: this process's waiting readers look again
        if assigned < ASSIGN_BATCH:
            return total


async def serve_changes(
    sessions: Sessions,
    read_sessions: Sessions,
    since: int,
    limit: int,
    waker: FeedWaker | None = None,
) -> dict[str, Any]:
    """Number what is pending, then answer: a change committed before the request is in it.

    Caught up (the usual case), the look for pending changes and the page share one read-only
    transaction. Otherwise the assigner numbers the backlog first, in its own write
    transactions, and the page is read afterwards in a read-only one: the answer is never built
    while the write lock is held. Prefix visibility holds for the read because assigner
    transactions commit their positions in increasing order.
    """
    async with read_sessions() as session:
        if not await has_pending_changes(session):
            return await read_changes(session, since, limit)
    await _assign_all(sessions, waker)
    async with read_sessions() as session:
        return await read_changes(session, since, limit)


async def wait_for_changes(
    sessions: Sessions,
    read_sessions: Sessions,
    since: int,
    limit: int,
    wait: float,
    waker: FeedWaker,
) -> dict[str, Any]:
    """The long poll: `serve_changes` at once when it has orders after `since`, else again each
    time the assigner numbers something, until it has or `wait` seconds have passed (then the
    empty page). Same page, same guarantees: only the moment of the answer differs.

    The waker's generation is taken before each look, so a change numbered between the look
    and the wait is never slept through. A server shutting down closes the waker: the poll
    answers its (empty) page at once rather than holding the shutdown for the rest of its wait.
    Only the first look numbers what is pending (the promise covers changes committed before
    the request); a look after a wake-up reads the page alone: what woke it is numbered.
    """
    deadline = anyio.current_time() + wait
    first = True
    while True:
        generation = waker.generation()
        if first:
            page = await serve_changes(sessions, read_sessions, since, limit, waker)
            first = False
        else:
            async with read_sessions() as session:
                page = await read_changes(session, since, limit)
        remaining = deadline - anyio.current_time()
        # A reader ahead of the feed (this database was restored from a backup) hears it at
        # once: waiting would only delay its finding out.
        if page["orders"] or remaining <= 0 or waker.closing or page["high_water"] < since:
            return page
        await waker.wait_past(generation, remaining)
