"""Ordering running in process on a real SQLite file (or PostgreSQL), with an authorized client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ordering_api.app import create_app
from ordering_api.db import Sessions
from ordering_api.settings import OrderingSettings
from tests.support.asgi import started

TOKEN = "ordering-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

ORDER: dict[str, Any] = {
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "currency": "EUR",
    "lines": [
        {"sku": "BOLT-10", "description": "Bolt 10 mm", "quantity": 4, "unit_price": "0.25"},
        {"sku": "NUT-10", "description": "Nut 10 mm", "quantity": 3, "unit_price": "1.50"},
    ],
}


@dataclass
class Ordering:
    client: httpx.AsyncClient
    sessions: Sessions
    read_sessions: Sessions

    async def create(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post("/orders", json=body or ORDER)
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order

    async def confirmed(self) -> dict[str, Any]:
        order = await self.create()
        response = await self.client.post(f"/orders/{order['number']}/confirm")
        assert response.status_code == 200, response.text
        confirmed: dict[str, Any] = response.json()
        return confirmed

    async def feed(self, since: int = 0, limit: int = 500) -> dict[str, Any]:
        response = await self.client.get("/orders/changes", params={"since": since, "limit": limit})
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        return page


async def run_ordering(database_url: str) -> AsyncIterator[Ordering]:
    # A long assign interval: tests see numbering happen only where they ask for it (the feed).
    settings = OrderingSettings(database_url=database_url, service_token=TOKEN, assign_interval=60)
    async with started(create_app(settings)) as running:
        transport = httpx.ASGITransport(app=running.asgi)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://ordering.test", headers=AUTH
        ) as client:
            yield Ordering(client, running.state["sessions"], running.state["read_sessions"])


@pytest.fixture
async def ordering(sqlite_url: str) -> AsyncIterator[Ordering]:
    async for running in run_ordering(sqlite_url):
        yield running


@pytest.fixture
async def ordering_pg(pg_url: str) -> AsyncIterator[Ordering]:
    async for running in run_ordering(pg_url):
        yield running


@pytest.fixture(params=["ordering", "ordering_pg"])
def any_ordering(request: pytest.FixtureRequest) -> Ordering:
    running: Ordering = request.getfixturevalue(request.param)
    return running
