"""The Host header allow-list of every app (against DNS rebinding), on Starlette's TrustedHost.

Without it, any web page a user opens can point a name it controls at 127.0.0.1 and drive a
service on the user's machine with the browser as the client. The default list admits loopback
names and the reserved `.localhost`, `.internal`, `.test` and `.example` domains, which no
public DNS name can be; deployments behind other names set `<PREFIX>ALLOWED_HOSTS`
(comma-separated; `*` turns the check off, `*.example.com` admits a domain's subdomains).

Health endpoints are exempt: load balancers probe them without a Host header, and they tell an
attacker nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from service_http.health import HEALTH_PATHS

DEFAULT_ALLOWED_HOSTS = "localhost,127.0.0.1,[::1],*.localhost,*.internal,*.test,*.example"


def parse_hosts(value: str) -> list[str]:
    hosts = [h.strip() for h in value.split(",") if h.strip()]
    if not hosts:
        raise ValueError("the host allow-list is empty; use * to allow any host")
    return hosts


class HostAllowList:
    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.checked = TrustedHostMiddleware(app, allowed_hosts=allowed_hosts, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in HEALTH_PATHS:
            await self.app(scope, receive, send)
        else:
            await self.checked(scope, receive, send)


def host_allow_list(allowed: str) -> Middleware:
    """The middleware for `allowed` (comma-separated; `ServiceSettings.allowed_hosts`)."""
    return Middleware(HostAllowList, allowed_hosts=parse_hosts(allowed))
