"""Billing's tables and wire shapes.

Tables live in billing's own SQLAlchemy registry so that billing and ordering can share one
Python process (as they do in tests) without their tables ending up in each other's database.
Wire shapes follow `docs/contracts.md`: money is a decimal string with the currency's ISO 4217
digits, timestamps are ISO 8601 UTC with a `+00:00` offset.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from service_db.idempotency import idempotency_table
from service_db.types import BIG_INT, StrEnumText, as_utc
from service_http.actor import MAX_ACTING_USER
from service_http.currencies import currency_digits
from service_http.fields import INPUT_CONFIG, JSON_INTEGER, NON_BLANK_PATTERN
from service_http.money import to_minor_units, wire_amount


def _iso(value: datetime) -> str:
    return as_utc(value).isoformat(timespec="microseconds")


# Pydantic writes UTC as "Z"; the contract wants "+00:00".
UtcDateTime = Annotated[datetime, PlainSerializer(_iso, return_type=str)]


# A person's name (X-Acting-User), `service:<caller>`, or the sync's own name.
MAX_ACTOR = MAX_ACTING_USER + 20


class OrderStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DELETED = "deleted"


class HealthState(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILING = "failing"


class InvoiceStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    VOID = "void"


# --------------------------------------------------------------------------- tables


class BillingTable(SQLModel, registry=registry()):
    """Base of billing's tables: a registry (and MetaData) of their own."""


# Stored answers of writes sent with an Idempotency-Key (service_http.idempotency).
IDEMPOTENCY_KEYS = idempotency_table(BillingTable.metadata)


class LocalOrder(BillingTable, table=True):
    """Billing's copy of a published order, found by its key `number`."""

    __tablename__ = "local_orders"

    number: int = SQLField(
        primary_key=True, sa_type=BIG_INT, sa_column_kwargs={"autoincrement": False}
    )
    status: OrderStatus = SQLField(sa_type=StrEnumText(OrderStatus, 16))
    customer_name: str = SQLField(max_length=200)
    customer_email: str = SQLField(max_length=320)
    currency: str = SQLField(max_length=3)
    lines: list[dict[str, Any]] = SQLField(sa_column=Column(JSON, nullable=False))
    total: str = SQLField(max_length=32)
    row_version: int = SQLField(sa_type=BIG_INT)
    change_seq: int | None = SQLField(default=None, sa_type=BIG_INT)
    created_at: datetime = SQLField(sa_type=DateTime(timezone=True))
    updated_at: datetime = SQLField(sa_type=DateTime(timezone=True))
    confirmed_at: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))
    deleted_at: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))
    stored_at: datetime = SQLField(sa_type=DateTime(timezone=True))


class Invoice(BillingTable, table=True):
    """One invoice per order that was ever confirmed; `UNIQUE(order_number)` enforces it."""

    __tablename__ = "invoices"
    # sqlite_autoincrement: invoice numbers are never reused, even after the highest row.
    __table_args__ = (
        UniqueConstraint("order_number", name="uq_invoices_order_number"),
        Index("ix_invoices_status_number", "status", "number"),
        # The list sorted by amount (keyset on currency, amount, number).
        Index("ix_invoices_amount", "currency", "amount_minor", "number"),
        {"sqlite_autoincrement": True},
    )

    number: int | None = SQLField(default=None, primary_key=True, sa_type=BIG_INT)
    order_number: int = SQLField(foreign_key="local_orders.number", sa_type=BIG_INT)
    amount: str = SQLField(max_length=32)
    # The amount in whole minor units of its currency: what sorting by amount compares.
    amount_minor: int = SQLField(default=0, sa_type=BigInteger)
    currency: str = SQLField(max_length=3)
    status: InvoiceStatus = SQLField(sa_type=StrEnumText(InvoiceStatus, 16))
    order_deleted: bool = False
    customer_name: str = SQLField(max_length=200)
    customer_email: str = SQLField(max_length=320)
    # What the list's search reads: customer name and e-mail, case-folded (service_db.paging).
    search_text: str = SQLField(default="", sa_type=Text)
    created_at: datetime = SQLField(sa_type=DateTime(timezone=True))
    approved_at: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))
    voided_at: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))
    # Who approved it (service_http.actor); NULL before the audit trail existed.
    approved_by: str | None = SQLField(default=None, max_length=MAX_ACTOR)


