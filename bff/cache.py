"""A short-lived read-through cache of upstream JSON (aiocache: memory, or Redis for replicas).

Keys are namespaced per upstream and carry that upstream's *generation*; any write through the
BFF bumps the generation, so every entry cached before the write is unreachable from then on.
This keeps "a client never reads its own write stale" true without tracking which list pages
held the changed record, and without a race: a read that fetched old data before the write
stores it under the old generation, where nobody looks again. With Redis the generation lives
in Redis, so the guarantee holds across BFF replicas too.

Refills are single-flight: while one caller fetches a key, every other caller of that key in
this process awaits the same fetch, and callers in other replicas (sharing a Redis) wait for
its entry to appear instead of fetching too (a short lock per fill, taken with SET NX). So one
expiry costs one upstream call per key, however many clients read at that moment.

Every read also tells the request's `Freshness` (if any) until when the data it served may live,
so a whole-response cache keeps an answer only as long as its shortest-lived part.

An absence that can end without a write through this BFF (a confirmed order's invoice, which
billing creates on its own) is cached for `absent_ttl` only, a fraction of a second: short enough
that nobody acts on the stale "no invoice yet" (the screen that shows it polls anyway), long
enough that a busy page costs one upstream call per `absent_ttl` instead of one per request.

The cache is an optimisation, never a dependency: when the backend fails, reads fall through to
the upstream and the failure is logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiocache import Cache
from aiocache.base import BaseCache
from aiocache.serializers import JsonSerializer

from bff.metrics import BffMetrics

logger = logging.getLogger("bff.cache")

# Bound how long a slow cache can delay a request before we fall through to the upstream.
CACHE_OPERATION_TIMEOUT = 1.0
# How long another replica's fill may hold a key before we stop waiting and fetch ourselves.
FILL_LOCK_SECONDS = 5.0
FILL_POLL_SECONDS = 0.01

ValueT = TypeVar("ValueT")


def _as_int(value: object) -> int:
    # Memory keeps INCR results as ints, Redis hands them back as decimal strings.
    return 0 if value is None else int(value)  # type: ignore[call-overload]


@dataclass
class Freshness:
    """What one GraphQL request read: may its answer be cached, and since when is it fresh?"""

    cacheable: bool = True
    expires: float | None = None  # time.time() at which the first of the data it used expires

    def saw(self, fetched_at: float, lifetime: float) -> None:
        ends = fetched_at + lifetime
        if self.expires is None or ends < self.expires:
            self.expires = ends

    def uncacheable(self) -> None:
        self.cacheable = False


# Set by the response cache around one request's execution; the DataLoaders' batch tasks copy
# the context when they are created, so they report into the same object.
current_freshness: ContextVar[Freshness | None] = ContextVar("bff_freshness", default=None)


def mark_uncacheable() -> None:
    """The running request read something that must not be served from a response cache."""
    freshness = current_freshness.get()
    if freshness is not None:
        freshness.uncacheable()


@dataclass(frozen=True)
class Codec(Generic[ValueT]):
    """How values of one kind go into the cache (JSON) and come back out."""

    dump: Callable[[ValueT], Any]
    load: Callable[[Any], ValueT]


class SingleFlight:
    """One fetch per key at a time in this process; other callers of that key await it."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._waiters: dict[str, int] = {}

    def waiting(self, key: str) -> int:
        """How many callers are awaiting another caller's fetch of `key` right now."""
        return self._waiters.get(key, 0)

    async def run(
        self, keys: Sequence[str], fetch: Callable[[list[str]], Awaitable[Mapping[str, Any]]]
    ) -> dict[str, Any]:
        """Values by key (a key `fetch` did not return is absent)."""
        waiting = {k: self._inflight[k] for k in keys if k in self._inflight}
        mine = [k for k in dict.fromkeys(keys) if k not in waiting]
        loop = asyncio.get_running_loop()
        futures: dict[str, asyncio.Future[Any]] = {}
        for key in mine:
            future = loop.create_future()
            # Nobody may be waiting: retrieve the outcome so asyncio does not log it as lost.
            future.add_done_callback(lambda f: f.cancelled() or f.exception())
            futures[key] = self._inflight[key] = future
        results: dict[str, Any] = {}
        try:
            if mine:
                results.update(await fetch(mine))
        except BaseException as exc:
            for future in futures.values():
                if not future.done():
                    future.set_exception(exc)
            raise
        else:
            for key, future in futures.items():
                future.set_result(results.get(key, _ABSENT))
        finally:
            for key, future in futures.items():
                if self._inflight.get(key) is future:
                    del self._inflight[key]
        for key, future in waiting.items():
            self._waiters[key] = self._waiters.get(key, 0) + 1
            try:
                value = await asyncio.shield(future)
            finally:
                self._waiters[key] -= 1
                if not self._waiters[key]:
                    del self._waiters[key]
            if value is not _ABSENT:
                results[key] = value
        return results


