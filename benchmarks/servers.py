"""A throwaway PostgreSQL cluster on 127.0.0.1 for benchmarks.

A small copy of the tests' `tests/support/servers.py::postgres_server` (benchmarks import nothing
from tests/; the service processes and free ports come from `service_procs`, shared by both).
Should that helper move into an importable module too, this file can go.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from service_procs.ports import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


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
