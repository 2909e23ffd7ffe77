"""`X-Request-ID`: one id per request, made at the edge, passed on, echoed and logged.

The BFF makes one when the browser sent none; the BFF's and billing's HTTP clients pass the
current one on to the services (`outgoing_headers`), each service keeps the id it was given, and
every app echoes it in its answer. It lives in a context variable for the request's duration, so
log lines (service_http.logs) and tasks started by the request carry it.

A supplied id is kept only if it is short and plain (letters, digits and `-._:`): it ends up in
logs and headers, where a long or odd value would be an injection or a flood. Anything else is
replaced with a fresh one, never refused: a bad id is no reason to fail a request.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_HEADER_KEY = b"x-request-id"
MAX_LENGTH = 128
_PLAIN = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted(supplied: bytes | None) -> str | None:
    """The supplied id if it is one we keep, else None."""
    if supplied is None or _PLAIN.fullmatch(supplied) is None:
        return None
    return supplied.decode("ascii")


def outgoing_headers() -> dict[str, str]:
    """The header that passes the current request's id on to a peer (none outside a request)."""
    request_id = current_request_id.get()
    return {HEADER: request_id} if request_id is not None else {}


class RequestIdMiddleware:
    """Outermost middleware: sets the id for the request and echoes it in the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = None
        for name, value in scope["headers"]:
            if name == _HEADER_KEY:
                supplied = value
                break
        request_id = accepted(supplied) or new_request_id()
        encoded = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k != _HEADER_KEY]
                headers.append((_HEADER_KEY, encoded))
                message["headers"] = headers
            await send(message)

        token = current_request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)
