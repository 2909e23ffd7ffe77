"""The three services as real uvicorn processes on 127.0.0.1, for the end-to-end tests.

Each system gets its own free ports, its own SQLite files in a temporary directory and its own
service token, so several systems can run side by side (one per test that breaks a service).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port

SERVICE_TOKEN = "e2e-service-token"


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


@contextmanager
def running_system(
    root: Path, pull_interval: float = 0.5, extra_env: dict[str, str] | None = None
) -> Iterator[System]:
    """Start ordering, billing and the BFF on free ports; stop them all on exit."""
    ports = {"ordering": free_port(), "billing": free_port(), "bff": free_port()}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = service_env(
        {
            "SERVICE_TOKEN": SERVICE_TOKEN,
            "ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'ordering.db'}",
            "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'billing.db'}",
            "BILLING_ORDERING_URL": url["ordering"],
            "BILLING_WEB_URL": url["bff"],
            "BILLING_PULL_INTERVAL": str(pull_interval),
            "BILLING_PULL_BACKOFF_CAP": "2",
            "BFF_ORDERING_URL": url["ordering"],
            "BFF_BILLING_URL": url["billing"],
            "BFF_BILLING_PUBLIC_URL": url["billing"],
            **(extra_env or {}),
        }
    )
    services = {
        name: ServiceProcess(
            name, f"{package}.app:create_app", ports[name], env, root / f"{name}.log"
        )
        for name, package in (
            ("ordering", "ordering_api"),
            ("billing", "billing_api"),
            ("bff", "bff"),
        )
    }
    with ExitStack() as stack:
        for service in services.values():
            stack.callback(service.stop)
            service.start()
        for service in services.values():
            service.wait_healthy()
        yield System(services["ordering"], services["billing"], services["bff"])
