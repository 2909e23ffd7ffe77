"""What billing answers to an operator (docs/contracts.md, billing's repair routes), as typed
records. Unknown fields are ignored, as for the other records (bff.records)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DeadLetterCountsRecord(_Record):
    open: int = 0
    oldest_open_at: datetime | None = None


class RepairRecord(_Record):
    from_position: int
    started_at: datetime
    finished_at: datetime | None = None
    pages: int = 0
    orders_seen: int = 0
    new: int = 0
    changed: int = 0
    overwritten: int = 0
    invoices_created: int = 0
    invoices_adjusted: int = 0
    overwritten_orders: list[int] = []
    attention: list[str] = []


class DeadLetterRecord(_Record):
    id: int
    order_number: int | None = None
    row_version: int | None = None
    change_seq: int | None = None
    kind: Literal["rule", "database"]
    error: str
    attempts: int
    status: Literal["open", "resolved", "dismissed"]
    first_failed_at: datetime
    last_failed_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None
    payload: Any = None


class DeadLetterPageRecord(_Record):
    dead_letters: list[DeadLetterRecord]
    next_cursor: str | None = None


class DeadLetterRetryRecord(_Record):
    dead_letter: DeadLetterRecord
    outcome: str
    invoice_number: int | None = None
    source: str


class PullReportRecord(_Record):
    pages: int
    new: int
    changed: int
    removed: int
    stale: int
    token_before: int
    token_after: int
    duration_ms: float
    dead_lettered: int = 0


class OrderDifferenceRecord(_Record):
    number: int
    ordering_status: str | None = None
    ordering_version: int | None = None
    billing_status: str | None = None
    billing_version: int | None = None


class InvoiceOfDeletedOrderRecord(_Record):
    invoice_number: int
    order_number: int
    deleted_in: str


class ReconciliationRecord(_Record):
    checked_at: datetime
    duration_ms: float
    range_size: int
    ranges_compared: int
    ranges_differing: int
    ordering_orders: int
    billing_orders: int
    missing: list[OrderDifferenceRecord]
    extra: list[OrderDifferenceRecord]
    different: list[OrderDifferenceRecord]
    confirmed_without_invoice: list[int]
    approved_invoices_of_deleted_orders: list[InvoiceOfDeletedOrderRecord]
    truncated: bool
    in_sync: bool
