"""Every number and position is 64-bit: order numbers, versions, line ids, positions and
quantities become BIGINT on PostgreSQL, with the order and line number sequences widened too.

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
    ("order_lines", "order_number"),
    ("order_lines", "id"),
    ("order_lines", "position"),
    ("order_lines", "quantity"),
    ("orders", "number"),
    ("orders", "row_version"),
    ("feed_counter", "id"),
]
# The sequences behind SERIAL keys are `AS integer` themselves: they must widen as well.
SEQUENCES = ["orders_number_seq", "order_lines_id_seq"]


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
