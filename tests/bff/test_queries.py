"""Every query of the contract, against the real ordering and billing apps."""

from __future__ import annotations

from tests.bff.conftest import (
    ORDER_INPUT,
    System,
    confirmed_orders_with_invoices,
    create_order,
)

ORDER_FIELDS = """
number status currency total rowVersion createdAt updatedAt confirmedAt deletedAt
customer { name email }
lines { sku description quantity unitPrice amount }
"""


async def test_order_by_number_has_every_field(system: System) -> None:
    number = await create_order(system)

    data = await system.ok(
        f"query($n: Int!) {{ order(number: $n) {{ {ORDER_FIELDS} invoice {{ number }} }} }}",
        {"n": number},
    )

    order = data["order"]
    assert order["number"] == number
    assert order["status"] == "DRAFT"
    assert order["customer"] == ORDER_INPUT["customer"]
    assert order["currency"] == "EUR"
    assert order["lines"] == [
        {
            "sku": "BOLT-10",
            "description": "Bolt 10 mm",
            "quantity": 4,
            "unitPrice": "0.25",
            "amount": "1.00",
        },
        {"sku": "NUT-10", "description": "", "quantity": 2, "unitPrice": "1.10", "amount": "2.20"},
    ]
    assert order["total"] == "3.20"
    assert order["rowVersion"] == 1
    assert order["createdAt"].endswith("+00:00")
    assert order["confirmedAt"] is None and order["deletedAt"] is None
    assert order["invoice"] is None  # a draft has no invoice


async def test_unknown_order_is_null_without_error(system: System) -> None:
    body = await system.gql("{ order(number: 999999) { number } }")
    assert body == {"data": {"order": None}}


async def test_orders_pages_newest_first_with_relay_cursors(system: System) -> None:
    numbers = [await create_order(system) for _ in range(5)]
    query = """
    query($first: Int!, $after: String) {
      orders(first: $first, after: $after) {
        edges { cursor node { number } }
        pageInfo { hasNextPage endCursor }
      }
    }"""

    first = (await system.ok(query, {"first": 2}))["orders"]
    assert [e["node"]["number"] for e in first["edges"]] == numbers[::-1][:2]
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]

    second = await system.ok(query, {"first": 2, "after": first["pageInfo"]["endCursor"]})
    assert [e["node"]["number"] for e in second["orders"]["edges"]] == numbers[::-1][2:4]

    # Resuming after an edge in the middle of a page continues right after that edge.
    middle = first["edges"][0]["cursor"]
    resumed = (await system.ok(query, {"first": 3, "after": middle}))["orders"]
    assert [e["node"]["number"] for e in resumed["edges"]] == numbers[::-1][1:4]

    rest = await system.ok(query, {"first": 10, "after": second["orders"]["pageInfo"]["endCursor"]})
    assert [e["node"]["number"] for e in rest["orders"]["edges"]] == numbers[::-1][4:]
    assert rest["orders"]["pageInfo"]["hasNextPage"] is False


async def test_orders_filter_by_status(system: System) -> None:
    draft = await create_order(system)
    [confirmed] = await confirmed_orders_with_invoices(system, 1)
    query = "query($s: OrderStatus) { orders(status: $s) { edges { node { number status } } } }"

    drafts = (await system.ok(query, {"s": "DRAFT"}))["orders"]["edges"]
    confirmed_edges = (await system.ok(query, {"s": "CONFIRMED"}))["orders"]["edges"]

    assert [e["node"] for e in drafts] == [{"number": draft, "status": "DRAFT"}]
    assert [e["node"] for e in confirmed_edges] == [{"number": confirmed, "status": "CONFIRMED"}]


async def test_orders_with_invoices_aggregate_both_services(system: System) -> None:
    numbers = await confirmed_orders_with_invoices(system, 2)

    data = await system.ok("""{
      orders(first: 10) { edges { node { number total invoice {
        number orderNumber amount currency status orderDeleted createdAt approvedAt voidedAt
        customer { name email }
      } } } }
    }""")

    nodes = [e["node"] for e in data["orders"]["edges"]]
    assert [n["number"] for n in nodes] == numbers[::-1]
    for node in nodes:
        invoice = node["invoice"]
        assert invoice["orderNumber"] == node["number"]
        assert invoice["amount"] == node["total"] == "3.20"
        assert invoice["currency"] == "EUR"
        assert invoice["status"] == "PENDING_APPROVAL"
        assert invoice["orderDeleted"] is False
        assert invoice["customer"]["email"] == "ada@example.com"
        assert invoice["approvedAt"] is None and invoice["voidedAt"] is None


async def test_invoice_queries_and_invoice_order(system: System) -> None:
    first, second = await confirmed_orders_with_invoices(system, 2)

    by_order = (
        await system.ok(
            "query($n: Int!) { invoice(orderNumber: $n) "
            "{ number orderNumber order { number status } } }",
            {"n": first},
        )
    )["invoice"]
    assert by_order["orderNumber"] == first
    assert by_order["order"] == {"number": first, "status": "CONFIRMED"}

    by_number = (
        await system.ok(
            "query($n: Int!) { invoiceByNumber(number: $n) { number orderNumber } }",
            {"n": by_order["number"]},
        )
    )["invoiceByNumber"]
    assert by_number == {"number": by_order["number"], "orderNumber": first}

    listed = (
        await system.ok("""{
      invoices(status: PENDING_APPROVAL, first: 1) {
        edges { cursor node { orderNumber order { number } } }
        pageInfo { hasNextPage endCursor }
      }
    }""")
    )["invoices"]
    assert [e["node"]["orderNumber"] for e in listed["edges"]] == [second]
    assert listed["edges"][0]["node"]["order"] == {"number": second}
    assert listed["pageInfo"]["hasNextPage"] is True

    missing = await system.gql(
        "{ invoice(orderNumber: 424242) { number } invoiceByNumber(number: 424242) { number } }"
    )
    assert missing == {"data": {"invoice": None, "invoiceByNumber": None}}


async def test_sync_status(system: System) -> None:
    await confirmed_orders_with_invoices(system, 1)

    status = (
        await system.ok("""{ syncStatus {
      feedId token highWater lagRecords lagSeconds lastSuccessAt lastError lastErrorAt
      consecutiveFailures healthy running
      totals { pulls pages new changed removed stale invoicesCreated }
    } }""")
    )["syncStatus"]

    assert status["feedId"]
    assert status["token"] == status["highWater"] >= 1
    assert status["lagRecords"] == 0
    assert status["healthy"] is True
    assert status["lastSuccessAt"] is not None
    assert status["totals"]["invoicesCreated"] == 1
    assert status["totals"]["new"] == 1
