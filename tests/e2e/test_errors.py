"""Errors in words: form validation in the browser, a server refusal, and billing stopped."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, Screenshots, open_page
from tests.e2e.inspect import inspect
from tests.e2e.processes import System

pytestmark = pytest.mark.browser

CREATE = "mutation($input: OrderInput!) { createOrder(input: $input) { number } }"
CONFIRM = "mutation($n: Int!) { confirmOrder(number: $n) { invoiceLink } }"


def create_draft(system: System, name: str) -> int:
    answer = system.graphql(CREATE, {"input": draft_input(name)})
    return int(answer["data"]["createOrder"]["number"])


def draft_input(name: str) -> dict[str, object]:
    return {
        "customer": {"name": name, "email": "someone@example.com"},
        "currency": "EUR",
        "lines": [{"sku": "PEN-1", "description": "Pen", "quantity": 3, "unitPrice": "1.20"}],
    }


def test_the_order_form_explains_each_problem_in_words(
    page: Page, screenshots: Screenshots
) -> None:
    page.goto("/orders/new")
    page.get_by_label("Customer email").fill("not-an-email")
    line = page.locator("li.line").nth(0)
    line.get_by_label("Description").fill("A line without a SKU")
    line.get_by_label("Quantity").fill("0")
    line.get_by_label("Unit price").fill("twelve")
    page.get_by_role("button", name="Create draft order").click()

    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Please correct these 5 problems:")
    for message in (
        "Enter the customer's name.",
        "Enter an email address like name@example.com.",
        "Enter a SKU (the article code).",
        "Enter a whole number of at least 1.",
        "Enter a price as a number with at most two decimals, for example 12.50.",
    ):
        expect(page.locator(".field__error").filter(has_text=message)).to_be_visible()
    expect(summary).to_contain_text("Line 1, Quantity: Enter a whole number of at least 1.")
    expect(page.get_by_label("Customer email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Customer name")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/orders/new$"))
    inspect(page, screenshots, "order-new-errors")

    # Put it right: the messages go and the order is created.
    page.get_by_label("Customer name").fill("Edsger Dijkstra")
    page.get_by_label("Customer email").fill("edsger@example.com")
    line.get_by_label("SKU").fill("INK-1")
    line.get_by_label("Quantity").fill("2")
    line.get_by_label("Unit price").fill("3,50")  # a decimal comma is understood
    page.get_by_role("button", name="Create draft order").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    expect(page.locator(".lines-table tfoot")).to_contain_text("€7.00")


def test_a_refusal_from_the_server_is_shown_in_words(
    page: Page, system: System, screenshots: Screenshots
) -> None:
    number = create_draft(system, "Barbara Liskov")
    page.goto(f"/orders/{number}/edit")
    expect(page.get_by_label("Customer name")).to_have_value("Barbara Liskov")
    # Meanwhile someone else confirms it: only drafts can be edited, so the save is refused.
    assert "errors" not in system.graphql(CONFIRM, {"n": number})
    page.get_by_label("Customer name").fill("Barbara H. Liskov")
    page.get_by_role("button", name="Save changes").click()
    alert = page.locator(".form-error [role=alert]")
    expect(alert).to_be_visible()
    expect(alert).not_to_be_empty()
    expect(alert).not_to_contain_text(re.compile("internal|traceback|exception", re.I))
    # It says what changed, and what was typed is still there.
    expect(alert).to_contain_text(f"Order {number} was confirmed since you opened it")
    expect(page.get_by_label("Customer name")).to_have_value("Barbara H. Liskov")
    expect(page).to_have_url(re.compile(rf"/orders/{number}/edit$"))
    expect(page.get_by_role("button", name="Save changes")).to_be_enabled()
    inspect(page, screenshots, "order-edit-conflict")


def test_with_billing_stopped_orders_still_work_and_say_invoices_are_unavailable(
    browser: Browser, own_system: System, screenshots: Screenshots
) -> None:
    number = create_draft(own_system, "Alan Turing")
    # A confirmed order, whose invoice the list would show (drafts have none to look up).
    confirmed = create_draft(own_system, "Grace Hopper")
    assert "errors" not in own_system.graphql(CONFIRM, {"n": confirmed})
    own_system.billing.stop()
    assert not own_system.billing.is_listening()

    page, script_errors = open_page(browser, own_system.web_url, DESKTOP)
    try:
        page.goto("/orders")
        warning = page.locator(".notice--warning")
        expect(warning).to_contain_text("Invoices are unavailable right now")
        expect(page.locator(f'tr[data-order-number="{number}"]')).to_contain_text("Alan Turing")
        inspect(page, screenshots, "orders-list-billing-down")

        # Ordering keeps working: the detail screen shows, and a new draft can be created.
        page.goto(f"/orders/{confirmed}")
        expect(page.get_by_role("heading", name=f"Order {confirmed}")).to_be_visible()
        expect(page.get_by_text("Invoices are unavailable right now")).to_be_visible()
        page.goto(f"/orders/{number}")  # a draft has no invoice to miss
        expect(page.get_by_role("heading", name=f"Order {number}")).to_be_visible()
        expect(
            page.get_by_text("An invoice is created when the order is confirmed.")
        ).to_be_visible()
        page.goto("/orders/new")
        page.get_by_label("Customer name").fill("Joan Clarke")
        page.get_by_label("Customer email").fill("joan@example.com")
        line = page.locator("li.line").nth(0)
        line.get_by_label("SKU").fill("CRYPT-1")
        line.get_by_label("Unit price").fill("10")
        page.get_by_role("button", name="Create draft order").click()
        expect(page).to_have_url(re.compile(r"/orders/\d+$"))
        expect(page.locator(".page-header .badge")).to_have_text("Draft")

        # The billing screens say so in words instead of failing.
        page.goto("/invoices")
        expect(page.get_by_role("alert")).to_contain_text("Invoices are unavailable right now")
        expect(page.get_by_role("button", name="Try again")).to_be_visible()
        inspect(page, screenshots, "invoices-list-billing-down")

        # The operators' integration screen says billing itself is down.
        page.goto("/operations")
        expect(page.locator(".sync-state")).to_contain_text("Can't reach billing — retrying")
        inspect(page, screenshots, "operations-billing-down")

        # Confirming still works (ordering owns it); instead of following the deep link to a
        # billing that can't answer, the order screen says the invoice comes later.
        page.goto(f"/orders/{number}")
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator(".notice--warning").first).to_contain_text(
            f"Order {number} was confirmed. Invoices are unavailable right now"
        )
        expect(page.locator(".page-header .badge")).to_have_text("Confirmed")
        expect(page).to_have_url(re.compile(rf"/orders/{number}$"))
        inspect(page, screenshots, "order-confirmed-billing-down")
    finally:
        page.context.close()
    assert script_errors == []


def test_field_errors_from_the_server_are_shown_at_their_field_in_words(page: Page) -> None:
    page.goto("/orders/new")
    page.get_by_label("Customer name").fill("Frances Allen")
    # A control character the browser's check lets through but ordering refuses: the server's
    # 422 detail must come back through the BFF and land on the email field, in words (not
    # as the regular expression the service checks with).
    page.get_by_label("Customer email").fill("fran\x7fces@example.com")
    line = page.locator("li.line").nth(0)
    line.get_by_label("SKU").fill("OPT-1")
    line.get_by_label("Unit price").fill("5.00")
    page.get_by_role("button", name="Create draft order").click()
    email_error = page.locator(".field").filter(has=page.get_by_label("Customer email"))
    # In words from ordering itself, or put into words by the web app: never the pattern.
    expect(email_error.locator(".field__error")).to_contain_text("name@example.com")
    expect(page.get_by_label("Customer email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".error-summary")).to_contain_text("The order was not saved")
    expect(page.locator("main")).not_to_contain_text("pattern")
    expect(page).to_have_url(re.compile(r"/orders/new$"))
