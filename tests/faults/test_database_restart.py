"""PostgreSQL restarting under load: every answer of ordering and billing is a success or a 503
with `Retry-After`, never a 500; the services log one line per failure (no traceback); billing's
sync status records the failure; everything recovers without a restart of the services.

Ordering and billing run as real uvicorn processes on a PostgreSQL cluster of this test's own
(it is stopped and started, so it cannot be the session's shared one).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import PostgresServer, free_port, postgres_server

pytestmark = pytest.mark.postgres

TOKEN = "restart-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WORKERS = 6
ORDER = {
    "customer": {"name": "Restart Ltd", "email": "ops@restart.test"},
    "currency": "EUR",
    "lines": [{"sku": "R-1", "quantity": 2, "unit_price": "3.50"}],
}


@pytest.fixture
def own_pg() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


class Load:
    """Clerks creating, confirming and reading orders, and billing's readers, all counting the
    statuses they get per service; stops when told to."""

    def __init__(self, ordering: str, billing: str) -> None:
        self.ordering, self.billing = ordering, billing
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.missing_retry_after: list[str] = []
        self.confirmed: set[int] = set()
        self.rounds_ok = 0
        self.stop = asyncio.Event()

    def seen(self, service: str, status: int) -> int:
        return self.statuses[(service, status)]

    def record(self, service: str, response: httpx.Response) -> bool:
        self.statuses[(service, response.status_code)] += 1
        if response.status_code == 503 and "retry-after" not in response.headers:
            self.missing_retry_after.append(f"{response.request.method} {response.request.url}")
        return response.status_code < 500

    async def worker(self) -> None:
        async with (
            httpx.AsyncClient(base_url=self.ordering, headers=AUTH, timeout=30) as ordering,
            httpx.AsyncClient(base_url=self.billing, headers=AUTH, timeout=30) as billing,
        ):
            while not self.stop.is_set():
                if await self.round(ordering, billing):
                    self.rounds_ok += 1

    async def round(self, ordering: httpx.AsyncClient, billing: httpx.AsyncClient) -> bool:
        ok = True
        created = await ordering.post("/orders", json=ORDER)
        ok &= self.record("ordering", created)
        if created.status_code == 201:
            number = created.json()["number"]
            confirmed = await ordering.post(f"/orders/{number}/confirm")
            ok &= self.record("ordering", confirmed)
            if confirmed.status_code == 200:
                self.confirmed.add(number)
            ok &= self.record("ordering", await ordering.get(f"/orders/{number}"))
            link = await billing.get(f"/link/new_order/{number}")
            ok &= self.record("billing", link)
        for path in ("/orders?limit=5", "/orders/changes?since=0&limit=20"):
            ok &= self.record("ordering", await ordering.get(path))
        for path in ("/invoices?limit=5", "/sync/status"):
            ok &= self.record("billing", await billing.get(path))
        ok &= self.record("billing", await billing.post("/sync/run"))
        return ok


async def _until(condition: Callable[[], bool], what: str, within: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_postgres_restart_under_load_answers_503_never_500(
    own_pg: PostgresServer, tmp_path: Path
) -> None:
    ports = {"ordering": free_port(), "billing": free_port()}
    ordering_url, billing_url = (f"http://127.0.0.1:{ports[n]}" for n in ("ordering", "billing"))
    env = service_env(
        {
            "SERVICE_TOKEN": TOKEN,
            "ORDERING_DATABASE_URL": own_pg.create_database("ordering"),
            "BILLING_DATABASE_URL": own_pg.create_database("billing"),
            "BILLING_ORDERING_URL": ordering_url,
            "BILLING_PULL_INTERVAL": "0.2",
            "BILLING_PULL_BACKOFF_CAP": "0.5",
            "BILLING_PULL_LOCK_WAIT": "5",
        }
    )
    ordering = ServiceProcess(
        "ordering", "ordering_api.app:create_app", ports["ordering"], env, tmp_path / "o.log"
    )
    billing = ServiceProcess(
        "billing", "billing_api.app:create_app", ports["billing"], env, tmp_path / "b.log"
    )
    with ordering, billing:
        load = Load(ordering_url, billing_url)
        workers = [asyncio.create_task(load.worker()) for _ in range(WORKERS)]
        try:
            for mode in ("fast", "immediate"):  # a clean shutdown, then a crash and recovery
                await _until(lambda: load.rounds_ok >= WORKERS, "load to be under way")
                before = {s: load.seen(s, 503) for s in ("ordering", "billing")}
                stopped_at = datetime.now().astimezone()
                await asyncio.to_thread(own_pg.stop, mode)
                # Down until both services have answered a request with PostgreSQL gone.
                await _until(
                    lambda: all(load.seen(s, 503) > n for s, n in before.items()),  # noqa: B023
                    "both services to answer 503 while PostgreSQL is down",
                )
                await asyncio.to_thread(own_pg.start)
                rounds = load.rounds_ok
                await _until(
                    lambda: load.rounds_ok >= rounds + 2 * WORKERS,  # noqa: B023
                    "clean rounds again after PostgreSQL came back",
                )
        finally:
            load.stop.set()
            await asyncio.gather(*workers)

        unexpected = {k: v for k, v in load.statuses.items() if k[1] >= 500 and k[1] != 503}
        assert not unexpected, f"answers other than 503 among the 5xx: {unexpected}"
        assert not load.missing_retry_after, load.missing_retry_after[:5]
        assert load.seen("ordering", 503) > 0 and load.seen("billing", 503) > 0

        # Billing recorded a failed pull from the outage in its status, once it could.
        async with httpx.AsyncClient(base_url=billing_url, headers=AUTH) as client:
            status = (await client.get("/sync/status")).json()
            assert status["last_error"], status
            assert datetime.fromisoformat(status["last_error_at"]) >= stopped_at, status
            # Nothing lost: every order confirmed during the test has its invoice.
            await client.post("/sync/run")
            invoiced: set[int] = set()
            numbers = sorted(load.confirmed)
            for start in range(0, len(numbers), 100):
                chunk = numbers[start : start + 100]
                batch = await client.get("/invoices", params={"order_number": chunk})
                invoiced |= {i["order_number"] for i in batch.json()["invoices"]}
            assert invoiced == load.confirmed

    for service in (ordering, billing):
        log = service.log_path.read_text()
        assert "Traceback" not in log, f"{service.name} logged a traceback:\n{service.log_tail()}"
        assert "database unavailable" in log or "database failed" in log, service.log_tail()
