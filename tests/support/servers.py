"""Real servers for the test session: a throwaway PostgreSQL cluster and a redis-server.

Both listen on 127.0.0.1 on a free port, live in a temporary directory, and are stopped when
the session ends. Nothing here is skipped when a binary is missing: `.ci/run` installs them,
and a missing server is a failing setup, not a skipped test.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from service_procs.ports import free_port, wait_for_port
from service_procs.postgres import PostgresServer, postgres_server

__all__ = [
    "PostgresServer",
    "RedisServer",
    "free_port",
    "postgres_server",
    "redis_server",
    "wait_for_port",
]


@dataclass(frozen=True)
class RedisServer:
    port: int

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found; run .ci/run to install it")
    root = Path(tempfile.mkdtemp(prefix="redistest-"))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield RedisServer(port=port)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)
