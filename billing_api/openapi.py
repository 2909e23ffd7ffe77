"""Billing's OpenAPI 3.1 description: one Operation per route in routes.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from billing_api.models import (
    DeadLetterPage,
    DeadLetterPublic,
    DeadLetterRetryPublic,
    DeadLetterStatus,
    DismissInput,
    InvoiceBatch,
    InvoiceCounts,
    InvoiceHistoryPage,
    InvoicePage,
    InvoicePublic,
    InvoiceStatus,
    PullReportPublic,
    ReconciliationReport,
    ResyncPublic,
    SyncResetInput,
    SyncResyncInput,
    SyncStatusPublic,
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

_NUMBER = Param("number", "path", ROW_NUMBER_SCHEMA, "The invoice number.")
_LETTER = Param("id", "path", ROW_NUMBER_SCHEMA, "The dead letter's id.", required=True)
_ORDER_NUMBER = Param("number", "path", ROW_NUMBER_SCHEMA, "The order number.", required=True)


def billing_openapi() -> dict[str, Any]:
    operations = [
        *health_operations(),
        by_invoice_number(
            list_operation(
                "/invoices",
                InvoicePage,
                InvoiceBatch,
                "order_number",
                InvoiceStatus,
                "Page filter; pending_approval is the list of invoices awaiting approval",
            )
        ),
        counts_operation("/invoices/counts", InvoiceCounts),
        Operation(
            "GET",
            "/invoices/{number}",
            "One invoice",
            {200: ("The invoice", InvoicePublic), 404: ("No such invoice", None)},
            params=(_NUMBER,),
        ),
        Operation(
            "POST",
            "/invoices/{number}/approve",
            "Approve a pending invoice (idempotent for an approved one)",
            {
                200: ("The approved invoice", InvoicePublic),
                404: ("No such invoice", None),
                409: ("The invoice is void", None),
            },
            params=(_NUMBER,),
        ),
        Operation(
            "GET",
            "/invoices/{number}/history",
            "The invoice's audit trail, oldest first: created and voided by the sync, approved",
            {200: ("The history", InvoiceHistoryPage), 404: ("No such invoice", None)},
            params=(_NUMBER,),
        ),
        Operation(
            "GET",
            "/sync/status",
            "The pull's position, lag, health and totals",
            {200: ("Sync status", SyncStatusPublic)},
        ),
        Operation(
            "POST",
            "/sync/run",
            "Pull from ordering now (joins a pull in flight) and report",
            {
                200: ("What the pull did", PullReportPublic),
                409: ("Halted: ordering's feed went backwards; re-sync (the reason says)", None),
                503: (
                    "Ordering or billing's database cannot be used now; the reason says which",
                    None,
                ),
            },
        ),
        Operation(
            "POST",
            "/sync/reset",
            "Continue the pull from a given token (0: full resync)",
            {200: ("Sync status after the reset", SyncStatusPublic), **BODY_ERRORS},
            body=SyncResetInput,
        ),
        *operator_operations(),
        Operation(
            "GET",
            "/link/new_order/{number}",
            "Deep link for a browser: redirect to the web app's screen of the order's invoice",
            {
                303: ("To {BILLING_WEB_URL}/invoices/{invoice_number}", None),
                404: ("HTML page: no such order, or not confirmed", None),
                503: ("HTML page: ordering unreachable and the order not local yet", None),
            },
            params=(_ORDER_NUMBER,),
            public=True,
        ),
    ]
    document = build_openapi(
        "billing_api",
        "1.0.0",
        "Invoices for confirmed orders, from a local copy pulled from ordering's change feed.",
        operations,
        extra_models=(InvoiceBatch,),
    )
    page_or_batch(document, "/invoices", InvoicePage, InvoiceBatch)
    # The deep link answers a browser with HTML, not the JSON error shape.
    link = document["paths"]["/link/new_order/{number}"]["get"]["responses"]
    for status in ("404", "503"):
        link[status]["content"] = {"text/html": {"schema": {"type": "string"}}}
    link["303"]["headers"] = {
        "Location": {"schema": {"type": "string"}, "description": "The invoice screen"}
    }
    return document


def by_invoice_number(operation: Operation) -> Operation:
    """`GET /invoices` also answers a batch by invoice number (`?number=1&number=2`)."""
    number = Param(
        "number",
        "query",
        {"type": "array", "items": {"type": "integer"}, "maxItems": 100},
        "Batch: up to 100 invoice numbers (answer: InvoiceBatch); not with order_number",
    )
    return replace(
        operation,
        summary="Batch by invoice number (?number=1&number=2) or by order number "
        "(?order_number=1&order_number=2), or a page, newest first",
        params=(number, *operation.params),
    )


def operator_operations() -> list[Operation]:
    """The operator's repair routes (billing_api.operator_routes)."""
    letter_missing = {404: ("No such dead letter", None)}
    closed = "Not open any more, or (retry) it failed again: the message gives the error"
    return [
        Operation(
            "GET",
            "/sync/reconciliation",
            "Compare billing's copy with ordering (count and checksum per range of order "
            "numbers, then row by row where a range differs); reads only",
            {
                200: ("What differs", ReconciliationReport),
                400: ("Bad parameter", None),
                503: ("Ordering cannot be asked now", None),
            },
            params=(
                Param(
                    "range_size",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 100_000, "default": 1000},
                    "Order numbers per range",
                ),
            ),
        ),
        Operation(
            "GET",
            "/sync/dead-letters",
            "Records the pull could not apply, newest first",
            {200: ("A page of dead letters", DeadLetterPage), 400: ("Bad parameter", None)},
            params=(
                Param(
                    "status",
                    "query",
                    {"type": "string", "enum": [s.value for s in DeadLetterStatus]},
                    "Only letters in this status",
                ),
                Param(
                    "limit",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                    "Page size",
                ),
                Param("after", "query", {"type": "string"}, "next_cursor of the page before"),
            ),
        ),
        Operation(
            "GET",
            "/sync/dead-letters/{id}",
            "One dead letter, with the record as ordering sent it",
            {200: ("The dead letter", DeadLetterPublic), **letter_missing},
            params=(_LETTER,),
        ),
        Operation(
            "POST",
            "/sync/dead-letters/{id}/retry",
            "Apply the record again (read afresh from ordering when it answers)",
            {
                200: ("Applied: the letter is resolved", DeadLetterRetryPublic),
                **letter_missing,
                409: (closed, None),
                503: ("Billing's database cannot be used now", None),
            },
            params=(_LETTER,),
        ),
        Operation(
            "POST",
            "/sync/dead-letters/{id}/dismiss",
            "Leave the record unapplied, with a reason",
            {
                200: ("Dismissed", DeadLetterPublic),
                **letter_missing,
                409: ("Not open any more", None),
                **BODY_ERRORS,
            },
            body=DismissInput,
            params=(_LETTER,),
        ),
        Operation(
            "POST",
            "/sync/resync",
            "Repairing re-sync from a feed position or a time: lifts a halt, brings the local "
            "copy to ordering's current state (no second invoice ever), and reports the changes",
            {
                200: ("What the re-sync changed, and the status after it", ResyncPublic),
                409: ("Halted again: ordering's feed is behind the position given", None),
                503: ("The pull stopped early; the re-sync stays armed and carries on", None),
                **BODY_ERRORS,
            },
            body=SyncResyncInput,
        ),
    ]
