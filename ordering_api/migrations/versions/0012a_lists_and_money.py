"""Lists for daily work and money in the currency's own minor units (issue 12).

- `orders.search_text`: the customer's name and e-mail case-folded, what the list's search reads
  (SQLite's lower() folds ASCII only, so folding is done in Python when a row is written).
- `ix_orders_total (currency, total_cents, number)`: the list sorted by total.
- Amounts were whole cents for every currency; they become whole minor units of the order's
  currency (ISO 4217: 0 digits for JPY, 3 for KWD, 4 for CLF). Three and four digits are
  exact (x10, x100). A zero-digit price with cents (a JPY draft of 12.50, which the service now
  refuses) cannot be kept: it is rounded half to even and the order named in the log. Every
  published order whose amounts changed is marked changed (new row version, feed position
  cleared), so the assigner publishes it again and billing mirrors the new amounts.

Revision ID: 0012a_lists_and_money
Revises: 0010a_idempotency_keys
Create Date: 2026-11-22 00:20:00
"""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0012a_lists_and_money"
down_revision: str | Sequence[str] | None = "0010a_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")

# ISO 4217 minor units other than 2 (as service_http.currencies at the time of writing: a
# migration keeps its own copy so later edits of the code cannot change what it did).
_DIGITS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def _from_cents(cents: int, digits: int) -> tuple[int, bool]:
    """Cents as minor units of a currency with `digits`, and whether that was exact."""
    scaled = Decimal(cents).scaleb(digits - 2)
    whole = scaled.to_integral_value(rounding=ROUND_HALF_EVEN)
    return int(whole), whole == scaled


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
        batch_op.create_index("ix_orders_total", ["currency", "total_cents", "number"])
    connection = op.get_bind()
    orders = sa.table(
        "orders",
        sa.column("number", sa.BigInteger()),
        sa.column("customer_name", sa.String()),
        sa.column("customer_email", sa.String()),
        sa.column("search_text", sa.Text()),
        sa.column("currency", sa.String()),
        sa.column("total_cents", sa.BigInteger()),
        sa.column("published", sa.Boolean()),
        sa.column("row_version", sa.BigInteger()),
        sa.column("change_seq", sa.BigInteger()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    lines = sa.table(
        "order_lines",
        sa.column("id", sa.BigInteger()),
        sa.column("order_number", sa.BigInteger()),
        sa.column("quantity", sa.BigInteger()),
        sa.column("unit_price_cents", sa.BigInteger()),
    )
    for number, name, email in connection.execute(
        sa.select(orders.c.number, orders.c.customer_name, orders.c.customer_email)
    ).all():
        connection.execute(
            orders.update()
            .where(orders.c.number == number)
            .values(search_text=f"{name.casefold()}\n{email.casefold()}")
        )
    now = datetime.now(UTC)
    to_convert = connection.execute(
        sa.select(orders.c.number, orders.c.currency, orders.c.published).where(
            orders.c.currency.in_(sorted(_DIGITS))
        )
    ).all()
    for number, currency, published in to_convert:
        digits = _DIGITS[currency]
        total = 0
        rounded = False
        for line_id, quantity, cents in connection.execute(
            sa.select(lines.c.id, lines.c.quantity, lines.c.unit_price_cents).where(
                lines.c.order_number == number
            )
        ).all():
            price, exact = _from_cents(cents, digits)
            rounded = rounded or not exact
            total += price * quantity
            connection.execute(
                lines.update().where(lines.c.id == line_id).values(unit_price_cents=price)
            )
        if rounded:
            logger.warning(
                "order %s: %s has %s decimal places; prices with cents were rounded half to even",
                number,
                currency,
                digits,
            )
        changes: dict[str, object] = {"total_cents": total}
        if published:
            changes |= {
                "row_version": orders.c.row_version + 1,
                "change_seq": None,
                "updated_at": now,
            }
        connection.execute(orders.update().where(orders.c.number == number).values(**changes))


def downgrade() -> None:
    # Amounts stay in minor units: going back cannot restore cents a zero-digit currency lost.
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_index("ix_orders_total")
        batch_op.drop_column("search_text")
