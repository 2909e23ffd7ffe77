"""The late-commit test on a real PostgreSQL server, with the change-date control.

Transaction A changes order 1 and stays open; B changes order 2 and commits; the feed is read
and its token kept; A commits; the next read from the kept token must contain order 1. The
control shows that a change-date token, read at the same moment, loses order 1 for good.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlmodel import col, select

from ordering_api.db import Sessions, create_engine, create_schema, create_sessions
from ordering_api.feed import ensure_feed_counter, run_assigner, serve_changes
from ordering_api.models import Order, OrderInput
from ordering_api.orders import confirm_order, create_order, delete_order
from tests.ordering_api.conftest import ORDER

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[Sessions]:
    # One session factory serves writes and reads: under READ COMMITTED a read sees the same in
    # a transaction as in autocommit (service_db.engine.read_only).
    engine = create_engine(pg_url)
    await create_schema(engine)
    made = create_sessions(engine)
    await ensure_feed_counter(made)
    yield made
    await engine.dispose()


async def _new_order(sessions: Sessions, confirm: bool) -> int:
    async with sessions.begin() as session:
        order = await create_order(session, OrderInput.model_validate(ORDER), now=T0, who="test")
        if confirm:
            await confirm_order(session, order["number"], now=T0, who="test")
        number: int = order["number"]
        return number


async def _changed_since(sessions: Sessions, moment: datetime) -> list[int]:
    """What a change-date feed would answer: published orders updated after `moment`."""
    async with sessions() as session:
        query = select(col(Order.number)).where(
            col(Order.published).is_(True), col(Order.updated_at) > moment
        )
        return sorted(cast("list[int]", (await session.exec(query)).all()))


async def test_a_late_commit_is_not_lost(sessions: Sessions) -> None:
    one = await _new_order(sessions, confirm=True)
    two = await _new_order(sessions, confirm=False)
    start = await serve_changes(sessions, sessions, since=0, limit=500)
    assert [o["number"] for o in start["orders"]] == [one]
    token = start["next_since"]

    # A: a long transaction changes order 1 (its change date is the earlier one) and stays open.
    a = sessions()
    await a.begin()
    await delete_order(a, one, now=T0 + timedelta(seconds=1), who="test")

    # B: changes order 2 later and commits first.
    async with sessions.begin() as b:
        await confirm_order(b, two, now=T0 + timedelta(seconds=2), who="test")

    read = await serve_changes(sessions, sessions, since=token, limit=500)
    assert [o["number"] for o in read["orders"]] == [two]
    token = read["next_since"]
    date_token = max(
        datetime.fromisoformat(o["updated_at"]) for o in read["orders"]
    )  # what a change-date client keeps

    await a.commit()
    await a.close()

    after = await serve_changes(sessions, sessions, since=token, limit=500)
    assert [(o["number"], o["status"]) for o in after["orders"]] == [(one, "deleted")]
    assert after["orders"][0]["change_seq"] > token

    # Control: the change-date token kept at the same moment never sees A's change.
    assert await _changed_since(sessions, date_token) == []


async def test_the_assigner_does_not_wait_for_an_open_writer(sessions: Sessions) -> None:
    """SKIP LOCKED: a pending order held by an open writer is numbered after that writer
    commits, while the others are numbered now (a long writer doesn't stall the feed)."""
    held = await _new_order(sessions, True)
    await _new_order(sessions, True)
    await run_assigner(sessions, sessions)  # positions 1 and 2
    async with sessions.begin() as session:
        await delete_order(session, held, who="test")  # pending again
    third = await _new_order(sessions, True)

    writer = sessions()
    await writer.begin()
    # The writer locks `held` (already pending from the delete above) and keeps it.
    await writer.exec(select(Order).where(Order.number == held).with_for_update())
    # Only `third`: `held` is skipped, not waited on.
    assert await run_assigner(sessions, sessions) == 1
    await writer.rollback()
    await writer.close()
    assert await run_assigner(sessions, sessions) == 1  # now `held`
    page = await serve_changes(sessions, sessions, since=2, limit=500)
    assert [o["number"] for o in page["orders"]] == [third, held]