class InvoiceEvent(StrEnum):
    CREATED = "created"
    APPROVED = "approved"
    VOIDED = "voided"


class InvoiceHistory(BillingTable, table=True):
    """The audit trail: one row per change of an invoice, written in the change's transaction
    and never updated or deleted (append-only)."""

    __tablename__ = "invoice_history"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = SQLField(default=None, primary_key=True, sa_type=BIG_INT)
    invoice_number: int = SQLField(foreign_key="invoices.number", index=True, sa_type=BIG_INT)
    action: InvoiceEvent = SQLField(sa_type=StrEnumText(InvoiceEvent, 16))
    actor: str = SQLField(max_length=MAX_ACTOR)
    at: datetime = SQLField(sa_type=DateTime(timezone=True))
    # The row_version of the order the invoice stood on at that moment.
    order_version: int = SQLField(sa_type=BIG_INT)


SYNC_STATE_ID = 1


class SyncState(BillingTable, table=True):
    """The single row holding the continuation token and the pull's health and totals."""

    __tablename__ = "sync_state"

    id: int = SQLField(default=SYNC_STATE_ID, primary_key=True, sa_type=BIG_INT)
    token: int = SQLField(default=0, sa_type=BIG_INT)
    feed_id: str | None = SQLField(default=None, max_length=200)
    high_water: int = SQLField(default=0, sa_type=BIG_INT)
    last_success_at: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))
    last_error: str | None = SQLField(default=None, max_length=1000)
    last_error_at: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))
    consecutive_failures: int = SQLField(default=0, sa_type=BIG_INT)
    healthy: bool = True
    pulls: int = SQLField(default=0, sa_type=BIG_INT)
    pages: int = SQLField(default=0, sa_type=BIG_INT)
    new: int = SQLField(default=0, sa_type=BIG_INT)
    changed: int = SQLField(default=0, sa_type=BIG_INT)
    removed: int = SQLField(default=0, sa_type=BIG_INT)
    stale: int = SQLField(default=0, sa_type=BIG_INT)
    invoices_created: int = SQLField(default=0, sa_type=BIG_INT)
    # Records set aside in dead letters, all time (the open ones are counted in their table).
    dead_lettered: int = SQLField(default=0, sa_type=BIG_INT)
    # When the current streak of failed pulls began (None while pulls succeed).
    failing_since: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))
    # Set when ordering's feed went backwards or changed identity: the pull stops advancing
    # until an operator re-syncs (billing_api.feed_guard).
    halted_reason: str | None = SQLField(default=None, max_length=1000)
    halted_at: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))
    # Where a repairing re-sync began (None: not repairing); it ends when the pull catches up.
    repair_from: int | None = SQLField(default=None, sa_type=BIG_INT)
    # What the last (or running) repairing re-sync did (billing_api.repair.RepairReport).
    last_repair: dict[str, Any] | None = SQLField(default=None, sa_column=Column(JSON))


class DeadLetterStatus(StrEnum):
    OPEN = "open"  # waiting for an operator (or for a newer version of the order)
    RESOLVED = "resolved"  # applied by a retry, or superseded by a newer version
    DISMISSED = "dismissed"  # an operator decided to leave it, with a reason


class DeadLetterKind(StrEnum):
    RULE = "rule"  # breaks one of billing's rules (billing_api.order_rules)
    DATABASE = "database"  # billing's database refused it (a constraint, a trigger...)


