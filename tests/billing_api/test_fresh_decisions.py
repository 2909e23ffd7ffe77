"""Decisions on fresh data: an invoice whose order is deleted is never approved, whatever the
timing (benchmarks/approve_race.py races them; here a few hundred rounds on each database)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from benchmarks.approve_race import run_races
from billing_api.sync import _Seed
from tests.billing_api.conftest import Billing, BillingFactory, Ordering, run_billing, run_ordering
from tests.billing_api.harness import fail_feed, raise_connect

ROUNDS = 200


async def _pending_invoice(ordering: Ordering, billing: Billing) -> tuple[int, int]:
    order = await ordering.clerk.confirmed()
    link = await billing.browser.get(f"/link/new_order/{order['number']}")
    assert link.status_code == 303
    return order["number"], int(link.headers["location"].rsplit("/", 1)[1])


async def test_approve_right_after_a_delete_is_refused_with_the_reason(
    ordering: Ordering, billing: Billing
) -> None:
    order, invoice = await _pending_invoice(ordering, billing)
    await ordering.clerk.delete(order)  # billing has not pulled: its copy still says pending

    answer = await billing.http.post(f"/invoices/{invoice}/approve")

    assert answer.status_code == 409
    assert answer.json()["error"] == {
        "code": "conflict",
        "message": f"Invoice {invoice} cannot be approved: its order {order} was deleted in "
        "ordering, so the invoice is void.",
    }
    shown = (await billing.http.get(f"/invoices/{invoice}")).json()
    assert (shown["status"], shown["order_deleted"]) == ("void", True)
    # Asked again later, the same sentence (the invoice is void because of the delete).
    again = await billing.http.post(f"/invoices/{invoice}/approve")
    assert again.status_code == 409 and "was deleted" in again.json()["error"]["message"]


async def test_an_approval_then_a_delete_stays_approved_and_flagged(
    ordering: Ordering, billing: Billing
) -> None:
    order, invoice = await _pending_invoice(ordering, billing)
    assert (await billing.http.post(f"/invoices/{invoice}/approve")).status_code == 200
    await ordering.clerk.delete(order)
    await billing.syncer.pull()
    shown = (await billing.http.get(f"/invoices/{invoice}")).json()
    assert (shown["status"], shown["order_deleted"]) == ("approved", True)
    # Approving it again changes nothing and is not refused: it was approved before the delete.
    again = await billing.http.post(f"/invoices/{invoice}/approve")
    assert again.status_code == 200 and again.json()["approved_at"] == shown["approved_at"]


async def test_feed_down_falls_back_to_fetching_the_one_order(
    ordering: Ordering, billing: Billing
) -> None:
    order, invoice = await _pending_invoice(ordering, billing)
    await ordering.clerk.delete(order)
    ordering.transport.fault = fail_feed(raise_connect)

    answer = await billing.http.post(f"/invoices/{invoice}/approve")

    assert answer.status_code == 409 and "was deleted" in answer.json()["error"]["message"]


async def test_ordering_unreachable_approves_nothing(ordering: Ordering, billing: Billing) -> None:
    order, invoice = await _pending_invoice(ordering, billing)
    ordering.transport.fault = raise_connect

    answer = await billing.http.post(f"/invoices/{invoice}/approve")

    assert answer.status_code == 503
    assert answer.json()["error"]["message"].startswith(
        f"Billing cannot check with ordering that order {order} "
    )
    shown = (await billing.http.get(f"/invoices/{invoice}")).json()
    assert shown["status"] == "pending_approval"
    ordering.transport.fault = None
    assert (await billing.http.post(f"/invoices/{invoice}/approve")).status_code == 200


async def test_a_pull_in_flight_that_started_earlier_is_not_enough(
    ordering: Ordering, billing: Billing
) -> None:
    """The pull in flight read the feed before the delete committed: the approval must not ride
    on it. The feed request of the first pull is held until the delete has been answered."""
    order, invoice = await _pending_invoice(ordering, billing)
    inner = ordering.transport.inner
    release, held, approving = asyncio.Event(), asyncio.Event(), asyncio.Event()

    class Holding(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await inner.handle_async_request(request)
            await response.aread()
            if request.url.path == "/orders/changes" and not held.is_set():
                held.set()
                await release.wait()  # answered before the delete, delivered after it
            return response

    ordering.transport.inner = Holding()
    syncer = billing.syncer
    pull_fresh = syncer.pull_fresh

    async def spied_pull_fresh() -> object:
        approving.set()
        return await pull_fresh()

    syncer.pull_fresh = spied_pull_fresh  # type: ignore[method-assign,assignment]
    early = asyncio.create_task(syncer.pull())
    await held.wait()
    await ordering.clerk.delete(order)
    approve = asyncio.create_task(billing.http.post(f"/invoices/{invoice}/approve"))
    await approving.wait()  # the approval now waits for a pull of its own
    release.set()
    await early
    answer = await approve
    assert answer.status_code == 409, answer.text


async def test_a_page_the_long_poll_brought_before_the_approval_is_not_enough(
    ordering: Ordering, billing: Billing
) -> None:
    """The background loop hands its next pull the page its long poll brought. A pull for an
    approval must not settle for that page when it was read before the approval arrived."""
    order, invoice = await _pending_invoice(ordering, billing)
    await ordering.clerk.confirmed()  # a change after billing's token: the long poll's page
    syncer = billing.syncer
    token = (await syncer.status()).token
    asked = time.monotonic()
    page = await syncer.client.fetch_changes(token, 500)
    assert page.orders and not page.has_more
    await ordering.clerk.delete(order)  # after that page was read
    syncer._seed = _Seed(token, page, asked)  # as run_forever leaves it for the next pull

    answer = await billing.http.post(f"/invoices/{invoice}/approve")

    assert answer.status_code == 409, answer.text


async def _race(ordering: Ordering, billing: Billing) -> None:
    report, done = await run_races(ordering.clerk.client, billing.http, ROUNDS, concurrency=4)
    assert len(done) == ROUNDS
    assert report.inconsistent == []
    assert report.approvals_of_deleted_orders == 0
    # The race is a race: both orders of events happened, and the strict case was exercised.
    assert report.refused > 0
    assert report.delete_first > 0


async def test_delete_and_approve_race_on_sqlite(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    # The background pull runs too: scheduled pulls race the approvals' own pulls.
    async with make_billing(pull_enabled=True, pull_interval=0.2) as billing:
        await _race(ordering, billing)


@pytest.mark.postgres
async def test_delete_and_approve_race_on_postgres(make_pg_url: Callable[[], str]) -> None:
    async with (
        run_ordering(make_pg_url()) as ordering,
        run_billing(
            make_pg_url(), ordering.transport, pull_enabled=True, pull_interval=0.2
        ) as billing,
    ):
        await _race(ordering, billing)
