"""Bad input at the edge of both REST services, on SQLite and PostgreSQL alike: a clear 400/422
(or 404 for a number no row can have), never a 500, and nothing stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from tests.support.asgi import started
from tests.support.servers import PostgresServer

TOKEN = "edge-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GOOD = {
    "customer": {"name": "Ada", "email": "ada@example.com"},
    "currency": "EUR",
    "lines": [{"sku": "BOLT", "quantity": 2, "unit_price": "1.50"}],
}
TOO_BIG = 2**63  # one past the largest 64-bit number


@dataclass
class Services:
    ordering: httpx.AsyncClient
    billing: httpx.AsyncClient
    database_urls: list[str]


# One pair of apps per database kind for the whole module: starting them is most of the cost.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgres"])
async def services(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    if request.param == "sqlite":
        root = tmp_path_factory.mktemp("edge")
        urls = [f"sqlite+aiosqlite:///{root / name}.db" for name in ("o", "b")]
    else:
        pg: PostgresServer = request.getfixturevalue("pg_server")
        urls = [pg.create_database(f"edge_{name}") for name in ("o", "b")]
    ordering = create_ordering_app(OrderingSettings(database_url=urls[0], service_token=TOKEN))
    billing = create_billing_app(
        BillingSettings(
            database_url=urls[1],
            service_token=TOKEN,
            pull_enabled=False,
            ordering_url="http://127.0.0.1:9",
        )
    )
    async with started(ordering) as o, started(billing) as b:
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app.asgi),
                base_url="http://svc.test",
                headers=AUTH,
            )
            for app in (o, b)
        ]
        async with clients[0], clients[1]:
            yield Services(clients[0], clients[1], urls)


async def _newest_order(services: Services) -> int:
    listed = await services.ordering.get("/orders", params={"limit": 1, "status": "draft"})
    assert listed.status_code == 200
    return max((order["number"] for order in listed.json()["orders"]), default=0)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
        (b'{"customer": ' + b"[" * 990 + b"]" * 990 + b"}", "nested"),
        (b'{"a":' * 3000 + b"1" + b"}" * 3000, "nested"),
        (b'{"customer": {"name": "\xff\xfe", "email": "a@b.co"}}', "UTF-8"),
        (json.dumps(GOOD).encode("utf-16"), "UTF-8"),
        (b"\xef\xbb\xbf" + json.dumps(GOOD).encode(), "JSON"),  # a BOM is not JSON
    ],
)
async def test_deep_or_badly_encoded_bodies_are_400(
    services: Services, body: bytes, words: str
) -> None:
    newest = await _newest_order(services)
    response = await services.ordering.post("/orders", content=body)
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]["message"]
    assert await _newest_order(services) == newest, "nothing was stored"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customer": {"name": "Ada\x00Lovelace", "email": "ada@example.com"}}, "customer.name"),
        ({"customer": {"name": "Ada", "email": "ada\x00@example.com"}}, "customer.email"),
        ({"lines": [{"sku": "B\x00", "quantity": 1, "unit_price": "1.00"}]}, "lines.0.sku"),
        (
            {"lines": [{"sku": "B", "description": "\x00", "quantity": 1, "unit_price": "1"}]},
            "lines.0.description",
        ),
        ({"customer": {"name": "   ", "email": "ada@example.com"}}, "customer.name"),
        ({"lines": [{"sku": "B", "quantity": 1.5, "unit_price": "1.00"}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "B", "quantity": True, "unit_price": "1.00"}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "B", "quantity": "2", "unit_price": "1.00"}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "B", "quantity": 100_001, "unit_price": "1"}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "B", "quantity": 1, "unit_price": 1.5}]}, "lines.0.unit_price"),
        ({"lines": [{"sku": "B", "quantity": 1, "unit_price": "1.005"}]}, "lines.0.unit_price"),
        (
            {"lines": [{"sku": "B", "quantity": 1, "unit_price": "1000000000.01"}]},
            "lines.0.unit_price",
        ),
        ({"currency": "eur"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
    ],
)
async def test_text_and_numbers_outside_the_schema_are_422(
    services: Services, change: dict[str, object], field: str
) -> None:
    newest = await _newest_order(services)
    response = await services.ordering.post("/orders", json={**GOOD, **change})
    assert response.status_code == 422, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]
    assert await _newest_order(services) == newest, "nothing was stored"


async def test_json_integers_and_the_largest_order(services: Services) -> None:
    # 1.0 is an integer in JSON Schema, so it is one here too.
    line = {"sku": "BIG", "quantity": 100_000.0, "unit_price": "1000000000.00"}
    response = await services.ordering.post("/orders", json={**GOOD, "lines": [line] * 100})
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["lines"][0]["quantity"] == 100_000
    assert order["total"] == "10000000000000000.00"  # 10**18 cents: fits 64 bits
    padded = {**GOOD, "customer": {"name": "  Ada  ", "email": "ada@example.com"}}
    assert (await services.ordering.post("/orders", json=padded)).json()["customer"][
        "name"
    ] == "Ada"


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("ordering", "/orders?limit="),
        ("ordering", "/orders?status="),
        ("ordering", "/orders?after="),
        ("ordering", "/orders/changes?since="),
        ("ordering", "/orders/changes?limit="),
        ("ordering", "/orders?limit=%201"),
        ("ordering", "/orders?limit=1_0"),
        ("ordering", f"/orders?number={TOO_BIG}"),
        ("ordering", "/orders?number=0"),
        ("ordering", f"/orders/changes?since={TOO_BIG}"),
        ("billing", "/invoices?limit="),
        ("billing", "/invoices?status="),
        ("billing", "/invoices?after="),
        ("billing", "/invoices?order_number="),
        ("billing", f"/invoices?order_number={TOO_BIG}"),
        # A batch checks the page parameters too: the schema makes no exception for them.
        ("ordering", "/orders?number=1&after="),
        ("ordering", "/orders?number=1&status=2.0"),
        ("billing", "/invoices?order_number=1&limit=0"),
    ],
)
async def test_empty_or_out_of_range_parameters_are_400(
    services: Services, service: str, path: str
) -> None:
    response = await getattr(services, service).get(path)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    ("service", "path"),
    [("ordering", f"/orders/{TOO_BIG}"), ("billing", f"/invoices/{TOO_BIG}")],
)
async def test_numbers_past_64_bits_in_the_path_are_404(
    services: Services, service: str, path: str
) -> None:
    response = await getattr(services, service).get(path)
    assert response.status_code == 404, response.text


@pytest.mark.parametrize(
    "body", [{"token": False}, {"token": "5"}, {"token": 1.5}, {"token": TOO_BIG}, {"token": -1}]
)
async def test_sync_reset_refuses_what_is_not_a_64_bit_position(
    services: Services, body: dict[str, object]
) -> None:
    response = await services.billing.post("/sync/reset", json=body)
    assert response.status_code == 422, response.text
    status = await services.billing.get("/sync/status")
    assert status.json()["token"] == 0


@pytest.mark.parametrize(
    ("service", "method", "path", "allow"),
    [
        ("ordering", "DELETE", "/orders", "GET, HEAD, POST"),
        ("ordering", "PATCH", "/orders/1", "DELETE, GET, HEAD, PUT"),
        ("ordering", "GET", "/orders/1/confirm", "POST"),
        ("billing", "PUT", "/invoices", "GET, HEAD"),
        ("billing", "GET", "/sync/run", "POST"),
    ],
)
async def test_405_lists_every_method_of_the_path(
    services: Services, service: str, method: str, path: str, allow: str
) -> None:
    response = await getattr(services, service).request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR  "])
async def test_the_bearer_scheme_is_case_insensitive(services: Services, scheme: str) -> None:
    headers = {"Authorization": f"{scheme} {TOKEN}"}
    for client, path in ((services.ordering, "/orders"), (services.billing, "/invoices")):
        assert (await client.get(path, headers=headers)).status_code == 200


@pytest.mark.parametrize("header", [f"Basic {TOKEN}", TOKEN, "Bearer", f"Bearer {TOKEN}x"])
async def test_other_authorizations_are_401(services: Services, header: str) -> None:
    response = await services.ordering.get("/orders", headers={"Authorization": header})
    assert response.status_code == 401


async def _set_order_sequence(database_url: str, value: int) -> None:
    """Make ordering's next order number `value + 1`, as after a few billion orders."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                await connection.execute(text(f"SELECT setval('orders_number_seq', {value})"))
            else:
                await connection.execute(
                    text(f"UPDATE sqlite_sequence SET seq = {value} WHERE name = 'orders'")
                )
    finally:
        await engine.dispose()


async def test_numbers_past_32_bits_work_end_to_end(services: Services) -> None:
    beyond = 3_000_000_000  # past 2**31 - 1, where a 32-bit column or sequence fails
    await services.ordering.post("/orders", json=GOOD)  # the sequence exists (SQLite)
    await _set_order_sequence(services.database_urls[0], beyond)
    created = await services.ordering.post("/orders", json=GOOD)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert number == beyond + 1
    assert (await services.ordering.post(f"/orders/{number}/confirm")).status_code == 200
    batch = await services.ordering.get("/orders", params={"number": number})
    assert [o["number"] for o in batch.json()["orders"]] == [number]

    assert (await services.billing.get(f"/invoices/{beyond}")).status_code == 404
    listed = await services.billing.get("/invoices", params={"order_number": beyond})
    assert listed.status_code == 200 and listed.json()["invoices"] == []
    reset = await services.billing.post("/sync/reset", json={"token": 2**63 - 1})
    assert reset.status_code == 200, reset.text
    assert reset.json()["token"] == 2**63 - 1
    assert (await services.billing.post("/sync/reset", json={"token": 0})).status_code == 200
