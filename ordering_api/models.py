"""Ordering's tables and its public shapes (OrderInput in, OrderPublic out).

Money is stored as integer cents: exact on SQLite and PostgreSQL alike, formatted as a decimal
string with two places on the wire (service_http.money).
"""

# No `from __future__ import annotations`: SQLModel resolves relationship types at runtime.
import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, Column, DateTime, Index, Text, text
from sqlalchemy.orm import registry
from sqlmodel import Field as SQLField
from sqlmodel import Relationship, SQLModel

from service_db.idempotency import idempotency_table
from service_db.types import BIG_INT, StrEnumText, as_utc, utcnow
from service_http.actor import MAX_ACTING_USER
from service_http.currencies import ISO_4217, codes_with_digits, currency_digits
from service_http.errors import FieldError
from service_http.fields import (
    INPUT_CONFIG,
    JSON_INTEGER,
    NO_NUL_PATTERN,
    NON_BLANK_PATTERN,
    strip_ascii_whitespace,
)
from service_http.money import (
    from_minor_units,
    minor_units_to_wire,
    places_message,
    to_minor_units,
    to_wire,
)

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
        # The list sorted by total: keyset on (currency, total, number).
        Index("ix_orders_total", "currency", "total_cents", "number"),
        {"sqlite_autoincrement": True},  # numbers are never reused
    )

    number: int | None = SQLField(default=None, primary_key=True, sa_type=BIG_INT)
    status: OrderStatus = SQLField(default=OrderStatus.DRAFT, index=True)
    customer_name: str
    customer_email: str
    currency: str = "EUR"
    # Whole minor units of `currency` (ISO 4217 digits: cents for EUR, yen for JPY), despite the
    # column's name from when every currency had 2 places; likewise the lines' unit prices.
    total_cents: int = SQLField(default=0, sa_type=BigInteger)
    # What the list's search reads: customer name and e-mail, case-folded (service_db.paging).
    search_text: str = SQLField(default="", sa_type=Text)
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


# Every accepted order's total fits a signed 64-bit count of minor units: at most MAX_LINES lines
# of at most MAX_QUANTITY at most MAX_PRICE_MINOR each is 10**18, below 2**63 - 1 (about 9.2e18).
# So the highest price is 1 000 000 000 in currencies of 0 or 2 digits, and 10**11 minor units
# in those with more (100 000 000 KWD, 10 000 000 CLF).
MAX_LINES = 100
MAX_QUANTITY = 100_000
MAX_PRICE_MINOR = int(MAX_PRICE) * 100
MAX_TOTAL_CENTS = MAX_LINES * MAX_QUANTITY * MAX_PRICE_MINOR
assert MAX_TOTAL_CENTS < 2**63 - 1


def _price_pattern(digits: int) -> str:
    """A decimal string with at most `digits` places, 0 to the currency's highest price."""
    whole_digits = 9 if digits <= 2 else 11 - digits
    highest = "1" + "0" * whole_digits
    fraction = f"(?:\\.[0-9]{{1,{digits}}})?" if digits else ""
    highest_fraction = f"(?:\\.0{{1,{digits}}})?" if digits else ""
    return f"^(?:[0-9]{{1,{whole_digits}}}{fraction}|{highest}{highest_fraction})$"


PRICE_PATTERNS = {digits: _price_pattern(digits) for digits in (0, 2, 3, 4)}
# The field's own pattern admits every currency's prices; the order's schema then narrows it by
# currency (OrderInput's `allOf`), so the published schema is still the whole rule.
PRICE_PATTERN = r"^(?:[0-9]{1,9}(?:\.[0-9]{1,4})?|1000000000(?:\.0{1,4})?)$"
EMAIL_PATTERN = r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+\.[^@\x00-\x20\x7f]+$"

