"""Every number and position is 64-bit: order numbers, versions, line ids, positions and
quantities become BIGINT on PostgreSQL, with the order and line number sequences widened too.

PostgreSQL only (service_db.migration_ops says why SQLite needs nothing).

Revision ID: 0015a_64bit_numbers
Revises: 0001
Create Date: 2026-11-21 21:45:00
"""

from collections.abc import Sequence

from service_db.migration_ops import set_integer_width

revision: str = "0015a_64bit_numbers"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    ("order_lines", "order_number"),
    ("order_lines", "id"),
    ("order_lines", "position"),
    ("order_lines", "quantity"),
    ("orders", "number"),
    ("orders", "row_version"),
    ("feed_counter", "id"),
]
SEQUENCES = ["orders_number_seq", "order_lines_id_seq"]


def upgrade() -> None:
    set_integer_width(COLUMNS, SEQUENCES, wide=True)


def downgrade() -> None:
    set_integer_width(COLUMNS, SEQUENCES, wide=False)
