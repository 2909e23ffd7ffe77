"""Reconciliation finds what differs between billing's copy and ordering: planted differences
in billing's real SQLite copy, found by range checksums and then row by row."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing_api.db import create_engine, create_schema
from tests.billing_api.conftest import Billing, BillingFactory, Ordering
from tests.billing_api.harness import AUTH, ORDER_BODY, TOKEN
from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port


@pytest.mark.postgres
async def test_reconciliation_reads_billings_copy_on_postgres(
    ordering: Ordering, make_billing: BillingFactory, make_pg_url: Callable[[], str]
) -> None:
    # Billing's copy is read through a server-side cursor, which needs a transaction although
    # PostgreSQL's read-only sessions run in autocommit.
    async with make_billing(database_url=make_pg_url()) as billing:
        report = await _in_sync_report(ordering, billing, orders=3, range_size=2)
    assert report["ranges_compared"] == 2


async def _in_sync_report(
    ordering: Ordering, billing: Billing, *, orders: int, range_size: int
) -> dict[str, Any]:
    """Confirm `orders` orders, pull them, and reconcile: the report, checked in sync."""
    for _ in range(orders):
        await ordering.clerk.confirmed()
    await billing.syncer.pull()
    answer = await billing.http.get("/sync/reconciliation", params={"range_size": range_size})
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    assert report["in_sync"] is True
    assert (report["ordering_orders"], report["billing_orders"]) == (orders, orders)
    return report


def _sql(url: str, *statements: str) -> None:
    with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"))) as db:
        for statement in statements:
            db.execute(statement)
        db.commit()


async def test_reconciliation_finds_differences_planted_in_billings_copy(
    ordering: Ordering, billing: Billing, billing_db: str
) -> None:
    report = await _in_sync_report(ordering, billing, orders=12, range_size=5)
    assert (report["ranges_compared"], report["ranges_differing"]) == (3, 0)

    # Planted: order 3's amount changed, order 7 and its invoice gone, order 11's invoice gone,
    # order 12 deleted in billing's copy while its invoice stays approved.
    _sql(
        billing_db,
        "UPDATE local_orders SET total = '9.99' WHERE number = 3",
        "DELETE FROM invoices WHERE order_number IN (7, 11)",
        "DELETE FROM local_orders WHERE number = 7",
        "UPDATE local_orders SET status = 'deleted' WHERE number = 12",
        "UPDATE invoices SET status = 'approved' WHERE order_number = 12",
    )
    # And one ordering no longer publishes... as far as billing knows: an extra copy.
    _sql(
        billing_db,
        "INSERT INTO local_orders SELECT 99, status, customer_name, customer_email, currency,"
        " lines, total, row_version, NULL, created_at, updated_at, confirmed_at, deleted_at,"
        " stored_at FROM local_orders WHERE number = 1",
    )
    found = (await billing.http.get("/sync/reconciliation", params={"range_size": 5})).json()
    assert found["in_sync"] is False
    assert found["ranges_differing"] == 4, "ranges 1-5, 6-10, 11-15 and 96-100"
    assert [d["number"] for d in found["missing"]] == [7]
    assert found["missing"][0]["ordering_status"] == "confirmed"
    assert [d["number"] for d in found["extra"]] == [99]
    assert [d["number"] for d in found["different"]] == [3, 12]
    assert found["different"][1]["billing_status"] == "deleted"
    assert found["confirmed_without_invoice"] == [7, 11, 99]
    assert [
        (i["order_number"], i["deleted_in"]) for i in found["approved_invoices_of_deleted_orders"]
    ] == [(12, "billing")]


def test_the_command_lists_differences_and_says_when_it_cannot_compare(tmp_path: Path) -> None:
    """`python -m billing_api.reconcile` against a real ordering process: billing's copy is
    empty, so ordering's confirmed orders are missing and uninvoiced (exit 1); with ordering
    unreachable it says so in one line (exit 2)."""
    env = service_env(
        {
            "SERVICE_TOKEN": TOKEN,
            "ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ordering.db'}",
            "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}",
        }
    )
    port = free_port()
    ordering = ServiceProcess(
        "ordering", "ordering_api.app:create_app", port, env, tmp_path / "ordering.log"
    )
    with ordering, httpx.Client(base_url=ordering.url, headers=AUTH) as clerk:
        for _ in range(2):
            number = clerk.post("/orders", json=ORDER_BODY).json()["number"]
            assert clerk.post(f"/orders/{number}/confirm").status_code == 200
        asyncio.run(_create_billing_schema(env["BILLING_DATABASE_URL"]))
        command = [sys.executable, "-m", "billing_api.reconcile"]
        ran = subprocess.run(
            command,
            env={**env, "BILLING_ORDERING_URL": ordering.url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 1, ran.stderr
        assert "missing from billing's copy (2):" in ran.stdout
        assert "confirmed without an invoice (2):" in ran.stdout
        assert ran.stdout.rstrip().endswith("NOT in sync")
    down = subprocess.run(
        command,
        env={**env, "BILLING_ORDERING_URL": f"http://127.0.0.1:{free_port()}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 2
    assert down.stderr.startswith("reconciliation failed: cannot reach ordering")
    assert "Traceback" not in down.stderr


async def _create_billing_schema(url: str) -> None:
    engine = create_engine(url)
    try:
        await create_schema(engine)
    finally:
        await engine.dispose()
