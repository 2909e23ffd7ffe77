"""The pull against the real ordering app: arrival, exactly-once invoices, edits, deletes,
paging, the token across runs and restarts, feed changes, single flight and the loop."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest

from billing_api.models import InvoiceStatus
from billing_api.sync import PullHalted, backoff_delay
from tests.billing_api.checks import (
    assert_consistent,
    eventually,
    invoice_count,
    invoices_by_order,
    local_orders,
    sync_state,
)
from tests.billing_api.conftest import Billing, BillingFactory, Ordering, run_ordering


async def test_confirmed_orders_arrive_with_exactly_one_invoice(
    ordering: Ordering, billing: Billing
) -> None:
    first = await ordering.clerk.confirmed(quantity=4)
    second = await ordering.clerk.confirmed(quantity=8)
    draft = await ordering.clerk.create()

    report = await billing.syncer.pull()
    assert report is not None
    assert (report.new, report.changed, report.removed, report.stale) == (2, 0, 0, 0)
    assert report.invoices_created == 2

    copy = await local_orders(billing.engine)
    assert set(copy) == {first["number"], second["number"]}, "drafts never arrive"
    assert draft["number"] not in copy
    invoices = await invoices_by_order(billing.engine)
    invoice = invoices[first["number"]][0]
    assert (invoice.amount, invoice.currency, invoice.status) == ("1.00", "EUR", "pending_approval")
    assert (invoice.customer_name, invoice.customer_email) == ("Ada Lovelace", "ada@example.com")
    assert invoices[second["number"]][0].amount == "2.00"

    again = await billing.syncer.pull()
    assert again is not None
    assert (again.pages, again.new, again.stale) == (1, 0, 0)
    assert again.token_before == again.token_after == report.token_after
    await assert_consistent(billing.engine, await ordering.clerk.published())
    assert await invoice_count(billing.engine) == 2


async def test_edits_flow_through_and_deletes_void_pending_invoices(
    ordering: Ordering, billing: Billing
) -> None:
    edited = await ordering.clerk.create(quantity=1)
    await billing.syncer.pull()
    assert await local_orders(billing.engine) == {}, "a draft is not published"
    await ordering.clerk.update(edited["number"], quantity=10, unit_price="3.50")
    await ordering.clerk.confirm(edited["number"])
    to_delete = await ordering.clerk.confirmed()
    to_approve = await ordering.clerk.confirmed()
    await billing.syncer.pull()

    copy = await local_orders(billing.engine)
    assert copy[edited["number"]].total == "35.00"
    assert copy[edited["number"]].lines[0]["quantity"] == 10
    invoices = await invoices_by_order(billing.engine)
    assert invoices[edited["number"]][0].amount == "35.00"
    approved = await billing.http.post(
        f"/invoices/{invoices[to_approve['number']][0].number}/approve"
    )
    assert approved.status_code == 200

    await ordering.clerk.delete(to_delete["number"])
    await ordering.clerk.delete(to_approve["number"])
    report = await billing.syncer.pull()
    assert report is not None
    assert (report.new, report.changed, report.removed) == (0, 0, 2)

    invoices = await invoices_by_order(billing.engine)
    voided = invoices[to_delete["number"]][0]
    assert (voided.status, voided.order_deleted) == (InvoiceStatus.VOID, True)
    assert voided.voided_at is not None
    flagged = invoices[to_approve["number"]][0]
    assert (flagged.status, flagged.order_deleted) == (InvoiceStatus.APPROVED, True)
    assert (await local_orders(billing.engine))[to_delete["number"]].status == "deleted"
    await assert_consistent(billing.engine, await ordering.clerk.published())


async def test_pages_until_has_more_is_false(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    for _ in range(5):
        await ordering.clerk.confirmed()
    async with make_billing(pull_page_size=2) as billing:
        report = await billing.syncer.pull()
        assert report is not None
        assert (report.pages, report.new) == (3, 5)
        sinces = [int(r.url.params["since"]) for r in ordering.transport.feed_requests()]
        assert sinces == [0, 2, 4]
        assert all(r.url.params["limit"] == "2" for r in ordering.transport.feed_requests())
        state = await sync_state(billing.engine)
        assert (state.token, state.pages, state.new, state.invoices_created) == (5, 3, 5, 5)
        await assert_consistent(billing.engine, await ordering.clerk.published())


async def test_token_is_kept_between_runs_and_restarts(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    await ordering.clerk.confirmed()
    await ordering.clerk.confirmed()
    async with make_billing() as billing:
        first = await billing.syncer.pull()
        assert first is not None and first.token_after == 2
    await ordering.clerk.confirmed()
    async with make_billing() as restarted:
        status = (await restarted.http.get("/sync/status")).json()
        assert status["token"] == 2
        assert status["feed_id"] == first.feed_id
        report = await restarted.syncer.pull()
        assert report is not None
        assert (report.token_before, report.token_after, report.new) == (2, 3, 1)
        assert [r.url.params["since"] for r in ordering.transport.feed_requests()][-1] == "2"
        await assert_consistent(restarted.engine, await ordering.clerk.published())


async def test_one_log_line_per_pull(
    ordering: Ordering, billing: Billing, caplog: pytest.LogCaptureFixture
) -> None:
    await ordering.clerk.confirmed()
    caplog.set_level(logging.INFO, logger="billing_api.sync")
    await billing.syncer.pull()
    lines = [r for r in caplog.records if r.name == "billing_api.sync"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert re.fullmatch(
        r"pull ok pages=1 new=1 changed=0 removed=0 stale=0 token=0->1 duration_ms=\d+\.\d",
        lines[0].getMessage(),
    )


async def test_reset_resyncs_without_new_invoices(ordering: Ordering, billing: Billing) -> None:
    for _ in range(3):
        await ordering.clerk.confirmed()
    await billing.syncer.pull()
    reset = await billing.http.post("/sync/reset", json={"token": 0})
    assert reset.status_code == 200
    assert reset.json()["token"] == 0
    assert reset.json()["lag_records"] == 3
    report = await billing.syncer.pull()
    assert report is not None
    assert (report.new, report.stale, report.token_after) == (0, 3, 3)
    assert await invoice_count(billing.engine) == 3


async def test_changed_feed_id_halts_until_an_operator_resyncs(
    ordering: Ordering,
    make_billing: BillingFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for _ in range(3):
        await ordering.clerk.confirmed()
    async with make_billing() as billing:
        await billing.syncer.pull()
        old_feed = (await sync_state(billing.engine)).feed_id
    # Ordering's database was replaced: a new feed_id, positions starting again.
    async with run_ordering(f"sqlite+aiosqlite:///{tmp_path / 'replaced.db'}") as replaced:
        await replaced.clerk.confirmed()
        async with make_billing(transport=replaced.transport) as billing:
            caplog.set_level(logging.WARNING, logger="billing_api.sync")
            with pytest.raises(PullHalted) as halted:
                await billing.syncer.pull()
            assert "ordering's feed identity changed" in halted.value.reason
            assert any("pull halted" in r.getMessage() for r in caplog.records)
            state = await sync_state(billing.engine)
            assert (state.token, state.feed_id) == (3, old_feed), "nothing followed"
            # Halted: later pulls do not even ask ordering until an operator decides.
            asked = len(replaced.transport.feed_requests())
            with pytest.raises(PullHalted):
                await billing.syncer.pull()
            assert len(replaced.transport.feed_requests()) == asked

            resync = await billing.http.post("/sync/resync", json={"position": 0})
            assert resync.status_code == 200, resync.text
            state = await sync_state(billing.engine)
            assert state.feed_id != old_feed and state.token == 1
            assert state.halted_reason is None


async def test_concurrent_pulls_in_one_process_share_one_run(
    ordering: Ordering, billing: Billing
) -> None:
    for _ in range(3):
        await ordering.clerk.confirmed()
    reports = await asyncio.gather(*(billing.syncer.pull() for _ in range(5)))
    assert all(r is reports[0] for r in reports), "callers joined the one pull in flight"
    assert len(ordering.transport.feed_requests()) == 1
    assert await invoice_count(billing.engine) == 3


async def test_background_loop_brings_a_confirmed_order_within_an_interval(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    async with make_billing(pull_enabled=True, pull_interval=0.1) as billing:
        order = await ordering.clerk.confirmed()

        async def invoiced_and_recorded() -> bool:
            status = (await billing.http.get("/sync/status")).json()
            invoices = await invoices_by_order(billing.engine)
            return order["number"] in invoices and status["totals"]["pulls"] >= 1

        await eventually(invoiced_and_recorded, within=5)
        status = (await billing.http.get("/sync/status")).json()
        assert status["healthy"] is True


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    lows = [backoff_delay(n, 5, 60, rand=lambda: 0.0) for n in range(1, 7)]
    highs = [backoff_delay(n, 5, 60, rand=lambda: 1.0) for n in range(1, 7)]
    assert highs == [5, 10, 20, 40, 60, 60]
    assert lows == [h / 2 for h in highs]
    assert backoff_delay(10_000, 5, 60, rand=lambda: 1.0) == 60, "no overflow for long outages"
    spread = {backoff_delay(3, 5, 60) for _ in range(50)}
    assert len(spread) > 1 and all(10 <= d <= 20 for d in spread)


async def test_two_replicas_on_one_sqlite_file(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    # SQLite has no advisory lock: BEGIN IMMEDIATE serializes the writers, and the token's
    # compare-and-set rolls back a page another replica already applied.
    async with make_billing(pull_page_size=2) as a, make_billing(pull_page_size=2) as b:
        for _ in range(4):
            orders = [await ordering.clerk.confirmed() for _ in range(3)]
            await ordering.clerk.delete(orders[0]["number"])
            reports = await asyncio.gather(a.syncer.pull(), b.syncer.pull())
            assert all(r is not None for r in reports)
        await assert_consistent(a.engine, await ordering.clerk.published())
        state = await sync_state(a.engine)
        assert state.invoices_created == 12 == await invoice_count(a.engine)
        assert state.new == 12, "no page was counted by both replicas"
