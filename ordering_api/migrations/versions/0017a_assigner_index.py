"""The assigner walks its backlog through an index in its own order.

`ix_orders_pending (published, change_seq)` found the pending orders but not in the order the
assigner numbers them (`updated_at, number`), so every batch sorted the whole backlog (a temp
B-tree on SQLite, a disk sort on PostgreSQL). `ix_orders_backlog` is on exactly that order and
holds only the backlog (partial: published and not yet numbered), so a batch is the first rows
of the index and the index is empty whenever the feed is caught up.

Revision ID: 0017a_assigner_index
Revises: 0015a_64bit_numbers
Create Date: 2026-11-21 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017a_assigner_index"
down_revision: str | Sequence[str] | None = "0015a_64bit_numbers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_backlog",
        "orders",
        ["updated_at", "number"],
        unique=False,
        sqlite_where=sa.text("published IS 1 AND change_seq IS NULL"),
        postgresql_where=sa.text("published IS true AND change_seq IS NULL"),
    )
    op.drop_index("ix_orders_pending", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_pending", "orders", ["published", "change_seq"], unique=False)
    op.drop_index("ix_orders_backlog", table_name="orders")
