"""Ordering's tables and its public shapes (OrderInput in, OrderPublic out).

Money is stored as integer cents: exact on SQLite and PostgreSQL alike, formatted as a decimal
string with two places on the wire (service_http.money).
"""

# No `from __future__ import annotations`: SQLModel resolves relationship types at runtime.
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field
from pydantic_extra_types.currency_code import Currency as _IsoCurrency
from sqlalchemy import BigInteger, Column, DateTime, Index, text
from sqlalchemy.orm import registry
from sqlmodel import Field as SQLField
from sqlmodel import Relationship, SQLModel

from service_db.idempotency import idempotency_table
from service_db.types import BIG_INT, StrEnumText, as_utc, utcnow
from service_http.actor import MAX_ACTING_USER
from service_http.fields import (
    INPUT_CONFIG,
    JSON_INTEGER,
    NO_NUL_PATTERN,
    NON_BLANK_PATTERN,
    strip_ascii_whitespace,
)
from service_http.money import minor_units_to_wire, to_minor_units

MAX_PRICE = Decimal("1000000000")
# A person's name (X-Acting-User) or `service:<caller>`.
MAX_ACTOR = MAX_ACTING_USER + 20


class OrderStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DELETED = "deleted"


# Ordering's own registry: its tables never mix with another service's in one process (tests).
class OrderingTable(SQLModel, registry=registry()):
    pass


# Stored answers of writes sent with an Idempotency-Key (service_http.idempotency).
IDEMPOTENCY_KEYS = idempotency_table(OrderingTable.metadata)


def _tz_column(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


class Order(OrderingTable, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        # The assigner's walk: published orders whose change is not numbered yet, in the order
        # it numbers them. Partial, so it holds only the backlog (empty when the feed is caught
        # up) and the assigner reads a batch in index order instead of sorting the backlog.
        Index(
            "ix_orders_backlog",
            "updated_at",
            "number",
            sqlite_where=text("published IS 1 AND change_seq IS NULL"),
            postgresql_where=text("published IS true AND change_seq IS NULL"),
        ),
        {"sqlite_autoincrement": True},  # numbers are never reused
    )

    number: int | None = SQLField(default=None, primary_key=True, sa_type=BIG_INT)
    status: OrderStatus = SQLField(default=OrderStatus.DRAFT, index=True)
    customer_name: str
    customer_email: str
    currency: str = "EUR"
    total_cents: int = SQLField(default=0, sa_type=BigInteger)
    row_version: int = SQLField(default=1, sa_type=BIG_INT)
    # True once ever confirmed: only published orders appear in the change feed.
    published: bool = False
    # Feed position; NULL while a draft or while a change waits for the assigner. Unique, so a
    # position can never be handed out twice, whatever happens above the database.
    change_seq: int | None = SQLField(default=None, unique=True, sa_type=BigInteger)
    created_at: datetime = SQLField(default_factory=utcnow, sa_column=_tz_column())
    updated_at: datetime = SQLField(default_factory=utcnow, sa_column=_tz_column())
    confirmed_at: datetime | None = SQLField(default=None, sa_column=_tz_column(True))
    deleted_at: datetime | None = SQLField(default=None, sa_column=_tz_column(True))
    # Who did it (service_http.actor: the person, or `service:<caller>`); NULL on rows written
    # before the audit trail existed.
    created_by: str | None = SQLField(default=None, max_length=MAX_ACTOR)
    confirmed_by: str | None = SQLField(default=None, max_length=MAX_ACTOR)
    deleted_by: str | None = SQLField(default=None, max_length=MAX_ACTOR)

    lines: list["OrderLine"] = Relationship(
        back_populates="order",
        sa_relationship_kwargs={"order_by": "OrderLine.position", "cascade": "all, delete-orphan"},
    )


class OrderLine(OrderingTable, table=True):
    __tablename__ = "order_lines"

    id: int | None = SQLField(default=None, primary_key=True, sa_type=BIG_INT)
    order_number: int = SQLField(foreign_key="orders.number", index=True, sa_type=BIG_INT)
    position: int = SQLField(sa_type=BIG_INT)
    sku: str
    description: str = ""
    quantity: int = SQLField(sa_type=BIG_INT)
    unit_price_cents: int = SQLField(sa_type=BigInteger)

    order: Order | None = Relationship(back_populates="lines")


class OrderAction(StrEnum):
    CREATED = "created"
    EDITED = "edited"
    CONFIRMED = "confirmed"
    DELETED = "deleted"


class OrderHistory(OrderingTable, table=True):
    """The audit trail: one row per change of an order, written in the change's transaction and
    never updated or deleted (append-only)."""

    __tablename__ = "order_history"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = SQLField(default=None, primary_key=True, sa_type=BIG_INT)
    order_number: int = SQLField(foreign_key="orders.number", index=True, sa_type=BIG_INT)
    action: OrderAction = SQLField(sa_type=StrEnumText(OrderAction, 16))
    actor: str = SQLField(max_length=MAX_ACTOR)
    at: datetime = SQLField(sa_column=_tz_column())
    # The order's row_version after the change.
    row_version: int = SQLField(sa_type=BIG_INT)


class FeedCounter(OrderingTable, table=True):
    """The single row holding the last feed position handed out, and this database's feed id.

    The assigner locks this row for its whole transaction; that lock is what serializes
    assigners across processes and replicas on PostgreSQL.
    """

    __tablename__ = "feed_counter"

    id: int = SQLField(default=1, primary_key=True, sa_type=BIG_INT)
    feed_id: str
    last_position: int = SQLField(default=0, sa_type=BigInteger)


# ---- wire shapes -------------------------------------------------------------------------


# Every accepted order's total fits a signed 64-bit count of cents: at most MAX_LINES lines of
# at most MAX_QUANTITY at most MAX_PRICE each is 10**18 cents, below 2**63 - 1 (about 9.2e18).
MAX_LINES = 100
MAX_QUANTITY = 100_000
MAX_TOTAL_CENTS = MAX_LINES * MAX_QUANTITY * int(MAX_PRICE) * 100
assert MAX_TOTAL_CENTS < 2**63 - 1

# A decimal string with at most 2 places, 0 to MAX_PRICE (1 000 000 000): exactly what the
# pattern says, so the published schema is the whole rule.
PRICE_PATTERN = r"^(?:[0-9]{1,9}(?:\.[0-9]{1,2})?|1000000000(?:\.00?)?)$"
EMAIL_PATTERN = r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+\.[^@\x00-\x20\x7f]+$"

Price = Annotated[
    str,
    Field(
        pattern=PRICE_PATTERN,
        description="Decimal string with at most 2 places, 0 to 1000000000",
        examples=["12.50"],
    ),
]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY), JSON_INTEGER]
CustomerName = Annotated[
    str,
    Field(min_length=1, max_length=200, pattern=NON_BLANK_PATTERN),
    AfterValidator(strip_ascii_whitespace),
]
Sku = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=NON_BLANK_PATTERN),
    AfterValidator(strip_ascii_whitespace),
]
Description = Annotated[
    str, Field(max_length=500, pattern=NO_NUL_PATTERN), AfterValidator(strip_ascii_whitespace)
]


