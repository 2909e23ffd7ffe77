"""`scripts/run` as a user starts it: a subprocess in its own session (like a terminal's
foreground job), on free ports, with its var/ directory in a temporary directory.

The tests learn the PIDs of the processes from the run's own supervisord (XML-RPC over its
control socket), kill them, and wait for conditions, never for a fixed time.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from scripts.runner.control import Supervisor
from tests.e2e.processes import credentials_env
from tests.support.processes import REPO_ROOT, SERVICE_PREFIXES
from tests.support.servers import free_port

# What the scaled run's balancers health-check: its default, the services' readiness endpoint.
HEALTH_PATH = "/readyz"


def descendants(root: int) -> set[int]:
    """Every live process below `root`, from /proc (children found by parent pid)."""
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


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
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


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free ports, below the kernel's ephemeral range (so
    the free ports other tests get from the kernel do not land in it)."""
    for _ in range(200):
        base = random.randrange(20000, 32000 - count)
        try:
            with contextlib.ExitStack() as stack:
                for port in range(base, base + count):
                    probe = stack.enter_context(socket.socket())
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports")


@dataclass
class RunCommand:
    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    var_dir: Path
    log: Path

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service.upper() + '_PORT']}"

    @property
    def supervisor(self) -> Supervisor:
        return Supervisor.of_var_dir(self.var_dir)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def demo_account(self, name: str) -> tuple[str, str]:
        """A demo account's name and password, as the banner printed them."""
        match = re.search(rf"^    {name} +(\S+)  \(", self.output(), re.M)
        assert match, f"no demo account {name} in the banner"
        return name, match[1]

    def wait_for_banner(self, timeout: float) -> None:
        def printed() -> bool:
            assert self.process.poll() is None, f"scripts/run exited early:\n{self.output()}"
            return "Press Ctrl-C to stop." in self.output()

        wait_for(printed, timeout, "the run banner")

    def wait_restarted(self, name: str, old_pid: int, timeout: float = 60) -> int:
        """The new PID once supervisord runs `name` again in place of `old_pid`."""
        found: list[int] = []

        def restarted() -> bool:
            pid = self.supervisor.pid(name)
            found[:] = [pid]
            return pid not in (0, old_pid) and alive(pid)

        wait_for(restarted, timeout, f"{name} restarted by supervisord")
        return found[0]


@contextlib.contextmanager
def started_run(
    root: Path, scaled: bool = False, env_extra: dict[str, str] | None = None
) -> Iterator[RunCommand]:
    """`scripts/run [--scaled]` on free ports with RUN_VAR_DIR under `root`; on exit whatever
    still runs of it is killed (by PID: its descendants, then its session)."""
    ports = {"ORDERING_PORT": free_port(), "BILLING_PORT": free_port(), "BFF_PORT": free_port()}
    if scaled:
        ports |= {
            "RUN_POSTGRES_PORT": free_port(),
            "RUN_REDIS_PORT": free_port(),
            "RUN_HAPROXY_STATS_PORT": free_port(),
            "RUN_REPLICA_PORT_BASE": free_port_block(6),
        }
    env = {key: value for key, value in os.environ.items() if not key.startswith(SERVICE_PREFIXES)}
    env = {key: value for key, value in env.items() if not key.startswith("RUN_")}
    env.update({name: str(port) for name, port in ports.items()})
    var_dir = root / "var"
    env.update(
        {
            "RUN_VAR_DIR": str(var_dir),
            **credentials_env(),
            # Billing notices a restarted ordering soon; the BFF shows what upstreams say now.
            "BILLING_PULL_INTERVAL": "0.5",
            "BILLING_PULL_BACKOFF_CAP": "2",
            "BFF_CACHE_TTL": "0",
        }
    )
    env.update(env_extra or {})
    log = root / "run.log"
    command = ["bash", str(REPO_ROOT / "scripts" / "run"), *(["--scaled"] if scaled else [])]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield RunCommand(process, ports, var_dir, log)
    finally:
        if process.poll() is None:
            for pid in descendants(process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
