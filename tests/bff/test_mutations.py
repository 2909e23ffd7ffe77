"""Every mutation of the contract, and the expected errors mapped from the services' answers."""

from __future__ import annotations

from typing import Any

from tests.bff.conftest import (
    CONFIRM,
    ORDER_INPUT,
    System,
    confirmed_orders_with_invoices,
    create_order,
)

UPDATE = """
mutation($n: Int!, $input: OrderInput!) {
  updateOrder(number: $n, input: $input) {
    number status total rowVersion currency lines { sku quantity unitPrice amount }
  }
}"""
DELETE = "mutation($n: Int!) { deleteOrder(number: $n) { number status deletedAt } }"
APPROVE = "mutation($n: Int!) { approveInvoice(number: $n) { number status approvedAt } }"


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None, body
    [error] = body["errors"]
    return error


async def test_create_order_makes_a_draft(system: System) -> None:
    data = await system.ok(
        """mutation($input: OrderInput!) { createOrder(input: $input) {
             number status total rowVersion currency customer { name } lines { sku amount } } }""",
        {"input": ORDER_INPUT},
    )
    order = data["createOrder"]
    assert order["status"] == "DRAFT"
    assert order["total"] == "3.20"
    assert order["rowVersion"] == 1
    assert order["lines"] == [
        {"sku": "BOLT-10", "amount": "1.00"},
        {"sku": "NUT-10", "amount": "2.20"},
    ]
    stored = await system.ordering.get(f"/orders/{order['number']}")
    assert stored.json()["status"] == "draft"


