"""GET /readyz: 200 while ordering's database answers, 503 with the JSON error while it does not."""

from __future__ import annotations

import pytest

from tests.ordering_api.conftest import Ordering
from tests.support.servers import PostgresServer


async def test_readyz_is_public_and_ready(ordering: Ordering) -> None:
    response = await ordering.client.get("/readyz", headers={"Authorization": ""})
    assert (response.status_code, response.json()) == (200, {"status": "ready"})
    document = (await ordering.client.get("/openapi.json")).json()
    assert document["paths"]["/readyz"]["get"]["security"] == []


@pytest.mark.postgres
async def test_readyz_follows_the_database(
    ordering_pg: Ordering, pg_server: PostgresServer, pg_url: str
) -> None:
    name = pg_url.rsplit("/", 1)[1]
    assert (await ordering_pg.client.get("/readyz")).status_code == 200
    pg_server.psql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    pg_server.psql(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )
    try:
        response = await ordering_pg.client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "unavailable"
        assert "database" in response.json()["error"]["message"]
        assert (await ordering_pg.client.get("/healthz")).status_code == 200, "still alive"
    finally:
        pg_server.psql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert (await ordering_pg.client.get("/readyz")).status_code == 200, "ready again"
