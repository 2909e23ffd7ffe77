"""The deep link from confirmOrder, followed as a browser would, lands on the invoice screen."""

from __future__ import annotations

from pathlib import Path

import httpx

from bff.roles import Role
from tests.bff.conftest import CONFIRM, System, SystemFactory, create_order
from tests.bff.transports import Fault
from tests.support.accounts import add_user, sign_in


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
    # The BFF's own link (it needs a session; billing's does not know about sessions).
    assert link == f"/link/new_order/{number}"

    # An anonymous browser is sent to sign in first, and then back to the link.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=system.bff_asgi), base_url="http://bff.test"
    ) as anonymous:
        refused = await anonymous.get(link)
    assert refused.status_code == 303
    assert refused.headers["location"] == f"/sign-in?next={link}"

    # The signed-in browser: the BFF asks billing (which pulls the order now) and redirects
    # to the web app's invoice screen.
    redirect = await system.bff.get(link)
    assert redirect.status_code == 303
    assert redirect.headers["cache-control"] == "no-store"
    location = redirect.headers["location"]
    assert location.startswith("/invoices/")
    invoice_number = int(location.rsplit("/", 1)[1])

    # The redirect lands on the web app (served by the BFF) at the invoice screen's URL...
    screen = await system.bff.get(location)
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


async def test_a_link_to_an_unknown_order_shows_billings_page(system: System) -> None:
    response = await system.bff.get("/link/new_order/999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_the_link_needs_the_viewer_role(system: System) -> None:
    await add_user(system.settings.database_url, "clerk-only", {Role.CLERK})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=system.bff_asgi), base_url="http://bff.test"
    ) as clerk:
        await sign_in(clerk, "clerk-only")
        response = await clerk.get("/link/new_order/1")
    assert response.status_code == 403
    assert "viewer role" in response.text


async def test_billing_down_gets_a_page_not_a_stack_trace(system: System) -> None:
    system.billing_link.fault = Fault.DOWN
    response = await system.bff.get("/link/new_order/1")
    assert response.status_code == 503
    assert "cannot be shown right now" in response.text
