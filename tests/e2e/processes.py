"""The three services as real uvicorn processes on 127.0.0.1, for the end-to-end tests.

Each system gets its own free ports and its own SQLite files in a temporary directory, so
several systems can run side by side (one per test that breaks a service). The services get
per-caller credentials as a deployment does (docs/security.md), as JSON in the environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.accounts import EVERY_ROLE, add_user_sync, session_cookies
from tests.support.processes import ServiceProcess, service_env
from tests.support.servers import free_port

BILLING_TO_ORDERING = "e2e-billing-to-ordering-secret"
BFF_TO_ORDERING = "e2e-bff-to-ordering-secret"
BFF_TO_BILLING = "e2e-bff-to-billing-secret"
# A test calling a service directly does so as the BFF would.
AUTH_ORDERING = {"Authorization": f"Bearer {BFF_TO_ORDERING}"}
AUTH_BILLING = {"Authorization": f"Bearer {BFF_TO_BILLING}"}


def credentials_env() -> dict[str, str]:
    """Every process's credential settings: the callers each service accepts, each caller's
    own tokens."""
    bff_on_billing = ["invoices:read", "invoices:approve", "sync:read", "sync:run", "act-as-user"]
    return {
        "ORDERING_CREDENTIALS": json.dumps(
            {
                "billing": {
                    "scopes": ["orders:read", "feed:read"],
                    "secrets": [BILLING_TO_ORDERING],
                },
                "bff": {
                    "scopes": ["orders:read", "orders:write", "act-as-user"],
                    "secrets": [BFF_TO_ORDERING],
                },
            }
        ),
        "BILLING_CREDENTIALS": json.dumps(
            {"bff": {"scopes": bff_on_billing, "secrets": [BFF_TO_BILLING]}}
        ),
        "BILLING_ORDERING_TOKEN": BILLING_TO_ORDERING,
        "BFF_ORDERING_TOKEN": BFF_TO_ORDERING,
        "BFF_BILLING_TOKEN": BFF_TO_BILLING,
    }


@dataclass
class System:
    ordering: ServiceProcess
    billing: ServiceProcess
    bff: ServiceProcess
    # The signed-in "tester"'s session, for graphql().
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def web_url(self) -> str:
        return self.bff.url

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL request to the BFF as the web app does; the whole answer."""
        response = httpx.post(
            f"{self.bff.url}/graphql",
            json={"query": query, "variables": variables or {}},
            cookies=self.cookies,
            timeout=10.0,
        )
        body: dict[str, Any] = response.json()
        return body


@contextmanager
def running_system(
    root: Path,
    pull_interval: float = 0.5,
    bff_port: int | None = None,
    bff_settings: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[System]:
    """Start ordering, billing and the BFF on free ports; stop them all on exit."""
    ports = {"ordering": free_port(), "billing": free_port(), "bff": bff_port or free_port()}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = service_env(
        {
            **credentials_env(),
            "ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'ordering.db'}",
            "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'billing.db'}",
            "BILLING_ORDERING_URL": url["ordering"],
            "BILLING_WEB_URL": url["bff"],
            "BILLING_PULL_INTERVAL": str(pull_interval),
            "BILLING_PULL_BACKOFF_CAP": "2",
            "BFF_ORDERING_URL": url["ordering"],
            "BFF_BILLING_URL": url["billing"],
            "BFF_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'bff.db'}",
            **(bff_settings or {}),
            **(extra_env or {}),
        }
    )
    local = env.get("BFF_AUTH", "local") == "local"
    if local:
        # The suite's user, holding every role (test_roles_in_browser.py signs in as others).
        add_user_sync(env["BFF_DATABASE_URL"], "tester", EVERY_ROLE)
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
        system = System(services["ordering"], services["billing"], services["bff"])
        if local:
            system.cookies = session_cookies(system.bff.url, "tester")
        yield system
