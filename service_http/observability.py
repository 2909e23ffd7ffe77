"""What one app instance observes itself with: its metrics registry, HTTP metrics, tracer
provider (or None: tracing off) and the gauges refreshed at scrape time.

Built once per app by its factory, from the app's settings and the environment (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from service_http.logs import LogFormat, configure_logging
from service_http.metrics import (
    METRICS_PATH,
    HttpMetrics,
    HttpMetricsMiddleware,
    Refresher,
    metrics_endpoint,
    new_registry,
)
from service_http.request_id import RequestIdMiddleware
from service_http.tracing import instrument_app, tracer_provider_from_env


@dataclass
class Observability:
    service: str
    registry: CollectorRegistry
    http: HttpMetrics
    tracer_provider: TracerProvider | None
    # Whether the provider is this app's own (made from the environment): then the app's
    # lifespan shuts it down, flushing spans; a provider handed in belongs to the caller.
    owns_provider: bool = False
    # Gauges read from a database at scrape time, by source name; lifespans add theirs.
    refreshers: dict[str, Refresher] = field(default_factory=dict)

    @classmethod
    def create(
        cls, service: str, log_format: LogFormat, tracer_provider: TracerProvider | None = None
    ) -> Observability:
        configure_logging(log_format, service)
        registry = new_registry()
        owns = tracer_provider is None
        provider = (
            tracer_provider if tracer_provider is not None else tracer_provider_from_env(service)
        )
        return cls(service, registry, HttpMetrics(registry), provider, owns_provider=owns)

    def middleware(self, routes: Sequence[BaseRoute]) -> list[Middleware]:
        """The outermost middleware, in order: the request id first (so every answer, a 401
        included, carries one), then the request metrics."""
        return [
            Middleware(RequestIdMiddleware),
            Middleware(HttpMetricsMiddleware, metrics=self.http, routes=routes),
        ]

    def metrics_route(self, token: str | None = None) -> Route:
        endpoint = metrics_endpoint(self.registry, self.http, self.refreshers, token)
        return Route(METRICS_PATH, endpoint, methods=["GET"])

    def instrument(self, app: Starlette) -> None:
        instrument_app(app, self.tracer_provider)

    def shutdown(self) -> None:
        if self.owns_provider and self.tracer_provider is not None:
            self.tracer_provider.shutdown()
