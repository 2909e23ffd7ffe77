"""Relay paging both ways over the upstreams' keyset pages.

An upstream list page hands out one cursor per row (`cursors`), and the cursors of the next and
previous pages (`next_cursor`, `prev_cursor`; docs/contracts.md, "Lists for daily work"). A row's
cursor names the row by its sort key, so it serves `after` (the rows that follow it) and
`before` (the rows that precede it) alike: Relay's edge cursors are the upstream's, passed
through unchanged, and `first`/`after` and `last`/`before` map straight onto one upstream call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bff.errors import BadUserInput
from bff.settings import MAX_PAGE_SIZE

ItemT = TypeVar("ItemT")

DEFAULT_PAGE_SIZE = 20
# Cursors we hand out are well under this; anything longer is forged and is refused unread
# (a 150 KB one used to travel to the upstream in the URL and fail there).
MAX_CURSOR_LENGTH = 1024
FOREIGN_CURSOR = "`{name}` is not a cursor this API handed out."
MAX_SEARCH_LENGTH = 200
# Every cursor the services hand out is base64url: anything else never travels upstream.
_CURSOR_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_CURSOR_LENGTH}}}={{0,2}}")


@dataclass(frozen=True)
class PageRequest:
    """One upstream page: `limit` rows after the `after` row or just before the `before` row."""

    limit: int
    after: str | None = None
    before: str | None = None


def page_request(
    first: int | None, after: str | None, last: int | None = None, before: str | None = None
) -> PageRequest:
    """The upstream page for Relay's arguments: `first` (with `after`) reads forward, `last`
    (with `before`) reads back; anything else is a BAD_USER_INPUT that says what to send."""
    if after is not None and before is not None:
        raise BadUserInput(
            "Give `after` (the next page) or `before` (the previous page), not both."
        )
    if first is not None and last is not None:
        raise BadUserInput("Give `first` (with `after`) or `last` (with `before`), not both.")
    if last is not None and before is None:
        raise BadUserInput(
            "`last` counts back from `before`: give `before` (a page's `startCursor`) too."
        )
    name, size = ("last", last) if last is not None else ("first", first)
    if size is None:
        size = DEFAULT_PAGE_SIZE
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadUserInput(f"`{name}` must be between 1 and {MAX_PAGE_SIZE}, not {size}.")
    for cursor_name, cursor in (("after", after), ("before", before)):
        if cursor is not None and not _CURSOR_SHAPE.fullmatch(cursor):
            raise BadUserInput(FOREIGN_CURSOR.format(name=cursor_name))
    return PageRequest(limit=size, after=after, before=before)


def search_text(search: str | None) -> str | None:
    """The search as the upstreams take it: surrounding spaces dropped, blank means none."""
    if search is None:
        return None
    if len(search) > MAX_SEARCH_LENGTH:
        raise BadUserInput(
            f"The search can be at most {MAX_SEARCH_LENGTH} characters long; it has {len(search)}."
        )
    return search.strip() or None


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    edges: list[tuple[str, ItemT]]
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_of(
    items: Sequence[ItemT],
    cursors: Sequence[str],
    next_cursor: str | None,
    prev_cursor: str | None,
) -> Page[ItemT]:
    """A Relay page from an upstream page (its rows, their cursors and its neighbours')."""
    edges = list(zip(cursors, items, strict=True))
    return Page(
        edges=edges,
        has_next_page=next_cursor is not None,
        has_previous_page=prev_cursor is not None,
        start_cursor=edges[0][0] if edges else None,
        end_cursor=edges[-1][0] if edges else None,
    )


@dataclass(frozen=True)
class ListParams:
    """A list read as the upstream list routes take it (`GET /orders`, `GET /invoices`)."""

    status: str | None
    search: str | None
    sort: str
    direction: str
    page: PageRequest

    def query(self) -> list[tuple[str, str | int]]:
        """The query string, in a fixed order: it is also the upstream cache's key."""
        params: list[tuple[str, str | int]] = [
            ("sort", self.sort),
            ("direction", self.direction),
            ("limit", self.page.limit),
        ]
        for name, value in (
            ("status", self.status),
            ("q", self.search),
            ("after", self.page.after),
            ("before", self.page.before),
        ):
            if value is not None:
                params.append((name, value))
        return params
