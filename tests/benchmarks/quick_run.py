"""Running a benchmark command's `--quick` smoke version as a real subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

from tests.support.processes import REPO_ROOT


def run_quick(module: str, output: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """`python -m <module> --quick --output <output>`, stopped with every process it started
    (its own session) if it has not finished within `timeout` seconds."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--quick", "--output", str(output)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)  # each benchmark stops its servers on SIGTERM
        with suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=30)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
