"""The fault campaign: the order-to-invoice guarantees under kills, restarts and pauses.

    .venv/bin/python -m benchmarks.fault_campaign            # 10,000 orders
    .venv/bin/python -m benchmarks.fault_campaign --quick    # a few hundred, about a minute

It starts a throwaway PostgreSQL cluster on 127.0.0.1 with one database per service, 2 ordering
and 2 billing replicas as uvicorn processes (billing replica i pulls from ordering replica i;
both billing replicas share billing's database, as in a scaled deployment), and writers that
create orders, confirm them, open each one's deep link and delete some. Meanwhile it kills
replicas of each service with SIGKILL and starts them again, restarts PostgreSQL (a clean
shutdown and a crash, alternately) and pauses replicas with SIGSTOP/SIGCONT. Faults are spread
evenly over the writers' progress. Writers retry what failed (connection errors, timeouts, 503)
on either replica until they get an answer, as a client of a scaled deployment would.

When the writers are done and every replica is up, it lets billing catch up, reads ordering's
whole change feed and every invoice, and prints the verdict line

    lost=0 duplicate=0 missing=0 mismatched=0 unexpected_5xx=0

(each count is defined in benchmarks/campaign_verdict.py and in `--help`). The exit status is
0 only when every count is 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.campaign_verdict import CONFIRMED, DELETED, Verdict, judge
from service_procs.ports import free_port
from service_procs.postgres import PostgresServer, postgres_server
from service_procs.processes import ServiceProcess, service_env

TOKEN = "fault-campaign-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REPLICAS = 2
REQUEST_TIMEOUT = 10.0
CATCH_UP_TIMEOUT = 180.0


@dataclass(frozen=True)
class Config:
    orders: int
    writers: int
    kills: int  # per service
    pg_restarts: int
    pauses: int
    pause_seconds: float
    down_seconds: float
    delete_share: float
    seed: int


FULL = Config(
    orders=10_000,
    writers=8,
    kills=20,
    pg_restarts=4,
    pauses=6,
    pause_seconds=3.0,
    down_seconds=1.0,
    delete_share=0.1,
    seed=15,
)
QUICK = Config(
    orders=300,
    writers=8,
    kills=2,
    pg_restarts=2,
    pauses=2,
    pause_seconds=2.0,
    down_seconds=0.5,
    delete_share=0.1,
    seed=15,
)


@dataclass
class Tally:
    """Every answer the campaign got, by service and status, and what it was acknowledged."""

    statuses: Counter[str] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    acknowledged: dict[int, str] = field(default_factory=dict)
    created: int = 0

    def record(self, service: str, response: httpx.Response) -> None:
        self.statuses[f"{service} {response.status_code}"] += 1
        if response.status_code >= 500 and response.status_code != 503:
            self.unexpected.append(
                f"{service} {response.request.method} {response.request.url.path} "
                f"{response.status_code}: {response.text[:200]}"
            )

    @property
    def unexpected_5xx(self) -> int:
        return len(self.unexpected)


class Cluster:
    """PostgreSQL and the service replicas, each as a real process on 127.0.0.1."""

    def __init__(self, pg: PostgresServer, root: Path) -> None:
        self.pg = pg
        ordering_db = pg.create_database("ordering")
        billing_db = pg.create_database("billing")
        self.ordering = [
            ServiceProcess(
                f"ordering-{i + 1}",
                "ordering_api.app:create_app",
                free_port(),
                service_env({"SERVICE_TOKEN": TOKEN, "ORDERING_DATABASE_URL": ordering_db}),
                root / f"ordering-{i + 1}.log",
            )
            for i in range(REPLICAS)
        ]
        self.billing = [
            ServiceProcess(
                f"billing-{i + 1}",
                "billing_api.app:create_app",
                free_port(),
                service_env(
                    {
                        "SERVICE_TOKEN": TOKEN,
                        "BILLING_DATABASE_URL": billing_db,
                        "BILLING_ORDERING_URL": self.ordering[i].url,
                        "BILLING_PULL_INTERVAL": "0.5",
                        "BILLING_PULL_BACKOFF_CAP": "2",
                        "BILLING_ORDERING_TIMEOUT": "2",
                        "BILLING_PULL_LOCK_WAIT": "5",
                    }
                ),
                root / f"billing-{i + 1}.log",
            )
            for i in range(REPLICAS)
        ]

    @property
    def services(self) -> list[ServiceProcess]:
        return [*self.ordering, *self.billing]

    def start(self) -> None:
        for service in self.services:
            service.start()
        for service in self.services:
            service.wait_healthy(timeout=60)

    def stop(self) -> None:
        for service in self.services:
            service.stop()

    def tracebacks(self) -> int:
        return sum(
            service.log_path.read_text(errors="replace").count("Traceback")
            for service in self.services
            if service.log_path.exists()
        )


def _restart(service: ServiceProcess, down_seconds: float) -> None:
    service.kill()
    time.sleep(down_seconds)  # down for a moment, as under a supervisor's restart delay
    service.start()
    service.wait_healthy(timeout=60)


class Campaign:
    def __init__(self, config: Config, cluster: Cluster) -> None:
        self.config = config
        self.cluster = cluster
        self.tally = Tally()
        self.faults: list[str] = []
        self.random = random.Random(config.seed)
        self._next_order = 0
        self._writers_done = asyncio.Event()
        self._progress = asyncio.Event()  # set at every order created and when writers finish
        self.started = time.monotonic()

    # ------------------------------------------------------------------ writers

    def _take_order(self) -> int | None:
        if self._next_order >= self.config.orders:
            return None
        self._next_order += 1
        return self._next_order

    async def _call(
        self, clients: Sequence[httpx.AsyncClient], service: str, method: str, path: str, **kw: Any
    ) -> httpx.Response:
        """Until some replica answers with something other than a 5xx: what a client of a
        scaled deployment does. Every answer, and every connection error, is counted."""
        delay = 0.05
        while True:
            client = self.random.choice(clients)
            try:
                response = await client.request(method, path, **kw)
            except httpx.HTTPError as exc:
                self.tally.transport_errors[f"{service} {type(exc).__name__}"] += 1
            else:
                self.tally.record(service, response)
                if response.status_code < 500:
                    return response
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def writer(self, name: int) -> None:
        ordering = [
            httpx.AsyncClient(base_url=s.url, headers=AUTH, timeout=REQUEST_TIMEOUT)
            for s in self.cluster.ordering
        ]
        browsers = [
            httpx.AsyncClient(base_url=s.url, timeout=REQUEST_TIMEOUT) for s in self.cluster.billing
        ]
        try:
            while (index := self._take_order()) is not None:
                await self._one_order(ordering, browsers, name, index)
        finally:
            for client in (*ordering, *browsers):
                await client.aclose()

    async def _one_order(
        self,
        ordering: Sequence[httpx.AsyncClient],
        browsers: Sequence[httpx.AsyncClient],
        writer: int,
        index: int,
    ) -> None:
        body = {
            "customer": {"name": f"Writer {writer}", "email": f"w{writer}@campaign.test"},
            "currency": "EUR",
            "lines": [
                {"sku": f"SKU-{index % 97}", "quantity": 1 + index % 5, "unit_price": "2.50"},
                {"sku": "FEE", "quantity": 1, "unit_price": f"{index % 100}.{index % 10}5"},
            ],
        }
        created = await self._call(ordering, "ordering", "POST", "/orders", json=body)
        if created.status_code != 201:
            self._unexpected_answer("create", created)
            return
        self.tally.created += 1
        self._progress.set()
        number = created.json()["number"]
        confirmed = await self._call(ordering, "ordering", "POST", f"/orders/{number}/confirm")
        if not _done(confirmed, "already confirmed"):
            self._unexpected_answer("confirm", confirmed)
            return
        self.tally.acknowledged[number] = CONFIRMED
        # The clerk follows the deep link once; 503 is a fine answer while billing or
        # ordering is down (the page says to try again).
        browser = self.random.choice(browsers)
        try:
            self.tally.record("billing", await browser.get(f"/link/new_order/{number}"))
        except httpx.HTTPError as exc:
            self.tally.transport_errors[f"billing {type(exc).__name__}"] += 1
        if self.random.random() < self.config.delete_share:
            deleted = await self._call(ordering, "ordering", "DELETE", f"/orders/{number}")
            if not _done(deleted, "already deleted"):
                self._unexpected_answer("delete", deleted)
                return
            self.tally.acknowledged[number] = DELETED

    def _unexpected_answer(self, what: str, response: httpx.Response) -> None:
        self.tally.statuses[f"unexpected {what} {response.status_code}"] += 1

    # ------------------------------------------------------------------ faults

    def _schedule(self) -> list[tuple[str, str]]:
        config = self.config
        faults = [("kill", "ordering")] * config.kills + [("kill", "billing")] * config.kills
        faults += [("pg", "fast" if i % 2 == 0 else "immediate") for i in range(config.pg_restarts)]
        faults += [("pause", "ordering" if i % 2 == 0 else "billing") for i in range(config.pauses)]
        self.random.shuffle(faults)
        return faults

    async def faulter(self) -> None:
        schedule = self._schedule()
        for position, (kind, target) in enumerate(schedule):
            due = (position + 1) * self.config.orders // (len(schedule) + 1)
            while self.tally.created < due and not self._writers_done.is_set():
                self._progress.clear()
                await self._progress.wait()
            await self._inject(kind, target)

    async def _inject(self, kind: str, target: str) -> None:
        if kind == "pg":
            description = f"PostgreSQL restart ({target})"
            self._log(description)
            await asyncio.to_thread(self.cluster.pg.restart, target)
        else:
            replicas = self.cluster.ordering if target == "ordering" else self.cluster.billing
            service = self.random.choice(replicas)
            if kind == "kill":
                description = f"kill -9 {service.name}"
                self._log(description)
                await asyncio.to_thread(_restart, service, self.config.down_seconds)
            else:
                description = f"pause {service.name} {self.config.pause_seconds:g}s"
                self._log(description)
                service.send_signal(signal.SIGSTOP)
                try:
                    await asyncio.sleep(self.config.pause_seconds)
                finally:
                    service.send_signal(signal.SIGCONT)
        self.faults.append(description)

    def _log(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(
            f"[{elapsed:7.1f}s] {message} (orders {self.tally.created}/{self.config.orders})",
            flush=True,
        )

    # ------------------------------------------------------------------ run and verdict

    async def run(self) -> None:
        writers = [asyncio.create_task(self.writer(i + 1)) for i in range(self.config.writers)]
        faulter = asyncio.create_task(self.faulter())
        try:
            await asyncio.gather(*writers)
        finally:
            self._writers_done.set()
            self._progress.set()
        await faulter
        self._log("writers and faults done; letting billing catch up")

    async def verdict(self) -> tuple[Verdict, dict[str, Any]]:
        ordering = self.cluster.ordering[0]
        billing = self.cluster.billing[0]
        async with (
            httpx.AsyncClient(base_url=ordering.url, headers=AUTH, timeout=60) as ordering_http,
            httpx.AsyncClient(base_url=billing.url, headers=AUTH, timeout=60) as billing_http,
        ):
            await _caught_up(ordering_http, billing_http)
            feed = await _whole_feed(ordering_http)
            invoices = await _all_invoices(billing_http)
        verdict = judge(self.tally.acknowledged, feed, invoices, self.tally.unexpected_5xx)
        details = {
            "orders_acknowledged": len(self.tally.acknowledged),
            "deleted_acknowledged": sum(
                1 for s in self.tally.acknowledged.values() if s == DELETED
            ),
            "feed_entries": len(feed),
            "invoices": len(invoices),
        }
        return verdict, details


def _done(response: httpx.Response, already: str) -> bool:
    """200, or a 409 saying a retried request had already been applied."""
    if response.status_code == 200:
        return True
    return response.status_code == 409 and already in response.json()["error"]["message"]


async def _caught_up(ordering: httpx.AsyncClient, billing: httpx.AsyncClient) -> None:
    """Until billing's token is at ordering's high water after a successful pull."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while True:
        try:
            head = await ordering.get("/orders/changes", params={"since": 0, "limit": 1})
            run = await billing.post("/sync/run")
            status = await billing.get("/sync/status")
            if (
                head.status_code == run.status_code == status.status_code == 200
                and status.json()["token"] >= head.json()["high_water"]
            ):
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"billing did not catch up with ordering in {CATCH_UP_TIMEOUT}s")
        await asyncio.sleep(0.2)


