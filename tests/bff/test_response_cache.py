"""The whole-response cache: repeats cost no upstream call and no execution, and only clean
answers built from cached reads are kept (never sync status, never an answer with errors)."""

from __future__ import annotations

from tests.bff.conftest import System, SystemFactory, confirmed_orders_with_invoices
from tests.bff.transports import Fault

AGGREGATE = "{ orders(first: 10) { edges { node { number invoice { number status } } } } }"
SYNC = "{ syncStatus { healthy token } }"


def upstream_calls(system: System) -> int:
    return len(system.ordering_link.calls) + len(system.billing_link.calls)


async def test_a_repeated_read_is_answered_byte_for_byte_from_the_cache(system: System) -> None:
    await confirmed_orders_with_invoices(system, 2)
    first = await system.bff.post("/graphql", json={"query": AGGREGATE})
    system.reset_counts()

    again = await system.bff.post("/graphql", json={"query": AGGREGATE})

    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert upstream_calls(system) == 0


async def test_the_key_is_the_request_as_sent(system: System) -> None:
    await confirmed_orders_with_invoices(system, 1)
    await system.bff.post("/graphql", json={"query": AGGREGATE})
    system.reset_counts()

    # Another media type: its own entry (the content type differs), filled from the upstream
    # cache, so still no upstream call, but a distinct answer.
    other = await system.bff.post(
        "/graphql",
        json={"query": AGGREGATE},
        headers={"accept": "application/graphql-response+json"},
    )

    assert other.headers["content-type"].startswith("application/graphql-response+json")
    assert upstream_calls(system) == 0


async def test_sync_status_is_never_served_from_the_cache(system: System) -> None:
    await system.ok(SYNC)
    system.reset_counts()

    await system.ok(SYNC)
    await system.ok(SYNC)

    assert len(system.billing_link.calls) == 2


async def test_an_answer_with_errors_is_not_kept(make_system: SystemFactory) -> None:
    system = await make_system(upstream_timeout=0.5)
    numbers = await confirmed_orders_with_invoices(system, 2)
    system.billing_link.fault = Fault.DOWN
    partial = await system.gql(AGGREGATE)
    assert partial["errors"]

    system.billing_link.fault = Fault.NONE
    healed = await system.gql(AGGREGATE)

    assert "errors" not in healed
    invoices = [e["node"]["invoice"] for e in healed["data"]["orders"]["edges"]]
    assert [i["number"] for i in invoices] == sorted(numbers, reverse=True)


async def test_a_write_is_never_followed_by_a_cached_answer_from_before_it(
    system: System,
) -> None:
    [number] = await confirmed_orders_with_invoices(system, 1)
    before = await system.ok(AGGREGATE)
    [edge] = before["orders"]["edges"]
    assert edge["node"]["invoice"]["status"] == "PENDING_APPROVAL"

    await system.ok(
        "mutation($n: Int!) { approveInvoice(number: $n) { status } }",
        {"n": edge["node"]["invoice"]["number"]},
    )

    after = await system.ok(AGGREGATE)
    assert after["orders"]["edges"][0]["node"]["invoice"]["status"] == "APPROVED"
    assert after["orders"]["edges"][0]["node"]["number"] == number


async def test_cache_off_keeps_no_answers(make_system: SystemFactory) -> None:
    system = await make_system(cache_ttl=0)
    await confirmed_orders_with_invoices(system, 1)
    await system.ok(AGGREGATE)
    system.reset_counts()

    await system.ok(AGGREGATE)

    assert len(system.ordering_link.calls) == 1
    assert len(system.billing_link.calls) == 1
