"""What a run looks like, read once from the environment (documented in the README)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Each service as supervisord runs it: program name, ASGI factory, environment prefix.
SERVICES: tuple[tuple[str, str, str], ...] = (
    ("ordering", "ordering_api.app:create_app", "ORDERING"),
    ("billing", "billing_api.app:create_app", "BILLING"),
    ("bff", "bff.app:create_app", "BFF"),
)


class SettingsError(ValueError):
    """A run setting that cannot be used, said in words."""


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise SettingsError(f"{name}={port} is not between 1 and 65535")
    return port


@dataclass(frozen=True)
class Replica:
    service: str  # "ordering", "billing" or "bff"
    name: str  # supervisord's program name: "billing" (plain run) or "billing-2" (scaled)
    port: int


@dataclass(frozen=True)
class RunSettings:
    scaled: bool
    var_dir: Path
    # What a browser or peer uses: the services themselves (plain) or their balancers (scaled).
    ports: dict[str, int]
    replicas: int
    replica_port_base: int
    postgres_port: int
    redis_port: int
    stats_port: int
    health_path: str  # ordering's and billing's; see `health_path_of`
    seed: bool
    venv_bin: Path
    pg_bin: Path

    @classmethod
    def from_environment(cls, scaled: bool, env: Mapping[str, str] | None = None) -> RunSettings:
        env = os.environ if env is None else env
        var_dir = Path(env.get("RUN_VAR_DIR", str(REPO_ROOT / "var"))).expanduser().resolve()
        replicas_raw = env.get("RUN_REPLICAS", "2")
        if not replicas_raw.isdigit() or not 1 <= int(replicas_raw) <= 16:
            raise SettingsError(f"RUN_REPLICAS={replicas_raw!r} is not a number from 1 to 16")
        health_path = env.get("RUN_HEALTH_PATH", "/readyz")
        if not health_path.startswith("/") or any(c.isspace() for c in health_path):
            raise SettingsError(f"RUN_HEALTH_PATH={health_path!r} is not a URL path")
        return cls(
            scaled=scaled,
            var_dir=var_dir,
            ports={
                "ordering": _port(env, "ORDERING_PORT", 8001),
                "billing": _port(env, "BILLING_PORT", 8002),
                "bff": _port(env, "BFF_PORT", 8000),
            },
            replicas=int(replicas_raw) if scaled else 1,
            replica_port_base=_port(env, "RUN_REPLICA_PORT_BASE", 9100),
            # Not PostgreSQL's and Redis's usual ports: the distribution's packages start their
            # own servers there, which this run must not collide with.
            postgres_port=_port(env, "RUN_POSTGRES_PORT", 5433),
            redis_port=_port(env, "RUN_REDIS_PORT", 6380),
            stats_port=_port(env, "RUN_HAPROXY_STATS_PORT", 8404),
            health_path=health_path,
            seed=env.get("RUN_SEED", "1") != "0",
            venv_bin=Path(sys.executable).parent,
            pg_bin=Path(env.get("PG_BIN", "/usr/lib/postgresql/15/bin")),
        )

    @property
    def supervisor_dir(self) -> Path:
        """supervisord's config, socket, pid file and own log."""
        return self.var_dir / "supervisor"

    @property
    def supervisor_conf(self) -> Path:
        return self.supervisor_dir / "supervisord.conf"

    @property
    def scaled_dir(self) -> Path:
        """PostgreSQL's cluster, Redis's dump and HAProxy's config of the scaled run."""
        return self.var_dir / "scaled"

    def health_path_of(self, service: str) -> str:
        """What the balancer checks. Ordering and billing: readiness (their database answers).
        The BFF has no database and serves partial data when an upstream is down, so a BFF
        that answers at all is ready: its liveness endpoint."""
        return "/healthz" if service == "bff" else self.health_path

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def listen_ports(self) -> dict[int, str]:
        """Every port this run listens on, with the setting that chooses it."""
        names = {"ordering": "ORDERING_PORT", "billing": "BILLING_PORT", "bff": "BFF_PORT"}
        ports = {port: names[service] for service, port in self.ports.items()}
        if self.scaled:
            for replica in self.replica_list():
                ports[replica.port] = "RUN_REPLICA_PORT_BASE"
            ports[self.postgres_port] = "RUN_POSTGRES_PORT"
            ports[self.redis_port] = "RUN_REDIS_PORT"
            ports[self.stats_port] = "RUN_HAPROXY_STATS_PORT"
        return ports

    def replica_list(self) -> list[Replica]:
        """Every service process. Plain: one per service on the public port. Scaled: `replicas`
        per service on consecutive ports from `replica_port_base`, behind the balancers."""
        if not self.scaled:
            return [Replica(name, name, self.ports[name]) for name, _, _ in SERVICES]
        found: list[Replica] = []
        for service, _, _ in SERVICES:
            for index in range(1, self.replicas + 1):
                port = self.replica_port_base + len(found)
                found.append(Replica(service, f"{service}-{index}", port))
        return found
