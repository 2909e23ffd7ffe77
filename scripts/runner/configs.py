"""The files the run writes before it starts anything: supervisord's config, one logging config
per service process (its name in front of every line), and HAProxy's config (scaled run, made
in scripts/runner/haproxy.py)."""

from __future__ import annotations

import json
import os
import secrets
import shlex
from pathlib import Path

from scripts.runner.haproxy import haproxy_config
from scripts.runner.settings import REPO_ROOT, SERVICES, Replica, RunSettings
from service_http.keepalive import SERVER_KEEP_ALIVE_SECONDS

# A crashed process is started again at once; one that dies within START_SECONDS of starting
# counts as a failed start, retried after 1, 2, 3… s (supervisord's backoff) up to
# START_RETRIES times before supervisord gives up on it (FATAL, logged). START_SECONDS is
# longer than a service takes to start on a busy 2-core machine (imports, migrations, bind),
# so a service that cannot start is backed off instead of restarted in a tight loop.
START_SECONDS = 10
START_RETRIES = 10
# Process priorities: lower starts first and stops last. The balancer stops first (no new
# requests), then the BFF, billing, ordering, and the databases last.
PRIORITY = {
    "postgres": 10,
    "redis": 10,
    "ordering": 100,
    "billing": 200,
    "bff": 300,
    "haproxy": 900,
}


def _path(value: str | Path) -> str:
    # supervisord expands %(name)s in commands and paths: a literal % must be doubled.
    return str(value).replace("%", "%%")


def _quote(value: str | Path) -> str:
    return _path(shlex.quote(str(value)))


def _program(
    name: str, command: list[str], priority: int, autostart: bool, **extra: str | int
) -> str:
    options: dict[str, str | int] = {
        "command": " ".join(_quote(part) for part in command),
        "directory": _path(REPO_ROOT),
        "priority": priority,
        "autostart": "true" if autostart else "false",
        "autorestart": "true",
        "startsecs": START_SECONDS,
        "startretries": START_RETRIES,
        "stopsignal": "TERM",
        "stopwaitsecs": 15,
        # The whole process group gets the stop signal (and SIGKILL after stopwaitsecs), so
        # nothing a service started is left behind.
        "stopasgroup": "true",
        "killasgroup": "true",
        # Every line to the run's own terminal (no rotation: it is not a file).
        "stdout_logfile": "/dev/stdout",
        "stdout_logfile_maxbytes": 0,
        "redirect_stderr": "true",
    }
    options.update(extra)
    body = "\n".join(f"{key}={value}" for key, value in options.items())
    return f"[program:{name}]\n{body}\n"


def logging_config(process_name: str) -> dict[str, object]:
    """A logging dictConfig for uvicorn's --log-config: every line names its process, as the
    processes share one terminal."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "line": {
                "format": f"%(asctime)s {process_name:<10} | %(levelname)s %(name)s: %(message)s",
                "datefmt": "%H:%M:%S",
            }
        },
        "handlers": {
            "out": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"level": "INFO", "handlers": ["out"]},
        # Chatter that would bury what matters: alembic's plugin list on every start, one
        # httpx line per request between services.
        "loggers": {
            "alembic.runtime.plugins": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
        },
    }


def service_command(settings: RunSettings, replica: Replica, log_config: Path) -> list[str]:
    factory = {name: factory for name, factory, _ in SERVICES}[replica.service]
    return [
        str(settings.venv_bin / "uvicorn"),
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(replica.port),
        # Longer than the idle time of every client we own (httpx keepalive_expiry <= 15 s,
        # HAProxy's pool), so a client never reuses a connection the server is closing.
        "--timeout-keep-alive",
        str(SERVER_KEEP_ALIVE_SECONDS),
        "--log-config",
        str(log_config),
    ]


def postgres_command(settings: RunSettings) -> list[str]:
    return [
        str(settings.pg_bin / "postgres"),
        "-D",
        str(settings.scaled_dir / "postgres"),
        "-p",
        str(settings.postgres_port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",  # TCP on 127.0.0.1 only, with a password
        "-c",
        "max_connections=200",
    ]


def redis_command(settings: RunSettings) -> list[str]:
    return [
        "redis-server",
        "--bind",
        "127.0.0.1",
        "--port",
        str(settings.redis_port),
        "--dir",
        str(settings.scaled_dir / "redis"),
        "--save",
        "60 1",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
        # Its start-up banner and advice about kernel settings go to a file, not the terminal.
        "--logfile",
        str(settings.scaled_dir / "redis.log"),
    ]


def haproxy_command(settings: RunSettings) -> list[str]:
    # -db: foreground, no daemon (supervisord watches it).
    return ["haproxy", "-db", "-f", str(settings.scaled_dir / "haproxy.cfg")]


def supervisord_config(settings: RunSettings, password: str) -> str:
    """`password` guards the control socket (on top of its 0700 mode), which also keeps
    supervisord from warning that the socket has none."""
    run = settings.supervisor_dir
    parts = [
        "; Written by scripts/run on every start: edit scripts/runner/configs.py instead.\n",
        f"""[supervisord]
