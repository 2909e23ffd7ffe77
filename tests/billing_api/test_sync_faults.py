"""The pull when things break: ordering unreachable, timing out, 500, malformed JSON, a wrong
token; billing's own database failing mid-page; the pull killed between fetch and commit.
After recovery the copy equals ordering's published state and no change was lost."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from billing_api.sync import PullFailed
from tests.billing_api.checks import assert_consistent, local_orders, sync_state
from tests.billing_api.conftest import Billing, BillingFactory, Ordering
from tests.billing_api.harness import (
    answer_500,
    answer_malformed,
    answer_wrong_shape,
    fail_feed,
    raise_connect,
    raise_timeout,
)
from tests.support.servers import free_port


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A real TCP server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def assert_failed_and_kept(billing: Billing, token: int, words: str) -> None:
    with pytest.raises(PullFailed) as failure:
        await billing.syncer.pull()
    assert words in failure.value.reason
    state = await sync_state(billing.engine)
    assert state.token == token, "the token never moves on a failed pull"
    assert state.consecutive_failures >= 1
    assert state.last_error is not None and words in state.last_error
    run = await billing.http.post("/sync/run")
    assert run.status_code == 503
    assert run.json()["error"]["code"] == "unavailable"
    assert words in run.json()["error"]["message"]


async def test_ordering_unreachable(ordering: Ordering, make_billing: BillingFactory) -> None:
    await ordering.clerk.confirmed()
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there: a real refused connect
    async with make_billing(transport=None, ordering_url=down) as billing:
        await assert_failed_and_kept(billing, 0, "cannot reach ordering")
        status = (await billing.http.get("/sync/status")).json()
        assert status["consecutive_failures"] == 2
        # Two failed pulls: degraded, in words, since the first failure (failing from three).
        assert (status["health"], status["healthy"]) == ("degraded", False)
        assert "cannot reach ordering" in status["health_reason"]
        assert status["health_since"] is not None
        await assert_failed_and_kept(billing, 0, "cannot reach ordering")
        status = (await billing.http.get("/sync/status")).json()
        assert (
            status["health"] == "failing" and "the last 4 pulls failed" in status["health_reason"]
        )
    async with make_billing() as recovered:
        await recovered.syncer.pull()
        await assert_consistent(recovered.engine, await ordering.clerk.published())
        assert (await sync_state(recovered.engine)).consecutive_failures == 0


async def test_ordering_timing_out(ordering: Ordering, make_billing: BillingFactory) -> None:
    await ordering.clerk.confirmed()
    async with (
        silent_server() as port,
        make_billing(
            transport=None, ordering_url=f"http://127.0.0.1:{port}", ordering_timeout=0.2
        ) as billing,
    ):
        await assert_failed_and_kept(billing, 0, "timed out")
    async with make_billing() as recovered:
        await recovered.syncer.pull()
        await assert_consistent(recovered.engine, await ordering.clerk.published())


FAULTS: dict[str, tuple[Callable[[httpx.Request], httpx.Response | Exception], str]] = {
    "500": (answer_500, "answered 500"),
    "malformed json": (answer_malformed, "malformed JSON"),
    "wrong shape": (answer_wrong_shape, "wrong shape"),
    "timeout": (raise_timeout, "timed out"),
    "connect error": (raise_connect, "cannot reach ordering"),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
async def test_injected_fault_keeps_token_then_recovers(
    fault: str, ordering: Ordering, billing: Billing
) -> None:
    await ordering.clerk.confirmed()
    await billing.syncer.pull()
    await ordering.clerk.confirmed()
    answer, words = FAULTS[fault]
    ordering.transport.fault = fail_feed(answer)
    await assert_failed_and_kept(billing, 1, words)

    ordering.transport.fault = None
    report = await billing.syncer.pull()
    assert report is not None and (report.token_before, report.new) == (1, 1)
    await assert_consistent(billing.engine, await ordering.clerk.published())
    assert (await sync_state(billing.engine)).consecutive_failures == 0


async def test_wrong_service_token_reports_unhealthy(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    await ordering.clerk.confirmed()
    async with make_billing(service_token="not-the-token") as billing:
        with pytest.raises(PullFailed) as failure:
            await billing.syncer.pull()
        assert failure.value.unauthorized
        status = await billing.syncer.status()
        assert status.healthy is False
        assert status.token == 0
        assert "service token" in (status.last_error or "")


async def test_a_failing_later_page_keeps_the_pages_before(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    for _ in range(4):
        await ordering.clerk.confirmed()
    async with make_billing(pull_page_size=2) as billing:
        ordering.transport.fault = lambda r: (
            answer_500(r) if r.url.params.get("since") == "2" else None
        )
        with pytest.raises(PullFailed):
            await billing.syncer.pull()
        assert (await sync_state(billing.engine)).token == 2
        assert set(await local_orders(billing.engine)) == {1, 2}
        ordering.transport.fault = None
        await billing.syncer.pull()
        await assert_consistent(billing.engine, await ordering.clerk.published())


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite+aiosqlite:///")


async def test_pull_killed_between_fetch_and_commit(
    ordering: Ordering, billing: Billing, billing_db: str
) -> None:
    for _ in range(3):
        await ordering.clerk.confirmed()
    await billing.syncer.pull()
    await ordering.clerk.confirmed()
    await ordering.clerk.delete(1)
    ordering.transport.answered.clear()

    # Another writer holds billing's database, so the pull fetches its page and then waits
    # for the write lock -- between fetch and commit. There it is killed.
    blocker = sqlite3.connect(_sqlite_path(billing_db), isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        pull = asyncio.create_task(billing.syncer.pull())
        await asyncio.wait_for(ordering.transport.answered.wait(), timeout=10)
        # Fetched; it cannot commit while the blocker holds the lock, so it is in between.
        assert not pull.done()
        inflight = billing.syncer._inflight
        assert inflight is not None
        inflight.cancel()
    finally:
        # Released only after the kill (the killed pull's cleanup needs the lock to roll back).
        blocker.execute("ROLLBACK")
        blocker.close()
    with pytest.raises(asyncio.CancelledError):
        await pull

    state = await sync_state(billing.engine)
    assert state.token == 3, "nothing of the killed page committed"
    assert set(await local_orders(billing.engine)) == {1, 2, 3}
    assert (await local_orders(billing.engine))[1].status == "confirmed"

    report = await billing.syncer.pull()
    assert report is not None and (report.new, report.removed) == (1, 1)
    await assert_consistent(billing.engine, await ordering.clerk.published())


async def test_loop_backs_off_exponentially_and_slowly_when_unauthorized(
    ordering: Ordering, make_billing: BillingFactory, billing_db: str, tmp_path: Path
) -> None:
    async def delays_of(billing: Billing, count: int) -> list[float]:
        delays: list[float] = []

        async def record(delay: float) -> None:
            delays.append(delay)
            if len(delays) == count:
                raise asyncio.CancelledError

        with pytest.raises(asyncio.CancelledError):
            await billing.syncer.run_forever(sleep=record)
        return delays

    async with make_billing(pull_interval=1.0, pull_backoff_cap=6.0) as billing:
        ordering.transport.fault = fail_feed(answer_500)
        delays = await delays_of(billing, 5)
        fulls = [1, 2, 4, 6, 6]
        assert all(f / 2 <= d <= f for d, f in zip(delays, fulls, strict=True)), delays
        ordering.transport.fault = None
        assert await delays_of(billing, 2) == [1.0, 1.0], "success resets to the interval"

    async with make_billing(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'other.db'}",
        service_token="wrong",
        pull_interval=1.0,
        pull_backoff_cap=6.0,
    ) as unauthorized:
        assert await delays_of(unauthorized, 3) == [6.0, 6.0, 6.0], "401: retry at the cap only"
