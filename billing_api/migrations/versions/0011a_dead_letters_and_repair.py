"""Dead letters (records the pull could not apply, set aside so it moves on), and the sync
state's new columns: when failing began, a halt when ordering's feed went backwards, the
repairing re-sync's progress and report, and the dead-letter total.

Revision ID: 0011a_dead_letters_and_repair
Revises: 0009b_audit_trail
Create Date: 2026-11-22 00:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "0011a_dead_letters_and_repair"
down_revision: str | Sequence[str] | None = "0009b_audit_trail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_INT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", BIG_INT, nullable=False),
        sa.Column("order_number", BIG_INT, nullable=True),
        sa.Column("row_version", BIG_INT, nullable=True),
        sa.Column("change_seq", BIG_INT, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("kind", AutoString(length=16), nullable=False),
        sa.Column("error", AutoString(length=1000), nullable=False),
        sa.Column("attempts", BIG_INT, nullable=False),
        sa.Column("status", AutoString(length=16), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_dead_letters_status_id", "dead_letters", ["status", "id"])
    op.create_index("ix_dead_letters_order_number", "dead_letters", ["order_number"])
    with op.batch_alter_table("sync_state") as batch:
        batch.add_column(sa.Column("dead_lettered", BIG_INT, nullable=False, server_default="0"))
        batch.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("halted_reason", AutoString(length=1000), nullable=True))
        batch.add_column(sa.Column("halted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("repair_from", BIG_INT, nullable=True))
        batch.add_column(sa.Column("last_repair", sa.JSON(), nullable=True))
    # The default only filled the existing row; the model has none (as for the other totals).
    with op.batch_alter_table("sync_state") as batch:
        batch.alter_column("dead_lettered", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("sync_state") as batch:
        for column in (
            "last_repair",
            "repair_from",
            "halted_at",
            "halted_reason",
            "failing_since",
            "dead_lettered",
        ):
            batch.drop_column(column)
    op.drop_index("ix_dead_letters_order_number", table_name="dead_letters")
    op.drop_index("ix_dead_letters_status_id", table_name="dead_letters")
    op.drop_table("dead_letters")
