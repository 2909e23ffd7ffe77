"""What the upstreams answer, as typed records (the subset of docs/contracts.md the BFF reads).

Unknown fields are ignored so that a peer may add fields without breaking the BFF.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bff.operator_records import DeadLetterCountsRecord, RepairRecord


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CustomerRecord(_Record):
    name: str
    email: str


class OrderLineRecord(_Record):
    sku: str
    description: str
    quantity: int
    unit_price: str
    amount: str


class OrderRecord(_Record):
    number: int
    status: Literal["draft", "confirmed", "deleted"]
    customer: CustomerRecord
    currency: str
    lines: list[OrderLineRecord]
    total: str
    row_version: int
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None = None
    deleted_at: datetime | None = None
    created_by: str | None = None
    confirmed_by: str | None = None
    deleted_by: str | None = None


class OrderBatch(_Record):
    orders: list[OrderRecord]


class OrderPage(_Record):
    orders: list[OrderRecord]
    cursors: list[str]
    next_cursor: str | None = None
    prev_cursor: str | None = None


class StatusCounts(_Record):
    counts: dict[str, int]


class InvoiceRecord(_Record):
    number: int
    order_number: int
    amount: str
    currency: str
    status: Literal["pending_approval", "approved", "void"]
    order_deleted: bool
    customer: CustomerRecord
    created_at: datetime
    approved_at: datetime | None = None
    voided_at: datetime | None = None
    approved_by: str | None = None


class InvoiceBatch(_Record):
    invoices: list[InvoiceRecord]


class InvoicePage(_Record):
    invoices: list[InvoiceRecord]
    cursors: list[str]
    next_cursor: str | None = None
    prev_cursor: str | None = None


class SyncTotalsRecord(_Record):
    pulls: int
    pages: int
    new: int
    changed: int
    removed: int
    stale: int
    invoices_created: int
    dead_lettered: int = 0


class SyncStatusRecord(_Record):
    feed_id: str | None = None
    token: int
    high_water: int
    lag_records: int
    lag_seconds: float
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int
    healthy: bool
    # Health in three words with the reason (billing_api.health_state); the defaults read an
    # older billing that does not send them.
    health: Literal["healthy", "degraded", "failing"] = "healthy"
    health_reason: str = ""
    health_since: datetime | None = None
    halted: bool = False
    repairing: bool = False
    running: bool
    dead_letters: DeadLetterCountsRecord = DeadLetterCountsRecord()
    last_repair: RepairRecord | None = None
    totals: SyncTotalsRecord


class ErrorDetailRecord(_Record):
    field: str
    message: str


class ErrorRecord(_Record):
    code: str
    message: str
    details: list[ErrorDetailRecord] | None = None


class ErrorBodyRecord(_Record):
    error: ErrorRecord


class OrderHistoryEntryRecord(_Record):
    action: Literal["created", "edited", "confirmed", "deleted"]
    actor: str
    at: datetime
    row_version: int


class OrderHistoryRecord(_Record):
    order_number: int
    entries: list[OrderHistoryEntryRecord]


class InvoiceHistoryEntryRecord(_Record):
    action: Literal["created", "approved", "voided"]
    actor: str
    at: datetime
    order_version: int


class InvoiceHistoryRecord(_Record):
    invoice_number: int
    entries: list[InvoiceHistoryEntryRecord]
