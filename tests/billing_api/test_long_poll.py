"""Billing's background pull long-polls ordering's feed: a confirm is in billing within
milliseconds, not at the next interval; stopping with a poll in flight is prompt."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.billing_api.checks import eventually
from tests.billing_api.conftest import Billing, BillingFactory, Ordering


async def test_a_confirm_reaches_billing_without_waiting_for_the_interval(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    # An interval of an hour: only the long poll can bring the order within the deadline.
    async with make_billing(pull_enabled=True, pull_interval=3600, pull_wait=20) as billing:
        await eventually(lambda: _polling(ordering), within=10)
        for _ in range(3):
            await _confirmed_and_invoiced(ordering, billing)
        requests = ordering.transport.feed_requests()
        polls = [r for r in requests if "wait" in r.url.params]
        assert polls and all(r.url.params["limit"] == "500" for r in polls)
        # One feed request per change: each poll's page was applied as it came, so the only
        # plain page read is the start-up pull's.
        assert len([r for r in requests if "wait" not in r.url.params]) == 1, requests


@pytest.mark.postgres
async def test_two_replicas_woken_by_one_change_ask_the_feed_for_it_once_each(
    ordering: Ordering, make_billing: BillingFactory, make_pg_url: Callable[[], str]
) -> None:
    """Both replicas long-poll and both are woken; the one that waited for the pull lock finds
    the page applied by the other and does not read the feed again for an empty page."""
    shared = make_pg_url()
    settings = {"database_url": shared, "pull_enabled": True, "pull_interval": 3600}
    async with (
        make_billing(**settings, pull_wait=20) as first,
        make_billing(**settings, pull_wait=20),
    ):
        await eventually(lambda: _polls_in_flight(ordering, 2), within=10)
        reads_before = _plain_reads(ordering)
        for _ in range(5):
            await _confirmed_and_invoiced(ordering, first)
            # Both replicas are long-polling again before the next change.
            await eventually(lambda: _polls_in_flight(ordering, 2), within=10)
        assert _plain_reads(ordering) == reads_before


async def _confirmed_and_invoiced(ordering: Ordering, billing: Billing) -> None:
    """Confirm an order; return once billing has its invoice."""
    number = (await ordering.clerk.confirmed())["number"]

    async def invoiced() -> bool:
        found = await billing.http.get("/invoices", params={"order_number": number})
        return len(found.json()["invoices"]) == 1

    await eventually(invoiced, within=10)


def _plain_reads(ordering: Ordering) -> int:
    return len([r for r in ordering.transport.feed_requests() if "wait" not in r.url.params])


async def _polls_in_flight(ordering: Ordering, count: int) -> bool:
    return ordering.transport.in_flight_polls() >= count


async def test_stopping_with_a_poll_in_flight_is_prompt(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    service = make_billing(pull_enabled=True, pull_interval=3600, pull_wait=20)
    await service.__aenter__()
    await eventually(lambda: _polling(ordering), within=10)
    # The poll would hold 20 s; stopping must not wait for it.
    await asyncio.wait_for(service.__aexit__(None, None, None), timeout=5)


async def _polling(ordering: Ordering) -> bool:
    return any("wait" in r.url.params for r in ordering.transport.feed_requests())
