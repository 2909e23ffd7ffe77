"""Closed-loop load with `wrk` (apt package `wrk`): POST one GraphQL body, read the summary.

wrk is C with one event loop per thread; with one thread it keeps 16 connections busy using a
fraction of a core, so it is not the bottleneck of a Python gateway. A Lua script sets the body
and prints wrk's summary as one JSON line, which `run` parses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_MARK = "WRK_SUMMARY "

_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = [==[%(body)s]==]

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,' ..
    '"status":%%d,"timeout":%%d,"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,"max_us":%%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str:
    """wrk's path; installed from the distribution when missing and we may (root)."""
    found = shutil.which("wrk")
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("the benchmark needs `wrk`: apt-get install -y wrk")
    print("installing wrk (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, capture_output=True
    )
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("apt-get installed wrk, but it is not on PATH")
    return found


def write_script(body: dict[str, object], path: Path) -> Path:
    encoded = json.dumps(body, separators=(",", ":"))
    if "]==]" in encoded:
        raise ValueError("the body cannot be embedded in a Lua long string")
    path.write_text(_SCRIPT % {"body": encoded, "mark": _MARK})
    return path


def run(wrk: str, url: str, script: Path, connections: int, seconds: float) -> LoadResult:
    result = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    for line in result.stdout.splitlines():
        if line.startswith(_MARK):
            data = json.loads(line[len(_MARK) :])
            return LoadResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                errors=sum(data[k] for k in ("connect", "read", "write", "status", "timeout")),
                p50_ms=data["p50_us"] / 1000,
                p95_ms=data["p95_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no summary (exit {result.returncode}):\n{result.stderr}")
