"""The replication-lag benchmark still runs end to end (`--quick`) and reports its documented
shape, with an invoice for every order it confirmed.

Only the shape and completeness are asserted, never a speed: figures belong in the benchmark's
report (timed assertions flake on a busy machine).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.benchmarks import quick_run


def run_quick(output: Path) -> subprocess.CompletedProcess[str]:
    return quick_run.run_quick("benchmarks.replication_lag", output, timeout=180)


def test_quick_run_finds_an_invoice_for_every_confirmed_order_and_reports_lag(
    tmp_path: Path,
) -> None:
    output = tmp_path / "bench" / "replication_lag.json"

    result = run_quick(output)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["benchmark"] == "replication_lag" and report["profile"] == "quick"
    config, figures = report["config"], report["result"]
    assert config["database"] == "sqlite" and config["replicas"] == 1
    confirms = round(config["rate"] * config["seconds"])
    # Every draft was confirmed, and billing served an invoice for each of them.
    assert figures["confirms_sent"] == figures["confirmed"] == figures["invoices_seen"] == confirms
    assert figures["missing_invoices"] == [] and figures["failure_count"] == 0
    assert figures["poll_resolution_ms"] == config["poll_ms"] > 0
    for name, samples in (
        ("lag", confirms),
        ("confirm_latency", confirms),
        ("deep_link", config["link_samples"]),
    ):
        summary = figures[name]
        assert summary["samples"] == samples, name
        assert 0 <= summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"] <= summary["max_ms"]
    assert "| lag (confirm answered -> invoice readable) |" in result.stdout
    assert str(output) in result.stdout
