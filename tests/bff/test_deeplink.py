"""The deep link from confirmOrder, followed as a browser would, lands on the invoice screen."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.bff.conftest import (
    BILLING_PUBLIC,
    CONFIRM,
    WEB_URL,
    System,
    SystemFactory,
    create_order,
)


async def test_following_invoice_link_lands_on_the_invoice_screen(
    make_system: SystemFactory, tmp_path: Path
) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>Invoice</title>")
    system: System = await make_system(web_dir=web)
    number = await create_order(system)

    payload = (await system.ok(CONFIRM, {"number": number}))["confirmOrder"]
    link = payload["invoiceLink"]
    assert link == f"{BILLING_PUBLIC}/link/new_order/{number}"

    # The browser opens the link on billing (no service token: it is a person's browser).
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=system.billing_asgi), base_url=BILLING_PUBLIC
    ) as browser:
        redirect = await browser.get(link)
    assert redirect.status_code == 303
    location = redirect.headers["location"]
    assert location.startswith(f"{WEB_URL}/invoices/")
    invoice_number = int(location.rsplit("/", 1)[1])

    # The redirect lands on the web app (served by the BFF) at the invoice screen's URL...
    screen = await system.bff.get(httpx.URL(location).path)
    assert screen.status_code == 200
    assert screen.text == (web / "index.html").read_text()
    # ...and the screen's query finds the invoice there, for this order, awaiting approval.
    invoice = (
        await system.ok(
            "query($n: Int!) { invoiceByNumber(number: $n) { number orderNumber status amount "
            "order { number status } } }",
            {"n": invoice_number},
        )
    )["invoiceByNumber"]
    assert invoice == {
        "number": invoice_number,
        "orderNumber": number,
        "status": "PENDING_APPROVAL",
        "amount": "3.20",
        "order": {"number": number, "status": "CONFIRMED"},
    }
