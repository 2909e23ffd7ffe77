"""The query of a list screen, shared by ordering's and billing's list routes: search, sort,
direction, page size and where the page starts (docs/contracts.md, "Lists for daily work")."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from starlette.requests import Request

from service_http.cursor import Boundary, CursorCodec, SortKey
from service_http.params import MAX_INT64, choice_param, int_param, search_param

RowT = TypeVar("RowT")

_NUMBER_SEARCH = re.compile(r"#?\s*([0-9]{1,19})")


class Sort(StrEnum):
    CREATED = "created"
    TOTAL = "total"
    STATUS = "status"


class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"


# How many values each sort's key has: created (number), total (currency, amount, number),
# status (rank, number).
KEY_WIDTH = {Sort.CREATED: 1, Sort.TOTAL: 3, Sort.STATUS: 2}


@dataclass(frozen=True)
class ListQuery:
    search: str | None
    sort: Sort
    direction: Direction
    limit: int
    boundary: Boundary | None

    @property
    def searched_number(self) -> int | None:
        """The number a search names ("42", "#42"), if it is one."""
        if self.search is None:
            return None
        match = _NUMBER_SEARCH.fullmatch(self.search)
        if match is None or int(match[1]) > MAX_INT64:
            return None
        return int(match[1])

    @property
    def keyset_boundary(self) -> tuple[SortKey, bool] | None:
        return None if self.boundary is None else (self.boundary.key, self.boundary.before)


def list_query(
    request: Request, codec: CursorCodec, default_limit: int, max_limit: int
) -> ListQuery:
    """The list parameters of `request`; a 400 naming the parameter for anything wrong."""
    search = search_param(request)
    sort = choice_param(request, "sort", Sort, Sort.CREATED)
    direction = choice_param(request, "direction", Direction, Direction.DESC)
    limit = int_param(request, "limit", default_limit, 1, max_limit)
    boundary = codec.boundary_params(request, sort, direction, KEY_WIDTH[sort])
    return ListQuery(search, sort, direction, limit, boundary)


@dataclass(frozen=True)
class PageCursors(Generic[RowT]):
    cursors: list[str]
    next_cursor: str | None
    prev_cursor: str | None


def page_cursors(
    codec: CursorCodec,
    query: ListQuery,
    rows: Sequence[RowT],
    more: bool,
    key_of: Callable[[RowT], SortKey],
) -> PageCursors[RowT]:
    """Each row's cursor, and the cursors of the next and previous pages (None when there is
    none: `more` says whether rows lie beyond the page in the direction it was read)."""
    cursors = [codec.encode_key(query.sort, query.direction, key_of(row)) for row in rows]
    if not cursors:
        return PageCursors(cursors, None, None)
    backwards = query.boundary is not None and query.boundary.before
    # Read forward, rows precede the page when it started after one; read back, rows follow it
    # (the one it started before, at least).
    has_next = more if not backwards else True
    has_prev = more if backwards else query.boundary is not None
    return PageCursors(
        cursors,
        next_cursor=cursors[-1] if has_next else None,
        prev_cursor=cursors[0] if has_prev else None,
    )


def search_query(request: Request) -> ListQuery:
    """Only the search of a list (the counts routes take nothing else)."""
    return ListQuery(search_param(request), Sort.CREATED, Direction.DESC, 1, None)
