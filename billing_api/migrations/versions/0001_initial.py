"""Initial schema: billing's copy of orders, invoices and the pull's state.

Exactly what `BillingTable.metadata.create_all` made before migrations existed; a database made
that way is stamped at this revision at startup instead of being created again. The one
`sync_state` row is not seeded here: `billing_api.db.create_schema` ensures it on every start.

Revision ID: 0001
Revises: None
Create Date: 2026-11-21 15:30:07.420519
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString  # SQLModel's str type: VARCHAR(length)

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "local_orders",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", AutoString(length=16), nullable=False),
        sa.Column("customer_name", AutoString(length=200), nullable=False),
        sa.Column("customer_email", AutoString(length=320), nullable=False),
        sa.Column("currency", AutoString(length=3), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("total", AutoString(length=32), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.Integer(), nullable=False),
        sa.Column("feed_id", AutoString(length=200), nullable=True),
        sa.Column("high_water", sa.Integer(), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", AutoString(length=1000), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("healthy", sa.Boolean(), nullable=False),
        sa.Column("pulls", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Integer(), nullable=False),
        sa.Column("invoices_created", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "invoices",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.Integer(), nullable=False),
        sa.Column("amount", AutoString(length=32), nullable=False),
        sa.Column("currency", AutoString(length=3), nullable=False),
        sa.Column("status", AutoString(length=16), nullable=False),
        sa.Column("order_deleted", sa.Boolean(), nullable=False),
        sa.Column("customer_name", AutoString(length=200), nullable=False),
        sa.Column("customer_email", AutoString(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_number"], ["local_orders.number"]),
        sa.PrimaryKeyConstraint("number"),
        # One invoice per order, whatever happens above the database.
        sa.UniqueConstraint("order_number", name="uq_invoices_order_number"),
        sqlite_autoincrement=True,  # invoice numbers are never reused
    )
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.create_index("ix_invoices_status_number", ["status", "number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_index("ix_invoices_status_number")
    op.drop_table("invoices")
    op.drop_table("sync_state")
    op.drop_table("local_orders")
