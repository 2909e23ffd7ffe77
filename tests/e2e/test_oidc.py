"""Sign-in through a real OpenID Connect provider (panva's oidc-provider, run by the test) in
real Chromium: the BFF as a confidential client with PKCE, roles from the ID token, tokens
never in the browser, and sign-out ending the provider's session too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, Screenshots, open_page
from tests.e2e.processes import System, running_system
from tests.support.oidc import OidcProvider, oidc_provider
from tests.support.servers import free_port

pytestmark = pytest.mark.browser

USERS = {
    "olga": ("Olga Clerk", ["viewer", "clerk"]),
    "vic": ("Vic Viewer", ["viewer", "not-a-role"]),
}


@pytest.fixture(scope="module")
def oidc_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[System, OidcProvider]]:
    root = tmp_path_factory.mktemp("oidc")
    bff_port, provider_port = free_port(), free_port()
    bff = f"http://127.0.0.1:{bff_port}"
    with (
        oidc_provider(
            provider_port,
            redirect_uri=f"{bff}/auth/oidc/callback",
            post_logout_uri=f"{bff}/sign-in",
            users=USERS,
            log_path=root / "oidc.log",
        ) as provider,
        running_system(
            root,
            bff_port=bff_port,
            bff_settings={
                "BFF_AUTH": "oidc",
                "BFF_PUBLIC_URL": bff,
                "BFF_OIDC_ISSUER": provider.issuer,
                "BFF_OIDC_CLIENT_ID": provider.client_id,
                "BFF_OIDC_CLIENT_SECRET": provider.client_secret,
            },
        ) as system,
    ):
        yield system, provider


def provider_sign_in(page: Page, name: str) -> None:
    """The provider's own (development) pages: any password; then consent."""
    page.locator("input[name=login]").fill(name)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_sign_in_and_out_through_the_provider(
    browser: Browser, oidc_system: tuple[System, OidcProvider], screenshots: Screenshots
) -> None:
    system, provider = oidc_system
    page, script_errors = open_page(browser, system.web_url, DESKTOP, user=None)
    try:
        page.goto("/orders")
        expect(page).to_have_url(re.compile(r"/sign-in\?next=/orders"))
        page.get_by_role("link", name="Sign in with your organisation").click()
        expect(page).to_have_url(re.compile("^" + re.escape(provider.issuer)))
        provider_sign_in(page, "olga")
        expect(page).to_have_url(f"{system.web_url}/orders")
        expect(page.get_by_test_id("user-roles")).to_have_text("clerk, viewer")
        expect(page.locator(".topbar__new")).to_be_visible()  # a clerk's action
        screenshots.take(page, "oidc-signed-in")

        # The browser holds only the BFF's opaque session cookie: no token of the provider.
        cookies = {c["name"]: c for c in page.context.cookies(system.web_url)}
        session = cookies["bff_session"]
        assert session["httpOnly"] and session["sameSite"] == "Lax"
        assert "." not in session["value"]  # not a JWT
        assert "bff_oidc_state" not in cookies  # the sign-in's state cookie is gone
        storage = page.evaluate("JSON.stringify({...localStorage, ...sessionStorage})")
        assert "eyJ" not in storage and "eyJ" not in page.content()
        me = page.context.request.get("/auth/me").json()
        assert me == {
            "name": "olga",
            "displayName": "Olga Clerk",
            "roles": ["clerk", "viewer"],
            "signInMethod": "oidc",
        }
        assert "token" not in str(me).lower()

        # Sign out: the BFF session ends, then the provider's (its confirmation page).
        page.get_by_role("button", name="Sign out", exact=True).click()
        expect(page).to_have_url(re.compile("^" + re.escape(provider.issuer)))
        page.get_by_role("button", name="Yes, sign me out").click()
        expect(page).to_have_url(re.compile(re.escape(system.web_url) + "/sign-in"))
        assert page.context.request.get("/auth/me").status == 401
        # The provider asks for the login again: its session ended as well.
        page.goto("/auth/oidc/login?next=/orders")
        expect(page.locator("input[name=login]")).to_be_visible()
    finally:
        page.context.close()
    assert script_errors == []


def test_roles_come_from_the_claim_and_unknown_ones_are_ignored(
    browser: Browser, oidc_system: tuple[System, OidcProvider]
) -> None:
    system, _ = oidc_system
    page, _ = open_page(browser, system.web_url, DESKTOP, user=None)
    try:
        page.goto("/auth/oidc/login?next=/invoices")
        provider_sign_in(page, "vic")
        expect(page).to_have_url(f"{system.web_url}/invoices")
        expect(page.get_by_test_id("user-roles")).to_have_text("viewer")
        expect(page.locator(".topbar__new")).to_be_hidden()
    finally:
        page.context.close()


def test_a_forged_or_replayed_callback_is_refused(
    oidc_system: tuple[System, OidcProvider], tmp_path: Path
) -> None:
    system, _ = oidc_system
    with httpx.Client(base_url=system.web_url, timeout=10) as client:
        # No state cookie: not started in this browser.
        forged = client.get("/auth/oidc/callback", params={"code": "x", "state": "y"})
        assert forged.status_code == 400 and "not started in this browser" in forged.text
        # Started here, but the code is not one the provider issued.
        started = client.get("/auth/oidc/login")
        assert started.status_code == 303
        state = httpx.URL(started.headers["location"]).params["state"]
        wrong = client.get("/auth/oidc/callback", params={"code": "made-up", "state": state})
        assert wrong.status_code == 401
        # And the same state cannot be used twice.
        again = client.get("/auth/oidc/callback", params={"code": "made-up", "state": state})
        assert again.status_code == 400
        assert client.get("/auth/me").status_code == 401
        assert client.post("/auth/login", json={"name": "a", "password": "b"}).status_code == 404
