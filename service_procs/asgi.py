"""Running ASGI apps in process the way a server would, for tests.

`httpx.ASGITransport` sends requests but never runs an app's lifespan, and every service here
hands its resources to requests as lifespan state. `started()` speaks the ASGI lifespan protocol
itself (in its own task, so task groups a lifespan opens are entered and left in one task, as
under uvicorn) and copies the state into every request scope, as servers do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class Running:
    """A started app: `asgi` serves requests with the lifespan state, `state` is that state."""

    asgi: ASGIApp
    state: dict[str, Any]


@asynccontextmanager
async def started(app: ASGIApp) -> AsyncIterator[Running]:
    """Run `app`'s lifespan (startup now, shutdown on exit); yield it running."""
    state: dict[str, Any] = {}
    started_event, stop_event = asyncio.Event(), asyncio.Event()
    failures: list[str] = []
    sent_startup = False

    async def receive() -> Message:
        nonlocal sent_startup
        if not sent_startup:
            sent_startup = True
            return {"type": "lifespan.startup"}
        await stop_event.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: Message) -> None:
        if message["type"] == "lifespan.startup.complete":
            started_event.set()
        elif message["type"] in ("lifespan.startup.failed", "lifespan.shutdown.failed"):
            failures.append(message.get("message", ""))
            started_event.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": state}

    async def lifespan() -> None:
        await app(scope, receive, send)

    task: asyncio.Task[None] = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started_event.wait())
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if failures or task.done():
        stop_event.set()
        await asyncio.gather(task, return_exceptions=True)
        raise RuntimeError(f"app failed to start: {failures}")

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "state": dict(state)}
        await app(scope, receive, send)

    try:
        yield Running(with_state, state)
    finally:
        stop_event.set()
        await task
    if failures:
        raise RuntimeError(f"app failed to stop cleanly: {failures}")


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[ASGIApp]:
    """Like `started`, for callers that only need the app that serves requests."""
    async with started(app) as running:
        yield running.asgi
