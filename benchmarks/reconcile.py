"""Benchmark: reconciliation of billing's copy with ordering, against comparing every row.

One run (SQLite by default, PostgreSQL too with `--databases`):

1. seeds ordering with N confirmed orders (benchmarks.initial_sync's seeding) and starts it as a
   uvicorn process, then an empty billing that pulls them all (`POST /sync/run`);
2. contenders, in the same process, against the same ordering process and billing database,
   interleaved round by round:
   - `reconcile`: billing_api.reconcile (count + checksum per range of 1,000 numbers, then row
     by row only where a range differs);
   - `every row`: the baseline, the same digests compared row by row for every order (ordering's
     `GET /orders/digests` over all numbers, 10,000 a request), no range step;
   first with the copies in sync, then with `--planted` orders changed in billing's copy (spread
   over as many ranges), which both must find.

    .venv/bin/python -m benchmarks.reconcile                 # 100,000 orders, SQLite (~3 min)
    .venv/bin/python -m benchmarks.reconcile --quick         # smoke: 2,000 orders
    .venv/bin/python -m benchmarks.reconcile --databases sqlite,postgresql

Results: a table on stdout and JSON in `artifacts/bench/reconcile.json` (`--output`).
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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.initial_sync import (
    SERVICE_TOKEN,
    _billing,
    _ordering,
    _terminate_on_sigterm,
    seed_ordering,
    timed_sync,
)
from benchmarks.servers import postgres_server
from billing_api.db import create_engine, create_sessions, read_only
from billing_api.ordering_client import OrderingClient
from billing_api.reconcile import _local, reconcile
from service_db.engine import Sessions
from service_http.order_digest import hex64
from service_procs.processes import REPO_ROOT

DEFAULT_OUTPUT = REPO_ROOT / "artifacts" / "bench" / "reconcile.json"
DIGESTS_PER_REQUEST = 10_000


async def every_row(sessions: Sessions, client: OrderingClient) -> int:
    """The baseline: every order's digest from ordering, compared with billing's; differences."""
    local = await _local(sessions, 1000)
    highest = max(local.orders, default=0)
    remote: dict[int, str] = {}
    first = 1
    while True:
        found = (await client.fetch_digests(first, DIGESTS_PER_REQUEST)).orders
        remote.update((d.number, d.digest) for d in found)
        first += DIGESTS_PER_REQUEST
        if first > highest and not found:
            break
    differing = 0
    for number in {*remote, *local.orders}:
        mine = local.orders.get(number)
        if mine is None or number not in remote or hex64(mine[0]) != remote[number]:
            differing += 1
    return differing


async def _plant(billing_url: str, count: int, orders: int) -> list[int]:
    """Change `count` orders of billing's copy, spread over the number space."""
    step = max(1, orders // count)
    numbers = list(range(1, orders + 1, step))[:count]
    engine = create_engine(billing_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE local_orders SET total = '0.01' WHERE number = :n"),
                [{"n": n} for n in numbers],
            )
    finally:
        await engine.dispose()
    return numbers


async def _rounds(
    contenders: Mapping[str, Callable[[], Awaitable[int]]], rounds: int, expected: int
) -> dict[str, Any]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, contender in contenders.items():  # interleaved: same load for both
            started = time.perf_counter()
            found = await contender()
            samples[name].append(time.perf_counter() - started)
            if found != expected:
                raise RuntimeError(f"{name} found {found} differences, expected {expected}")
    medians = {name: statistics.median(s) for name, s in samples.items()}
    return {
        "median_seconds": {name: round(m, 3) for name, m in medians.items()},
        "samples_seconds": {name: [round(x, 3) for x in s] for name, s in samples.items()},
        "every_row_over_reconcile": round(medians["every row"] / medians["reconcile"], 2),
    }


async def run_database(
    kind: str, orders: int, planted: int, rounds: int, workdir: Path, pg: Any
) -> dict[str, Any]:
    if kind == "postgresql":
        ordering_url = pg.create_database("bench_reconcile_ordering")
        billing_url = pg.create_database("bench_reconcile_billing")
    else:
        ordering_url = f"sqlite+aiosqlite:///{workdir / 'ordering.db'}"
        billing_url = f"sqlite+aiosqlite:///{workdir / 'billing.db'}"
    await seed_ordering(ordering_url, orders)
    with ExitStack() as stack:
        ordering = stack.enter_context(_ordering(ordering_url, workdir, f"ordering-{kind}"))
        billing = stack.enter_context(
            _billing(billing_url, ordering, workdir, f"billing-{kind}", 1000)
        )
        sync = await timed_sync(billing, orders)
        engine = create_engine(billing_url)
        client = OrderingClient(ordering.url, SERVICE_TOKEN, 120.0)
        sessions = create_sessions(read_only(engine))
        try:

            async def by_ranges() -> int:
                report = await reconcile(sessions, client)
                return len(report.missing) + len(report.extra) + len(report.different)

            async def by_rows() -> int:
                return await every_row(sessions, client)

            contenders = {"reconcile": by_ranges, "every row": by_rows}
            in_sync = await _rounds(contenders, rounds, 0)
            await _plant(billing_url, planted, orders)
            differing = await _rounds(contenders, rounds, planted)
            # Also through billing's REST route, as an operator asks for it.
            async with httpx.AsyncClient(
                base_url=billing.url,
                headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
                timeout=600,
            ) as http:
                started = time.perf_counter()
                answer = await http.get("/sync/reconciliation")
                rest_seconds = time.perf_counter() - started
                answer.raise_for_status()
                if len(answer.json()["different"]) != planted:
                    raise RuntimeError("the REST report missed planted differences")
        finally:
            await client.aclose()
            await engine.dispose()
    return {
        "orders": orders,
        "planted": planted,
        "initial_sync_seconds": round(sync["seconds"], 3),
        "in_sync": in_sync,
        "with_differences": differing,
        "rest_seconds_with_differences": round(rest_seconds, 3),
    }


def table(results: dict[str, Any]) -> str:
    rows = [
        "| database | orders | case | reconcile (s) | every row (s) | every row / reconcile |",
        "|---|---|---|---|---|---|",
    ]
    for kind, figures in results.items():
        for case in ("in_sync", "with_differences"):
            f = figures[case]
            label = "in sync" if case == "in_sync" else f"{figures['planted']} planted"
            rows.append(
                f"| {kind} | {figures['orders']} | {label} | {f['median_seconds']['reconcile']} "
                f"| {f['median_seconds']['every row']} | {f['every_row_over_reconcile']} |"
            )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Reconciliation against comparing every row.")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 orders, 1 round")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--planted", type=int, default=50, help="orders changed in billing")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--databases", default="sqlite", help="sqlite,postgresql")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    orders, planted, rounds = (
        (2000, 10, 1) if args.quick else (args.orders, args.planted, args.rounds)
    )
    databases = [kind for kind in args.databases.split(",") if kind]
    if unknown := set(databases) - {"sqlite", "postgresql"}:
        parser.error(f"unknown databases: {', '.join(sorted(unknown))}")
    started = datetime.now(UTC)
    results: dict[str, Any] = {}
    with (
        _terminate_on_sigterm(),
        tempfile.TemporaryDirectory(prefix="bench-rec-") as tmp,
        ExitStack() as stack,
    ):
        pg = stack.enter_context(postgres_server()) if "postgresql" in databases else None
        for kind in databases:
            workdir = Path(tmp) / kind
            workdir.mkdir()
            results[kind] = asyncio.run(run_database(kind, orders, planted, rounds, workdir, pg))
    report = {
        "benchmark": "reconcile",
        "profile": "quick" if args.quick else "full",
        "started_at": started.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(table(results))
    print(f"\nJSON: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
