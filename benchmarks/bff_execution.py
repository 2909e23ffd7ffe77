"""Benchmark: the BFF's own CPU per query, planned execution against graphql-core's.

Ordering and billing run in process (SQLite in a temporary directory) and are seeded with the
page of `bff_peers` (50 confirmed orders, 48 with an invoice). Each upstream answer the BFF asks
for is recorded once and then replayed from memory, so what is timed is the BFF alone: its
HTTP view, the upstream client parsing the answers, GraphQL execution and JSON encoding. Two
BFF apps with their cache off, one with `planned_execution` (bff/planned_execution.py) and one
running graphql-core's executor unchanged, answer each query in interleaved rounds (the order
rotates every round); CPU time (`time.process_time`) per query is taken per round and the
ratio planned ÷ graphql-core reported as min / median / max. Both must answer byte for byte
the same, or the run fails.

    .venv/bin/python -m benchmarks.bff_execution             # full run (~1 min)
    .venv/bin/python -m benchmarks.bff_execution --quick     # smoke run, figures meaningless
    # a profile of one contender (py-spy installed into the venv):
    .venv/bin/py-spy record -o /tmp/planned.svg -- \
        .venv/bin/python -m benchmarks.bff_execution --only planned --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bff.app import create_app
from bff.settings import BffSettings
from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from service_procs.asgi import serving
from service_procs.processes import REPO_ROOT

TOKEN = "bench-service-token"
PAGE_SIZE = 50
WITHOUT_INVOICE = 2
DEFAULT_OUTPUT = REPO_ROOT / "artifacts" / "bench" / "bff_execution.json"

# The peer benchmark's page, and the web app's order list screen (web/screens/orders.js).
QUERIES = {
    "peer_page": (
        "{ orders(first: 50, status: CONFIRMED) { edges { node { number status total "
        "customer { name } invoice { number status amount } } } } }",
        {},
    ),
    "orders_screen": (
        "query Orders($status: OrderStatus, $first: Int!, $after: String) {"
        " orders(status: $status, first: $first, after: $after) {"
        " edges { cursor node { number status currency total createdAt"
        " customer { name email } lines { sku } invoice { number status } } }"
        " pageInfo { hasNextPage endCursor } } }",
        {"status": "CONFIRMED", "first": 50},
    ),
}
PLANNED, GRAPHQL_CORE = "planned", "graphql_core"
CONTENDERS = (PLANNED, GRAPHQL_CORE)


@dataclass(frozen=True)
class Profile:
    name: str
    rounds: int
    queries: int  # per contender, query and round


FULL = Profile("full", rounds=8, queries=40)
QUICK = Profile("quick", rounds=1, queries=2)


class Replay(httpx.AsyncBaseTransport):
    """Forwards each distinct request once, then answers it from memory."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.answers: dict[tuple[str, str], tuple[int, list[tuple[bytes, bytes]], bytes]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, str(request.url))
        if key not in self.answers:
            response = await self.inner.handle_async_request(request)
            content = await response.aread()
            self.answers[key] = (response.status_code, list(response.headers.raw), content)
        status, headers, content = self.answers[key]
        return httpx.Response(status, headers=headers, content=content, request=request)


def _order_input(i: int) -> dict[str, Any]:
    lines = [
        {"sku": f"SKU-{i}-{j}", "description": f"Part {j}", "quantity": 1 + j, "unit_price": "2.50"}
        for j in range(1 + i % 3)
    ]
    name = {"name": f"Customer {i}", "email": f"customer{i}@example.com"}
    return {"customer": name, "currency": "EUR", "lines": lines}


async def seed(ordering: httpx.AsyncClient, billing: httpx.AsyncClient) -> None:
    async def confirmed_order(i: int) -> None:
        created = await ordering.post("/orders", json=_order_input(i))
        created.raise_for_status()
        number = created.json()["number"]
        (await ordering.post(f"/orders/{number}/confirm")).raise_for_status()

    for i in range(PAGE_SIZE - WITHOUT_INVOICE):
        await confirmed_order(i)
    (await billing.post("/sync/run", timeout=120.0)).raise_for_status()
    for i in range(PAGE_SIZE - WITHOUT_INVOICE, PAGE_SIZE):
        await confirmed_order(i)


def _bff_settings(root: Path, planned: bool) -> BffSettings:
    return BffSettings(
        ordering_url="http://ordering.internal",
        billing_url="http://billing.internal",
        service_token=TOKEN,
        cache_ttl=0,
        rate_limit="",
        client_in_flight=0,
        planned_execution=planned,
        # Sign-in is not what is measured (as in bff_peers.py): no session lookup.
        auth="none",
        app_env="development",
        web_dir=root / "web",
    )


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> bytes:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    if response.status_code != 200:
        raise RuntimeError(f"the BFF answered {response.status_code}: {response.text[:2000]}")
    return response.content


