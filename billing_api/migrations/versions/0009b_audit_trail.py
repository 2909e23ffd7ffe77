"""The audit trail: who approved an invoice, and each invoice's append-only history.

Invoices made before this revision have no author (NULL) and no history: nobody recorded it.

Revision ID: 0009b_audit_trail
Revises: 0012a_lists_and_money
Create Date: 2026-11-22 00:40:00
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
    op.add_column("invoices", sa.Column("approved_by", ACTOR, nullable=True))
    op.create_table(
        "invoice_history",
        sa.Column("id", BIG_INT, nullable=False),
        sa.Column("invoice_number", BIG_INT, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", ACTOR, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_version", BIG_INT, nullable=False),
        sa.ForeignKeyConstraint(["invoice_number"], ["invoices.number"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    create_append_only_guard("invoice_history")
    op.create_index("ix_invoice_history_invoice_number", "invoice_history", ["invoice_number"])


def downgrade() -> None:
    drop_append_only_guard("invoice_history")
    op.drop_index("ix_invoice_history_invoice_number", table_name="invoice_history")
    op.drop_table("invoice_history")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("approved_by")
