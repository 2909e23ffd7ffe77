"""The pull against the real ordering app: arrival, exactly-once invoices, edits, deletes,
paging, the token across runs and restarts, feed changes, single flight and the loop."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import pytest

from billing_api.models import InvoiceStatus
from billing_api.sync import backoff_delay
from tests.billing_api.checks import (
    assert_consistent,
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
