"""Sessions shared by two BFF replicas through a real Redis: signed in on one, known to the
other; signed out on one, refused by the other; throttled on both."""

from __future__ import annotations

import httpx
import pytest
import redis as redis_lib

from tests.bff.conftest import System, SystemFactory
from tests.support.accounts import PASSWORD
from tests.support.servers import RedisServer

pytestmark = pytest.mark.redis

ORDERS = {"query": "{ orders(first: 1) { edges { node { number } } } }"}


@pytest.fixture
def redis_url(redis: RedisServer) -> str:
    client = redis_lib.Redis.from_url(redis.url(9))
    client.flushdb()
    client.close()
    return redis.url(9)


def errors(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


async def test_replicas_share_sessions_and_sign_out(
    make_system: SystemFactory, redis_url: str
) -> None:
    first: System = await make_system(cache_url=redis_url)
    second: System = await make_system(
        cache_url=redis_url, database_url=first.settings.database_url
    )
    cookie = {"bff_session": first.bff.cookies["bff_session"]}
    transport = httpx.ASGITransport(app=second.bff_asgi)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bff.test", cookies=cookie
    ) as c:
        assert errors(await c.post("/graphql", json=ORDERS)) == []
        assert (await first.bff.post("/auth/logout", json={})).status_code == 200
        assert errors(await c.post("/graphql", json=ORDERS)) == ["UNAUTHENTICATED"]
        assert (
            await c.post("/auth/login", json={"name": "tester", "password": PASSWORD})
        ).status_code == 200
