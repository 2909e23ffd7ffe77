"""The scaled run's PostgreSQL cluster under var/: made once, its password kept beside it, and
the services' databases created when missing."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import asyncpg

from scripts.runner.settings import RunSettings

DATABASES = ("ordering", "billing", "bff")


class PostgresError(RuntimeError):
    """The cluster could not be made or reached; the message says what to do."""


def _as_postgres() -> list[str]:
    # PostgreSQL refuses to run as root; as root its programs run as the postgres user.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _check_reachable(directory: Path) -> None:
    """As root, the postgres user must reach its data directory through every parent."""
    if os.geteuid() != 0:
        return
    probe = subprocess.run([*_as_postgres(), "test", "-w", str(directory)], capture_output=True)
    if probe.returncode != 0:
        raise PostgresError(
            f"PostgreSQL runs as the postgres user, which cannot reach {directory} (a parent "
            "directory is closed to other users). Set RUN_VAR_DIR to a directory it can reach, "
            "e.g. RUN_VAR_DIR=/var/tmp/order-to-invoice."
        )


def ensure_cluster(settings: RunSettings) -> str:
    """Make the cluster if there is none (initdb); the superuser's password either way."""
    data = settings.scaled_dir / "postgres"
    password_file = settings.scaled_dir / "postgres.password"
    if (data / "PG_VERSION").exists():
        if not password_file.exists():
            raise PostgresError(f"{password_file} is missing: remove {data} to start afresh")
        return password_file.read_text().strip()
    if not (settings.pg_bin / "initdb").exists():
        raise PostgresError(f"PostgreSQL 15 is not installed ({settings.pg_bin}/initdb)")
    shutil.rmtree(data, ignore_errors=True)  # a half-made cluster from an interrupted start
    data.mkdir(parents=True)
    data.chmod(0o700)
    password = secrets.token_urlsafe(24)
    # initdb reads the password from a file its user can read; removed right after.
    handover = settings.scaled_dir / ".initdb-password"
    handover.write_text(password)
    handover.chmod(0o600)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
        shutil.chown(handover, "postgres")
    try:
        _check_reachable(data)
        print("run: making the PostgreSQL cluster (first scaled start only)", flush=True)
        result = subprocess.run(
            [
                *_as_postgres(),
                str(settings.pg_bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                f"--pwfile={handover}",
                "--encoding=UTF8",
            ],
            capture_output=True,
            text=True,
        )
    finally:
        handover.unlink(missing_ok=True)
    if result.returncode != 0:
        raise PostgresError(f"initdb failed:\n{result.stdout}{result.stderr}")
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    return password


async def _prepare(port: int, password: str, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            connection = await asyncpg.connect(
                host="127.0.0.1", port=port, user="postgres", password=password, timeout=2
            )
            break
        except (OSError, asyncpg.PostgresError) as error:
            # Refused while it starts, or "the database system is starting up".
            if time.monotonic() > deadline:
                raise PostgresError(f"PostgreSQL did not answer on port {port}: {error}") from None
            await asyncio.sleep(0.2)
    try:
        existing = {
            row["datname"] for row in await connection.fetch("SELECT datname FROM pg_database")
        }
        for name in DATABASES:
            if name not in existing:
                await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def wait_and_create_databases(settings: RunSettings, password: str, timeout: float = 60) -> None:
    """Wait until the server takes connections, then create the services' missing databases
    (their tables come from each service's own migrations when it starts)."""
    asyncio.run(_prepare(settings.postgres_port, password, timeout))
