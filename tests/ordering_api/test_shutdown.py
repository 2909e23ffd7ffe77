"""Stopping ordering with a long poll held (billing always holds one) is prompt: the poll
answers its empty page and the process exits, instead of holding the shutdown for the poll's
whole wait until a supervisor kills it."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx

from tests.ordering_api.conftest import TOKEN
from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port

WAIT = 120  # far longer than the exit is allowed to take


async def test_a_held_long_poll_answers_and_the_server_exits_on_sigterm(tmp_path: Path) -> None:
    env = {
        "ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ordering.db'}",
        "SERVICE_TOKEN": TOKEN,
        "ORDERING_FEED_MAX_WAIT": str(WAIT),
    }
    log = tmp_path / "ordering.log"
    with ServiceProcess(
        "ordering", "ordering_api.app:create_app", free_port(), service_env(env), log
    ) as ordering:
        # A raw connection, so the poll's bytes are known to be sent before anything else.
        reader, writer = await asyncio.open_connection("127.0.0.1", ordering.port)
        writer.write(
            f"GET /orders/changes?since=0&wait={WAIT} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {TOKEN}\r\n\r\n".encode()
        )
        await writer.drain()
        # The server takes connections and requests in arrival order on one loop: once a
        # request sent after the poll is answered, the poll is being held.
        async with httpx.AsyncClient(base_url=ordering.url, timeout=10) as other:
            assert (await other.get("/healthz")).status_code == 200
        assert not reader.at_eof()
        ordering.send_signal(signal.SIGTERM)
        answer = await asyncio.wait_for(reader.read(), timeout=WAIT / 4)
        writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), answer
        assert json.loads(body)["orders"] == []
        # Uvicorn ends a graceful shutdown by re-raising the signal it caught.
        assert await asyncio.to_thread(ordering.wait_exit, WAIT / 4) == -signal.SIGTERM
        assert "Application shutdown complete" in log.read_text()
