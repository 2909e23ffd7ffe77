"""An ordering + billing pair, in process: the real ordering app behind billing's client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from billing_api.sync import Syncer
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from tests.billing_api.harness import AUTH, TOKEN, FaultyTransport, OrderingDriver
from tests.support.asgi import started

WEB_URL = "http://web.test"


@dataclass
class Ordering:
    transport: FaultyTransport  # what billing talks through
    clerk: OrderingDriver  # what the test drives ordering with (never faulty)
    database_url: str


@dataclass
class Billing:
    http: httpx.AsyncClient  # with the service token
    browser: httpx.AsyncClient  # no token, like a browser following a deep link
    state: dict[str, Any]
    settings: BillingSettings

    @property
    def syncer(self) -> Syncer:
        syncer: Syncer = self.state["syncer"]
        return syncer

    @property
    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.state["engine"]
        return engine


@asynccontextmanager
async def run_ordering(database_url: str) -> AsyncIterator[Ordering]:
    app = create_ordering_app(OrderingSettings(database_url=database_url, service_token=TOKEN))
    async with started(app) as running:
        transport = FaultyTransport(httpx.ASGITransport(app=running.asgi))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=running.asgi),
            base_url="http://ordering.test",
            headers=AUTH,
        ) as client:
            yield Ordering(transport, OrderingDriver(client), database_url)


@asynccontextmanager
async def run_billing(
    database_url: str,
    transport: httpx.AsyncBaseTransport | None,
    **overrides: Any,
) -> AsyncIterator[Billing]:
    values: dict[str, Any] = {
        "database_url": database_url,
        "ordering_url": "http://ordering.test",
        "web_url": WEB_URL,
        "service_token": TOKEN,
        "pull_enabled": False,
        "pull_interval": 0.05,
        # The interval pace by default (tests of the loop's timing); long-poll tests set it.
        "pull_wait": 0.0,
        "pull_backoff_cap": 1.0,
        "ordering_timeout": 2.0,
        "pull_lock_wait": 10.0,
    }
    values.update(overrides)
    settings = BillingSettings(**values)
    app = create_billing_app(settings, ordering_transport=transport)
    async with started(app) as running:
        transport_in = httpx.ASGITransport(app=running.asgi)
        async with (
            httpx.AsyncClient(
                transport=transport_in, base_url="http://billing.test", headers=AUTH
            ) as http,
            httpx.AsyncClient(transport=transport_in, base_url="http://billing.test") as browser,
        ):
            yield Billing(http, browser, running.state, settings)


@pytest.fixture
async def ordering(tmp_path: Path) -> AsyncIterator[Ordering]:
    async with run_ordering(f"sqlite+aiosqlite:///{tmp_path / 'ordering.db'}") as service:
        yield service


BillingFactory = Callable[..., AbstractAsyncContextManager[Billing]]


@pytest.fixture
def billing_db(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"


@pytest.fixture
def make_billing(ordering: Ordering, billing_db: str) -> BillingFactory:
    """`async with make_billing(**settings) as billing:` -- billing wired to `ordering`."""

    def make(**overrides: Any) -> AbstractAsyncContextManager[Billing]:
        database_url = overrides.pop("database_url", billing_db)
        transport = overrides.pop("transport", ordering.transport)
        return run_billing(database_url, transport, **overrides)

    return make


@pytest.fixture
async def billing(make_billing: BillingFactory) -> AsyncIterator[Billing]:
    async with make_billing() as service:
        yield service
