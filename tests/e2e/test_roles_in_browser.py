"""Signing in through the web app's own sign-in screen, as each role, in real Chromium: every
user finds exactly their role's actions (the others hidden, or disabled with the reason), and
a session that ends mid-form keeps what was typed and asks to sign in again."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from bff.roles import Role
from tests.e2e.conftest import DESKTOP, Screenshots, open_page
from tests.e2e.processes import System
from tests.support.accounts import PASSWORD, add_user_sync

pytestmark = pytest.mark.browser

CREATE = "mutation($input: OrderInput!) { createOrder(input: $input) { number } }"
CONFIRM = "mutation($n: Int!) { confirmOrder(number: $n) { invoiceLink } }"
INVOICE = "query($n: Int!) { invoice(orderNumber: $n) { number } }"
INPUT = {
    "customer": {"name": "Role Tester", "email": "roles@example.com"},
    "currency": "EUR",
    "lines": [{"sku": "PEN-1", "description": "Pen", "quantity": 1, "unitPrice": "2.00"}],
}

# What each demo-like user (viewer plus one role) may do on the screens.
USERS = {
    "v-only": frozenset({Role.VIEWER}),
    "v-clerk": frozenset({Role.VIEWER, Role.CLERK}),
    "v-approver": frozenset({Role.VIEWER, Role.APPROVER}),
    "v-operator": frozenset({Role.VIEWER, Role.OPERATOR}),
}


@pytest.fixture(scope="module")
def scene(system: System) -> Iterator[tuple[int, int]]:
    """(a draft order's number, a pending invoice's number), and one user per role."""
    for name, roles in USERS.items():
        add_user_sync(system.bff.env["BFF_DATABASE_URL"], name, roles)
    draft = system.graphql(CREATE, {"input": INPUT})["data"]["createOrder"]["number"]
    confirmed = system.graphql(CREATE, {"input": INPUT})["data"]["createOrder"]["number"]
    system.graphql(CONFIRM, {"n": confirmed})
    deadline = time.monotonic() + 30
    invoice = None
    while invoice is None:  # billing pulls every half second
        assert time.monotonic() < deadline, "billing never made the invoice"
        invoice = system.graphql(INVOICE, {"n": confirmed})["data"]["invoice"]
    yield draft, invoice["number"]


def sign_in_on_screen(page: Page, name: str, going_to: str) -> None:
    page.goto(going_to)
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(going_to) + "$"))


@pytest.mark.parametrize("name", sorted(USERS))
def test_each_role_finds_exactly_its_actions(
    browser: Browser, system: System, scene: tuple[int, int], name: str, screenshots: Screenshots
) -> None:
    draft, invoice = scene
    roles = USERS[name]
    page, script_errors = open_page(browser, system.web_url, DESKTOP, user=None)
    try:
        sign_in_on_screen(page, name, f"/orders/{draft}")
        expect(page.get_by_test_id("user-roles")).to_have_text(
            ", ".join(sorted(r.value for r in roles))
        )
        clerk = Role.CLERK in roles
        expect(page.get_by_role("button", name="Confirm")).to_be_enabled(enabled=clerk)
        expect(page.get_by_role("button", name="Delete")).to_be_enabled(enabled=clerk)
        expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(int(clerk))
        expect(page.locator(".topbar__new")).to_be_visible(visible=clerk)
        if not clerk:
            expect(page.get_by_text("You need the clerk role").first).to_be_visible()
        screenshots.take(page, f"roles-order-{name}")

        page.goto(f"/invoices/{invoice}")
        approver = Role.APPROVER in roles
        expect(page.get_by_role("button", name="Approve")).to_be_enabled(enabled=approver)
        if not approver:
            expect(page.get_by_text("You need the approver role")).to_be_visible()
    finally:
        page.context.close()
    assert script_errors == []


def test_a_session_that_ends_mid_form_keeps_what_was_typed(
    browser: Browser, system: System, scene: tuple[int, int], screenshots: Screenshots
) -> None:
    page, script_errors = open_page(browser, system.web_url, DESKTOP, user=None)
    try:
        sign_in_on_screen(page, "v-clerk", "/orders/new")
        page.get_by_label("Customer name").fill("Grace Hopper")
        page.get_by_label("Customer email").fill("grace@example.com")
        # The session ends (signed out elsewhere, or timed out) while the form is open.
        assert page.context.request.post("/auth/logout", data={}).ok
        page.get_by_role("button", name="Create draft order").click()

        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Your session has ended")
        screenshots.take(page, "session-ended-mid-form")
        dialog.get_by_label("Password").fill(PASSWORD)
        dialog.get_by_role("button", name="Sign in").click()
        expect(dialog).to_have_count(0)
        expect(page.get_by_label("Customer name")).to_have_value("Grace Hopper")
        page.get_by_role("button", name="Create draft order").click()
        expect(page).to_have_url(re.compile(r"/orders/\d+$"))
        expect(page.locator("main")).to_contain_text("Grace Hopper")

        page.get_by_role("button", name="Sign out", exact=True).click()
        expect(page).to_have_url(re.compile(r"/sign-in"))
        page.goto("/orders")
        expect(page).to_have_url(re.compile(r"/sign-in\?next=/orders"))
    finally:
        page.context.close()
    assert script_errors == []
