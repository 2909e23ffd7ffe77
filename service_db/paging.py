"""The two list reads both services serve: a page newest first, and a batch in asked order."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import case, literal, or_, tuple_
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from service_http.cursor import SortKey
from service_http.listing import ListQuery, Sort

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


def search_text(*parts: str) -> str:
    """What a row's text search reads: its searchable texts, case-folded (Unicode-aware, so
    "ørsted" finds "Ørsted" on SQLite too, whose lower() folds ASCII only), one per line."""
    return "\n".join(part.casefold() for part in parts)


def searched(query: Any, wanted: ListQuery, text: Any, *numbers: Any) -> Any:
    """`query` narrowed to the list's search: rows whose `text` column (a `search_text`)
    contains it, or, when the search is a number, rows with it in one of the `numbers` columns."""
    if wanted.search is None:
        return query
    matches = contains(text, wanted.search)
    number = wanted.searched_number
    if number is None:
        return query.where(matches)
    return query.where(or_(matches, *(column == number for column in numbers)))


def contains(column: Any, text: str) -> Any:
    """`column` (a `search_text`) contains `text`, case-insensitively; `%`, `_` and `\\` in
    `text` are taken literally."""
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


async def keyset_page(
    session: AsyncSession,
    query: SelectOfScalar[RowT],
    columns: Sequence[Any],
    descending: bool,
    limit: int,
    boundary: tuple[tuple[Any, ...], bool] | None,
) -> tuple[list[RowT], bool]:
    """Up to `limit` rows of `query` in the order of `columns` (a sort key whose last column is
    unique, all ascending or all `descending`), starting at `boundary` = (key, before): after
    the row with that key, or (before=True) the `limit` rows just before it, still returned in
    list order. Also says whether more rows lie beyond the page in the direction read (after
    its last row going forward, before its first going back).

    Keyset paging: a page never repeats or skips a row when rows are added or removed
    elsewhere, and costs the same on page 1 and page 1000 (an index on `columns` serves it).
    """
    backwards = boundary is not None and boundary[1]
    # Reading back means reading the list reversed from the boundary, then turning the page.
    reverse = descending != backwards
    if boundary is not None:
        key = tuple_(*columns)
        values = tuple_(*(literal(value) for value in boundary[0]))
        query = query.where(key < values if reverse else key > values)
    order = [column.desc() if reverse else column.asc() for column in columns]
    rows = list((await session.exec(query.order_by(*order).limit(limit + 1))).all())
    more = len(rows) > limit
    page = rows[:limit]
    if backwards:
        page.reverse()
    return page, more


@dataclass(frozen=True)
class ListSorts:
    """A list's sorts as SQL columns and as the key a row's cursor holds, for both services'
    lists: by number (creation order), by currency then amount (amounts in different
    currencies do not compare), by status in life-cycle order. Ties go by number."""

    number: Any
    currency: Any
    amount: Any
    status: Any
    # Status → rank in the life cycle ("sort by status" is not the alphabet's order).
    ranks: Mapping[Any, int]
    amount_attribute: str

    def columns(self, sort: Sort) -> list[Any]:
        if sort is Sort.TOTAL:
            return [self.currency, self.amount, self.number]
        if sort is Sort.STATUS:
            # Compared through the column, so each status is bound as the column stores it.
            return [
                case(*[(self.status == s, rank) for s, rank in self.ranks.items()]),
                self.number,
            ]
        return [self.number]

    def key(self, row: Any, sort: Sort) -> SortKey:
        """The row's values of `columns(sort)`: what its cursor holds."""
        assert row.number is not None
        if sort is Sort.TOTAL:
            return (row.currency, getattr(row, self.amount_attribute), row.number)
        if sort is Sort.STATUS:
            return (self.ranks[row.status], row.number)
        return (row.number,)
