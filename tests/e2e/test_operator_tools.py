"""The operator's tools on the integration screen, in a real browser (issue 11): a record billing's
database refuses is listed as a dead letter, retried to its invoice once the cause is gone;
reconciliation and a pull run from the screen; people without the operator role don't get them."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from playwright.sync_api import Browser, expect

from bff.roles import Role
from tests.e2e.conftest import DESKTOP, Screenshots, open_page
from tests.e2e.inspect import inspect
from tests.e2e.processes import System
from tests.e2e.test_screens import CONFIRM, create_order, invoice_of, ok
from tests.support.accounts import PASSWORD, add_user_sync

REFUSED = "Refused Trading Ltd"


def _sql(database: Path, statement: str) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute(statement)


def test_a_refused_record_is_listed_and_retried_to_its_invoice(
    browser: Browser, own_system: System, tmp_path: Path, screenshots: Screenshots
) -> None:
    billing_db = tmp_path / "billing.db"
    # Billing's own database refuses this customer's orders (a planted fault, as a broken
    # constraint or trigger would in production).
    _sql(
        billing_db,
        f"CREATE TRIGGER refuse_customer BEFORE INSERT ON local_orders "
        f"WHEN NEW.customer_name = '{REFUSED}' BEGIN SELECT RAISE(ABORT, 'planted refusal'); END",
    )
    refused = create_order(own_system, REFUSED)
    ok(own_system, CONFIRM, {"n": refused})
    fine = create_order(own_system, "Fine Goods")
    ok(own_system, CONFIRM, {"n": fine})
    # The pull moved on past the refused record: the next order got its invoice.
    invoice_of(own_system, fine)

    page, errors = open_page(browser, own_system.web_url, DESKTOP)
    try:
        page.goto("/operations")
        tools = page.locator("section.operator-tools")
        expect(tools).to_be_visible()
        letter = tools.locator("tbody tr")
        expect(letter).to_have_count(1)
        expect(letter).to_contain_text(f"Order {refused}")
        expect(letter).to_contain_text("planted refusal")
        inspect(page, screenshots, "operations-dead-letter")

        _sql(billing_db, "DROP TRIGGER refuse_customer")
        letter.get_by_role("button", name="Retry").click()
        expect(tools.locator(".operator-result")).to_contain_text(
            re.compile(rf"Order {refused} applied .*its invoice is \d+")
        )
        expect(tools.locator("tbody tr")).to_have_count(0)
        expect(tools).to_contain_text("No records are waiting")
        assert invoice_of(own_system, refused)["status"] == "PENDING_APPROVAL"

        tools.get_by_role("button", name="Compare with ordering").click()
        expect(tools.locator(".operator-result")).to_contain_text("Billing's copy matches ordering")
        tools.get_by_role("button", name="Pull now").click()
        expect(tools.locator(".operator-result")).to_contain_text(re.compile(r"Pulled \d+ page"))
        inspect(page, screenshots, "operations-tools")
    finally:
        page.context.close()
    assert errors == []


def test_people_without_the_operator_role_get_no_tools(
    browser: Browser, own_system: System, tmp_path: Path
) -> None:
    # A viewer and clerk: may read the integration status, may not repair it.
    add_user_sync(f"sqlite+aiosqlite:///{tmp_path / 'bff.db'}", "vera", {Role.VIEWER, Role.CLERK})
    page, errors = open_page(browser, own_system.web_url, DESKTOP, user=("vera", PASSWORD))
    try:
        page.goto("/operations")
        expect(page.locator(".sync-state")).to_be_visible()
        expect(page.locator("section.operator-tools")).to_have_count(0)
    finally:
        page.context.close()
    assert errors == []
