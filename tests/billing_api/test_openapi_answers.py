"""Every route's real answers fit the response schemas billing publishes."""

from __future__ import annotations

import contextlib
import sqlite3

from tests.billing_api.conftest import Billing, Ordering
from tests.support.openapi_answers import PublishedAnswers


async def test_real_answers_fit_the_published_schemas(billing: Billing, ordering: Ordering) -> None:
    http = billing.http
    published = PublishedAnswers((await http.get("/openapi.json")).json())
    check = published.check
    first = await ordering.clerk.confirmed()
    second = await ordering.clerk.confirmed()
    without_invoice = await ordering.clerk.create()

    check(await http.get("/healthz"), "/healthz")
    check(await http.get("/readyz"), "/readyz")
    check(await http.get("/sync/status"), "/sync/status")
    check(await http.post("/sync/run"), "/sync/run")
    report = await http.get("/sync/reconciliation", params={"range_size": 2})
    check(report, "/sync/reconciliation")
    assert report.json()["ranges_compared"] >= 1
    check(await http.get("/sync/reconciliation", params={"range_size": 0}), "/sync/reconciliation")
    check(await http.post("/sync/reset", json={"token": "x"}), "/sync/reset")

    first_page = await http.get("/invoices", params={"limit": 1})
    check(first_page, "/invoices")
    assert first_page.json()["next_cursor"] is not None
    last_page = await http.get("/invoices", params={"limit": 100})
    check(last_page, "/invoices")
    assert last_page.json()["next_cursor"] is None
    # A batch leaves out orders without an invoice: callers match by order_number.
    batch = await http.get(
        "/invoices",
        params=[("order_number", n) for n in (second["number"], without_invoice["number"])],
    )
    check(batch, "/invoices")
    assert [i["order_number"] for i in batch.json()["invoices"]] == [second["number"]]
    check(await http.get("/invoices", params={"limit": 0}), "/invoices")
    by_status = await http.get("/invoices", params={"sort": "status", "limit": 1, "q": "@"})
    check(by_status, "/invoices")
    after = by_status.json()["next_cursor"]
    next_page = await http.get("/invoices", params={"sort": "status", "limit": 1, "after": after})
    check(next_page, "/invoices")
    before = next_page.json()["prev_cursor"]
    check(
        await http.get("/invoices", params={"sort": "status", "limit": 1, "before": before}),
        "/invoices",
    )
    check(await http.get("/invoices/counts", params={"q": "a"}), "/invoices/counts")
    check(await http.get("/invoices/counts", params={"q": "x" * 201}), "/invoices/counts")
    check(await http.get("/invoices", headers={"authorization": "Bearer wrong"}), "/invoices")

    invoice = batch.json()["invoices"][0]["number"]
    check(await http.get(f"/invoices/{invoice}"), "/invoices/{number}")
    check(await http.get("/invoices/999999"), "/invoices/{number}")
    check(await http.post(f"/invoices/{invoice}/approve"), "/invoices/{number}/approve")
    check(await http.post("/invoices/999999/approve"), "/invoices/{number}/approve")
    check(await http.get(f"/invoices/{invoice}/history"), "/invoices/{number}/history")
    check(await http.get("/invoices/999999/history"), "/invoices/{number}/history")
    check(
        await billing.browser.get(f"/link/new_order/{first['number']}"), "/link/new_order/{number}"
    )
    check(await billing.browser.get("/link/new_order/999999"), "/link/new_order/{number}")
    check(await http.post("/sync/reset", json={"token": 0}), "/sync/reset")

    # Records billing's rules refuse become dead letters (planted in ordering's database).
    bad = [(await ordering.clerk.confirmed())["number"] for _ in range(2)]
    database = ordering.database_url.removeprefix("sqlite+aiosqlite:///")

    def set_total(number: int, cents: int) -> None:
        with contextlib.closing(sqlite3.connect(database)) as db:
            db.execute("UPDATE orders SET total_cents = ? WHERE number = ?", (cents, number))
            db.commit()

    for number in bad:
        set_total(number, 1)
    check(await http.post("/sync/run"), "/sync/run")
    letters = await http.get("/sync/dead-letters", params={"status": "open"})
    check(letters, "/sync/dead-letters")
    check(await http.get("/sync/dead-letters", params={"limit": 0}), "/sync/dead-letters")
    by_order = {d["order_number"]: d["id"] for d in letters.json()["dead_letters"]}
    first_letter, second_letter = by_order[bad[0]], by_order[bad[1]]
    check(await http.get(f"/sync/dead-letters/{first_letter}"), "/sync/dead-letters/{id}")
    check(await http.get("/sync/dead-letters/999"), "/sync/dead-letters/{id}")
    retry = f"/sync/dead-letters/{first_letter}/retry"
    check(await http.post(retry), "/sync/dead-letters/{id}/retry")  # still failing: 409
    set_total(bad[0], 100)
    check(await http.post(retry), "/sync/dead-letters/{id}/retry")
    check(await http.post("/sync/dead-letters/999/retry"), "/sync/dead-letters/{id}/retry")
    dismiss = f"/sync/dead-letters/{second_letter}/dismiss"
    check(await http.post(dismiss, json={"reason": ""}), "/sync/dead-letters/{id}/dismiss")
    check(await http.post(dismiss, json={"reason": "no"}), "/sync/dead-letters/{id}/dismiss")
    check(await http.post(dismiss, json={"reason": "no"}), "/sync/dead-letters/{id}/dismiss")
    check(await http.post("/sync/resync", json={"position": 0}), "/sync/resync")
    check(await http.post("/sync/resync", json={}), "/sync/resync")
    check(await http.post("/sync/resync", json={"position": 10**9}), "/sync/resync")
    check(await http.get("/sync/status"), "/sync/status")
    check(await http.post("/sync/run"), "/sync/run")

    assert published.successes_not_seen() == set()
