"""Ordering's database restored from a backup taken earlier: billing notices that the feed went
backwards, stops, says so in words, and an operator's repairing re-sync brings billing's copy
to ordering's current state with no invoice lost and none twice.

Real PostgreSQL for ordering, a real `pg_dump` backup and a real `pg_restore`, ordering stopped
and started around the restore as an operator would.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from billing_api.sync import PullHalted
from service_procs.postgres import PG_BIN, PostgresServer
from tests.billing_api.checks import invoices_by_order, local_orders, sync_state
from tests.billing_api.conftest import run_billing, run_ordering

pytestmark = pytest.mark.postgres


def _pg(server: PostgresServer, tool: str, *args: str) -> None:
    connection = ["-h", server.host, "-p", str(server.port), "-U", server.user]
    subprocess.run([str(PG_BIN / tool), *connection, *args], check=True, capture_output=True)


@pytest.mark.parametrize("billing_kind", ["sqlite", "postgresql"])
async def test_a_restored_ordering_database_is_detected_and_repaired(
    pg_server: PostgresServer, make_pg_url: Callable[[], str], tmp_path: Path, billing_kind: str
) -> None:
    ordering_url = make_pg_url()
    database = ordering_url.rsplit("/", 1)[1]
    billing_db = (
        make_pg_url()
        if billing_kind == "postgresql"
        else f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"
    )
    backup = tmp_path / "ordering.dump"

    async with (
        run_ordering(ordering_url) as ordering,
        run_billing(billing_db, ordering.transport) as billing,
    ):
        for _ in range(3):
            await ordering.clerk.confirmed()
        await billing.syncer.pull()
        _pg(pg_server, "pg_dump", "-Fc", "-d", database, "-f", str(backup))
        backup_taken = datetime.now(UTC)
        # After the backup: two more orders and a delete, all pulled by billing.
        await ordering.clerk.confirmed()
        await ordering.clerk.confirmed()
        await ordering.clerk.delete(2)
        report = await billing.syncer.pull()
        assert (report.new, report.removed, report.token_after) == (2, 1, 6)

    # The restore, with ordering stopped; its feed keeps its identity (the same database).
    _pg(pg_server, "pg_restore", "--clean", "--if-exists", "-d", database, str(backup))

    async with run_ordering(ordering_url) as ordering:
        # Work goes on in the restored ordering: number 4 is handed out again, to a new order.
        reissued = await ordering.clerk.confirmed(quantity=9)
        assert reissued["number"] == 4
        async with run_billing(billing_db, ordering.transport) as billing:
            with pytest.raises(PullHalted) as halted:
                await billing.syncer.pull()
            assert "ordering's feed is behind what billing has seen" in halted.value.reason
            assert "was its database restored?" in halted.value.reason
            status = (await billing.http.get("/sync/status")).json()
            assert (status["health"], status["halted"], status["high_water"]) == (
                "failing",
                True,
                4,
            )
            assert "was its database restored?" in status["health_reason"]
            assert status["health_since"] is not None
            run = await billing.http.post("/sync/run")
            assert run.status_code == 409 and "restored" in run.json()["error"]["message"]
            assert (await sync_state(billing.engine)).token == 6, "billing did not advance"

            # The operator re-syncs the changes made since the backup: from just before the
            # first change billing holds from then on (position 3).
            resync = await billing.http.post(
                "/sync/resync", json={"since": backup_taken.isoformat()}
            )
            assert resync.status_code == 200, resync.text
            repair = resync.json()["repair"]
            assert (repair["from_position"], repair["orders_seen"]) == (3, 1)
            assert repair["changed"] == 1, "the reissued order 4 replaces the lost one"
            after = resync.json()["status"]
            assert (after["health"], after["halted"], after["repairing"]) == (
                "healthy",
                False,
                False,
            )
            assert after["token"] == 4
            copy = await local_orders(billing.engine)
            assert copy[2].status == "deleted", "order 2 sits below position 3 in ordering"

            # A full repairing re-sync puts order 2 back as ordering has it now.
            resync = await billing.http.post("/sync/resync", json={"position": 0})
            assert resync.status_code == 200, resync.text
            repair = resync.json()["repair"]
            assert repair["finished_at"] is not None and repair["orders_seen"] == 4
            assert (repair["overwritten"], repair["overwritten_orders"]) == (1, [2])
            assert repair["invoices_created"] == 0 and repair["new"] == 0
            assert any(
                "is void but order 2 stands confirmed" in note for note in repair["attention"]
            )

            # Billing's copy is ordering's state for every order ordering has; none lost, none
            # twice: one invoice per order, the reissued one mirroring its new order.
            published = await ordering.clerk.published()
            copy = await local_orders(billing.engine)
            invoices = await invoices_by_order(billing.engine)
            for number, order in published.items():
                assert copy[number].total == order["total"]
                assert copy[number].status == order["status"]
                assert copy[number].row_version == order["row_version"]
                assert len(invoices[number]) == 1
                assert invoices[number][0].amount == order["total"]
            assert invoices[4][0].amount == "2.25"
            assert set(invoices) == {1, 2, 3, 4, 5}, "order 5's invoice is kept, not lost"
            assert all(len(found) == 1 for found in invoices.values())

            # And the pull follows ordering again, also when ordering hands out number 5
            # again: a record created at another time is another order, whatever its version.
            again = await ordering.clerk.confirmed(quantity=7)
            assert again["number"] == 5
            report = await billing.syncer.pull()
            assert (report.token_after, report.changed) == (5, 1)
            invoices = await invoices_by_order(billing.engine)
            assert [i.amount for i in invoices[5]] == ["1.75"], "mirrors the new order 5"
            assert all(len(found) == 1 for found in invoices.values())
