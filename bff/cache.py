"""A short-lived read-through cache of upstream JSON (aiocache: memory, or Redis for replicas).

Keys are namespaced per upstream and carry that upstream's *generation*; any write through the
BFF bumps the generation, so every entry cached before the write is unreachable from then on.
This keeps "a client never reads its own write stale" true without tracking which list pages
held the changed record, and without a race: a read that fetched old data before the write
stores it under the old generation, where nobody looks again. With Redis the generation lives
in Redis, so the guarantee holds across BFF replicas too.

The cache is an optimisation, never a dependency: when the backend fails, reads fall through to
the upstream and the failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from aiocache import Cache
from aiocache.base import BaseCache
from aiocache.serializers import JsonSerializer

logger = logging.getLogger("bff.cache")

# Bound how long a slow cache can delay a request before we fall through to the upstream.
CACHE_OPERATION_TIMEOUT = 1.0


def _as_int(value: object) -> int:
    # Memory keeps INCR results as ints, Redis hands them back as decimal strings.
    return 0 if value is None else int(value)  # type: ignore[call-overload]


class UpstreamCache:
    def __init__(self, backend: BaseCache, ttl: float, prefix: str = "bff") -> None:
        self._backend = backend
        self._ttl = ttl
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, ttl: float, prefix: str = "bff") -> UpstreamCache:
        backend = Cache.from_url(url)
        backend.serializer = JsonSerializer()
        backend.timeout = CACHE_OPERATION_TIMEOUT
        return cls(backend, ttl, prefix)

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

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

    async def get_many(
        self, upstream: str, generation: int | None, keys: Iterable[str]
    ) -> dict[str, Any]:
        """Cached values by key; a key that is not cached is absent (a cached None is present)."""
        keys = list(keys)
        if generation is None or not keys:
            return {}
        try:
            values = await self._backend.multi_get(
                [self._key(upstream, generation, key) for key in keys]
            )
        except Exception:
            logger.warning("cache read failed for %s", upstream, exc_info=True)
            return {}
        # Entries are stored wrapped ({"v": ...}) so that "known to be absent" can be cached.
        return {
            key: value["v"] for key, value in zip(keys, values, strict=True) if value is not None
        }

    async def set_many(
        self, upstream: str, generation: int | None, items: Mapping[str, Any]
    ) -> None:
        if generation is None or not items:
            return
        pairs = [(self._key(upstream, generation, key), {"v": v}) for key, v in items.items()]
        try:
            await self._backend.multi_set(pairs, ttl=self._ttl)
        except Exception:
            logger.warning("cache write failed for %s", upstream, exc_info=True)

    async def invalidate(self, *upstreams: str) -> None:
        """Make everything cached for these upstreams unreachable (call after a write)."""
        if not self.enabled:
            return
        for upstream in upstreams:
            try:
                await self._backend.increment(self._generation_key(upstream))
            except Exception:
                logger.error("cache invalidation failed for %s", upstream, exc_info=True)

    async def close(self) -> None:
        await self._backend.close()
