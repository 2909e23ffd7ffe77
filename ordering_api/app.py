"""The ordering service: `uvicorn --factory ordering_api.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypedDict

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ordering_api.db import Sessions, create_engine, create_schema, create_sessions, read_only
from ordering_api.feed import assign_forever, ensure_feed_counter
from ordering_api.openapi import ordering_openapi
from ordering_api.orders import OrderConflict, OrderNotFound
from ordering_api.routes import routes
from ordering_api.settings import OrderingSettings
from service_http.auth import ServiceTokenMiddleware
from service_http.errors import error_response, exception_handlers
from service_http.hosts import host_allow_list
from service_http.openapi import openapi_endpoint


class State(TypedDict):
    sessions: Sessions  # writes (SQLite: BEGIN IMMEDIATE)
    read_sessions: Sessions  # reads only (SQLite: plain BEGIN, never waits for a writer)
    feed_id: str


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(404, "not_found", str(exc))


async def _conflict(request: Request, exc: Exception) -> Response:
    return error_response(409, "conflict", str(exc))


def create_app(settings: OrderingSettings | None = None) -> Starlette:
    settings = settings or OrderingSettings()
    settings.warn_if_insecure()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        engine = create_engine(settings.database_url)
        try:
            await create_schema(engine)
            sessions = create_sessions(engine)
            read_sessions = create_sessions(read_only(engine))
            feed_id = await ensure_feed_counter(sessions)
            stop = anyio.Event()
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(
                    assign_forever, sessions, read_sessions, settings.assign_interval, stop
                )
                try:
                    yield {"sessions": sessions, "read_sessions": read_sessions, "feed_id": feed_id}
                finally:
                    stop.set()
        finally:
            await engine.dispose()

    handlers: dict[Any, Any] = {
        **exception_handlers,
        OrderNotFound: _not_found,
        OrderConflict: _conflict,
    }
    return Starlette(
        routes=[*routes, Route("/openapi.json", openapi_endpoint(ordering_openapi()))],
        middleware=[
            host_allow_list(env_prefix="ORDERING_"),
            Middleware(
                ServiceTokenMiddleware,
                token=settings.service_token,
                public_paths=frozenset({"/healthz", "/openapi.json"}),
            ),
        ],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
