"""Every validation message a clerk can get from ordering is a sentence that names the field in
words; the machine-readable code and field path stay as they were."""

from __future__ import annotations

from typing import Any

from tests.ordering_api.conftest import ORDER, Ordering


async def _details(ordering: Ordering, body: dict[str, Any]) -> dict[str, str]:
    response = await ordering.client.post("/orders", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    return {detail["field"]: detail["message"] for detail in error["details"]}


async def test_field_errors_are_written_for_people(ordering: Ordering) -> None:
    body = {
        "customer": {"name": " ", "email": "ada@" + "x" * 260 + ".example"},
        "currency": "eur",
        "colour": "red",
        "lines": [
            {"sku": "A", "quantity": 0, "unit_price": 12.5},
            {"sku": "", "quantity": "two", "unit_price": "1,50"},
        ],
    }
    assert await _details(ordering, body) == {
        "customer.name": "The customer's name must contain a visible character"
        " (and no NUL characters).",
        "customer.email": "The customer's e-mail address can be at most 254 characters long;"
        " this one has 272.",
        "currency": "The currency is not valid: 'eur' is not a currency code we know; use an"
        " ISO 4217 code in capitals, such as EUR, USD or JPY.",
        "colour": "'colour' is not a field of this request; leave it out.",
        "lines.0.quantity": "Line 1's quantity must be at least 1.",
        "lines.0.unit_price": 'Line 1\'s unit price must be written as text, like "12.50"'
        " (a JSON number is refused: binary numbers are not exact money).",
        "lines.1.sku": "Line 2's SKU must not be empty.",
        "lines.1.quantity": "Line 2's quantity must be a whole number.",
        "lines.1.unit_price": 'Line 2\'s unit price must be an amount written like "12.50":'
        " digits, a point and at most the currency's decimal places, from 0 to 1000000000.",
    }


async def test_missing_parts_and_too_many_lines(ordering: Ordering) -> None:
    assert await _details(ordering, {"lines": []}) == {"customer": "The customer is required."}
    many = {**ORDER, "lines": [ORDER["lines"][0]] * 101}
    assert await _details(ordering, many) == {
        "lines": "An order can have at most 100 lines; this one has 101."
    }
    assert await _details(ordering, {**ORDER, "customer": {"name": "Ada"}}) == {
        "customer.email": "The customer's e-mail address is required."
    }
    no_at = {**ORDER, "customer": {"name": "Ada", "email": "ada.example.com"}}
    assert await _details(ordering, no_at) == {
        "customer.email": "The customer's e-mail address must look like name@example.com"
        " (no spaces)."
    }
