"""Refusing a request body over a size limit before it is read into memory."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service_http.bodies import MAX_BODY_BYTES
from service_http.errors import error_response


class _BodyTooLarge(Exception):
    pass


def _too_large(max_bytes: int) -> Response:
    return error_response(413, "payload_too_large", f"The body is larger than {max_bytes} bytes.")


class RequestBodyLimit:
    """Answer 413 for a body over `max_bytes`: at once when Content-Length says so, otherwise
    as soon as the streamed body passes the limit (chunked uploads), unless the app already
    started its answer. `refuse` shapes the answer (the BFF speaks GraphQL's error shape)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        refuse: Callable[[int], Response] = _too_large,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Request(scope).headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self.refuse(self.max_bytes)(scope, receive, send)
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self.refuse(self.max_bytes)(scope, receive, send)
