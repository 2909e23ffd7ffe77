"""scripts/run, the README's one command: the services come up healthy with demo data and
the URLs printed, and SIGINT (Ctrl-C) stops every process it started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import SERVICE_TOKEN
from tests.support.processes import REPO_ROOT
from tests.support.servers import free_port


def descendants(root: int) -> set[int]:
    """Every live process below `root`, from /proc (children first found by parent pid)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def wait_for(condition: object, timeout: float, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout}s")
        time.sleep(0.1)


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def run_command(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, int], Path]]:
    ports = {"ORDERING_PORT": free_port(), "BILLING_PORT": free_port(), "BFF_PORT": free_port()}
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ORDERING_", "BILLING_", "BFF_"))
    }
    env.update({name: str(port) for name, port in ports.items()})
    env.update({"RUN_VAR_DIR": str(tmp_path / "var"), "SERVICE_TOKEN": SERVICE_TOKEN})
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        # Its own session, like a terminal's foreground job: Ctrl-C is SIGINT to that group.
        process = subprocess.Popen(
            ["bash", str(REPO_ROOT / "scripts" / "run")],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, ports, log
    finally:
        if process.poll() is None:
            for pid in descendants(process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_run_command_starts_the_system_seeded_and_stops_it_on_ctrl_c(
    run_command: tuple[subprocess.Popen[bytes], dict[str, int], Path], tmp_path: Path
) -> None:
    process, ports, log = run_command
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}

    def banner_printed() -> bool:
        assert process.poll() is None, f"scripts/run exited early:\n{log.read_text()}"
        return "Press Ctrl-C to stop." in log.read_text()

    wait_for(banner_printed, 90, "the run banner")
    assert all(healthy(url) for url in urls.values())
    output = log.read_text()
    bff = urls["BFF_PORT"]
    for expected in (
        f"{bff}/",
        f"{bff}/graphql",
        f"{urls['ORDERING_PORT']}/openapi.json",
        f"{urls['BILLING_PORT']}/openapi.json",
    ):
        assert expected in output
    assert "seed: added" in output

    # Demo data went in through ordering, and its SQLite files are where RUN_VAR_DIR says.
    orders = httpx.get(
        f"{urls['ORDERING_PORT']}/orders",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        timeout=5,
    ).json()
    statuses = {order["status"] for order in orders["orders"]}
    assert {"draft", "confirmed"} <= statuses
    assert (tmp_path / "var" / "ordering.db").exists()
    assert (tmp_path / "var" / "billing.db").exists()
    page = httpx.get(f"{bff}/orders", timeout=5)
    assert page.status_code == 200 and "/static/app.js" in page.text

    children = descendants(process.pid)
    assert len(children) >= 3, children  # honcho and the three services under it

    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)
    wait_for(lambda: not any(alive(pid) for pid in children), 15, "every child to exit")
    assert not any(healthy(url) for url in urls.values())
    assert "SIGINT received" in log.read_text()