async def run(profile: Profile, only: str | None, seconds: float) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-exec-")))
        ordering_asgi = await stack.enter_async_context(
            serving(
                create_ordering_app(
                    OrderingSettings(
                        database_url=f"sqlite+aiosqlite:///{root / 'ordering.db'}",
                        service_token=TOKEN,
                    )
                )
            )
        )
        billing_asgi = await stack.enter_async_context(
            serving(
                create_billing_app(
                    BillingSettings(
                        database_url=f"sqlite+aiosqlite:///{root / 'billing.db'}",
                        service_token=TOKEN,
                        pull_enabled=False,
                        ordering_url="http://ordering.internal",
                    ),
                    ordering_transport=httpx.ASGITransport(app=ordering_asgi),
                )
            )
        )
        peer = {"authorization": f"Bearer {TOKEN}"}
        ordering = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=ordering_asgi),
                base_url="http://ordering.internal",
                headers=peer,
            )
        )
        billing = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=billing_asgi),
                base_url="http://billing.internal",
                headers=peer,
            )
        )
        await seed(ordering, billing)
        ordering_replay = Replay(httpx.ASGITransport(app=ordering_asgi))
        billing_replay = Replay(httpx.ASGITransport(app=billing_asgi))
        clients: dict[str, httpx.AsyncClient] = {}
        for name in CONTENDERS:
            app = await stack.enter_async_context(
                serving(
                    create_app(
                        _bff_settings(root, planned=name == PLANNED),
                        ordering_replay,
                        billing_replay,
                    )
                )
            )
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://localhost"
                )
            )

        for label, (query, variables) in QUERIES.items():
            answers = {name: await _post(clients[name], query, variables) for name in CONTENDERS}
            if len(set(answers.values())) != 1:
                raise RuntimeError(f"{label}: the contenders answered differently")
            data = json.loads(answers[PLANNED])
            if "errors" in data or len(data["data"]["orders"]["edges"]) != PAGE_SIZE:
                raise RuntimeError(f"{label}: not the seeded page: {str(data)[:2000]}")

        if only is not None:
            # For a profiler attached to this process: one contender, first query, for a while.
            query, variables = QUERIES["peer_page"]
            deadline = time.monotonic() + seconds
            count = 0
            while time.monotonic() < deadline:
                await _post(clients[only], query, variables)
                count += 1
            return {"only": only, "queries": count}

        cpu: dict[str, dict[str, list[float]]] = {
            label: {name: [] for name in CONTENDERS} for label in QUERIES
        }
        for round_number in range(profile.rounds):
            shift = round_number % len(CONTENDERS)
            order = CONTENDERS[shift:] + CONTENDERS[:shift]
            for label, (query, variables) in QUERIES.items():
                for name in order:
                    before = time.process_time()
                    for _ in range(profile.queries):
                        await _post(clients[name], query, variables)
                    spent = time.process_time() - before
                    cpu[label][name].append(1000 * spent / profile.queries)

    results: dict[str, Any] = {}
    for label, per_name in cpu.items():
        ratios = [
            p / g for p, g in zip(per_name[PLANNED], per_name[GRAPHQL_CORE], strict=True) if g > 0
        ]
        results[label] = {
            "cpu_ms_per_query_median": {
                name: round(statistics.median(values), 3) for name, values in per_name.items()
            },
            "planned_over_graphql_core": {
                "min": round(min(ratios), 3),
                "median": round(statistics.median(ratios), 3),
                "max": round(max(ratios), 3),
            }
            if ratios
            else None,
        }
    return {
        "benchmark": "bff_execution",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": profile.name,
        "command": " ".join(["python -m benchmarks.bff_execution", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "rounds": profile.rounds,
        "queries_per_round": profile.queries,
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run; figures meaningless")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--only", choices=CONTENDERS, help="loop one contender (for py-spy)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long --only loops")
    args = parser.parse_args(argv)
    report = asyncio.run(run(QUICK if args.quick else FULL, args.only, args.seconds))
    if args.only is None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        for label, figures in report["results"].items():
            ms = figures["cpu_ms_per_query_median"]
            ratio = figures["planned_over_graphql_core"]
            print(
                f"{label}: CPU ms/query planned {ms[PLANNED]}, graphql-core {ms[GRAPHQL_CORE]};"
                f" planned ÷ graphql-core per round min/median/max"
                f" {ratio['min']} / {ratio['median']} / {ratio['max']}"
            )
        print(f"JSON: {args.output}")
    else:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