nodaemon=true
identifier=order-to-invoice
logfile={_path(run / "supervisord.log")}
pidfile={_path(run / "supervisord.pid")}
childlogdir={_path(run)}
loglevel=info
"""
        # supervisord refuses to start as root without being told that is intended.
        + ("user=root\n" if os.geteuid() == 0 else ""),
        f"""[unix_http_server]
file={_path(run / "supervisor.sock")}
chmod=0700
username=run
password={_path(password)}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{_path(run / "supervisor.sock")}
username=run
password={_path(password)}
""",
    ]
    if settings.scaled:
        # PostgreSQL refuses to run as root: as root, supervisord starts it as postgres.
        as_postgres = {"user": "postgres"} if os.geteuid() == 0 else {}
        parts.append(
            _program(
                "postgres",
                postgres_command(settings),
                PRIORITY["postgres"],
                autostart=True,
                # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to leave.
                stopsignal="INT",
                stopwaitsecs=30,
                **as_postgres,
            )
        )
        parts.append(_program("redis", redis_command(settings), PRIORITY["redis"], autostart=True))
        # Started once the replicas answer, so its first health checks find them up.
        parts.append(
            _program("haproxy", haproxy_command(settings), PRIORITY["haproxy"], autostart=False)
        )
    replicas = settings.replica_list()
    for replica in replicas:
        command = service_command(settings, replica, run / f"logging-{replica.name}.json")
        # The services start once the databases answer (the run starts them over XML-RPC).
        parts.append(_program(replica.name, command, PRIORITY[replica.service], autostart=False))
    if settings.scaled:
        for service, _, _ in SERVICES:
            members = ",".join(r.name for r in replicas if r.service == service)
            priority = PRIORITY[service]
            parts.append(f"[group:{service}]\nprograms={members}\npriority={priority}\n")
    return "\n".join(parts)


def write_configs(settings: RunSettings) -> None:
    settings.supervisor_dir.mkdir(parents=True, exist_ok=True)
    settings.supervisor_dir.chmod(0o700)
    # Owner only: it holds the control socket's password.
    settings.supervisor_conf.touch(mode=0o600)
    settings.supervisor_conf.chmod(0o600)
    password = secrets.token_urlsafe(18)
    settings.supervisor_conf.write_text(supervisord_config(settings, password))
    for replica in settings.replica_list():
        path = settings.supervisor_dir / f"logging-{replica.name}.json"
        path.write_text(json.dumps(logging_config(replica.name), indent=2))
    if settings.scaled:
        settings.scaled_dir.mkdir(parents=True, exist_ok=True)
        (settings.scaled_dir / "haproxy.cfg").write_text(haproxy_config(settings))