class DeadLetter(BillingTable, table=True):
    """A feed record billing could not apply: set aside so the pull moves on past it."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_status_id", "status", "id"),
        Index("ix_dead_letters_order_number", "order_number"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = SQLField(default=None, primary_key=True, sa_type=BIG_INT)
    # None when the record is too broken to carry a usable number.
    order_number: int | None = SQLField(default=None, sa_type=BIG_INT)
    row_version: int | None = SQLField(default=None, sa_type=BIG_INT)
    change_seq: int | None = SQLField(default=None, sa_type=BIG_INT)
    payload: dict[str, Any] = SQLField(sa_column=Column(JSON, nullable=False))
    kind: DeadLetterKind = SQLField(sa_type=StrEnumText(DeadLetterKind, 16))
    error: str = SQLField(max_length=1000)
    attempts: int = SQLField(default=1, sa_type=BIG_INT)
    status: DeadLetterStatus = SQLField(sa_type=StrEnumText(DeadLetterStatus, 16))
    first_failed_at: datetime = SQLField(sa_type=DateTime(timezone=True))
    last_failed_at: datetime = SQLField(sa_type=DateTime(timezone=True))
    resolved_at: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))
    resolution: str | None = SQLField(default=None, max_length=500)


# --------------------------------------------------------------------------- ordering's wire shapes
# Billing is a tolerant reader: unknown fields from ordering are ignored, so ordering can add
# fields without breaking billing; the fields billing relies on are checked strictly.


class CustomerWire(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=1, max_length=320)


class OrderLineWire(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: str
    description: str = ""
    quantity: int
    unit_price: str
    amount: str


class OrderWire(BaseModel):
    """An order as ordering publishes it (`OrderPublic`)."""

    model_config = ConfigDict(extra="ignore")

    number: int = Field(ge=1)
    status: OrderStatus
    customer: CustomerWire
    currency: str = Field(min_length=3, max_length=3)
    lines: list[OrderLineWire]
    total: str
    row_version: int = Field(ge=1)
    change_seq: int | None = None
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None = None
    deleted_at: datetime | None = None

    @model_validator(mode="after")
    def _amounts_in_currency_digits(self) -> OrderWire:
        # Amounts in their wire form for the order's currency: "13.00" yen (an ordering from
        # before per-currency digits) becomes "13"; "12.50" yen breaks the contract (refused,
        # never rounded).
        digits = currency_digits(self.currency)
        self.total = wire_amount(self.total, digits)
        for line in self.lines:
            line.unit_price = wire_amount(line.unit_price, digits)
            line.amount = wire_amount(line.amount, digits)
        return self

    @property
    def total_minor(self) -> int:
        """The total in whole minor units of the order's currency."""
        return to_minor_units(Decimal(self.total), currency_digits(self.currency))

    @property
    def was_confirmed(self) -> bool:
        """Published orders are those that were ever confirmed; drafts never are."""
        return self.status is OrderStatus.CONFIRMED or (
            self.status is OrderStatus.DELETED and self.confirmed_at is not None
        )


class FeedPage(BaseModel):
    """One answer of `GET /orders/changes`."""

    model_config = ConfigDict(extra="ignore")

    orders: list[OrderWire]
    next_since: int = Field(ge=0)
    has_more: bool
    high_water: int = Field(ge=0)
    feed_id: str = Field(min_length=1, max_length=200)
    # Records of this page that are not orders billing can read, as (raw record, why): set by
    # the client's lenient parse (ordering_client.py), set aside as dead letters by the pull.
    _unreadable: list[tuple[Any, str]] = PrivateAttr(default_factory=list)

    @property
    def unreadable(self) -> list[tuple[Any, str]]:
        return self._unreadable


# --------------------------------------------------------------------------- billing's wire shapes


class CustomerPublic(BaseModel):
    name: str
    email: str


class InvoicePublic(BaseModel):
    number: int
    order_number: int
    amount: str = Field(
        description="Decimal string with the currency's ISO 4217 digits (2 for EUR, 0 for JPY)",
        examples=["10.00"],
    )
    currency: str
    status: InvoiceStatus
    order_deleted: bool = Field(
        description="The order was deleted (the invoice is void, or flagged if approved)"
    )
    customer: CustomerPublic
    created_at: UtcDateTime
    approved_at: UtcDateTime | None
    voided_at: UtcDateTime | None
    approved_by: str | None = Field(description="Who approved it; null before the audit trail")

    @classmethod
    def of(cls, invoice: Invoice) -> InvoicePublic:
        assert invoice.number is not None, "an invoice read from the database has a number"
        return cls(
            number=invoice.number,
            order_number=invoice.order_number,
            amount=invoice.amount,
            currency=invoice.currency,
            status=invoice.status,
            order_deleted=invoice.order_deleted,
            customer=CustomerPublic(name=invoice.customer_name, email=invoice.customer_email),
            created_at=as_utc(invoice.created_at),
            approved_at=as_utc(invoice.approved_at) if invoice.approved_at else None,
            voided_at=as_utc(invoice.voided_at) if invoice.voided_at else None,
            approved_by=invoice.approved_by,
        )


