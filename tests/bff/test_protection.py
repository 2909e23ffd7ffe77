"""Abuse is refused with clear errors before any upstream is called."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bff.conftest import System, SystemFactory


def refused(body: dict[str, Any]) -> str:
    """The first error of a request refused before execution (no `data` entry at all)."""
    assert "data" not in body, body
    message: str = body["errors"][0]["message"]
    return message


async def test_too_deep_query_is_refused(system: System) -> None:
    nested = "number"
    for _ in range(6):
        nested = f"order {{ invoice {{ {nested} }} }}"
    query = f"{{ invoice(orderNumber: 1) {{ {nested} }} }}"

    body = await system.gql(query)

    assert "exceeds maximum operation depth of 10" in refused(body)
    assert system.ordering_link.calls == [] and system.billing_link.calls == []


async def test_alias_bomb_is_refused(system: System) -> None:
    query = "{ " + " ".join(f"a{i}: order(number: 1) {{ number }}" for i in range(31)) + " }"

    body = await system.gql(query)

    assert refused(body) == "31 aliases found. Allowed: 30"
    assert system.ordering_link.calls == []


async def test_huge_document_is_refused(system: System) -> None:
    query = "{ order(number: 1) { " + " ".join(["number"] * 5000) + " } }"

    body = await system.gql(query)

    assert "Document contains more than 500 tokens" in refused(body)


async def test_body_over_the_limit_is_refused_unread(system: System) -> None:
    padding = "#" + "x" * (system.settings.max_body_bytes + 10) + "\n"

    response = await system.bff.post("/graphql", json={"query": padding + "{ __typename }"})

    assert response.status_code == 413
    assert "larger than" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("first", [10_000, 101, 0, -1])
async def test_page_size_out_of_bounds_is_bad_user_input(system: System, first: int) -> None:
    body = await system.gql(
        "query($f: Int!) { orders(first: $f) { edges { cursor } } }", {"f": first}
    )

    assert body["data"] == {"orders": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == f"`first` must be between 1 and 100, not {first}."
    assert system.ordering_link.calls == []


async def test_page_size_100_is_allowed(system: System) -> None:
    body = await system.gql(
        "{ orders(first: 100) { edges { cursor } } invoices(first: 100) { edges { cursor } } }"
    )
    assert "errors" not in body


@pytest.mark.parametrize("cursor", ["garbage", "WzEsMl0", "bnVsbA"])
async def test_foreign_cursor_is_bad_user_input(system: System, cursor: str) -> None:
    # Cursors are the services' (opaque to the BFF): ordering refuses what it did not make.
    body = await system.gql(
        "query($a: String) { orders(after: $a) { edges { cursor } } }", {"a": cursor}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["message"] == "'after' is not a cursor this service handed out."


@pytest.mark.parametrize("cursor", ["", "not base64!", "a" * 1025, "b3JkZXI6NQ\u0000"])
async def test_a_cursor_no_service_can_have_made_never_travels(system: System, cursor: str) -> None:
    body = await system.gql(
        "query($b: String) { orders(last: 5, before: $b) { edges { cursor } } }", {"b": cursor}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["message"] == "`before` is not a cursor this API handed out."
    assert system.ordering_link.calls == []


async def test_introspection_on_by_default_and_off_by_setting(
    system: System, make_system: SystemFactory
) -> None:
    query = "{ __schema { queryType { name } } }"
    assert (await system.ok(query))["__schema"]["queryType"]["name"] == "Query"

    locked: System = await make_system(introspection=False)
    assert "introspection" in refused(await locked.gql(query)).lower()
    # Ordinary queries still work.
    assert await locked.ok("{ order(number: 1) { number } }") == {"order": None}


async def test_graphiql_on_by_default_and_off_by_setting(
    system: System, make_system: SystemFactory
) -> None:
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = await system.bff.get("/graphql", headers=browser)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()

    locked: System = await make_system(graphiql=False)
    assert (await locked.bff.get("/graphql", headers=browser)).status_code == 404
