"""The feed and the hot writes (create, confirm, delete) build their orders from plain rows, not
through OrderPublic: the shape must not drift.

Also: the assigner finds its next batch by walking an index in its own order, never by sorting
the backlog (the database's own plan says so, on SQLite and on PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from ordering_api.feed import ASSIGN_BATCH, backlog_batch
from ordering_api.models import OrderInput
from ordering_api.orders import confirm_order, create_order
from tests.ordering_api.conftest import ORDER, Ordering

EDGE_ORDER: dict[str, Any] = {
    "customer": {"name": "Zoë Ünicode ✓", "email": "zoe@example.com"},
    "currency": "JPY",
    "lines": [
        {"sku": "A", "quantity": 1, "unit_price": "5"},  # description defaults to ""
        {"sku": "B", "description": "big", "quantity": 100_000, "unit_price": "1000000000"},
        {"sku": "C", "description": "free", "quantity": 3, "unit_price": "0"},
    ],
}
# Three decimal places (ISO 4217), and the highest price such a currency allows.
KWD_ORDER: dict[str, Any] = {
    "customer": {"name": "Kuwait", "email": "k@example.com"},
    "currency": "KWD",
    "lines": [
        {"sku": "A", "quantity": 3, "unit_price": "0.125"},
        {"sku": "B", "quantity": 100_000, "unit_price": "100000000"},
    ],
}


async def test_feed_orders_are_exactly_what_the_order_route_answers(any_ordering: Ordering) -> None:
    ordering = any_ordering
    plain = await ordering.confirmed()
    edge = await ordering.create(EDGE_ORDER)
    await ordering.client.post(f"/orders/{edge['number']}/confirm")
    kwd = await ordering.create(KWD_ORDER)
    await ordering.client.post(f"/orders/{kwd['number']}/confirm")
    deleted = await ordering.confirmed()
    await ordering.client.delete(f"/orders/{deleted['number']}")
    # A timestamp with no microseconds: the one case where ISO 8601 text drops the fraction.
    whole_second = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    async with ordering.sessions.begin() as session:
        order = await create_order(
            session, OrderInput.model_validate(ORDER), now=whole_second, who="test"
        )
        await confirm_order(session, order["number"], now=whole_second, who="test")
        on_the_second = order["number"]

    page = await ordering.feed()

    numbers = [plain["number"], edge["number"], kwd["number"], deleted["number"], on_the_second]
    assert sorted(o["number"] for o in page["orders"]) == sorted(numbers)
    response = await ordering.client.get("/orders", params={"number": numbers})
    through_the_model = {o["number"]: o for o in response.json()["orders"]}
    for fed in page["orders"]:
        assert fed == through_the_model[fed["number"]]
    # Amounts carry exactly their currency's digits, in the feed and the route alike.
    assert through_the_model[edge["number"]]["total"] == "100000000000005"
    assert through_the_model[kwd["number"]]["lines"][0]["amount"] == "0.375"
    assert through_the_model[kwd["number"]]["total"] == "10000000000000.375"
    by_number = {o["number"]: o for o in page["orders"]}
    assert by_number[on_the_second]["created_at"] == "2026-11-21T09:30:00Z"
    assert [line["amount"] for line in by_number[edge["number"]]["lines"]] == [
        "5",
        "100000000000000",
        "0",
    ]


def _as_read(read: Any, answered: dict[str, Any]) -> bool:
    """The read equals the write's answer; an answer still pending (PostgreSQL's assigner
    numbers after the commit) may have been given its position since."""
    found = read.json()
    if answered["change_seq"] is None:
        assert found["change_seq"] is None or found["change_seq"] > 0
        return {**found, "change_seq": None} == answered
    return bool(found == answered)


async def test_write_answers_are_exactly_what_the_order_route_answers(
    any_ordering: Ordering,
) -> None:
    ordering = any_ordering
    for body in (ORDER, EDGE_ORDER, KWD_ORDER):
        created = await ordering.client.post("/orders", json=body)
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        assert created.headers["location"] == f"/orders/{number}"
        answers = [created.json()]
        answers.append((await ordering.client.post(f"/orders/{number}/confirm")).json())
        # Read back while still confirmed, the route's answer is the confirm's.
        assert _as_read(await ordering.client.get(f"/orders/{number}"), answers[-1])
        answers.append((await ordering.client.delete(f"/orders/{number}")).json())
        assert _as_read(await ordering.client.get(f"/orders/{number}"), answers[-1])
        assert [a["status"] for a in answers] == ["draft", "confirmed", "deleted"]
        assert [a["row_version"] for a in answers] == [1, 2, 3]
    draft = (await ordering.client.post("/orders", json=KWD_ORDER)).json()
    assert (await ordering.client.get(f"/orders/{draft['number']}")).json() == draft


async def test_an_empty_page_keeps_the_token_and_reports_the_feed(ordering: Ordering) -> None:
    await ordering.confirmed()
    page = await ordering.feed(since=1)
    assert page["orders"] == [] and page["next_since"] == 1 and page["has_more"] is False
    assert page["high_water"] == 1 and page["feed_id"]


def _sql(dialect: Any) -> str:
    query = backlog_batch(ASSIGN_BATCH, dialect.name)
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


async def test_on_sqlite_the_assigner_walks_its_index_without_sorting(ordering: Ordering) -> None:
    async with ordering.read_sessions() as session:
        connection = await session.connection()
        plan = [
            row[-1]
            for row in await connection.execute(
                text("EXPLAIN QUERY PLAN " + _sql(sqlite.dialect()))
            )
        ]
    assert any("ix_orders_backlog" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


@pytest.mark.postgres
async def test_on_postgres_the_assigner_walks_its_index_without_sorting(
    ordering_pg: Ordering,
) -> None:
    for _ in range(3):
        await ordering_pg.confirmed()  # a backlog (the fixture's assigner waits a minute)
    async with ordering_pg.sessions.begin() as session:
        connection = await session.connection()
        await connection.execute(text("ANALYZE orders"))
        # With sorting priced out, a plan still sorts only if no index yields this order.
        await connection.execute(text("SET LOCAL enable_sort = off"))
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = [
            row[0]
            for row in await connection.execute(text("EXPLAIN " + _sql(postgresql.dialect())))
        ]
    assert any("ix_orders_backlog" in step for step in plan), plan
    assert not any("Sort" in step for step in plan), plan
