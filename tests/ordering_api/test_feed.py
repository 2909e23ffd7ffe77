"""The change feed on a real SQLite file: what it publishes, paging, the counter, the feed id.

SQLite serializes writers (every transaction is BEGIN IMMEDIATE), so the late-commit
interleaving itself cannot happen here; see test_feed_postgres.py for it on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from ordering_api.feed import run_assigner
from ordering_api.models import OrderInput
from ordering_api.orders import confirm_order, create_order, delete_order
from tests.ordering_api.conftest import ORDER, Ordering, run_ordering


async def test_only_published_orders_appear_deleted_ones_included(ordering: Ordering) -> None:
    draft = await ordering.create()
    deleted_draft = await ordering.create()
    await ordering.client.delete(f"/orders/{deleted_draft['number']}")
    confirmed = await ordering.confirmed()
    deleted = await ordering.confirmed()
    await ordering.client.delete(f"/orders/{deleted['number']}")

    page = await ordering.feed()
    by_number = {o["number"]: o for o in page["orders"]}
    assert set(by_number) == {confirmed["number"], deleted["number"]}
    assert draft["number"] not in by_number and deleted_draft["number"] not in by_number
    assert by_number[deleted["number"]]["status"] == "deleted"
    assert by_number[deleted["number"]]["lines"], "full trees, lines included"


async def test_a_confirm_and_a_delete_are_numbered_in_their_own_transaction(
    any_ordering: Ordering,
) -> None:
    running = any_ordering
    # The fixture's scheduled assigner runs once a minute: the writes themselves numbered.
    confirmed = await running.confirmed()
    assert confirmed["change_seq"] == 1
    deleted = (await running.client.delete(f"/orders/{confirmed['number']}")).json()
    assert deleted["change_seq"] == 2
    page = await running.feed()
    assert [(o["number"], o["change_seq"]) for o in page["orders"]] == [(confirmed["number"], 2)]
    assert page["high_water"] == 2


async def test_a_change_committed_before_the_request_is_in_its_answer(ordering: Ordering) -> None:
    # Left pending by the rules alone (routes number with the write); the scheduled assigner
    # runs once a minute: only the feed's own run numbers it.
    number = (await ordering.create())["number"]
    async with ordering.sessions.begin() as session:
        await confirm_order(session, number, who="test")
    page = await ordering.feed()
    assert [o["number"] for o in page["orders"]] == [number]
    assert page["orders"][0]["change_seq"] == 1


async def test_paging_tokens_and_high_water(ordering: Ordering) -> None:
    numbers = [(await ordering.confirmed())["number"] for _ in range(5)]
    first = await ordering.feed(since=0, limit=2)
    assert [o["number"] for o in first["orders"]] == numbers[:2]
    assert first["has_more"] is True
    assert first["next_since"] == first["orders"][-1]["change_seq"]
    assert first["high_water"] == 5

    collected = list(first["orders"])
    page = first
    while page["has_more"]:
        page = await ordering.feed(since=page["next_since"], limit=2)
        positions = [o["change_seq"] for o in page["orders"]]
        assert positions == sorted(positions)
        collected += page["orders"]
    assert [o["number"] for o in collected] == numbers

    empty = await ordering.feed(since=page["next_since"])
    assert empty == {**empty, "orders": [], "has_more": False, "next_since": page["next_since"]}
    assert empty["feed_id"] == first["feed_id"]


async def test_a_changed_order_moves_to_a_new_position_never_a_reissued_one(
    ordering: Ordering,
) -> None:
    first, second = await ordering.confirmed(), await ordering.confirmed()
    page = await ordering.feed()
    assert [o["change_seq"] for o in page["orders"]] == [1, 2]
    # Deleting the order at the highest position clears its mark. max()+1 over the orders
    # would now hand out 2 again (a reader at 2 would skip it); the counter hands out 3.
    await ordering.client.delete(f"/orders/{second['number']}")
    later = await ordering.feed(since=2)
    assert [(o["number"], o["change_seq"], o["status"]) for o in later["orders"]] == [
        (second["number"], 3, "deleted")
    ]
    everything = await ordering.feed(since=0)
    assert [(o["number"], o["change_seq"]) for o in everything["orders"]] == [
        (first["number"], 1),
        (second["number"], 3),
    ]


async def test_every_write_path_moves_a_published_order_to_a_new_position(
    ordering: Ordering,
) -> None:
    order = await ordering.confirmed()
    await ordering.feed()
    numbered = (await ordering.client.get(f"/orders/{order['number']}")).json()
    assert numbered["change_seq"] == 1
    deleted = (await ordering.client.delete(f"/orders/{order['number']}")).json()
    # Numbered with the write on SQLite (feed.number_with_the_write): a new, later position.
    assert deleted["change_seq"] == 2 and deleted["row_version"] == numbered["row_version"] + 1
    assert [o["status"] for o in (await ordering.feed(since=1))["orders"]] == ["deleted"]


async def test_counter_and_feed_id_survive_a_restart(sqlite_url: str) -> None:
    async for ordering in run_ordering(sqlite_url):
        await ordering.confirmed()
        before = await ordering.feed()
    async for ordering in run_ordering(sqlite_url):
        await ordering.confirmed()
        after = await ordering.feed(since=before["next_since"])
    assert after["feed_id"] == before["feed_id"]
    assert [o["change_seq"] for o in after["orders"]] == [before["next_since"] + 1]


async def test_a_new_database_has_a_new_feed_id(ordering: Ordering, tmp_path: Any) -> None:
    other_url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    async for other in run_ordering(other_url):
        assert (await other.feed())["feed_id"] != (await ordering.feed())["feed_id"]


async def test_the_scheduled_assigner_numbers_without_a_reader(sqlite_url: str) -> None:
    from ordering_api.app import create_app
    from ordering_api.settings import OrderingSettings
    from tests.support.asgi import started

    settings = OrderingSettings(database_url=sqlite_url, service_token="t", assign_interval=0.02)
    async with started(create_app(settings)) as running:
        sessions = running.state["sessions"]
        async with sessions.begin() as session:
            order = await create_order(session, OrderInput.model_validate(ORDER), who="test")
            await confirm_order(session, order["number"], who="test")
        async with asyncio.timeout(10):
            while True:
                async with sessions() as session:
                    from ordering_api.orders import get_order

                    fresh = await get_order(session, order["number"])
                if fresh.change_seq is not None:
                    break
                await asyncio.sleep(0.02)
        assert fresh.change_seq == 1


async def test_on_sqlite_a_long_writer_holds_back_later_ones_so_positions_follow_commits(
    ordering: Ordering,
) -> None:
    """SQLite takes the write lock at BEGIN: B cannot commit before A, so A's change is numbered
    first and a reader can never hold a token past A's unnumbered change."""
    sessions = ordering.sessions
    one, two = await ordering.confirmed(), await ordering.create()
    token = (await ordering.feed())["next_since"]

    a = sessions()
    await a.begin()  # A takes the write lock now
    await delete_order(a, one["number"], who="test")

    async def b() -> None:
        async with sessions.begin() as session:
            await confirm_order(session, two["number"], who="test")

    b_task = asyncio.create_task(b())
    reader = asyncio.create_task(ordering.feed(since=token))
    await a.commit()
    await a.close()
    await b_task
    first_read = await reader
    # Whatever the reader got, nothing it skipped is below its token later on.
    rest = await ordering.feed(since=first_read["next_since"])
    delivered = [(o["number"], o["status"]) for o in first_read["orders"] + rest["orders"]]
    assert delivered == [(one["number"], "deleted"), (two["number"], "confirmed")]


