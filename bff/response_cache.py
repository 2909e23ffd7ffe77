"""Whole-response cache for GraphQL reads (only when the upstream cache is on).

With the upstream cache warm, a request still cost the BFF 16 ms of CPU against 22 ms with the
cache off (py-spy: GraphQL execution of ~400 fields, strawberry's view, re-validating cached
records), so the cache barely paid. Most reads are the same few documents with the same
variables, so their whole answer is cached too.

The key is the request as sent (method, query string, Accept, Content-Type, body) together
with both upstreams' cache *generations*: a write through the BFF bumps a generation, so no
answer cached before a write is served after it, on any replica sharing the Redis. An answer
is kept only if it is a 200 JSON answer without errors and every upstream read behind it went
through the cache (`Freshness`: sync status and writes are never cached), and only until the
first of the data in it expires, so nothing is served older than `BFF_CACHE_TTL` (a
confirmed order's missing invoice: `BFF_CACHE_ABSENT_TTL`).

Every signed-in user sees the same data through this BFF (there is no per-user view), but
what a request may do depends on its roles: authentication runs before this cache
(bff/authentication.py, app-wide middleware), a request without a signed-in user is never
answered from it, and the key holds the user's *role set*, so an answer is only ever served to
someone holding exactly the roles of the request that produced it (an answer with a
permission error is not stored anyway: it has errors). Were a per-user view added, the user
would have to be part of the key.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bff.authentication import principal_of
from bff.cache import Freshness, UpstreamCache, current_freshness
from bff.metrics import BffMetrics

logger = logging.getLogger("bff.cache")

_CACHEABLE_TYPES = (b"application/json", b"application/graphql-response+json")
# Not worth a cache write for less than this much life left.
_MIN_TTL = 0.05


def _request_digest(scope: Scope, body: bytes) -> str:
    headers = Headers(scope=scope)
    digest = hashlib.sha256()
    for part in (
        scope["method"].encode(),
        scope.get("query_string", b""),
        headers.get("accept", "").encode(),
        headers.get("content-type", "").encode(),
        body,
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class ResponseCache:
    """ASGI middleware in front of the GraphQL endpoint; `cache_of(scope)` finds the cache."""

    def __init__(
        self,
        app: ASGIApp,
        upstreams: tuple[str, ...],
        state_key: str,
        metrics: BffMetrics | None = None,
    ) -> None:
        self.app = app
        self.upstreams = upstreams
        self.state_key = state_key
        self.metrics = metrics

    def _cache(self, scope: Scope) -> UpstreamCache | None:
        state = scope.get("state") or {}
        holder = state.get(self.state_key)
        cache: UpstreamCache | None = getattr(holder, "cache", None)
        return cache if cache is not None and cache.enabled else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = self._cache(scope) if scope["type"] == "http" else None
        principal = principal_of(scope)
        if cache is None or principal is None or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        replay = _replaying(body, receive)
        generations = await cache.generations(self.upstreams)
        if generations is None:
            await self.app(scope, replay, send)
            return
        key = ":".join(
            [
                f"{cache.prefix}:response",
                *(f"g{g}" for g in generations),
                "r" + "+".join(sorted(role.value for role in principal.roles)),
                _request_digest(scope, body),
            ]
        )
        stored = await _get(cache, key)
        if self.metrics is not None:
            self.metrics.observe_response_cache(hit=stored is not None)
        if stored is not None:
            await _send_stored(stored, send)
            return

        freshness = Freshness()
        status = 0
        content_type = b""
        chunks: list[bytes] = []

        async def capturing_send(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        content_type = value
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        token = current_freshness.set(freshness)
        try:
            await self.app(scope, replay, capturing_send)
        finally:
            current_freshness.reset(token)
        answer = b"".join(chunks)
        if (
            status == 200
            and freshness.cacheable
            and freshness.expires is not None
            and content_type.split(b";")[0].strip() in _CACHEABLE_TYPES
            and b'"errors":' not in answer
        ):
            ttl = freshness.expires - time.time()
            if ttl >= _MIN_TTL:
                await _put(cache, key, {"ct": content_type.decode(), "b": answer.decode()}, ttl)


async def _read_body(receive: Receive) -> bytes:
    # The body-size limit middleware sits outside this one and bounds what is read here.
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _get(cache: UpstreamCache, key: str) -> dict[str, Any] | None:
    try:
        stored: dict[str, Any] | None = await cache.backend.get(key)
    except Exception:
        logger.warning("response cache read failed", exc_info=True)
        return None
    return stored


async def _put(cache: UpstreamCache, key: str, value: dict[str, Any], ttl: float) -> None:
    try:
        await cache.backend.set(key, value, ttl=ttl)
    except Exception:
        logger.warning("response cache write failed", exc_info=True)


async def _send_stored(stored: dict[str, Any], send: Send) -> None:
    body = stored["b"].encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", stored["ct"].encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
