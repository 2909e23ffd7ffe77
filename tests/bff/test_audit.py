"""The BFF names the signed-in user to the services and shows the audit trail.

The system runs on the development credentials (nothing configured, APP_ENV=development):
each caller uses its own secret and scopes, as in `scripts/run`. The session layer that signs
people in is stood in for by a small ASGI wrapper setting `scope["state"]["acting_user"]`
(bff/acting_user.py's interface) from a test header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from bff.acting_user import ACTING_USER_KEY
from bff.app import create_app
from bff.settings import BffSettings
from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from service_http.settings import DEV_BFF_TO_BILLING
from tests.bff.conftest import CONFIRM, CREATE, ORDER_INPUT
from tests.support.asgi import serving


def signed_in(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            user = dict(scope["headers"]).get(b"x-test-user")
            if user is not None:
                state = {**scope.get("state", {}), ACTING_USER_KEY: user.decode()}
                scope = {**scope, "state": state}
        await app(scope, receive, send)

    return wrapped


class Gql:
    def __init__(self, client: httpx.AsyncClient, billing: httpx.AsyncClient) -> None:
        self.client, self.billing = client, billing

    async def ok(self, query: str, variables: dict[str, Any], user: str | None) -> Any:
        headers = {b"x-test-user": user.encode()} if user else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
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
        settings = BffSettings(
            ordering_url="http://ordering.internal",
            billing_url="http://billing.internal",
            rate_limit="",
            web_dir=tmp_path / "web",
        )
        bff = await stack.enter_async_context(
            serving(
                signed_in(
                    create_app(
                        settings,
                        httpx.ASGITransport(app=ordering),
                        httpx.ASGITransport(app=billing),
                    )
                )
            )
        )
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=bff), base_url="http://bff.test")
        )
        billing_as_bff = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=billing),
                base_url="http://billing.internal",
                headers={"Authorization": f"Bearer {DEV_BFF_TO_BILLING}"},
            )
        )
        yield Gql(client, billing_as_bff)


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
    await gql.ok(CONFIRM, {"number": number}, "Zoë Ünal")
    assert (await gql.billing.post("/sync/run")).status_code == 200

    order = (await gql.ok(ORDER_AUDIT, {"number": number}, None))["order"]
    assert (order["createdBy"], order["confirmedBy"], order["deletedBy"]) == (
        "ada",
        "Zoë Ünal",
        None,
    )
    assert [(h["action"], h["actor"], h["rowVersion"]) for h in order["history"]] == [
        ("CREATED", "ada", 1),
        ("CONFIRMED", "Zoë Ünal", 2),
    ]
    assert order["history"][1]["at"] == order["confirmedAt"]
    invoice = order["invoice"]
    assert invoice["approvedBy"] is None

    approved = await gql.ok(APPROVE, {"number": invoice["number"]}, "carol")
    assert approved["approveInvoice"]["approvedBy"] == "carol"
    invoice = (await gql.ok(ORDER_AUDIT, {"number": number}, None))["order"]["invoice"]
    assert invoice["approvedBy"] == "carol" and invoice["approvedAt"] is not None
    assert [(h["action"], h["actor"], h["orderVersion"]) for h in invoice["history"]] == [
        ("CREATED", "billing sync", 2),
        ("APPROVED", "carol", 2),
    ]


async def test_without_a_signed_in_user_the_bff_itself_is_recorded(gql: Gql) -> None:
    created = await gql.ok(CREATE, {"input": ORDER_INPUT}, None)
    order = await gql.ok(ORDER_AUDIT, {"number": created["createOrder"]["number"]}, None)
    assert order["order"]["createdBy"] == "service:bff"
