"""The three services as real uvicorn processes configured from the environment, as deployed:
GraphiQL at /graphql answers the aggregated orders-with-invoices query over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bff.conftest import CONFIRM, CREATE, ORDER_INPUT
from tests.support.accounts import EVERY_ROLE, add_user_sync, sign_in_sync
from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port

AGGREGATE = """{ orders(first: 20) { edges { node { number status total
  invoice { number status amount } } } pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
def bff_url(tmp_path: Path) -> Iterator[str]:
    ordering, billing, bff = free_port(), free_port(), free_port()
    env = service_env({
        "SERVICE_TOKEN": "process-test-token",
        "ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ordering.db'}",
        "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}",
        "BILLING_ORDERING_URL": f"http://127.0.0.1:{ordering}",
        "BILLING_WEB_URL": f"http://127.0.0.1:{bff}",
        "BILLING_PULL_INTERVAL": "0.2",
        "BFF_ORDERING_URL": f"http://127.0.0.1:{ordering}",
        "BFF_BILLING_URL": f"http://127.0.0.1:{billing}",
        "BFF_CACHE_TTL": "0.5",
        "BFF_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bff.db'}",
    })  # fmt: skip
    add_user_sync(env["BFF_DATABASE_URL"], "tester", EVERY_ROLE)
    services = [
        ServiceProcess(factory.split(".")[0], factory, port, env,
                       tmp_path / f"{factory.split('.')[0]}.log")
        for factory, port in (
            ("ordering_api.app:create_app", ordering),
            ("billing_api.app:create_app", billing),
            ("bff.app:create_app", bff),
        )
    ]  # fmt: skip
    with ExitStack() as stack:
        # All three start at once; each is stopped on the way out, even if another never got up.
        for service in services:
            stack.callback(service.stop)
            service.start()
        for service in services:
            service.wait_healthy()
        yield services[-1].url


def gql(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_graphiql_and_the_aggregated_query_over_real_http(bff_url: str) -> None:
    with httpx.Client(base_url=bff_url, timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/orders").status_code == 303  # anonymous: sent to sign in
        sign_in_sync(client, "tester")
        ide = client.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code == 200 and "graphiql" in ide.text.lower()
        assert client.get("/orders").status_code == 200  # the web app's shell, from web/

        number = gql(client, CREATE, {"input": ORDER_INPUT})["createOrder"]["number"]
        link = gql(client, CONFIRM, {"number": number})["confirmOrder"]["invoiceLink"]
        assert link.endswith(f"/link/new_order/{number}")

        # Billing's background pull brings the order in; the BFF shows it once its short TTL
        # has passed.
        deadline = time.monotonic() + 20
        while True:
            node = gql(client, AGGREGATE)["orders"]["edges"][0]["node"]
            if node["invoice"] is not None:
                break
            assert time.monotonic() < deadline, "the invoice never appeared"
            time.sleep(0.1)
        assert node["number"] == number
        assert node["invoice"] == {
            "number": node["invoice"]["number"],
            "status": "PENDING_APPROVAL",
            "amount": node["total"],
        }

        # Following the deep link through real HTTP lands on the invoice screen.
        landed = client.get(link, follow_redirects=True)
        assert landed.status_code == 200
        assert landed.url.path == f"/invoices/{node['invoice']['number']}"
