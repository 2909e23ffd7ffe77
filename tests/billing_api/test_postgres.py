"""billing on the real PostgreSQL server: the same rules, replicas sharing one database, and
real uvicorn processes (one of them killed between fetch and commit)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from billing_api.sync import PULL_LOCK_KEY, PullBusy
from tests.billing_api.checks import (
    assert_consistent,
    eventually,
    invoice_count,
    local_orders,
    sync_state,
)
from tests.billing_api.conftest import WEB_URL, BillingFactory, Ordering
from tests.billing_api.harness import AUTH, TOKEN, OrderingDriver
from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port

pytestmark = pytest.mark.postgres


@asynccontextmanager
async def direct(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's own connection to billing's database, outside billing."""
    engine = create_async_engine(pg_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@dataclass
class OtherReplica:
    """A session of "another replica" holding billing's pull lock."""

    connection: AsyncConnection

    async def let_go(self) -> None:
        await self.connection.execute(
            text("SELECT pg_advisory_unlock(:key)"), {"key": PULL_LOCK_KEY}
        )


@asynccontextmanager
async def another_replica_pulling(pg_url: str) -> AsyncIterator[OtherReplica]:
    async with direct(pg_url) as db, db.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PULL_LOCK_KEY})
        yield OtherReplica(connection)


async def test_full_flow_on_postgres(
    ordering: Ordering, make_billing: BillingFactory, pg_url: str
) -> None:
    async with make_billing(database_url=pg_url) as billing:
        first = await ordering.clerk.confirmed()
        await ordering.clerk.confirmed()
        link = await billing.browser.get(f"/link/new_order/{first['number']}")
        assert link.status_code == 303
        await ordering.clerk.delete(first["number"])
        third = await ordering.clerk.confirmed()
        report = await billing.syncer.pull()
        assert report is not None
        assert (report.new, report.removed) == (1, 1), "the deep link pulled the first two"
        link = await billing.browser.get(f"/link/new_order/{third['number']}")
        assert link.status_code == 303
        await assert_consistent(billing.engine, await ordering.clerk.published())
    async with make_billing(database_url=pg_url) as restarted:
        assert (await sync_state(restarted.engine)).token == 4, "kept across restarts"


async def test_two_replicas_on_one_database_pulling_at_once(
    ordering: Ordering, make_billing: BillingFactory, pg_url: str
) -> None:
    async with (
        make_billing(database_url=pg_url, pull_page_size=3) as a,
        make_billing(database_url=pg_url, pull_page_size=3) as b,
    ):
        versions: dict[int, int] = {}
        created = 0
        for round_ in range(6):
            orders = [await ordering.clerk.confirmed() for _ in range(4)]
            created += len(orders)
            if round_ % 2:
                await ordering.clerk.delete(orders[0]["number"])
            results = await asyncio.gather(
                a.syncer.pull(),
                b.syncer.pull(),
                a.browser.get(f"/link/new_order/{orders[1]['number']}"),
                b.browser.get(f"/link/new_order/{orders[2]['number']}"),
                a.syncer.pull(wait_for_lock=False),
                b.syncer.pull(wait_for_lock=False),
            )
            assert results[2].status_code == results[3].status_code == 303
            copy = await local_orders(a.engine)
            for number, order in copy.items():
                assert order.row_version >= versions.get(number, 0), "no row regressed"
                versions[number] = order.row_version
        await a.syncer.pull()
        await assert_consistent(a.engine, await ordering.clerk.published())
        assert await invoice_count(a.engine) == created
        state = await sync_state(a.engine)
        assert state.invoices_created <= created, "no invoice counted twice"


async def test_the_pull_is_single_flight_across_replicas(
    ordering: Ordering, make_billing: BillingFactory, pg_url: str
) -> None:
    await ordering.clerk.confirmed()
    async with (
        make_billing(database_url=pg_url, pull_lock_wait=0.3) as billing,
        another_replica_pulling(pg_url) as other_replica,
    ):
        assert await billing.syncer.pull(wait_for_lock=False) is None, "scheduled: skips"
        with pytest.raises(PullBusy):
            await billing.syncer.pull(wait_for_lock=True)
        run = await billing.http.post("/sync/run")
        assert run.status_code == 503
        assert (await billing.http.get("/sync/status")).json()["running"] is True
        assert ordering.transport.feed_requests() == [], "no pull while another runs"
        await other_replica.let_go()
        report = await billing.syncer.pull(wait_for_lock=False)
        assert report is not None and report.new == 1
        assert (await billing.http.get("/sync/status")).json()["running"] is False