async def test_assigner_numbers_in_batches_until_nothing_is_pending(ordering: Ordering) -> None:
    sessions = ordering.sessions
    async with sessions.begin() as session:
        for _ in range(3):
            order = await create_order(session, OrderInput.model_validate(ORDER), who="test")
            await confirm_order(session, order["number"], who="test")
    assert await run_assigner(sessions, ordering.read_sessions) == 3
    assert await run_assigner(sessions, ordering.read_sessions) == 0


async def test_a_failing_assigner_logs_one_trace_per_failure_streak(
    ordering: Ordering, caplog: pytest.LogCaptureFixture
) -> None:
    import anyio

    from ordering_api.feed import assign_forever

    stop = anyio.Event()
    calls = 0

    class DatabaseDown:
        async def __aenter__(self) -> None:
            raise OSError("database unreachable")

        async def __aexit__(self, *exc: object) -> None:
            return None

    def read_sessions() -> Any:
        nonlocal calls
        calls += 1
        if calls == 8:
            stop.set()
        # Five failures, then the real database answers again.
        return DatabaseDown() if calls <= 5 else ordering.read_sessions()

    with caplog.at_level(logging.INFO, logger="ordering_api.feed"):
        async with asyncio.timeout(10):
            await assign_forever(ordering.sessions, read_sessions, 0.001, stop)  # type: ignore[arg-type]
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in messages] == ["ERROR", "WARNING"], messages
    assert "recovered" in messages[1][1]
