"""Bearer service-token check for every route but the public ones."""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from service_http.errors import error_response


def bearer_credentials(header: bytes) -> bytes | None:
    """The token of `Authorization: Bearer <token>`; the scheme is case-insensitive and may be
    followed by more than one space (RFC 9110 §11.1, 11.4). None for any other header."""
    scheme, _, credentials = header.partition(b" ")
    credentials = credentials.lstrip(b" ")
    if scheme.lower() != b"bearer" or not credentials:
        return None
    return credentials


class ServiceTokenMiddleware:
    """Answers 401 unless `Authorization: Bearer <token>` matches; public paths pass.

    A pure ASGI middleware (not BaseHTTPMiddleware) so streaming and lifespan are untouched.
    """

    def __init__(
        self,
        app: ASGIApp,
        token: str,
        public_paths: frozenset[str] = frozenset(),
        public_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.expected = token.encode()
        self.public_paths = public_paths
        self.public_prefixes = public_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        supplied = bearer_credentials(dict(scope["headers"]).get(b"authorization", b""))
        if supplied is not None and hmac.compare_digest(supplied, self.expected):
            await self.app(scope, receive, send)
            return
        response = error_response(401, "unauthorized", "A valid service bearer token is required.")
        response.headers["WWW-Authenticate"] = "Bearer"
        await response(scope, receive, send)

    def _is_public(self, path: str) -> bool:
        return path in self.public_paths or path.startswith(self.public_prefixes)
