"""The billing service: `uvicorn --factory billing_api.app:create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import TypedDict

import anyio
import httpx
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from billing_api.db import Sessions, create_engine, create_schema, create_sessions, read_only
from billing_api.dead_letters import (
    DeadLetterClosed,
    DeadLetterNotFound,
    DeadLetterStillFailing,
    open_letters,
)
from billing_api.freshness import CannotCheckOrder
from billing_api.invoices import InvoiceIsVoid, InvoiceNotFound
from billing_api.metrics import BillingMetrics
from billing_api.models import IDEMPOTENCY_KEYS
from billing_api.openapi import billing_openapi
from billing_api.ordering_client import OrderingClient, OrderingError
from billing_api.routes import ROUTE_SCOPES, routes
from billing_api.settings import BillingSettings
from billing_api.sync import PullFailed, PullHalted, Syncer
from service_http.gc_tuning import tune_gc
from service_http.idempotency import Idempotency
from service_http.observability import Observability
from service_http.service_app import service_app
from service_http.tracing import instrument_client, instrument_engine

logger = logging.getLogger("billing_api")


class State(TypedDict):
    engine: AsyncEngine  # readiness, and the pull's cross-replica lock
    sessions: Sessions  # writes (SQLite: BEGIN IMMEDIATE)
    read_sessions: Sessions  # reads only (SQLite: plain BEGIN, never waits for a writer)
    syncer: Syncer
    client: OrderingClient
    web_url: str
    idempotency: Idempotency


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
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """Build the app. `ordering_transport` plugs a transport (ordering's ASGI app, a fault
    injector) into billing's one long-lived ordering client; None means real HTTP.
    `tracer_provider` replaces the one made from the environment (service_http.tracing)."""
    settings = settings or BillingSettings()
    observability = Observability.create("billing", settings.log_format, tracer_provider)
    metrics = BillingMetrics(observability.registry)
    _ensure_log_output()
    settings.warn_if_insecure()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            stack.callback(observability.shutdown)
            engine = create_engine(settings.database_url)
            stack.push_async_callback(engine.dispose)
            instrument_engine(engine, observability.tracer_provider)
            client = OrderingClient(
                settings.ordering_url,
                settings.outgoing_token("ordering_token"),
                settings.ordering_timeout,
                transport=ordering_transport,
            )
            stack.push_async_callback(client.aclose)
            instrument_client(client.http, observability.tracer_provider)
            await create_schema(engine)
            tune_gc(settings.gc_threshold)  # after the migrations: what stays is frozen
            sessions = create_sessions(engine)
            read_sessions = create_sessions(read_only(engine))
            syncer = Syncer(
                engine,
                sessions,
                read_sessions,
                client,
                interval=settings.pull_interval,
                wait=settings.pull_wait,
                backoff_cap=settings.pull_backoff_cap,
                page_size=settings.pull_page_size,
                lock_wait=settings.pull_lock_wait,
                scheduled=settings.pull_enabled,
            )
            syncer.on_pull = metrics.observe_pull
            observability.refreshers["sync_state"] = partial(metrics.refresh, syncer)

            async def open_dead_letters() -> int:
                async with read_sessions() as session:
                    return (await open_letters(session)).count

            metrics.count_dead_letters(open_dead_letters)
            # Exits run in reverse: the loop stops first, then the pull in flight is awaited
            # (Syncer.aclose), then the client and the engine close.
            stack.push_async_callback(syncer.aclose)
            tasks = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tasks.cancel_scope.cancel)
            if settings.pull_enabled:
                await tasks.start(syncer.run_forever)
            yield {
                "engine": engine,
                "sessions": sessions,
                "read_sessions": read_sessions,
                "syncer": syncer,
                "client": client,
                "web_url": settings.web_url,
                "idempotency": Idempotency(IDEMPOTENCY_KEYS, settings.idempotency_key_ttl),
            }

    return service_app(
        settings,
        routes,
        billing_openapi(),
        {
            InvoiceNotFound: 404,
            InvoiceIsVoid: 409,
            PullFailed: 503,
            PullHalted: 409,
            CannotCheckOrder: 503,
            DeadLetterNotFound: 404,
            DeadLetterClosed: 409,
            DeadLetterStillFailing: 409,
            # Ordering could not answer a question an operator asked (reconciliation).
            OrderingError: 503,
        },
        lifespan,
        ROUTE_SCOPES,
        observability,
    )
