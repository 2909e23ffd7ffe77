"""billing's REST routes: auth, shapes of docs/contracts.md, and clear errors for bad input."""

from __future__ import annotations

import re

import pytest

from tests.billing_api.conftest import Billing, Ordering

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


async def invoiced(ordering: Ordering, billing: Billing, count: int) -> list[dict[str, object]]:
    orders = [await ordering.clerk.confirmed(quantity=n + 1) for n in range(count)]
    await billing.syncer.pull()
    response = await billing.http.get(
        "/invoices", params=[("order_number", o["number"]) for o in orders]
    )
    invoices: list[dict[str, object]] = response.json()["invoices"]
    return invoices


async def test_healthz_and_openapi_need_no_token(billing: Billing) -> None:
    health = await billing.browser.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (await billing.browser.get("/openapi.json")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/invoices"),
        ("GET", "/invoices/1"),
        ("POST", "/invoices/1/approve"),
        ("GET", "/sync/status"),
        ("POST", "/sync/run"),
        ("POST", "/sync/reset"),
    ],
)
@pytest.mark.parametrize("header", [None, "Bearer wrong", "billing-test-token"])
async def test_every_other_route_needs_the_service_token(
    billing: Billing, method: str, path: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = await billing.browser.request(method, path, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_invoice_shape_and_batch(ordering: Ordering, billing: Billing) -> None:
    invoices = await invoiced(ordering, billing, 2)
    first = invoices[0]
    assert set(first) == {
        "number", "order_number", "amount", "currency", "status", "order_deleted",
        "customer", "created_at", "approved_at", "voided_at", "approved_by",
    }  # fmt: skip
    assert first["order_number"] == 1 and first["amount"] == "0.25"
    assert first["status"] == "pending_approval" and first["order_deleted"] is False
    assert first["customer"] == {"name": "Ada Lovelace", "email": "ada@example.com"}
    assert ISO_UTC.match(str(first["created_at"]))
    assert first["approved_at"] is None and first["voided_at"] is None

    batch = await billing.http.get(
        "/invoices", params=[("order_number", 2), ("order_number", 99), ("order_number", 1)]
    )
    assert [i["order_number"] for i in batch.json()["invoices"]] == [2, 1], "asked order"
    one = await billing.http.get(f"/invoices/{first['number']}")
    assert one.json() == first


async def test_pages_newest_first_with_cursor_and_status(
    ordering: Ordering, billing: Billing
) -> None:
    invoices = await invoiced(ordering, billing, 5)
    numbers = sorted((int(str(i["number"])) for i in invoices), reverse=True)
    seen: list[int] = []
    after = None
    while True:
        params = {"limit": 2} | ({"after": after} if after else {})
        page = (await billing.http.get("/invoices", params=params)).json()
        seen += [i["number"] for i in page["invoices"]]
        after = page["next_cursor"]
        if after is None:
            break
    assert seen == numbers

    await billing.http.post(f"/invoices/{numbers[0]}/approve")
    approved = (await billing.http.get("/invoices", params={"status": "approved"})).json()
    assert [i["number"] for i in approved["invoices"]] == [numbers[0]]
    assert approved["next_cursor"] is None
    pending = (await billing.http.get("/invoices", params={"status": "pending_approval"})).json()
    assert len(pending["invoices"]) == 4


async def test_approve_is_idempotent_and_void_is_a_conflict(
    ordering: Ordering, billing: Billing
) -> None:
    invoices = await invoiced(ordering, billing, 2)
    number = invoices[0]["number"]
    approved = await billing.http.post(f"/invoices/{number}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert ISO_UTC.match(approved.json()["approved_at"])
    again = await billing.http.post(f"/invoices/{number}/approve")
    assert again.status_code == 200
    assert again.json()["approved_at"] == approved.json()["approved_at"]

    await ordering.clerk.delete(2)
    await billing.syncer.pull()
    void = await billing.http.post(f"/invoices/{invoices[1]['number']}/approve")
    assert void.status_code == 409
    assert void.json()["error"]["code"] == "conflict"
    shown = (await billing.http.get(f"/invoices/{invoices[1]['number']}")).json()
    assert (shown["status"], shown["order_deleted"]) == ("void", True)
    assert ISO_UTC.match(shown["voided_at"])


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/invoices/999", 404, "not_found"),
        ("POST", "/invoices/999/approve", 404, "not_found"),
        ("GET", "/invoices/99999999999999999999999", 404, "not_found"),
        ("GET", "/invoices/abc", 404, "not_found"),
        ("GET", "/invoices?status=paid", 400, "bad_request"),
        ("GET", "/invoices?limit=0", 400, "bad_request"),
        ("GET", "/invoices?limit=101", 400, "bad_request"),
        ("GET", "/invoices?limit=abc", 400, "bad_request"),
        ("GET", "/invoices?after=not-a-cursor", 400, "bad_request"),
        ("GET", "/invoices?after=b3JkZXI6MQ", 400, "bad_request"),
        ("GET", "/invoices?order_number=x", 400, "bad_request"),
        ("GET", "/invoices?order_number=-1", 400, "bad_request"),
        ("GET", "/invoices?order_number=", 400, "bad_request"),
        ("GET", "/invoices?order_number=99999999999999999999999", 400, "bad_request"),
        ("GET", "/invoices?" + "&".join(["order_number=1"] * 101), 400, "bad_request"),
        ("DELETE", "/invoices/1", 405, "method_not_allowed"),
        ("GET", "/sync/run", 405, "method_not_allowed"),
        ("GET", "/nowhere", 404, "not_found"),
    ],
)
async def test_bad_requests_get_clear_json_errors(
    billing: Billing, method: str, path: str, status: int, code: str
) -> None:
    response = await billing.http.request(method, path)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 400, "malformed_json"),
        (b"[1]", 400, "malformed_json"),
        (b"{}", 422, "validation_error"),
        (b'{"token": -1}', 422, "validation_error"),
        (b'{"token": "abc"}', 422, "validation_error"),
        (b'{"token": 1, "extra": true}', 422, "validation_error"),
        (b'{"token": 99999999999999999999999}', 422, "validation_error"),
    ],
)
async def test_reset_validates_its_body(
    billing: Billing, body: bytes, status: int, code: str
) -> None:
    response = await billing.http.post("/sync/reset", content=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    if status == 422:
        assert response.json()["error"]["details"][0]["field"]
    assert (await billing.http.get("/sync/status")).json()["token"] == 0, "changed nothing"


async def test_sync_run_reports_and_status_shows_position_and_lag(
    ordering: Ordering, billing: Billing
) -> None:
    for _ in range(3):
        await ordering.clerk.confirmed()
    run = await billing.http.post("/sync/run")
    assert run.status_code == 200
    report = run.json()
    assert set(report) == {
        "pages", "new", "changed", "removed", "stale", "token_before", "token_after",
        "duration_ms", "feed_id", "dead_lettered",
    }  # fmt: skip
    assert (report["new"], report["token_before"], report["token_after"]) == (3, 0, 3)

    status = (await billing.http.get("/sync/status")).json()
    assert status["feed_id"] == report["feed_id"]
    assert (status["token"], status["high_water"], status["lag_records"]) == (3, 3, 0)
    assert status["lag_seconds"] == 0.0
    assert ISO_UTC.match(status["last_success_at"])
    assert status["last_error"] is None and status["consecutive_failures"] == 0
    assert status["healthy"] is True and status["running"] is False
    assert status["totals"] == {
        "pulls": 1, "pages": 1, "new": 3, "changed": 0, "removed": 0, "stale": 0,
        "invoices_created": 3, "dead_lettered": 0,
    }  # fmt: skip

    reset = (await billing.http.post("/sync/reset", json={"token": 1})).json()
    assert (reset["token"], reset["lag_records"]) == (1, 2)
    assert reset["lag_seconds"] >= 0.0
