"""The audit trail: who created, confirmed and deleted an order, and its append-only history.

Rows written before this revision have no author (NULL) and no history: nobody recorded it.

Revision ID: 0009b_audit_trail
Revises: 0012a_lists_and_money
Create Date: 2026-11-22 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from service_db.migration_ops import create_append_only_guard, drop_append_only_guard
from service_db.types import BIG_INT

revision: str = "0009b_audit_trail"
down_revision: str | Sequence[str] | None = "0012a_lists_and_money"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = sa.String(length=220)


def upgrade() -> None:
    for column in ("created_by", "confirmed_by", "deleted_by"):
        op.add_column("orders", sa.Column(column, ACTOR, nullable=True))
    op.create_table(
        "order_history",
        sa.Column("id", BIG_INT, nullable=False),
        sa.Column("order_number", BIG_INT, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", ACTOR, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", BIG_INT, nullable=False),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    create_append_only_guard("order_history")
    op.create_index("ix_order_history_order_number", "order_history", ["order_number"])


def downgrade() -> None:
    drop_append_only_guard("order_history")
    op.drop_index("ix_order_history_order_number", table_name="order_history")
    op.drop_table("order_history")
    with op.batch_alter_table("orders") as batch:
        for column in ("deleted_by", "confirmed_by", "created_by"):
            batch.drop_column(column)
