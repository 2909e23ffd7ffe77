"""Lists for daily work and amounts in the currency's own minor units (issue 12).

- `invoices.search_text`: the customer's name and e-mail case-folded, what the list's search
  reads (SQLite's lower() folds ASCII only, so folding is done in Python when a row is written).
- `invoices.amount_minor`: the amount in whole minor units of its currency (ISO 4217 digits),
  what sorting by amount compares; `ix_invoices_amount (currency, amount_minor, number)`.
- Amount strings were written with 2 places for every currency; they are rewritten with the
  currency's digits ("38.00" JPY becomes "38", "1.25" KWD "1.250"). A zero-digit amount with
  cents (a JPY invoice of 37.50, which ordering now refuses) is rounded half to even and named
  in the log; ordering's own migration republishes such orders, so pending invoices follow it.

Revision ID: 0012a_lists_and_money
Revises: 0010a_idempotency_keys
Create Date: 2026-11-22 00:30:00
"""

import logging
from collections.abc import Sequence
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
_WHOLE_UNITS = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"]
_WHOLE_UNITS += ["RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"]
_DIGITS = {
    **dict.fromkeys(_WHOLE_UNITS, 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("amount_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_index("ix_invoices_amount", ["currency", "amount_minor", "number"])
    connection = op.get_bind()
    invoices = sa.table(
        "invoices",
        sa.column("number", sa.BigInteger()),
        sa.column("customer_name", sa.String()),
        sa.column("customer_email", sa.String()),
        sa.column("search_text", sa.Text()),
        sa.column("currency", sa.String()),
        sa.column("amount", sa.String()),
        sa.column("amount_minor", sa.BigInteger()),
    )
    rows = connection.execute(
        sa.select(
            invoices.c.number,
            invoices.c.customer_name,
            invoices.c.customer_email,
            invoices.c.currency,
            invoices.c.amount,
        )
    ).all()
    for number, name, email, currency, amount in rows:
        digits = _DIGITS.get(currency, 2)
        value = Decimal(amount)
        quantum = Decimal(1).scaleb(-digits)
        rounded = value.quantize(quantum, rounding=ROUND_HALF_EVEN)
        if rounded != value:
            logger.warning(
                "invoice %s: %s %s has more than %s decimal places; rounded half to even",
                number,
                currency,
                amount,
                digits,
            )
        connection.execute(
            invoices.update()
            .where(invoices.c.number == number)
            .values(
                search_text=f"{name.casefold()}\n{email.casefold()}",
                amount=f"{rounded}",
                amount_minor=int(rounded.scaleb(digits)),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_index("ix_invoices_amount")
        batch_op.drop_column("amount_minor")
        batch_op.drop_column("search_text")
