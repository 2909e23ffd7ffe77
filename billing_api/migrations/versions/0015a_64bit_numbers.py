"""Every number and position is 64-bit: order and invoice numbers, versions, feed positions,
the token and the pull's counters become BIGINT on PostgreSQL (ordering's are 64-bit, so a
32-bit column here failed past 2**31 - 1), with the invoice number sequence widened too.

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

# Per table, referencing columns before the keys they reference.
WIDENED = {
    "invoices": ("order_number", "number"),
    "local_orders": ("number", "row_version", "change_seq"),
    "sync_state": (
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
    ),
}
COLUMNS = [(table, column) for table, columns in WIDENED.items() for column in columns]
SEQUENCES = ["invoices_number_seq"]


def upgrade() -> None:
    set_integer_width(COLUMNS, SEQUENCES, wide=True)


def downgrade() -> None:
    set_integer_width(COLUMNS, SEQUENCES, wide=False)
