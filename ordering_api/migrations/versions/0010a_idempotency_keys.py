"""Stored answers of writes sent with an Idempotency-Key (service_http.idempotency).

The table is the same in both services (service_db.migration_ops.create_idempotency_table).

Revision ID: 0010a_idempotency_keys
Revises: 0017a_assigner_index
Create Date: 2026-11-21 22:10:00
"""

from collections.abc import Sequence

from service_db.migration_ops import create_idempotency_table, drop_idempotency_table

revision: str = "0010a_idempotency_keys"
down_revision: str | Sequence[str] | None = "0017a_assigner_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_table()


def downgrade() -> None:
    drop_idempotency_table()
