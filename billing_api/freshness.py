"""Decisions on fresh data: before billing approves an invoice, its copy of the order is current.

Billing's copy trails ordering by up to one pull. Approving from it would approve the invoice
of an order a clerk deleted a moment ago. So an approval first brings the copy up to the feed's
high water with a pull that *started after the approval arrived* (a pull already in flight may
have read its last page before the delete committed; it is waited for, then followed by a new
one). The feed numbers every change committed before its request (ordering's assigner runs
first), so a delete committed before the approval arrived is in the copy before the decision.
If the pull cannot run, that one order is fetched and applied (as the deep link does); if
ordering cannot be asked at all, nothing is approved (503).

A delete that commits *after* the pull's read races the approval; then the approval wins, and
the apply that brings the delete later flags the approved invoice (docs/design.md §4). The
approval's own transaction (invoices.approve_invoice) makes sure the two never interleave.
"""

from __future__ import annotations

import logging

from billing_api.db import Sessions
from billing_api.invoices import apply_order, approve_invoice, get_invoice
from billing_api.models import Invoice, InvoiceStatus
from billing_api.ordering_client import OrderingClient, OrderingError
from billing_api.sync import PullFailed, Syncer
from service_db.types import utcnow

logger = logging.getLogger("billing_api.freshness")


class CannotCheckOrder(Exception):
    """Ordering cannot be asked whether the order still stands: decide nothing (503)."""

    def __init__(self, invoice_number: int, order_number: int) -> None:
        super().__init__(
            f"Billing cannot check with ordering that order {order_number} still stands, so "
            f"invoice {invoice_number} was not approved. Please try again in a minute."
        )


async def refresh_order(syncer: Syncer, client: OrderingClient, order_number: int) -> None:
    """Make billing's copy of `order_number` current (raises OrderingError when it cannot)."""
    try:
        await syncer.pull_fresh()
        return
    except PullFailed as exc:
        logger.info("pull for order %d failed (%s): fetching it alone", order_number, exc.reason)
    order = await client.fetch_order(order_number)
    if order is None or not order.was_confirmed:  # pragma: no cover - billing has it: published
        return
    async with syncer.sessions.begin() as session:
        await apply_order(session, order, utcnow())


async def refresh_for_approval(
    syncer: Syncer, client: OrderingClient, read_sessions: Sessions, number: int
) -> None:
    """Bring the copy of invoice `number`'s order up to date before it is approved (see the
    module's docstring); approved and void invoices need nothing: neither can turn approved
    by anything the feed brings."""
    async with read_sessions() as session:
        invoice = await get_invoice(session, number)
    if invoice.status is not InvoiceStatus.PENDING_APPROVAL:
        return
    try:
        await refresh_order(syncer, client, invoice.order_number)
    except OrderingError as exc:
        logger.warning("approval of invoice %d: cannot check its order: %s", number, exc)
        raise CannotCheckOrder(number, invoice.order_number) from exc


async def approve_current(
    syncer: Syncer, client: OrderingClient, read_sessions: Sessions, number: int, *, who: str
) -> Invoice:
    """Approve invoice `number` on a current copy of its order."""
    await refresh_for_approval(syncer, client, read_sessions, number)
    async with syncer.sessions.begin() as session:
        return await approve_invoice(session, number, utcnow(), who=who)
