"""Replication lag: how long after ordering answers a confirm can billing's invoice be read?

Ordering and billing run as real uvicorn processes with billing's background pull on and
long-polling the feed (the default `BILLING_PULL_WAIT`). Drafts are created first (untimed);
then confirms go out on a fixed schedule (open loop: a slow answer never lowers the rate), and
for each confirm the lag is the time from its answer to the first poll of billing that finds its
invoice. One task polls billing for every outstanding order number at once (batch reads of up to
100 numbers) every `--poll-ms`, so measuring costs billing little; the poll period is the
figure's resolution. After the steady phase, the deep link `GET /link/new_order/{n}` is timed for
freshly confirmed orders, one at a time, up to its 303.

    .venv/bin/python -m benchmarks.replication_lag                  # 50 confirms/s for 60 s, SQLite
    .venv/bin/python -m benchmarks.replication_lag --database postgresql --replicas 2
    .venv/bin/python -m benchmarks.replication_lag --quick          # smoke run, figures meaningless

With `--replicas 2` (PostgreSQL only) two ordering and two billing processes share the
databases; billing replica i pulls from ordering replica i, confirms alternate between the
ordering replicas and the polls between the billing replicas. Results: a table on stdout, JSON
in `artifacts/bench/replication_lag.json`. The run fails (exit 1) if some confirmed order never
got its invoice.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.driver_gc import quiet_driver_gc
from service_procs.ports import free_port
from service_procs.postgres import postgres_server
from service_procs.processes import REPO_ROOT, ServiceProcess, service_env

SERVICE_TOKEN = "bench-service-token"
DEFAULT_OUTPUT = REPO_ROOT / "artifacts" / "bench" / "replication_lag.json"
ORDER_BODY = {
    "customer": {"name": "Lag Tester", "email": "lag@example.com"},
    "currency": "EUR",
    "lines": [{"sku": "L-1", "description": "Lagger", "quantity": 1, "unit_price": "1.00"}],
}
BATCH = 100  # billing's batch read takes 1-100 order numbers
# How long after the last confirm an invoice may still arrive before the run calls it missing.
SETTLE_SECONDS = 30.0


@dataclass(frozen=True)
class Config:
    rate: float
    seconds: float
    database: str
    replicas: int
    poll_ms: float
    link_samples: int
    profile: str

    @property
    def confirms(self) -> int:
        return max(1, round(self.rate * self.seconds))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"samples": 0}
    ms = [s * 1000 for s in seconds]
    return {
        "samples": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
    }


# --------------------------------------------------------------------------- the measurement


class LagProbe:
    """Confirms on a schedule, and one poller that finds their invoices in billing."""

    def __init__(
        self,
        ordering: list[httpx.AsyncClient],
        billing: list[httpx.AsyncClient],
        poll_seconds: float,
    ) -> None:
        self.ordering = ordering
        self.billing = billing
        self.poll_seconds = poll_seconds
        self.answered: dict[int, float] = {}  # order number -> when its confirm was answered
        self.outstanding: set[int] = set()
        self.lags: dict[int, float] = {}
        self.confirm_latency: list[float] = []
        self.send_delay: list[float] = []  # how late each confirm went out against its schedule
        self.failures: list[str] = []
        self.polls = 0
        self.poll_requests = 0

    async def create_drafts(self, count: int, concurrency: int = 8) -> list[int]:
        numbers: list[int] = []
        remaining = iter(range(count))
        clients = itertools.cycle(self.ordering)

        async def worker() -> None:
            for _ in remaining:
                response = await next(clients).post("/orders", json=ORDER_BODY)
                response.raise_for_status()
                numbers.append(response.json()["number"])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return sorted(numbers)

    async def _confirm(self, client: httpx.AsyncClient, number: int) -> None:
        sent = time.perf_counter()
        try:
            response = await client.post(f"/orders/{number}/confirm")
        except httpx.HTTPError as error:
            self.failures.append(f"confirm {number}: {error!r}")
            return
        answered = time.perf_counter()
        if response.status_code != 200:
            self.failures.append(f"confirm {number}: {response.status_code} {response.text[:200]}")
            return
        self.confirm_latency.append(answered - sent)
        self.answered[number] = answered
        self.outstanding.add(number)

    async def confirm_steadily(self, numbers: list[int], rate: float) -> None:
        """Open loop: confirm i is sent at start + i / rate whatever earlier ones are doing."""
        clients = itertools.cycle(self.ordering)
        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        for index, number in enumerate(numbers):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.send_delay.append(max(0.0, time.perf_counter() - due))
            tasks.append(asyncio.create_task(self._confirm(next(clients), number)))
        await asyncio.gather(*tasks)

    async def _read(self, client: httpx.AsyncClient, chunk: list[int]) -> None:
        params = httpx.QueryParams([("order_number", number) for number in chunk])
        try:
            response = await client.get("/invoices", params=params)
        except httpx.HTTPError as error:
            self.failures.append(f"poll: {error!r}")
            return
        seen = time.perf_counter()
        if response.status_code != 200:
            self.failures.append(f"poll: {response.status_code} {response.text[:200]}")
            return
        for invoice in response.json()["invoices"]:
            number = invoice["order_number"]
            if number in self.outstanding:
                self.outstanding.discard(number)
                self.lags[number] = max(0.0, seen - self.answered[number])

    async def poll(self, confirms_done: asyncio.Event) -> None:
        """Every poll period, read all outstanding numbers; ends when nothing is outstanding
        after the last confirm, or SETTLE_SECONDS later (what is left is missing)."""
        clients = itertools.cycle(self.billing)
        settle_deadline: float | None = None
        while True:
            tick = time.perf_counter()
            if confirms_done.is_set():
                if not self.outstanding:
                    return
                if settle_deadline is None:
                    settle_deadline = tick + SETTLE_SECONDS
                elif tick > settle_deadline:
                    return
            pending = sorted(self.outstanding)
            if pending:
                self.polls += 1
                chunks = [pending[i : i + BATCH] for i in range(0, len(pending), BATCH)]
                self.poll_requests += len(chunks)
                await asyncio.gather(*(self._read(next(clients), chunk) for chunk in chunks))
            await asyncio.sleep(max(0.0, self.poll_seconds - (time.perf_counter() - tick)))

    async def run(self, numbers: list[int], rate: float) -> None:
        confirms_done = asyncio.Event()
        poller = asyncio.create_task(self.poll(confirms_done))
        try:
            await self.confirm_steadily(numbers, rate)
        finally:
            confirms_done.set()
        await poller


async def deep_link_latency(
    ordering: list[httpx.AsyncClient], billing: list[httpx.AsyncClient], samples: int
) -> tuple[list[float], list[str]]:
    """Create and confirm an order, then time its deep link up to the 303; one at a time."""
    timings: list[float] = []
    failures: list[str] = []
    for index in range(samples):
        writer = ordering[index % len(ordering)]
        reader = billing[index % len(billing)]
        created = await writer.post("/orders", json=ORDER_BODY)
        created.raise_for_status()
        number = created.json()["number"]
        (await writer.post(f"/orders/{number}/confirm")).raise_for_status()
        started = time.perf_counter()
        response = await reader.get(f"/link/new_order/{number}", follow_redirects=False)
        elapsed = time.perf_counter() - started
        if response.status_code == 303:
            timings.append(elapsed)
        else:
            failures.append(f"deep link {number}: {response.status_code}")
    return timings, failures


# --------------------------------------------------------------------------- the command


def _client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        timeout=30,
        limits=httpx.Limits(max_connections=200, keepalive_expiry=10),
    )


@contextmanager
def _services(config: Config, workdir: Path) -> Iterator[tuple[list[str], list[str]]]:
    """The service processes; yields their URLs (ordering replicas, billing replicas)."""
    with ExitStack() as stack:
        if config.database == "sqlite":
            ordering_db = f"sqlite+aiosqlite:///{workdir / 'ordering.db'}"
            billing_db = f"sqlite+aiosqlite:///{workdir / 'billing.db'}"
        else:
            server = stack.enter_context(postgres_server())
            ordering_db = server.create_database("ordering")
            billing_db = server.create_database("billing")
        ordering = [
            ServiceProcess(
                f"ordering-{i + 1}",
                "ordering_api.app:create_app",
                free_port(),
                service_env({"ORDERING_DATABASE_URL": ordering_db, "SERVICE_TOKEN": SERVICE_TOKEN}),
                workdir / f"ordering-{i + 1}.log",
            )
            for i in range(config.replicas)
        ]
        # One replica at a time for the first start, so the migrations run once, not racing.
        for service in ordering:
            stack.enter_context(service)
        billing = [
            ServiceProcess(
                f"billing-{i + 1}",
                "billing_api.app:create_app",
                free_port(),
                service_env(
                    {
                        "BILLING_DATABASE_URL": billing_db,
                        "BILLING_ORDERING_URL": ordering[i].url,
                        "SERVICE_TOKEN": SERVICE_TOKEN,
                        # Pull on, long-polling with the default BILLING_PULL_WAIT.
                        "BILLING_PULL_ENABLED": "true",
                    }
                ),
                workdir / f"billing-{i + 1}.log",
            )
            for i in range(config.replicas)
        ]
        for service in billing:
            stack.enter_context(service)
        yield [s.url for s in ordering], [s.url for s in billing]


async def _measure(
    config: Config, ordering_urls: list[str], billing_urls: list[str]
) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(_client(url)) for url in ordering_urls + billing_urls
        ]
        ordering = clients[: len(ordering_urls)]
        billing = clients[len(ordering_urls) :]
        probe = LagProbe(ordering, billing, config.poll_ms / 1000)
        quiet_driver_gc()
        drafts_started = time.perf_counter()
        numbers = await probe.create_drafts(config.confirms)
        drafts_seconds = time.perf_counter() - drafts_started
        steady_started = time.perf_counter()
        await probe.run(numbers, config.rate)
        steady_seconds = time.perf_counter() - steady_started
        links, link_failures = await deep_link_latency(ordering, billing, config.link_samples)
    confirmed = len(probe.answered)
    return {
        "drafts_seconds": round(drafts_seconds, 2),
        "steady_seconds": round(steady_seconds, 2),
        "confirms_sent": len(numbers),
        "confirmed": confirmed,
        "invoices_seen": len(probe.lags),
        "missing_invoices": sorted(probe.outstanding),
        "achieved_rate": round(len(numbers) / max(1e-9, steady_seconds), 1),
        "send_delay_max_ms": round(max(probe.send_delay, default=0) * 1000, 2),
        "lag": summary_ms(list(probe.lags.values())),
        "confirm_latency": summary_ms(probe.confirm_latency),
        "deep_link": summary_ms(links),
        "poll_resolution_ms": config.poll_ms,
        "polls": probe.polls,
        "poll_requests": probe.poll_requests,
        "failures": (probe.failures + link_failures)[:50],
        "failure_count": len(probe.failures) + len(link_failures),
    }


def parse_args(argv: list[str] | None) -> tuple[Config, Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, help="confirms per second (default 50)")
    parser.add_argument("--seconds", type=float, help="length of the steady phase (default 60)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--replicas", type=int, choices=(1, 2), default=1)
    parser.add_argument("--poll-ms", type=float, default=5.0, help="billing poll period")
    parser.add_argument("--link-samples", type=int, help="deep links timed (default 100)")
    parser.add_argument("--quick", action="store_true", help="10 confirms/s for 3 s, smoke run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if args.replicas > 1 and args.database != "postgresql":
        parser.error("--replicas 2 needs --database postgresql (SQLite is one process's file)")
    rate = args.rate or (10.0 if args.quick else 50.0)
    seconds = args.seconds or (3.0 if args.quick else 60.0)
    if rate <= 0 or seconds <= 0 or args.poll_ms <= 0:
        parser.error("--rate, --seconds and --poll-ms must be positive")
    config = Config(
        rate=rate,
        seconds=seconds,
        database=args.database,
        replicas=args.replicas,
        poll_ms=args.poll_ms,
        link_samples=args.link_samples or (10 if args.quick else 100),
        profile="quick" if args.quick else "full",
    )
    return config, args.output


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so the services and PostgreSQL are stopped on the way out.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    config, output = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    with (
        tempfile.TemporaryDirectory(prefix="bench-lag-") as tmp,
        _services(config, Path(tmp)) as (ordering_urls, billing_urls),
    ):
        result = asyncio.run(_measure(config, ordering_urls, billing_urls))
    lag, confirm, link = result["lag"], result["confirm_latency"], result["deep_link"]
    print(
        f"replication lag: {config.rate:g} confirms/s for {config.seconds:g} s, "
        f"{config.database}, {config.replicas} replica(s) of each service, "
        f"poll resolution {config.poll_ms:g} ms"
    )
    print("| figure | samples | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for name, figures in (
        ("lag (confirm answered -> invoice readable)", lag),
        ("confirm latency", confirm),
        ("deep link (to its 303)", link),
    ):
        if figures["samples"]:
            print(
                f"| {name} | {figures['samples']} | {figures['p50_ms']} | {figures['p95_ms']} "
                f"| {figures['p99_ms']} | {figures['max_ms']} |"
            )
        else:
            print(f"| {name} | 0 | - | - | - | - |")
    print(
        f"confirmed {result['confirmed']}/{result['confirms_sent']} at "
        f"{result['achieved_rate']} /s (latest send {result['send_delay_max_ms']} ms behind "
        f"schedule); invoices seen {result['invoices_seen']}, missing "
        f"{len(result['missing_invoices'])}; failures {result['failure_count']}"
    )
    report = {
        "benchmark": "replication_lag",
        "profile": config.profile,
        "config": {
            "rate": config.rate,
            "seconds": config.seconds,
            "database": config.database,
            "replicas": config.replicas,
            "poll_ms": config.poll_ms,
            "link_samples": config.link_samples,
        },
        "result": result,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(f"JSON: {output}")
    complete = (
        result["confirmed"] == result["confirms_sent"] == result["invoices_seen"]
        and not result["failure_count"]
    )
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