_ABSENT = object()


class UpstreamCache:
    def __init__(
        self, backend: BaseCache, ttl: float, prefix: str = "bff", absent_ttl: float = 0.5
    ) -> None:
        self._backend = backend
        self._ttl = ttl
        # Never longer than the TTL; 0: such absences are not cached at all.
        self._absent_ttl = min(absent_ttl, ttl)
        self._prefix = prefix
        self._flights = SingleFlight()
        # Callers now waiting for another replica's fill (observable for tests and metrics).
        self.waiting_for_replicas = 0
        # Counts hits and misses per key when set (the app sets it; tests may not).
        self.metrics: BffMetrics | None = None

    @classmethod
    def from_url(
        cls, url: str, ttl: float, prefix: str = "bff", absent_ttl: float = 0.5
    ) -> UpstreamCache:
        backend = Cache.from_url(url)
        backend.serializer = JsonSerializer()
        backend.timeout = CACHE_OPERATION_TIMEOUT
        return cls(backend, ttl, prefix, absent_ttl)

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    @property
    def ttl(self) -> float:
        return self._ttl

    @property
    def flights(self) -> SingleFlight:
        return self._flights

    def full_key(self, upstream: str, generation: int, key: str) -> str:
        return self._key(upstream, generation, key)

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def backend(self) -> BaseCache:
        return self._backend

    def _generation_key(self, upstream: str) -> str:
        return f"{self._prefix}:{upstream}:generation"

    def _key(self, upstream: str, generation: int, key: str) -> str:
        return f"{self._prefix}:{upstream}:g{generation}:{key}"

    async def generation(self, upstream: str) -> int | None:
        """The upstream's current generation; None when the cache cannot be used right now."""
        if not self.enabled:
            return None
        try:
            return _as_int(
                await self._backend.get(self._generation_key(upstream), loads_fn=lambda v: v)
            )
        except Exception:
            logger.warning("cache unavailable, reading %s directly", upstream, exc_info=True)
            return None

    async def generations(self, upstreams: Sequence[str]) -> list[int] | None:
        """Several generations in one backend call; None when the cache cannot be used."""
        if not self.enabled:
            return None
        try:
            values = await self._backend.multi_get(
                [self._generation_key(u) for u in upstreams], loads_fn=lambda v: v
            )
        except Exception:
            logger.warning("cache unavailable", exc_info=True)
            return None
        return [_as_int(v) for v in values]

    async def _read(self, full_keys: Sequence[str]) -> list[Any]:
        try:
            return list(await self._backend.multi_get(list(full_keys)))
        except Exception:
            logger.warning("cache read failed", exc_info=True)
            return [None] * len(full_keys)

    async def read_through(
        self,
        upstream: str,
        keys: Sequence[str],
        codec: Codec[ValueT],
        fetch: Callable[[list[str]], Awaitable[Mapping[str, ValueT | None]]],
        brief_absence: bool = False,
    ) -> dict[str, ValueT | None]:
        """Values by key: cached ones, the rest from one single-flight `fetch` of the missing.

        `fetch` answers None (or leaves out) a key the upstream does not know; that absence is
        cached too, for the cache's TTL, or only for `absent_ttl` with `brief_absence` (it can
        end without a write through this BFF: billing creates an invoice on its own, and a
        TTL's worth of "not there" would hide the new record).
        """
        absent_ttl = self._absent_ttl if brief_absence else None
        freshness = current_freshness.get()
        generation = await self.generation(upstream)
        if generation is None:
            if freshness is not None:
                freshness.uncacheable()
            fetched = await fetch(list(keys))
            return {k: fetched.get(k) for k in keys}
        full = {k: self._key(upstream, generation, k) for k in dict.fromkeys(keys)}
        found: dict[str, ValueT | None] = {}
        for key, entry in zip(full, await self._read(list(full.values())), strict=True):
            if entry is not None:
                found[key] = None if entry["v"] is None else codec.load(entry["v"])
                if freshness is not None:
                    freshness.saw(entry["t"], entry.get("l", self._ttl))
        missing = [k for k in full if k not in found]
        if self.metrics is not None:
            self.metrics.observe_cache(upstream, len(found), len(missing))
        if missing:
            fetched_at = time.time()

            async def fill(wanted: list[str]) -> dict[str, Any]:
                by_full = {full[k]: k for k in missing}
                values = await self._fill(
                    upstream,
                    [by_full[w] for w in wanted],
                    lambda ks: fetch(ks),
                    codec,
                    generation,
                    absent_ttl,
                )
                return {full[k]: v for k, v in values.items()}

            flown = await self._flights.run([full[k] for k in missing], fill)
            for key in missing:
                found[key] = flown.get(full[key])
            if freshness is not None:
                absent = any(found[key] is None for key in missing)
                lifetime = self._ttl if absent_ttl is None or not absent else absent_ttl
                if lifetime > 0:
                    freshness.saw(fetched_at, lifetime)
                else:
                    freshness.uncacheable()
        return found

    async def _fill(
        self,
        upstream: str,
        keys: list[str],
        fetch: Callable[[list[str]], Awaitable[Mapping[str, ValueT | None]]],
        codec: Codec[ValueT],
        generation: int,
        absent_ttl: float | None = None,
    ) -> dict[str, ValueT | None]:
        """Fetch `keys` and store them, unless another replica is filling the same keys: then
        wait for its entries (up to FILL_LOCK_SECONDS), and fetch only what never appeared."""
        full = [self._key(upstream, generation, k) for k in keys]
        digest = hashlib.sha1("\n".join(full).encode()).hexdigest()
        lock = f"{self._prefix}:{upstream}:fill:{digest}"
        if not await self._try_lock(lock):
            waited = await self._await_fill(full, codec, lock)
            if waited is not None:
                return dict(zip(keys, waited, strict=True))
        try:
            fetched = await fetch(keys)
            values = {k: fetched.get(k) for k in keys}
            now = time.time()
            lasting: list[tuple[str, Any]] = []  # for the TTL
            brief: list[tuple[str, Any]] = []  # absences, for absent_ttl ("l" says so)
            for f, v in zip(full, values.values(), strict=True):
                if v is not None:
                    lasting.append((f, {"v": codec.dump(v), "t": now}))
                elif absent_ttl is None:
                    lasting.append((f, {"v": None, "t": now}))
                elif absent_ttl > 0:
                    brief.append((f, {"v": None, "t": now, "l": absent_ttl}))
            await self._write(lasting)
            if brief:
                await self._write(brief, absent_ttl)
            return values
        finally:
            await self._unlock(lock)

    async def _try_lock(self, lock: str) -> bool:
        try:
            await self._backend.add(lock, 1, ttl=FILL_LOCK_SECONDS)
        except ValueError:  # aiocache: the key exists, someone else is filling
            return False
        except Exception:
            logger.warning("cache lock failed", exc_info=True)
        return True

    async def _locked(self, lock: str) -> bool:
        try:
            return bool(await self._backend.exists(lock))
        except Exception:
            logger.warning("cache lock check failed", exc_info=True)
            return False

    async def _unlock(self, lock: str) -> None:
        try:
            await self._backend.delete(lock)
        except Exception:
            logger.warning("cache unlock failed", exc_info=True)

    async def _await_fill(
        self, full: list[str], codec: Codec[ValueT], lock: str
    ) -> list[ValueT | None] | None:
        """The entries another replica is filling, once they are all there; None when its lock
        is gone without them (it failed, or stored no absence: `absent_ttl` 0) or expired."""
        # Polling the entries (every 10 ms) keeps this to plain GET/SET, which every aiocache
        # backend has; the wait is bounded by the lock's own expiry.
        deadline = time.monotonic() + FILL_LOCK_SECONDS
        self.waiting_for_replicas += 1
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(FILL_POLL_SECONDS)
                entries = await self._read(full)
                if all(e is not None for e in entries):
                    return [None if e["v"] is None else codec.load(e["v"]) for e in entries]
                if not await self._locked(lock):
                    return None
            return None
        finally:
            self.waiting_for_replicas -= 1

    async def _write(self, pairs: list[tuple[str, Any]], ttl: float | None = None) -> None:
        if not pairs:
            return
        try:
            await self._backend.multi_set(pairs, ttl=ttl or self._ttl)
        except Exception:
            logger.warning("cache write failed", exc_info=True)

    async def invalidate(self, *upstreams: str) -> None:
        """Make everything cached for these upstreams unreachable (call after a write)."""
        mark_uncacheable()
        if not self.enabled:
            return
        for upstream in upstreams:
            try:
                await self._backend.increment(self._generation_key(upstream))
            except Exception:
                logger.error("cache invalidation failed for %s", upstream, exc_info=True)

    async def close(self) -> None:
        await self._backend.close()
