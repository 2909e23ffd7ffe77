"""The BFF names the signed-in user to the services and shows the audit trail.

The system runs on the development credentials (nothing configured, APP_ENV=development):
each caller uses its own secret and scopes, as in `scripts/run`. People sign in to the BFF
through its own /auth/login, each in a client of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from bff.app import create_app
from bff.settings import BffSettings
from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from service_http.settings import DEV_BFF_TO_BILLING
from tests.bff.conftest import CONFIRM, CREATE, ORDER_INPUT
from tests.support.accounts import EVERY_ROLE, add_user, sign_in
from tests.support.asgi import serving


class Gql:
    def __init__(
        self, app: ASGIApp, billing: httpx.AsyncClient, database_url: str, stack: AsyncExitStack
    ) -> None:
        self.app, self.billing, self.database_url, self.stack = app, billing, database_url, stack
        self.clients: dict[str, httpx.AsyncClient] = {}

    async def as_user(self, name: str) -> httpx.AsyncClient:
        """A browser signed in as `name` (made on first use, holding every role)."""
        if name not in self.clients:
            await add_user(self.database_url, name, EVERY_ROLE)
            client = await self.stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=self.app), base_url="http://bff.test"
                )
            )
            await sign_in(client, name)
            self.clients[name] = client
        return self.clients[name]

    async def ok(self, query: str, variables: dict[str, Any], user: str) -> Any:
        client = await self.as_user(user)
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture
async def gql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gql]:
    monkeypatch.delenv("SERVICE_TOKEN", raising=False)
    async with AsyncExitStack() as stack:
        ordering = await stack.enter_async_context(
            serving(
                create_ordering_app(
                    OrderingSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
                )
            )
        )
        billing = await stack.enter_async_context(
            serving(
                create_billing_app(
                    BillingSettings(
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
                        pull_enabled=False,
                        ordering_url="http://ordering.internal",
                    ),
                    ordering_transport=httpx.ASGITransport(app=ordering),
                )
            )
        )
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'bff.db'}"
        settings = BffSettings(
            ordering_url="http://ordering.internal",
            billing_url="http://billing.internal",
            rate_limit="",
            web_dir=tmp_path / "web",
            database_url=database_url,
        )
        bff = await stack.enter_async_context(
            serving(
                create_app(
                    settings, httpx.ASGITransport(app=ordering), httpx.ASGITransport(app=billing)
                )
            )
        )
        billing_as_bff = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=billing),
                base_url="http://billing.internal",
                headers={"Authorization": f"Bearer {DEV_BFF_TO_BILLING}"},
            )
        )
        yield Gql(bff, billing_as_bff, database_url, stack)


ORDER_AUDIT = """
query Order($number: Int!) {
  order(number: $number) {
    createdBy confirmedBy confirmedAt deletedBy
    history { action actor rowVersion at }
    invoice { number approvedBy approvedAt history { action actor orderVersion } }
  }
}
"""
APPROVE = "mutation A($number: Int!) { approveInvoice(number: $number) { approvedBy } }"


async def test_the_signed_in_user_is_recorded_and_shown(gql: Gql) -> None:
    created = await gql.ok(CREATE, {"input": ORDER_INPUT}, "ada")
    number = created["createOrder"]["number"]
    await gql.ok(CONFIRM, {"number": number}, "zoe.unal")
    assert (await gql.billing.post("/sync/run")).status_code == 200

    order = (await gql.ok(ORDER_AUDIT, {"number": number}, "viewer"))["order"]
    assert (order["createdBy"], order["confirmedBy"], order["deletedBy"]) == (
        "ada",
        "zoe.unal",
        None,
    )
    assert [(h["action"], h["actor"], h["rowVersion"]) for h in order["history"]] == [
        ("CREATED", "ada", 1),
        ("CONFIRMED", "zoe.unal", 2),
    ]
    assert order["history"][1]["at"] == order["confirmedAt"]
    invoice = order["invoice"]
    assert invoice["approvedBy"] is None

    approved = await gql.ok(APPROVE, {"number": invoice["number"]}, "carol")
    assert approved["approveInvoice"]["approvedBy"] == "carol"
    invoice = (await gql.ok(ORDER_AUDIT, {"number": number}, "viewer"))["order"]["invoice"]
    assert invoice["approvedBy"] == "carol" and invoice["approvedAt"] is not None
    assert [(h["action"], h["actor"], h["orderVersion"]) for h in invoice["history"]] == [
        ("CREATED", "billing sync", 2),
        ("APPROVED", "carol", 2),
    ]
