"""GraphQL types of the operator's view of the integration: health, dead letters, repairing
re-syncs and reconciliation (records from bff.operator_records)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from bff.descriptions import DATE_TIME
from bff.operator_records import (
    DeadLetterRecord,
    OrderDifferenceRecord,
    PullReportRecord,
    ReconciliationRecord,
    RepairRecord,
)


@strawberry.enum(description="The pull's health in one word (the reason comes with it).")
class SyncHealth(Enum):
    HEALTHY = strawberry.enum_value("healthy", description="The pull works and keeps up.")
    DEGRADED = strawberry.enum_value(
        "degraded",
        description="The pull works but needs attention: lagging, failing now and then, or "
        "records waiting in dead letters.",
    )
    FAILING = strawberry.enum_value(
        "failing",
        description="The pull does not work (it keeps failing, or it is halted): invoices are "
        "not being made.",
    )


@strawberry.enum(description="Where a dead letter is in its handling.")
class DeadLetterStatus(Enum):
    OPEN = strawberry.enum_value("open", description="Not applied yet: waiting for an operator.")
    RESOLVED = strawberry.enum_value(
        "resolved",
        description="Applied after all: by a retry, or superseded by a later record of the order.",
    )
    DISMISSED = strawberry.enum_value(
        "dismissed", description="Left unapplied by an operator, with a reason."
    )


@strawberry.enum(description="Why the record could not be applied.")
class DeadLetterKind(Enum):
    RULE = strawberry.enum_value(
        "rule", description="Billing's rules refuse the record (e.g. it is malformed)."
    )
    DATABASE = strawberry.enum_value(
        "database", description="Billing's database refused or failed to store it."
    )


@strawberry.type(description="A record from ordering that billing could not apply.")
class DeadLetter:
    id: int = strawberry.field(description="The dead letter's number (retry and dismiss use it).")
    order_number: int | None = strawberry.field(
        description="The order the record is about; null when the record does not say."
    )
    row_version: int | None = strawberry.field(
        description="The order's version in the record; null when the record does not say."
    )
    change_seq: int | None = strawberry.field(
        description="The record's position in ordering's feed; null when it does not say."
    )
    kind: DeadLetterKind = strawberry.field(description="Why the record could not be applied.")
    error: str = strawberry.field(description="The error, in words, for an operator.")
    attempts: int = strawberry.field(description="How many times applying it failed.")
    status: DeadLetterStatus = strawberry.field(description="Open, resolved or dismissed.")
    first_failed_at: datetime = strawberry.field(
        description=f"When applying it first failed ({DATE_TIME})."
    )
    last_failed_at: datetime = strawberry.field(
        description=f"When applying it last failed ({DATE_TIME})."
    )
    resolved_at: datetime | None = strawberry.field(
        description=f"When it was resolved or dismissed ({DATE_TIME}); null while open."
    )
    resolution: str | None = strawberry.field(
        description="How it was resolved or why it was dismissed; null while open."
    )
    payload: JSON | None = strawberry.field(description="The record as ordering sent it.")

    @classmethod
    def from_record(cls, record: DeadLetterRecord) -> DeadLetter:
        values = record.model_dump()
        values["kind"] = DeadLetterKind(record.kind)
        values["status"] = DeadLetterStatus(record.status)
        return cls(**values)


@strawberry.type(description="A page of dead letters, newest first.")
class DeadLetterPage:
    items: list[DeadLetter] = strawberry.field(description="The dead letters on this page.")
    next_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type(description="What retrying a dead letter did.")
class DeadLetterRetryPayload:
    dead_letter: DeadLetter = strawberry.field(description="The dead letter, after the retry.")
    outcome: str = strawberry.field(description="new, changed, removed or stale")
    invoice_number: int | None = strawberry.field(
        description="The order's invoice after the retry; null when it has none."
    )
    source: str = strawberry.field(
        description="ordering (read afresh) or payload (ordering unreachable)"
    )


@strawberry.type(description="What a repairing re-sync did.")
class RepairReport:
    from_position: int = strawberry.field(description="The feed position it re-synced from.")
    started_at: datetime = strawberry.field(description=f"When it started ({DATE_TIME}).")
    finished_at: datetime | None = strawberry.field(
        description=f"When it finished ({DATE_TIME}); null while it runs."
    )
    pages: int = strawberry.field(description="Feed pages read.")
    orders_seen: int = strawberry.field(description="Order records read from the feed.")
    new: int = strawberry.field(description="Orders billing did not have.")
    changed: int = strawberry.field(
        description="Newer versions of orders, applied as a normal pull would."
    )
    overwritten: int = strawberry.field(
        description="Billing's copies put back to ordering's state although their version was "
        "not older (a normal pull would have kept them)."
    )
    invoices_created: int = strawberry.field(description="Invoices made for confirmed orders.")
    invoices_adjusted: int = strawberry.field(
        description="Pending invoices brought in line with their order again."
    )
    overwritten_orders: list[int] = strawberry.field(
        description="Numbers of the overwritten orders (the first 100)."
    )
    attention: list[str] = strawberry.field(
        description="What an operator should look at, in words (e.g. an approved invoice of a "
        "changed order); the first 100."
    )

    @classmethod
    def from_record(cls, record: RepairRecord) -> RepairReport:
        return cls(**record.model_dump())


@strawberry.type(description="What one pull from ordering's feed did.")
class PullReport:
    pages: int = strawberry.field(description="Feed pages read.")
    new: int = strawberry.field(description="Orders billing did not have.")
    changed: int = strawberry.field(description="Newer versions of orders billing had.")
    removed: int = strawberry.field(description="Orders deleted in ordering.")
    stale: int = strawberry.field(
        description="Records older than billing's copy, skipped (nothing lost)."
    )
    token_before: int = strawberry.field(description="The feed position before the pull.")
    token_after: int = strawberry.field(description="The feed position after the pull.")
    duration_ms: float = strawberry.field(description="How long the pull took, in milliseconds.")
    dead_lettered: int = strawberry.field(description="Records set aside by this pull.")

    @classmethod
    def from_record(cls, record: PullReportRecord) -> PullReport:
        return cls(**record.model_dump())


@strawberry.type(description="An order whose copy in billing is not what ordering holds.")
class OrderDifference:
    number: int = strawberry.field(description="The order's number.")
    ordering_status: str | None = strawberry.field(
        description="Its status in ordering; null when ordering does not have it."
    )
    ordering_version: int | None = strawberry.field(
        description="Its version in ordering; null when ordering does not have it."
    )
    billing_status: str | None = strawberry.field(
        description="Its status in billing's copy; null when billing does not have it."
    )
    billing_version: int | None = strawberry.field(
        description="Its version in billing's copy; null when billing does not have it."
    )

    @classmethod
    def from_record(cls, record: OrderDifferenceRecord) -> OrderDifference:
        return cls(**record.model_dump())


@strawberry.type(description="An approved invoice whose order was deleted.")
class InvoiceOfDeletedOrder:
    invoice_number: int = strawberry.field(description="The invoice's number.")
    order_number: int = strawberry.field(description="Its order's number.")
    deleted_in: str = strawberry.field(
        description="Where the order is deleted: ordering (billing's copy does not know yet) or "
        "billing."
    )


@strawberry.type(description="Billing's copy compared with ordering.")
class ReconciliationReport:
    checked_at: datetime = strawberry.field(description=f"When it was made ({DATE_TIME}).")
    duration_ms: float = strawberry.field(description="How long it took, in milliseconds.")
    range_size: int = strawberry.field(
        description="Order numbers per compared range (ranges are compared by digest first)."
    )
    ranges_compared: int = strawberry.field(description="Ranges compared.")
    ranges_differing: int = strawberry.field(
        description="Ranges whose digests differ (compared order by order)."
    )
    ordering_orders: int = strawberry.field(description="Orders in ordering.")
    billing_orders: int = strawberry.field(description="Orders in billing's copy.")
    missing: list[OrderDifference] = strawberry.field(
        description="Orders in ordering that billing's copy lacks."
    )
    extra: list[OrderDifference] = strawberry.field(
        description="Orders in billing's copy that ordering does not have."
    )
    different: list[OrderDifference] = strawberry.field(
        description="Orders both have, with different contents."
    )
    confirmed_without_invoice: list[int] = strawberry.field(
        description="Numbers of orders confirmed in ordering that have no invoice."
    )
    approved_invoices_of_deleted_orders: list[InvoiceOfDeletedOrder] = strawberry.field(
        description="Approved invoices whose order is deleted (approved invoices never change: "
        "a person decides)."
    )
    truncated: bool = strawberry.field(
        description="Only the first 1000 of missing, extra or different are listed."
    )
    in_sync: bool = strawberry.field(
        description="Billing's copy matches ordering and every confirmed order has an invoice."
    )

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
