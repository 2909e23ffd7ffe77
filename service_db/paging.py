"""The two list reads both services serve: a page newest first, and a batch in asked order."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

RowT = TypeVar("RowT")


async def newest_first(
    session: AsyncSession,
    query: SelectOfScalar[RowT],
    key: Any,
    limit: int,
    before: int | None,
) -> tuple[list[RowT], int | None]:
    """Up to `limit` rows of `query` with `key` below `before`, highest key first; and the key
    to continue before (the last row's), or None when this is the last page.

    Keyset paging: a page never repeats or skips a row when rows are added meanwhile.
    """
    if before is not None:
        query = query.where(key < before)
    rows = list((await session.exec(query.order_by(key.desc()).limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    last: int = getattr(page[-1], key.key)
    return page, last


def in_asked_order(
    rows: Iterable[RowT], key: Callable[[RowT], Hashable], asked: Sequence[Hashable]
) -> list[RowT]:
    """`rows` in the order of `asked` (repeats answered once), leaving out what was not found."""
    found = {key(row): row for row in rows}
    return [found[wanted] for wanted in dict.fromkeys(asked) if wanted in found]
