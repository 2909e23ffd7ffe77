"""The BFF benchmark still runs end to end (`--quick`) and reports its documented shape.

Only the shape is checked, never the speed: figures belong in the benchmark's report, not in a
pass/fail test (timed assertions flake on a busy machine).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

from tests.support.processes import REPO_ROOT

SCENARIOS = ("baseline", "bff_cache_off", "bff_cache_on")


def run_quick(output: Path) -> subprocess.CompletedProcess[str]:
    # Its own session, so a hung run can be stopped with every service process it started.
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bff_orders", "--quick", "--output", str(output)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)  # the benchmark stops its services on SIGTERM
        with suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=20)
        with suppress(ProcessLookupError):  # stragglers of the group, if any are left
            os.killpg(process.pid, signal.SIGKILL)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_quick_run_prints_the_table_and_writes_the_json(tmp_path: Path) -> None:
    output = tmp_path / "bench" / "bff_orders.json"

    result = run_quick(output)

    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["benchmark"] == "bff_orders"
    assert report["profile"] == "quick"
    assert report["page_size"] == 50
    assert "orders(first: 50)" in report["query"]
    assert set(report["results"]) == set(SCENARIOS)
    for name in SCENARIOS:
        figures = report["results"][name]
        expected_samples = report["rounds"] * (1 if name == "baseline" else report["bff_per_round"])
        assert figures["samples"] == expected_samples
        assert 0 < figures["min_ms"] <= figures["median_ms"] <= figures["p95_ms"]
        assert figures["baseline_over_this_median"] > 0
        calls = figures["upstream_calls_per_request"]
        assert set(calls) == {"ordering", "billing", "total"}
        assert calls["total"] == calls["ordering"] + calls["billing"]
        # The table has a row per scenario with its label.
        assert figures["label"] in result.stdout
    # The counts are the benchmark's own measurements: the naive gateway's N+1 is 1 + page size,
    # and a BFF with its cache off must reach both upstreams (else the counting proxy is broken).
    assert report["results"]["baseline"]["upstream_calls_per_request"] == {
        "ordering": 1,
        "billing": 50,
        "total": 51,
    }
    cache_off = report["results"]["bff_cache_off"]["upstream_calls_per_request"]
    assert cache_off["ordering"] >= 1 and cache_off["billing"] >= 1
    assert report["results"]["baseline"]["baseline_over_this_median"] == 1.0
    assert "median ms" in result.stdout and str(output) in result.stdout