async def _whole_feed(ordering: httpx.AsyncClient) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    since = 0
    while True:
        page = await ordering.get("/orders/changes", params={"since": since, "limit": 1000})
        page.raise_for_status()
        body = page.json()
        entries.extend(body["orders"])
        since = body["next_since"]
        if not body["has_more"]:
            return entries


async def _all_invoices(billing: httpx.AsyncClient) -> list[dict[str, Any]]:
    invoices: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = await billing.get("/invoices", params=params)
        page.raise_for_status()
        body = page.json()
        invoices.extend(body["invoices"])
        if body["next_cursor"] is None:
            return invoices
        params["after"] = body["next_cursor"]


@contextmanager
def running_cluster(root: Path) -> Iterator[Cluster]:
    with ExitStack() as stack:
        pg = stack.enter_context(postgres_server())
        cluster = Cluster(pg, root)
        stack.callback(cluster.stop)
        cluster.start()
        yield cluster


def parse_args(argv: Sequence[str] | None) -> tuple[Config, Path | None, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fault_campaign",
        description=(
            "Run ordering and billing (2 replicas each, PostgreSQL) under SIGKILLs, PostgreSQL "
            "restarts and SIGSTOP pauses while writers create, confirm and delete orders; "
            "then print the verdict line. Exit status 0 only if every count is 0."
        ),
        epilog=(
            "Verdict counts: "
            "lost = acknowledged writes ordering does not show (a confirmed order missing from "
            "the change feed, an acknowledged delete not in it); "
            "duplicate = an order twice in the feed, two feed entries with one position, or an "
            "order with more than one invoice; "
            "missing = a published order without an invoice; "
            "mismatched = an invoice disagreeing with its order's final version (amount, "
            "currency, customer, deleted/void), an invoice for no published order, or an order "
            "deleted that no writer deleted; "
            "unexpected_5xx = answers with a 5xx other than 503."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="a few hundred orders (CI smoke)")
    parser.add_argument("--orders", type=int, help="orders to create (10000; quick: 300)")
    parser.add_argument("--writers", type=int, help="concurrent writers (8)")
    parser.add_argument("--kills", type=int, help="SIGKILLs per service (20; quick: 2)")
    parser.add_argument("--pg-restarts", type=int, help="PostgreSQL restarts (4; quick: 2)")
    parser.add_argument("--pauses", type=int, help="SIGSTOP pauses (6; quick: 2)")
    parser.add_argument("--seed", type=int, help="random seed (15)")
    parser.add_argument("--output", type=Path, help="also write the report as JSON here")
    parser.add_argument("--workdir", type=Path, help="keep the service logs here")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    overrides = {
        name: getattr(args, name)
        for name in ("orders", "writers", "kills", "pg_restarts", "pauses", "seed")
        if getattr(args, name) is not None
    }
    config = Config(**{**asdict(base), **overrides})
    if config.orders < 1 or config.writers < 1:
        parser.error("--orders and --writers must be at least 1")
    return config, args.output, args.workdir


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so the replicas and PostgreSQL are stopped on the way out.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    config, output, workdir = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    root = workdir or Path(tempfile.mkdtemp(prefix="fault-campaign-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"fault campaign: {config}; logs in {root}", flush=True)
    started = time.monotonic()
    with running_cluster(root) as cluster:
        campaign = Campaign(config, cluster)
        asyncio.run(campaign.run())
        verdict, details = asyncio.run(campaign.verdict())
        tracebacks = cluster.tracebacks()
    duration = time.monotonic() - started
    tally = campaign.tally
    print(f"faults: {len(campaign.faults)} ({', '.join(sorted(set(campaign.faults)))})")
    print(f"answers: {dict(sorted(tally.statuses.items()))}")
    print(f"connection errors (expected while a replica is down): {dict(tally.transport_errors)}")
    print(f"details: {details}; tracebacks in service logs: {tracebacks}")
    for line in tally.unexpected[:10]:
        print(f"unexpected: {line}")
    print(f"duration: {duration:.1f}s")
    print(verdict.line(), flush=True)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "benchmark": "fault_campaign",
            "config": asdict(config),
            "verdict": asdict(verdict),
            "verdict_line": verdict.line(),
            "ok": verdict.ok,
            "duration_s": round(duration, 1),
            "faults": campaign.faults,
            "answers": dict(tally.statuses),
            "connection_errors": dict(tally.transport_errors),
            "tracebacks": tracebacks,
            **details,
        }
        output.write_text(json.dumps(report, indent=2))
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
