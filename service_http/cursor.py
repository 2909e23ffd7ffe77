"""The one opaque page cursor of both services, base64url without padding.

A cursor names one row of a sorted list by its sort key (keyset paging): `after` it are the rows
that follow it in the list's order, `before` it the rows that precede it. It is the JSON
`[kind, sort, direction, [key...]]`; the kind keeps one service's cursors (or another list's)
from being taken for another's, and the sort and direction keep a cursor from being read
against a list sorted another way. The first form, `<kind>:<number>`, is still read: it is a
row of the default list (by number, newest first).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from starlette.requests import Request

from service_http.errors import BadRequest
from service_http.params import MAX_INT64, optional_param


class InvalidCursor(BadRequest):
    """The `after` (or `before`) cursor was not made by this service."""

    def __init__(self, cursor: str, name: str = "after") -> None:
        super().__init__(f"'{name}' is not a cursor this service handed out.")
        self.cursor = cursor


# One value of a sort key: a number (row number, amount, rank) or a short code (a currency).
KeyValue = int | str
SortKey = tuple[KeyValue, ...]
# Cursors we hand out are well under this; longer ones are refused unread.
MAX_CURSOR_LENGTH = 512
_MAX_TEXT_VALUE = 16
# The sort every list had before sorting was offered, which the first cursor form belongs to.
LEGACY_SORT = ("created", "desc")


@dataclass(frozen=True)
class Boundary:
    """Where a page starts: after a row or before it (by its sort key)."""

    key: SortKey
    before: bool


class CursorCodec:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def encode(self, number: int) -> str:
        return base64.urlsafe_b64encode(f"{self.kind}:{number}".encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> int:
        # Padding is optional, so cursors handed out with it (older ordering) still work.
        padded = cursor.rstrip("=") + "=" * (-len(cursor.rstrip("=")) % 4)
        try:
            raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidCursor(cursor) from None
        kind, _, digits = raw.partition(":")
        if kind != self.kind or not digits.isascii() or not digits.isdigit() or len(digits) > 19:
            raise InvalidCursor(cursor)
        number = int(digits)
        if number > MAX_INT64:
            raise InvalidCursor(cursor)
        return number

    def encode_key(self, sort: str, direction: str, key: SortKey) -> str:
        raw = json.dumps([self.kind, sort, direction, list(key)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode_key(
        self, cursor: str, sort: str, direction: str, width: int, name: str = "after"
    ) -> SortKey:
        """The sort key of a row of the list sorted by `sort`/`direction` (`width` values)."""
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursor(cursor, name)
        padded = cursor.rstrip("=") + "=" * (-len(cursor.rstrip("=")) % 4)
        try:
            raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidCursor(cursor, name) from None
        if not raw.startswith("["):
            number = self._legacy_number(raw, cursor, name)
            if (sort, direction) != LEGACY_SORT:
                raise _other_sort(name, *LEGACY_SORT)
            return (number,)
        try:
            kind, cursor_sort, cursor_direction, key = json.loads(raw)
        except (ValueError, TypeError):
            raise InvalidCursor(cursor, name) from None
        if kind != self.kind or not isinstance(key, list) or not all(map(_fits, key)):
            raise InvalidCursor(cursor, name)
        if (cursor_sort, cursor_direction) != (sort, direction):
            raise _other_sort(name, str(cursor_sort), str(cursor_direction))
        if len(key) != width:
            raise InvalidCursor(cursor, name)
        return tuple(key)

    def boundary_params(
        self, request: Request, sort: str, direction: str, width: int
    ) -> Boundary | None:
        """The `after` or `before` query parameter as a boundary (None: the first page)."""
        after = optional_param(request, "after")
        before = optional_param(request, "before")
        if after is not None and before is not None:
            raise BadRequest(
                "Give 'after' (the next page) or 'before' (the previous page), not both."
            )
        if after is not None:
            return Boundary(self.decode_key(after, sort, direction, width, "after"), before=False)
        if before is not None:
            return Boundary(self.decode_key(before, sort, direction, width, "before"), before=True)
        return None

    def _legacy_number(self, raw: str, cursor: str, name: str) -> int:
        kind, _, digits = raw.partition(":")
        if kind != self.kind or not digits.isascii() or not digits.isdigit() or len(digits) > 19:
            raise InvalidCursor(cursor, name)
        number = int(digits)
        if number > MAX_INT64:
            raise InvalidCursor(cursor, name)
        return number

    def after_param(self, request: Request) -> int | None:
        """The `after` query parameter: the number a page continues below (None: first page)."""
        after = optional_param(request, "after")
        return self.decode(after) if after is not None else None

    def next_cursor(self, before: int | None) -> str | None:
        """The `next_cursor` of a page that continues below `before` (None: the last page)."""
        return self.encode(before) if before is not None else None


def _fits(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -MAX_INT64 <= value <= MAX_INT64
    return isinstance(value, str) and len(value) <= _MAX_TEXT_VALUE


def _other_sort(name: str, sort: str, direction: str) -> BadRequest:
    return BadRequest(
        f"'{name}' is a cursor of the list sorted by {sort[:20]} ({direction[:10]}); page with the"
        " same 'sort' and 'direction', or start again without a cursor."
    )
