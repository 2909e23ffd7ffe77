"""The order list for daily work: search, status counts, sort, and paging both ways whose
cursors stay right under every sort (ties included), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.ordering_api.conftest import Ordering


@pytest.fixture(params=["ordering", "ordering_pg"])
def any_ordering(request: pytest.FixtureRequest) -> Ordering:
    running: Ordering = request.getfixturevalue(request.param)
    return running


def _order(name: str, email: str, currency: str, price: str) -> dict[str, Any]:
    return {
        "customer": {"name": name, "email": email},
        "currency": currency,
        "lines": [{"sku": "A", "quantity": 1, "unit_price": price}],
    }


async def _list(ordering: Ordering, **params: Any) -> dict[str, Any]:
    response = await ordering.client.get("/orders", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert len(page["cursors"]) == len(page["orders"])
    return page


async def _walk(ordering: Ordering, limit: int, **params: Any) -> list[list[int]]:
    """Every page forward from the first, then every page back from the last."""
    forward: list[list[int]] = []
    page = await _list(ordering, limit=limit, **params)
    assert page["prev_cursor"] is None
    while True:
        forward.append([o["number"] for o in page["orders"]])
        if page["next_cursor"] is None:
            break
        page = await _list(ordering, limit=limit, after=page["next_cursor"], **params)
    backward: list[list[int]] = [forward[-1]]
    while page["prev_cursor"] is not None:
        page = await _list(ordering, limit=limit, before=page["prev_cursor"], **params)
        backward.append([o["number"] for o in page["orders"]])
    assert page["prev_cursor"] is None
    return [*forward, [-1], *backward]


@pytest.fixture
async def seeded(any_ordering: Ordering) -> tuple[Ordering, dict[str, int]]:
    ordering = any_ordering
    bodies = {
        "ada": _order("Ada Lovelace", "ada@example.com", "EUR", "10.00"),
        "grace": _order("Grace Hopper", "grace@navy.example", "EUR", "10.00"),  # a tie with ada
        "orsted": _order("Hans Christian Ørsted", "hc@example.dk", "DKK", "5.00"),
        "yen": _order("Yoko Sato", "yoko@example.jp", "JPY", "1200"),
        "alan": _order("Alan Turing", "alan@example.com", "EUR", "2.50"),
        "percent": _order("100% Cotton_Ltd", "sales@cotton.example", "EUR", "99.99"),
        "edsger": _order("Edsger Dijkstra", "ewd@example.nl", "EUR", "10.00"),  # another tie
    }
    numbers = {key: (await ordering.create(body))["number"] for key, body in bodies.items()}
    for key in ("grace", "yen", "alan"):
        assert (await ordering.client.post(f"/orders/{numbers[key]}/confirm")).status_code == 200
    assert (await ordering.client.delete(f"/orders/{numbers['alan']}")).status_code == 200
    return ordering, numbers


async def test_search_by_name_email_or_number_any_case(
    seeded: tuple[Ordering, dict[str, int]],
) -> None:
    ordering, n = seeded

    async def found(q: str, **params: Any) -> list[int]:
        return [o["number"] for o in (await _list(ordering, q=q, **params))["orders"]]

    assert await found("LOVELACE") == [n["ada"]]
    assert await found("  navy.EXAMPLE ") == [n["grace"]]
    assert await found("ørsted") == [n["orsted"]]  # non-ASCII case folding, on SQLite too
    assert await found("ØRSTED") == [n["orsted"]]
    assert await found(f"#{n['yen']}") == [n["yen"]]
    assert await found(str(n["edsger"])) == [n["edsger"]]
    # Wildcards are literal: "%" and "_" find only the name that has them.
    assert await found("100%") == [n["percent"]]
    assert await found("n_l") == [n["percent"]]
    assert await found("example.com") == [n["ada"]]  # alan's is deleted: not in the default list
    assert await found("example.com", status="deleted") == [n["alan"]]
    assert await found("nobody at all") == []
    # Blank is no search.
    assert len(await found("   ")) == 6


async def test_counts_per_status_follow_the_search(
    seeded: tuple[Ordering, dict[str, int]],
) -> None:
    ordering, _ = seeded
    response = await ordering.client.get("/orders/counts")
    assert response.json() == {"counts": {"draft": 4, "confirmed": 2, "deleted": 1}}
    response = await ordering.client.get("/orders/counts", params={"q": "example.com"})
    assert response.json() == {"counts": {"draft": 1, "confirmed": 0, "deleted": 1}}


@pytest.mark.parametrize(
    ("sort", "direction", "expected"),
    [
        ("created", "desc", ["edsger", "percent", "yen", "orsted", "grace", "ada"]),
        ("created", "asc", ["ada", "grace", "orsted", "yen", "percent", "edsger"]),
        # By currency, then amount; the three EUR 10.00 tie and go by number.
        ("total", "asc", ["orsted", "ada", "grace", "edsger", "percent", "yen"]),
        ("total", "desc", ["yen", "percent", "edsger", "grace", "ada", "orsted"]),
        # Life-cycle order: drafts, then confirmed; ties by number.
        ("status", "asc", ["ada", "orsted", "percent", "edsger", "grace", "yen"]),
        ("status", "desc", ["yen", "grace", "edsger", "percent", "orsted", "ada"]),
    ],
)
async def test_every_sort_pages_both_ways_without_repeats_or_gaps(
    seeded: tuple[Ordering, dict[str, int]], sort: str, direction: str, expected: list[str]
) -> None:
    ordering, n = seeded
    want = [n[key] for key in expected]
    walked = await _walk(ordering, 2, sort=sort, direction=direction)
    marker = walked.index([-1])
    forward, backward = walked[:marker], walked[marker + 1 :]
    assert forward == [want[0:2], want[2:4], want[4:6]]
    assert backward == [want[4:6], want[2:4], want[0:2]]
    # Pages of 4: the previous page of the last (2 rows) is the first 4.
    whole = await _list(ordering, sort=sort, direction=direction, limit=4)
    last = await _list(
        ordering, sort=sort, direction=direction, limit=4, after=whole["next_cursor"]
    )
    assert [o["number"] for o in last["orders"]] == want[4:]
    back = await _list(
        ordering, sort=sort, direction=direction, limit=4, before=last["prev_cursor"]
    )
    assert [o["number"] for o in back["orders"]] == want[:4]
    assert back["prev_cursor"] is None and back["next_cursor"] == back["cursors"][-1]


async def test_any_rows_cursor_starts_a_page_and_rows_added_meanwhile_do_not_shift_it(
    seeded: tuple[Ordering, dict[str, int]],
) -> None:
    ordering, n = seeded
    first = await _list(ordering, sort="total", direction="desc", limit=3)
    middle = first["cursors"][1]  # percent, EUR 99.99
    # A new EUR 50.00 order sorts between percent and edsger: after the cursor, not before.
    added = await ordering.create(_order("New", "new@example.com", "EUR", "50.00"))
    after = await _list(ordering, sort="total", direction="desc", limit=2, after=middle)
    assert [o["number"] for o in after["orders"]] == [added["number"], n["edsger"]]
    before = await _list(ordering, sort="total", direction="desc", limit=5, before=middle)
    assert [o["number"] for o in before["orders"]] == [n["yen"]]
    assert before["prev_cursor"] is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "price"}, "'sort' must be one of created, total, status, got 'price'."),
        ({"direction": "up"}, "'direction' must be one of asc, desc, got 'up'."),
        ({"q": "x" * 201}, "'q' (the search) can be at most 200 characters long; it has 201."),
        ({"before": ""}, "'before' must not be empty; leave it out instead."),
        ({"after": "x", "before": "y"}, "Give 'after' (the next page) or 'before'"),
        ({"before": "bm90IGEgY3Vyc29y"}, "'before' is not a cursor this service handed out."),
    ],
)
async def test_bad_list_parameters_are_a_400_that_says_why(
    ordering: Ordering, params: dict[str, str], message: str
) -> None:
    response = await ordering.client.get("/orders", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)


async def test_a_cursor_is_bound_to_its_sort(ordering: Ordering) -> None:
    for _ in range(3):
        await ordering.create()
    page = await _list(ordering, sort="total", limit=1)
    response = await ordering.client.get("/orders", params={"after": page["next_cursor"]})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "'after' is a cursor of the list sorted by total (desc); page with the same 'sort' and"
        " 'direction', or start again without a cursor."
    )
    # A cursor of another service's list is refused too.
    invoice_cursor = base64.urlsafe_b64encode(b'["inv","created","desc",[1]]').decode()
    response = await ordering.client.get("/orders", params={"after": invoice_cursor})
    assert response.status_code == 400


async def test_a_cursor_from_before_sorting_still_pages_the_default_list(
    ordering: Ordering,
) -> None:
    numbers = [(await ordering.create())["number"] for _ in range(3)]
    legacy = base64.urlsafe_b64encode(f"order:{numbers[2]}".encode()).decode().rstrip("=")
    page = await _list(ordering, after=legacy)
    assert [o["number"] for o in page["orders"]] == [numbers[1], numbers[0]]
