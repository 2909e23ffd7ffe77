"""Pipelining: the next feed page is fetched while the current one is applied, and the token
still moves only with its own page, in order."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing

import httpx

from billing_api.ordering_client import OrderingClient
from tests.billing_api.checks import assert_consistent, sync_state
from tests.billing_api.conftest import BillingFactory, Ordering


async def test_the_next_page_is_asked_for_before_this_one_commits(
    ordering: Ordering, make_billing: BillingFactory, billing_db: str
) -> None:
    for _ in range(6):
        await ordering.clerk.confirmed()
    path = billing_db.removeprefix("sqlite+aiosqlite:///")
    token_when_asked: dict[int, int] = {}

    def note_the_token(request: httpx.Request) -> None:
        # Synchronously, the moment billing asks: the token it has committed so far.
        if request.url.path == "/orders/changes":
            with closing(sqlite3.connect(path)) as db:
                (token,) = db.execute("SELECT token FROM sync_state").fetchone()
            token_when_asked[int(request.url.params["since"])] = token

    async with make_billing(pull_page_size=2) as billing:
        ordering.transport.fault = note_the_token
        report = await billing.syncer.pull()

        # Page (2, 4] was asked for while page (0, 2] was being applied, and so on; yet each
        # page moved the token itself, in order, once it was in.
        assert token_when_asked == {0: 0, 2: 0, 4: 2}
        assert (report.pages, report.new, report.token_after) == (3, 6, 6)
        state = await sync_state(billing.engine)
        assert (state.token, state.pages, state.new, state.invoices_created) == (6, 3, 6, 6)
        await assert_consistent(billing.engine, await ordering.clerk.published())


async def test_a_failing_page_fetched_ahead_fails_the_pull_after_the_page_before_it_is_in(
    ordering: Ordering, make_billing: BillingFactory
) -> None:
    for _ in range(4):
        await ordering.clerk.confirmed()

    def fail_the_second_page(request: httpx.Request) -> httpx.Response | None:
        if request.url.params.get("since") == "2":
            return httpx.Response(500, json={"error": {"code": "internal"}})
        return None

    async with make_billing(pull_page_size=2) as billing:
        ordering.transport.fault = fail_the_second_page
        response = await billing.http.post("/sync/run")
        assert response.status_code == 503
        state = await sync_state(billing.engine)
        assert (state.token, state.pages, state.new, state.consecutive_failures) == (2, 1, 2, 1)

        ordering.transport.fault = None
        report = await billing.syncer.pull()
        assert (report.token_before, report.token_after, report.new) == (2, 4, 2)
        await assert_consistent(billing.engine, await ordering.clerk.published())


async def test_fetching_ahead_says_when_its_request_is_on_the_wire() -> None:
    """The pull applies a page only once the next page's request is sent (SQLite on the loop's
    thread never yields during the apply): `sent` must be set by the real HTTP stack, before
    the answer, or the fetch would only go out after the apply."""
    arrived, answer = asyncio.Event(), asyncio.Event()
    body = json.dumps(
        {"orders": [], "next_since": 0, "has_more": False, "high_water": 0, "feed_id": "f"}
    ).encode()

    async def ordering(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        arrived.set()
        await answer.wait()
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
        writer.write(head.encode() + b"\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(ordering, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = OrderingClient(f"http://127.0.0.1:{port}", "token", 5.0)
    try:
        sent = asyncio.Event()
        fetch = asyncio.ensure_future(client.fetch_changes(0, 10, sent))
        await asyncio.wait_for(sent.wait(), 5)
        assert not fetch.done()  # on the wire, not answered
        await asyncio.wait_for(arrived.wait(), 5)
        answer.set()
        assert (await fetch).feed_id == "f"
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
