"""The reported overload attacks against real uvicorn processes: the BFF stays responsive.

A correctness bound, not a benchmark: while the attacks run, and after, a normal query and
/healthz are answered within a second, and SIGTERM stops the BFF mid-burst.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.accounts import EVERY_ROLE, add_user_sync, session_cookies
from tests.support.processes import REPO_ROOT, ServiceProcess, service_env
from tests.support.servers import free_port

TOKEN = "overload-token"
NORMAL = "{ orders(first: 5) { edges { node { number status invoice { number } } } } }"
# Seconds: a normal query must always be answered within this, beyond the slowest answer the
# same probe sees with no attack at all (on a shared, loaded test machine that noise alone can
# reach half a second; the attacks used to stall the BFF for minutes).
BOUND = 1.0
PROBE_ADDRESS = "127.0.0.2"


@dataclass
class Stack:
    ordering: ServiceProcess
    billing: ServiceProcess
    bff: ServiceProcess
    invoice_numbers: list[int] = field(default_factory=list)
    # The attacker and the probe are signed-in users: anonymous requests stop at the
    # permission check and would not load the BFF.
    cookies: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("overload")
    ports = {name: free_port() for name in ("ordering", "billing", "bff")}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = service_env(
        {
            "SERVICE_TOKEN": TOKEN,
            "ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'ordering.db'}",
            "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'billing.db'}",
            "BILLING_ORDERING_URL": url["ordering"],
            "BILLING_WEB_URL": url["bff"],
            "BILLING_PULL_INTERVAL": "0.5",
            "BFF_ORDERING_URL": url["ordering"],
            "BFF_BILLING_URL": url["billing"],
            # Attacks within every rate limit: what holds then is under test (the per-client
            # cap on requests in flight, deduplicated reads, the bulkheads).
            "BFF_RATE_LIMIT": "",
            "BFF_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'bff.db'}",
        }
    )
    with ExitStack() as stop:
        services = []
        for name, package in (("ordering", "ordering_api"), ("billing", "billing_api")):
            service = ServiceProcess(
                name, f"{package}.app:create_app", ports[name], env, root / f"{name}.log"
            )
            services.append(stop.enter_context(service))
        bff = ServiceProcess("bff", "bff.app:create_app", ports["bff"], env, root / "bff.log")
        stop.callback(bff.stop)
        bff.start()
        bff.wait_healthy()
        system = Stack(services[0], services[1], bff)
        add_user_sync(env["BFF_DATABASE_URL"], "tester", EVERY_ROLE)
        system.cookies = session_cookies(bff.url, "tester")
        system.invoice_numbers = seed(system)
        yield system


def seed(system: Stack) -> list[int]:
    """A few confirmed orders with their invoices, so the lookups find something."""
    create = (
        "mutation($i: OrderInput!) { createOrder(input: $i) { number } }",
        {
            "i": {
                "customer": {"name": "Ada", "email": "ada@example.com"},
                "lines": [{"sku": "A", "quantity": 1, "unitPrice": "1.00"}],
            }
        },
    )
    with httpx.Client(base_url=system.bff.url, timeout=10, cookies=system.cookies) as bff:
        for _ in range(5):
            body = bff.post("/graphql", json={"query": create[0], "variables": create[1]}).json()
            number = body["data"]["createOrder"]["number"]
            bff.post(
                "/graphql",
                json={"query": f"mutation {{ confirmOrder(number: {number}) {{ invoiceLink }} }}"},
            )
    with httpx.Client(
        base_url=system.billing.url, headers={"authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as billing:
        billing.post("/sync/run").raise_for_status()
        invoices = billing.get("/invoices").json()["invoices"]
    return [i["number"] for i in invoices]


def alias_burst_query(index: int, invoice_numbers: list[int]) -> str:
    """The reported ~786-byte documents: 30 aliases of syncStatus or invoiceByNumber."""
    if index % 2:
        fields = [f"s{j}: syncStatus {{ token }}" for j in range(30)]
    else:
        fields = [
            f"i{j}: invoiceByNumber(number: {invoice_numbers[j % len(invoice_numbers)] + j})"
            " { number }"
            for j in range(30)
        ]
    return "{ " + " ".join(fields) + " }"


@dataclass
class Probe:
    """Sends a normal query and /healthz in a loop; keeps the slowest answers."""

    url: str
    cookies: dict[str, str]
    slowest_query: float = 0.0
    slowest_health: float = 0.0
    queries: int = 0

    def client(self) -> httpx.AsyncClient:
        # Another address than the attacker's (all of 127/8 is this machine): another client.
        transport = httpx.AsyncHTTPTransport(
            local_address=PROBE_ADDRESS, limits=httpx.Limits(keepalive_expiry=2)
        )
        return httpx.AsyncClient(
            base_url=self.url, timeout=30, transport=transport, cookies=self.cookies
        )

    async def run(self, until: asyncio.Event) -> None:
        async with self.client() as client:
            while not until.is_set():
                await self.once(client)
                await asyncio.sleep(0.05)

    async def once(self, client: httpx.AsyncClient) -> None:
        sent = time.monotonic()
        body = (await client.post("/graphql", json={"query": NORMAL})).json()
        self.slowest_query = max(self.slowest_query, time.monotonic() - sent)
        assert len(body["data"]["orders"]["edges"]) == 5, body
        self.queries += 1
        sent = time.monotonic()
        assert (await client.get("/healthz")).status_code == 200
        self.slowest_health = max(self.slowest_health, time.monotonic() - sent)


def attack_main(
    url: str, queries: list[str], concurrency: int, rounds: int, cookies: dict[str, str]
) -> None:
    """The attacker, in a process of its own (so its client work does not slow the probe's
    event loop): `rounds` times, all of `queries` at once; prints the answers as JSON."""

    async def attack() -> list[Any]:
        # Below uvicorn's keep-alive (5 s by default), so no idle connection is reused just
        # as the server closes it.
        limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=2)
        async with httpx.AsyncClient(
            base_url=url, timeout=60, limits=limits, cookies=cookies
        ) as client:
            answers: list[Any] = []
            for _ in range(rounds):
                responses = await asyncio.gather(
                    *(client.post("/graphql", json={"query": q}) for q in queries)
                )
                answers.extend(r.json() for r in responses)
            return answers

    print(json.dumps(asyncio.run(attack())))


async def machine_noise(url: str, cookies: dict[str, str], seconds: float = 3.0) -> float:
    """The slowest answer the probe gets with no attack running."""
    probe = Probe(url, cookies)
    done = asyncio.Event()
    probing = asyncio.create_task(probe.run(done))
    await asyncio.sleep(seconds)  # a measurement window, not a wait for a condition
    done.set()
    await probing
    return max(probe.slowest_query, probe.slowest_health)


async def under_probe(
    url: str, cookies: dict[str, str], queries: list[str], rounds: int
) -> tuple[Probe, list[Any]]:
    """Runs the attack in another process while probing; the probe and the attack's answers."""
    probe = Probe(url, cookies)
    done = asyncio.Event()
    probing = asyncio.create_task(probe.run(done))
    code = (
        "import json, sys; from tests.bff.test_overload import attack_main; "
        "attack_main(sys.argv[1], json.load(sys.stdin), int(sys.argv[2]), int(sys.argv[3]), "
        "json.loads(sys.argv[4]))"
    )
    try:
        attacker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            code,
            url,
            str(len(queries)),
            str(rounds),
            json.dumps(cookies),
            cwd=REPO_ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await attacker.communicate(json.dumps(queries).encode())
        assert attacker.returncode == 0
    finally:
        done.set()
        await probing
    async with probe.client() as client:
        await probe.once(client)  # and afterwards
    return probe, json.loads(out)


