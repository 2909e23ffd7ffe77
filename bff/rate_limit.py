"""Per-client request rates on /graphql, with the `limits` library.

Counted in this process's memory, or in Redis when the BFF's cache is Redis, so replicas share
one budget per client. A client over its rate gets 429 with `Retry-After` and a GraphQL-shaped
error body, before its request is read or parsed. A client is its IP address: the connection's
peer, or the address a trusted proxy put last in `X-Forwarded-For`. If the counter store fails,
requests are let through (and the failure logged): losing the limiter must not take the API down.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from bff.graphql_http import error_response

logger = logging.getLogger("bff.rate_limit")

LIMITED_PATHS = frozenset({"/graphql"})


@dataclass(frozen=True)
class RatePolicy:
    limits: Sequence[RateLimitItem]
    trusted_proxies: frozenset[str]

    @classmethod
    def parse(cls, limits: str, trusted_proxies: str) -> RatePolicy:
        return cls(
            limits=parse_many(limits) if limits.strip() else [],
            trusted_proxies=frozenset(p.strip() for p in trusted_proxies.split(",") if p.strip()),
        )


def make_storage(cache_url: str) -> Storage:
    if cache_url.startswith("redis://"):
        # redis-py is already a dependency (aiocache); no second Redis client library.
        return RedisStorage(f"async+{cache_url}", implementation="redispy", key_prefix="bff-rate")
    return MemoryStorage()


def client_key(scope: Scope, trusted_proxies: frozenset[str]) -> str:
    peer = scope.get("client")
    address = peer[0] if peer else "unknown"
    if address in trusted_proxies:
        forwarded = Headers(scope=scope).get("x-forwarded-for", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        # The last hop a trusted proxy did not add itself is the client.
        while hops and hops[-1] in trusted_proxies:
            hops.pop()
        if hops:
            address = hops[-1]
    return address


class RateLimit:
    def __init__(self, app: ASGIApp, policy: RatePolicy, storage: Storage) -> None:
        self.app = app
        self.policy = policy
        self.limiter = SlidingWindowCounterRateLimiter(storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] not in LIMITED_PATHS
            or not self.policy.limits
            or scope["method"] not in ("GET", "POST")
        ):
            await self.app(scope, receive, send)
            return
        retry_after = await self.over_limit(client_key(scope, self.policy.trusted_proxies))
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        response = error_response(
            429, f"Too many requests from this client; try again in {retry_after} s."
        )
        response.headers["retry-after"] = str(retry_after)
        await response(scope, receive, send)

    async def over_limit(self, client: str) -> int | None:
        """None when the request may go; else whole seconds until it may."""
        try:
            for item in self.policy.limits:
                if not await self.limiter.hit(item, "graphql", client):
                    stats = await self.limiter.get_window_stats(item, "graphql", client)
                    return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception:  # the store is down: let traffic through rather than refuse it all
            logger.warning("rate limit store failed; request let through", exc_info=True)
        return None
