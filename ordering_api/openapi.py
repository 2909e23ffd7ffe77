"""Ordering's OpenAPI 3.1 description: one Operation per route in routes.py."""

from __future__ import annotations

from typing import Any

from ordering_api.models import (
    FeedPage,
    OrderBatch,
    OrderCounts,
    OrderHistoryPage,
    OrderInput,
    OrderPage,
    OrderPublic,
    OrderStatus,
)
from service_http.health import health_operations
from service_http.openapi import (
    BODY_ERRORS,
    ROW_NUMBER_SCHEMA,
    Operation,
    Param,
    build_openapi,
    counts_operation,
    list_operation,
    page_or_batch,
)
from service_http.order_digest import ChecksumPage, DigestList
from service_http.params import MAX_INT64

_NUMBER = Param("number", "path", ROW_NUMBER_SCHEMA, "The order number.")
_ORDER_ERRORS: dict[int, tuple[str, None]] = {404: ("No such order", None)}


def ordering_openapi() -> dict[str, Any]:
    operations = [
        *health_operations(),
        Operation(
            "POST",
            "/orders",
            "Create a draft order",
            {201: ("Created", OrderPublic), **BODY_ERRORS},
            body=OrderInput,
        ),
        list_operation(
            "/orders",
            OrderPage,
            OrderBatch,
            "number",
            OrderStatus,
            "Page filter; default all but deleted",
        ),
        counts_operation("/orders/counts", OrderCounts),
        Operation(
            "GET",
            "/orders/changes",
            "The change feed: published orders after a position",
            {200: ("A page of the feed", FeedPage), 400: ("Bad parameter", None)},
            params=(
                Param(
                    "since",
                    "query",
                    {"type": "integer", "minimum": 0, "maximum": MAX_INT64, "default": 0},
                    "Continuation token: the last next_since you stored",
                ),
                Param(
                    "limit",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500},
                ),
                Param(
                    "wait",
                    "query",
                    {"type": "number", "minimum": 0, "default": 0},
                    "Long poll: with no change after `since`, hold up to this many seconds "
                    "(cut to the service's ORDERING_FEED_MAX_WAIT, 30 by default) and answer "
                    "as soon as one is numbered; the same page either way",
                ),
            ),
        ),
        *reconciliation_operations(),
        Operation(
            "GET",
            "/orders/{number}",
            "One order",
            {200: ("The order", OrderPublic), **_ORDER_ERRORS},
            params=(_NUMBER,),
        ),
        Operation(
            "PUT",
            "/orders/{number}",
            "Replace a draft's customer, currency and lines",
            {
                200: ("The order", OrderPublic),
                409: ("Not a draft", None),
                **BODY_ERRORS,
                **_ORDER_ERRORS,
            },
            body=OrderInput,
            params=(_NUMBER,),
        ),
        Operation(
            "DELETE",
            "/orders/{number}",
            "Soft-delete an order",
            {
                200: ("The deleted order", OrderPublic),
                409: ("Already deleted", None),
                **_ORDER_ERRORS,
            },
            params=(_NUMBER,),
        ),
        Operation(
            "POST",
            "/orders/{number}/confirm",
            "Confirm a draft with at least one line",
            {
                200: ("The confirmed order", OrderPublic),
                409: ("Empty, deleted or already confirmed", None),
                **_ORDER_ERRORS,
            },
            params=(_NUMBER,),
        ),
        Operation(
            "GET",
            "/orders/{number}/history",
            "The order's audit trail, oldest first: who created, edited, confirmed, deleted",
            {200: ("The history", OrderHistoryPage), **_ORDER_ERRORS},
            params=(_NUMBER,),
        ),
    ]
    document = build_openapi(
        "ordering_api",
        "1.0.0",
        "Owner of orders. Publishes confirmed orders through a lossless change feed.",
        operations,
        extra_models=(OrderBatch,),
    )
    page_or_batch(document, "/orders", OrderPage, OrderBatch)
    return document


def reconciliation_operations() -> list[Operation]:
    """What billing reads to reconcile its copy (ordering_api.reconcile)."""

    def integer(minimum: int, maximum: int, default: int) -> dict[str, int | str]:
        return {"type": "integer", "minimum": minimum, "maximum": maximum, "default": default}

    return [
        Operation(
            "GET",
            "/orders/checksums",
            "Per range of order numbers: count and checksum of the published orders",
            {200: ("Ranges holding orders", ChecksumPage), 400: ("Bad parameter", None)},
            params=(
                Param(
                    "start", "query", integer(1, MAX_INT64, 1), "First number of the first range"
                ),
                Param("size", "query", integer(1, 100_000, 1000), "Numbers per range"),
                Param("ranges", "query", integer(1, 1000, 100), "Ranges per answer"),
            ),
        ),
        Operation(
            "GET",
            "/orders/digests",
            "The digest of each published order numbered first..first+count-1",
            {200: ("The orders' digests", DigestList), 400: ("Bad parameter", None)},
            params=(
                Param("first", "query", integer(1, MAX_INT64, 1), "First order number"),
                Param("count", "query", integer(1, 10_000, 1000), "How many numbers"),
            ),
        ),
    ]
