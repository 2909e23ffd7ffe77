"""scripts/run, the README's run command: the services come up healthy with demo data and the
URLs printed; a killed service is restarted by the supervisor while the others keep serving
(the browser shows the degraded screens, then the recovery); SIGINT (Ctrl-C) stops everything.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DESKTOP, Screenshots, open_page
from tests.e2e.processes import AUTH_ORDERING
from tests.e2e.run_command import alive, descendants, healthy, started_run, wait_for
from tests.support.processes import REPO_ROOT

SERVICES = ("ordering", "billing", "bff")


def test_run_command_starts_the_system_seeded_and_stops_it_on_ctrl_c(tmp_path: Path) -> None:
    with started_run(tmp_path) as run:
        run.wait_for_banner(120)
        urls = {name: run.url(name) for name in SERVICES}
        assert all(healthy(url) for url in urls.values())
        output = run.output()
        for expected in (
            f"{urls['bff']}/",
            f"{urls['bff']}/graphql",
            f"{urls['ordering']}/openapi.json",
            f"{urls['billing']}/openapi.json",
        ):
            assert expected in output
        assert "seed: added" in output
        # Nothing a user must learn to ignore: no tracebacks, no supervisord alarms.
        start = output[: output.index("Press Ctrl-C to stop.")]
        assert not re.search(r"Traceback|CRIT|BuildBackendWarning", start), start

        # Demo data went in through ordering, and its SQLite files are where RUN_VAR_DIR says.
        orders = httpx.get(
            f"{urls['ordering']}/orders",
            params={"limit": 100},
            headers=AUTH_ORDERING,
            timeout=5,
        ).json()
        statuses = {order["status"] for order in orders["orders"]}
        assert {"draft", "confirmed"} <= statuses
        assert (run.var_dir / "ordering.db").exists()
        assert (run.var_dir / "billing.db").exists()
        assert (run.var_dir / "bff.db").exists()
        # The banner names one demo account per role, with a password that signs in.
        with httpx.Client(base_url=urls["bff"], timeout=5) as browser:
            assert browser.get("/orders").status_code == 303  # anonymous: to sign in
            for role in ("viewer", "clerk", "approver", "operator"):
                name, password = run.demo_account(role)
                signed_in = browser.post("/auth/login", json={"name": name, "password": password})
                assert signed_in.status_code == 200 and role in signed_in.json()["roles"]
            page = browser.get("/orders")
            assert page.status_code == 200
            assert re.search(r'src="/static/[0-9a-f]{12}/app\.js"', page.text)  # fingerprinted

        # supervisord runs the three services, each as its own process; scripts/ctl (the
        # README's way to look and to stop one) talks to that supervisord.
        pids = {name: run.supervisor.pid(name) for name in SERVICES}
        children = descendants(run.process.pid)
        assert set(pids.values()) <= children and len(set(pids.values())) == 3
        status = subprocess.run(
            ["bash", str(REPO_ROOT / "scripts" / "ctl"), "status"],
            env={**os.environ, "RUN_VAR_DIR": str(run.var_dir)},
            capture_output=True,
            text=True,
            timeout=30,
        )
        for name, pid in pids.items():
            assert re.search(rf"^{name} +(STARTING|RUNNING\b.*pid {pid}\b)", status.stdout, re.M)

        os.killpg(run.process.pid, signal.SIGINT)
        assert run.process.wait(timeout=60) == 128 + signal.SIGINT
        wait_for(lambda: not any(alive(pid) for pid in children), 15, "every child to exit")
        assert not any(healthy(url) for url in urls.values())
        output = run.output()
        assert "received SIGINT indicating exit request" in output
        assert "run: SIGINT: everything stopped" in output


@pytest.mark.browser
def test_a_killed_service_is_restarted_while_the_others_keep_serving(
    browser: Browser, tmp_path: Path, screenshots: Screenshots
) -> None:
    with started_run(tmp_path) as run:
        run.wait_for_banner(120)
        supervisor = run.supervisor
        pids = {name: supervisor.pid(name) for name in SERVICES}
        assert all(pids.values()), pids
        page, script_errors = open_page(browser, run.url("bff"), DESKTOP, run.demo_account("clerk"))
        try:
            page.goto("/orders")
            # The demo data has an approved invoice: its badge links to it from the list.
            expect(page.locator("a.invoice-link").first).to_be_visible()
            expect(page.locator(".notice--warning")).to_have_count(0)

            # Billing crashes (SIGKILL: no shutdown code runs). supervisord restarts it within a
            # second or so; it is held (SIGSTOP, a fault in a program we don't own) while the
            # browser looks, as a slow restart would leave it.
            supervisord_pid = supervisor.supervisord_pid()
            os.kill(supervisord_pid, signal.SIGSTOP)
            try:
                os.kill(pids["billing"], signal.SIGKILL)
                wait_for(lambda: not alive(pids["billing"]), 10, "billing to die")
                assert not healthy(run.url("billing"))

                page.goto("/orders")
                expect(page.locator(".notice--warning")).to_contain_text(
                    "Invoices are unavailable right now"
                )
                rows = page.locator("tr[data-order-number]")
                expect(rows.first).to_be_visible()
                expect(rows.filter(has_text="Ada Lovelace")).to_contain_text("Unavailable")
                expect(page.locator("a.invoice-link")).to_have_count(0)
                screenshots.take(page, "run-orders-billing-killed")
                page.goto("/invoices")
                expect(page.get_by_role("alert")).to_contain_text(
                    "Invoices are unavailable right now"
                )
                screenshots.take(page, "run-invoices-billing-killed")
                # Ordering and the BFF kept running.
                assert healthy(run.url("ordering")) and healthy(run.url("bff"))
            finally:
                os.kill(supervisord_pid, signal.SIGCONT)

            new_pid = run.wait_restarted("billing", pids["billing"])
            wait_for(lambda: healthy(run.url("billing")), 60, "billing healthy again")
            page.goto("/orders")
            expect(page.locator("a.invoice-link").first).to_be_visible()
            expect(page.locator(".notice--warning")).to_have_count(0)
            page.goto("/invoices")
            expect(page.locator("tbody tr").first).to_be_visible()
            expect(page.get_by_role("alert")).to_have_count(0)
            screenshots.take(page, "run-invoices-billing-restarted")
        finally:
            page.context.close()
        assert script_errors == []

        # Only billing was restarted; the restart is in the run's output.
        assert {name: supervisor.pid(name) for name in ("ordering", "bff")} == {
            "ordering": pids["ordering"],
            "bff": pids["bff"],
        }
        assert new_pid != pids["billing"]
        output = run.output()
        assert "exited: billing (terminated by SIGKILL; not expected)" in output
        assert f"spawned: 'billing' with pid {new_pid}" in output
