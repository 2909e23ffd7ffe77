"""GraphQL types of the operator's view of the integration: health, dead letters, repairing
re-syncs and reconciliation (records from bff.operator_records)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from bff.operator_records import (
    DeadLetterRecord,
    OrderDifferenceRecord,
    PullReportRecord,
    ReconciliationRecord,
    RepairRecord,
)


@strawberry.enum(description="The pull's health in one word (the reason comes with it).")
class SyncHealth(Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILING = "failing"


@strawberry.enum
class DeadLetterStatus(Enum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


@strawberry.enum(description="Why the record could not be applied.")
class DeadLetterKind(Enum):
    RULE = "rule"
    DATABASE = "database"


@strawberry.type(description="A record from ordering that billing could not apply.")
class DeadLetter:
    id: int
    order_number: int | None
    row_version: int | None
    change_seq: int | None
    kind: DeadLetterKind
    error: str
    attempts: int
    status: DeadLetterStatus
    first_failed_at: datetime
    last_failed_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    payload: JSON | None = strawberry.field(description="The record as ordering sent it.")

    @classmethod
    def from_record(cls, record: DeadLetterRecord) -> DeadLetter:
        values = record.model_dump()
        values["kind"] = DeadLetterKind(record.kind)
        values["status"] = DeadLetterStatus(record.status)
        return cls(**values)


@strawberry.type
class DeadLetterPage:
    items: list[DeadLetter]
    next_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type
class DeadLetterRetryPayload:
    dead_letter: DeadLetter
    outcome: str = strawberry.field(description="new, changed, removed or stale")
    invoice_number: int | None
    source: str = strawberry.field(
        description="ordering (read afresh) or payload (ordering unreachable)"
    )


@strawberry.type(description="What a repairing re-sync did.")
class RepairReport:
    from_position: int
    started_at: datetime
    finished_at: datetime | None
    pages: int
    orders_seen: int
    new: int
    changed: int
    overwritten: int
    invoices_created: int
    invoices_adjusted: int
    overwritten_orders: list[int]
    attention: list[str]

    @classmethod
    def from_record(cls, record: RepairRecord) -> RepairReport:
        return cls(**record.model_dump())


@strawberry.type
class PullReport:
    pages: int
    new: int
    changed: int
    removed: int
    stale: int
    token_before: int
    token_after: int
    duration_ms: float
    dead_lettered: int = strawberry.field(description="Records set aside by this pull.")

    @classmethod
    def from_record(cls, record: PullReportRecord) -> PullReport:
        return cls(**record.model_dump())


@strawberry.type
class OrderDifference:
    number: int
    ordering_status: str | None
    ordering_version: int | None
    billing_status: str | None
    billing_version: int | None

    @classmethod
    def from_record(cls, record: OrderDifferenceRecord) -> OrderDifference:
        return cls(**record.model_dump())


@strawberry.type
class InvoiceOfDeletedOrder:
    invoice_number: int
    order_number: int
    deleted_in: str


@strawberry.type(description="Billing's copy compared with ordering.")
class ReconciliationReport:
    checked_at: datetime
    duration_ms: float
    range_size: int
    ranges_compared: int
    ranges_differing: int
    ordering_orders: int
    billing_orders: int
    missing: list[OrderDifference]
    extra: list[OrderDifference]
    different: list[OrderDifference]
    confirmed_without_invoice: list[int]
    approved_invoices_of_deleted_orders: list[InvoiceOfDeletedOrder]
    truncated: bool
    in_sync: bool

    @classmethod
    def from_record(cls, record: ReconciliationRecord) -> ReconciliationReport:
        return cls(
            **record.model_dump(
                exclude={"missing", "extra", "different", "approved_invoices_of_deleted_orders"}
            ),
            missing=[OrderDifference.from_record(d) for d in record.missing],
            extra=[OrderDifference.from_record(d) for d in record.extra],
            different=[OrderDifference.from_record(d) for d in record.different],
            approved_invoices_of_deleted_orders=[
                InvoiceOfDeletedOrder(**i.model_dump())
                for i in record.approved_invoices_of_deleted_orders
            ],
        )
