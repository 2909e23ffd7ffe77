"""The change feed and its sequence assigner (DESIGN §3).

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

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ordering_api.db import Sessions
from ordering_api.models import FeedCounter, FeedPage, Order, OrderPublic
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


async def _lock_counter(session: AsyncSession) -> FeedCounter:
    """The serialization point: the counter row, locked until the caller's commit.

    PostgreSQL: SELECT ... FOR UPDATE under READ COMMITTED; a second assigner waits here, and its
    next statement sees everything the first one committed. SQLite: the transaction already
    holds the database's write lock (BEGIN IMMEDIATE, see db.py); FOR UPDATE is omitted.
    """
    query = select(FeedCounter).where(FeedCounter.id == 1).with_for_update()
    counter = (await session.exec(query)).one()
    return counter


async def assign_change_positions(session: AsyncSession, batch: int = ASSIGN_BATCH) -> int:
    """Number up to `batch` pending orders inside the caller's transaction; return how many."""
    counter = await _lock_counter(session)
    pending = select(col(Order.number)).where(
        col(Order.published).is_(True), col(Order.change_seq).is_(None)
    )
    # SKIP LOCKED: an order a writer holds right now is numbered on a later run, after the
    # writer commits, instead of making the assigner (and every feed reader) wait for it.
    pending = pending.order_by(col(Order.updated_at), col(Order.number)).limit(batch)
    numbers = list((await session.exec(pending.with_for_update(skip_locked=True))).all())
    if not numbers:
        return 0
    first = counter.last_position + 1
    # One executemany round trip (ORM bulk UPDATE by primary key), not a statement per order.
    await session.exec(
        update(Order),
        params=[
            {"number": number, "change_seq": position}
            for position, number in enumerate(numbers, start=first)
        ],
    )
    counter.last_position = first + len(numbers) - 1
    session.add(counter)
    await session.flush()
    return len(numbers)


async def has_pending_changes(session: AsyncSession) -> bool:
    query = select(col(Order.number)).where(
        col(Order.published).is_(True), col(Order.change_seq).is_(None)
    )
    return (await session.exec(query.limit(1))).first() is not None


async def run_assigner(sessions: Sessions, read_sessions: Sessions) -> int:
    """Number every pending change, one short transaction per batch.

    Most runs find nothing to do, so it looks first without taking the counter lock (on SQLite,
    the database's write lock): idle feed reads and ticks then never queue behind each other or
    behind writers. A change committed before the look is seen by it, so a feed answer still
    holds every change committed before its request.
    """
    async with read_sessions() as session:
        if not await has_pending_changes(session):
            return 0
    total = 0
    while True:
        async with sessions.begin() as session:
            assigned = await assign_change_positions(session)
        total += assigned
        if assigned < ASSIGN_BATCH:
            return total


async def assign_forever(
    sessions: Sessions, read_sessions: Sessions, interval: float, stop: anyio.Event
) -> None:
    """The scheduled assigner; a failed run is logged and retried at the next tick.

    It stops between runs when `stop` is set rather than being cancelled: cancelling an
    aiosqlite call mid-transaction leaves a connection whose close never completes, and the
    process then hangs on exit.
    """
    failing = False
    while not stop.is_set():
        try:
            await run_assigner(sessions, read_sessions)
        except Exception as exc:
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
            if failing:
                logger.warning("sequence assigner recovered")
            failing = False
        with anyio.move_on_after(interval):
            await stop.wait()


async def read_changes(session: AsyncSession, since: int, limit: int) -> FeedPage:
    counter = await session.get(FeedCounter, 1)
    assert counter is not None
    query = (
        select(Order)
        .where(col(Order.change_seq) > since)
        .order_by(col(Order.change_seq))
        .limit(limit + 1)
        .options(selectinload(Order.lines))  # type: ignore[arg-type]
    )
    orders = list((await session.exec(query)).all())
    has_more = len(orders) > limit
    orders = orders[:limit]
    next_since = orders[-1].change_seq if orders else since
    assert next_since is not None
    return FeedPage(
        orders=[OrderPublic.of(order) for order in orders],
        next_since=next_since,
        has_more=has_more,
        high_water=max(counter.last_position, next_since),
        feed_id=counter.feed_id,
    )


async def serve_changes(
    sessions: Sessions, read_sessions: Sessions, since: int, limit: int
) -> FeedPage:
    """Number what is pending, then answer: a change committed before the request is in it.

    The read runs in one read-only transaction (one snapshot); prefix visibility holds for it
    because assigner transactions commit their positions in increasing order.
    """
    await run_assigner(sessions, read_sessions)
    async with read_sessions() as session:
        return await read_changes(session, since, limit)
