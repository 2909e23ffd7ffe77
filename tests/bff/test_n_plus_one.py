"""No N+1: one REST call per upstream per level of a query, whatever the page size.

Counted at the transport between the BFF and each upstream, with a cold cache.
"""

from __future__ import annotations

from tests.bff.conftest import System, confirmed_orders_with_invoices


async def test_fifty_orders_with_invoices_cost_one_call_per_upstream(system: System) -> None:
    numbers = await confirmed_orders_with_invoices(system, 50)
    system.reset_counts()

    data = await system.ok("{ orders(first: 50) { edges { node { invoice { status } } } } }")

    edges = data["orders"]["edges"]
    assert len(edges) == 50
    assert all(e["node"]["invoice"]["status"] == "PENDING_APPROVAL" for e in edges)
    assert system.ordering_link.paths() == ["GET /orders"]
    assert system.billing_link.paths() == ["GET /invoices"]
    asked = system.billing_link.calls[0].url.params.get_list("order_number")
    assert sorted(int(n) for n in asked) == sorted(numbers)


async def test_invoices_with_orders_and_back_cost_one_call_per_upstream(system: System) -> None:
    await confirmed_orders_with_invoices(system, 30)
    system.reset_counts()

    data = await system.ok("""{ invoices(first: 30) { edges { node {
      number order { number status invoice { number } } } } } }""")

    edges = data["invoices"]["edges"]
    assert len(edges) == 30
    for edge in edges:
        assert edge["node"]["order"]["invoice"]["number"] == edge["node"]["number"]
    # The invoice page (billing) and one batch of their orders (ordering); the orders' invoices
    # are the ones already in hand.
    assert system.billing_link.paths() == ["GET /invoices"]
    assert system.ordering_link.paths() == ["GET /orders"]
    assert len(system.ordering_link.calls[0].url.params.get_list("number")) == 30


async def test_aliased_lookups_are_batched(system: System) -> None:
    numbers = await confirmed_orders_with_invoices(system, 3)
    system.reset_counts()
    query = " ".join(f"o{n}: order(number: {n}) {{ number invoice {{ number }} }}" for n in numbers)

    data = await system.ok(f"{{ {query} }}")

    assert [data[f"o{n}"]["number"] for n in numbers] == numbers
    assert system.ordering_link.paths() == ["GET /orders"]
    assert system.billing_link.paths() == ["GET /invoices"]
