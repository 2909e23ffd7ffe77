"""Browser hardening for every answer of the BFF: cross-site writes refused, security headers.

CSRF: the session cookie is SameSite=Lax, so browsers do not send it with cross-site POSTs;
on top of that, a request that changes something (any method but GET, HEAD, OPTIONS) is
refused with 403 when the browser says it comes from another site: `Sec-Fetch-Site` other
than same-origin or none, or an `Origin` that is not the BFF's own. Requests carrying neither
header are not from a browser (curl, services) and cannot ride a user's cookie. GraphQL
mutations are POST-only (bff/graphql_http.py answers 405 to one sent by GET) and both
/graphql and /auth/* take only `application/json` bodies, which a cross-site HTML form cannot
send without a CORS preflight (and the BFF answers no preflight).

Headers: a Content-Security-Policy allowing only the app's own scripts, styles and fetches
(GraphiQL's page sets its own, looser one), `frame-ancestors 'none'` (with X-Frame-Options for
old browsers), `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`, and HSTS
when the public URL is https.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


def request_origin(scope: Scope, public_url: str) -> str:
    if public_url:
        return public_url
    host = Headers(scope=scope).get("host", "")
    return f"{scope.get('scheme', 'http')}://{host}"


def cross_site_refusal(scope: Scope, public_url: str) -> str | None:
    """Why this state-changing request is refused as cross-site; None when it may go."""
    headers = Headers(scope=scope)
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in ALLOWED_FETCH_SITES:
        return f"Cross-site request refused (Sec-Fetch-Site: {fetch_site})."
    origin = headers.get("origin")
    if origin is not None and origin.rstrip("/") != request_origin(scope, public_url):
        return "Cross-site request refused (Origin is not this site)."
    return None


class BrowserGuard:
    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.public_url = public_url
        self.hsts = public_url.startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", APP_CSP)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("referrer-policy", "same-origin")
                if self.hsts:
                    headers.setdefault("strict-transport-security", "max-age=31536000")
            await send(message)

        if scope["method"] not in SAFE_METHODS:
            refusal = cross_site_refusal(scope, self.public_url)
            if refusal is not None:
                body = json.dumps(
                    {"errors": [{"message": refusal, "extensions": {"code": "FORBIDDEN"}}]}
                ).encode()
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send_with_headers({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send_with_headers)
