"""What is refused at the door: foreign Host headers, clients over their rate or concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from bff.app import create_app
from bff.offload import OFF_LOOP_CHARS
from billing_api.app import create_app as create_billing_app
from billing_api.settings import BillingSettings
from ordering_api.app import create_app as create_ordering_app
from ordering_api.settings import OrderingSettings
from tests.bff.conftest import TOKEN, System, SystemFactory, bff_settings
from tests.bff.transports import Fault
from tests.support.asgi import serving
from tests.support.servers import RedisServer

QUERY = {"query": "{ __typename }"}


async def test_a_foreign_host_is_refused_by_the_bff(system: System) -> None:
    response = await system.bff.post("/graphql", json=QUERY, headers={"host": "evil.example.com"})
    assert response.status_code == 400
    assert response.text == "Invalid host header"
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000", "bff.test"):
        response = await system.bff.post("/graphql", json=QUERY, headers={"host": host})
        assert response.status_code == 200, host


async def test_health_is_answered_whatever_the_host(system: System) -> None:
    response = await system.bff.get("/healthz", headers={"host": "evil.example.com"})
    assert response.status_code == 200


async def test_the_host_allow_list_is_configurable(make_system: SystemFactory) -> None:
    system: System = await make_system(allowed_hosts="bff.example.org, *.corp.example")
    ok = ("bff.example.org", "app.corp.example")
    for host in ok:
        assert (await system.bff.post("/graphql", json=QUERY, headers={"host": host})).is_success
    for host in ("127.0.0.1", "corp.example.evil", "bff.test"):
        response = await system.bff.post("/graphql", json=QUERY, headers={"host": host})
        assert response.status_code == 400, host


@pytest.mark.parametrize("service", ["ordering", "billing"])
async def test_the_services_refuse_a_foreign_host(
    tmp_path: Path, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    app = (
        create_ordering_app(OrderingSettings(database_url=db, service_token=TOKEN))
        if service == "ordering"
        else create_billing_app(
            BillingSettings(database_url=db, service_token=TOKEN, pull_enabled=False)
        )
    )
    headers = {"authorization": f"Bearer {TOKEN}"}
    path = "/orders" if service == "ordering" else "/invoices"
    async with (
        serving(app) as asgi,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://127.0.0.1", headers=headers
        ) as client,
    ):
        assert (await client.get(path)).status_code == 200
        evil = await client.get(path, headers={"host": "attacker.example.com"})
        assert evil.status_code == 400
        assert (await client.get("/healthz", headers={"host": "attacker.example.com"})).is_success

    monkeypatch.setenv(f"{service.upper()}_ALLOWED_HOSTS", "attacker.example.com")
    app = (
        create_ordering_app(OrderingSettings(database_url=db, service_token=TOKEN))
        if service == "ordering"
        else create_billing_app(
            BillingSettings(database_url=db, service_token=TOKEN, pull_enabled=False)
        )
    )
    async with (
        serving(app) as asgi,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://127.0.0.1", headers=headers
        ) as client,
    ):
        assert (await client.get(path, headers={"host": "attacker.example.com"})).is_success
        assert (await client.get(path)).status_code == 400


async def posts(system: System, count: int, **kwargs: Any) -> list[httpx.Response]:
    return [await system.bff.post("/graphql", json=QUERY, **kwargs) for _ in range(count)]


async def test_a_client_over_its_rate_gets_429_with_retry_after(
    make_system: SystemFactory,
) -> None:
    system: System = await make_system(rate_limit="3/minute")

    responses = await posts(system, 4)

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    refused = responses[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["errors"][0]["message"].startswith("Too many requests")
    # Health and the web app are never rate limited.
    assert (await system.bff.get("/healthz")).status_code == 200


async def test_clients_behind_a_trusted_proxy_are_told_apart(make_system: SystemFactory) -> None:
    # httpx's ASGI transport reports the peer as 127.0.0.1: here, the proxy.
    system: System = await make_system(rate_limit="2/minute", trusted_proxies="127.0.0.1")
    first = {"x-forwarded-for": "203.0.113.7"}
    second = {"x-forwarded-for": "198.51.100.9, 203.0.113.8"}

    assert [r.status_code for r in await posts(system, 3, headers=first)] == [200, 200, 429]
    assert [r.status_code for r in await posts(system, 2, headers=second)] == [200, 200]


async def test_an_untrusted_peer_cannot_pick_its_identity(make_system: SystemFactory) -> None:
    system: System = await make_system(rate_limit="2/minute")
    statuses = [
        (
            await system.bff.post(
                "/graphql", json=QUERY, headers={"x-forwarded-for": f"10.0.0.{i}"}
            )
        ).status_code
        for i in range(3)
    ]
    assert statuses == [200, 200, 429]


@pytest.mark.redis
async def test_replicas_share_the_rate_through_redis(
    tmp_path: Path, redis: RedisServer, make_system: SystemFactory
) -> None:
    cache_url = redis.url(db=5)
    system: System = await make_system(rate_limit="3/minute", cache_url=cache_url)
    # A second replica in front of the same upstream apps and the same Redis.
    settings = bff_settings(tmp_path, rate_limit="3/minute", cache_url=cache_url)
    async with (
        serving(create_app(settings, system.ordering_link, system.billing_link)) as replica,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=replica),
            base_url="http://bff.test",
            cookies=dict(system.bff.cookies),  # the session is shared through Redis too
        ) as other,
    ):
        statuses = [(await system.bff.post("/graphql", json=QUERY)).status_code for _ in range(2)]
        statuses += [(await other.post("/graphql", json=QUERY)).status_code for _ in range(2)]

    assert statuses == [200, 200, 200, 429]


async def test_a_failing_rate_store_lets_requests_through(make_system: SystemFactory) -> None:
    # Nothing listens on this port: every count fails, and the API stays up (sessions are
    # kept elsewhere here: without its session store, nobody would be signed in).
    system: System = await make_system(
        rate_limit="1/minute", cache_url="redis://127.0.0.1:9/0", session_url="memory://"
    )
    assert [r.status_code for r in await posts(system, 3)] == [200, 200, 200]


async def test_a_clients_requests_beyond_its_in_flight_cap_wait_then_get_429(
    make_system: SystemFactory,
) -> None:
    system: System = await make_system(
        client_in_flight=2, client_queue_seconds=0.3, upstream_timeout=1.0
    )
    system.billing_link.fault = Fault.HANG
    hanging = [
        asyncio.create_task(system.bff.post("/graphql", json={"query": "{ syncStatus { token } }"}))
        for _ in range(3)
    ]
    responses = await asyncio.gather(*hanging)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429]
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["retry-after"] == "1"
    assert "in progress" in refused.json()["errors"][0]["message"]
    assert len(system.billing_link.calls) == 1  # the two admitted ones shared one read


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ " + "__typename " * 300 + "", "Syntax Error"),
        ("{ " + "__typename " * 600 + "}", "more than 500 tokens"),
        ("{ " + "orderz " * 200 + "}", "Cannot query field 'orderz'"),
    ],
)
async def test_large_documents_checked_off_the_loop_answer_like_small_ones(
    system: System, query: str, message: str
) -> None:
    assert len(query) > OFF_LOOP_CHARS
    body = await system.gql(query)
    assert "data" not in body
    assert message in body["errors"][0]["message"]


async def test_a_large_valid_document_runs(system: System) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(25)) + " }"
    assert len(query) > OFF_LOOP_CHARS
    assert (await system.ok(query))["a24"] == "Query"
