"""Ordering takes prices with at most their currency's ISO 4217 digits, refuses the rest with a
field error written for people, and keeps totals in the currency's own minor units."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ordering_api.conftest import Ordering


def _order(currency: str, *prices: str) -> dict[str, Any]:
    return {
        "customer": {"name": "Yoko Sato", "email": "yoko@example.jp"},
        "currency": currency,
        "lines": [{"sku": f"S{i}", "quantity": 3, "unit_price": p} for i, p in enumerate(prices)],
    }


async def test_a_yen_price_with_cents_is_refused_naming_the_field(ordering: Ordering) -> None:
    response = await ordering.client.post("/orders", json=_order("JPY", "100", "12.50"))
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "The request has invalid fields.",
        "details": [
            {
                "field": "lines.1.unit_price",
                "message": "Yen (JPY) amounts have no decimal places (ISO 4217), so 12.50 cannot"
                " be charged; use a whole number such as 12 or 13.",
            }
        ],
    }
    # Nothing was written: the list is empty.
    assert (await ordering.client.get("/orders")).json()["orders"] == []


async def test_an_edit_is_held_to_the_new_currency(ordering: Ordering) -> None:
    created = await ordering.create(_order("EUR", "12.50"))
    response = await ordering.client.put(
        f"/orders/{created['number']}", json=_order("JPY", "12.50")
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "lines.0.unit_price"
    unchanged = (await ordering.client.get(f"/orders/{created['number']}")).json()
    assert (unchanged["currency"], unchanged["total"]) == ("EUR", "37.50")


@pytest.mark.parametrize(
    ("currency", "price", "unit_price", "total"),
    [
        ("JPY", "1250", "1250", "3750"),
        ("KWD", "1.125", "1.125", "3.375"),
        ("KWD", "1.5", "1.500", "4.500"),
        ("CLF", "0.0001", "0.0001", "0.0003"),
        ("EUR", "0.1", "0.10", "0.30"),
    ],
)
async def test_amounts_are_written_with_the_currencys_digits(
    ordering: Ordering, currency: str, price: str, unit_price: str, total: str
) -> None:
    order = await ordering.create(_order(currency, price))
    assert order["lines"][0]["unit_price"] == unit_price
    assert order["total"] == total


@pytest.mark.parametrize(
    ("currency", "price", "message"),
    [
        ("KWD", "1.2345", "Kuwaiti Dinar (KWD) amounts have at most 3 decimal places"),
        ("EUR", "1.005", "Euro (EUR) amounts have at most 2 decimal places"),
        ("KWD", "100000000.001", "A price in KWD can be at most 100000000.000;"),
        ("CLF", "10000001", "A price in CLF can be at most 10000000.0000;"),
    ],
)
async def test_too_many_places_or_too_high_for_the_currency(
    ordering: Ordering, currency: str, price: str, message: str
) -> None:
    response = await ordering.client.post("/orders", json=_order(currency, price))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["message"].startswith(message)


async def test_the_schema_states_the_rule_per_currency(ordering: Ordering) -> None:
    schema = (await ordering.client.get("/openapi.json")).json()["components"]["schemas"]
    clauses = schema["OrderInput"]["allOf"]
    by_code = {
        code: clause["then"]["properties"]["lines"]["items"]["properties"]["unit_price"]["pattern"]
        for clause in clauses
        for code in clause["if"]["properties"]["currency"]["enum"]
    }
    assert by_code["JPY"] == "^(?:[0-9]{1,9}|1000000000)$"
    assert by_code["EUR"] == r"^(?:[0-9]{1,9}(?:\.[0-9]{1,2})?|1000000000(?:\.0{1,2})?)$"
    assert by_code["KWD"] == r"^(?:[0-9]{1,8}(?:\.[0-9]{1,3})?|100000000(?:\.0{1,3})?)$"