class InvoiceBatch(BaseModel):
    invoices: list[InvoicePublic]


class InvoicePage(BaseModel):
    invoices: list[InvoicePublic]
    cursors: list[str] = Field(
        description="One per invoice, in the same order: pass as `after` or `before`"
    )
    next_cursor: str | None = Field(description="Pass as `after` for the next page")
    prev_cursor: str | None = Field(description="Pass as `before` for the previous page")


class InvoiceCounts(BaseModel):
    counts: dict[InvoiceStatus, int] = Field(
        description="How many invoices of each status match the search (every status, zeros too)"
    )


class SyncTotals(BaseModel):
    pulls: int
    pages: int
    new: int
    changed: int
    removed: int
    stale: int
    invoices_created: int
    dead_lettered: int


class DeadLetterCounts(BaseModel):
    open: int = Field(description="Records waiting for an operator to retry or dismiss")
    oldest_open_at: UtcDateTime | None


class RepairPublic(BaseModel):
    """What the last (or running) repairing re-sync did."""

    from_position: int
    started_at: UtcDateTime
    finished_at: UtcDateTime | None = Field(description="None while it runs")
    pages: int
    orders_seen: int
    new: int
    changed: int = Field(description="Newer versions, applied as any pull would")
    overwritten: int = Field(
        description="Stored copies put back to ordering's state against the version guard"
    )
    invoices_created: int
    invoices_adjusted: int
    overwritten_orders: list[int] = Field(description="The first 100 overwritten orders")
    attention: list[str] = Field(description="What billing cannot put right alone (first 100)")


class SyncStatusPublic(BaseModel):
    feed_id: str | None
    token: int
    high_water: int
    lag_records: int
    lag_seconds: float
    last_success_at: UtcDateTime | None
    last_error: str | None
    last_error_at: UtcDateTime | None
    consecutive_failures: int
    healthy: bool = Field(description="Same as health == healthy")
    health: HealthState
    health_reason: str = Field(description="The health in words, for an operator")
    health_since: UtcDateTime | None = Field(description="Since when (None while healthy)")
    halted: bool = Field(
        description="The pull stopped advancing: ordering's feed went backwards or changed "
        "identity; an operator must re-sync (POST /sync/resync)"
    )
    repairing: bool = Field(description="A repairing re-sync is running")
    running: bool
    dead_letters: DeadLetterCounts
    last_repair: RepairPublic | None
    totals: SyncTotals


class PullReportPublic(BaseModel):
    pages: int
    new: int
    changed: int
    removed: int
    stale: int
    token_before: int
    token_after: int
    duration_ms: float
    feed_id: str | None
    dead_lettered: int = Field(description="Records set aside as dead letters by this pull")


class SyncResetInput(BaseModel):
    model_config = INPUT_CONFIG

    token: Annotated[int, Field(ge=0, le=2**63 - 1), JSON_INTEGER] = Field(
        description="Feed position to continue from; 0 for a full resync"
    )


class InvoiceHistoryEntry(BaseModel):
    action: InvoiceEvent
    actor: str = Field(description="The person, `service:<caller>`, or `billing sync`")
    at: UtcDateTime
    order_version: int = Field(description="The order's row_version the invoice stood on")

    @classmethod
    def of(cls, row: InvoiceHistory) -> InvoiceHistoryEntry:
        return cls(action=row.action, actor=row.actor, at=row.at, order_version=row.order_version)


class InvoiceHistoryPage(BaseModel):
    """An invoice's audit trail, oldest first."""

    invoice_number: int
    entries: list[InvoiceHistoryEntry]


def _text_time(value: Any) -> Any:
    # JSON Schema's date-time is a string; pydantic alone would also take a number (Unix time).
    if not isinstance(value, str):
        raise ValueError("must be a date-time string such as 2026-11-21T09:00:00+00:00")
    return value


def _no_default(schema: dict[str, Any]) -> None:
    # Absent means "not this one" (exactly one is given); null is not a value either.
    schema.pop("default", None)


