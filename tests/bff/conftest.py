"""The BFF against the real ordering and billing apps, in process.

Each test gets fresh SQLite databases, both upstream apps with their lifespans running, and a
BFF whose two upstream transports are `UpstreamLink`s: they count the calls the BFF makes and
can inject faults; behind them are the real apps.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bff.accounts import AccountError
from bff.app import create_app
from bff.settings import BffSettings
from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from tests.bff.transports import UpstreamLink
from tests.support.accounts import EVERY_ROLE, add_user, sign_in_directly
from tests.support.asgi import serving, started

TOKEN = "test-service-token"
WEB_URL = "http://web.example"


@dataclass
class System:
    bff: httpx.AsyncClient
    billing: httpx.AsyncClient  # straight to billing, as a peer (to run a pull)
    ordering: httpx.AsyncClient  # straight to ordering, as a peer
    billing_asgi: Any
    bff_asgi: Any
    ordering_link: UpstreamLink
    billing_link: UpstreamLink
    settings: BffSettings

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.bff.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.gql(query, variables)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def pull(self) -> dict[str, Any]:
        """Make billing pull ordering's feed now (what its background loop does)."""
        response = await self.billing.post("/sync/run")
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return report

    def reset_counts(self) -> None:
        self.ordering_link.reset()
        self.billing_link.reset()


def bff_settings(tmp_path: Path, **overrides: Any) -> BffSettings:
    values: dict[str, Any] = {
        "ordering_url": "http://ordering.internal",
        "billing_url": "http://billing.internal",
        "cache_url": "memory://",
        "service_token": TOKEN,
        "upstream_timeout": 2.0,
        # Tests drive the BFF far faster than a person; the limiter has its own tests.
        "rate_limit": "",
        "web_dir": tmp_path / "web",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bff.db'}",
    }
    values.update(overrides)
    return BffSettings(**values)


SystemFactory = Callable[..., Any]


@pytest.fixture
async def make_system(tmp_path: Path) -> AsyncIterator[SystemFactory]:
    """Factory: `await make_system(**bff_setting_overrides)` → a running System."""
    runs = itertools.count()
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> System:
            run = tmp_path / f"system{next(runs)}"
            run.mkdir()
            ordering_asgi = await stack.enter_async_context(
                serving(
                    create_ordering_app(
                        OrderingSettings(
                            database_url=f"sqlite+aiosqlite:///{run / 'ordering.db'}",
                            service_token=TOKEN,
                        )
                    )
                )
            )
            billing_asgi = await stack.enter_async_context(
                serving(
                    create_billing_app(
                        BillingSettings(
                            database_url=f"sqlite+aiosqlite:///{run / 'billing.db'}",
                            service_token=TOKEN,
                            pull_enabled=False,
                            web_url=WEB_URL,
                            ordering_url="http://ordering.internal",
                        ),
                        ordering_transport=httpx.ASGITransport(app=ordering_asgi),
                    )
                )
            )
            ordering_link = UpstreamLink(httpx.ASGITransport(app=ordering_asgi))
            billing_link = UpstreamLink(httpx.ASGITransport(app=billing_asgi))
            settings = bff_settings(run, **overrides)
            if settings.auth == "local":
                # The suite's default user holds every role; tests/bff/test_roles.py is about
                # the roles themselves.
                with contextlib.suppress(AccountError):  # a second replica on one database
                    await add_user(settings.database_url, "tester", EVERY_ROLE)
            bff_running = await stack.enter_async_context(
                started(create_app(settings, ordering_link, billing_link))
            )
            bff_asgi = bff_running.asgi
            peer_headers = {"authorization": f"Bearer {TOKEN}"}
            clients = [
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url=url, headers=headers
                )
                for app, url, headers in (
                    (bff_asgi, "http://bff.test", {}),
                    (billing_asgi, "http://billing.internal", peer_headers),
                    (ordering_asgi, "http://ordering.internal", peer_headers),
                )
            ]
            for client in clients:
                await stack.enter_async_context(client)
            if settings.auth == "local":
                # Signed in through the app's own session store (tests/bff/test_auth.py signs
                # in over HTTP): tests that change the Host allow-list or break the cache's
                # Redis still start with a session.
                await sign_in_directly(bff_running.state, clients[0], "tester")
            return System(
                bff=clients[0],
                billing=clients[1],
                ordering=clients[2],
                billing_asgi=billing_asgi,
                bff_asgi=bff_asgi,
                ordering_link=ordering_link,
                billing_link=billing_link,
                settings=settings,
            )

        yield make


@pytest.fixture
async def system(make_system: SystemFactory) -> System:
    result: System = await make_system()
    return result


ORDER_INPUT: dict[str, Any] = {
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "currency": "EUR",
    "lines": [
        {"sku": "BOLT-10", "description": "Bolt 10 mm", "quantity": 4, "unitPrice": "0.25"},
        {"sku": "NUT-10", "quantity": 2, "unitPrice": "1.10"},
    ],
}

CREATE = """
mutation Create($input: OrderInput!) {
  createOrder(input: $input) { number status total rowVersion }
}
"""
CONFIRM = """
mutation Confirm($number: Int!) {
  confirmOrder(number: $number) { order { number status confirmedAt } invoiceLink }
}
"""


async def create_order(system: System, **changes: Any) -> int:
    data = await system.ok(CREATE, {"input": {**ORDER_INPUT, **changes}})
    number: int = data["createOrder"]["number"]
    return number


async def confirmed_orders_with_invoices(system: System, count: int) -> list[int]:
    """`count` confirmed orders, pulled into billing so each has its invoice."""
    numbers = []
    for _ in range(count):
        number = await create_order(system)
        await system.ok(CONFIRM, {"number": number})
        numbers.append(number)
    await system.pull()
    return numbers
