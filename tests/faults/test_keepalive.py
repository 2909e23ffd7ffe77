"""The keep-alive race: a client reusing an idle connection at the moment the server closes it
gets "Server disconnected without sending a response" although both sides are healthy.

Reproduced with a real uvicorn process: the server is paused (SIGSTOP, as a GC pause or a busy
CPU would) while its keep-alive timer runs out and the client sends its next request; on
SIGCONT the server's loop fires the overdue timer (closing the connection) before it reads the
request that is already waiting. A client whose idle expiry is longer than the server's
keep-alive reuses that connection and fails; with our rule (client expiry shorter than the
server's keep-alive, service_http.keepalive) it has already dropped it and opens a new one.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx

from bff.app import _http_client
from bff.settings import BffSettings
from billing_api.ordering_client import OrderingClient
from scripts.runner.configs import service_command
from scripts.runner.settings import RunSettings
from service_http.keepalive import CLIENT_KEEPALIVE_EXPIRY_SECONDS, SERVER_KEEP_ALIVE_SECONDS
from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port

# How long the client leaves the connection idle beyond the server's keep-alive, and how long
# the server stays paused after the request went out: the scenario's timing, not a wait.
PAST_SERVER_TIMEOUT = 0.4
HELD_AFTER_REQUEST = 0.3


async def _request_across_server_timeout(
    server: ServiceProcess, client_expiry: float
) -> httpx.Response | httpx.HTTPError:
    """One request on a fresh connection, then the next one sent after the server's keep-alive
    ran out while the server was paused; the second request's answer or error."""
    limits = httpx.Limits(keepalive_expiry=client_expiry)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=10.0) as client:
        assert (await client.get("/healthz")).status_code == 200
        idle_since = time.monotonic()
        server.send_signal(signal.SIGSTOP)
        try:
            await asyncio.sleep(
                idle_since + server.keep_alive_seconds + PAST_SERVER_TIMEOUT - time.monotonic()
            )
            pending = asyncio.create_task(client.get("/healthz"))
            await asyncio.sleep(HELD_AFTER_REQUEST)
        finally:
            server.send_signal(signal.SIGCONT)
        try:
            return await pending
        except httpx.HTTPError as exc:
            return exc


def _ordering(tmp_path: Path, keep_alive: int) -> ServiceProcess:
    env = service_env({"ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"})
    return ServiceProcess(
        "ordering",
        "ordering_api.app:create_app",
        free_port(),
        env,
        tmp_path / "ordering.log",
        keep_alive_seconds=keep_alive,
    )


async def test_client_expiry_longer_than_server_keep_alive_races(tmp_path: Path) -> None:
    # httpx's default expiry (5 s) against a server that closes idle connections after 1 s.
    with _ordering(tmp_path, keep_alive=1) as server:
        outcome = await _request_across_server_timeout(server, client_expiry=5.0)
    # The server closed the connection with the request unread: the client sees the close
    # ("Server disconnected without sending a response") or the reset it causes.
    assert isinstance(outcome, httpx.RemoteProtocolError | httpx.ReadError), outcome


async def test_client_expiry_shorter_than_server_keep_alive_does_not_race(
    tmp_path: Path,
) -> None:
    # Our rule at a tenth of the scale: the server keeps 2 s (30 s), the client 1 s (15 s).
    with _ordering(tmp_path, keep_alive=2) as server:
        outcome = await _request_across_server_timeout(server, client_expiry=1.0)
    assert isinstance(outcome, httpx.Response), outcome
    assert outcome.status_code == 200


def test_our_clients_expire_idle_connections_before_our_servers_close_them() -> None:
    assert CLIENT_KEEPALIVE_EXPIRY_SECONDS <= SERVER_KEEP_ALIVE_SECONDS / 2
    billing_client = OrderingClient("http://ordering.test", "token", 5.0)
    bff_client = _http_client("http://upstream.test", "token", BffSettings(), None)
    for client in (billing_client._http, bff_client):
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert pool._keepalive_expiry == CLIENT_KEEPALIVE_EXPIRY_SECONDS


def test_every_server_we_run_keeps_connections_30_seconds(tmp_path: Path) -> None:
    # The run command's services (plain and scaled) and the processes tests and benchmarks start.
    for scaled in (False, True):
        settings = RunSettings.from_environment(scaled=scaled, env={})
        for replica in settings.replica_list():
            command = " ".join(service_command(settings, replica, tmp_path / "log.json"))
            assert f"--timeout-keep-alive {SERVER_KEEP_ALIVE_SECONDS}" in command, command
    assert ServiceProcess.keep_alive_seconds == SERVER_KEEP_ALIVE_SECONDS
