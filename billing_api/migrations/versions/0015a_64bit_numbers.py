"""Every number and position is 64-bit: order and invoice numbers, versions, feed positions,
the token and the pull's counters become BIGINT on PostgreSQL (ordering's are 64-bit, so a
32-bit column here failed past 2**31 - 1), with the invoice number sequence widened too.

SQLite stores INTEGER in up to 64 bits already (and its INTEGER PRIMARY KEY must stay INTEGER
to remain the rowid), so nothing changes there.

Revision ID: 0015a_64bit_numbers
Revises: 0001
Create Date: 2026-11-21 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015a_64bit_numbers"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) in an order PostgreSQL accepts: a referencing column before its key.
COLUMNS = [
    ("invoices", "order_number"),
    ("invoices", "number"),
    ("local_orders", "number"),
    ("local_orders", "row_version"),
    ("local_orders", "change_seq"),
    *(
        ("sync_state", column)
        for column in (
            "id",
            "token",
            "high_water",
            "consecutive_failures",
            "pulls",
            "pages",
            "new",
            "changed",
            "removed",
            "stale",
            "invoices_created",
        )
    ),
]
# The sequence behind the SERIAL invoice number is `AS integer` itself: it must widen as well.
SEQUENCES = ["invoices_number_seq"]


def _widen(to: sa.types.TypeEngine[int], sequence_type: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=to)
    for sequence in SEQUENCES:
        op.execute(f"ALTER SEQUENCE IF EXISTS {sequence} AS {sequence_type}")


def upgrade() -> None:
    _widen(sa.BigInteger(), "bigint")


def downgrade() -> None:
    _widen(sa.Integer(), "integer")
