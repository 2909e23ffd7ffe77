"""Initial schema: orders, their lines and the feed counter.

Exactly what `OrderingTable.metadata.create_all` made before migrations existed; a database made
that way is stamped at this revision at startup instead of being created again.

Revision ID: 0001
Revises: None
Create Date: 2026-11-21 15:30:06.154954
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString  # SQLModel's str type: VARCHAR(length)

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLModel stores the enum's member names; on PostgreSQL this is a type of its own.
order_status = sa.Enum("DRAFT", "CONFIRMED", "DELETED", name="orderstatus")


def upgrade() -> None:
    op.create_table(
        "feed_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", AutoString(), nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "orders",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", order_status, nullable=False),
        sa.Column("customer_name", AutoString(), nullable=False),
        sa.Column("customer_email", AutoString(), nullable=False),
        sa.Column("currency", AutoString(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("number"),
        sa.UniqueConstraint("change_seq"),
        sqlite_autoincrement=True,  # order numbers are never reused
    )
    with op.batch_alter_table("orders") as batch_op:
        batch_op.create_index("ix_orders_pending", ["published", "change_seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_status"), ["status"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", AutoString(), nullable=False),
        sa.Column("description", AutoString(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order_lines") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_lines_order_number"), ["order_number"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("order_lines") as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_lines_order_number"))
    op.drop_table("order_lines")

    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_status"))
        batch_op.drop_index("ix_orders_pending")
    op.drop_table("orders")
    # DROP TABLE leaves PostgreSQL's enum type behind; no-op where there is none (SQLite).
    order_status.drop(op.get_bind(), checkfirst=True)

    op.drop_table("feed_counter")
