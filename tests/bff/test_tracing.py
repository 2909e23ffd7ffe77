"""OpenTelemetry: one trace from the browser's request through the BFF to ordering, and
nothing installed when no exporter is configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from bff.app import create_app
from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from service_http.tracing import tracer_provider_from_env
from tests.bff.conftest import CONFIRM, CREATE, ORDER_INPUT, TOKEN, bff_settings
from tests.bff.transports import UpstreamLink
from tests.support.accounts import EVERY_ROLE, add_user, sign_in
from tests.support.asgi import serving

Traced = tuple[httpx.AsyncClient, InMemorySpanExporter, UpstreamLink]
BROWSER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
BROWSER_SPAN = "00f067aa0ba902b7"


def provider(service: str, exporter: InMemorySpanExporter) -> TracerProvider:
    traced = TracerProvider(resource=Resource.create({"service.name": service}))
    traced.add_span_processor(SimpleSpanProcessor(exporter))
    return traced


@pytest.fixture
async def traced_bff(
    tmp_path: Path,
) -> AsyncIterator[Traced]:
    """The BFF, ordering and billing in process, each with its own provider, all exporting to
    one in-memory exporter; the BFF reaches the services through ASGI transports."""
    exporter = InMemorySpanExporter()
    async with AsyncExitStack() as stack:
        ordering = await stack.enter_async_context(
            serving(
                create_ordering_app(
                    OrderingSettings(
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'ordering.db'}",
                        service_token=TOKEN,
                    ),
                    tracer_provider=provider("ordering", exporter),
                )
            )
        )
        billing = await stack.enter_async_context(
            serving(
                create_billing_app(
                    BillingSettings(
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}",
                        service_token=TOKEN,
                        pull_enabled=False,
                        ordering_url="http://ordering.internal",
                    ),
                    ordering_transport=httpx.ASGITransport(app=ordering),
                    tracer_provider=provider("billing", exporter),
                )
            )
        )
        ordering_link = UpstreamLink(httpx.ASGITransport(app=ordering))
        settings = bff_settings(tmp_path)
        await add_user(settings.database_url, "tester", EVERY_ROLE)
        bff = await stack.enter_async_context(
            serving(
                create_app(
                    settings,
                    ordering_link,
                    httpx.ASGITransport(app=billing),
                    tracer_provider=provider("bff", exporter),
                )
            )
        )
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=bff), base_url="http://bff.test")
        )
        await sign_in(client, "tester")
        exporter.clear()  # the tests look at their own requests' spans only
        yield client, exporter, ordering_link


def service(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])


async def test_confirm_order_is_one_trace_from_the_browser_to_ordering(
    traced_bff: Traced,
) -> None:
    bff, exporter, ordering_link = traced_bff
    created = await bff.post(
        "/graphql", json={"query": CREATE, "variables": {"input": ORDER_INPUT}}
    )
    number = created.json()["data"]["createOrder"]["number"]
    exporter.clear()

    # The browser's request carries W3C trace context (a browser tracer, or a proxy, made it).
    response = await bff.post(
        "/graphql",
        json={"query": CONFIRM, "variables": {"number": number}},
        headers={"traceparent": f"00-{BROWSER_TRACE}-{BROWSER_SPAN}-01"},
    )
    assert response.status_code == 200 and "errors" not in response.json()

    finished = [s for s in exporter.get_finished_spans() if s.context is not None]
    spans = [s for s in finished if format(s.context.trace_id, "032x") == BROWSER_TRACE]
    # The only spans outside the browser's trace are background work the confirm set off
    # (ordering's assigner numbering the change): SQL in traces of their own.
    others = [s for s in finished if s not in spans]
    assert all(service(s) == "ordering" and s.kind is SpanKind.CLIENT for s in others), others

    by_id = {s.context.span_id: s for s in spans}
    bff_server = next(s for s in spans if service(s) == "bff" and s.kind is SpanKind.SERVER)
    assert bff_server.name == "POST /graphql"
    assert (
        bff_server.parent is not None and format(bff_server.parent.span_id, "016x") == BROWSER_SPAN
    )

    # In process the BFF's client span is still current when ordering's middleware starts, so
    # it makes an INTERNAL span (SERVER across processes); its parent is the same either way.
    ordering_server = next(
        s for s in spans if service(s) == "ordering" and s.name.startswith("POST /orders")
    )
    assert ordering_server.name == "POST /orders/{number:int}/confirm"
    # What crossed the wire: W3C trace context on the BFF's request to ordering.
    (confirm_call,) = [r for r in ordering_link.calls if r.url.path.endswith("/confirm")]
    assert confirm_call.headers["traceparent"].startswith(f"00-{BROWSER_TRACE}-")
    # Its parent is the BFF's client span for the call, whose parent chain reaches the BFF's
    # server span: the headers went through the transport.
    assert ordering_server.parent is not None
    client_span = by_id[ordering_server.parent.span_id]
    assert service(client_span) == "bff" and client_span.kind is SpanKind.CLIENT
    ancestor = client_span
    while ancestor.parent is not None and ancestor.parent.span_id in by_id:
        ancestor = by_id[ancestor.parent.span_id]
    assert ancestor is bff_server

    # Ordering's SQL ran inside its request's span.
    sql = [s for s in spans if service(s) == "ordering" and s.kind is SpanKind.CLIENT]
    assert sql, "SQLAlchemy statements are traced"
    assert all(s.attributes and "db.system" in s.attributes for s in sql)


async def test_a_request_without_trace_context_starts_one_trace(
    traced_bff: Traced,
) -> None:
    bff, exporter, _ = traced_bff
    response = await bff.post(
        "/graphql", json={"query": CREATE, "variables": {"input": ORDER_INPUT}}
    )
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    (bff_server,) = [s for s in spans if s.name == "POST /graphql"]
    assert bff_server.parent is None, "the BFF is the edge: it starts the trace"
    in_trace = [s for s in spans if s.context.trace_id == bff_server.context.trace_id]
    assert any(service(s) == "ordering" and s.name == "POST /orders" for s in in_trace)
    # Probes are not traced.
    exporter.clear()
    assert (await bff.get("/healthz")).status_code == 200
    assert exporter.get_finished_spans() == ()


def test_tracing_is_off_without_an_exporter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    app = create_app(bff_settings(tmp_path))
    assert not any(m.cls is OpenTelemetryMiddleware for m in app.user_middleware)


def test_the_sdk_variables_choose_the_exporter() -> None:
    assert tracer_provider_from_env("bff", {}) is None
    assert tracer_provider_from_env("bff", {"OTEL_TRACES_EXPORTER": "none"}) is None
    disabled = {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    assert tracer_provider_from_env("bff", disabled) is None
    assert (
        tracer_provider_from_env(
            "bff",
            {
                "OTEL_TRACES_EXPORTER": "none",
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
            },
        )
        is None
    )
    otlp = tracer_provider_from_env("bff", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert otlp is not None
    assert otlp.resource.attributes["service.name"] == "bff"
    otlp.shutdown()
    console = tracer_provider_from_env("ordering", {"OTEL_TRACES_EXPORTER": "console"})
    assert console is not None
    processor = console._active_span_processor._span_processors[0]
    assert isinstance(getattr(processor, "span_exporter", None), ConsoleSpanExporter)
    console.shutdown()
