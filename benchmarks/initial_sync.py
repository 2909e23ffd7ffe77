"""Benchmark: how fast billing replicates ordering, against the database's own floor.

For each database (SQLite, then PostgreSQL) and each size N, one run:

1. seeds an ordering database with N confirmed orders (1-3 lines each) through the real
   assigner path: the rows are bulk-inserted as ordering's rules leave a confirmed order
   (published, `change_seq` NULL, i.e. pending), then ordering's own `run_assigner` numbers the
   backlog. That numbering is timed: it is the assigner figure (linear: per-order time flat);
2. starts ordering (on that database) and an empty billing as uvicorn processes, calls billing's
   `POST /sync/run` once and times it until every order and invoice is in: the initial sync;
3. right after, on another empty billing database, writes the same rows billing ends up with
   (`local_orders` with their lines, `invoices`) with plain `executemany` INSERTs, one
   transaction per page-size chunk: the raw-copy floor. sync / floor is the figure to read.

Then, per database, on fresh small databases: the deep link's latency (create + confirm an order
on ordering, then time `GET /link/new_order/{n}` on billing, sequentially, quiet), and on SQLite
ordering's confirm latency under 8 concurrent writers (each creating and confirming orders).

    .venv/bin/python -m benchmarks.initial_sync              # full: 10k / 50k / 100k (~10 min)
    .venv/bin/python -m benchmarks.initial_sync --quick      # smoke: 1,000 orders, both DBs
    .venv/bin/python -m benchmarks.initial_sync --sizes 100000 --databases sqlite

Results: a table on stdout and JSON in `artifacts/bench/initial_sync.json` (`--output`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

if __package__ in (None, ""):
    # Run as a file (`python benchmarks/initial_sync.py`): make the repository importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.driver_gc import quiet_driver_gc
from benchmarks.servers import PostgresServer, postgres_server
from billing_api.db import create_schema as create_billing_schema
from billing_api.models import Invoice, LocalOrder
from ordering_api.db import create_engine
from ordering_api.db import create_schema as create_ordering_schema
from ordering_api.feed import ASSIGN_BATCH, backlog_batch, ensure_feed_counter, run_assigner
from ordering_api.models import Order, OrderLine
from service_db.engine import create_sessions, read_only
from service_db.paging import search_text
from service_procs.ports import free_port
from service_procs.processes import REPO_ROOT, ServiceProcess, service_env

SERVICE_TOKEN = "bench-service-token"
DEFAULT_OUTPUT = REPO_ROOT / "artifacts" / "bench" / "initial_sync.json"
SEED_CHUNK = 5000
DATABASES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Profile:
    name: str
    sizes: tuple[int, ...]
    page_size: int
    deeplink_samples: int
    writers: int
    confirms_per_writer: int


FULL = Profile("full", (10_000, 50_000, 100_000), 1000, 200, 8, 50)
QUICK = Profile("quick", (1_000,), 1000, 20, 8, 5)


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def latency_figures(samples_ms: Sequence[float]) -> dict[str, Any]:
    return {
        "samples": len(samples_ms),
        "median_ms": round(statistics.median(samples_ms), 2),
        "p95_ms": round(percentile(samples_ms, 0.95), 2),
        "p99_ms": round(percentile(samples_ms, 0.99), 2),
        "max_ms": round(max(samples_ms), 2),
    }


# --------------------------------------------------------------------------- databases


class Databases:
    """Fresh database URLs for one kind (a file in a temp dir, or a database on one server)."""

    def __init__(self, kind: str, workdir: Path, pg: PostgresServer | None) -> None:
        self.kind, self.workdir, self.pg = kind, workdir, pg
        self._count = 0

    def new(self, label: str) -> str:
        self._count += 1
        name = f"{label}_{self._count}"
        if self.kind == "sqlite":
            return f"sqlite+aiosqlite:///{self.workdir / name}.db"
        assert self.pg is not None
        return self.pg.create_database(name)


# --------------------------------------------------------------------------- seeding


def _order_rows(start: int, count: int, base: datetime) -> tuple[list[dict[str, Any]], list[dict]]:
    """Confirmed orders as ordering's rules leave them: published, row_version 2, pending."""
    orders, lines = [], []
    for number in range(start, start + count):
        created = base + timedelta(microseconds=number * 10)
        confirmed = created + timedelta(microseconds=5)
        total = 0
        for position in range(number % 3 + 1):
            quantity, price = position + 1, 100 + (number * 7 + position) % 9900
            total += quantity * price
            lines.append(
                {
                    "order_number": number,
                    "position": position,
                    "sku": f"SKU-{(number + position) % 500:04d}",
                    "description": f"Part {position} of order {number}",
                    "quantity": quantity,
                    "unit_price_cents": price,
                }
            )
        orders.append(
            {
                "number": number,
                "status": "CONFIRMED",  # the enum's name: SQLAlchemy stores Enum columns by name
                "customer_name": f"Customer {number % 997}",
                "customer_email": f"customer{number % 997}@example.com",
                "currency": "EUR",
                "total_cents": total,
                "row_version": 2,
                "published": True,
                "change_seq": None,
                "created_at": created,
                "updated_at": confirmed,
                "confirmed_at": confirmed,
                "deleted_at": None,
            }
        )
    return orders, lines