async def test_a_pull_waiting_for_the_lock_starts_when_the_other_replica_lets_go(
    ordering: Ordering, make_billing: BillingFactory, pg_url: str
) -> None:
    await ordering.clerk.confirmed()
    async with (
        make_billing(database_url=pg_url, pull_lock_wait=30) as billing,
        another_replica_pulling(pg_url) as other_replica,
    ):
        waiting = asyncio.create_task(billing.syncer.pull())

        async def queued() -> bool:
            found = await other_replica.connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND NOT granted AND objid = :key"
                ),
                {"key": PULL_LOCK_KEY},
            )
            return bool(found)

        await eventually(queued, within=10)
        await other_replica.let_go()
        # Well inside the 30 s wait: PostgreSQL hands the lock over as it is released.
        report = await asyncio.wait_for(waiting, timeout=10)
        assert report.new == 1
        # The lock's short timeout does not stay on connections back in billing's pool.
        # Check every pooled connection out at once, so the lock's is among them.
        engine = billing.syncer.engine
        async with AsyncExitStack() as stack:
            pooled = [
                await stack.enter_async_context(engine.connect())
                for _ in range(max(1, engine.pool.checkedin()))  # type: ignore[attr-defined]
            ]
            timeouts = [await c.scalar(text("SHOW lock_timeout")) for c in pooled]
        assert set(timeouts) == {"0"}, timeouts


# ------------------------------------------------------------------------ real processes


def billing_process(env: dict[str, str], log: Path) -> ServiceProcess:
    return ServiceProcess(
        "billing", "billing_api.app:create_app", free_port(), service_env(env), log
    )


async def test_real_processes_invoice_within_an_interval_and_survive_a_kill(
    tmp_path: Path, pg_url: str
) -> None:
    ordering_env = {
        "ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ordering.db'}",
        "SERVICE_TOKEN": TOKEN,
    }
    with ServiceProcess(
        "ordering", "ordering_api.app:create_app", free_port(), service_env(ordering_env),
        tmp_path / "ordering.log",
    ) as ordering:  # fmt: skip
        ordering_url = ordering.url
        billing_env = {
            "BILLING_DATABASE_URL": pg_url,
            "BILLING_ORDERING_URL": ordering_url,
            "BILLING_WEB_URL": WEB_URL,
            "BILLING_PULL_INTERVAL": "0.2",
            "SERVICE_TOKEN": TOKEN,
        }
        async with (
            httpx.AsyncClient(base_url=ordering_url, headers=AUTH) as ordering_http,
            direct(pg_url) as db,
        ):
            orders = OrderingDriver(ordering_http)
            with billing_process(billing_env, tmp_path / "b1.log") as billing:
                async with httpx.AsyncClient(base_url=billing.url, headers=AUTH) as http:
                    first = await orders.confirmed()

                    async def invoiced() -> bool:
                        found = await http.get(
                            "/invoices", params={"order_number": first["number"]}
                        )
                        return len(found.json()["invoices"]) == 1

                    await eventually(invoiced, within=10)
                    second = await orders.confirmed()
                    link = await http.get(f"/link/new_order/{second['number']}")
                    assert link.status_code == 303
                    assert link.headers["location"].startswith(f"{WEB_URL}/invoices/")
                    await eventually(lambda: _token_is(http, 2), within=10)

                # Hold the sync state row, so the next pull applies its page and then waits at
                # the token update: between fetch and commit. Kill the process right there.
                async with db.connect() as holder:
                    await holder.execute(text("SELECT token FROM sync_state FOR UPDATE"))
                    await orders.delete(first["number"])
                    third = await orders.confirmed()
                    await eventually(lambda: _pull_waits_at_commit(db), within=10)
                    billing.kill()
                    await holder.rollback()

            assert (await sync_state(db)).token == 2, "the killed page did not commit"
            copy = await local_orders(db)
            assert third["number"] not in copy
            assert copy[first["number"]].status == "confirmed", "its delete rolled back too"

            with billing_process(billing_env, tmp_path / "b2.log") as restarted:
                async with httpx.AsyncClient(base_url=restarted.url, headers=AUTH) as http:
                    await eventually(lambda: _token_is(http, 4), within=10)
            published = await orders.published()
            await assert_consistent(db, published)


async def _token_is(http: httpx.AsyncClient, token: int) -> bool:
    return bool((await http.get("/sync/status")).json()["token"] == token)


async def _pull_waits_at_commit(db: AsyncEngine) -> bool:
    async with db.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE sync_state%'"
            )
        )
    return bool(waiting)