async def test_the_30_alias_burst_five_times_leaves_the_bff_responsive(stack: Stack) -> None:
    queries = [alias_burst_query(i, stack.invoice_numbers) for i in range(100)]
    assert 700 < min(len(q) for q in queries) < max(len(q) for q in queries) < 1400
    noise = await machine_noise(stack.bff.url, stack.cookies)

    probe, answers = await under_probe(stack.bff.url, stack.cookies, queries, rounds=5)

    print(
        f"\nslowest normal query {probe.slowest_query * 1000:.0f} ms of {probe.queries}"
        f" (without the attack: {noise * 1000:.0f} ms)"
    )
    assert len(answers) == 500
    assert all("errors" not in a for a in answers), next(a for a in answers if "errors" in a)
    assert probe.queries >= 2
    assert probe.slowest_query < BOUND + noise
    assert probe.slowest_health < BOUND + noise


async def test_450_duplicated_fields_ten_at_once_leave_the_bff_responsive(stack: Stack) -> None:
    query = "{ " + " ".join(["syncStatus { token }"] * 450) + " }"
    noise = await machine_noise(stack.bff.url, stack.cookies)

    probe, answers = await under_probe(stack.bff.url, stack.cookies, [query] * 10, rounds=3)

    assert len(answers) == 30
    assert all("more than 500 tokens" in a["errors"][0]["message"] for a in answers)
    print(f"\nslowest normal query {probe.slowest_query * 1000:.0f} ms of {probe.queries}")
    assert probe.slowest_query < BOUND + noise
    assert probe.slowest_health < BOUND + noise


async def test_sigterm_stops_the_bff_in_the_middle_of_a_burst(tmp_path: Path, stack: Stack) -> None:
    port = free_port()
    bff = ServiceProcess(
        "bff-sigterm", "bff.app:create_app", port, stack.bff.env, tmp_path / "bff.log"
    )
    with bff:
        queries = [alias_burst_query(i, stack.invoice_numbers) for i in range(100)]
        cookies = await asyncio.to_thread(session_cookies, bff.url, "tester")
        answering = asyncio.Event()

        async def answered(_response: httpx.Response) -> None:
            answering.set()

        async with httpx.AsyncClient(
            base_url=bff.url,
            timeout=60,
            limits=httpx.Limits(max_connections=200),
            cookies=cookies,
            event_hooks={"response": [answered]},
        ) as client:
            burst = asyncio.gather(
                *(client.post("/graphql", json={"query": q}) for q in queries),
                return_exceptions=True,
            )
            async with asyncio.timeout(30):
                await answering.wait()  # the BFF is working through the burst
            bff.send_signal(signal.SIGTERM)
            await asyncio.to_thread(bff.wait_exit, 15)
            await burst
        # A graceful shutdown (uvicorn re-raises the signal after it, hence no exit code 0).
        assert "Application shutdown complete" in bff.log_tail(200)
