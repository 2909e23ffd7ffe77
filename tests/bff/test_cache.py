"""Caching: repeated reads hit no upstream, writes are never read back stale; memory and Redis."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import redis as redis_lib

from bff.app import create_app
from tests.bff.conftest import (
    ORDER_INPUT,
    System,
    SystemFactory,
    confirmed_orders_with_invoices,
    create_order,
)
from tests.support.asgi import serving
from tests.support.servers import RedisServer, free_port

AGGREGATE = """{ orders(first: 20) { edges { node { number status total
  invoice { number status } } } pageInfo { endCursor } } }"""
ORDER = "query($n: Int!) { order(number: $n) { number total rowVersion status } }"
INVOICE = "query($n: Int!) { invoice(orderNumber: $n) { number status } }"
UPDATE = """mutation($n: Int!, $input: OrderInput!) {
  updateOrder(number: $n, input: $input) { number total } }"""
APPROVE = "mutation($n: Int!) { approveInvoice(number: $n) { status } }"
REDIS_DB = 7  # the BFF tests' own database on the session's redis-server


@pytest.fixture
def redis_url(redis: RedisServer) -> str:
    client = redis_lib.Redis.from_url(redis.url(REDIS_DB))
    client.flushdb()  # no entries left over from another test's orders
    client.close()
    return redis.url(REDIS_DB)


def upstream_calls(system: System) -> int:
    return len(system.ordering_link.calls) + len(system.billing_link.calls)


async def assert_read_your_writes(system: System) -> None:
    """The guarantee both backends must give: cached reads, never stale after our own write."""
    [number] = await confirmed_orders_with_invoices(system, 1)
    draft = await create_order(system)
    first = await system.ok(AGGREGATE)
    await system.ok(ORDER, {"n": draft})
    await system.ok(INVOICE, {"n": number})
    system.reset_counts()

    assert await system.ok(AGGREGATE) == first
    await system.ok(ORDER, {"n": draft})
    await system.ok(INVOICE, {"n": number})
    assert upstream_calls(system) == 0  # all from the cache

    changed = {**ORDER_INPUT, "lines": [{"sku": "GEAR", "quantity": 1, "unitPrice": "9.99"}]}
    await system.ok(UPDATE, {"n": draft, "input": changed})
    assert (await system.ok(ORDER, {"n": draft}))["order"]["total"] == "9.99"
    listed = {
        e["node"]["number"]: e["node"] for e in (await system.ok(AGGREGATE))["orders"]["edges"]
    }
    assert listed[draft]["total"] == "9.99"

    invoice = (await system.ok(INVOICE, {"n": number}))["invoice"]
    await system.ok(APPROVE, {"n": invoice["number"]})
    assert (await system.ok(INVOICE, {"n": number}))["invoice"]["status"] == "APPROVED"
    listed = {
        e["node"]["number"]: e["node"] for e in (await system.ok(AGGREGATE))["orders"]["edges"]
    }
    assert listed[number]["invoice"]["status"] == "APPROVED"


async def test_memory_cache_serves_repeats_and_never_stale_writes(system: System) -> None:
    await assert_read_your_writes(system)


async def test_redis_cache_serves_repeats_and_never_stale_writes(
    make_system: SystemFactory, redis_url: str
) -> None:
    system = await make_system(cache_url=redis_url)
    await assert_read_your_writes(system)
    keys: list[bytes] = redis_lib.Redis.from_url(redis_url).keys("bff:*")  # type: ignore[assignment]
    assert any(key.startswith(b"bff:ordering:g") for key in keys)
    assert b"bff:ordering:generation" in keys


async def test_a_confirmed_order_shows_its_invoice_once_billing_has_it(system: System) -> None:
    number = await create_order(system)
    assert (await system.ok(INVOICE, {"n": number}))["invoice"] is None

    await system.ok(
        "mutation($n: Int!) { confirmOrder(number: $n) { invoiceLink } }", {"n": number}
    )
    await system.pull()

    assert (await system.ok(INVOICE, {"n": number}))["invoice"]["status"] == "PENDING_APPROVAL"


async def test_an_invoice_billing_creates_after_confirm_is_hidden_for_the_absent_ttl_at_most(
    make_system: SystemFactory,
) -> None:
    """The confirm answer itself reads the invoice (not there yet); billing then creates it on
    its own, with no write through the BFF. That absence is cached for BFF_CACHE_ABSENT_TTL
    only, never for the (here one minute) TTL."""
    system = await make_system(cache_ttl=60.0, cache_absent_ttl=0.2)
    number = await create_order(system)
    confirmed = await system.ok(
        """mutation($n: Int!) { confirmOrder(number: $n) {
             invoiceLink order { number invoice { number } } } }""",
        {"n": number},
    )
    assert confirmed["confirmOrder"]["order"]["invoice"] is None
    listed = {
        e["node"]["number"]: e["node"] for e in (await system.ok(AGGREGATE))["orders"]["edges"]
    }
    assert listed[number]["invoice"] is None

    await system.pull()

    deadline = time.monotonic() + 10  # far below the TTL, far above the absent TTL
    while True:
        listed = {
            e["node"]["number"]: e["node"] for e in (await system.ok(AGGREGATE))["orders"]["edges"]
        }
        if listed[number]["invoice"] is not None:
            break
        assert time.monotonic() < deadline, "the cached absence outlived BFF_CACHE_ABSENT_TTL"
    assert listed[number]["invoice"]["status"] == "PENDING_APPROVAL"
    assert (await system.ok(INVOICE, {"n": number}))["invoice"]["status"] == "PENDING_APPROVAL"


async def _confirmed_then_listed(system: System) -> int:
    """An order confirmed through the BFF and listed once (its invoice not there yet); the
    upstream call counts start from here."""
    number = await create_order(system)
    await system.ok(
        "mutation($n: Int!) { confirmOrder(number: $n) { invoiceLink } }", {"n": number}
    )
    await system.ok(AGGREGATE)
    system.reset_counts()
    return number


async def test_a_missing_invoice_is_asked_for_once_per_absent_ttl(
    make_system: SystemFactory,
) -> None:
    """A page with an order still waiting for its invoice must not cost a billing call per
    read: the absence is cached, briefly."""
    system = await make_system(cache_ttl=60.0, cache_absent_ttl=30.0)
    number = await _confirmed_then_listed(system)

    for _ in range(3):
        listed = {
            e["node"]["number"]: e["node"] for e in (await system.ok(AGGREGATE))["orders"]["edges"]
        }
        assert listed[number]["invoice"] is None
    assert system.billing_link.calls == []


async def test_absent_ttl_zero_asks_billing_every_time(make_system: SystemFactory) -> None:
    system = await make_system(cache_ttl=60.0, cache_absent_ttl=0.0)
    await _confirmed_then_listed(system)

    await system.ok(AGGREGATE)
    await system.ok(AGGREGATE)
    assert len(system.billing_link.calls) == 2


async def test_a_list_of_drafts_asks_billing_nothing(system: System) -> None:
    await create_order(system)
    system.reset_counts()
    await system.ok(AGGREGATE)
    assert system.billing_link.calls == []  # drafts have no invoice to look up


async def test_replicas_sharing_redis_see_each_others_writes(
    make_system: SystemFactory, redis_url: str
) -> None:
    system = await make_system(cache_url=redis_url)
    draft = await create_order(system)
    other_settings = system.settings.model_copy()
    async with (
        serving(create_app(other_settings, system.ordering_link, system.billing_link)) as app,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://replica.test",
            cookies=dict(system.bff.cookies),  # the session is shared through Redis too
        ) as replica,
    ):

        async def replica_total() -> Any:
            response = await replica.post(
                "/graphql", json={"query": ORDER, "variables": {"n": draft}}
            )
            return response.json()["data"]["order"]["total"]

        assert await replica_total() == "3.20"  # now cached in Redis
        changed = {**ORDER_INPUT, "lines": [{"sku": "A", "quantity": 2, "unitPrice": "5.00"}]}
        await system.ok(UPDATE, {"n": draft, "input": changed})  # written through replica 1
        assert await replica_total() == "10.00"


async def test_entries_expire_after_the_ttl(make_system: SystemFactory) -> None:
    system = await make_system(cache_ttl=0.2)
    number = await create_order(system)
    await system.ok(ORDER, {"n": number})
    system.reset_counts()

    deadline = time.monotonic() + 10
    while not system.ordering_link.calls:
        assert time.monotonic() < deadline, "the cached entry never expired"
        await system.ok(ORDER, {"n": number})
    assert system.ordering_link.paths() == ["GET /orders"]


async def test_ttl_zero_disables_caching(make_system: SystemFactory) -> None:
    system = await make_system(cache_ttl=0)
    number = await create_order(system)
    system.reset_counts()

    await system.ok(ORDER, {"n": number})
    await system.ok(ORDER, {"n": number})

    assert system.ordering_link.paths() == ["GET /orders", "GET /orders"]


async def test_unreachable_redis_degrades_to_upstream_reads(make_system: SystemFactory) -> None:
    # Sessions kept elsewhere: without its session store, nobody would be signed in.
    system = await make_system(
        cache_url=f"redis://127.0.0.1:{free_port()}/0", session_url="memory://"
    )
    number = await create_order(system)

    order = (await system.ok(ORDER, {"n": number}))["order"]

    assert order["number"] == number
    assert system.ordering_link.paths()[-1] == "GET /orders"
