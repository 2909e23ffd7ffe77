"""`scripts/run [--scaled]`: write the configs, start supervisord, bring up the databases
(scaled), start the services, seed demo data, print the URLs, then stay until Ctrl-C."""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import httpx
import redis

from scripts import demo_users, seed_demo
from scripts.runner import postgres
from scripts.runner.configs import write_configs
from scripts.runner.control import Supervisor
from scripts.runner.environment import service_environment
from scripts.runner.settings import SERVICES, RunSettings, SettingsError

_PR_SET_PDEATHSIG = 1


class Stop(Exception):
    """SIGINT or SIGTERM reached the run: stop everything and leave with 128 + signum."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signum)


def _die_with_parent() -> None:
    # If this run is killed outright (SIGKILL), supervisord still gets SIGTERM from the kernel
    # and stops the services, instead of living on without anyone to stop it.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@contextmanager
def supervisord(settings: RunSettings, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """supervisord in the foreground; on leaving, SIGTERM (it stops every process it started,
    in priority order) and wait for it."""
    process = subprocess.Popen(
        [str(settings.venv_bin / "supervisord"), "--configuration", str(settings.supervisor_conf)],
        env=env,
        preexec_fn=_die_with_parent,
    )
    try:
        yield process
    finally:
        # Signals that arrive while stopping must not cut the stop short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _require_programs(settings: RunSettings) -> None:
    missing = [name for name in ("haproxy", "redis-server") if shutil.which(name) is None]
    if not (settings.pg_bin / "postgres").exists():
        missing.append("postgresql-15")
    if missing:
        raise SettingsError(f"missing {', '.join(missing)}: scripts/setup scaled installs them")


def _require_free_ports(settings: RunSettings) -> None:
    """Fail before starting anything when a port is taken (another run, a system PostgreSQL):
    otherwise a balancer could send requests to whatever answers there."""
    wanted = settings.listen_ports()
    if len(wanted) < len(settings.replica_list()) + (6 if settings.scaled else 0):
        raise SettingsError("two of the run's ports are the same: choose distinct ports")
    for port, setting in sorted(wanted.items()):
        with socket.socket() as probe:
            # A port left in TIME_WAIT by an earlier run is free for a server.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise SettingsError(
                    f"port {port} on 127.0.0.1 is in use: stop what runs there or set {setting}"
                ) from None


def _wait_for_redis(port: int, timeout: float = 30) -> None:
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                pass  # not listening yet, or still loading its dump
            if time.monotonic() > deadline:
                raise TimeoutError(f"Redis did not answer on port {port}")
            time.sleep(0.2)
    finally:
        client.close()


def _wait_healthy(urls: list[str], timeout: float, process: subprocess.Popen[bytes]) -> bool:
    try:
        seed_demo.wait_until_healthy(urls, timeout=timeout, watch_pid=process.pid)
    except (TimeoutError, RuntimeError) as error:
        print(f"run: {error}; see the lines above. Stopping.", file=sys.stderr, flush=True)
        return False
    return True


def _extra_banner_rows(settings: RunSettings) -> list[tuple[str, str]]:
    if not settings.scaled:
        return []
    return [
        ("HAProxy statistics", f"http://127.0.0.1:{settings.stats_port}/"),
        (
            "PostgreSQL",
            f"127.0.0.1:{settings.postgres_port} user postgres, password in "
            f"{settings.scaled_dir / 'postgres.password'}",
        ),
        ("Redis (BFF cache)", f"127.0.0.1:{settings.redis_port}, log in {settings.scaled_dir}"),
    ]


def _start_services(
    settings: RunSettings, control: Supervisor, process: subprocess.Popen[bytes]
) -> bool:
    """Ordering first: billing's first pull and the BFF's first calls then find it up, instead
    of logging a failure on every start. In the scaled run HAProxy starts last, so that its
    first health checks find every replica up (billing's first pull through it may then fail
    once, and is retried)."""
    replicas: dict[str, list[str]] = {name: [] for name, _, _ in SERVICES}
    for replica in settings.replica_list():
        replicas[replica.service].append(f"http://127.0.0.1:{replica.port}")
    print("run: starting ordering", flush=True)
    control.start_group("ordering")
    if not _wait_healthy(replicas["ordering"], 90, process):
        return False
    print("run: starting billing and bff", flush=True)
    control.start_group("billing")
    control.start_group("bff")
    if settings.scaled:
        if not _wait_healthy(replicas["billing"] + replicas["bff"], 90, process):
            return False
        print("run: starting HAProxy", flush=True)
        control.start_group("haproxy")
    return True


def run(settings: RunSettings) -> int:
    password: str | None = None
    _require_free_ports(settings)
    if settings.scaled:
        _require_programs(settings)
        password = postgres.ensure_cluster(settings)
        (settings.scaled_dir / "redis").mkdir(parents=True, exist_ok=True)
    else:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    write_configs(settings)
    env = service_environment(settings, os.environ, password)
    control = Supervisor.of_var_dir(settings.var_dir)
    kind = (
        f"{settings.replicas} replicas of each service behind HAProxy"
        if settings.scaled
        else "one process per service"
    )
    print(f"run: starting supervisord ({kind})", flush=True)
    with supervisord(settings, env) as process:
        control.wait_running(30, alive=lambda: process.poll() is None)
        if settings.scaled and password is not None:
            print("run: waiting for PostgreSQL and Redis", flush=True)
            postgres.wait_and_create_databases(settings, password)
            _wait_for_redis(settings.redis_port)
        if not _start_services(settings, control, process):
            return 1
        endpoints = seed_demo.Endpoints(
            ordering=settings.url("ordering"),
            billing=settings.url("billing"),
            bff=settings.url("bff"),
        )
        if not _wait_healthy([endpoints.ordering, endpoints.billing, endpoints.bff], 60, process):
            return 1
        if settings.seed:
            tokens = seed_demo.SeedTokens.from_environment(env)
            try:
                print(f"seed: {seed_demo.seed(endpoints, tokens)}", flush=True)
            except httpx.HTTPError as error:
                print(f"seed: could not add demo data: {error}", file=sys.stderr, flush=True)
        accounts = demo_users.ensure(
            env["BFF_DATABASE_URL"], settings.var_dir / demo_users.CREDENTIALS_FILE
        )
        print(
            seed_demo.banner(endpoints, _extra_banner_rows(settings))
            + "\n"
            + demo_users.banner(accounts),
            flush=True,
        )
        # In the foreground until supervisord ends (Ctrl-C, SIGTERM, or it was told to stop).
        return process.wait()


def _append_to_output_file() -> None:
    """When the run's output goes to a file (`scripts/run > run.log`), make every writer append:
    supervisord reopens /dev/stdout for each process with an offset of its own, and without
    O_APPEND their lines would overwrite one another."""
    if stat.S_ISREG(os.fstat(1).st_mode):
        flags = fcntl.fcntl(1, fcntl.F_GETFL)
        fcntl.fcntl(1, fcntl.F_SETFL, flags | os.O_APPEND)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/run", description=__doc__)
    parser.add_argument(
        "--scaled",
        action="store_true",
        help="PostgreSQL, Redis, replicas of each service behind HAProxy",
    )
    args = parser.parse_args(argv)
    _append_to_output_file()
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        settings = RunSettings.from_environment(scaled=args.scaled)
        return run(settings)
    except (SettingsError, postgres.PostgresError) as error:
        print(f"run: {error}", file=sys.stderr)
        return 2
    except (TimeoutError, RuntimeError) as error:
        # Something did not come up; supervisord and all it started are stopped by now.
        print(f"run: {error}; see the lines above. Everything stopped.", file=sys.stderr)
        return 1
    except Stop as stop:
        print(f"run: {stop}: everything stopped", flush=True)
        return 128 + stop.signum
