"""Every route's real answers fit the response schemas ordering publishes."""

from __future__ import annotations

from tests.ordering_api.conftest import ORDER, Ordering
from tests.support.openapi_answers import PublishedAnswers


async def test_real_answers_fit_the_published_schemas(ordering: Ordering) -> None:
    client = ordering.client
    published = PublishedAnswers((await client.get("/openapi.json")).json())
    check = published.check

    check(await client.get("/healthz"), "/healthz")
    check(await client.get("/readyz"), "/readyz")
    created = await client.post("/orders", json=ORDER)
    check(created, "/orders")
    number = created.json()["number"]
    check(
        await client.post("/orders", content=b"{", headers={"content-type": "application/json"}),
        "/orders",
    )
    check(await client.post("/orders", json={**ORDER, "lines": "x"}), "/orders")
    check(await client.put(f"/orders/{number}", json=ORDER), "/orders/{number}")
    check(await client.get(f"/orders/{number}"), "/orders/{number}")
    check(await client.get("/orders/999999"), "/orders/{number}")
    check(await client.post(f"/orders/{number}/confirm"), "/orders/{number}/confirm")
    check(await client.post(f"/orders/{number}/confirm"), "/orders/{number}/confirm")  # 409
    check(await client.put(f"/orders/{number}", json=ORDER), "/orders/{number}")  # 409
    other = (await client.post("/orders", json=ORDER)).json()["number"]
    check(await client.delete(f"/orders/{other}"), "/orders/{number}")
    check(await client.delete(f"/orders/{other}"), "/orders/{number}")  # 409

    # GET /orders: a page (first and last), a batch, and a bad parameter.
    check(await client.post("/orders", json=ORDER), "/orders")
    first_page = await client.get("/orders", params={"limit": 1})
    check(first_page, "/orders")
    assert first_page.json()["next_cursor"] is not None
    last_page = await client.get("/orders", params={"limit": 100})
    check(last_page, "/orders")
    assert last_page.json()["next_cursor"] is None
    check(await client.get("/orders", params=[("number", number), ("number", 999)]), "/orders")
    check(await client.get("/orders", params={"limit": 0}), "/orders")
    # Sorted, searched, and paged back.
    by_total = await client.get("/orders", params={"sort": "total", "limit": 1, "q": "ada"})
    check(by_total, "/orders")
    after = by_total.json()["next_cursor"]
    second = await client.get("/orders", params={"sort": "total", "limit": 1, "after": after})
    check(second, "/orders")
    before = second.json()["prev_cursor"]
    check(
        await client.get("/orders", params={"sort": "total", "limit": 1, "before": before}),
        "/orders",
    )
    check(await client.get("/orders/counts", params={"q": "Ada"}), "/orders/counts")
    check(await client.get("/orders/counts", params={"q": "x" * 201}), "/orders/counts")
    # A price with more places than the currency has.
    yen = {**ORDER, "currency": "JPY"}
    check(await client.post("/orders", json=yen), "/orders")
    check(await client.get("/orders/changes", params={"since": 0}), "/orders/changes")
    check(await client.get("/orders/changes", params={"since": -1}), "/orders/changes")
    sums = await client.get("/orders/checksums", params={"size": 2, "ranges": 1})
    check(sums, "/orders/checksums")
    check(await client.get("/orders/checksums", params={"size": 0}), "/orders/checksums")
    check(await client.get("/orders/digests", params={"first": 1, "count": 5}), "/orders/digests")
    check(await client.get("/orders/digests", params={"count": 10_001}), "/orders/digests")
    check(await client.get("/orders", headers={"authorization": "Bearer wrong"}), "/orders")
    history = "/orders/{number}/history"
    check(await client.get(f"/orders/{number}/history"), history)
    check(await client.get("/orders/999999/history"), history)  # 404
    check(await client.get("/orders", headers={"X-Acting-User": "%00"}), "/orders")  # 400

    assert published.successes_not_seen() == set()
