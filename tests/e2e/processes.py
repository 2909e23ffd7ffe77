"""The three services as real uvicorn processes on 127.0.0.1, for the end-to-end tests.

Each system gets its own free ports, its own SQLite files in a temporary directory and its own
service token, so several systems can run side by side (one per test that breaks a service).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from tests.support.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE_TOKEN = "e2e-service-token"


@dataclass
class ServiceProcess:
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

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", self.factory,
             "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Poll GET /healthz until it answers 200; fail early if the process died."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                    )
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name} not healthy in {timeout}s:\n{self.log_tail()}")
                time.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
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

    def is_listening(self) -> bool:
        try:
            httpx.get(f"{self.url}/healthz", timeout=1.0)
        except httpx.HTTPError:
            return False
        return True


@dataclass
class System:
    ordering: ServiceProcess
    billing: ServiceProcess
    bff: ServiceProcess
    token: str = SERVICE_TOKEN

    @property
    def web_url(self) -> str:
        return self.bff.url

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL request to the BFF as the web app does; the whole answer."""
        response = httpx.post(
            f"{self.bff.url}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=10.0,
        )
        body: dict[str, Any] = response.json()
        return body


def _base_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ORDERING_", "BILLING_", "BFF_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env["SERVICE_TOKEN"] = SERVICE_TOKEN
    return env


@contextmanager
def running_system(root: Path, pull_interval: float = 0.5) -> Iterator[System]:
    """Start ordering, billing and the BFF on free ports; stop them all on exit."""
    ports = {"ordering": free_port(), "billing": free_port(), "bff": free_port()}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = _base_env()
    env.update({
        "ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'ordering.db'}",
        "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'billing.db'}",
        "BILLING_ORDERING_URL": url["ordering"],
        "BILLING_WEB_URL": url["bff"],
        "BILLING_PULL_INTERVAL": str(pull_interval),
        "BILLING_PULL_BACKOFF_CAP": "2",
        "BFF_ORDERING_URL": url["ordering"],
        "BFF_BILLING_URL": url["billing"],
        "BFF_BILLING_PUBLIC_URL": url["billing"],
    })
    services = {
        name: ServiceProcess(name, f"{package}.app:create_app", ports[name], env,
                             root / f"{name}.log")
        for name, package in (("ordering", "ordering_api"), ("billing", "billing_api"),
                              ("bff", "bff"))
    }
    with ExitStack() as stack:
        for service in services.values():
            stack.callback(service.stop)
            service.start()
        for service in services.values():
            service.wait_healthy()
        yield System(services["ordering"], services["billing"], services["bff"])