async def seed_ordering(url: str, count: int) -> dict[str, Any]:
    """Bulk-insert `count` pending confirmed orders, then time ordering's assigner numbering
    them all (the real `run_assigner`, batch by batch)."""
    engine = create_engine(url)
    try:
        await create_ordering_schema(engine)
        sessions, read_sessions = create_sessions(engine), create_sessions(read_only(engine))
        await ensure_feed_counter(sessions)
        orders_table: Table = Order.__table__  # type: ignore[attr-defined]
        lines_table: Table = OrderLine.__table__  # type: ignore[attr-defined]
        base = datetime(2026, 1, 1, tzinfo=UTC)
        started = time.perf_counter()
        async with engine.begin() as connection:
            for start in range(1, count + 1, SEED_CHUNK):
                orders, lines = _order_rows(start, min(SEED_CHUNK, count + 1 - start), base)
                await connection.execute(insert(orders_table), orders)
                await connection.execute(insert(lines_table), lines)
            if engine.dialect.name == "postgresql":
                # Explicit numbers do not move PostgreSQL's sequence; the rules' next order must
                # not collide with them.
                await connection.execute(
                    text("SELECT setval(pg_get_serial_sequence('orders', 'number'), :n)"),
                    {"n": count},
                )
        inserted = time.perf_counter() - started
        plan = await assigner_plan(engine)
        batch_query = await batch_query_against_a_sort(engine)
        started = time.perf_counter()
        assigned = await run_assigner(sessions, read_sessions)
        assign_seconds = time.perf_counter() - started
        if assigned != count:
            raise RuntimeError(f"the assigner numbered {assigned} of {count} orders")
    finally:
        await engine.dispose()
    return {
        "insert_seconds": round(inserted, 3),
        "assign_seconds": round(assign_seconds, 3),
        "assign_us_per_order": round(assign_seconds / count * 1e6, 2),
        "assign_plan": plan,
        "assign_plan_sorts": plan_sorts(plan),
        "batch_query": batch_query,
    }


async def assigner_plan(engine: AsyncEngine) -> list[str]:
    """The database's plan for the assigner's batch query, as ordering runs it, on the backlog."""
    query = backlog_batch(ASSIGN_BATCH, engine.dialect.name)
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("ANALYZE orders"))
            return [row[0] for row in await connection.execute(text("EXPLAIN " + sql))]
        return [row[-1] for row in await connection.execute(text("EXPLAIN QUERY PLAN " + sql))]


QUERY_ROUNDS = 5


