"""Stored answers of writes sent with an Idempotency-Key (service_http.idempotency).

A row is written in the same transaction as the write it answers; the primary key on `key`
is what keeps two concurrent attempts with one key from both writing. Rows older than the
service's idempotency_key_ttl are removed as new keys are stored.

Revision ID: 0010a_idempotency_keys
Revises: 0017a_assigner_index
Create Date: 2026-11-21 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010a_idempotency_keys"
down_revision: str | Sequence[str] | None = "0017a_assigner_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
