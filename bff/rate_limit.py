"""Per-client request rates and requests in flight on /graphql.

Rates use the `limits` library.

Counted in this process's memory, or in Redis when the BFF's cache is Redis, so replicas share
one budget per client. A client over its rate gets 429 with `Retry-After` and a GraphQL-shaped
error body, before its request is read or parsed. A client is its IP address: the connection's
peer, or the address a trusted proxy put last in `X-Forwarded-For`. If the counter store fails,
requests are let through (and the failure logged): losing the limiter must not take the API down.

Beside the rate, each client has at most `in_flight` requests being worked on at once (in this
process); more wait their turn, up to `queue_seconds`, then get 429. A burst from one client
thus never fills the event loop: it queues behind itself while everyone else is served.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bff.graphql_http import error_response

logger = logging.getLogger("bff.rate_limit")

LIMITED_PATHS = frozenset({"/graphql"})


@dataclass(frozen=True)
class RatePolicy:
    limits: Sequence[RateLimitItem]
    trusted_proxies: frozenset[str]
    in_flight: int = 0  # 0: no per-client cap on requests in flight
    queue_seconds: float = 10.0

    @classmethod
    def parse(
        cls, limits: str, trusted_proxies: str, in_flight: int = 0, queue_seconds: float = 10.0
    ) -> RatePolicy:
        return cls(
            limits=parse_many(limits) if limits.strip() else [],
            trusted_proxies=frozenset(p.strip() for p in trusted_proxies.split(",") if p.strip()),
            in_flight=in_flight,
            queue_seconds=queue_seconds,
        )


class ClientSlots:
    """At most `per_client` requests in flight per client; an entry lives while it is used."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def slot(self, client: str, wait: float) -> AsyncIterator[bool]:
        """Yields whether a slot was had within `wait` seconds."""
        semaphore, users = self._slots.get(client, (asyncio.Semaphore(self.per_client), 0))
        self._slots[client] = (semaphore, users + 1)
        acquired = False
        try:
            with suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await semaphore.acquire()
                    acquired = True
            yield acquired
        finally:
            if acquired:
                semaphore.release()
            semaphore, users = self._slots[client]
            if users == 1:
                del self._slots[client]
            else:
                self._slots[client] = (semaphore, users - 1)


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


def too_many(message: str, retry_after: int) -> Response:
    response = error_response(429, message)
    response.headers["retry-after"] = str(retry_after)
    return response


class RateLimit:
    def __init__(self, app: ASGIApp, policy: RatePolicy, storage: Storage) -> None:
        self.app = app
        self.policy = policy
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self.slots = ClientSlots(policy.in_flight) if policy.in_flight else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] not in LIMITED_PATHS
            or scope["method"] not in ("GET", "POST")
        ):
            await self.app(scope, receive, send)
            return
        client = client_key(scope, self.policy.trusted_proxies)
        retry_after = await self.over_limit(client) if self.policy.limits else None
        if retry_after is not None:
            await too_many(
                f"Too many requests from this client; try again in {retry_after} s.", retry_after
            )(scope, receive, send)
            return
        if self.slots is None:
            await self.app(scope, receive, send)
            return
        async with self.slots.slot(client, self.policy.queue_seconds) as admitted:
            if admitted:
                await self.app(scope, receive, send)
                return
        message = "Too many requests from this client are in progress; try again shortly."
        await too_many(message, 1)(scope, receive, send)

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
