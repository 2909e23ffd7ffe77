"""The clerk's whole flow in a real browser against the three services running as processes:
create an order with two lines, see it in the list, edit it, confirm it, land on the invoice
through the deep link, approve it, see it approved in the invoices list."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Screenshots
from tests.e2e.inspect import inspect
from tests.e2e.processes import System

pytestmark = pytest.mark.browser


def fill_line(
    page: Page, index: int, sku: str, description: str, quantity: str, price: str
) -> None:
    line = page.locator("li.line").nth(index)
    line.get_by_label("SKU").fill(sku)
    line.get_by_label("Description").fill(description)
    line.get_by_label("Quantity").fill(quantity)
    line.get_by_label("Unit price").fill(price)


def reload_until_badge(page: Page, text: str, timeout: float) -> None:
    """Reload the screen until its status badge reads `text` (a pull is due), or fail."""
    badge = page.locator(".page-header .badge").first
    deadline = time.monotonic() + timeout
    while True:
        expect(badge).to_be_visible()
        if badge.inner_text() == text:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"badge still {badge.inner_text()!r} after {timeout}s")
        page.reload()


def test_create_confirm_and_approve_through_the_deep_link(
    page: Page, system: System, screenshots: Screenshots
) -> None:
    visited: list[str] = []
    page.on("request", lambda request: visited.append(request.url))

    page.goto("/")
    expect(page.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="New order").first.click()

    # The new-order form: customer, currency, two lines, a live total with the currency.
    expect(page).to_have_url(re.compile(r"/orders/new$"))
    page.get_by_label("Customer name").fill("Ada Lovelace")
    page.get_by_label("Customer email").fill("ada@example.com")
    page.get_by_label("Currency").select_option("EUR")
    fill_line(page, 0, "BOLT-10", "Bolt 10 mm", "4", "0.25")
    page.get_by_role("button", name="Add line").click()
    fill_line(page, 1, "NUT-10", "Nut 10 mm", "10", "2.45")
    expect(page.locator(".order-total__value")).to_have_text("€25.50")
    inspect(page, screenshots, "flow-order-new")
    page.get_by_role("button", name="Create draft order").click()

    # The draft's detail screen, reached with a message in words.
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    number = int(page.url.rsplit("/", 1)[1])
    flash = page.get_by_role("status").filter(has_text=f"Order {number} was created as a draft.")
    expect(flash).to_be_visible()
    expect(page.get_by_role("heading", name=f"Order {number}")).to_contain_text("Draft")
    expect(page.locator(".lines-table tbody tr")).to_have_count(2)
    expect(page.locator(".lines-table tfoot")).to_contain_text("€25.50")
    inspect(page, screenshots, "flow-order-detail-draft")

    # In the list, with its status and total at a glance.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    row = page.locator(f'tr[data-order-number="{number}"]')
    expect(row).to_contain_text("Ada Lovelace")
    expect(row).to_contain_text("2 lines")
    expect(row).to_contain_text("€25.50")
    expect(row.locator(".badge")).to_have_text("Draft")
    inspect(page, screenshots, "flow-orders-list")

    # Edit the draft: one more bolt.
    row.get_by_role("link", name=f"Order {number}").click()
    page.get_by_role("link", name="Edit").click()
    expect(page).to_have_url(re.compile(rf"/orders/{number}/edit$"))
    expect(page.get_by_label("Customer name")).to_have_value("Ada Lovelace")
    page.locator("li.line").nth(0).get_by_label("Quantity").fill("6")
    expect(page.locator(".order-total__value")).to_have_text("€26.00")
    inspect(page, screenshots, "flow-order-edit")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(rf"/orders/{number}$"))
    expect(page.locator(".lines-table tfoot")).to_contain_text("€26.00")

    # Confirm: confirmOrder, then the browser follows invoiceLink, the BFF's deep link (it
    # needs the session; it asks billing, which pulls the order now), to the invoice screen.
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/invoices/\d+$"))
    assert page.url.startswith(system.web_url)
    assert any(
        url.startswith(system.web_url) and url.endswith(f"/link/new_order/{number}")
        for url in visited
    ), f"the deep link was not followed: {visited}"
    invoice_number = int(page.url.rsplit("/", 1)[1])
    header = page.locator(".page-header")
    expect(header.get_by_role("heading", name=f"Invoice {invoice_number}")).to_be_visible()
    expect(header.locator(".badge")).to_have_text("Pending approval")
    expect(page.locator(".invoice-amount__value")).to_have_text("€26.00")
    expect(page.get_by_text(f"Order {number} was confirmed.")).to_be_visible()
    expect(page.locator(".lines-table tbody tr")).to_have_count(2)
    inspect(page, screenshots, "flow-invoice-pending")

    page.get_by_role("button", name="Approve").click()
    expect(header.locator(".badge")).to_have_text("Approved")
    expect(page.get_by_text(f"Invoice {invoice_number} was approved.")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    inspect(page, screenshots, "flow-invoice-approved")

    # The audit trail: who approved, and the invoice's history as billing recorded it.
    page.reload()
    history = page.locator('section[aria-labelledby="invoice-history-heading"] tbody tr')
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("Created")
    expect(history.nth(0)).to_contain_text("billing sync")
    expect(history.nth(1)).to_contain_text("Approved")
    expect(history.nth(1)).to_contain_text("tester")
    expect(page.locator(".facts")).to_contain_text(re.compile(r"Approved.+ by tester"))
    inspect(page, screenshots, "flow-invoice-history")

    # ... and the order's: created, edited, confirmed, each by the signed-in clerk.
    page.goto(f"/orders/{number}")
    expect(page.locator(".facts")).to_contain_text(re.compile(r"Confirmed.+ by tester"))
    order_history = page.locator('section[aria-labelledby="order-history-heading"] tbody tr')
    expect(order_history).to_have_count(3)
    for position, action in enumerate(("Created", "Edited", "Confirmed")):
        expect(order_history.nth(position)).to_contain_text(action)
        expect(order_history.nth(position)).to_contain_text("tester")
    inspect(page, screenshots, "flow-order-history")

    # The invoices list shows it approved, linked to its order.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    invoice_row = page.locator(f'tr[data-invoice-number="{invoice_number}"]')
    expect(invoice_row.locator(".badge")).to_have_text("Approved")
    expect(invoice_row).to_contain_text(f"Order {number}")
    expect(invoice_row).to_contain_text("€26.00")
    inspect(page, screenshots, "flow-invoices-list")

    # The order now shows its invoice; the list filter for confirmed orders has it.
    page.goto("/orders?status=confirmed")
    invoice_badge = page.locator(f'tr[data-order-number="{number}"] .invoice-link .badge')
    expect(invoice_badge).to_have_text("Approved")

    # The integration screen (operators, from the footer): billing has pulled this order.
    page.get_by_role("navigation", name="Operations").get_by_role(
        "link", name="Integration status"
    ).click()
    expect(page.get_by_role("heading", name="Integration")).to_be_visible()
    expect(page.locator(".sync-state")).to_contain_text(re.compile("Up to date|Catching up"))
    inspect(page, screenshots, "operations")

    # Every screen of the flow at 1440 and phone width: fits the screen, axe finds nothing.
    for path, name in (
        ("/orders", "orders-list"),
        ("/orders?status=confirmed", "orders-list-confirmed"),
        (f"/orders/{number}", "order-confirmed"),
        ("/orders/new", "order-new"),
        (f"/invoices/{invoice_number}", "invoice-approved"),
        ("/invoices", "invoices-list"),
        ("/invoices?status=pending_approval", "invoices-list-awaiting-approval"),
    ):
        page.goto(path)
        inspect(page, screenshots, name)


def test_deleting_a_confirmed_order_voids_its_pending_invoice(page: Page, system: System) -> None:
    created = system.graphql(
        """mutation($input: OrderInput!) { createOrder(input: $input) { number } }""",
        {
            "input": {
                "customer": {"name": "Grace Hopper", "email": "grace@example.com"},
                "currency": "USD",
                "lines": [{"sku": "COBOL-1", "quantity": 1, "unitPrice": "99.00"}],
            }
        },
    )
    number = created["data"]["createOrder"]["number"]
    page.goto(f"/orders/{number}")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/invoices/\d+$"))
    expect(page.locator(".invoice-amount__value")).to_have_text("$99.00")

    page.get_by_role("link", name=f"Order {number}").click()
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_text(f"Order {number} was deleted.")).to_be_visible()
    expect(page.locator(".page-header .badge")).to_have_text("Deleted")

    # Billing learns of the delete on its next pull; the invoice screen then says it is void.
    page.get_by_role("link", name=re.compile(r"^Invoice \d+$")).click()
    reload_until_badge(page, "Void", timeout=15.0)
    expect(page.get_by_text("This invoice is void because its order was deleted")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
