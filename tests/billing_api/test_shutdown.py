"""billing as a real uvicorn process exits promptly when told to stop, with a pull in flight.

Ordering once hung at exit: its background loop was cancelled by the lifespan's task group
while inside an aiosqlite call; SQLAlchemy's connection cleanup was itself cancelled again (an
anyio scope keeps cancelling), and a task it left behind never finished, so `asyncio.run` waited
forever after "Application shutdown complete". Billing's pull runs in a task of its own that
shutdown cancels exactly once (`Syncer.aclose`), so the cleanup completes before shutdown does.

Checked against the bug: with `run_forever` calling `_pull` directly (the pull under the task
group's scope, as ordering had it) the busy-port process hangs after "Application shutdown
complete".
"""

from __future__ import annotations

import signal
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.billing_api.checks import eventually
from tests.billing_api.conftest import WEB_URL
from tests.billing_api.harness import AUTH, TOKEN
from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port

# Shutdown takes well under a second here; a hang would be forever, or ORDERING_TIMEOUT below.
PROMPT_EXIT = 5.0
ORDERING_TIMEOUT = "30"


@pytest.fixture
def silent_ordering() -> Iterator[socket.socket]:
    """An "ordering" that takes connections and never answers: a pull waits on it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener


def url_of(listener: socket.socket) -> str:
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def billing(tmp_path: Path, ordering_url: str, port: int | None = None) -> ServiceProcess:
    env = service_env({
        "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}",
        "BILLING_ORDERING_URL": ordering_url,
        "BILLING_WEB_URL": WEB_URL,
        "BILLING_PULL_INTERVAL": "0.05",
        "BILLING_PULL_BACKOFF_CAP": "0.1",
        "BILLING_ORDERING_TIMEOUT": ORDERING_TIMEOUT,
        "SERVICE_TOKEN": TOKEN,
    })  # fmt: skip
    return ServiceProcess(
        "billing", "billing_api.app:create_app", port or free_port(), env, tmp_path / "billing.log"
    )


def log_has(process: ServiceProcess, line: str) -> bool:
    return line in process.log_path.read_text(errors="replace")


async def logged(process: ServiceProcess, line: str) -> bool:
    return log_has(process, line)


async def test_sigterm_with_a_pull_waiting_for_sqlites_write_lock_exits_promptly(
    tmp_path: Path,
) -> None:
    """SQLite runs on the event loop's thread (service_db.sqlite_inline): a writer waiting for
    the write lock naps asynchronously between attempts instead of sleeping inside SQLite, so
    shutdown cancels it at once, however long another connection keeps the lock (with
    aiosqlite's thread, shutdown had to wait until SQLite answered)."""
    unreachable = f"http://127.0.0.1:{free_port()}"
    with billing(tmp_path, unreachable) as process:
        async with httpx.AsyncClient(base_url=process.url, headers=AUTH) as http:

            async def waiting_for_the_lock() -> bool:
                # Every pull logs "pull failed" (ordering is unreachable) and then records the
                # failure in SQLite. More lines than recorded failures: a pull sits between
                # the two, waiting for the write lock held below.
                recorded = (await http.get("/sync/status")).json()["consecutive_failures"]
                lines = process.log_path.read_text(errors="replace").count("pull failed")
                return bool(lines > recorded)

            # Another writer takes SQLite's write lock (readers, like /sync/status, still go).
            writer = sqlite3.connect(tmp_path / "billing.db", isolation_level=None, timeout=10)
            try:
                writer.execute("BEGIN IMMEDIATE")
                await eventually(waiting_for_the_lock, within=10)
                process.send_signal(signal.SIGTERM)
                process.wait_exit(PROMPT_EXIT)  # the lock is still held
                assert log_has(process, "Application shutdown complete")
                writer.rollback()
            finally:
                writer.close()


async def test_sigint_with_a_pull_waiting_on_ordering_exits_promptly(
    tmp_path: Path, silent_ordering: socket.socket
) -> None:
    with billing(tmp_path, url_of(silent_ordering)) as process:
        # The pull's request arriving is the condition; accept() gives up after the timeout.
        silent_ordering.settimeout(10)
        connection, _ = silent_ordering.accept()
        with connection:
            async with httpx.AsyncClient(base_url=process.url, headers=AUTH) as http:
                assert (await http.get("/sync/status")).json()["running"] is True
            process.send_signal(signal.SIGINT)
            process.wait_exit(PROMPT_EXIT)
        assert log_has(process, "Application shutdown complete")


async def test_a_busy_port_runs_startup_and_shutdown_then_exits(
    tmp_path: Path, silent_ordering: socket.socket
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = billing(tmp_path, url_of(silent_ordering), port=taken.getsockname()[1])
        process.start()
        try:
            # Startup starts the first pull, the bind fails, and shutdown has to end that pull
            # for the process to exit. The deadline includes starting Python and the imports.
            code = process.wait_exit(PROMPT_EXIT * 2)
        finally:
            process.stop()
    assert code != 0
    assert log_has(process, "address already in use")
    assert log_has(process, "Application shutdown complete")