class SyncResyncInput(BaseModel):
    """Where a repairing re-sync starts: a feed position, or a time (ordering's change time:
    billing starts before the first change it holds from that moment on). Exactly one."""

    model_config = ConfigDict(
        extra="forbid",
        regex_engine="python-re",
        json_schema_extra={"oneOf": [{"required": ["position"]}, {"required": ["since"]}]},
    )

    position: Annotated[int, Field(ge=0, le=2**63 - 1), JSON_INTEGER] | SkipJsonSchema[None] = (
        Field(
            default=None,
            description="Feed position to re-sync from; 0 for everything",
            json_schema_extra=_no_default,
        )
    )
    since: Annotated[AwareDatetime, BeforeValidator(_text_time)] | SkipJsonSchema[None] = Field(
        default=None,
        description="Re-sync the changes made at or after this time",
        json_schema_extra=_no_default,
    )

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [key for key in ("position", "since") if key in data]
            if len(given) != 1:
                raise ValueError("give exactly one of 'position' and 'since'")
            if data[given[0]] is None:
                raise ValueError(f"'{given[0]}' must not be null")
        return data


class ResyncPublic(BaseModel):
    repair: RepairPublic
    status: SyncStatusPublic


class DeadLetterPublic(BaseModel):
    id: int
    order_number: int | None
    row_version: int | None
    change_seq: int | None
    kind: DeadLetterKind
    error: str
    attempts: int
    status: DeadLetterStatus
    first_failed_at: UtcDateTime
    last_failed_at: UtcDateTime
    resolved_at: UtcDateTime | None
    resolution: str | None
    payload: dict[str, Any] | list[Any] | str | int | float | bool | None = Field(
        description="The record as ordering sent it"
    )

    @classmethod
    def of(cls, letter: DeadLetter) -> DeadLetterPublic:
        assert letter.id is not None
        return cls(
            id=letter.id,
            order_number=letter.order_number,
            row_version=letter.row_version,
            change_seq=letter.change_seq,
            kind=letter.kind,
            error=letter.error,
            attempts=letter.attempts,
            status=letter.status,
            first_failed_at=as_utc(letter.first_failed_at),
            last_failed_at=as_utc(letter.last_failed_at),
            resolved_at=as_utc(letter.resolved_at) if letter.resolved_at else None,
            resolution=letter.resolution,
            payload=letter.payload,
        )


class DeadLetterPage(BaseModel):
    dead_letters: list[DeadLetterPublic]
    next_cursor: str | None = Field(description="Pass as `after` for the next page")


class DeadLetterRetryPublic(BaseModel):
    dead_letter: DeadLetterPublic
    outcome: str = Field(description="What applying it did: new, changed, removed or stale")
    invoice_number: int | None
    source: str = Field(description="ordering (read afresh) or payload (ordering unreachable)")


class DismissInput(BaseModel):
    model_config = INPUT_CONFIG

    reason: str = Field(
        min_length=1,
        max_length=400,
        pattern=NON_BLANK_PATTERN,
        description="Why the record is left unapplied",
    )


class OrderDifference(BaseModel):
    number: int
    ordering_status: str | None = Field(description="None: ordering has no such published order")
    ordering_version: int | None
    billing_status: str | None = Field(description="None: billing's copy lacks the order")
    billing_version: int | None


class InvoiceOfDeletedOrder(BaseModel):
    invoice_number: int
    order_number: int
    deleted_in: str = Field(description="'billing' (its copy says deleted) or 'ordering'")


class ReconciliationReport(BaseModel):
    """Billing's copy compared with ordering: per range of order numbers first, then row by row
    where a range differs. Each list holds at most 1000 entries (`truncated` says so)."""

    checked_at: UtcDateTime
    duration_ms: float
    range_size: int
    ranges_compared: int
    ranges_differing: int
    ordering_orders: int = Field(description="Published orders in ordering")
    billing_orders: int = Field(description="Orders in billing's copy")
    missing: list[OrderDifference] = Field(description="In ordering, not in billing's copy")
    extra: list[OrderDifference] = Field(description="In billing's copy, not in ordering")
    different: list[OrderDifference] = Field(description="In both, not the same")
    confirmed_without_invoice: list[int] = Field(
        description="Orders confirmed in billing's copy or in ordering with no invoice in billing"
    )
    approved_invoices_of_deleted_orders: list[InvoiceOfDeletedOrder]
    truncated: bool
    in_sync: bool = Field(description="Nothing missing, extra, different or uninvoiced")