Price = Annotated[
    str,
    Field(
        pattern=PRICE_PATTERN,
        description=(
            "Decimal string with at most the currency's ISO 4217 digits (2 for EUR, 0 for JPY,"
            " 3 for KWD), 0 to 1000000000 (100000000 with 3 digits, 10000000 with 4)"
        ),
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


def _known_currency(code: str) -> str:
    if code not in ISO_4217:
        raise ValueError(
            f"'{code[:10]}' is not a currency code we know; use an ISO 4217 code in capitals,"
            " such as EUR, USD or JPY"
        )
    return code


# The code list is pydantic-extra-types' (service_http.currencies), published as the schema's
# enum so the schema is the whole rule.
Currency = Annotated[
    str,
    Field(description="ISO 4217 code, upper case", json_schema_extra={"enum": sorted(ISO_4217)}),
    AfterValidator(_known_currency),
]


def _prices_by_currency(schema: dict[str, Any]) -> None:
    """The order's schema narrows each line's price to its currency's digits (and highest
    price): one `if currency is one of these / then prices match this` per number of digits.
    Without `currency` the order is in EUR, which the 2-digit clause covers (an absent property
    satisfies `properties`)."""
    clauses = []
    for digits, pattern in PRICE_PATTERNS.items():
        price_rule = {"properties": {"unit_price": {"pattern": pattern}}}
        clauses.append(
            {
                "if": {"properties": {"currency": {"enum": codes_with_digits(digits)}}},
                "then": {"properties": {"lines": {"items": price_rule}}},
            }
        )
    schema["allOf"] = clauses


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

    def unit_price_minor(self, digits: int) -> int:
        """The price in whole minor units (`price_problems` has checked it has no more places)."""
        return to_minor_units(Decimal(self.unit_price), digits)


class OrderInput(_Input):
    model_config = ConfigDict(**INPUT_CONFIG, json_schema_extra=_prices_by_currency)

    customer: CustomerInput
    currency: Currency = "EUR"
    lines: list[OrderLineInput] = Field(default_factory=list, max_length=MAX_LINES)

    @property
    def digits(self) -> int:
        return currency_digits(self.currency)


def price_problems(data: OrderInput) -> list[FieldError]:
    """The prices `data`'s currency does not allow: more decimals than its ISO 4217 digits, or
    above its highest price (the schema's per-currency clauses, checked with the currency)."""
    pattern = re.compile(PRICE_PATTERNS[data.digits])
    problems = []
    for index, line in enumerate(data.lines):
        if pattern.fullmatch(line.unit_price):
            continue
        field = f"lines.{index}.unit_price"
        if places(line.unit_price) > data.digits:
            message = places_message(data.currency, line.unit_price)
        else:
            highest = to_wire(from_minor_units(MAX_PRICE_MINOR, data.digits), data.digits)
            message = (
                f"A price in {data.currency} can be at most {highest}; {line.unit_price} is more."
            )
        problems.append(FieldError(field=field, message=message))
    return problems


def places(amount: str) -> int:
    """How many decimal places a decimal string is written with."""
    return len(amount.partition(".")[2])


AMOUNT = "Decimal string with exactly the currency's ISO 4217 digits (12.50 EUR, 13 JPY)"


class CustomerPublic(BaseModel):
    name: str
    email: str


class OrderLinePublic(BaseModel):
    sku: str
    description: str
    quantity: int
    unit_price: str = Field(description=AMOUNT, examples=["12.50"])
    amount: str = Field(description=AMOUNT, examples=["25.00"])


class OrderPublic(BaseModel):
    number: int
    status: OrderStatus
    customer: CustomerPublic
    currency: str
    lines: list[OrderLinePublic]
    total: str = Field(description=AMOUNT, examples=["25.00"])
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
        digits = currency_digits(order.currency)
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
                    unit_price=minor_units_to_wire(line.unit_price_cents, digits),
                    amount=minor_units_to_wire(line.unit_price_cents * line.quantity, digits),
                )
                for line in order.lines
            ],
            total=minor_units_to_wire(order.total_cents, digits),
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
    cursors: list[str] = Field(
        description="One per order, in the same order: pass as `after` or `before`"
    )
    next_cursor: str | None = Field(description="Pass as `after` for the next page")
    prev_cursor: str | None = Field(description="Pass as `before` for the previous page")


class OrderCounts(BaseModel):
    counts: dict[OrderStatus, int] = Field(
        description="How many orders of each status match the search (every status, zeros too)"
    )


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
