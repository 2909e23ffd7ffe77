"""The billing service: `uvicorn --factory billing_api.app:create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billing_api.db import create_engine, create_schema
from billing_api.invoices import InvalidCursor, InvoiceIsVoid, InvoiceNotFound
from billing_api.openapi import billing_openapi
from billing_api.ordering_client import OrderingClient
from billing_api.routes import BillingState, routes
from billing_api.settings import DEV_SERVICE_TOKEN, BillingSettings
from billing_api.sync import PullFailed, Syncer
from service_http.auth import ServiceTokenMiddleware
from service_http.errors import error_response, exception_handlers
from service_http.hosts import host_allow_list
from service_http.openapi import openapi_endpoint

logger = logging.getLogger("billing_api")


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(404, "not_found", f"No invoice {exc}.")


async def _void(request: Request, exc: Exception) -> Response:
    return error_response(409, "conflict", f"Invoice {exc} is void and cannot be approved.")


async def _bad_cursor(request: Request, exc: Exception) -> Response:
    return error_response(400, "bad_request", "'after' is not a cursor this service handed out.")


async def _pull_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PullFailed)
    return error_response(503, "unavailable", f"The pull did not complete: {exc.reason}")


def _ensure_log_output() -> None:
    """Make the pull's one INFO line per run visible under a plain `uvicorn` (which only
    configures its own loggers); leave logging alone when the host configured it."""
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not logger.hasHandlers():
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


def create_app(
    settings: BillingSettings | None = None,
    ordering_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the app. `ordering_transport` plugs a transport (ordering's ASGI app, a fault
    injector) into billing's one long-lived ordering client; None means real HTTP."""
    settings = settings or BillingSettings()
    _ensure_log_output()
    if settings.service_token == DEV_SERVICE_TOKEN:
        logger.warning("SERVICE_TOKEN is not set: using the development token")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[BillingState]:
        engine = create_engine(settings.database_url)
        client = OrderingClient(
            settings.ordering_url,
            settings.service_token,
            settings.ordering_timeout,
            transport=ordering_transport,
        )
        syncer = Syncer(
            engine,
            client,
            interval=settings.pull_interval,
            backoff_cap=settings.pull_backoff_cap,
            page_size=settings.pull_page_size,
            lock_wait=settings.pull_lock_wait,
        )
        try:
            await create_schema(engine)
            async with anyio.create_task_group() as tasks:
                if settings.pull_enabled:
                    tasks.start_soon(syncer.run_forever)
                yield {
                    "engine": engine,
                    "syncer": syncer,
                    "client": client,
                    "web_url": settings.web_url,
                }
                tasks.cancel_scope.cancel()
        finally:
            await syncer.aclose()
            await client.aclose()
            await engine.dispose()

    handlers: dict[Any, Any] = {
        **exception_handlers,
        InvoiceNotFound: _not_found,
        InvoiceIsVoid: _void,
        InvalidCursor: _bad_cursor,
        PullFailed: _pull_failed,
    }
    return Starlette(
        routes=[*routes, Route("/openapi.json", openapi_endpoint(billing_openapi()))],
        middleware=[
            host_allow_list(env_prefix="BILLING_"),
            Middleware(
                ServiceTokenMiddleware,
                token=settings.service_token,
                public_paths=frozenset({"/healthz", "/openapi.json"}),
                public_prefixes=("/link/",),
            ),
        ],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
