"""Prometheus metrics shared by the three apps: HTTP requests and their latency, `/metrics`.

Every app builds its own `CollectorRegistry` (never prometheus_client's global one): tests and
benchmarks build many apps in one process, and a global registry would refuse the second app's
metrics as duplicates or mix their counts.

Requests are labelled by route *template* (`/orders/{number}`), never the raw path, so the
number of series stays bounded whatever clients send; a request answered before routing (401,
413, a refused Host) is matched against the routes afterwards, and anything that matches none
is `unmatched`. Methods outside the usual few are `OTHER`.

`/metrics` runs its `refreshers` first: gauges read from a database (billing's lag, ordering's
backlog) are set at scrape time, so they are as current as the scrape, cost nothing between
scrapes, and agree across replicas reading the same database.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service_http.auth import bearer_credentials
from service_http.errors import error_response

logger = logging.getLogger("service_http.metrics")

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds; from a cached GraphQL answer (sub-millisecond) to a long poll (BILLING_PULL_WAIT).
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

# Sets gauges from a source that must be awaited (a database), just before a scrape.
Refresher = Callable[[], Awaitable[None]]


def new_registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to the end of the body), by method and route",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.refresh_errors = Counter(
            "metrics_refresh_errors",
            "Scrapes in which a gauge could not be read from its source (then it is stale)",
            ["source"],
            registry=registry,
        )


def route_template(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The template of the route that served the request (Starlette's router leaves it in the
    scope), or of the one that would have, for an answer given before routing."""
    route = scope.get("route")
    if route is None:
        for candidate in routes:
            match, _ = candidate.matches(scope)
            if match is not Match.NONE:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class HttpMetricsMiddleware:
    """Counts and times every HTTP request. Pure ASGI: two clock reads and two label lookups
    per request, nothing per body chunk."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception escaping the app becomes a 500 (ServerErrorMiddleware)

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = route_template(scope, self.routes)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.duration.labels(method, route).observe(elapsed)


def metrics_endpoint(
    registry: CollectorRegistry,
    http: HttpMetrics,
    refreshers: Mapping[str, Refresher],
    token: str | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    """The scrape; `refreshers` (by source name) is read at each scrape, so a lifespan can add
    its own after the app is built. With `token`, the scrape needs it as a bearer credential
    (the BFF's; the services' /metrics is behind their service-token middleware instead)."""
    expected = token.encode() if token is not None else None

    async def metrics(request: Request) -> Response:
        if expected is not None:
            supplied = bearer_credentials(request.headers.get("authorization", "").encode())
            if supplied is None or not hmac.compare_digest(supplied, expected):
                response = error_response(
                    401, "unauthorized", "The monitoring bearer token is required."
                )
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
        for source, refresh in list(refreshers.items()):
            try:
                await refresh()
            except Exception:
                # The scrape still answers (request counts are in memory); the failure shows
                # as a counter and one log line, and the gauge keeps its last value.
                http.refresh_errors.labels(source).inc()
                logger.warning("metrics: could not read %s", source, exc_info=True)
        # The classic text format (0.0.4), which every Prometheus 2 and 3 reads; the names
        # here are plain ASCII, so the newer format would be the same bytes.
        body = generate_latest(registry)
        return Response(body, headers={"content-type": CONTENT_TYPE_PLAIN_0_0_4})

    return metrics
