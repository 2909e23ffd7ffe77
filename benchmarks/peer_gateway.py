"""The peer: Hive Gateway serving a Mesh Compose supergraph built from the services' OpenAPI.

The npm packages are pinned by `benchmarks/peer/package-lock.json` and installed on demand with
`npm ci` into `benchmarks/peer/node_modules/` (git-ignored), the first time a run needs them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from service_procs.processes import ServiceProcess

PEER_DIR = Path(__file__).resolve().parent / "peer"
NODE_MODULES = PEER_DIR / "node_modules"
# npm writes this file last; its presence and age say whether `npm ci` finished for this lock.
INSTALLED_MARKER = NODE_MODULES / ".package-lock.json"


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise RuntimeError(f"the peer benchmark needs `{tool}` (Node.js 20 or newer) on PATH")
    return found


def ensure_installed() -> None:
    """`npm ci` from the committed lockfile, unless that exact install is already there."""
    lock = PEER_DIR / "package-lock.json"
    if INSTALLED_MARKER.exists() and INSTALLED_MARKER.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = _need("npm")
    print("installing the peer gateway (npm ci in benchmarks/peer) ...", flush=True)
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PEER_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm ci failed in {PEER_DIR}:\n{result.stderr[-4000:]}")


def compose_supergraph(
    ordering_url: str, billing_url: str, service_token: str, output: Path
) -> None:
    """Mesh Compose over the services' live `/openapi.json` (see peer/mesh.config.ts)."""
    env = {
        **os.environ,
        "ORDERING_URL": ordering_url,
        "BILLING_URL": billing_url,
        "SERVICE_TOKEN": service_token,
    }
    result = subprocess.run(
        [str(NODE_MODULES / ".bin" / "mesh-compose"), "-o", str(output)],
        cwd=PEER_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0 or not output.exists():
        raise RuntimeError(
            f"mesh-compose failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )


def retarget(supergraph: Path, replacements: dict[str, str], output: Path) -> None:
    """The same supergraph with its upstream locations swapped (e.g. for the counting proxy)."""
    text = supergraph.read_text()
    for old, new in replacements.items():
        quoted = json.dumps(old)
        if quoted not in text:
            raise RuntimeError(f"{old} is not a location in {supergraph}")
        text = text.replace(quoted, json.dumps(new))
    output.write_text(text)


@dataclass
class HiveGateway(ServiceProcess):
    """`hive-gateway supergraph` as a process on 127.0.0.1, one worker (as the BFF runs one).

    `factory` is unused (the supergraph file is what it serves); everything else — start,
    readiness, logs, stop — is ServiceProcess's.
    """

    supergraph: Path = field(kw_only=True)
    health_path: ClassVar[str] = "/readiness"
    ready_seconds: ClassVar[float] = 60.0

    @classmethod
    def create(cls, name: str, supergraph: Path, port: int, log_path: Path) -> HiveGateway:
        env = {**os.environ, "NODE_ENV": "production"}
        return cls(name, "hive-gateway supergraph", port, env, log_path, supergraph=supergraph)

    def command(self) -> list[str]:
        return [
            _need("node"),
            str(NODE_MODULES / "@graphql-hive" / "gateway" / "dist" / "bin.js"),
            "supergraph",
            str(self.supergraph),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--fork",
            "1",
        ]

    def working_directory(self) -> Path:
        # Not the peer directory: the gateway would take mesh.config.ts there for its own.
        return self.supergraph.parent
