"""A transport wrapper between the BFF and an upstream: counts calls, injects faults.

Faults are only injected here, into the network we don't own; the upstream behind it is the
real app.
"""

from __future__ import annotations

import asyncio
import time
from enum import Enum

import httpx


class Fault(Enum):
    NONE = "none"
    DOWN = "down"  # connection refused
    HANG = "hang"  # accepts the request, never answers
    ERROR_5XX = "5xx"  # a proxy in front answers 502
    GARBAGE = "garbage"  # answers 200 with a body that breaks the contract
    BROWNOUT = "brownout"  # every other call hangs until the caller gives up


class UpstreamLink(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[httpx.Request] = []
        self.times: list[float] = []  # when each call arrived (monotonic)
        self.fault = Fault.NONE

    def reset(self) -> None:
        self.calls.clear()
        self.times.clear()

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.calls]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        self.times.append(time.monotonic())
        if self.fault is Fault.DOWN:
            raise httpx.ConnectError("connection refused", request=request)
        if self.fault is Fault.HANG or (self.fault is Fault.BROWNOUT and len(self.calls) % 2):
            await asyncio.Event().wait()  # until the caller gives up and cancels us
        if self.fault is Fault.ERROR_5XX:
            return httpx.Response(502, text="Bad Gateway", request=request)
        if self.fault is Fault.GARBAGE:
            return httpx.Response(200, json={"orders": "nope", "invoices": 42}, request=request)
        return await self.inner.handle_async_request(request)
