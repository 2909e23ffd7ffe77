"""The BFF app: GraphQL at /graphql, /healthz, and the web front end (static files + SPA routes).

Run with `uvicorn --factory bff.app:create_app`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from bff.cache import UpstreamCache
from bff.clients import BILLING, ORDERING, BillingClient, OrderingClient
from bff.context import Upstreams
from bff.gc_tuning import tune_gc
from bff.graphql_http import STATE_KEY, BffGraphQL, body_too_large
from bff.metrics import BffMetrics
from bff.rate_limit import RateLimit, RatePolicy, make_storage
from bff.resilience import BreakerPolicy, Bulkhead, CircuitBreaker, SingleFlight, UpstreamGuard
from bff.response_cache import ResponseCache
from bff.schema import build_schema
from bff.settings import BffSettings
from bff.web import not_found_handler, web_routes
from service_http.health import healthz
from service_http.hosts import host_allow_list
from service_http.keepalive import client_limits
from service_http.limits import RequestBodyLimit
from service_http.observability import Observability
from service_http.tracing import instrument_client

logger = logging.getLogger("bff")


def _http_client(
    base_url: str,
    token: str,
    settings: BffSettings,
    transport: httpx.AsyncBaseTransport | None,
    tracer_provider: TracerProvider | None = None,
) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        timeout=httpx.Timeout(settings.upstream_timeout, pool=settings.upstream_pool_timeout),
        headers={"authorization": f"Bearer {token}"},
        # Keep connections to the two upstreams warm; they are our only peers. More connections
        # than bulkhead slots, so no call ever waits in httpcore's pool (bff/resilience.py).
        limits=client_limits(
            max_connections=settings.upstream_concurrency + 8, max_keepalive_connections=20
        ),
    )
    instrument_client(client, tracer_provider)
    return client


def upstream_guard(settings: BffSettings) -> UpstreamGuard:
    policy = BreakerPolicy(
        window=settings.breaker_window,
        min_calls=settings.breaker_min_calls,
        failure_ratio=settings.breaker_failure_ratio,
        open_seconds=settings.breaker_open_seconds,
    )
    return UpstreamGuard(
        Bulkhead(settings.upstream_concurrency), CircuitBreaker(policy), SingleFlight()
    )


def create_app(
    settings: BffSettings | None = None,
    ordering_transport: httpx.AsyncBaseTransport | None = None,
    billing_transport: httpx.AsyncBaseTransport | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """Build the app. The transports replace real HTTP to the upstreams (tests, benchmarks);
    `tracer_provider` replaces the one made from the environment (service_http.tracing)."""
    settings = settings or BffSettings()
    observability = Observability.create("bff", settings.log_format, tracer_provider)
    metrics = BffMetrics(observability.registry)
    tracing = observability.tracer_provider
    settings.warn_if_insecure()
    graphql = BffGraphQL(build_schema(settings), graphiql=settings.graphiql, metrics=metrics)
    site, shell = web_routes(settings.web_dir)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Upstreams]]:
        async with AsyncExitStack() as stack:
            stack.callback(observability.shutdown)
            tune_gc(settings.gc_threshold)
            cache = UpstreamCache.from_url(settings.cache_url, settings.cache_ttl)
            cache.metrics = metrics
            stack.push_async_callback(cache.close)
            ordering_http = await stack.enter_async_context(
                _http_client(
                    settings.ordering_url,
                    settings.outgoing_token("ordering_token"),
                    settings,
                    ordering_transport,
                    tracing,
                )
            )
            billing_http = await stack.enter_async_context(
                _http_client(
                    settings.billing_url,
                    settings.outgoing_token("billing_token"),
                    settings,
                    billing_transport,
                    tracing,
                )
            )
            yield {
                STATE_KEY: Upstreams(
                    settings=settings,
                    ordering=OrderingClient(
                        ordering_http,
                        cache,
                        settings.upstream_timeout,
                        upstream_guard(settings),
                        settings.upstream_pool_timeout,
                        metrics,
                    ),
                    billing=BillingClient(
                        billing_http,
                        cache,
                        settings.upstream_timeout,
                        upstream_guard(settings),
                        settings.upstream_pool_timeout,
                        metrics,
                    ),
                    cache=cache,
                )
            }

    routes: list[BaseRoute] = [
        Route(
            "/graphql",
            ResponseCache(graphql, (ORDERING, BILLING), STATE_KEY, metrics),
            name="graphql",
        ),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if settings.metrics_token is not None:
        routes.append(observability.metrics_route(settings.metrics_token.get_secret_value()))
    else:
        logger.info("BFF_METRICS_TOKEN is not set: /metrics is not served")
    routes += site
    app = Starlette(
        routes=routes,
        middleware=[
            *observability.middleware(routes),
            host_allow_list(settings.allowed_hosts),
            Middleware(
                RateLimit,
                policy=RatePolicy.parse(
                    settings.rate_limit,
                    settings.trusted_proxies,
                    settings.client_in_flight,
                    settings.client_queue_seconds,
                ),
                storage=make_storage(settings.cache_url),
            ),
            Middleware(RequestBodyLimit, max_bytes=settings.max_body_bytes, refuse=body_too_large),
        ],
        exception_handlers={404: not_found_handler(shell)},
        lifespan=lifespan,
    )
    observability.instrument(app)
    return app
