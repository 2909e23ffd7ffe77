"""Benchmark: a billing brownout (every other call hangs past the timeout), breaker on vs off.

The BFF and the real ordering and billing apps run in this process (SQLite files in a temporary
directory); faults are injected in the link between the BFF and billing (tests/bff/transports.py).
Concurrent clients read `orders { invoice }` for `--seconds`, first with the circuit breaker as
configured by default, then with it effectively off, interleaved `--rounds` times. Per run: the
requests answered, p50/p99 latency, how many answers kept ordering's data, and the calls that
reached billing per second.

    .venv/bin/python -m benchmarks.bff_brownout             # 2 rounds of 2 x 10 s
    .venv/bin/python -m benchmarks.bff_brownout --quick     # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx

from bff.app import create_app
from bff.settings import BffSettings
from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from service_procs.asgi import serving
from service_procs.transports import Fault, UpstreamLink

TOKEN = "bench-token"
# Ordering's data beside a billing read that differs per request (identical reads in flight
# would share one call, hiding what the breaker saves).
QUERY = "{ orders(first: 3) { edges { node { number } } } invoiceByNumber(number: %d) { number } }"
ORDER = {
    "customer": {"name": "Ada", "email": "ada@example.com"},
    "lines": [{"sku": "A", "quantity": 1, "unitPrice": "1.00"}],
}


async def run(root: Path, seconds: float, clients: int, breaker: bool) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "cache_ttl": 0,
        "upstream_timeout": 1.0,
    }
    if not breaker:
        overrides["breaker_min_calls"] = overrides["breaker_window"] = 1_000_000
    async with AsyncExitStack() as stack:
        ordering = await stack.enter_async_context(
            serving(
                create_ordering_app(
                    OrderingSettings(
                        database_url=f"sqlite+aiosqlite:///{root / 'o.db'}", service_token=TOKEN
                    )
                )
            )
        )
        billing = await stack.enter_async_context(
            serving(
                create_billing_app(
                    BillingSettings(
                        database_url=f"sqlite+aiosqlite:///{root / 'b.db'}",
                        service_token=TOKEN,
                        pull_enabled=False,
                        ordering_url="http://ordering.internal",
                    ),
                    ordering_transport=httpx.ASGITransport(app=ordering),
                )
            )
        )
        billing_link = UpstreamLink(httpx.ASGITransport(app=billing))
        settings = BffSettings(
            ordering_url="http://ordering.internal",
            billing_url="http://billing.internal",
            cache_url="memory://",
            service_token=TOKEN,
            # One load generator is one client: the per-client limits are not what this measures.
            rate_limit="",
            client_in_flight=0,
            # Sign-in is not what this measures (BFF_AUTH=none: development runs only).
            auth="none",
            app_env="development",
            web_dir=root / "web",
            **overrides,
        )
        bff_app = await stack.enter_async_context(
            serving(
                create_app(settings, UpstreamLink(httpx.ASGITransport(app=ordering)), billing_link)
            )
        )
        bff = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=bff_app), base_url="http://bff.test"
            )
        )
        peer = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=billing),
                base_url="http://billing.internal",
                headers={"authorization": f"Bearer {TOKEN}"},
            )
        )
        for _ in range(3):
            created = await bff.post(
                "/graphql",
                json={
                    "query": "mutation($i: OrderInput!) { createOrder(input: $i) { number } }",
                    "variables": {"i": ORDER},
                },
            )
            number = created.json()["data"]["createOrder"]["number"]
            await bff.post(
                "/graphql",
                json={"query": f"mutation {{ confirmOrder(number: {number}) {{ invoiceLink }} }}"},
            )
        await peer.post("/sync/run")
        billing_link.reset()
        billing_link.fault = Fault.BROWNOUT

        latencies: list[float] = []
        with_orders = 0
        sequence = iter(range(1, 10**9))
        started = time.monotonic()

        async def client() -> None:
            nonlocal with_orders
            while time.monotonic() - started < seconds:
                sent = time.monotonic()
                query = QUERY % next(sequence)
                body = (await bff.post("/graphql", json={"query": query})).json()
                latencies.append(time.monotonic() - sent)
                orders = body["data"]["orders"]
                with_orders += orders is not None and len(orders["edges"]) == 3

        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.monotonic() - started
        latencies.sort()
        return {
            "requests": len(latencies),
            "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "with_orders": with_orders,
            "billing_calls_per_s": len(billing_link.times) / elapsed,
            "requests_per_s": len(latencies) / elapsed,
        }


async def main_async(seconds: float, rounds: int, clients: int) -> None:
    print(
        f"{'breaker':>8} {'requests':>9} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'with orders':>12} {'billing calls/s':>16}"
    )
    for _ in range(rounds):
        for breaker in (True, False):
            with tempfile.TemporaryDirectory() as root:
                r = await run(Path(root), seconds, clients, breaker)
            print(
                f"{'on' if breaker else 'off':>8} {r['requests']:>9} {r['requests_per_s']:>6.1f}"
                f" {r['p50_ms']:>7.0f} {r['p99_ms']:>7.0f}"
                f" {r['with_orders']:>5}/{r['requests']:<6} {r['billing_calls_per_s']:>16.1f}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds = 2.0, 1
    asyncio.run(main_async(args.seconds, args.rounds, args.clients))
    return 0


if __name__ == "__main__":
    sys.exit(main())
