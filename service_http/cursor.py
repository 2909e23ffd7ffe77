"""The one opaque page cursor of both services: base64url of `<kind>:<number>`, no padding.

A cursor names the last row of a page (its number); the next page is the rows below it. The
kind keeps one service's cursors (or another list's) from being taken for another's.
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request

from service_http.errors import BadRequest
from service_http.params import MAX_INT64


class InvalidCursor(BadRequest):
    """The `after` cursor was not made by this service."""

    def __init__(self, cursor: str) -> None:
        super().__init__("'after' is not a cursor this service handed out.")
        self.cursor = cursor


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

    def after_param(self, request: Request) -> int | None:
        """The `after` query parameter: the number a page continues below (None: first page)."""
        after = request.query_params.get("after")
        return self.decode(after) if after else None

    def next_cursor(self, before: int | None) -> str | None:
        """The `next_cursor` of a page that continues below `before` (None: the last page)."""
        return self.encode(before) if before is not None else None