async def test_invalid_input_is_bad_user_input_with_camel_case_details(system: System) -> None:
    bad = {
        "customer": {"name": "Ada", "email": "not-an-email"},
        "lines": [{"sku": "BOLT-10", "quantity": 1, "unitPrice": "abc"}],
    }
    body = await system.gql(
        "mutation($input: OrderInput!) { createOrder(input: $input) { number } }", {"input": bad}
    )

    error = only_error(body)
    assert error["path"] == ["createOrder"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    fields = {d["field"] for d in error["extensions"]["details"]}
    assert "lines.0.unitPrice" in fields
    assert "customer.email" in fields
    listed = await system.ordering.get("/orders")
    assert listed.json()["orders"] == []  # nothing was created


async def test_graphql_type_errors_are_refused_before_any_upstream_call(system: System) -> None:
    body = await system.gql(
        "mutation($input: OrderInput!) { createOrder(input: $input) { number } }",
        {"input": {**ORDER_INPUT, "lines": [{"sku": "X", "quantity": "four", "unitPrice": "1"}]}},
    )
    assert "data" not in body
    assert "quantity" in body["errors"][0]["message"]
    assert system.ordering_link.calls == []


async def test_update_order_replaces_a_draft(system: System) -> None:
    number = await create_order(system)
    changed = {
        **ORDER_INPUT,
        "currency": "USD",
        "lines": [{"sku": "GEAR", "quantity": 3, "unitPrice": "2.50"}],
    }

    order = (await system.ok(UPDATE, {"n": number, "input": changed}))["updateOrder"]

    assert order["currency"] == "USD"
    assert order["lines"] == [{"sku": "GEAR", "quantity": 3, "unitPrice": "2.50", "amount": "7.50"}]
    assert order["total"] == "7.50"
    assert order["rowVersion"] == 2


async def test_update_confirmed_order_is_a_conflict(system: System) -> None:
    number = await create_order(system)
    await system.ok(CONFIRM, {"number": number})

    error = only_error(await system.gql(UPDATE, {"n": number, "input": ORDER_INPUT}))

    assert error["extensions"]["code"] == "CONFLICT"
    assert error["message"]  # the service's sentence, passed on


async def test_update_unknown_order_is_not_found(system: System) -> None:
    error = only_error(await system.gql(UPDATE, {"n": 98765, "input": ORDER_INPUT}))
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_confirm_order_returns_order_and_deep_link(system: System) -> None:
    number = await create_order(system)

    payload = (await system.ok(CONFIRM, {"number": number}))["confirmOrder"]

    assert payload["order"]["number"] == number
    assert payload["order"]["status"] == "CONFIRMED"
    assert payload["order"]["confirmedAt"] is not None
    assert payload["invoiceLink"] == f"/link/new_order/{number}"  # the BFF's own link


async def test_confirm_empty_order_is_a_conflict(system: System) -> None:
    number = await create_order(system, lines=[])
    error = only_error(await system.gql(CONFIRM, {"number": number}))
    assert error["extensions"]["code"] == "CONFLICT"


async def test_delete_order_and_delete_again(system: System) -> None:
    number = await create_order(system)

    order = (await system.ok(DELETE, {"n": number}))["deleteOrder"]
    assert order["status"] == "DELETED" and order["deletedAt"] is not None

    again = only_error(await system.gql(DELETE, {"n": number}))
    assert again["extensions"]["code"] == "CONFLICT"
    unknown = only_error(await system.gql(DELETE, {"n": 55555}))
    assert unknown["extensions"]["code"] == "NOT_FOUND"


async def test_approve_invoice(system: System) -> None:
    [number] = await confirmed_orders_with_invoices(system, 1)
    invoice = (
        await system.ok(
            "query($n: Int!) { invoice(orderNumber: $n) { number status } }", {"n": number}
        )
    )["invoice"]

    approved = (await system.ok(APPROVE, {"n": invoice["number"]}))["approveInvoice"]
    assert approved["status"] == "APPROVED" and approved["approvedAt"] is not None
    # Idempotent, as billing defines it.
    again = (await system.ok(APPROVE, {"n": invoice["number"]}))["approveInvoice"]
    assert again == approved

    unknown = only_error(await system.gql(APPROVE, {"n": 31337}))
    assert unknown["extensions"]["code"] == "NOT_FOUND"


async def test_approving_a_void_invoice_is_a_conflict(system: System) -> None:
    [number] = await confirmed_orders_with_invoices(system, 1)
    await system.ok(DELETE, {"n": number})
    await system.pull()  # billing learns of the delete and voids the invoice
    invoice = (
        await system.ok(
            "query($n: Int!) { invoice(orderNumber: $n) { number status orderDeleted } }",
            {"n": number},
        )
    )["invoice"]
    assert invoice["status"] == "VOID" and invoice["orderDeleted"] is True

    error = only_error(await system.gql(APPROVE, {"n": invoice["number"]}))
    assert error["extensions"]["code"] == "CONFLICT"


KEYED_CREATE = """
mutation($input: OrderInput!, $key: String) {
  createOrder(input: $input, idempotencyKey: $key) { number status }
}"""
KEYED_CONFIRM = """
mutation($n: Int!, $key: String) {
  confirmOrder(number: $n, idempotencyKey: $key) { order { number status confirmedAt } invoiceLink }
}"""
KEYED_APPROVE = """
mutation($n: Int!, $key: String) {
  approveInvoice(number: $n, idempotencyKey: $key) { number status approvedAt }
}"""


async def test_a_retried_mutation_with_its_key_answers_the_first_result(system: System) -> None:
    created = await system.ok(KEYED_CREATE, {"input": ORDER_INPUT, "key": "form-1"})
    again = await system.ok(KEYED_CREATE, {"input": ORDER_INPUT, "key": "form-1"})
    assert again == created
    listed = (await system.ordering.get("/orders")).json()["orders"]
    assert len(listed) == 1, "one order for one form submission"

    number = created["createOrder"]["number"]
    confirmed = await system.ok(KEYED_CONFIRM, {"n": number, "key": "confirm-1"})
    retried = await system.ok(KEYED_CONFIRM, {"n": number, "key": "confirm-1"})
    assert retried == confirmed, "the same payload, deep link included, not a conflict"
    assert confirmed["confirmOrder"]["invoiceLink"].endswith(f"/link/new_order/{number}")

    await system.pull()
    found = (await system.billing.get("/invoices", params={"order_number": number})).json()
    keyed = {"n": found["invoices"][0]["number"], "key": "approve-1"}
    approved = await system.ok(KEYED_APPROVE, keyed)
    assert approved["approveInvoice"]["status"] == "APPROVED"
    assert await system.ok(KEYED_APPROVE, keyed) == approved


async def test_a_key_reused_for_another_form_is_bad_user_input(system: System) -> None:
    await system.ok(KEYED_CREATE, {"input": ORDER_INPUT, "key": "form-2"})
    other = {**ORDER_INPUT, "currency": "USD"}

    error = only_error(await system.gql(KEYED_CREATE, {"input": other, "key": "form-2"}))

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "already used for another request" in error["message"]
