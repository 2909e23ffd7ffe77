"""Operations that both services' Alembic revisions perform, written once.

Imported only by revision scripts, while Alembic runs them (`alembic.op` is bound then).
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
