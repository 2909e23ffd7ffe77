"""A service as a real uvicorn process on 127.0.0.1, for tests and benchmarks.

The one way they run a service process: start it, wait until it answers /healthz, stop it
(SIGTERM, then SIGKILL if it will not go), kill it outright, or signal it and require it to exit
within a deadline. Its output goes to a log file whose tail failures quote.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, ClassVar

import httpx

from service_http.keepalive import SERVER_KEEP_ALIVE_SECONDS

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICE_PREFIXES = ("ORDERING_", "BILLING_", "BFF_")


def service_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any service settings the developer's shell carries
    (so a test configures its services completely), unbuffered output, then `overrides`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(SERVICE_PREFIXES)}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


@dataclass
class ServiceProcess:
    name: str
    factory: str
    port: int
    env: dict[str, str]
    log_path: Path
    # How long uvicorn keeps an idle connection open (the convention of service_http.keepalive
    # unless a test studies keep-alive itself).
    keep_alive_seconds: int = SERVER_KEEP_ALIVE_SECONDS
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)
    # What answers 200 once the process serves (a subclass running another server says its).
    health_path: ClassVar[str] = "/healthz"
    ready_seconds: ClassVar[float] = 30.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The process's argv: uvicorn serving `factory` (a subclass may run something else)."""
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            self.factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--timeout-keep-alive",
            str(self.keep_alive_seconds),
        ]

    def working_directory(self) -> Path:
        return REPO_ROOT

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.process.pid

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.working_directory(),
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def __enter__(self) -> ServiceProcess:
        """Start and wait until healthy; stopped on exit, also when it never got healthy."""
        self.start()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_healthy(self, timeout: float | None = None) -> None:
        """Poll GET /healthz until it answers 200; fail early if the process died."""
        timeout = self.ready_seconds if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as client:
            while True:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                    )
                try:
                    if client.get(f"{self.url}{self.health_path}").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name} not healthy in {timeout}s:\n{self.log_tail()}")
                time.sleep(0.1)

    def send_signal(self, signum: signal.Signals) -> None:
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        self.process.send_signal(signum)

    def wait_exit(self, timeout: float) -> int:
        """The exit code once the process has exited; TimeoutError (with the log) if it is
        still running after `timeout` seconds. For tests whose point is a prompt exit."""
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(
                f"{self.name} still running {timeout}s later:\n{self.log_tail()}"
            ) from None

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL: no shutdown code runs, as when a machine or the OOM killer stops it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=timeout)
        self._close_log()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait; SIGKILL if it has not exited within `timeout` (teardown only:
        tests that care how it exits use `send_signal` + `wait_exit`)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def is_listening(self) -> bool:
        try:
            httpx.get(f"{self.url}{self.health_path}", timeout=1.0)
        except httpx.HTTPError:
            return False
        return True
