"""The ordering service: `uvicorn --factory ordering_api.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import TypedDict

import anyio
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from ordering_api.db import Sessions, create_engine, create_schema, create_sessions, read_only
from ordering_api.feed import assign_forever, ensure_feed_counter
from ordering_api.feed_wake import AssignerKick, FeedWaker, listen_forever
from ordering_api.metrics import OrderingMetrics
from ordering_api.models import IDEMPOTENCY_KEYS
from ordering_api.openapi import ordering_openapi
from ordering_api.orders import OrderConflict, OrderNotFound
from ordering_api.routes import ROUTE_SCOPES, routes
from ordering_api.settings import OrderingSettings
from service_db.engine import is_postgres
from service_http.gc_tuning import tune_gc
from service_http.idempotency import Idempotency
from service_http.observability import Observability
from service_http.service_app import service_app
from service_http.shutdown import on_termination
from service_http.tracing import instrument_engine


class State(TypedDict):
    engine: AsyncEngine  # readiness
    sessions: Sessions  # writes (SQLite: BEGIN IMMEDIATE)
    read_sessions: Sessions  # reads only (SQLite: plain BEGIN, never waits for a writer)
    feed_id: str
    idempotency: Idempotency
    waker: FeedWaker  # wakes long-polling feed readers
    assigner_kick: AssignerKick  # runs the assigner now
    feed_max_wait: float
    metrics: OrderingMetrics


def create_app(
    settings: OrderingSettings | None = None, tracer_provider: TracerProvider | None = None
) -> Starlette:
    """Build the app. `tracer_provider` replaces the one made from the environment (tests hand
    one with an in-memory exporter); see service_http.tracing."""
    settings = settings or OrderingSettings()
    observability = Observability.create("ordering", settings.log_format, tracer_provider)
    metrics = OrderingMetrics(observability.registry)
    settings.warn_if_insecure()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            stack.callback(observability.shutdown)
            engine = create_engine(settings.database_url)
            stack.push_async_callback(engine.dispose)
            instrument_engine(engine, observability.tracer_provider)
            await create_schema(engine)
            tune_gc(settings.gc_threshold)  # after the migrations: what stays is frozen
            sessions = create_sessions(engine)
            read_sessions = create_sessions(read_only(engine))
            observability.refreshers["assigner_backlog"] = partial(metrics.refresh, read_sessions)
            feed_id = await ensure_feed_counter(sessions)
            # The assigner stops between runs when `stop` is set, rather than being cancelled
            # (see assign_forever); exits run in reverse, so stop is set before the task group
            # waits for it.
            stop = anyio.Event()
            waker, kick = FeedWaker(), AssignerKick()
            # Uvicorn waits for requests in flight before the lifespan ends: held long polls
            # must hear of the shutdown first (service_http/shutdown.py).
            stack.enter_context(on_termination(waker.close))
            tasks = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(kick.kick)  # runs after stop.set (reverse order): ends the wait
            stack.callback(stop.set)
            tasks.start_soon(
                assign_forever,
                sessions,
                read_sessions,
                settings.assign_interval,
                stop,
                kick,
                waker,
                metrics.observe_run,
            )
            if is_postgres(engine):
                # Cancelled at exit with the task group: it only awaits asyncpg's listener.
                listener = await stack.enter_async_context(anyio.create_task_group())
                stack.callback(listener.cancel_scope.cancel)
                await listener.start(listen_forever, engine, waker)
            yield {
                "engine": engine,
                "sessions": sessions,
                "read_sessions": read_sessions,
                "feed_id": feed_id,
                "idempotency": Idempotency(IDEMPOTENCY_KEYS, settings.idempotency_key_ttl),
                "waker": waker,
                "assigner_kick": kick,
                "feed_max_wait": settings.feed_max_wait,
                "metrics": metrics,
            }

    return service_app(
        settings,
        routes,
        ordering_openapi(),
        {OrderNotFound: 404, OrderConflict: 409},
        lifespan,
        ROUTE_SCOPES,
        observability,
    )
