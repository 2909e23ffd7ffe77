"""The deep link: a clerk who just confirmed an order lands on its invoice at once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.billing_api.checks import assert_consistent, invoices_by_order, sync_state
from tests.billing_api.conftest import WEB_URL, Billing, BillingFactory, Ordering
from tests.billing_api.harness import answer_500, fail_feed, raise_connect
from tests.support.servers import free_port


async def test_right_after_confirm_the_link_redirects_to_the_new_invoice(
    ordering: Ordering, billing: Billing
) -> None:
    assert billing.settings.pull_enabled is False, "no background pull to help"
    order = await ordering.clerk.confirmed()
    response = await billing.browser.get(f"/link/new_order/{order['number']}")
    assert response.status_code == 303
    invoices = await invoices_by_order(billing.engine)
    assert len(invoices[order["number"]]) == 1
    invoice = invoices[order["number"]][0]
    assert response.headers["location"] == f"{WEB_URL}/invoices/{invoice.number}"
    assert response.headers["cache-control"] == "no-store"
    assert len(ordering.transport.feed_requests()) == 1, "it pulled"

    again = await billing.browser.get(f"/link/new_order/{order['number']}")
    assert (again.status_code, again.headers["location"]) == (303, response.headers["location"])
    assert len((await invoices_by_order(billing.engine))[order["number"]]) == 1


async def test_falls_back_to_the_single_order_when_the_feed_fails(
    ordering: Ordering, billing: Billing
) -> None:
    order = await ordering.clerk.confirmed()
    ordering.transport.fault = fail_feed(answer_500)
    response = await billing.browser.get(f"/link/new_order/{order['number']}")
    assert response.status_code == 303
    fetched = [r.url.path for r in ordering.transport.requests]
    assert fetched == ["/orders/changes", f"/orders/{order['number']}"]
    assert (await sync_state(billing.engine)).token == 0, "the token does not move"

    ordering.transport.fault = None
    report = await billing.syncer.pull()
    assert report is not None and (report.new, report.stale) == (0, 1)
    await assert_consistent(billing.engine, await ordering.clerk.published())


async def test_order_already_local_redirects_while_ordering_is_down(
    ordering: Ordering, billing: Billing
) -> None:
    order = await ordering.clerk.confirmed()
    await billing.syncer.pull()
    ordering.transport.fault = raise_connect
    response = await billing.browser.get(f"/link/new_order/{order['number']}")
    assert response.status_code == 303


async def test_ordering_down_and_order_not_local_is_a_friendly_503(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    order = await ordering.clerk.confirmed()
    down = f"http://127.0.0.1:{free_port()}"
    async with make_billing(transport=None, ordering_url=down) as billing:
        response = await billing.browser.get(f"/link/new_order/{order['number']}")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "try this link again" in response.text
    assert f'href="{WEB_URL}/orders"' in response.text
    assert "Traceback" not in response.text and "Error" not in response.text


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/link/new_order/999", "No order 999"),
        ("/link/new_order/abc", "No order abc"),
        ("/link/new_order/0", "No order 0"),
        ("/link/new_order/99999999999999999999999", "No order 9999"),
        ("/link/new_order/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "No order &lt;script&gt;"),
    ],
)
async def test_unknown_orders_get_a_friendly_404(
    billing: Billing, ordering: Ordering, path: str, words: str
) -> None:
    response = await billing.browser.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text
    assert "<script>" not in response.text
    assert "Traceback" not in response.text


async def test_a_draft_is_not_confirmed_yet(ordering: Ordering, billing: Billing) -> None:
    draft = await ordering.clerk.create()
    response = await billing.browser.get(f"/link/new_order/{draft['number']}")
    assert response.status_code == 404
    assert "has not been confirmed" in response.text
    assert f'href="{WEB_URL}/orders/{draft["number"]}"' in response.text
    assert await invoices_by_order(billing.engine) == {}


async def test_deep_link_and_scheduled_pull_at_once(ordering: Ordering, billing: Billing) -> None:
    for _ in range(3):
        orders = [await ordering.clerk.confirmed() for _ in range(3)]
        results = await asyncio.gather(
            billing.syncer.pull(wait_for_lock=False),
            *(billing.browser.get(f"/link/new_order/{o['number']}") for o in orders),
            billing.syncer.pull(wait_for_lock=False),
        )
        assert all(isinstance(r, httpx.Response) and r.status_code == 303 for r in results[1:-1])
    await billing.syncer.pull()
    await assert_consistent(billing.engine, await ordering.clerk.published())
