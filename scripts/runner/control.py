"""Talking to the run's supervisord over its XML-RPC socket: start services, ask for a
process's PID and state. Used by the run itself and by the tests that kill processes."""

from __future__ import annotations

import configparser
import http.client
import time
import xmlrpc.client
from pathlib import Path
from typing import Any, cast

from supervisor.xmlrpc import SupervisorTransport


class Supervisor:
    def __init__(self, conf_path: Path) -> None:
        """`conf_path`: the supervisord.conf the run wrote (socket path and credentials)."""
        parser = configparser.RawConfigParser()
        parser.read(conf_path)
        section = parser["supervisorctl"]
        self.socket_path = section["serverurl"].removeprefix("unix://")
        self._credentials = (section["username"], section["password"].replace("%%", "%"))

    @classmethod
    def of_var_dir(cls, var_dir: Path) -> Supervisor:
        return cls(var_dir / "supervisor" / "supervisord.conf")

    def _rpc(self) -> Any:
        # A fresh connection per call: the transport keeps one, which a failed call (supervisord
        # not listening yet) leaves unusable.
        transport = SupervisorTransport(*self._credentials, f"unix://{self.socket_path}")
        # The host part is ignored: the transport always talks to the Unix socket.
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def running(self) -> bool:
        """Whether supervisord answers and is not shutting down."""
        try:
            state = cast(dict[str, Any], self._rpc().getState())
        except (OSError, xmlrpc.client.Error, http.client.HTTPException):
            return False
        return state.get("statename") == "RUNNING"

    def wait_running(self, timeout: float, alive: Any = None) -> None:
        """Until supervisord answers; `alive()` false (it exited) ends the wait early."""
        deadline = time.monotonic() + timeout
        while not self.running():
            if alive is not None and not alive():
                raise RuntimeError("supervisord exited while starting; see its lines above")
            if time.monotonic() > deadline:
                raise TimeoutError(f"supervisord did not answer on {self.socket_path}")
            time.sleep(0.1)

    def start_group(self, group: str) -> None:
        """Start every process of `group` without waiting for them to come up."""
        self._rpc().startProcessGroup(group, False)

    def info(self, name: str) -> dict[str, Any]:
        """supervisord's view of one process: `statename`, `pid`, `start`, …; `name` is
        "billing" (plain run) or "billing:billing-1" (scaled run)."""
        return cast(dict[str, Any], self._rpc().getProcessInfo(name))

    def pid(self, name: str) -> int:
        """The PID of the process (STARTING, RUNNING or STOPPING); 0 when there is none."""
        return int(self.info(name)["pid"])

    def supervisord_pid(self) -> int:
        return int(self._rpc().getPID())

    def all_info(self) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._rpc().getAllProcessInfo())
