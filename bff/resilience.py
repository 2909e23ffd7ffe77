"""Keeping one upstream's trouble from spreading: a bulkhead and a circuit breaker per upstream.

**Bulkhead.** At most `concurrency` calls to an upstream are in flight; the others wait for a
slot within the same deadline as the call itself. The httpx pool of that upstream has more
connections than the bulkhead has slots, so a call never waits inside httpcore's pool: a call
cancelled by its deadline while queued there can leak the pool slot for good (encode/httpcore
#1093, still open in httpcore 1.0.9), which is how the BFF once stopped reaching a healthy peer.

**Circuit breaker.** It counts how the last `window` calls went; when at least `min_calls` of
them were seen and the failed share reaches `failure_ratio`, it opens: calls fail at once with
UPSTREAM_UNAVAILABLE for `open_seconds`. Then it half-opens and lets exactly one probe through;
the probe's success closes it (with a fresh window), its failure opens it again. A failure-rate
window rather than a count of consecutive failures, because a brownout (every other call timing
out) never produces a long run of consecutive failures yet hurts just as much. The breaker is
per process: replicas each learn an upstream's state from their own calls.

Libraries considered: purgatory and aiobreaker only count consecutive failures (see above).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    window: int = 20
    min_calls: int = 10
    failure_ratio: float = 0.5
    open_seconds: float = 5.0


class CircuitOpen(Exception):
    """The breaker refuses the call; `retry_after` is when the next probe may go (seconds)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"circuit open, next probe in {retry_after:.1f} s")
        self.retry_after = retry_after


class CircuitBreaker:
    """The breaker's rules, with an injectable clock; no I/O, no awaiting."""

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self.state = BreakerState.CLOSED
        self.outcomes: deque[bool] = deque(maxlen=policy.window)  # True: failed
        self.opened_at = 0.0
        self.probing = False
        self.opened = 0  # how many times it opened (for tests and logs)

    def before_call(self) -> None:
        """Admit a call or raise `CircuitOpen`."""
        if self.state is BreakerState.CLOSED:
            return
        if self.state is BreakerState.OPEN:
            wait = self.opened_at + self.policy.open_seconds - self.clock()
            if wait > 0:
                raise CircuitOpen(wait)
            self.state = BreakerState.HALF_OPEN
            self.probing = False
        if self.probing:  # half-open: one probe at a time
            raise CircuitOpen(self.policy.open_seconds)
        self.probing = True

    def after_call(self, failed: bool) -> None:
        if self.state is BreakerState.HALF_OPEN:
            self.probing = False
            if failed:
                self._open()
            else:
                self.state = BreakerState.CLOSED
                self.outcomes.clear()
            return
        if self.state is BreakerState.OPEN:
            return  # a call admitted before the breaker opened; it changes nothing now
        self.outcomes.append(failed)
        if len(self.outcomes) >= self.policy.min_calls and sum(
            self.outcomes
        ) >= self.policy.failure_ratio * len(self.outcomes):
            self._open()

    def cancelled(self) -> None:
        """An admitted call ended without an outcome (its caller went away)."""
        if self.state is BreakerState.HALF_OPEN:
            self.probing = False

    def _open(self) -> None:
        self.state = BreakerState.OPEN
        self.opened_at = self.clock()
        self.outcomes.clear()
        self.opened += 1


class Bulkhead:
    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._semaphore = asyncio.Semaphore(slots)

    async def acquire(self) -> None:
        """Wait for a slot; the caller's deadline bounds the wait (cancellation takes none)."""
        await self._semaphore.acquire()

    def release(self) -> None:
        self._semaphore.release()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A slot for the duration of the block; the caller's deadline bounds the wait."""
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class SingleFlight:
    """Concurrent identical reads share one call (across requests; a request's DataLoaders
    already share within it). Nothing is kept once the call is done: no staleness."""

    def __init__(self) -> None:
        self._in_flight: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        future = self._in_flight.get(key)
        if future is None:
            future = asyncio.ensure_future(call())
            self._in_flight[key] = future
            future.add_done_callback(partial(self._done, key))
        # Shielded: one caller going away (its request cancelled) does not cancel the others'.
        result: T = await asyncio.shield(future)
        return result

    def _done(self, key: Hashable, future: asyncio.Future[Any]) -> None:
        if self._in_flight.get(key) is future:
            del self._in_flight[key]
        if not future.cancelled():
            future.exception()  # retrieved, so an error nobody awaited is not logged as lost


@dataclass
class UpstreamGuard:
    """What stands between the BFF and one upstream."""

    bulkhead: Bulkhead
    breaker: CircuitBreaker
    reads: SingleFlight
