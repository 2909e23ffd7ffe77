"""Who may call a service, and what each caller may do: per-caller credentials with scopes.

A service accepts a table of callers (`ORDERING_CREDENTIALS`, `BILLING_CREDENTIALS`), each with
its scopes and one or more secrets: several secrets of one caller are valid at once, which is
how a credential is rotated without downtime (add the new secret, move the caller to it, remove
the old one). Every route requires one scope (each service's `ROUTE_SCOPES`, next to its
routes); a route missing from its table is refused to every caller.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class Scope(StrEnum):
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    FEED_READ = "feed:read"
    INVOICES_READ = "invoices:read"
    INVOICES_APPROVE = "invoices:approve"
    SYNC_READ = "sync:read"
    # Run a pull now, and reset the pull's position (both change what billing holds).
    SYNC_RUN = "sync:run"
    METRICS_READ = "metrics:read"
    # May name the person it acts for (X-Acting-User); the service records that person.
    ACT_AS_USER = "act-as-user"


# A route anyone may call without a credential (health checkers, the OpenAPI document,
# billing's browser deep link).
PUBLIC: Final = "public"
RouteScope = Scope | str
# (method, Starlette path template) → the scope the route requires, or PUBLIC.
RouteScopes = Mapping[tuple[str, str], RouteScope]

# The routes every service has (service_http): health probes and the OpenAPI document are
# public; /metrics is for monitoring.
COMMON_ROUTE_SCOPES: RouteScopes = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/metrics"): Scope.METRICS_READ,
}


class CallerCredential(BaseModel):
    """One calling service: what it may do, and its valid secrets (more than one while
    rotating)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scopes: frozenset[Scope]
    secrets: tuple[SecretStr, ...] = Field(min_length=1)

    @field_validator("secrets")
    @classmethod
    def _no_blank_secret(cls, secrets: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        if any(not s.get_secret_value().strip() for s in secrets):
            raise ValueError("a secret must not be empty")
        return secrets


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: its name (from the credential table) and its scopes."""

    name: str
    scopes: frozenset[Scope]


def _digest(secret: bytes) -> bytes:
    # Compared as fixed-length digests, so the comparison's time says nothing about the length
    # of any configured secret.
    return hashlib.sha256(secret).digest()


class Credentials:
    """The callers a service accepts, checked in constant time."""

    def __init__(self, callers: Mapping[str, CallerCredential]) -> None:
        self._entries: list[tuple[bytes, Caller]] = []
        seen: dict[bytes, str] = {}
        for name, credential in callers.items():
            caller = Caller(name, credential.scopes)
            for secret in credential.secrets:
                digest = _digest(secret.get_secret_value().encode())
                if digest in seen and seen[digest] != name:
                    # One secret for two callers would make the caller (and its scopes)
                    # ambiguous.
                    raise ValueError(f"callers {seen[digest]!r} and {name!r} share a secret")
                seen[digest] = name
                self._entries.append((digest, caller))

    def identify(self, presented: bytes) -> Caller | None:
        """The caller whose secret this is, or None. Every secret is compared (no early
        exit), so the time taken does not tell which one matched or how many there are."""
        digest = _digest(presented)
        found: Caller | None = None
        for expected, caller in self._entries:
            if hmac.compare_digest(digest, expected):
                found = caller
        return found

    @property
    def caller_names(self) -> list[str]:
        return sorted({caller.name for _, caller in self._entries})

    def __repr__(self) -> str:
        return f"Credentials(callers={self.caller_names})"


def credential_table(
    callers: Iterable[tuple[str, Iterable[Scope], Iterable[str]]],
) -> dict[str, CallerCredential]:
    """Build a table in code (development defaults, tests)."""
    return {
        name: CallerCredential(
            scopes=frozenset(scopes), secrets=tuple(SecretStr(s) for s in secrets)
        )
        for name, scopes, secrets in callers
    }
