"""Real servers for benchmarks: a throwaway PostgreSQL cluster and services as uvicorn processes.

A small local copy of what the tests use (tests/support/servers.py, tests/support/processes.py):
benchmarks must not import from tests/. When the shared process/server helpers move out of
tests/ into an importable module, this file should become a thin re-export of them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVICE_PREFIXES = ("ORDERING_", "BILLING_", "BFF_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    run_as: tuple[str, ...]

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        subprocess.run(
            [
                str(PG_BIN / "psql"),
                *("-h", self.host, "-p", str(self.port), "-U", self.user, "-d", "postgres"),
                *("-v", "ON_ERROR_STOP=1", "-qAt", "-c", f'CREATE DATABASE "{name}"'),
            ],
            check=True,
            capture_output=True,
        )
        return self.url(name)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 cluster on 127.0.0.1 (fsync off, like the tests'), removed afterwards."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN}; run scripts/setup")
    root = Path(tempfile.mkdtemp(prefix="pgbench-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    as_root = os.geteuid() == 0
    user = "postgres" if as_root else pwd.getpwuid(os.geteuid()).pw_name
    # PostgreSQL refuses to run as root; as root its binaries run as the postgres user.
    run_as: tuple[str, ...] = ("runuser", "-u", "postgres", "--") if as_root else ()
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(
        [
            *run_as,
            *(str(PG_BIN / "initdb"), "-D", str(data), "-U", user),
            *("--auth=trust", "--encoding=UTF8", "--no-sync"),
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off"
    subprocess.run(
        [
            *run_as,
            *(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options),
            *("-l", str(root / "server.log"), "-w", "-t", "60", "start"),
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield PostgresServer("127.0.0.1", port, user, run_as)
    finally:
        subprocess.run(
            [*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def service_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """This environment without service settings a developer's shell may carry, plus overrides."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(SERVICE_PREFIXES)}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


@dataclass
class ServiceProcess:
    """`uvicorn --factory <factory>` on 127.0.0.1:<port>; healthy on enter, stopped on exit."""

    name: str
    factory: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def __enter__(self) -> ServiceProcess:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--factory", self.factory),
                *("--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"),
                *("--timeout-keep-alive", "30"),
            ],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name} not healthy in {timeout}s:\n{self.log_tail()}")
                time.sleep(0.05)

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