async def batch_query_against_a_sort(engine: AsyncEngine) -> dict[str, float]:
    """One assigner batch query on the whole backlog, interleaved round by round: as ordering
    runs it (walking ix_orders_backlog), against the same query answered by sorting the backlog
    (what it cost before the index; on PostgreSQL index scans are priced out for it). Median ms.
    """
    dialect = engine.dialect.name
    walk = backlog_batch(ASSIGN_BATCH, dialect, lock=False)
    sql = str(walk.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    # The same statement without INDEXED BY: SQLite then sorts (a temp B-tree), as it did.
    sort_sql = sql.replace(" INDEXED BY ix_orders_backlog", "")
    timings: dict[str, list[float]] = {"index_walk_ms": [], "sort_ms": []}
    answers: dict[str, list[Any]] = {}
    async with engine.connect() as connection:
        for _ in range(QUERY_ROUNDS):
            for name, statement in (("index_walk_ms", sql), ("sort_ms", sort_sql)):
                async with connection.begin():
                    if dialect == "postgresql" and name == "sort_ms":
                        await connection.execute(text("SET LOCAL enable_indexscan = off"))
                        await connection.execute(text("SET LOCAL enable_bitmapscan = off"))
                    started = time.perf_counter()
                    answers[name] = list((await connection.execute(text(statement))).all())
                    timings[name].append((time.perf_counter() - started) * 1000)
            if answers["index_walk_ms"] != answers["sort_ms"]:
                raise RuntimeError("the index walk and the sort found different batches")
    figures = {name: round(statistics.median(values), 3) for name, values in timings.items()}
    figures["sort_over_walk"] = round(figures["sort_ms"] / figures["index_walk_ms"], 1)
    return figures


def plan_sorts(plan: Sequence[str]) -> bool:
    return any("TEMP B-TREE" in line.upper() or "SORT" in line.upper() for line in plan)


# --------------------------------------------------------------------------- raw-copy floor


async def billing_rows(ordering_url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows billing ends up with after syncing this ordering database (read directly)."""
    engine = create_engine(ordering_url)
    try:
        async with engine.connect() as connection:
            lines_by_order: dict[int, list[dict[str, Any]]] = {}
            result = await connection.execute(
                select(OrderLine.__table__).order_by(  # type: ignore[attr-defined]
                    text("order_number"), text("position")
                )
            )
            for line in result.mappings():
                lines_by_order.setdefault(line["order_number"], []).append(
                    {
                        "sku": line["sku"],
                        "description": line["description"],
                        "quantity": line["quantity"],
                        "unit_price": f"{line['unit_price_cents'] / 100:.2f}",
                        "amount": f"{line['unit_price_cents'] * line['quantity'] / 100:.2f}",
                    }
                )
            result = await connection.execute(
                select(Order.__table__).order_by(text("number"))  # type: ignore[attr-defined]
            )
            now = datetime.now(UTC)
            orders, invoices = [], []
            for order in result.mappings():
                total = f"{order['total_cents'] / 100:.2f}"
                orders.append(
                    {
                        "number": order["number"],
                        "status": "confirmed",
                        "customer_name": order["customer_name"],
                        "customer_email": order["customer_email"],
                        "currency": order["currency"],
                        "lines": lines_by_order[order["number"]],
                        "total": total,
                        "row_version": order["row_version"],
                        "change_seq": order["change_seq"],
                        "created_at": order["created_at"],
                        "updated_at": order["updated_at"],
                        "confirmed_at": order["confirmed_at"],
                        "deleted_at": None,
                        "stored_at": now,
                    }
                )
                invoices.append(
                    {
                        "order_number": order["number"],
                        "amount": total,
                        "amount_minor": order["total_cents"],
                        "currency": order["currency"],
                        "status": "pending_approval",
                        "order_deleted": False,
                        "customer_name": order["customer_name"],
                        "customer_email": order["customer_email"],
                        "search_text": search_text(order["customer_name"], order["customer_email"]),
                        "created_at": now,
                        "approved_at": None,
                        "voided_at": None,
                    }
                )
    finally:
        await engine.dispose()
    return orders, invoices


async def raw_copy(
    billing_url: str, orders: list[dict[str, Any]], invoices: list[dict[str, Any]], chunk: int
) -> float:
    """Seconds to write billing's rows with two executemany INSERTs per chunk-sized
    transaction into an empty billing database (schema made untimed, as a start makes it)."""
    engine = create_engine(billing_url)
    try:
        await create_billing_schema(engine)
        local_orders: Table = LocalOrder.__table__  # type: ignore[attr-defined]
        invoice_table: Table = Invoice.__table__  # type: ignore[attr-defined]
        started = time.perf_counter()
        for start in range(0, len(orders), chunk):
            async with engine.begin() as connection:
                await connection.execute(insert(local_orders), orders[start : start + chunk])
                await connection.execute(insert(invoice_table), invoices[start : start + chunk])
        seconds = time.perf_counter() - started
        async with engine.connect() as connection:
            stored = await connection.scalar(select(func.count()).select_from(invoice_table))
        if stored != len(orders):
            raise RuntimeError(f"raw copy stored {stored} invoices of {len(orders)}")
    finally:
        await engine.dispose()
    return seconds


# --------------------------------------------------------------------------- services


def _ordering(url: str, workdir: Path, name: str) -> ServiceProcess:
    return ServiceProcess(
        name,
        "ordering_api.app:create_app",
        free_port(),
        service_env({"ORDERING_DATABASE_URL": url, "SERVICE_TOKEN": SERVICE_TOKEN}),
        workdir / f"{name}.log",
    )


def _billing(url: str, ordering: ServiceProcess, workdir: Path, name: str, page_size: int):  # type: ignore[no-untyped-def]
    return ServiceProcess(
        name,
        "billing_api.app:create_app",
        free_port(),
        service_env(
            {
                "BILLING_DATABASE_URL": url,
                "BILLING_ORDERING_URL": ordering.url,
                "BILLING_PULL_ENABLED": "false",
                "BILLING_PULL_PAGE_SIZE": str(page_size),
                "BILLING_ORDERING_TIMEOUT": "60",
                "SERVICE_TOKEN": SERVICE_TOKEN,
            }
        ),
        workdir / f"{name}.log",
    )


def _client(base_url: str, timeout: float = 30.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        timeout=timeout,
        limits=httpx.Limits(keepalive_expiry=10),
    )


async def timed_sync(billing: ServiceProcess, expected: int) -> dict[str, Any]:
    async with _client(billing.url, timeout=3600) as client:
        started = time.perf_counter()
        response = await client.post("/sync/run")
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"sync failed: {response.status_code} {response.text}")
        report = response.json()
        totals = (await client.get("/sync/status")).json()["totals"]
    if report["new"] != expected or totals["invoices_created"] != expected:
        raise RuntimeError(f"sync stored {report['new']} orders of {expected}: {report}")
    return {"seconds": seconds, "pages": report["pages"]}


ORDER_BODY = {
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "currency": "EUR",
    "lines": [
        {"sku": "BOLT-10", "description": "Bolt 10 mm", "quantity": 4, "unit_price": "0.25"},
        {"sku": "NUT-10", "description": "Nut 10 mm", "quantity": 3, "unit_price": "1.50"},
    ],
}


async def _create_confirmed(client: httpx.AsyncClient) -> tuple[int, float]:
    """Create and confirm an order; the number and the confirm's milliseconds."""
    created = await client.post("/orders", json=ORDER_BODY)
    created.raise_for_status()
    number = created.json()["number"]
    started = time.perf_counter()
    confirmed = await client.post(f"/orders/{number}/confirm")
    elapsed = (time.perf_counter() - started) * 1000
    confirmed.raise_for_status()
    return number, elapsed


async def deeplink_latency(ordering: ServiceProcess, billing: ServiceProcess, samples: int) -> Any:
    """Sequential, quiet: create + confirm an order, then time its deep link (one 303)."""
    quiet_driver_gc()
    timings = []
    async with _client(ordering.url) as orders, _client(billing.url) as links:
        for index in range(samples + 5):
            number, _ = await _create_confirmed(orders)
            started = time.perf_counter()
            response = await links.get(f"/link/new_order/{number}")
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 303:
                raise RuntimeError(f"deep link answered {response.status_code}: {response.text}")
            if index >= 5:  # the first few warm connections and caches up
                timings.append(elapsed)
    return latency_figures(timings)


async def confirm_under_writers(ordering: ServiceProcess, writers: int, each: int) -> Any:
    """`writers` concurrent clients, each creating and confirming `each` orders; confirm times."""
    quiet_driver_gc()
    timings: list[float] = []

    async def writer() -> None:
        async with _client(ordering.url) as client:
            await _create_confirmed(client)  # warm-up, untimed
            for _ in range(each):
                timings.append((await _create_confirmed(client))[1])

    await asyncio.gather(*(writer() for _ in range(writers)))
    return {"writers": writers, **latency_figures(timings)}


# --------------------------------------------------------------------------- the run


def _pid(process: ServiceProcess) -> int:
    assert process.process is not None, "started"
    return process.process.pid


@contextmanager
def py_spy(processes: Sequence[ServiceProcess], output: Path | None) -> Iterator[None]:
    """Sample these processes with py-spy (raw collapsed stacks, one file each) meanwhile."""
    if output is None:
        yield
        return
    binary = Path(sys.executable).with_name("py-spy")
    if not binary.exists():
        raise RuntimeError(f"--py-spy needs py-spy next to {sys.executable}: pip install py-spy")
    output.mkdir(parents=True, exist_ok=True)
    samplers = [
        subprocess.Popen(
            [
                *(str(binary), "record", "--pid", str(_pid(process)), "--format", "raw"),
                *(
                    "--rate",
                    "250",
                    "--nonblocking",
                    "--output",
                    str(output / f"{process.name}.txt"),
                ),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for process in processes
    ]
    try:
        yield
    finally:
        for sampler in samplers:
            sampler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for sampler in samplers:
            sampler.wait(timeout=60)


async def run_size(
    kind: str, dbs: Databases, workdir: Path, size: int, page: int, profile_to: Path | None
) -> Any:
    ordering_url = dbs.new("ordering")
    seeded = await seed_ordering(ordering_url, size)
    orders, invoices = await billing_rows(ordering_url)
    with (
        _ordering(ordering_url, workdir, f"ordering-{kind}-{size}") as ordering,
        _billing(dbs.new("billing"), ordering, workdir, f"billing-{kind}-{size}", page) as billing,
        py_spy([ordering, billing], profile_to),
    ):
        sync = await timed_sync(billing, size)
    floor = await raw_copy(dbs.new("floor"), orders, invoices, page)
    return {
        "orders": size,
        "seed": seeded,
        "sync_seconds": round(sync["seconds"], 3),
        "sync_pages": sync["pages"],
        "sync_orders_per_second": round(size / sync["seconds"], 1),
        "floor_seconds": round(floor, 3),
        "floor_orders_per_second": round(size / floor, 1),
        "sync_over_floor": round(sync["seconds"] / floor, 2),
    }


async def run_latency(kind: str, dbs: Databases, workdir: Path, profile: Profile) -> Any:
    figures: dict[str, Any] = {}
    with (
        _ordering(dbs.new("ordering"), workdir, f"ordering-{kind}-link") as ordering,
        _billing(dbs.new("billing"), ordering, workdir, f"billing-{kind}-link", 500) as billing,
    ):
        figures["deeplink"] = await deeplink_latency(ordering, billing, profile.deeplink_samples)
    if kind == "sqlite":
        with _ordering(dbs.new("ordering"), workdir, f"ordering-{kind}-writers") as ordering:
            figures["confirm_under_writers"] = await confirm_under_writers(
                ordering, profile.writers, profile.confirms_per_writer
            )
    return figures


async def run(
    profile: Profile,
    databases: Sequence[str],
    workdir: Path,
    latency: bool = True,
    profile_to: Path | None = None,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with ExitStack() as stack:
        pg = stack.enter_context(postgres_server()) if "postgresql" in databases else None
        for kind in databases:
            dbs = Databases(kind, workdir, pg)
            sizes = []
            for size in profile.sizes:
                print(f"[{kind}] {size} orders ...", file=sys.stderr, flush=True)
                sizes.append(
                    await run_size(kind, dbs, workdir, size, profile.page_size, profile_to)
                )
            results[kind] = {"sizes": sizes}
            if latency:
                print(f"[{kind}] latency ...", file=sys.stderr, flush=True)
                results[kind].update(await run_latency(kind, dbs, workdir, profile))
    return results


def table(results: dict[str, Any]) -> str:
    rows = [
        "| database | orders | sync s | sync orders/s | floor s | sync / floor "
        "| assign s | assign us/order | assigner sorts | batch query: walk ms / sort ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for kind, figures in results.items():
        for size in figures["sizes"]:
            seed = size["seed"]
            rows.append(
                f"| {kind} | {size['orders']} | {size['sync_seconds']:.2f} "
                f"| {size['sync_orders_per_second']:.0f} | {size['floor_seconds']:.2f} "
                f"| {size['sync_over_floor']:.2f}x | {seed['assign_seconds']:.2f} "
                f"| {seed['assign_us_per_order']:.1f} "
                f"| {'yes' if seed['assign_plan_sorts'] else 'no'} "
                f"| {seed['batch_query']['index_walk_ms']:.1f} / "
                f"{seed['batch_query']['sort_ms']:.1f} |"
            )
    rows += [
        "",
        "| database | path | samples | median ms | p95 ms | p99 ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for kind, figures in results.items():
        for key in ("deeplink", "confirm_under_writers"):
            if key in figures:
                f = figures[key]
                label = key if key == "deeplink" else f"confirm, {f['writers']} writers"
                rows.append(
                    f"| {kind} | {label} | {f['samples']} | {f['median_ms']:.1f} "
                    f"| {f['p95_ms']:.1f} | {f['p99_ms']:.1f} |"
                )
    return "\n".join(rows)


@contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so every server this run started is stopped."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Initial sync against the raw-copy floor.")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 orders")
    parser.add_argument("--sizes", help="comma-separated order counts (default 10000,50000,100000)")
    parser.add_argument("--databases", default=",".join(DATABASES), help="sqlite,postgresql")
    parser.add_argument("--page-size", type=int, help="billing's feed page size (default 1000)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--no-latency", action="store_true", help="only the sync and floors")
    parser.add_argument(
        "--py-spy", type=Path, metavar="DIR", help="profile ordering and billing during each sync"
    )
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    if args.sizes:
        profile = replace(profile, sizes=tuple(int(size) for size in args.sizes.split(",")))
    if args.page_size:
        profile = replace(profile, page_size=args.page_size)
    databases = [kind for kind in args.databases.split(",") if kind]
    if unknown := set(databases) - set(DATABASES):
        parser.error(f"unknown databases: {', '.join(sorted(unknown))}")

    started = datetime.now(UTC)
    with _terminate_on_sigterm(), tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        results = asyncio.run(run(profile, databases, Path(tmp), not args.no_latency, args.py_spy))
    report = {
        "benchmark": "initial_sync",
        "profile": profile.name,
        "started_at": started.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
        "page_size": profile.page_size,
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(table(results))
    print(f"\nJSON: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
