"""`Idempotency-Key`: a write retried with the same key answers the first result, once.

A client (the BFF, on behalf of one form submission) sends `Idempotency-Key: <key>` with a
write. The first request with that key runs the write and stores its answer (status, body,
Location) in the same transaction (service_db.idempotency). A repeat with the same key and the
same request (method, path and body) answers the stored result without writing again, with
`Idempotent-Replayed: true`; the same key with another request is a 422. Only successful
answers are stored: a refused write (404, 409, 422...) changed nothing, so a retry runs again.
Keys are kept for the service's `idempotency_key_ttl` seconds, in its database, so they survive
a restart and are shared by its replicas.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import Table
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from service_db.engine import Sessions
from service_db.idempotency import (
    MAX_KEY_LENGTH,
    StoredAnswer,
    forget_expired,
    record_answer,
    stored_answer,
)
from service_db.types import utcnow
from service_http.errors import ApiError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

# A write's database part; it returns how to shape the answer. Without a key the answer is
# shaped after the commit (the write lock, all of SQLite, is not held while JSON is built);
# with one it is shaped inside, to be stored with the write.
Shape = Callable[[], Response]
Write = Callable[[AsyncSession], Awaitable[Shape]]


class _KeyTaken(Exception):
    """A concurrent request with the same key committed first."""


def request_key(request: Request) -> str | None:
    """The request's key, or None; a malformed one is a 400."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in key):
        raise ApiError(
            400,
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters "
            "(a UUID is a good choice).",
        )
    return key


async def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(await request.body())
    return digest.hexdigest()


class Idempotency:
    """One service's keys: its table and how long they are kept."""

    def __init__(self, table: Table, keep_seconds: float) -> None:
        self.table = table
        self.keep = timedelta(seconds=keep_seconds)

    async def run(
        self,
        request: Request,
        sessions: Sessions,
        read_sessions: Sessions,
        write: Write,
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> Response:
        """Run `write` in a transaction of `sessions`, exactly once per key.

        `prepare` runs before the write, unless the answer is replayed (billing's approval
        brings its copy of the order up to date there).
        """
        key = request_key(request)
        if key is None:
            if prepare is not None:
                await prepare()
            async with sessions.begin() as session:
                shape = await write(session)
            return shape()
        fingerprint = await _fingerprint(request)
        replay = await self._replay(read_sessions, key, fingerprint)
        if replay is not None:
            return replay
        if prepare is not None:
            await prepare()
        try:
            async with sessions.begin() as session:
                connection = await session.connection()
                await forget_expired(connection, self.table, utcnow() - self.keep)
                response = (await write(session))()
                if 200 <= response.status_code < 300:
                    answer = StoredAnswer(
                        fingerprint,
                        response.status_code,
                        bytes(response.body),
                        response.headers.get("location"),
                    )
                    if not await record_answer(connection, self.table, key, answer, utcnow()):
                        raise _KeyTaken
        except _KeyTaken:
            # The other attempt's write stands; ours was rolled back with this transaction.
            replay = await self._replay(read_sessions, key, fingerprint)
            if replay is None:  # pragma: no cover - it committed before our insert failed
                raise ApiError(409, f"A request with this {HEADER} is in progress.") from None
            return replay
        return response

    async def _replay(self, read_sessions: Sessions, key: str, fingerprint: str) -> Response | None:
        async with read_sessions() as session:
            connection = await session.connection()
            found = await stored_answer(connection, self.table, key, utcnow() - self.keep)
        if found is None:
            return None
        if found.fingerprint != fingerprint:
            raise ApiError(
                422,
                f"This {HEADER} was already used for another request; "
                "send a new key for a new request.",
                code="idempotency_key_reused",
            )
        headers = {REPLAYED_HEADER: "true"}
        if found.location is not None:
            headers["Location"] = found.location
        return Response(found.body, found.status, headers=headers, media_type="application/json")
