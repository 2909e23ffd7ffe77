"""Server-side sessions: the browser holds only an opaque random id in an HttpOnly cookie.

The record lives in aiocache (memory for one process, Redis when `BFF_CACHE_URL` is redis://,
so replicas share sessions), under the SHA-256 of the id: a copy of the store holds nothing a
browser could present. A session ends after `session_idle_seconds` without a request (the
record's TTL, renewed as it is used) and `session_absolute_seconds` after sign-in whatever
happens. Every sign-in makes a new id (no fixation). Local accounts are looked at again every
`session_recheck_seconds` (disabled, password reset or roles taken away end the session; new
roles apply). "Sign out everywhere" stores a per-user not-before time that every session of
that user made earlier fails against, on every replica at once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiocache import Cache
from aiocache.base import BaseCache
from aiocache.serializers import JsonSerializer

from bff.accounts import Account, Accounts
from bff.roles import Role, parse_roles

logger = logging.getLogger("bff.sessions")

Source = Literal["local", "oidc", "none"]
_OPERATION_TIMEOUT = 1.0


@dataclass(frozen=True)
class Principal:
    """The signed-in user of a request."""

    name: str
    display_name: str
    roles: frozenset[Role]
    source: Source
    # The stored session's key (None for BFF_AUTH=none), for sign-out.
    session_key: str | None = None
    # What the OIDC provider needs at sign-out (id_token_hint); never sent to the browser.
    id_token: str | None = field(default=None, repr=False)

    def holds(self, role: Role) -> bool:
        return role in self.roles

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "displayName": self.display_name,
            "roles": sorted(role.value for role in self.roles),
            "signInMethod": self.source,
        }


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: float
    absolute_seconds: float
    recheck_seconds: float


def session_key(session_id: str) -> str:
    return "bff-session:" + hashlib.sha256(session_id.encode()).hexdigest()


def _not_before_key(name: str) -> str:
    return f"bff-session-user:{name}:not-before"


class SessionStore:
    def __init__(
        self,
        backend: BaseCache,
        policy: SessionPolicy,
        accounts: Accounts | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.policy = policy
        self.accounts = accounts
        # Wall-clock seconds (shared by replicas); tests move it instead of waiting.
        self.clock = clock

    @classmethod
    def from_url(cls, url: str, policy: SessionPolicy, accounts: Accounts | None) -> SessionStore:
        backend = Cache.from_url(url)
        backend.serializer = JsonSerializer()
        # A bound on a network store's calls; aiocache enforces it with asyncio.wait_for, a
        # task per call, which was two thirds of a session lookup in memory, where nothing
        # can hang.
        backend.timeout = _OPERATION_TIMEOUT if url.startswith("redis://") else None
        return cls(backend, policy, accounts)

    async def close(self) -> None:
        await self.backend.close()

    async def create(
        self,
        name: str,
        display_name: str,
        roles: frozenset[Role],
        source: Source,
        epoch: int = 0,
        id_token: str | None = None,
    ) -> str:
        """A new session; returns its id (for the cookie, nowhere else)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        record = {
            "u": name,
            "d": display_name,
            "r": sorted(role.value for role in roles),
            "src": source,
            "e": epoch,
            "c": now,
            "s": now,
            "k": now,
            "idt": id_token,
        }
        await self.backend.set(session_key(session_id), record, ttl=self.policy.idle_seconds)
        return session_id

    async def create_for(self, account: Account) -> str:
        return await self.create(
            account.name, account.display_name, account.roles, "local", account.session_epoch
        )

    async def load(self, session_id: str) -> Principal | None:
        """The session's user, or None when there is no such live session."""
        if not session_id or len(session_id) > 128:
            return None
        key = session_key(session_id)
        record: dict[str, Any] | None = await self.backend.get(key)
        if not isinstance(record, dict):
            return None
        now = self.clock()
        created = float(record["c"])
        if now - created >= self.policy.absolute_seconds or now - float(record["s"]) >= (
            self.policy.idle_seconds
        ):
            await self.backend.delete(key)
            return None
        not_before = await self.backend.get(_not_before_key(record["u"]))
        if not_before is not None and created <= float(not_before):
            await self.backend.delete(key)
            return None
        changed = now - float(record["s"]) >= self.policy.idle_seconds / 10
        if record["src"] == "local" and now - float(record["k"]) >= self.policy.recheck_seconds:
            account = await self.accounts.get(record["u"]) if self.accounts else None
            if account is None or account.disabled or account.session_epoch != record["e"]:
                await self.backend.delete(key)
                return None
            record.update(d=account.display_name, r=sorted(r.value for r in account.roles), k=now)
            changed = True
        if changed:
            record["s"] = now
            ttl = min(self.policy.idle_seconds, self.policy.absolute_seconds - (now - created))
            await self.backend.set(key, record, ttl=max(ttl, 0.001))
        return Principal(
            name=record["u"],
            display_name=record["d"],
            roles=parse_roles(record["r"]),
            source=record["src"],
            session_key=key,
            id_token=record.get("idt"),
        )

    async def end(self, principal: Principal) -> None:
        if principal.session_key is not None:
            await self.backend.delete(principal.session_key)

    async def end_all(self, name: str) -> None:
        """End every session of `name`, on every replica sharing this store."""
        await self.backend.set(
            _not_before_key(name), self.clock(), ttl=self.policy.absolute_seconds + 1
        )
