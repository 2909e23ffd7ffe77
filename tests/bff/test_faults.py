"""One upstream down, slow or broken: partial data, coded errors, HTTP 200, never a 500."""

from __future__ import annotations

import logging
import time

import pytest

from tests.bff.conftest import (
    CREATE,
    ORDER_INPUT,
    System,
    SystemFactory,
    confirmed_orders_with_invoices,
)
from tests.bff.transports import Fault

AGGREGATE = "{ orders(first: 10) { edges { node { number status invoice { number status } } } } }"


@pytest.mark.parametrize("fault", [Fault.DOWN, Fault.ERROR_5XX, Fault.HANG])
async def test_billing_failing_still_serves_orders(
    make_system: SystemFactory, fault: Fault
) -> None:
    system: System = await make_system(upstream_timeout=0.5)
    numbers = await confirmed_orders_with_invoices(system, 3)
    system.billing_link.fault = fault

    body = await system.gql(AGGREGATE)

    nodes = [e["node"] for e in body["data"]["orders"]["edges"]]
    assert [n["number"] for n in nodes] == numbers[::-1]
    assert all(n["status"] == "CONFIRMED" and n["invoice"] is None for n in nodes)
    assert len(body["errors"]) == 3
    for index, error in enumerate(body["errors"]):
        assert error["path"] == ["orders", "edges", index, "node", "invoice"]
        assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
        assert error["extensions"]["upstream"] == "billing"
        assert "billing" in error["message"]
    assert len(system.billing_link.calls) == 1  # one failed batch, not one per order


async def test_ordering_timing_out_is_a_clear_error_within_the_timeout(
    make_system: SystemFactory,
) -> None:
    # The BFF's overall bound is the upstream timeout plus the pool wait (none here: the
    # in-process transport has no pool).
    system: System = await make_system(upstream_timeout=0.5, upstream_pool_timeout=0.1)
    system.ordering_link.fault = Fault.HANG

    started = time.monotonic()
    body = await system.gql(AGGREGATE)
    elapsed = time.monotonic() - started

    assert body["data"] == {"orders": None}  # nullable: a failing upstream blanks only its field
    [error] = body["errors"]
    assert error["path"] == ["orders"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "upstream": "ordering"}
    assert error["message"] == "The ordering service did not answer within 0.5 s."
    # Without the BFF's own deadline this request would hang forever.
    assert elapsed < 0.5 + 0.1 + 2.0


async def test_a_mutation_with_ordering_down_is_upstream_unavailable(system: System) -> None:
    system.ordering_link.fault = Fault.DOWN

    response = await system.bff.post(
        "/graphql", json={"query": CREATE, "variables": {"input": ORDER_INPUT}}
    )

    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert error["message"] == "The ordering service cannot be reached right now."


async def test_sync_status_with_billing_down(system: System) -> None:
    system.billing_link.fault = Fault.DOWN
    body = await system.gql("{ syncStatus { healthy } }")
    assert body["data"] == {"syncStatus": None}
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


@pytest.mark.parametrize("failing", ["billing", "ordering"])
async def test_one_upstream_down_never_blanks_the_others_data(
    make_system: SystemFactory, failing: str
) -> None:
    system: System = await make_system()
    numbers = await confirmed_orders_with_invoices(system, 2)
    link = system.billing_link if failing == "billing" else system.ordering_link
    link.fault = Fault.DOWN

    body = await system.gql(
        "{ syncStatus { healthy } orders(first: 5) { edges { node { number } } }"
        " invoices(first: 5) { edges { node { orderNumber } } } }"
    )

    data = body["data"]
    if failing == "billing":
        assert data["syncStatus"] is None and data["invoices"] is None
        assert [e["node"]["number"] for e in data["orders"]["edges"]] == numbers[::-1]
        assert {tuple(e["path"]) for e in body["errors"]} == {("syncStatus",), ("invoices",)}
    else:
        assert data["orders"] is None
        assert data["syncStatus"]["healthy"] in (True, False)
        assert [e["node"]["orderNumber"] for e in data["invoices"]["edges"]] == numbers[::-1]
        assert [e["path"] for e in body["errors"]] == [["orders"]]
    assert all(e["extensions"]["upstream"] == failing for e in body["errors"])


async def test_a_contract_breaking_answer_is_masked(system: System) -> None:
    await confirmed_orders_with_invoices(system, 1)
    system.billing_link.fault = Fault.GARBAGE

    response = await system.bff.post("/graphql", json={"query": AGGREGATE})

    assert response.status_code == 200
    body = response.json()
    assert body["data"]["orders"]["edges"][0]["node"]["invoice"] is None
    [error] = body["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "InvoiceBatch" not in response.text  # no detail of what broke leaks out


async def test_a_wrong_service_token_is_masked_not_leaked(make_system: SystemFactory) -> None:
    system: System = await make_system(service_token="not-the-token")

    response = await system.bff.post("/graphql", json={"query": AGGREGATE})

    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "token" not in response.text


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (Fault.HANG, "The billing service did not answer within 0.5 s."),
        (Fault.DOWN, "The billing service cannot be reached right now."),
        (Fault.ERROR_5XX, "The billing service is unavailable right now."),
    ],
)
async def test_every_upstream_unavailable_is_logged_as_a_warning(
    make_system: SystemFactory, caplog: pytest.LogCaptureFixture, fault: Fault, says: str
) -> None:
    system: System = await make_system(upstream_timeout=0.5)
    await confirmed_orders_with_invoices(system, 2)
    system.billing_link.fault = fault
    caplog.set_level(logging.WARNING, logger="bff.upstream")

    body = await system.gql(AGGREGATE)

    assert {e["extensions"]["code"] for e in body["errors"]} == {"UPSTREAM_UNAVAILABLE"}
    [record] = [r for r in caplog.records if r.name == "bff.upstream"]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == f"billing: GET /invoices: {says}"
