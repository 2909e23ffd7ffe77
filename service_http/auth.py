"""The service edge's access check: who is calling (a bearer credential), may it call this
route (the route's scope), and may it name a user it acts for (X-Acting-User).

401 (with `WWW-Authenticate: Bearer`) without a credential or with an unknown one; 403 when the
caller lacks the route's scope, or names an acting user without the `act-as-user` scope; a route
missing from the service's scope table is refused to every caller (deny by default). What
passes carries the caller and the acting user to the handlers (`service_http.actor`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from service_http.actor import (
    ACTING_USER_HEADER,
    ACTING_USER_PATTERN,
    ACTOR_STATE_KEY,
    MAX_ACTING_USER,
    Actor,
)
from service_http.credentials import PUBLIC, Credentials, RouteScope, RouteScopes
from service_http.credentials import Scope as CredentialScope
from service_http.errors import error_response

_ACTING_USER = ACTING_USER_HEADER.lower().encode()
_ACTING_USER_RULE = re.compile(ACTING_USER_PATTERN)


def bearer_credentials(header: bytes) -> bytes | None:
    """The token of `Authorization: Bearer <token>`; the scheme is case-insensitive and may be
    followed by more than one space (RFC 9110 §11.1, 11.4). None for any other header."""
    scheme, _, credentials = header.partition(b" ")
    credentials = credentials.lstrip(b" ")
    if scheme.lower() != b"bearer" or not credentials:
        return None
    return credentials


class Refused(Exception):
    def __init__(self, status: int, message: str, challenge: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.challenge = status, message, challenge


def acting_user(values: list[bytes]) -> str | None:
    """The user named by X-Acting-User (percent-encoded UTF-8), or None when absent. The
    header is checked against exactly its published rule (ACTING_USER_PATTERN)."""
    if not values:
        return None
    if len(values) > 1:
        raise Refused(400, f"Send {ACTING_USER_HEADER} once.")
    raw = values[0].decode("latin-1")
    if len(raw) > MAX_ACTING_USER or _ACTING_USER_RULE.fullmatch(raw) is None:
        raise Refused(
            400,
            f"{ACTING_USER_HEADER} must be 1 to {MAX_ACTING_USER} visible ASCII characters "
            "(other characters percent-encoded as UTF-8, no control characters).",
        )
    # An invalid UTF-8 sequence becomes U+FFFD rather than a refusal: the rule above is the
    # whole contract, and the trail still shows what was sent.
    return unquote(raw, errors="replace")


class ServiceAuthMiddleware:
    """Checks every request against the caller table and the route's scope.

    A pure ASGI middleware (not BaseHTTPMiddleware) so streaming and lifespan are untouched. It
    runs before routing, so it matches the request against the app's routes itself to find the
    route's scope.
    """

    def __init__(
        self,
        app: ASGIApp,
        credentials: Credentials,
        routes: Sequence[BaseRoute],
        route_scopes: RouteScopes,
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.routes = routes
        self.route_scopes = route_scopes

    def required_scope(self, scope: Scope) -> RouteScope | None:
        """The scope the request's route requires; None when no route matches (the router then
        answers 404/405, to an authenticated caller only); "" for a route without a table
        entry, which nobody may call."""
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        for route in self.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                path = getattr(route, "path", "")
                return self.route_scopes.get((method, path), "")
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        required = self.required_scope(scope)
        if required == PUBLIC:
            await self.app(scope, receive, send)
            return
        try:
            actor = self._check(scope, required)
        except Refused as refused:
            code = {400: "bad_request", 401: "unauthorized"}.get(refused.status, "forbidden")
            response = error_response(refused.status, code, refused.message)
            if refused.challenge is not None:
                response.headers["WWW-Authenticate"] = refused.challenge
            await response(scope, receive, send)
            return
        # A new scope and state dict: the server's per-request state copy is not ours to mutate.
        state = {**scope.get("state", {}), ACTOR_STATE_KEY: actor}
        await self.app({**scope, "state": state}, receive, send)

    def _check(self, scope: Scope, required: RouteScope | None) -> Actor:
        headers = scope["headers"]
        authorization = [v for k, v in headers if k == b"authorization"]
        supplied = bearer_credentials(authorization[0]) if len(authorization) == 1 else None
        caller = self.credentials.identify(supplied) if supplied is not None else None
        if caller is None:
            raise Refused(401, "A valid service bearer token is required.", "Bearer")
        if required == "":
            raise Refused(403, "This route is not open to any caller.")
        if required is not None and required not in caller.scopes:
            raise Refused(
                403,
                f"The caller {caller.name!r} lacks the scope {required!r} this route requires.",
                f'Bearer error="insufficient_scope", scope="{required}"',
            )
        named = [v for k, v in headers if k == _ACTING_USER]
        if named and CredentialScope.ACT_AS_USER not in caller.scopes:
            raise Refused(
                403,
                f"The caller {caller.name!r} may not name an acting user "
                f"(it lacks the scope {CredentialScope.ACT_AS_USER.value!r}).",
            )
        return Actor(caller=caller.name, user=acting_user(named))
