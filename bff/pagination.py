"""Relay-style cursors over the upstreams' opaque page cursors.

An upstream hands out one cursor per page (`next_cursor`); Relay wants one per edge. A BFF
cursor is therefore (upstream cursor of the page, how many items of that page come before the
position). Paging with `pageInfo.endCursor` maps straight onto the upstream's cursor (skip 0);
resuming after any other edge re-reads that upstream page and skips the items before it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bff.errors import BadUserInput
from bff.settings import MAX_PAGE_SIZE

ItemT = TypeVar("ItemT")

# Cursors we hand out are well under this; anything longer is forged and is refused unread
# (a 150 KB one used to travel to the upstream in the URL and fail there).
MAX_CURSOR_LENGTH = 1024
FOREIGN_CURSOR = "`after` is not a cursor this API handed out."


def encode_cursor(upstream_after: str | None, skip: int) -> str:
    raw = json.dumps([upstream_after, skip], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str | None, int]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadUserInput(FOREIGN_CURSOR)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        upstream_after, skip = json.loads(raw)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadUserInput(FOREIGN_CURSOR) from exc
    if not (upstream_after is None or isinstance(upstream_after, str)) or not (
        isinstance(skip, int) and 0 <= skip < MAX_PAGE_SIZE
    ):
        raise BadUserInput(FOREIGN_CURSOR)
    return upstream_after, skip


@dataclass(frozen=True)
class PageRequest:
    first: int
    upstream_after: str | None
    skip: int

    @property
    def limit(self) -> int:
        """How many items to ask the upstream for (its maximum is the page-size bound)."""
        return min(self.skip + self.first, MAX_PAGE_SIZE)


def page_request(first: int, after: str | None) -> PageRequest:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}, not {first}.")
    upstream_after, skip = decode_cursor(after) if after is not None else (None, 0)
    return PageRequest(first=first, upstream_after=upstream_after, skip=skip)


@dataclass(frozen=True)
class Cursor:
    """An edge's cursor, encoded only if a client asks for it (a list screen seldom does, and
    encoding one per edge was measurable on a 50-edge page)."""

    upstream_after: str | None
    skip: int

    def encode(self) -> str:
        return encode_cursor(self.upstream_after, self.skip)


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    edges: list[tuple[Cursor, ItemT]]
    has_next_page: bool
    end_cursor: str | None


def slice_page(
    request: PageRequest, items: Sequence[ItemT], next_cursor: str | None
) -> Page[ItemT]:
    window = list(items[request.skip : request.skip + request.first])
    edges: list[tuple[Cursor, ItemT]] = []
    for offset, item in enumerate(window, start=request.skip + 1):
        if offset == len(items) and next_cursor is not None:
            cursor = Cursor(next_cursor, 0)
        else:
            cursor = Cursor(request.upstream_after, offset)
        edges.append((cursor, item))
    has_next_page = next_cursor is not None or len(items) > request.skip + len(window)
    if edges:
        end_cursor: str | None = edges[-1][0].encode()
    else:
        end_cursor = encode_cursor(next_cursor, 0) if next_cursor is not None else None
    return Page(edges=edges, has_next_page=has_next_page, end_cursor=end_cursor)
