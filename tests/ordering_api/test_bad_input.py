"""Bad input: a clear JSON error with the right status, and nothing changed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.ordering_api.conftest import ORDER, Ordering


def order_with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(ORDER)
    for path, value in changes.items():
        target: Any = body
        *parents, leaf = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is ...:
            del target[leaf]
        else:
            target[leaf] = value
    return body


INVALID_BODIES = {
    "missing customer": (order_with(customer=...), "customer"),
    "missing email": (order_with(customer__email=...), "customer.email"),
    "empty name": (order_with(customer__name=""), "customer.name"),
    "bad email": (order_with(customer__email="not-an-address"), "customer.email"),
    "extra top-level field": ({**ORDER, "discount": 5}, "discount"),
    "extra line field": (order_with(lines__0__colour="red"), "lines.0.colour"),
    "negative quantity": (order_with(lines__0__quantity=-1), "lines.0.quantity"),
    "zero quantity": (order_with(lines__0__quantity=0), "lines.0.quantity"),
    "fractional quantity": (order_with(lines__0__quantity=1.5), "lines.0.quantity"),
    "quantity as text": (order_with(lines__0__quantity="3"), "lines.0.quantity"),
    "non-numeric price": (order_with(lines__0__unit_price="abc"), "lines.0.unit_price"),
    "negative price": (order_with(lines__0__unit_price="-1.00"), "lines.0.unit_price"),
    "three decimals": (order_with(lines__0__unit_price="1.005"), "lines.0.unit_price"),
    "price NaN": (order_with(lines__0__unit_price="NaN"), "lines.0.unit_price"),
    "price boolean": (order_with(lines__0__unit_price=True), "lines.0.unit_price"),
    "huge price": (order_with(lines__0__unit_price="1e12"), "lines.0.unit_price"),
    "unknown currency": (order_with(currency="XYZ"), "currency"),
    "missing sku": (order_with(lines__0__sku=...), "lines.0.sku"),
    "lines not a list": (order_with(lines="many"), "lines"),
}


@pytest.mark.parametrize("body, field", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
async def test_invalid_create_is_422_naming_the_field(
    ordering: Ordering, body: dict[str, Any], field: str
) -> None:
    response = await ordering.client.post("/orders", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [detail["field"] for detail in error["details"]]
    assert all(detail["message"] for detail in error["details"])
    assert (await ordering.client.get("/orders")).json()["orders"] == []


@pytest.mark.parametrize("body, field", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
async def test_invalid_replace_is_422_and_keeps_the_draft(
    ordering: Ordering, body: dict[str, Any], field: str
) -> None:
    draft = await ordering.create()
    response = await ordering.client.put(f"/orders/{draft['number']}", json=body)
    assert response.status_code == 422
    assert (await ordering.client.get(f"/orders/{draft['number']}")).json() == draft


@pytest.mark.parametrize(
    "content", [b"{", b"", b"[1, 2]", b'"text"', b"\xff\xfe", b"null"], ids=repr
)
async def test_malformed_json_is_400(ordering: Ordering, content: bytes) -> None:
    response = await ordering.client.post(
        "/orders", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert (await ordering.client.get("/orders")).json()["orders"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"since": "-1"},
        {"since": "abc"},
        {"since": "1.5"},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "ten"},
    ],
    ids=repr,
)
async def test_bad_feed_parameters_are_400(ordering: Ordering, query: dict[str, str]) -> None:
    response = await ordering.client.get("/orders/changes", params=query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert next(iter(query)) in error["message"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"status": "paid"},
        {"after": "not-a-cursor"},
        {"number": "x"},
        {"number": [str(n) for n in range(101)]},
    ],
    ids=repr,
)
async def test_bad_list_parameters_are_400(ordering: Ordering, query: dict[str, Any]) -> None:
    response = await ordering.client.get("/orders", params=query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


async def test_unknown_route_and_wrong_method(ordering: Ordering) -> None:
    missing = await ordering.client.get("/invoices")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = await ordering.client.patch("/orders/1")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    not_a_number = await ordering.client.get("/orders/abc")
    assert not_a_number.status_code == 404


async def test_confirming_or_deleting_unknown_order_is_404(ordering: Ordering) -> None:
    for method, path in [
        ("POST", "/orders/77/confirm"),
        ("DELETE", "/orders/77"),
        ("PUT", "/orders/77"),
    ]:
        response = await ordering.client.request(method, path, json=ORDER)
        assert response.status_code == 404, path
        assert "77" in response.json()["error"]["message"]
