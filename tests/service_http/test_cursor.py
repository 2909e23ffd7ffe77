"""The one cursor codec: round trips, refuses other kinds and forgeries, reads older cursors."""

from __future__ import annotations

import base64

import pytest

from service_http.cursor import CursorCodec, InvalidCursor
from service_http.params import MAX_INT64

ORDERS = CursorCodec("order")


@pytest.mark.parametrize("number", [1, 42, MAX_INT64])
def test_round_trip(number: int) -> None:
    cursor = ORDERS.encode(number)
    assert "=" not in cursor, "no padding to escape in a query string"
    assert ORDERS.decode(cursor) == number


def test_a_padded_cursor_from_before_still_works() -> None:
    # Ordering handed out padded cursors before the codec was shared.
    assert ORDERS.decode(base64.urlsafe_b64encode(b"order:5").decode()) == 5


@pytest.mark.parametrize(
    "cursor",
    [
        CursorCodec("inv").encode(5),  # another list's cursor
        base64.urlsafe_b64encode(b"order:-5").decode(),
        base64.urlsafe_b64encode(b"order:12x").decode(),
        base64.urlsafe_b64encode(f"order:{MAX_INT64 + 1}".encode()).decode(),
        base64.urlsafe_b64encode("order:١٢".encode()).decode(),  # non-ASCII digits
        "not a cursor",
        "b3JkZXI6NQ*",
    ],
)
def test_strangers_are_a_bad_request(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as refused:
        ORDERS.decode(cursor)
    assert refused.value.status == 400
    assert refused.value.message == "'after' is not a cursor this service handed out."
