"""Billing's invoice list for daily work: search by order or invoice number, name or e-mail;
counts per status; sort by date, amount (in the currency's minor units) and status, paged both
ways; amounts in the currency's own digits all the way from ordering."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from billing_api.models import OrderWire
from tests.billing_api.conftest import Billing, Ordering


def _order(name: str, email: str, currency: str, price: str) -> dict[str, Any]:
    return {
        "customer": {"name": name, "email": email},
        "currency": currency,
        "lines": [{"sku": "A", "quantity": 3, "unit_price": price}],
    }


async def _confirmed(ordering: Ordering, body: dict[str, Any]) -> dict[str, Any]:
    created = await ordering.clerk.client.post("/orders", json=body)
    assert created.status_code == 201, created.text
    return await ordering.clerk.confirm(created.json()["number"])


async def _list(billing: Billing, **params: Any) -> dict[str, Any]:
    response = await billing.http.get("/invoices", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


@pytest.fixture
async def invoiced(ordering: Ordering, billing: Billing) -> dict[str, dict[str, Any]]:
    bodies = {
        "ada": _order("Ada Lovelace", "ada@example.com", "EUR", "10.00"),
        "yen": _order("Yoko Sato", "yoko@example.jp", "JPY", "1250"),
        "kwd": _order("Khalid Al-Sabah", "khalid@example.kw", "KWD", "1.125"),
        "grace": _order("Grace Hopper", "grace@navy.example", "EUR", "10.00"),  # a tie with ada
        "doomed": _order("Dora Deleted", "dora@example.com", "EUR", "1.00"),
    }
    orders = {key: await _confirmed(ordering, body) for key, body in bodies.items()}
    await ordering.clerk.delete(orders["doomed"]["number"])
    await billing.syncer.pull()
    found = await billing.http.get(
        "/invoices", params=[("order_number", o["number"]) for o in orders.values()]
    )
    by_order = {i["order_number"]: i for i in found.json()["invoices"]}
    approve = by_order[orders["grace"]["number"]]["number"]
    assert (await billing.http.post(f"/invoices/{approve}/approve")).status_code == 200
    return {key: by_order[o["number"]] for key, o in orders.items()}


async def test_amounts_keep_their_currencys_digits(invoiced: dict[str, dict[str, Any]]) -> None:
    assert invoiced["yen"]["amount"] == "3750"
    assert invoiced["kwd"]["amount"] == "3.375"
    assert invoiced["ada"]["amount"] == "30.00"


async def test_search_counts_and_the_awaiting_approval_filter(
    billing: Billing, invoiced: dict[str, dict[str, Any]]
) -> None:
    async def found(**params: Any) -> list[int]:
        return [i["number"] for i in (await _list(billing, **params))["invoices"]]

    assert await found(q="HOPPER") == [invoiced["grace"]["number"]]
    assert await found(q=f"#{invoiced['kwd']['order_number']}") == [invoiced["kwd"]["number"]]
    awaiting = await found(status="pending_approval")
    assert set(awaiting) == {invoiced[k]["number"] for k in ("ada", "yen", "kwd")}
    counts = (await billing.http.get("/invoices/counts")).json()
    assert counts == {"counts": {"pending_approval": 3, "approved": 1, "void": 1}}
    counts = (await billing.http.get("/invoices/counts", params={"q": "example.com"})).json()
    assert counts == {"counts": {"pending_approval": 1, "approved": 0, "void": 1}}


@pytest.mark.parametrize(
    ("sort", "direction", "expected"),
    [
        ("created", "desc", ["doomed", "grace", "kwd", "yen", "ada"]),
        # By currency then amount: EUR 3.00 (doomed), the EUR 30.00 tie by number, KWD, JPY.
        ("total", "asc", ["doomed", "ada", "grace", "yen", "kwd"]),
        ("status", "asc", ["ada", "yen", "kwd", "grace", "doomed"]),
        ("status", "desc", ["doomed", "grace", "kwd", "yen", "ada"]),
    ],
)
async def test_sorted_pages_both_ways(
    billing: Billing,
    invoiced: dict[str, dict[str, Any]],
    sort: str,
    direction: str,
    expected: list[str],
) -> None:
    want = [invoiced[key]["number"] for key in expected]
    params = {"sort": sort, "direction": direction, "limit": 2}
    pages = [await _list(billing, **params)]
    while pages[-1]["next_cursor"] is not None:
        pages.append(await _list(billing, **params, after=pages[-1]["next_cursor"]))
    assert [[i["number"] for i in p["invoices"]] for p in pages] == [
        want[0:2],
        want[2:4],
        want[4:],
    ]
    back = await _list(billing, **params, before=pages[-1]["prev_cursor"])
    assert [i["number"] for i in back["invoices"]] == want[2:4]
    first = await _list(billing, **params, before=back["prev_cursor"])
    assert [i["number"] for i in first["invoices"]] == want[0:2]
    assert first["prev_cursor"] is None


def test_an_amount_with_more_places_than_its_currency_breaks_the_contract() -> None:
    order = {
        "number": 1,
        "status": "confirmed",
        "customer": {"name": "Y", "email": "y@example.jp"},
        "currency": "JPY",
        "lines": [{"sku": "A", "quantity": 3, "unit_price": "12.00", "amount": "36.00"}],
        "total": "36.00",
        "row_version": 1,
        "created_at": "2026-11-21T10:00:00+00:00",
        "updated_at": "2026-11-21T10:00:00+00:00",
        "confirmed_at": "2026-11-21T10:00:00+00:00",
    }
    # An ordering from before per-currency digits wrote yen with ".00": read as whole yen.
    read = OrderWire.model_validate(order)
    assert (read.total, read.lines[0].unit_price, read.total_minor) == ("36", "12", 36)
    with pytest.raises(ValidationError, match="decimal places"):
        OrderWire.model_validate({**order, "total": "37.50"})