# The code list is pydantic-extra-types' (ISO 4217 from pycountry, without precious metals,
# bonds and test codes), published as the schema's enum so the schema is the whole rule.
ISO_4217: frozenset[str] = frozenset(_IsoCurrency.allowed_currencies)


def _known_currency(code: str) -> str:
    if code not in ISO_4217:
        raise ValueError(f"'{code}' is not an ISO 4217 currency code (upper case)")
    return code


Currency = Annotated[
    str,
    Field(description="ISO 4217 code, upper case", json_schema_extra={"enum": sorted(ISO_4217)}),
    AfterValidator(_known_currency),
]


class _Input(BaseModel):
    model_config = INPUT_CONFIG


class CustomerInput(_Input):
    name: CustomerName
    email: str = Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)


class OrderLineInput(_Input):
    sku: Sku
    description: Description = ""
    quantity: Quantity
    unit_price: Price

    @property
    def unit_price_cents(self) -> int:
        return to_minor_units(Decimal(self.unit_price))


class OrderInput(_Input):
    customer: CustomerInput
    currency: Currency = "EUR"
    lines: list[OrderLineInput] = Field(default_factory=list, max_length=MAX_LINES)


class CustomerPublic(BaseModel):
    name: str
    email: str


class OrderLinePublic(BaseModel):
    sku: str
    description: str
    quantity: int
    unit_price: str = Field(examples=["12.50"])
    amount: str = Field(examples=["25.00"])


class OrderPublic(BaseModel):
    number: int
    status: OrderStatus
    customer: CustomerPublic
    currency: str
    lines: list[OrderLinePublic]
    total: str = Field(examples=["25.00"])
    row_version: int
    change_seq: int | None
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    deleted_at: datetime | None
    created_by: str | None = Field(description="Who created it; null before the audit trail")
    confirmed_by: str | None
    deleted_by: str | None

    @classmethod
    def of(cls, order: Order) -> "OrderPublic":
        assert order.number is not None
        return cls(
            number=order.number,
            status=order.status,
            customer=CustomerPublic(name=order.customer_name, email=order.customer_email),
            currency=order.currency,
            lines=[
                OrderLinePublic(
                    sku=line.sku,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=minor_units_to_wire(line.unit_price_cents),
                    amount=minor_units_to_wire(line.unit_price_cents * line.quantity),
                )
                for line in order.lines
            ],
            total=minor_units_to_wire(order.total_cents),
            row_version=order.row_version,
            change_seq=order.change_seq,
            created_at=as_utc(order.created_at),
            updated_at=as_utc(order.updated_at),
            confirmed_at=as_utc(order.confirmed_at) if order.confirmed_at else None,
            deleted_at=as_utc(order.deleted_at) if order.deleted_at else None,
            created_by=order.created_by,
            confirmed_by=order.confirmed_by,
            deleted_by=order.deleted_by,
        )


class OrderBatch(BaseModel):
    orders: list[OrderPublic]


class OrderPage(BaseModel):
    orders: list[OrderPublic]
    next_cursor: str | None


class FeedPage(BaseModel):
    orders: list[OrderPublic]
    next_since: int
    has_more: bool
    high_water: int
    feed_id: str


class OrderHistoryEntry(BaseModel):
    action: OrderAction
    actor: str = Field(description="The person, or `service:<caller>` for a service's own act")
    at: datetime
    row_version: int

    @classmethod
    def of(cls, row: OrderHistory) -> "OrderHistoryEntry":
        return cls(
            action=row.action, actor=row.actor, at=as_utc(row.at), row_version=row.row_version
        )


class OrderHistoryPage(BaseModel):
    """An order's audit trail, oldest first."""

    order_number: int
    entries: list[OrderHistoryEntry]
