"""Operations that both services' Alembic revisions perform, written once.

Imported only by revision scripts, while Alembic runs them (`alembic.op` is bound then). A
revision calls them by name and keeps its own copy of nothing, so the two services cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


def set_integer_width(
    columns: Sequence[tuple[str, str]], sequences: Sequence[str], *, wide: bool
) -> None:
    """BIGINT (`wide`) or INTEGER for `columns` (table, column) and the SERIAL `sequences`
    behind them, on PostgreSQL. SQLite stores INTEGER in up to 64 bits already, and its
    INTEGER PRIMARY KEY must stay INTEGER to remain the rowid, so nothing changes there.

    `columns` must list a referencing column before the key it references, an order
    PostgreSQL accepts. A SERIAL's sequence is `AS integer` itself, so it must widen as well.
    """
    if op.get_bind().dialect.name != "postgresql":
        return
    to: sa.types.TypeEngine[int] = sa.BigInteger() if wide else sa.Integer()
    for table, column in columns:
        op.alter_column(table, column, type_=to)
    for sequence in sequences:
        op.execute(f"ALTER SEQUENCE IF EXISTS {sequence} AS {'bigint' if wide else 'integer'}")


def create_idempotency_table() -> None:
    """The table of service_db.idempotency: stored answers of writes sent with an
    Idempotency-Key, one row per key, written in the transaction of the write it answers."""
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


def drop_idempotency_table() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")


def create_append_only_guard(table: str) -> None:
    """Refuse every UPDATE and DELETE of `table` in the database itself (an audit trail is
    append-only: not even a bug or a hand-typed statement may rewrite it)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION refuse_audit_change() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def drop_append_only_guard(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        # Each service's database has one audit table, so the function goes with it.
        op.execute("DROP FUNCTION IF EXISTS refuse_audit_change()")
        return
    for event in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
