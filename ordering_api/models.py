"""Ordering's tables and its public shapes (OrderInput in, OrderPublic out).

Money is stored as integer cents: exact on SQLite and PostgreSQL alike, formatted as a decimal
string with two places on the wire (service_http.money).
"""

# No `from __future__ import annotations`: SQLModel resolves relationship types at runtime.
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator
from pydantic_extra_types.currency_code import Currency
from sqlalchemy import BigInteger, Column, DateTime, Index, text
from sqlalchemy.orm import registry
from sqlmodel import Field as SQLField
from sqlmodel import Relationship, SQLModel

from service_db.idempotency import idempotency_table
from service_db.types import as_utc, utcnow
from service_http.money import exact_amount, minor_units_to_wire

MAX_PRICE = Decimal("1000000000")


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

    number: int | None = SQLField(default=None, primary_key=True)
    status: OrderStatus = SQLField(default=OrderStatus.DRAFT, index=True)
    customer_name: str
    customer_email: str
    currency: str = "EUR"
    total_cents: int = SQLField(default=0, sa_type=BigInteger)
    row_version: int = 1
    # True once ever confirmed: only published orders appear in the change feed.
    published: bool = False
    # Feed position; NULL while a draft or while a change waits for the assigner. Unique, so a
    # position can never be handed out twice, whatever happens above the database.
    change_seq: int | None = SQLField(default=None, unique=True, sa_type=BigInteger)
    created_at: datetime = SQLField(default_factory=utcnow, sa_column=_tz_column())
    updated_at: datetime = SQLField(default_factory=utcnow, sa_column=_tz_column())
    confirmed_at: datetime | None = SQLField(default=None, sa_column=_tz_column(True))
    deleted_at: datetime | None = SQLField(default=None, sa_column=_tz_column(True))

    lines: list["OrderLine"] = Relationship(
        back_populates="order",
        sa_relationship_kwargs={"order_by": "OrderLine.position", "cascade": "all, delete-orphan"},
    )


class OrderLine(OrderingTable, table=True):
    __tablename__ = "order_lines"

    id: int | None = SQLField(default=None, primary_key=True)
    order_number: int = SQLField(foreign_key="orders.number", index=True)
    position: int
    sku: str
    description: str = ""
    quantity: int
    unit_price_cents: int = SQLField(sa_type=BigInteger)

    order: Order | None = Relationship(back_populates="lines")


class FeedCounter(OrderingTable, table=True):
    """The single row holding the last feed position handed out, and this database's feed id.

    The assigner locks this row for its whole transaction; that lock is what serializes
    assigners across processes and replicas on PostgreSQL.
    """

    __tablename__ = "feed_counter"

    id: int = SQLField(default=1, primary_key=True)
    feed_id: str
    last_position: int = SQLField(default=0, sa_type=BigInteger)


# ---- wire shapes -------------------------------------------------------------------------


def _money(value: Decimal) -> Decimal:
    exact_amount(value)
    if value < 0:
        raise ValueError("must not be negative")
    if value > MAX_PRICE:
        raise ValueError(f"must be at most {MAX_PRICE}")
    return value


Money = Annotated[Decimal, Field(allow_inf_nan=False), AfterValidator(_money)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerInput(_Input):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class OrderLineInput(_Input):
    sku: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=500)
    quantity: int = Field(gt=0, le=1_000_000, strict=True)
    unit_price: Money

    @field_validator("unit_price", mode="before")
    @classmethod
    def _price_is_number_or_string(cls, value: object) -> object:
        # Floats are accepted only as JSON numbers; booleans are not prices.
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("must be a decimal number or a string like '12.50'")
        return str(value) if isinstance(value, float) else value


class OrderInput(_Input):
    customer: CustomerInput
    currency: str = "EUR"
    lines: list[OrderLineInput] = Field(default_factory=list, max_length=100)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        # The code list is pydantic-extra-types' (ISO 4217 from pycountry, without precious
        # metals, bonds and test codes); the sentence is ours.
        code = value.upper()
        if code not in Currency.allowed_currencies:
            raise ValueError(f"'{value}' is not an ISO 4217 currency code")
        return code


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
