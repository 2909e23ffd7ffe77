"""Roles on GraphQL: every root field and mutation by every role, table-driven.

A user holding exactly one role runs each operation: the operation's own role gets past the
permission check (its answer may still be NOT_FOUND and the like), every other role gets
FORBIDDEN, and nobody signed in gets UNAUTHENTICATED. The table must name every root field
and mutation of the schema, so a new one cannot ship without a role.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bff.permissions import RolePermission
from bff.roles import Role
from bff.schema import build_schema
from bff.settings import BffSettings
from tests.bff.conftest import ORDER_INPUT, System, create_order
from tests.support.accounts import add_user, sign_in

# Operation (by root field) -> (document, variables, the role it needs).
OPERATIONS: dict[str, tuple[str, dict[str, Any], Role]] = {
    "orders": ("{ orders(first: 1) { edges { node { number } } } }", {}, Role.VIEWER),
    "order": ("{ order(number: 1) { number } }", {}, Role.VIEWER),
    "invoices": ("{ invoices(first: 1) { edges { node { number } } } }", {}, Role.VIEWER),
    "invoice": ("{ invoice(orderNumber: 1) { number } }", {}, Role.VIEWER),
    "invoiceByNumber": ("{ invoiceByNumber(number: 1) { number } }", {}, Role.VIEWER),
    "syncStatus": ("{ syncStatus { lagRecords } }", {}, Role.VIEWER),
    "createOrder": (
        "mutation($input: OrderInput!) { createOrder(input: $input) { number } }",
        {"input": ORDER_INPUT},
        Role.CLERK,
    ),
    "updateOrder": (
        "mutation($input: OrderInput!) { updateOrder(number: 1, input: $input) { number } }",
        {"input": ORDER_INPUT},
        Role.CLERK,
    ),
    "confirmOrder": (
        "mutation { confirmOrder(number: 1) { order { number } invoiceLink } }",
        {},
        Role.CLERK,
    ),
    "deleteOrder": ("mutation { deleteOrder(number: 99) { number } }", {}, Role.CLERK),
    "approveInvoice": ("mutation { approveInvoice(number: 1) { number } }", {}, Role.APPROVER),
    # The operator's repairs (bff/operator_schema.py).
    "deadLetters": ("{ deadLetters(first: 1) { items { id } } }", {}, Role.OPERATOR),
    "reconciliationReport": ("{ reconciliationReport { inSync } }", {}, Role.OPERATOR),
    "pullNow": ("mutation { pullNow { pages } }", {}, Role.OPERATOR),
    "resync": ("mutation { resync(position: 0) { repair { pages } } }", {}, Role.OPERATOR),
    "retryDeadLetter": (
        "mutation { retryDeadLetter(id: 99) { outcome } }",
        {},
        Role.OPERATOR,
    ),
    "dismissDeadLetter": (
        'mutation { dismissDeadLetter(id: 99, reason: "test") { id } }',
        {},
        Role.OPERATOR,
    ),
}

GATE_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}


def test_the_table_names_every_root_field_and_each_has_a_role_permission() -> None:
    schema = build_schema(BffSettings(service_token="x" * 20))
    roots: dict[str, Role] = {}
    for type_name in ("Query", "Mutation"):
        definition = schema.get_type_by_name(type_name)
        assert definition is not None
        for field in definition.fields:  # type: ignore[union-attr]
            name = schema.config.name_converter.get_graphql_name(field)
            checks = [
                p.role
                for p in field.permission_classes
                if isinstance(p, type) and issubclass(p, RolePermission)
            ]
            assert len(checks) == 1, f"{type_name}.{name} has no role permission"
            roots[name] = checks[0]
    assert roots == {name: role for name, (_, _, role) in OPERATIONS.items()}


@pytest.fixture
async def clients(system: System) -> AsyncIterator[dict[Role | None, httpx.AsyncClient]]:
    await create_order(system)  # order 1 (a draft), so the allowed calls have something
    made: dict[Role | None, httpx.AsyncClient] = {}
    for role in (*Role, None):
        made[role] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=system.bff_asgi), base_url="http://bff.test"
        )
        if role is not None:
            await add_user(system.settings.database_url, f"only-{role.value}", {role})
            await sign_in(made[role], f"only-{role.value}")
    yield made
    for client in made.values():
        await client.aclose()


async def gate_codes(
    client: httpx.AsyncClient, document: str, variables: dict[str, Any]
) -> set[str]:
    response = await client.post("/graphql", json={"query": document, "variables": variables})
    assert response.status_code == 200, response.text
    codes = {e.get("extensions", {}).get("code") for e in response.json().get("errors", [])}
    return {code for code in codes if code in GATE_CODES}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_each_role_gets_exactly_its_operations(
    clients: dict[Role | None, httpx.AsyncClient], operation: str
) -> None:
    document, variables, needed = OPERATIONS[operation]
    seen = {role: await gate_codes(client, document, variables) for role, client in clients.items()}
    expected = {
        role: set() if role == needed else ({"UNAUTHENTICATED"} if role is None else {"FORBIDDEN"})
        for role in clients
    }
    assert seen == expected


async def test_forbidden_says_which_role_is_needed(
    clients: dict[Role | None, httpx.AsyncClient],
) -> None:
    response = await clients[Role.VIEWER].post(
        "/graphql", json={"query": "mutation { approveInvoice(number: 1) { number } }"}
    )
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN", "role": "approver"}
    assert "approver role" in error["message"]


async def test_a_cached_answer_is_never_served_past_the_permission_check(
    system: System, clients: dict[Role | None, httpx.AsyncClient]
) -> None:
    assert system.settings.cache_ttl > 0  # the whole-response cache is on
    request = {"query": "{ orders(first: 5) { edges { node { number } } } }"}
    for _ in range(2):  # the second answer comes from the response cache
        viewer = await clients[Role.VIEWER].post("/graphql", json=request)
        assert viewer.json()["data"]["orders"]["edges"], viewer.text
    calls_before = len(system.ordering_link.calls)
    anonymous = await clients[None].post("/graphql", json=request)
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    clerk = await clients[Role.CLERK].post("/graphql", json=request)
    assert clerk.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(system.ordering_link.calls) == calls_before
