"""Benchmark: what observability costs the BFF per request, CPU time, interleaved.

Three builds of the same BFF, in front of the same ordering and billing apps (all in process,
through ASGI transports, so nothing but CPU is measured):
- `bare`: the request-id and metrics middleware taken out, every metrics hook unset;
- `observed`: as shipped with tracing off (no exporter configured): request ids and metrics;
- `traced`: as shipped with tracing on (spans made and batched to an exporter that drops them).

Two reads: one answered from the whole-response cache (the cheapest request, where a fixed
per-request cost shows most) and one with the caches off (a full GraphQL execution and two
upstream calls, whose CPU is counted too). Rounds alternate the builds (each round starting with
the next one), and the report gives each build's median CPU per request as a ratio to `bare`.

    .venv/bin/python -m benchmarks.observability_overhead          # ~1 minute
    .venv/bin/python -m benchmarks.observability_overhead --quick  # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from starlette.applications import Starlette
from starlette.routing import Route

from bff.app import create_app
from bff.graphql_http import STATE_KEY
from bff.settings import BffSettings
from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from service_http.metrics import HttpMetricsMiddleware
from service_http.request_id import RequestIdMiddleware
from service_procs.asgi import started

TOKEN = "benchmark-token"
QUERY = "{ orders(first: 20) { edges { node { number total invoice { number status } } } } }"
BUILDS = ("bare", "observed", "traced")


class DroppingExporter(SpanExporter):
    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def strip_observability(app: Starlette, state: dict[str, Any]) -> None:
    """The `bare` build: no request-id or metrics middleware, no metrics hooks."""
    app.user_middleware = [
        m for m in app.user_middleware if m.cls not in (RequestIdMiddleware, HttpMetricsMiddleware)
    ]
    app.middleware_stack = None  # rebuilt on the next request
    upstreams = state[STATE_KEY]
    upstreams.ordering._metrics = None
    upstreams.billing._metrics = None
    upstreams.cache.metrics = None
    for route in app.routes:
        if isinstance(route, Route) and route.path == "/graphql":
            response_cache = route.app
            response_cache.metrics = None  # type: ignore[attr-defined]
            response_cache.app.metrics = None  # type: ignore[attr-defined]


async def seed(ordering: httpx.AsyncClient, billing: httpx.AsyncClient, orders: int) -> None:
    body = {
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "currency": "EUR",
        "lines": [{"sku": "A", "quantity": 2, "unit_price": "1.50"}],
    }
    for _ in range(orders):
        number = (await ordering.post("/orders", json=body)).json()["number"]
        await ordering.post(f"/orders/{number}/confirm")
    (await billing.post("/sync/run")).raise_for_status()


async def cpu_per_request(client: httpx.AsyncClient, requests: int) -> float:
    started_at = time.process_time()
    for _ in range(requests):
        response = await client.post("/graphql", json={"query": QUERY})
        if response.status_code != 200 or b'"errors"' in response.content:
            raise RuntimeError(f"unexpected answer: {response.status_code} {response.text[:200]}")
    return (time.process_time() - started_at) / requests


async def measure(rounds: int, requests: int, workdir: Path) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, list[float]]] = {
        path: {b: [] for b in BUILDS} for path in ("response cache hit", "caches off")
    }
    async with AsyncExitStack() as stack:
        ordering = await stack.enter_async_context(
            started(
                create_ordering_app(
                    OrderingSettings(
                        database_url=f"sqlite+aiosqlite:///{workdir / 'ordering.db'}",
                        service_token=TOKEN,
                    )
                )
            )
        )
        billing = await stack.enter_async_context(
            started(
                create_billing_app(
                    BillingSettings(
                        database_url=f"sqlite+aiosqlite:///{workdir / 'billing.db'}",
                        service_token=TOKEN,
                        pull_enabled=False,
                        ordering_url="http://ordering.internal",
                    ),
                    ordering_transport=httpx.ASGITransport(app=ordering.asgi),
                )
            )
        )
        peers = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app.asgi),
                    base_url="http://peer.internal",
                    headers={"authorization": f"Bearer {TOKEN}"},
                )
            )
            for app in (ordering, billing)
        ]
        await seed(peers[0], peers[1], 20)

        clients: dict[tuple[str, str], httpx.AsyncClient] = {}
        for path, ttl in (("response cache hit", 3600.0), ("caches off", 0.0)):
            for build in BUILDS:
                settings = BffSettings(
                    ordering_url="http://ordering.internal",
                    billing_url="http://billing.internal",
                    service_token=TOKEN,
                    cache_ttl=ttl,
                    rate_limit="",
                    client_in_flight=0,
                    # Sign-in is not what is measured (as in bff_peers.py): no session lookup.
                    auth="none",
                    app_env="development",
                    web_dir=workdir / "web",
                )
                provider = None
                if build == "traced":
                    provider = TracerProvider()
                    provider.add_span_processor(BatchSpanProcessor(DroppingExporter()))
                    stack.callback(provider.shutdown)
                app = create_app(
                    settings,
                    httpx.ASGITransport(app=ordering.asgi),
                    httpx.ASGITransport(app=billing.asgi),
                    tracer_provider=provider,
                )
                running = await stack.enter_async_context(started(app))
                if build == "bare":
                    strip_observability(app, running.state)
                clients[path, build] = await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=running.asgi), base_url="http://bff.test"
                    )
                )
        for client in clients.values():
            await cpu_per_request(client, 5)  # warm: caches filled, documents parsed
        for index in range(rounds):
            # Each round starts with the next build, so none always follows another (garbage
            # one leaves is collected during the next).
            order = BUILDS[index % 3 :] + BUILDS[: index % 3]
            for path, builds in results.items():
                for build in order:
                    builds[build].append(await cpu_per_request(clients[path, build], requests))
    return {
        path: {b: statistics.median(v) for b, v in builds.items()}
        for path, builds in results.items()
    }


def report(medians: dict[str, dict[str, float]]) -> str:
    lines = ["path                 build      CPU us/request  x bare"]
    for path, builds in medians.items():
        for build, seconds in builds.items():
            ratio = seconds / builds["bare"]
            lines.append(f"{path:<20} {build:<10} {seconds * 1e6:>14.1f}  {ratio:>6.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 short rounds")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--output", type=Path, help="also write the medians here (JSON)")
    args = parser.parse_args(argv)
    rounds, requests = (2, 10) if args.quick else (args.rounds, args.requests)
    with tempfile.TemporaryDirectory() as workdir:
        medians = asyncio.run(measure(rounds, requests, Path(workdir)))
    print(f"{rounds} interleaved rounds of {requests} requests per build and path")
    print(report(medians))
    if args.output is not None:
        args.output.write_text(json.dumps(medians, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
