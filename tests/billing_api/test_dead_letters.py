"""Dead letters: a record billing cannot apply is set aside and the pull moves on; an operator
retries it (to exactly one invoice) or dismisses it.

The bad records are real: an order whose stored total no longer matches its lines, or whose
currency is not three letters, planted in ordering's own SQLite database (data corrupted where
billing cannot prevent it), and a trigger planted in billing's database that refuses one order.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from billing_api.models import DeadLetterStatus
from tests.billing_api.checks import (
    assert_consistent,
    eventually,
    invoices_by_order,
    local_orders,
    sync_state,
)
from tests.billing_api.conftest import Billing, BillingFactory, Ordering


def _sql(url: str, *statements: str) -> None:
    with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"))) as db:
        for statement in statements:
            db.execute(statement)
        db.commit()


async def _letters(billing: Billing, **params: Any) -> list[dict[str, Any]]:
    response = await billing.http.get("/sync/dead-letters", params=params)
    assert response.status_code == 200, response.text
    letters: list[dict[str, Any]] = response.json()["dead_letters"]
    return letters


async def _invoice_counts(billing: Billing) -> dict[int, int]:
    return {n: len(found) for n, found in (await invoices_by_order(billing.engine)).items()}


async def test_a_record_breaking_a_billing_rule_is_set_aside_and_retried_to_one_invoice(
    ordering: Ordering, billing: Billing
) -> None:
    for _ in range(3):
        await ordering.clerk.confirmed()
    # Order 2's total no longer matches its lines in ordering's database.
    _sql(ordering.database_url, "UPDATE orders SET total_cents = total_cents + 1 WHERE number = 2")

    report = await billing.syncer.pull()
    assert (report.new, report.token_after) == (2, 3), "orders 1 and 3 were not held back"
    assert set(await local_orders(billing.engine)) == {1, 3}
    [letter] = await _letters(billing)
    assert (letter["order_number"], letter["kind"], letter["status"]) == (2, "rule", "open")
    assert "total 1.01 is not the sum of its lines (1.00)" in letter["error"]
    assert letter["payload"]["number"] == 2 and letter["payload"]["total"] == "1.01"
    status = (await billing.http.get("/sync/status")).json()
    assert status["dead_letters"]["open"] == 1 and status["totals"]["dead_lettered"] == 1
    assert status["health"] == "degraded" and "dead letters" in status["health_reason"]
    assert status["health_since"] == letter["first_failed_at"]

    # Later records flow past it.
    await ordering.clerk.confirmed()
    assert (await billing.syncer.pull()).new == 1
    assert set(await local_orders(billing.engine)) == {1, 3, 4}

    # A retry before the cause is fixed fails again, in words, and counts the attempt.
    again = await billing.http.post(f"/sync/dead-letters/{letter['id']}/retry")
    assert again.status_code == 409
    assert "still cannot be applied" in again.json()["error"]["message"]
    assert (await billing.http.get(f"/sync/dead-letters/{letter['id']}")).json()["attempts"] == 2

    # Fixed in ordering (the same version): the retry reads it afresh and makes its invoice.
    _sql(ordering.database_url, "UPDATE orders SET total_cents = total_cents - 1 WHERE number = 2")
    retried = await billing.http.post(f"/sync/dead-letters/{letter['id']}/retry")
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert (body["outcome"], body["source"]) == ("new", "ordering")
    assert body["invoice_number"] is not None
    assert body["dead_letter"]["status"] == "resolved"
    assert (await billing.http.post(f"/sync/dead-letters/{letter['id']}/retry")).status_code == 409

    # Exactly once: pulls from the start again change nothing.
    await billing.http.post("/sync/reset", json={"token": 0})
    await billing.syncer.pull()
    assert await _invoice_counts(billing) == {1: 1, 2: 1, 3: 1, 4: 1}
    await assert_consistent(billing.engine, await ordering.clerk.published())
    status = (await billing.http.get("/sync/status")).json()
    assert (status["health"], status["dead_letters"]["open"]) == ("healthy", 0)


async def test_a_record_billings_database_refuses_is_set_aside_then_retried(
    ordering: Ordering, billing: Billing, billing_db: str
) -> None:
    for _ in range(3):
        await ordering.clerk.confirmed()
    _sql(
        billing_db,
        "CREATE TRIGGER refuse_two BEFORE INSERT ON local_orders WHEN NEW.number = 2 "
        "BEGIN SELECT RAISE(ABORT, 'planted: order 2 refused'); END",
    )
    report = await billing.syncer.pull()
    assert report.token_after == 3 and report.new == 2
    assert set(await local_orders(billing.engine)) == {1, 3}
    [letter] = await _letters(billing, status="open")
    assert (letter["order_number"], letter["kind"], letter["attempts"]) == (2, "database", 3)
    assert "planted: order 2 refused" in letter["error"]

    _sql(billing_db, "DROP TRIGGER refuse_two")
    retried = await billing.http.post(f"/sync/dead-letters/{letter['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert await _invoice_counts(billing) == {1: 1, 2: 1, 3: 1}
    await billing.syncer.pull()
    await assert_consistent(billing.engine, await ordering.clerk.published())


async def test_a_newer_record_of_the_order_supersedes_its_letter(
    ordering: Ordering, billing: Billing
) -> None:
    await ordering.clerk.confirmed()
    _sql(ordering.database_url, "UPDATE orders SET currency = 'EURO' WHERE number = 1")
    await ordering.clerk.confirmed()
    report = await billing.syncer.pull()
    assert (report.new, report.token_after) == (1, 2)
    [letter] = await _letters(billing)
    assert letter["order_number"] == 1 and "currency" in letter["error"]
    assert letter["payload"]["currency"] == "EURO", "the record as ordering sent it"

    # Ordering's data is put right, and the order deleted: a newer version reaches billing.
    _sql(ordering.database_url, "UPDATE orders SET currency = 'EUR' WHERE number = 1")
    await ordering.clerk.delete(1)
    await billing.syncer.pull()
    [after] = await _letters(billing)
    assert after["status"] == DeadLetterStatus.RESOLVED.value
    assert after["resolution"] is not None and "superseded" in after["resolution"]
    assert await _invoice_counts(billing) == {1: 1, 2: 1}
    await assert_consistent(billing.engine, await ordering.clerk.published())


async def test_an_operator_dismisses_a_letter_with_a_reason(
    ordering: Ordering, billing: Billing
) -> None:
    await ordering.clerk.confirmed()
    _sql(ordering.database_url, "UPDATE orders SET total_cents = 0 WHERE number = 1")
    await billing.syncer.pull()
    [letter] = await _letters(billing)
    path = f"/sync/dead-letters/{letter['id']}"

    blank = await billing.http.post(f"{path}/dismiss", json={"reason": "   "})
    assert blank.status_code == 422
    missing = await billing.http.post("/sync/dead-letters/999/dismiss", json={"reason": "x"})
    assert missing.status_code == 404
    dismissed = await billing.http.post(f"{path}/dismiss", json={"reason": "test order, void"})
    assert dismissed.status_code == 200
    assert dismissed.json()["resolution"] == "dismissed: test order, void"
    assert (await billing.http.post(f"{path}/dismiss", json={"reason": "x"})).status_code == 409
    assert (await billing.http.post(f"{path}/retry")).status_code == 409
    assert await _letters(billing, status="open") == []
    assert [d["id"] for d in await _letters(billing, status="dismissed")] == [letter["id"]]
    state = await sync_state(billing.engine)
    assert state.token == 1, "the pull moved on"
    status = (await billing.http.get("/sync/status")).json()
    assert status["health"] == "healthy"
    bad = await billing.http.get("/sync/dead-letters", params={"status": "lost"})
    assert bad.status_code == 400


@pytest.mark.postgres
async def test_a_record_refused_by_billings_postgresql_is_set_aside_then_retried(
    ordering: Ordering, make_billing: BillingFactory, pg_url: str
) -> None:
    """The same on PostgreSQL, where a refused statement aborts the transaction: each record is
    applied in a savepoint, so the others still commit with the token."""
    for _ in range(3):
        await ordering.clerk.confirmed()
    async with make_billing(database_url=pg_url) as billing:
        engine = create_async_engine(pg_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "CREATE FUNCTION refuse_two() RETURNS trigger AS $$ BEGIN "
                        "IF NEW.number = 2 THEN RAISE EXCEPTION 'planted: order 2 refused'; "
                        "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                    )
                )
                await connection.execute(
                    text(
                        "CREATE TRIGGER refuse_two BEFORE INSERT ON local_orders "
                        "FOR EACH ROW EXECUTE FUNCTION refuse_two()"
                    )
                )
            report = await billing.syncer.pull()
            assert (report.new, report.token_after) == (2, 3)
            [letter] = await _letters(billing)
            assert (letter["order_number"], letter["kind"], letter["attempts"]) == (
                2,
                "database",
                3,
            )
            assert "planted: order 2 refused" in letter["error"]
            async with engine.begin() as connection:
                await connection.execute(text("DROP TRIGGER refuse_two ON local_orders"))
        finally:
            await engine.dispose()
        retried = await billing.http.post(f"/sync/dead-letters/{letter['id']}/retry")
        assert retried.status_code == 200, retried.text
        assert await _invoice_counts(billing) == {1: 1, 2: 1, 3: 1}
        await billing.syncer.pull()
        await assert_consistent(billing.engine, await ordering.clerk.published())


async def test_the_background_long_poll_sets_a_bad_record_aside_and_follows_on(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    """The scheduled loop (long poll, its page applied by the pull) meets an unreadable record:
    it becomes a dead letter and the orders after it still arrive within the wait."""
    async with make_billing(pull_enabled=True, pull_wait=5.0) as billing:
        await ordering.clerk.confirmed()
        bad = await ordering.clerk.create()
        _sql(
            ordering.database_url,
            f"UPDATE orders SET currency = 'EURO' WHERE number = {bad['number']}",
        )
        await ordering.clerk.confirm(bad["number"])
        after = await ordering.clerk.confirmed()

        async def arrived() -> bool:
            return after["number"] in await local_orders(billing.engine)

        await eventually(arrived)
        [letter] = await _letters(billing)
        assert letter["order_number"] == bad["number"] and letter["kind"] == "rule"
        assert set(await local_orders(billing.engine)) == {1, after["number"]}
