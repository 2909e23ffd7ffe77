"""`scripts/run --scaled`: PostgreSQL, Redis, two replicas of each service and HAProxy in front
of each, all under supervisord. A killed replica of each service is routed around (every
request through the balancers is answered) and restarted; with a whole service down the others
keep answering; Ctrl-C's SIGTERM twin stops everything, PostgreSQL cleanly."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import AUTH_BILLING, AUTH_ORDERING
from tests.e2e.run_command import (
    HEALTH_PATH,
    RunCommand,
    alive,
    descendants,
    started_run,
    wait_for,
)
from tests.support.accounts import session_cookies

SERVICES = ("ordering", "billing", "bff")
ORDERS_WITH_INVOICES = "{ orders(first: 20) { edges { node { number invoice { status } } } } }"
INVOICES = "{ invoices(first: 20) { edges { node { number customer { name } } } } }"


@pytest.fixture
def root() -> Iterator[Path]:
    """Not pytest's tmp_path: PostgreSQL runs as the postgres user, which must reach its data
    directory, and pytest's temporary directories are closed to other users."""
    path = Path(tempfile.mkdtemp(prefix="scaled-run-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def server_states(run: RunCommand) -> dict[str, str]:
    """HAProxy's view of every replica ("UP", "DOWN", …), from its statistics page as CSV."""
    port = run.ports["RUN_HAPROXY_STATS_PORT"]
    text = httpx.get(f"http://127.0.0.1:{port}/;csv", timeout=5).text.lstrip("# ")
    return {
        row["svname"]: row["status"]
        for row in csv.DictReader(io.StringIO(text))
        if row["svname"] not in ("FRONTEND", "BACKEND")
    }


def graphql(run: RunCommand, query: str) -> dict[str, Any]:
    # Signed in through the balancer as the demo viewer: the session lives in the shared
    # Redis, so whichever BFF replica answers next knows it.
    cookies = session_cookies(run.url("bff"), *run.demo_account("viewer"))
    response = httpx.post(
        f"{run.url('bff')}/graphql", json={"query": query}, cookies=cookies, timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def answers_everywhere(run: RunCommand) -> None:
    """One request to each service through its balancer, each answered in full."""
    orders = httpx.get(f"{run.url('ordering')}/orders", headers=AUTH_ORDERING, timeout=10)
    assert orders.status_code == 200, orders.text
    invoices = httpx.get(f"{run.url('billing')}/invoices", headers=AUTH_BILLING, timeout=10)
    assert invoices.status_code == 200, invoices.text
    body = graphql(run, ORDERS_WITH_INVOICES)
    assert "errors" not in body, body
    assert body["data"]["orders"]["edges"]


def test_the_scaled_run_routes_around_dead_replicas_and_restarts_them(root: Path) -> None:
    with started_run(root, scaled=True) as run:
        run.wait_for_banner(240)
        supervisor = run.supervisor
        checks = re.findall(
            r"^backend (\w+)$.*?http-check send meth GET uri (\S+)$",
            (run.var_dir / "scaled" / "haproxy.cfg").read_text(),
            flags=re.M | re.S,
        )
        assert dict(checks) == {"ordering": HEALTH_PATH, "billing": HEALTH_PATH, "bff": "/healthz"}
        assert set(server_states(run).values()) == {"UP"}, server_states(run)
        assert "seed: added" in run.output()
        answers_everywhere(run)

        # One replica of each service dies (SIGKILL). Every request through the balancers is
        # still answered: a refused connection is retried on the other replica.
        victims = {service: f"{service}:{service}-1" for service in SERVICES}
        old_pids = {name: supervisor.pid(name) for name in victims.values()}
        for pid in old_pids.values():
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not any(alive(pid) for pid in old_pids.values()), 10, "replicas dead")
        for _ in range(10):
            answers_everywhere(run)

        # supervisord starts them again, and the balancers send them requests again.
        for name, pid in old_pids.items():
            run.wait_restarted(name, pid, timeout=90)
        wait_for(lambda: set(server_states(run).values()) == {"UP"}, 90, "every replica UP")
        answers_everywhere(run)

        # A whole service: both ordering replicas die, and supervisord is held (SIGSTOP, a
        # fault in a program we don't own) so that the outage lasts while we look.
        supervisord_pid = supervisor.supervisord_pid()
        ordering_pids = [supervisor.pid(f"ordering:ordering-{n}") for n in (1, 2)]
        os.kill(supervisord_pid, signal.SIGSTOP)
        try:
            for pid in ordering_pids:
                os.kill(pid, signal.SIGKILL)
            wait_for(
                lambda: (
                    server_states(run)["ordering-1"].startswith("DOWN")
                    and server_states(run)["ordering-2"].startswith("DOWN")
                ),
                30,
                "HAProxy to mark ordering down",
            )
            # Ordering's balancer says so (503); billing answers from its own copy; the BFF
            # still serves the invoices (billing's own data).
            down = httpx.get(f"{run.url('ordering')}/orders", headers=AUTH_ORDERING, timeout=10)
            assert down.status_code == 503
            invoices = httpx.get(f"{run.url('billing')}/invoices", headers=AUTH_BILLING, timeout=10)
            assert invoices.status_code == 200 and invoices.json()["invoices"]
            body = graphql(run, INVOICES)
            assert body["data"]["invoices"]["edges"], body
        finally:
            os.kill(supervisord_pid, signal.SIGCONT)
        for n, pid in enumerate(ordering_pids, start=1):
            run.wait_restarted(f"ordering:ordering-{n}", pid, timeout=90)
        wait_for(lambda: set(server_states(run).values()) == {"UP"}, 90, "ordering UP again")

        # Back in full: a new confirmed order reaches billing, which pulls through ordering's
        # balancer, and its deep link leads to the invoice.
        created = httpx.post(
            f"{run.url('ordering')}/orders",
            headers=AUTH_ORDERING,
            json={
                "customer": {"name": "Frances Allen", "email": "frances@example.com"},
                "currency": "EUR",
                "lines": [
                    {"sku": "OPT-1", "description": "Optimiser", "quantity": 1, "unit_price": "9"}
                ],
            },
            timeout=10,
        )
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        confirmed = httpx.post(
            f"{run.url('ordering')}/orders/{number}/confirm", headers=AUTH_ORDERING, timeout=10
        )
        assert confirmed.status_code == 200, confirmed.text
        link = httpx.get(f"{run.url('billing')}/link/new_order/{number}", timeout=20)
        assert link.status_code == 303, link.text
        assert link.headers["location"].startswith(f"{run.url('bff')}/invoices/")
        answers_everywhere(run)

        # SIGTERM stops everything: no process of the run is left, PostgreSQL shut down cleanly.
        children = descendants(run.process.pid)
        run.process.send_signal(signal.SIGTERM)
        assert run.process.wait(timeout=120) == 128 + signal.SIGTERM
        wait_for(lambda: not any(alive(pid) for pid in children), 20, "every process to exit")
        assert not (run.var_dir / "scaled" / "postgres" / "postmaster.pid").exists()
        assert "stopped: postgres (exit status 0)" in run.output()
