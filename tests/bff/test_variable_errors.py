"""Variables that do not fit the schema come back like the services' field errors: code
BAD_USER_INPUT, the field's path in `extensions.details`, the message in words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bff.conftest import ORDER_INPUT, System

CREATE = "mutation($input: OrderInput!) { createOrder(input: $input) { number } }"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"currency": "XXX"}, "currency",
         "The currency 'XXX' is not one we know; choose an ISO 4217 code such as EUR, USD or JPY."),
        ({"lines": [{"sku": "X", "quantity": "four", "unitPrice": "1"}]}, "lines.0.quantity",
         "Line 1's quantity must be a whole number."),
        ({"customer": {"name": "Ada"}}, "customer.email",
         "The customer's e-mail address is required."),
    ],
)  # fmt: skip
async def test_a_variable_that_does_not_fit_is_a_field_error_in_words(
    system: System, changes: dict[str, Any], field: str, message: str
) -> None:
    body = await system.gql(CREATE, {"input": {**ORDER_INPUT, **changes}})
    [error] = body["errors"]
    assert error["message"] == message
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "details": [{"field": field, "message": message}],
    }
    assert system.ordering_link.calls == []


async def test_a_bad_enum_variable_names_the_variable(system: System) -> None:
    body = await system.gql(
        "query($s: OrderStatus) { orders(status: $s) { edges { cursor } } }", {"s": "NOPE"}
    )
    [error] = body["errors"]
    assert error["message"] == "The value of $s 'NOPE' is not one of the allowed values."
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
