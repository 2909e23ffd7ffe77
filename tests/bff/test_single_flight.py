"""One refill per key per expiry, however many readers: in one process and across replicas."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
import redis as redis_lib

from bff.cache import Codec, UpstreamCache
from tests.support.servers import RedisServer

REDIS_DB = 8  # this module's own database on the session's redis-server
IDENTITY: Codec[str] = Codec(dump=lambda v: v, load=lambda v: v)


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Yield to the event loop until `condition` holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.001)


class GatedUpstream:
    """An upstream fetch that counts its calls and answers only when the test opens the gate."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.gate = asyncio.Event()

    async def fetch(self, keys: list[str]) -> dict[str, str]:
        self.calls.append(keys)
        await self.gate.wait()
        return {k: f"value of {k}" for k in keys if k != "unknown"}


async def read(
    cache: UpstreamCache, upstream: GatedUpstream, keys: list[str]
) -> dict[str, str | None]:
    return await cache.read_through("ordering", keys, IDENTITY, upstream.fetch)


@pytest.fixture
def redis_url(redis: RedisServer) -> str:
    client = redis_lib.Redis.from_url(redis.url(REDIS_DB))
    client.flushdb()
    client.close()
    return redis.url(REDIS_DB)


async def test_concurrent_readers_of_a_cold_key_share_one_fetch() -> None:
    cache = UpstreamCache.from_url("memory://", ttl=5.0)
    upstream = GatedUpstream()
    key = cache.full_key("ordering", 0, "orders:page")

    readers = [asyncio.create_task(read(cache, upstream, ["orders:page"])) for _ in range(16)]
    await until(lambda: len(upstream.calls) == 1 and cache.flights.waiting(key) == 15)
    upstream.gate.set()
    answers = await asyncio.gather(*readers)

    assert upstream.calls == [["orders:page"]]
    assert answers == [{"orders:page": "value of orders:page"}] * 16
    # And it is cached now: no more fetches.
    assert await read(cache, upstream, ["orders:page"]) == answers[0]
    assert len(upstream.calls) == 1
    await cache.close()


async def test_a_batch_fetches_only_keys_nobody_else_is_fetching() -> None:
    cache = UpstreamCache.from_url("memory://", ttl=5.0)
    upstream = GatedUpstream()

    first = asyncio.create_task(read(cache, upstream, ["invoice:1", "invoice:2"]))
    await until(lambda: len(upstream.calls) == 1)
    second = asyncio.create_task(read(cache, upstream, ["invoice:2", "invoice:3", "unknown"]))
    await until(lambda: len(upstream.calls) == 2)
    upstream.gate.set()

    assert await first == {"invoice:1": "value of invoice:1", "invoice:2": "value of invoice:2"}
    assert await second == {
        "invoice:2": "value of invoice:2",
        "invoice:3": "value of invoice:3",
        "unknown": None,
    }
    assert upstream.calls == [["invoice:1", "invoice:2"], ["invoice:3", "unknown"]]
    await cache.close()


async def test_a_failed_fetch_fails_its_waiters_and_the_next_read_fetches_again() -> None:
    cache = UpstreamCache.from_url("memory://", ttl=5.0)
    calls = 0
    gate = asyncio.Event()

    async def failing(keys: list[str]) -> dict[str, str]:
        nonlocal calls
        calls += 1
        await gate.wait()
        raise ConnectionError("upstream down")

    key = cache.full_key("ordering", 0, "orders:page")
    readers = [
        asyncio.create_task(cache.read_through("ordering", ["orders:page"], IDENTITY, failing))
        for _ in range(4)
    ]
    await until(lambda: calls == 1 and cache.flights.waiting(key) == 3)
    gate.set()
    outcomes = await asyncio.gather(*readers, return_exceptions=True)

    assert calls == 1
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    upstream = GatedUpstream()
    upstream.gate.set()
    assert await read(cache, upstream, ["orders:page"]) == {"orders:page": "value of orders:page"}
    await cache.close()


async def test_a_write_is_never_joined_to_a_fetch_started_before_it() -> None:
    cache = UpstreamCache.from_url("memory://", ttl=5.0)
    before, after = GatedUpstream(), GatedUpstream()

    stale = asyncio.create_task(read(cache, before, ["orders:page"]))
    await until(lambda: len(before.calls) == 1)
    await cache.invalidate("ordering")  # a write through the BFF
    fresh = asyncio.create_task(read(cache, after, ["orders:page"]))
    await until(lambda: len(after.calls) == 1)  # its own fetch, not the old one's
    before.gate.set()
    after.gate.set()
    await asyncio.gather(stale, fresh)
    assert len(before.calls) == len(after.calls) == 1
    await cache.close()


@pytest.mark.redis
async def test_replicas_sharing_redis_refill_a_key_once(redis_url: str) -> None:
    replica_a = UpstreamCache.from_url(redis_url, ttl=5.0)
    replica_b = UpstreamCache.from_url(redis_url, ttl=5.0)
    upstream = GatedUpstream()

    in_a = [asyncio.create_task(read(replica_a, upstream, ["orders:page"])) for _ in range(4)]
    await until(lambda: len(upstream.calls) == 1)
    in_b = [asyncio.create_task(read(replica_b, upstream, ["orders:page"])) for _ in range(4)]
    # B's first reader finds A's fill lock and waits for the entry; the others join it.
    await until(lambda: replica_b.waiting_for_replicas == 1)
    upstream.gate.set()
    answers = await asyncio.gather(*in_a, *in_b)

    assert upstream.calls == [["orders:page"]]
    assert answers == [{"orders:page": "value of orders:page"}] * 8
    await replica_a.close()
    await replica_b.close()


@pytest.mark.redis
async def test_a_replica_waiting_for_an_absence_that_is_never_stored_fetches_it_itself(
    redis_url: str,
) -> None:
    """With `absent_ttl` 0 an absence is not cached, so the entry a waiting replica polls for
    never appears: it stops waiting once the filler's lock is gone, not at the lock's expiry."""
    replica_a = UpstreamCache.from_url(redis_url, ttl=5.0, absent_ttl=0)
    replica_b = UpstreamCache.from_url(redis_url, ttl=5.0, absent_ttl=0)
    upstream = GatedUpstream()

    def brief(cache: UpstreamCache) -> asyncio.Task[dict[str, str | None]]:
        reading = cache.read_through("ordering", ["unknown"], IDENTITY, upstream.fetch, True)
        return asyncio.create_task(reading)

    in_a = brief(replica_a)
    await until(lambda: len(upstream.calls) == 1)
    in_b = brief(replica_b)
    await until(lambda: replica_b.waiting_for_replicas == 1)
    upstream.gate.set()
    assert await in_a == {"unknown": None}
    # Well within the fill lock's 5 s expiry: B asked the upstream itself once A was done.
    await until(lambda: len(upstream.calls) == 2, within=2.0)
    assert await in_b == {"unknown": None}
    assert replica_b.waiting_for_replicas == 0
    await replica_a.close()
    await replica_b.close()
