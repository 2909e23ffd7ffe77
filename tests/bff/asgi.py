"""Run ASGI apps in process the way a server would, for tests.

`httpx.ASGITransport` sends requests but never runs an app's lifespan. `serving(app)` runs the
lifespan protocol in its own task (so task groups and cancel scopes a lifespan opens are entered
and left in one task, as under uvicorn) and yields an ASGI app that gives every request a copy
of the lifespan state, as servers do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STARTUP_TIMEOUT = 30.0


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[ASGIApp]:
    state: dict[str, Any] = {}
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()

    async def send(message: Message) -> None:
        await from_app.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": state}
    task = asyncio.create_task(app(scope, to_app.get, send))  # type: ignore[arg-type]

    async def expect(kind: str) -> None:
        getter = asyncio.ensure_future(from_app.get())
        done, _ = await asyncio.wait(
            {getter, task}, timeout=STARTUP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if getter not in done:
            getter.cancel()
            if task in done:
                task.result()  # re-raises the lifespan's own error
            raise RuntimeError(f"lifespan did not send {kind}")
        message = getter.result()
        if message["type"] != kind:
            raise RuntimeError(f"lifespan answered {message}")

    await to_app.put({"type": "lifespan.startup"})
    await expect("lifespan.startup.complete")

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "state": dict(state)}
        await app(scope, receive, send)

    try:
        yield with_state
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        await expect("lifespan.shutdown.complete")
        await task


def asgi_transport(app: ASGIApp) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=app)
