"""Signing in and out of the BFF over HTTP: cookies, sessions, throttling, CSRF, headers.

Against the real app (accounts in a real SQLite file, sessions in aiocache's memory backend)
through `make_system`; the session store's own timing rules are in test_sessions.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from bff.roles import Role
from tests.bff.conftest import System, SystemFactory
from tests.support.accounts import PASSWORD, add_user, sign_in

ORDERS = "{ orders(first: 1) { edges { node { number } } } }"


def client(system: System, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=system.bff_asgi), base_url="http://bff.test", **kwargs
    )


async def login(c: httpx.AsyncClient, name: str, password: str, **kw: Any) -> httpx.Response:
    return await c.post("/auth/login", json={"name": name, "password": password}, **kw)


async def codes(c: httpx.AsyncClient, query: str = ORDERS) -> list[str | None]:
    response = await c.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]


async def test_sign_in_sets_an_http_only_lax_cookie_and_me_names_the_user(system: System) -> None:
    await add_user(system.settings.database_url, "ann", {Role.VIEWER, Role.CLERK})
    async with client(system) as c:
        assert (await c.get("/auth/me")).status_code == 401
        response = await login(c, "Ann", PASSWORD)  # names are case-insensitive
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("bff_session=")
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # served over http here
        assert PASSWORD not in response.text
        me = (await c.get("/auth/me")).json()
        assert me == {
            "name": "ann",
            "displayName": "ann",
            "roles": ["clerk", "viewer"],
            "signInMethod": "local",
        }
        assert await codes(c) == []


async def test_https_public_url_makes_the_cookie_secure_with_the_host_prefix(
    make_system: SystemFactory,
) -> None:
    system: System = await make_system(public_url="https://orders.example.com")
    async with client(system) as c:
        response = await login(c, "tester", PASSWORD)
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-bff_session=")
        assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
        assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_wrong_password_unknown_name_and_disabled_account_get_one_message(
    system: System,
) -> None:
    await add_user(system.settings.database_url, "gone", {Role.VIEWER})
    from bff.accounts import Accounts
    from service_db.engine import create_engine, create_sessions

    engine = create_engine(system.settings.database_url)
    await Accounts(create_sessions(engine)).change("gone", disabled=True)
    await engine.dispose()
    async with client(system) as c:
        answers = [
            await login(c, "tester", "wrong password"),
            await login(c, "nobody", PASSWORD),
            await login(c, "gone", PASSWORD),
        ]
    assert {a.status_code for a in answers} == {401}
    assert {a.text for a in answers} == {answers[0].text}
    assert "Wrong user name or password." in answers[0].text
    assert all("set-cookie" not in a.headers for a in answers)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ('{"name": "tester"}', "application/json", 400),
        ('{"name": 1, "password": []}', "application/json", 400),
        ("[1]", "application/json", 400),
        ("{not json", "application/json", 400),
        ("name=tester&password=x", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_malformed_sign_ins_are_refused_clearly(
    system: System, body: str, content_type: str, status: int
) -> None:
    async with client(system) as c:
        response = await c.post("/auth/login", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.json()["error"]["message"]


async def test_failed_sign_ins_are_throttled_per_account(make_system: SystemFactory) -> None:
    system: System = await make_system(login_limit_account="3/minute", login_limit_client="")
    async with client(system) as c:
        for _ in range(3):
            assert (await login(c, "tester", "wrong")).status_code == 401
        refused = await login(c, "tester", PASSWORD)  # even the right password now
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        # Another account is not held back by this one's failures.
        await add_user(system.settings.database_url, "other", {Role.VIEWER})
        assert (await login(c, "other", PASSWORD)).status_code == 200


async def test_failed_sign_ins_are_throttled_per_client(make_system: SystemFactory) -> None:
    system: System = await make_system(login_limit_account="", login_limit_client="4/minute")
    async with client(system) as c:
        for name in ("a1", "a2", "a3", "a4"):
            assert (await login(c, name, "wrong")).status_code == 401
        assert (await login(c, "tester", PASSWORD)).status_code == 429


async def test_a_forged_cookie_is_refused_and_cleared(system: System) -> None:
    async with client(system, cookies={"bff_session": "forged-session-id"}) as c:
        response = await c.post("/graphql", json={"query": ORDERS})
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
        assert "bff_session=;" in response.headers["set-cookie"]
        assert "Max-Age=0" in response.headers["set-cookie"]
        assert (await c.get("/auth/me")).status_code == 401


async def test_signing_in_again_gives_a_new_id_and_ends_the_old_one(system: System) -> None:
    async with client(system) as c:
        await login(c, "tester", PASSWORD)
        first = c.cookies["bff_session"]
        await login(c, "tester", PASSWORD)
        second = c.cookies["bff_session"]
    assert first != second
    async with client(system, cookies={"bff_session": first}) as replay:
        assert await codes(replay) == ["UNAUTHENTICATED"]


async def test_a_cookie_replayed_after_sign_out_is_refused(system: System) -> None:
    async with client(system) as c:
        await login(c, "tester", PASSWORD)
        stolen = c.cookies["bff_session"]
        response = await c.post("/auth/logout", json={})
        assert response.status_code == 200 and response.json()["signedOut"] is True
        assert "Max-Age=0" in response.headers["set-cookie"]
    async with client(system, cookies={"bff_session": stolen}) as replay:
        assert await codes(replay) == ["UNAUTHENTICATED"]


async def test_sign_out_everywhere_ends_every_session_of_the_user(system: System) -> None:
    async with client(system) as laptop, client(system) as phone, client(system) as other:
        await add_user(system.settings.database_url, "someone", {Role.VIEWER})
        await login(laptop, "tester", PASSWORD)
        await login(phone, "tester", PASSWORD)
        await login(other, "someone", PASSWORD)
        assert (await phone.post("/auth/logout-everywhere", json={})).status_code == 200
        assert await codes(laptop) == ["UNAUTHENTICATED"]
        assert await codes(phone) == ["UNAUTHENTICATED"]
        assert await codes(other) == []  # another user's session is untouched
        await login(laptop, "tester", PASSWORD)  # and the user can sign in again
        assert await codes(laptop) == []


async def test_disabling_an_account_ends_its_sessions(make_system: SystemFactory) -> None:
    system: System = await make_system(session_recheck_seconds=0.001)
    from bff.accounts import Accounts
    from service_db.engine import create_engine, create_sessions

    assert await codes(system.bff) == []
    engine = create_engine(system.settings.database_url)
    try:
        await Accounts(create_sessions(engine)).change("tester", disabled=True)
    finally:
        await engine.dispose()
    assert await codes(system.bff) == ["UNAUTHENTICATED"]


async def test_cross_site_writes_are_refused(system: System) -> None:
    mutation = '{"query": "mutation { deleteOrder(number: 1) { number } }"}'
    json_type = {"content-type": "application/json"}
    for headers in (
        {"origin": "https://evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ):
        response = await system.bff.post("/graphql", content=mutation, headers=json_type | headers)
        assert response.status_code == 403, headers
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        signed_out = await system.bff.post("/auth/logout", json={}, headers=headers)
        assert signed_out.status_code == 403
    assert (await system.bff.get("/auth/me")).status_code == 200  # still signed in
    # The same request from the app's own pages goes through.
    same = await system.bff.post(
        "/graphql",
        content=mutation,
        headers=json_type | {"origin": "http://bff.test", "sec-fetch-site": "same-origin"},
    )
    assert same.status_code == 200
    assert same.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_mutations_are_not_run_by_get(system: System) -> None:
    response = await system.bff.get(
        "/graphql", params={"query": "mutation { deleteOrder(number: 1) { number } }"}
    )
    assert response.status_code == 405


async def test_every_answer_carries_the_security_headers(system: System) -> None:
    for method, path in (
        ("GET", "/healthz"),
        ("GET", "/sign-in"),
        ("GET", "/orders"),
        ("GET", "/auth/me"),
        ("POST", "/graphql"),
        ("GET", "/no/such/page"),
    ):
        response = await system.bff.request(method, path, json={"query": "{ __typename }"})
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "DENY"


async def test_graphiql_needs_a_session_and_gets_a_csp_of_its_own(system: System) -> None:
    html = {"accept": "text/html"}
    async with client(system) as anonymous:
        response = await anonymous.get("/graphql", headers=html)
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?next=/graphql"
    page = await system.bff.get("/graphql", headers=html)
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    csp = page.headers["content-security-policy"]
    assert "'sha256-" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


async def test_web_pages_send_an_anonymous_browser_to_sign_in_and_back(
    make_system: SystemFactory, tmp_path: Path
) -> None:
    # The screens are only routed when the web front end is installed (bff/web.py).
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>Orders</title>")
    system: System = await make_system(web_dir=web)
    async with client(system) as anonymous:
        response = await anonymous.get("/orders/12?x=1")
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in?next=/orders/12%3Fx%3D1"
        assert (await anonymous.get("/sign-in")).status_code == 200
        await login(anonymous, "tester", PASSWORD)
        screen = await anonymous.get("/orders/12")
        assert screen.status_code == 200 and "<title>Orders</title>" in screen.text


async def test_sign_in_is_not_an_open_redirect() -> None:
    from bff.sign_in import safe_next

    assert safe_next("/orders/1?x=2") == "/orders/1?x=2"
    for hostile in ("//evil.example", "https://evil.example", "/\\evil.example", "", None, "x"):
        assert safe_next(hostile) == "/"


async def test_the_cli_user_can_sign_in(system: System) -> None:
    await sign_in(system.bff, "tester")
    assert (await system.bff.get("/auth/me")).json()["roles"] == sorted(r.value for r in Role)


async def test_a_stale_cookie_of_the_same_name_does_not_hide_the_live_one(system: System) -> None:
    live = system.bff.cookies["bff_session"]
    async with client(system) as c:
        for header in (f"bff_session=stale; bff_session={live}", f"bff_session={live}; x=1"):
            response = await c.get("/auth/me", headers={"cookie": header})
            assert response.status_code == 200, header
        assert (
            await c.get("/auth/me", headers={"cookie": "bff_session=a; bff_session=b"})
        ).status_code == 401
