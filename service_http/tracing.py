"""OpenTelemetry traces: off unless an exporter is configured, then Starlette, httpx and
SQLAlchemy are instrumented and W3C trace context flows browser → BFF → services.

Switched on by the OpenTelemetry SDK's own variables, so any collector's documentation applies:
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) sends spans over OTLP/HTTP
to a collector; `OTEL_TRACES_EXPORTER=console` prints them (a developer's look), `none` (or
`OTEL_SDK_DISABLED=true`) keeps tracing off whatever else is set. The SDK reads the rest
itself: `OTEL_SERVICE_NAME` (default: the app's name), `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER` and its argument, the exporter's headers and timeouts.

With tracing off nothing is installed: no middleware, no client hooks, no engine listeners, so
requests run exactly the code they run without this module. Each app gets its own
`TracerProvider` (not the process-global one), so tests can hand one with an in-memory exporter
to each app they build; the W3C propagator is the API's default (tracecontext and baggage).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import httpx
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.semconv.trace import SpanAttributes
from opentelemetry.util.http import parse_excluded_urls
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.types import Scope

from service_http.metrics import UNMATCHED, route_template

# Probes and scrapes would be most of the spans and say nothing.
EXCLUDED_URLS = "/healthz,/readyz,/metrics"


def exporter_from_env(environ: Mapping[str, str]) -> SpanExporter | None:
    """The exporter the environment asks for, or None (tracing off)."""
    choice = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if choice == "none" or environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if choice == "otlp" or endpoint:
        # Imported only when used: it brings protobuf along.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def tracer_provider_from_env(
    service: str, environ: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """A provider exporting in batches, or None when no exporter is configured."""
    environ = os.environ if environ is None else environ
    exporter = exporter_from_env(environ)
    if exporter is None:
        return None
    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def instrument_app(app: Starlette, provider: TracerProvider | None) -> None:
    """A server span per request, named by route template (`POST /orders/{number:int}/confirm`),
    continuing the caller's trace from its `traceparent` header. Outermost middleware."""
    if provider is None:
        return

    def span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
        method = scope.get("method", "")
        route = route_template(scope, app.routes)
        if route == UNMATCHED:
            return method, {}
        return f"{method} {route}", {SpanAttributes.HTTP_ROUTE: route}

    app.add_middleware(
        OpenTelemetryMiddleware,
        excluded_urls=parse_excluded_urls(EXCLUDED_URLS),
        default_span_details=span_details,
        tracer_provider=provider,
        meter_provider=NoOpMeterProvider(),
        # One span per request, not one more per body chunk received or sent.
        exclude_spans=["receive", "send"],
    )


def instrument_client(client: httpx.AsyncClient, provider: TracerProvider | None) -> None:
    """A client span per call, and `traceparent` on the request so the peer joins the trace."""
    if provider is not None:
        HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)


def instrument_engine(engine: AsyncEngine, provider: TracerProvider | None) -> None:
    """A span per SQL statement, inside the request's span."""
    if provider is not None:
        # Per engine, with this app's provider (SQLAlchemyInstrumentor().instrument() is a
        # process-wide singleton that refuses a second app).
        tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
        # Connection-pool usage would be an OpenTelemetry metric; metrics are Prometheus here.
        usage = NoOpMeterProvider().get_meter(__name__).create_up_down_counter("unused")
        EngineTracer(tracer, engine.sync_engine, usage)
