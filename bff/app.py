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

from bff.accounts import Accounts
from bff.accounts_db import create_schema
from bff.auth_routes import auth_routes
from bff.authentication import AUTH_STATE_KEY, Auth, Authenticate
from bff.browser_guard import BrowserGuard
from bff.cache import UpstreamCache
from bff.clients import BILLING, ORDERING, BillingClient, OrderingClient
from bff.context import Upstreams
from bff.deeplink import deeplink_routes
from bff.graphql_http import STATE_KEY, BffGraphQL, body_too_large
from bff.login_throttle import LoginThrottle
from bff.metrics import BffMetrics
from bff.rate_limit import RateLimit, RatePolicy, make_storage
from bff.resilience import BreakerPolicy, Bulkhead, CircuitBreaker, SingleFlight, UpstreamGuard
from bff.response_cache import ResponseCache
from bff.schema import build_schema
from bff.sessions import SessionPolicy, SessionStore
from bff.settings import BffSettings
from bff.web import not_found_handler, web_routes
from service_db.engine import create_engine, create_sessions, read_only
from service_http.gc_tuning import tune_gc
from service_http.health import healthz
from service_http.hosts import host_allow_list
from service_http.keepalive import client_limits
from service_http.limits import RequestBodyLimit
from service_http.observability import Observability
from service_http.tracing import instrument_client

logger = logging.getLogger("bff")


async def open_auth(stack: AsyncExitStack, settings: BffSettings) -> Auth:
    """Sign-in's resources: the accounts database (local), the session store, the throttle."""
    accounts = None
    if settings.auth == "local":
        engine = create_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        await create_schema(engine)
        accounts = Accounts(create_sessions(engine), create_sessions(read_only(engine)))
    policy = SessionPolicy(
        idle_seconds=settings.session_idle_seconds,
        absolute_seconds=settings.session_absolute_seconds,
        recheck_seconds=settings.session_recheck_seconds,
    )
    sessions = SessionStore.from_url(settings.session_url or settings.cache_url, policy, accounts)
    stack.push_async_callback(sessions.close)
    throttle = LoginThrottle(
        make_storage(settings.session_url or settings.cache_url),
        settings.login_limit_account,
        settings.login_limit_client,
    )
    oidc = None
    if settings.auth == "oidc":
        from bff.oidc import OidcClient  # Authlib is only loaded when it is used

        oidc = await stack.enter_async_context(OidcClient.open(settings))
    return Auth(settings, sessions, accounts, throttle, oidc)


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


def oidc_routes(settings: BffSettings) -> list[BaseRoute]:
    if settings.auth != "oidc":
        return []
    from bff.oidc import oidc_routes as routes

    return routes()


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
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Upstreams | Auth]]:
        async with AsyncExitStack() as stack:
            stack.callback(observability.shutdown)
            tune_gc(settings.gc_threshold)
            cache = UpstreamCache.from_url(
                settings.cache_url, settings.cache_ttl, absent_ttl=settings.cache_absent_ttl
            )
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
            auth = await open_auth(stack, settings)
            yield {
                AUTH_STATE_KEY: auth,
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
                ),
            }

    routes: list[BaseRoute] = [
        Route(
            "/graphql",
            ResponseCache(graphql, (ORDERING, BILLING), STATE_KEY, metrics),
            name="graphql",
        ),
        Route("/healthz", healthz, methods=["GET"]),
        *auth_routes(),
        *oidc_routes(settings),
        *deeplink_routes(),
    ]
    if settings.metrics_token is not None:
        routes.append(observability.metrics_route(settings.metrics_token.get_secret_value()))
    else:
        logger.info("BFF_METRICS_TOKEN is not set: /metrics is not served")
    routes += site
    app = Starlette(
        routes=routes,
        # Outermost first. The request id and metrics see every answer; the guard adds security
        # headers to every answer and refuses cross-site writes; authentication runs before
        # routing, so before the response cache.
        middleware=[
            *observability.middleware(routes),
            Middleware(BrowserGuard, public_url=settings.public_url),
            host_allow_list(settings.allowed_hosts),
            Middleware(Authenticate),
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
