"""The deep link `GET /link/new_order/{number}`: take a clerk straight to a new order's invoice.

The clerk has just confirmed the order in ordering, so billing may not have it yet: pull now
(joining a pull in flight), and if that did not bring it, fetch that one order and apply it
through the same version-guarded path as the feed (the continuation token does not move; the
feed will bring the same version later and count it stale). The answer is a redirect or a
small, friendly HTML page -- a browser is on the other end, never a peer service.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError

from billing_api.db import Sessions
from billing_api.invoices import apply_order, find_invoice_for_order
from billing_api.models import utcnow
from billing_api.ordering_client import OrderingClient, OrderingError
from billing_api.sync import PullFailed, Syncer
from service_http.params import MAX_INT64

logger = logging.getLogger("billing_api.deeplink")


class Miss(StrEnum):
    UNKNOWN = "unknown"  # no such order in ordering
    NOT_CONFIRMED = "not_confirmed"  # a draft, or deleted before it was ever confirmed
    UNAVAILABLE = "unavailable"  # ordering (or billing's database) cannot answer now


@dataclass(frozen=True)
class DeepLinkResult:
    invoice_number: int | None = None
    miss: Miss | None = None


def parse_order_number(raw: str) -> int | None:
    """Order numbers are positive integers that fit a BIGINT; anything else is no order."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_INT64 else None


async def resolve_new_order(syncer: Syncer, client: OrderingClient, number: int) -> DeepLinkResult:
    try:
        found = await _local_invoice_number(syncer.read_sessions, number)
        if found is not None:
            return DeepLinkResult(invoice_number=found)

        try:
            await syncer.pull()
        except PullFailed as exc:
            # Not fatal: the single-order fetch below may still work, or the order is local.
            logger.info("deep link for order %d: pull failed (%s)", number, exc.reason)
        found = await _local_invoice_number(syncer.read_sessions, number)
        if found is not None:
            return DeepLinkResult(invoice_number=found)

        try:
            order = await client.fetch_order(number)
        except OrderingError as exc:
            logger.warning("deep link for order %d: cannot fetch it: %s", number, exc)
            return DeepLinkResult(miss=Miss.UNAVAILABLE)
        if order is None:
            return DeepLinkResult(miss=Miss.UNKNOWN)
        if not order.was_confirmed:
            return DeepLinkResult(miss=Miss.NOT_CONFIRMED)

        async with syncer.sessions.begin() as session:
            result = await apply_order(session, order, utcnow())
        logger.info(
            "deep link applied order %d v%d outside the feed: %s",
            number,
            order.row_version,
            result.outcome.value,
        )
        found = await _local_invoice_number(syncer.read_sessions, number)
    except SQLAlchemyError as exc:
        logger.warning("deep link for order %d: billing's database failed: %s", number, exc)
        return DeepLinkResult(miss=Miss.UNAVAILABLE)
    if found is None:  # pragma: no cover - apply_order always leaves the invoice in place
        return DeepLinkResult(miss=Miss.UNAVAILABLE)
    return DeepLinkResult(invoice_number=found)


async def _local_invoice_number(read_sessions: Sessions, order_number: int) -> int | None:
    async with read_sessions() as session:
        invoice = await find_invoice_for_order(session, order_number)
    return invoice.number if invoice is not None else None


# ------------------------------------------------------------------------------ pages

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto;
       padding: 0 1rem; color: #222; line-height: 1.5; }}
h1 {{ font-size: 1.4rem; }}
a {{ color: #0b5fff; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{message}</p>
<p>{links}</p>
</body>
</html>
"""


def miss_page(miss: Miss, raw_number: str, web_url: str) -> tuple[int, str]:
    """Status and HTML for a deep link that cannot land on an invoice."""
    shown = html.escape(raw_number[:40])
    home = html.escape(web_url, quote=True)
    orders_link = f'<a href="{home}/orders">Back to the orders</a>'
    if miss is Miss.UNAVAILABLE:
        return 503, _PAGE.format(
            title="Billing cannot reach ordering right now",
            message=(
                f"The invoice for order {shown} is not in billing yet, and ordering cannot be "
                "reached at the moment. The order is safe: billing will pick it up as soon as "
                "ordering answers again. Please try this link again in a minute."
            ),
            links=f'<a href="">Try again</a> &middot; {orders_link}',
        )
    if miss is Miss.NOT_CONFIRMED:
        number = parse_order_number(raw_number)
        order_link = (
            f'<a href="{home}/orders/{number}">Open order {shown}</a> &middot; '
            if number is not None
            else ""
        )
        return 404, _PAGE.format(
            title=f"Order {shown} is not confirmed",
            message=(
                f"Order {shown} has not been confirmed, so it has no invoice. "
                "Confirm the order first; its invoice is created then."
            ),
            links=f"{order_link}{orders_link}",
        )
    return 404, _PAGE.format(
        title=f"No order {shown}",
        message=f"There is no order {shown}. Check the link, or find the order in the list.",
        links=orders_link,
    )
