"""Ordering's OpenAPI 3.1 description: one Operation per route in routes.py."""

from __future__ import annotations

from typing import Any

from ordering_api.models import FeedPage, Health, OrderInput, OrderList, OrderPage, OrderPublic
from service_http.openapi import Operation, Param, build_openapi, page_or_batch

_NUMBER = Param("number", "path", {"type": "integer", "minimum": 1}, "The order number.")
_ORDER_ERRORS: dict[int, tuple[str, None]] = {404: ("No such order", None)}


def ordering_openapi() -> dict[str, Any]:
    operations = [
        Operation("GET", "/healthz", "Liveness", {200: ("Alive", Health)}, public=True),
        Operation(
            "POST",
            "/orders",
            "Create a draft order",
            {
                201: ("Created", OrderPublic),
                400: ("Malformed JSON", None),
                422: ("Invalid fields", None),
            },
            body=OrderInput,
        ),
        Operation(
            "GET",
            "/orders",
            "Batch by number (?number=1&number=2) or a page, newest first",
            {
                200: ("Orders; a batch answers OrderList, a page OrderPage", OrderPage),
                400: ("Bad parameter", None),
            },
            params=(
                Param(
                    "number",
                    "query",
                    {"type": "array", "items": {"type": "integer"}, "maxItems": 100},
                    "Batch: up to 100 order numbers (answer: OrderList)",
                ),
                Param(
                    "status",
                    "query",
                    {"enum": ["draft", "confirmed", "deleted"]},
                    "Page filter; default all but deleted",
                ),
                Param(
                    "limit",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                ),
                Param("after", "query", {"type": "string"}, "Cursor from next_cursor"),
            ),
        ),
        Operation(
            "GET",
            "/orders/changes",
            "The change feed: published orders after a position",
            {200: ("A page of the feed", FeedPage), 400: ("Bad parameter", None)},
            params=(
                Param(
                    "since",
                    "query",
                    {"type": "integer", "minimum": 0, "default": 0},
                    "Continuation token: the last next_since you stored",
                ),
                Param(
                    "limit",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 500},
                ),
            ),
        ),
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
                400: ("Malformed JSON", None),
                409: ("Not a draft", None),
                422: ("Invalid fields", None),
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
    ]
    document = build_openapi(
        "ordering_api",
        "1.0.0",
        "Owner of orders. Publishes confirmed orders through a lossless change feed.",
        operations,
        extra_models=(OrderList,),
    )
    page_or_batch(document, "/orders", OrderPage, OrderList)
    return document
