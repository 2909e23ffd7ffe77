"""Per-caller credentials and route scopes, on every route of both services (table-driven).

The routes are read from the apps themselves, so a route added without an entry in its
service's scope table fails here (and is refused to every caller until it gets one).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.routing import Mount, Route

import ordering_api.app as ordering_app
from billing_api.app import create_app as create_billing_app
from billing_api.routes import ROUTE_SCOPES as BILLING_SCOPES
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.routes import ROUTE_SCOPES as ORDERING_SCOPES
from ordering_api.settings import OrderingSettings
from service_http.credentials import COMMON_ROUTE_SCOPES, PUBLIC, CallerCredential, Scope
from service_http.settings import DEV_BILLING_TO_ORDERING, ServiceSettings
from tests.support.asgi import serving

ORDER = {
    "customer": {"name": "Ada", "email": "ada@example.com"},
    "lines": [{"sku": "A", "quantity": 1, "unit_price": "1.00"}],
}


def only(scope: Scope) -> str:
    return f"only-{scope.value}-secret"


def all_but(scope: Scope) -> str:
    return f"all-but-{scope.value}-secret"


# For each scope: a caller holding just that scope, and one holding every other scope.
CALLERS: dict[str, CallerCredential] = {}
for each in Scope:
    CALLERS[f"only-{each.value}"] = CallerCredential(scopes={each}, secrets=(only(each),))
    CALLERS[f"all-but-{each.value}"] = CallerCredential(
        scopes=frozenset(Scope) - {each},
        secrets=(all_but(each),),
    )


def concrete(path: str) -> str:
    """A request path for a route template: every parameter is 1."""
    return re.sub(r"\{[^}]+\}", "1", path)


def routes_of(app: Starlette) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, Mount):  # a mounted ASGI app (a metrics exporter): read by GET
            found.append(("GET", route.path))
            continue
        assert isinstance(route, Route), f"{route!r}: a kind of route this test cannot check"
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, route.path))
    return found


@asynccontextmanager
async def service(
    kind: str, db: Path, callers: dict[str, CallerCredential]
) -> AsyncIterator[tuple[httpx.AsyncClient, Starlette]]:
    url = f"sqlite+aiosqlite:///{db}"
    app: Starlette
    if kind == "ordering":
        app = create_ordering_app(OrderingSettings(database_url=url, credentials=callers))
    else:
        settings = BillingSettings(
            database_url=url,
            credentials=callers,
            pull_enabled=False,
            ordering_url="http://127.0.0.1:9",  # nothing listens: a pull fails at once
            ordering_timeout=0.5,
            ordering_token="billing-own-secret",
        )
        app = create_billing_app(settings)
    async with (
        serving(app) as asgi,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(asgi), base_url="http://service.test"
        ) as client,
    ):
        yield client, app


TABLES = {
    "ordering": {**COMMON_ROUTE_SCOPES, **ORDERING_SCOPES},
    "billing": {**COMMON_ROUTE_SCOPES, **BILLING_SCOPES},
}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("kind", ["ordering", "billing"])
async def test_every_route_answers_401_403_or_passes_by_its_scope(
    kind: str, tmp_path: Path
) -> None:
    table = TABLES[kind]
    async with service(kind, tmp_path / "db.sqlite", CALLERS) as (client, app):
        routes = routes_of(app)
        missing = [r for r in routes if r not in table]
        assert not missing, f"routes without a scope entry (add them to ROUTE_SCOPES): {missing}"
        assert len(routes) >= 9
        for method, template in routes:
            path, required = concrete(template), table[(method, template)]
            body = ORDER if method in ("POST", "PUT") else None

            async def call(
                headers: dict[str, str],
                path: str = path,
                method: str = method,
                body: Any = body,
            ) -> Any:
                return await client.request(method, path, json=body, headers=headers)

            anonymous = await call({})
            if required == PUBLIC:
                assert anonymous.status_code not in (401, 403), (method, template)
                continue
            for headers in ({}, bearer("wrong"), {"Authorization": "Basic eDp5"}):
                refused = await call(headers)
                assert refused.status_code == 401, (method, template, headers)
                assert refused.headers["WWW-Authenticate"] == "Bearer"
                assert refused.json()["error"]["code"] == "unauthorized"
            scope = Scope(required)
            lacking = await call(bearer(all_but(scope)))
            assert lacking.status_code == 403, (method, template)
            assert lacking.json()["error"]["code"] == "forbidden"
            assert f'scope="{scope.value}"' in lacking.headers["WWW-Authenticate"]
            allowed = await call(bearer(only(scope)))
            assert allowed.status_code not in (401, 403), (method, template, allowed.text)


async def test_a_route_missing_from_the_table_is_refused_to_every_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    partial = {k: v for k, v in ORDERING_SCOPES.items() if k != ("GET", "/orders/changes")}
    monkeypatch.setattr(ordering_app, "ROUTE_SCOPES", partial)
    app = create_ordering_app(
        OrderingSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    )
    async with (
        serving(app) as asgi,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(asgi), base_url="http://service.test"
        ) as client,
    ):
        billing = bearer(DEV_BILLING_TO_ORDERING)
        assert (await client.get("/orders", headers=billing)).status_code == 200
        assert (await client.get("/orders/changes", headers=billing)).status_code == 403
        assert (await client.get("/orders/changes")).status_code == 401


def development_like() -> dict[str, CallerCredential]:
    return {
        "billing": CallerCredential(
            scopes=frozenset({Scope.ORDERS_READ, Scope.FEED_READ}),
            secrets=("billing-old-secret", "billing-new-secret"),
        ),
        "bff": CallerCredential(
            scopes=frozenset({Scope.ORDERS_READ, Scope.ORDERS_WRITE, Scope.ACT_AS_USER}),
            secrets=("bff-secret",),
        ),
    }


async def test_billings_credential_cannot_write_orders(tmp_path: Path) -> None:
    async with service("ordering", tmp_path / "o.db", development_like()) as (client, _):
        bff, billing = bearer("bff-secret"), bearer("billing-new-secret")
        number = (await client.post("/orders", json=ORDER, headers=bff)).json()["number"]
        assert (await client.get(f"/orders/{number}", headers=billing)).status_code == 200
        assert (await client.get("/orders/changes", headers=billing)).status_code == 200
        for method, path in [
            ("POST", "/orders"),
            ("PUT", f"/orders/{number}"),
            ("POST", f"/orders/{number}/confirm"),
            ("DELETE", f"/orders/{number}"),
        ]:
            body = ORDER if method != "DELETE" and "confirm" not in path else None
            response = await client.request(method, path, json=body, headers=billing)
            assert response.status_code == 403, (method, path)
            assert "orders:write" in response.json()["error"]["message"]
        order = (await client.get(f"/orders/{number}", headers=bff)).json()
        assert (order["status"], order["row_version"]) == ("draft", 1), "nothing changed"


async def test_rotation_both_secrets_work_then_the_old_one_is_removed(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    async with service("ordering", db, development_like()) as (client, _):
        for secret in ("billing-old-secret", "billing-new-secret"):
            assert (await client.get("/orders", headers=bearer(secret))).status_code == 200
    rotated = development_like()
    rotated["billing"] = CallerCredential(
        scopes=rotated["billing"].scopes,
        secrets=("billing-new-secret",),
    )
    async with service("ordering", db, rotated) as (client, _):
        assert (
            await client.get("/orders", headers=bearer("billing-new-secret"))
        ).status_code == 200
        old = await client.get("/orders", headers=bearer("billing-old-secret"))
        assert old.status_code == 401


async def test_an_acting_user_only_from_a_caller_allowed_to_assert_one(tmp_path: Path) -> None:
    async with service("ordering", tmp_path / "o.db", development_like()) as (client, _):
        as_ada = {"X-Acting-User": "ada%20lovelace"}
        billing = bearer("billing-new-secret") | as_ada
        refused = await client.get("/orders", headers=billing)
        assert refused.status_code == 403
        assert "act-as-user" in refused.json()["error"]["message"]
        bff = bearer("bff-secret")
        created = await client.post("/orders", json=ORDER, headers=bff | as_ada)
        assert created.status_code == 201
        assert created.json()["created_by"] == "ada lovelace"
        spaced = await client.post("/orders", json=ORDER, headers=bff | {"X-Acting-User": "a b"})
        assert spaced.json()["created_by"] == "a b"
        odd = await client.post("/orders", json=ORDER, headers=bff | {"X-Acting-User": "x%FF"})
        assert odd.json()["created_by"] == "x\ufffd", "invalid UTF-8 is replaced, not refused"
        own = await client.post("/orders", json=ORDER, headers=bff)
        assert own.json()["created_by"] == "service:bff", "no user: the service itself"
        for bad in ["", "   ", " a", "%00x", "a%7F", "a" * 201, "100%", "%zz"]:
            response = await client.post(
                "/orders", json=ORDER, headers=bff | {"X-Acting-User": bad}
            )
            assert response.status_code == 400, bad
            assert response.json()["error"]["code"] == "bad_request"


def test_credentials_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    table = {"billing": {"scopes": ["orders:read", "feed:read"], "secrets": ["s-one", "s-two"]}}
    monkeypatch.setenv("ORDERING_CREDENTIALS", json.dumps(table))
    monkeypatch.setenv("APP_ENV", "production")
    settings = OrderingSettings()
    assert settings.credentials is not None
    assert settings.credentials["billing"].scopes == {Scope.ORDERS_READ, Scope.FEED_READ}
    assert "s-one" not in repr(settings) and "s-two" not in str(settings.model_dump())
    credentials = settings.accepted_credentials()
    assert "s-one" not in repr(credentials)
    caller = credentials.identify(b"s-two")
    assert caller is not None and caller.name == "billing"
    assert credentials.identify(b"s-three") is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"billing": {"scopes": ["orders:delete"], "secrets": ["x"]}}, "scopes"),
        ({"billing": {"scopes": [], "secrets": []}}, "secrets"),
        ({"billing": {"scopes": [], "secrets": [" "]}}, "must not be empty"),
        (
            {"a": {"scopes": [], "secrets": ["same"]}, "b": {"scopes": [], "secrets": ["same"]}},
            "share a secret",
        ),
        ({"billing": {"scopes": [], "secrets": [DEV_BILLING_TO_ORDERING]}}, "APP_ENV"),
        ({}, "names no caller"),
    ],
)
def test_a_bad_credential_table_is_refused_at_start(table: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        OrderingSettings(credentials=table, app_env="production")


SETTINGS: list[tuple[type[ServiceSettings], Callable[[str], dict[str, Any]]]] = [
    (OrderingSettings, lambda s: {"credentials": {"bff": {"scopes": [], "secrets": [s]}}}),
    (BillingSettings, lambda s: {"ordering_token": s}),
]


@pytest.mark.parametrize(("settings", "secret_of"), SETTINGS)
def test_production_needs_real_credentials(
    settings: type[ServiceSettings],
    secret_of: Callable[[str], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SERVICE_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="is not set"):
        settings(app_env="production")
    assert settings(app_env="development")
