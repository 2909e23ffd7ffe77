"""The body limit on a real service (ordering in process): refused with 413 before it is read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from ordering_api.app import create_app
from ordering_api.settings import OrderingSettings
from service_http.bodies import MAX_BODY_BYTES
from tests.support.asgi import started

TOKEN = "limits-test-token"


async def test_an_oversized_body_is_refused_before_it_is_read(sqlite_url: str) -> None:
    app = create_app(OrderingSettings(database_url=sqlite_url, service_token=TOKEN))
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        # Streamed without a Content-Length: the limit must count what arrives.
        nonlocal sent
        for _ in range(100):
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    async with (
        started(app) as running,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=running.asgi),
            base_url="http://ordering.test",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as client,
    ):
        streamed = await client.post("/orders", content=chunks())
        declared = await client.post(
            "/orders", content=b"{}", headers={"Content-Length": str(MAX_BODY_BYTES + 1)}
        )
    for response in (streamed, declared):
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"
    assert sent < 100 * 64 * 1024, "the rest of the stream was never read"
