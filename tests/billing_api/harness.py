"""Billing test harness: fault injection into what billing doesn't own, and a clerk driver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx

TOKEN = "billing-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


Fault = Callable[[httpx.Request], "httpx.Response | Exception | None"]


class FaultyTransport(httpx.AsyncBaseTransport):
    """Passes requests to ordering, unless `fault` says to fail this one (what we don't own).

    Also records what billing asked, and can pause a request (to line up races).
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.fault: Fault | None = None
        self.requests: list[httpx.Request] = []
        self.answered = asyncio.Event()
        self._polling: set[httpx.Request] = set()

    def feed_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/orders/changes"]

    def in_flight_polls(self) -> int:
        """Long polls of the feed sent and not answered yet."""
        return len(self._polling)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.fault(request) if self.fault is not None else None
        if isinstance(outcome, Exception):
            raise outcome
        if outcome is None:
            poll = request.url.path == "/orders/changes" and "wait" in request.url.params
            if poll:
                self._polling.add(request)
            try:
                outcome = await self.inner.handle_async_request(request)
                await outcome.aread()
            finally:
                self._polling.discard(request)
        self.answered.set()
        return outcome


def fail_feed(response: Callable[[httpx.Request], httpx.Response | Exception]) -> Fault:
    """A fault on the change feed only; single-order reads still reach ordering."""
    return lambda request: response(request) if request.url.path == "/orders/changes" else None


def answer_500(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"error": {"code": "internal", "message": "boom"}})


def answer_malformed(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, content=b'{"orders": [{"number": 1,', headers={"content-type": "application/json"}
    )


def answer_wrong_shape(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=json.dumps({"items": []}).encode())


def raise_timeout(request: httpx.Request) -> Exception:
    return httpx.ReadTimeout("timed out", request=request)


def raise_connect(request: httpx.Request) -> Exception:
    return httpx.ConnectError("connection refused", request=request)


ORDER_BODY: dict[str, Any] = {
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "currency": "EUR",
    "lines": [{"sku": "BOLT-10", "description": "Bolt 10 mm", "quantity": 4, "unit_price": "0.25"}],
}


class OrderingDriver:
    """A clerk's actions against ordering's real REST API."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def create(self, quantity: int = 4, unit_price: str = "0.25") -> dict[str, Any]:
        body = json.loads(json.dumps(ORDER_BODY))
        body["lines"][0].update(quantity=quantity, unit_price=unit_price)
        response = await self.client.post("/orders", json=body)
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()
        return order

    async def update(self, number: int, quantity: int, unit_price: str = "0.25") -> dict[str, Any]:
        body = json.loads(json.dumps(ORDER_BODY))
        body["lines"][0].update(quantity=quantity, unit_price=unit_price)
        response = await self.client.put(f"/orders/{number}", json=body)
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
        return order

    async def confirm(self, number: int) -> dict[str, Any]:
        response = await self.client.post(f"/orders/{number}/confirm")
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
        return order

    async def delete(self, number: int) -> dict[str, Any]:
        response = await self.client.delete(f"/orders/{number}")
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()
        return order

    async def confirmed(self, quantity: int = 4) -> dict[str, Any]:
        order = await self.create(quantity=quantity)
        return await self.confirm(order["number"])

    async def published(self) -> dict[int, dict[str, Any]]:
        """Ordering's published state: every order the feed holds, by number."""
        orders: dict[int, dict[str, Any]] = {}
        since = 0
        while True:
            page = (await self.client.get("/orders/changes", params={"since": since})).json()
            for order in page["orders"]:
                orders[order["number"]] = order
            since = page["next_since"]
            if not page["has_more"]:
                return orders
