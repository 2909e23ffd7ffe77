"""Hearing that the server is shutting down, before it waits for requests in flight.

Uvicorn (like any ASGI server) finishes requests in flight before it runs the lifespan's
shutdown, and tells the app nothing in between. A request that holds by design (the change
feed's long poll) would then hold the whole shutdown for its wait, and a supervisor kills the
process when its patience ends. The server's own SIGTERM/SIGINT handler is wrapped for the
lifespan's duration: the app hears the signal first (on its event loop), then the server
handles it as always.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

TERMINATION_SIGNALS = (signal.SIGTERM, signal.SIGINT)

Handler = Callable[[int, FrameType | None], Any]


@contextmanager
def on_termination(callback: Callable[[], object]) -> Iterator[None]:
    """Run `callback` on the running loop when SIGTERM or SIGINT arrives, then the handler the
    server installed. Only a server's Python handler is wrapped: outside the main thread, or
    when the handler is the default (in-process tests, no server), this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    wrapped: dict[signal.Signals, tuple[Handler, Handler]] = {}
    for sig in TERMINATION_SIGNALS:
        previous = signal.getsignal(sig)
        if not callable(previous) or previous is signal.default_int_handler:
            continue
        handler = _chained(loop, callback, previous)
        signal.signal(sig, handler)
        wrapped[sig] = (handler, previous)
    try:
        yield
    finally:
        for sig, (handler, previous) in wrapped.items():
            # The server may have put its own back already; never undo that.
            if signal.getsignal(sig) is handler:
                signal.signal(sig, previous)


def _chained(
    loop: asyncio.AbstractEventLoop, callback: Callable[[], object], previous: Handler
) -> Handler:
    def handler(signum: int, frame: FrameType | None) -> object:
        # A signal handler may not touch the loop's internals: schedule, don't call.
        loop.call_soon_threadsafe(callback)
        return previous(signum, frame)

    return handler
