"""Concurrent assigners: two ordering replicas (real uvicorn processes) on one database, each
with a scheduled assigner running every 10 ms and another before every feed answer, while
clerks write through both and a reader follows the feed through both.

Checked throughout: positions within a page ascend and lie above the reader's token; no
position is ever handed out twice; an order's version never goes back in the reader's copy;
and (by re-reading the whole feed from 0 now and then) no position at or below a token the
reader already held ever shows up later. At the end the reader's copy equals the owner's state.
On SQLite the replicas share one file and BEGIN IMMEDIATE serializes them; on PostgreSQL the
counter row's lock does.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ordering_api.conftest import AUTH, ORDER, TOKEN
from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port

CLERKS, ORDERS_PER_CLERK = 4, 20


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'ordering.db'}"


@pytest.fixture
def replicas(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    env = service_env(
        {
            "ORDERING_DATABASE_URL": database_url,
            "ORDERING_ASSIGN_INTERVAL": "0.01",
            "SERVICE_TOKEN": TOKEN,
        }
    )
    processes = [
        ServiceProcess(
            f"ordering-{i}",
            "ordering_api.app:create_app",
            free_port(),
            env,
            tmp_path / f"ordering-{i}.log",
        )
        for i in range(2)
    ]
    try:
        # Both at once: schema creation must be serialized between replicas (an advisory lock on
        # PostgreSQL), or the second CREATE TABLE fails and that replica never comes up.
        for process in processes:
            process.start()
        for process in processes:
            process.wait_healthy()
        yield [process.url for process in processes]
    finally:
        for process in processes:
            process.stop()


@dataclass
class Follower:
    """A feed client that checks the guarantees on everything it reads."""

    token: int = 0
    copy: dict[int, dict[str, Any]] = field(default_factory=dict)
    seen: dict[int, tuple[int, int]] = field(default_factory=dict)  # position -> (number, version)

    def apply(self, page: dict[str, Any]) -> None:
        positions = [order["change_seq"] for order in page["orders"]]
        assert positions == sorted(set(positions)), f"not ascending: {positions}"
        assert all(position > self.token for position in positions)
        for order in page["orders"]:
            position = order["change_seq"]
            assert position not in self.seen, f"position {position} handed out twice"
            self.seen[position] = (order["number"], order["row_version"])
            previous = self.copy.get(order["number"])
            assert previous is None or previous["row_version"] < order["row_version"]
            self.copy[order["number"]] = order
        self.token = page["next_since"]

    def audit(self, everything: list[dict[str, Any]], held_token: int) -> None:
        """A full read taken after the reader held `held_token`: nothing at or below it may
        be news, and every position maps to what the reader saw there."""
        positions = [order["change_seq"] for order in everything]
        assert len(positions) == len(set(positions)), "a position handed out twice"
        for order in everything:
            position = order["change_seq"]
            if position <= held_token:
                assert self.seen.get(position) == (order["number"], order["row_version"]), (
                    f"position {position} (order {order['number']}) appeared at or below "
                    f"token {held_token} after the reader had passed it: a lost change"
                )


async def read_all(client: httpx.AsyncClient, since: int = 0) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    while True:
        page = (await client.get("/orders/changes", params={"since": since, "limit": 50})).json()
        orders += page["orders"]
        since = page["next_since"]
        if not page["has_more"]:
            return orders


async def test_concurrent_assigners_never_lose_or_reissue_a_position(
    replicas: list[str],
) -> None:
    clients = [httpx.AsyncClient(base_url=url, headers=AUTH, timeout=30) for url in replicas]
    rng = random.Random(7)
    published: set[int] = set()
    created: list[int] = []
    writing = True
    follower = Follower()
    audits = 0

    async def clerk(seed: int) -> None:
        clerk_rng = random.Random(seed)
        for _ in range(ORDERS_PER_CLERK):
            client = clerk_rng.choice(clients)
            number = (await client.post("/orders", json=ORDER)).json()["number"]
            created.append(number)
            roll = clerk_rng.random()
            if roll < 0.75:
                confirmed = await clerk_rng.choice(clients).post(f"/orders/{number}/confirm")
                assert confirmed.status_code == 200
                published.add(number)
                if clerk_rng.random() < 0.4:
                    deleted = await clerk_rng.choice(clients).delete(f"/orders/{number}")
                    assert deleted.status_code == 200
            elif roll < 0.85:
                await clerk_rng.choice(clients).delete(f"/orders/{number}")

    async def reader() -> None:
        nonlocal audits
        while True:
            was_writing = writing
            client = rng.choice(clients)
            response = await client.get(
                "/orders/changes", params={"since": follower.token, "limit": 7}
            )
            assert response.status_code == 200, f"feed failed: {response.text}"
            page = response.json()
            follower.apply(page)
            if rng.random() < 0.2:
                held = follower.token
                follower.audit(await read_all(rng.choice(clients)), held)
                audits += 1
            if not was_writing and not page["has_more"]:
                return
            await asyncio.sleep(0)

    try:
        reading = asyncio.create_task(reader())
        await asyncio.gather(*(clerk(seed) for seed in range(CLERKS)))
        writing = False
        await reading
        # One more read through the other replica: nothing left for the reader.
        for client in clients:
            tail = (await client.get("/orders/changes", params={"since": follower.token})).json()
            assert tail["orders"] == []
        follower.audit(await read_all(clients[0]), follower.token)

        owner: dict[int, dict[str, Any]] = {}
        for start in range(0, len(created), 100):
            batch: list[tuple[str, str | int | float | bool | None]] = [
                ("number", n) for n in created[start : start + 100]
            ]
            for order in (await clients[1].get("/orders", params=batch)).json()["orders"]:
                owner[order["number"]] = order
        owner_published = {n: o for n, o in owner.items() if n in published}
        assert set(follower.copy) == set(owner_published)
        for number, order in owner_published.items():
            mine = follower.copy[number]
            assert (mine["row_version"], mine["status"]) == (order["row_version"], order["status"])
        assert audits > 0
        assert len(follower.seen) >= len(published)
    finally:
        for client in clients:
            await client.aclose()
