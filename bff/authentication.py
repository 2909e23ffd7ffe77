"""Who is asking: the session cookie resolved to a `Principal` before anything else runs.

`Authenticate` is app-wide ASGI middleware, so it runs before routing and thus before the
whole-response cache on /graphql (bff/response_cache.py keys on the principal's roles). It
puts the principal (or None) into the request's state as `principal`; a cookie that names no
live session (forged, expired, ended, replayed after sign-out) is treated as no cookie, and
the answer clears it from the browser.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bff.accounts import Accounts
from bff.login_throttle import LoginThrottle
from bff.roles import ALL_ROLES
from bff.sessions import Principal, SessionStore
from bff.settings import BffSettings

logger = logging.getLogger("bff.auth")

# Lifespan state key of the app's `Auth`, and the request state key of the principal.
AUTH_STATE_KEY = "bff_auth"
PRINCIPAL_KEY = "principal"

DEVELOPER = Principal("developer", "Developer (no sign-in)", ALL_ROLES, "none")


@dataclass(frozen=True)
class Auth:
    """What the lifespan owns for sign-in: settings, sessions, accounts, throttle, OIDC."""

    settings: BffSettings
    sessions: SessionStore
    accounts: Accounts | None
    throttle: LoginThrottle
    oidc: Any = None  # bff.oidc.OidcClient when BFF_AUTH=oidc

    @property
    def cookie_name(self) -> str:
        # __Host-: only set over HTTPS, for this host alone, Path=/ (no subdomain can plant it).
        return "__Host-bff_session" if self.settings.secure_cookies else "bff_session"

    def cookie_header(self, session_id: str) -> str:
        parts = [f"{self.cookie_name}={session_id}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if self.settings.secure_cookies:
            parts.append("Secure")
        # No Max-Age: a browser session cookie; the server decides how long it lives.
        return "; ".join(parts)

    def clearing_cookie_header(self) -> str:
        parts = [f"{self.cookie_name}=", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=0"]
        if self.settings.secure_cookies:
            parts.append("Secure")
        return "; ".join(parts)


def auth_of(scope: Scope) -> Auth | None:
    state = scope.get("state") or {}
    auth: Auth | None = state.get(AUTH_STATE_KEY)
    return auth


def principal_of(request: Request | Scope) -> Principal | None:
    scope = request.scope if isinstance(request, Request) else request
    principal: Principal | None = (scope.get("state") or {}).get(PRINCIPAL_KEY)
    return principal


# A browser may hold a few cookies of one name (another path, a stale one); more is abuse.
MAX_SAME_NAME_COOKIES = 3


def cookie_values(scope: Scope, name: str) -> list[str]:
    """Every value sent for cookie `name`, in order. A plain split, as browsers send cookies:
    SimpleCookie was a sixth of a cached request's time, gives up on a whole header over one
    odd cookie, and keeps only one of several cookies of the same name."""
    prefix = name + "="
    found = []
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                part = part.strip()
                if part.startswith(prefix):
                    found.append(part[len(prefix) :].strip('"'))
    return found[:MAX_SAME_NAME_COOKIES]


def session_cookie(scope: Scope, name: str) -> str | None:
    values = cookie_values(scope, name)
    return values[0] if values else None


# Public files and the health check: no session is looked up for them.
_NO_SESSION_PREFIXES = ("/static/", "/healthz")


class Authenticate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        auth = auth_of(scope) if scope["type"] == "http" else None
        if auth is None or scope["path"].startswith(_NO_SESSION_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if auth.settings.auth == "none":
            state[PRINCIPAL_KEY] = DEVELOPER
            await self.app(scope, receive, send)
            return
        session_ids = cookie_values(scope, auth.cookie_name)
        principal = None
        try:
            for session_id in session_ids:  # the first that names a live session
                principal = await auth.sessions.load(session_id)
                if principal is not None:
                    break
        except Exception:
            # The session store is down: nobody is signed in until it is back.
            logger.warning("session store failed; request treated as signed out", exc_info=True)
        state[PRINCIPAL_KEY] = principal
        if not session_ids or principal is not None:
            await self.app(scope, receive, send)
            return

        async def clearing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not any(
                    v.startswith(auth.cookie_name + "=") for v in headers.getlist("set-cookie")
                ):
                    headers.append("set-cookie", auth.clearing_cookie_header())
            await send(message)

        await self.app(scope, receive, clearing_send)
