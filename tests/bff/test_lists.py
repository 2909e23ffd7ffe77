"""The lists of the web app through the BFF: search, status counts, sort, next and previous
pages, and amounts with the currency's own digits, against the real ordering and billing apps
(with the upstream cache on, so every argument must be part of its keys)."""

from __future__ import annotations

from typing import Any

from tests.bff.conftest import CONFIRM, ORDER_INPUT, System, create_order

LIST = """
query($search: String, $status: OrderStatus, $sort: OrderSort!, $direction: SortDirection!,
      $first: Int, $after: String, $last: Int, $before: String) {
  orders(search: $search, status: $status, sort: $sort, direction: $direction,
         first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { number total currency currencyDigits } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
COUNTS = """
query($search: String) {
  orders(search: $search, first: 1) { statusCounts { status count } }
}"""


def _input(name: str, currency: str, price: str) -> dict[str, Any]:
    return {
        **ORDER_INPUT,
        "customer": {"name": name, "email": f"{name.split()[0].lower()}@example.com"},
        "currency": currency,
        "lines": [{"sku": "A", "quantity": 2, "unitPrice": price}],
    }


async def _numbers(system: System, **variables: Any) -> tuple[list[int], dict[str, Any]]:
    data = await system.ok(LIST, {"sort": "CREATED", "direction": "DESC", **variables})
    connection = data["orders"]
    return [e["node"]["number"] for e in connection["edges"]], connection["pageInfo"]


async def test_sorted_by_total_pages_forward_and_back_through_ties(system: System) -> None:
    prices = ["5.00", "1.00", "5.00", "9.00", "5.00"]  # three tie at 5.00
    numbers = [
        await create_order(system, **_input(f"C{i}", "EUR", p)) for i, p in enumerate(prices)
    ]
    want = [numbers[3], numbers[4], numbers[2], numbers[0], numbers[1]]  # desc, ties by number
    sort = {"sort": "TOTAL", "direction": "DESC"}

    page1, info1 = await _numbers(system, **sort, first=2)
    assert page1 == want[:2] and info1["hasPreviousPage"] is False and info1["hasNextPage"]
    page2, info2 = await _numbers(system, **sort, first=2, after=info1["endCursor"])
    assert page2 == want[2:4] and info2["hasPreviousPage"] and info2["hasNextPage"]
    page3, info3 = await _numbers(system, **sort, first=2, after=info2["endCursor"])
    assert page3 == want[4:] and info3["hasNextPage"] is False

    back2, info_b2 = await _numbers(system, **sort, last=2, before=info3["startCursor"])
    assert back2 == want[2:4] and info_b2["hasPreviousPage"] and info_b2["hasNextPage"]
    back1, info_b1 = await _numbers(system, **sort, last=2, before=info_b2["startCursor"])
    assert back1 == want[:2] and info_b1["hasPreviousPage"] is False

    ascending, _ = await _numbers(system, sort="TOTAL", direction="ASC", first=10)
    assert ascending == want[::-1]


async def test_search_and_status_counts(system: System) -> None:
    ada = await create_order(system, **_input("Ada Lovelace", "EUR", "1.00"))
    grace = await create_order(system, **_input("Grace Hopper", "EUR", "1.00"))
    await system.ok(CONFIRM, {"number": grace})
    await create_order(system, **_input("Alan Turing", "EUR", "1.00"))

    assert (await _numbers(system, search="lovelace"))[0] == [ada]
    assert (await _numbers(system, search=f"#{grace}"))[0] == [grace]
    counts = await system.ok(COUNTS, {"search": "a"})
    assert counts["orders"]["statusCounts"] == [
        {"status": "DRAFT", "count": 2},
        {"status": "CONFIRMED", "count": 1},
        {"status": "DELETED", "count": 0},
    ]
    # The counts follow the search (another cache key) and a write (the cache is dropped).
    hopper = await system.ok(COUNTS, {"search": "hopper"})
    assert [c["count"] for c in hopper["orders"]["statusCounts"]] == [0, 1, 0]
    await system.ok("mutation($n: Int!) { deleteOrder(number: $n) { number } }", {"n": grace})
    hopper = await system.ok(COUNTS, {"search": "hopper"})
    assert [c["count"] for c in hopper["orders"]["statusCounts"]] == [0, 0, 1]


async def test_amounts_come_with_their_currencys_digits(system: System) -> None:
    yen = await create_order(system, **_input("Yoko Sato", "JPY", "1250"))
    kwd = await create_order(system, **_input("Khalid", "KWD", "1.125"))
    data = await system.ok(LIST, {"sort": "CREATED", "direction": "ASC", "first": 5})
    nodes = {e["node"]["number"]: e["node"] for e in data["orders"]["edges"]}
    assert nodes[yen] == {"number": yen, "total": "2500", "currency": "JPY", "currencyDigits": 0}
    assert nodes[kwd]["total"] == "2.250" and nodes[kwd]["currencyDigits"] == 3


async def test_a_yen_price_with_cents_is_a_field_error_in_words(system: System) -> None:
    body = await system.gql(
        "mutation($input: OrderInput!) { createOrder(input: $input) { number } }",
        {"input": _input("Yoko Sato", "JPY", "12.50")},
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["details"] == [
        {
            "field": "lines.0.unitPrice",
            "message": "Yen (JPY) amounts have no decimal places (ISO 4217), so 12.50 cannot be"
            " charged; use a whole number such as 12 or 13.",
        }
    ]


async def test_paging_arguments_that_cannot_go_together(system: System) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"first": 2, "last": 2, "before": "x"}, "Give `first` (with `after`) or `last`"),
        ({"after": "a", "before": "b"}, "Give `after` (the next page) or `before`"),
        ({"last": 2}, "`last` counts back from `before`"),
        ({"last": 101, "before": "x"}, "`last` must be between 1 and 100, not 101."),
        ({"search": "x" * 201}, "The search can be at most 200 characters long; it has 201."),
    ]
    for variables, message in cases:
        body = await system.gql(LIST, {"sort": "CREATED", "direction": "DESC", **variables})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["message"].startswith(message)


async def test_a_cursor_of_another_sort_is_bad_user_input(system: System) -> None:
    for _ in range(3):
        await create_order(system)
    _, info = await _numbers(system, sort="TOTAL", direction="ASC", first=1)
    body = await system.gql(
        LIST, {"sort": "STATUS", "direction": "ASC", "after": info["endCursor"]}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "sorted by total (asc)" in body["errors"][0]["message"]


async def test_invoices_awaiting_approval_with_counts_and_paging_back(system: System) -> None:
    numbers = []
    for i in range(4):
        number = await create_order(system, **_input(f"Buyer{i} Example", "EUR", f"{i + 1}.00"))
        await system.ok(CONFIRM, {"number": number})
        numbers.append(number)
    await system.pull()
    query = """
    query($status: InvoiceStatus, $first: Int, $after: String, $last: Int, $before: String) {
      invoices(status: $status, sort: TOTAL, direction: ASC, first: $first, after: $after,
               last: $last, before: $before) {
        edges { node { orderNumber amount currencyDigits status } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        statusCounts { status count }
      }
    }"""
    first = (await system.ok(query, {"status": "PENDING_APPROVAL", "first": 3}))["invoices"]
    assert [e["node"]["orderNumber"] for e in first["edges"]] == numbers[:3]
    assert first["edges"][0]["node"]["amount"] == "2.00"
    assert first["statusCounts"] == [
        {"status": "PENDING_APPROVAL", "count": 4},
        {"status": "APPROVED", "count": 0},
        {"status": "VOID", "count": 0},
    ]
    second = await system.ok(query, {"first": 3, "after": first["pageInfo"]["endCursor"]})
    assert [e["node"]["orderNumber"] for e in second["invoices"]["edges"]] == numbers[3:]
    back = await system.ok(
        query, {"last": 3, "before": second["invoices"]["pageInfo"]["startCursor"]}
    )
    assert [e["node"]["orderNumber"] for e in back["invoices"]["edges"]] == numbers[:3]
    assert back["invoices"]["pageInfo"]["hasPreviousPage"] is False
