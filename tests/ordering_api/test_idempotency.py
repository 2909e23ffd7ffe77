"""Idempotency-Key on ordering's writes: a retry answers the first result without writing again.

In process for the rules (SQLite and PostgreSQL), and as real uvicorn processes for what only a
real connection shows: a retry after the connection was cut mid-request, and a retry after the
service restarted.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from benchmarks.retried_creates import run_retried_creates
from ordering_api.models import IDEMPOTENCY_KEYS, Order
from service_db.types import utcnow
from tests.ordering_api.conftest import AUTH, ORDER, TOKEN, Ordering
from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def order_count(ordering: Ordering) -> int:
    async with ordering.read_sessions() as session:
        connection = await session.connection()
        return int(await connection.scalar(select(func.count()).select_from(Order)) or 0)


async def test_a_repeated_create_answers_the_first_order_without_a_second(
    ordering: Ordering,
) -> None:
    headers = key()
    first = await ordering.client.post("/orders", json=ORDER, headers=headers)
    again = await ordering.client.post("/orders", json=ORDER, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await order_count(ordering) == 1
    # Without a key, each request is its own create.
    await ordering.client.post("/orders", json=ORDER)
    await ordering.client.post("/orders", json=ORDER)
    assert await order_count(ordering) == 3


async def test_the_same_key_with_another_body_is_refused(ordering: Ordering) -> None:
    headers = key()
    assert (await ordering.client.post("/orders", json=ORDER, headers=headers)).status_code == 201
    other = {**ORDER, "currency": "USD"}

    answer = await ordering.client.post("/orders", json=other, headers=headers)

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "idempotency_key_reused"
    assert "already used for another request" in answer.json()["error"]["message"]
    # ...and for another route too: a key names one request.
    order = (await ordering.client.get("/orders")).json()["orders"][0]["number"]
    confirm = await ordering.client.post(f"/orders/{order}/confirm", headers=headers)
    assert confirm.status_code == 422
    assert await order_count(ordering) == 1


@pytest.mark.parametrize("bad", ["", "x" * 256, "naïve", "has space"])
async def test_a_malformed_key_is_a_clear_400(ordering: Ordering, bad: str) -> None:
    answer = await ordering.client.post(
        "/orders", json=ORDER, headers={b"Idempotency-Key": bad.encode()}
    )
    assert answer.status_code == 400
    assert "Idempotency-Key must be" in answer.json()["error"]["message"]
    assert await order_count(ordering) == 0


async def test_a_retried_confirm_answers_the_same_payload_not_a_conflict(
    ordering: Ordering,
) -> None:
    number = (await ordering.create())["number"]
    headers = key()
    first = await ordering.client.post(f"/orders/{number}/confirm", headers=headers)
    again = await ordering.client.post(f"/orders/{number}/confirm", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    # A new key is a new request: confirming a confirmed order is a conflict.
    other = await ordering.client.post(f"/orders/{number}/confirm", headers=key())
    assert other.status_code == 409
    # Delete likewise: the retry answers the deleted order, not "already deleted".
    headers = key()
    deleted = await ordering.client.delete(f"/orders/{number}", headers=headers)
    assert deleted.status_code == 200
    assert (await ordering.client.delete(f"/orders/{number}", headers=headers)).json() == (
        deleted.json()
    )


async def test_a_refused_write_is_not_stored_so_its_retry_runs_again(
    ordering: Ordering,
) -> None:
    number = (await ordering.create({**ORDER, "lines": []}))["number"]
    headers = key()
    refused = await ordering.client.post(f"/orders/{number}/confirm", headers=headers)
    assert refused.status_code == 409
    body = {**ORDER}
    assert (await ordering.client.put(f"/orders/{number}", json=body)).status_code == 200

    retried = await ordering.client.post(f"/orders/{number}/confirm", headers=headers)

    assert retried.status_code == 200 and retried.json()["status"] == "confirmed"


async def test_keys_expire_after_the_kept_time(ordering: Ordering) -> None:
    headers = key()
    assert (await ordering.client.post("/orders", json=ORDER, headers=headers)).status_code == 201
    async with ordering.sessions.begin() as session:
        # Older than the default 24 h: as if a day had passed.
        connection = await session.connection()
        await connection.execute(
            update(IDEMPOTENCY_KEYS).values(created_at=utcnow() - timedelta(hours=25))
        )

    again = await ordering.client.post("/orders", json=ORDER, headers=headers)

    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert await order_count(ordering) == 2
    async with ordering.read_sessions() as session:
        connection = await session.connection()
        kept = await connection.scalar(select(func.count()).select_from(IDEMPOTENCY_KEYS))
    assert kept == 1, "the expired key was removed when the new one was stored"


async def _concurrent_repeats(ordering: Ordering) -> None:
    headers = key()
    answers = await asyncio.gather(
        *(ordering.client.post("/orders", json=ORDER, headers=headers) for _ in range(20))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["number"] for a in answers}) == 1
    assert await order_count(ordering) == 1


async def test_concurrent_repeats_of_one_key_write_once_on_sqlite(ordering: Ordering) -> None:
    await _concurrent_repeats(ordering)


@pytest.mark.postgres
async def test_concurrent_repeats_of_one_key_write_once_on_postgres(
    ordering_pg: Ordering,
) -> None:
    await _concurrent_repeats(ordering_pg)


# ------------------------------------------------------------------------ real processes


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ordering.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def ordering_process(database_url: str, log: Path) -> ServiceProcess:
    env = {"ORDERING_DATABASE_URL": database_url, "SERVICE_TOKEN": TOKEN}
    return ServiceProcess(
        "ordering", "ordering_api.app:create_app", free_port(), service_env(env), log
    )


@pytest.fixture
async def ordering_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    with ordering_process(database_url, tmp_path / "ordering.log") as process:
        yield process.url


async def test_retries_after_cut_connections_make_one_order_each(ordering_url: str) -> None:
    report = await run_retried_creates(ordering_url, AUTH, rounds=100)
    assert report.ok(), report
    # Both kinds of cut happened: before the write, and after it (the retry was replayed).
    assert report.first_cut > 0 and report.replayed > 0


async def test_a_retry_after_a_restart_answers_the_first_result(
    database_url: str, tmp_path: Path
) -> None:
    create_key, confirm_key = key(), key()
    with ordering_process(database_url, tmp_path / "first.log") as first:
        async with httpx.AsyncClient(base_url=first.url, headers=AUTH) as client:
            created = await client.post("/orders", json=ORDER, headers=create_key)
            assert created.status_code == 201
            number = created.json()["number"]
            confirmed = await client.post(f"/orders/{number}/confirm", headers=confirm_key)
            assert confirmed.status_code == 200
        first.kill()  # no graceful shutdown: the keys are already in the database
    with ordering_process(database_url, tmp_path / "second.log") as second:
        async with httpx.AsyncClient(base_url=second.url, headers=AUTH) as client:
            again = await client.post("/orders", json=ORDER, headers=create_key)
            reconfirmed = await client.post(f"/orders/{number}/confirm", headers=confirm_key)
            listed = (await client.get("/orders")).json()["orders"]
    assert again.status_code == 201 and again.json() == created.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert reconfirmed.status_code == 200 and reconfirmed.json() == confirmed.json()
    assert [order["number"] for order in listed] == [number]
