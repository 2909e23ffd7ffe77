"""Ordering's REST routes in process on a real SQLite file: the happy paths and the status rules."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from tests.ordering_api.conftest import ORDER, Ordering


async def test_create_returns_a_numbered_draft_with_totals(ordering: Ordering) -> None:
    response = await ordering.client.post("/orders", json=ORDER)
    assert response.status_code == 201
    order = response.json()
    assert response.headers["location"] == f"/orders/{order['number']}"
    assert order["status"] == "draft"
    assert order["row_version"] == 1
    assert order["change_seq"] is None
    assert [line["amount"] for line in order["lines"]] == ["1.00", "4.50"]
    assert order["lines"][1]["unit_price"] == "1.50"
    assert order["total"] == "5.50"
    assert order["confirmed_at"] is None and order["deleted_at"] is None
    created = datetime.fromisoformat(order["created_at"])
    assert created.utcoffset() == timedelta(0)


async def test_numbers_are_unique_and_increasing(ordering: Ordering) -> None:
    numbers = [(await ordering.create())["number"] for _ in range(3)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


async def test_get_one_and_unknown(ordering: Ordering) -> None:
    order = await ordering.create()
    assert (await ordering.client.get(f"/orders/{order['number']}")).json() == order
    missing = await ordering.client.get("/orders/9999")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_replace_a_draft_bumps_version_and_recomputes_total(ordering: Ordering) -> None:
    order = await ordering.create()
    lines = [{"sku": "X", "quantity": 2, "unit_price": "9.99"}]
    body = {**ORDER, "currency": "USD", "lines": lines}
    response = await ordering.client.put(f"/orders/{order['number']}", json=body)
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["currency"] == "USD"
    assert replaced["total"] == "19.98"
    assert replaced["row_version"] == 2
    assert [line["sku"] for line in replaced["lines"]] == ["X"]


async def test_confirm_then_delete(ordering: Ordering) -> None:
    confirmed = await ordering.confirmed()
    assert confirmed["status"] == "confirmed"
    assert confirmed["confirmed_at"] is not None
    assert confirmed["row_version"] == 2
    deleted = (await ordering.client.delete(f"/orders/{confirmed['number']}")).json()
    assert deleted["status"] == "deleted"
    assert deleted["deleted_at"] is not None
    assert deleted["row_version"] == 3
    # Soft delete: the order is still there to read.
    again = await ordering.client.get(f"/orders/{confirmed['number']}")
    assert again.status_code == 200 and again.json()["status"] == "deleted"


async def test_status_rules_answer_409_and_change_nothing(ordering: Ordering) -> None:
    empty = await ordering.create({**ORDER, "lines": []})
    confirmed = await ordering.confirmed()
    deleted = await ordering.create()
    await ordering.client.delete(f"/orders/{deleted['number']}")
    cases = [
        ("POST", f"/orders/{empty['number']}/confirm", None),
        ("PUT", f"/orders/{confirmed['number']}", ORDER),
        ("POST", f"/orders/{confirmed['number']}/confirm", None),
        ("POST", f"/orders/{deleted['number']}/confirm", None),
        ("PUT", f"/orders/{deleted['number']}", ORDER),
        ("DELETE", f"/orders/{deleted['number']}", None),
    ]
    for method, path, body in cases:
        number = int(path.split("/")[2])
        before = (await ordering.client.get(f"/orders/{number}")).json()
        response = await ordering.client.request(method, path, json=body)
        assert response.status_code == 409, (method, path, response.text)
        error = response.json()["error"]
        assert error["code"] == "conflict" and str(number) in error["message"]
        assert (await ordering.client.get(f"/orders/{number}")).json() == before


async def test_batch_answers_found_ones_in_the_asked_order(ordering: Ordering) -> None:
    first, second = await ordering.create(), await ordering.create()
    response = await ordering.client.get(
        "/orders",
        params=[("number", second["number"]), ("number", 999), ("number", first["number"])],
    )
    assert response.status_code == 200
    assert [o["number"] for o in response.json()["orders"]] == [second["number"], first["number"]]


async def test_pages_newest_first_with_a_cursor_and_a_status_filter(ordering: Ordering) -> None:
    numbers = [(await ordering.create())["number"] for _ in range(5)]
    confirmed = await ordering.confirmed()
    deleted = await ordering.create()
    await ordering.client.delete(f"/orders/{deleted['number']}")

    seen: list[int] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        page = (await ordering.client.get("/orders", params=params)).json()
        seen += [o["number"] for o in page["orders"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 2, "after": page["next_cursor"]}
    assert seen == sorted([*numbers, confirmed["number"]], reverse=True)  # deleted left out

    drafts = (await ordering.client.get("/orders", params={"status": "draft"})).json()
    assert [o["number"] for o in drafts["orders"]] == sorted(numbers, reverse=True)
    gone = (await ordering.client.get("/orders", params={"status": "deleted"})).json()
    assert [o["number"] for o in gone["orders"]] == [deleted["number"]]


async def test_service_token_is_required_except_for_health_and_openapi(ordering: Ordering) -> None:
    transport = ordering.client._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://ordering.test") as anonymous:
        assert (await anonymous.get("/healthz")).json() == {"status": "ok"}
        assert (await anonymous.get("/openapi.json")).status_code == 200
        for method, path in [
            ("GET", "/orders"),
            ("POST", "/orders"),
            ("GET", "/orders/changes"),
            ("GET", "/orders/1"),
            ("DELETE", "/orders/1"),
        ]:
            response = await anonymous.request(method, path)
            assert response.status_code == 401, path
            assert response.json()["error"]["code"] == "unauthorized"
        wrong = await anonymous.get("/orders", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
