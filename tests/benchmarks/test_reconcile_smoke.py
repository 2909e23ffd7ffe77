"""The reconciliation benchmark still runs end to end (`--quick`) and reports its shape.

Only the shape and the benchmark's own correctness checks (both contenders find exactly the
planted differences, and nothing when in sync) are asserted, never a speed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.benchmarks import quick_run


def test_quick_run_compares_reconciliation_with_every_row(tmp_path: Path) -> None:
    output = tmp_path / "bench" / "reconcile.json"

    result = quick_run.run_quick("benchmarks.reconcile", output, timeout=240)

    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["benchmark"] == "reconcile" and report["profile"] == "quick"
    figures = report["results"]["sqlite"]
    assert (figures["orders"], figures["planted"]) == (2000, 10)
    for case in ("in_sync", "with_differences"):
        medians = figures[case]["median_seconds"]
        assert medians["reconcile"] > 0 and medians["every row"] > 0
        assert figures[case]["every_row_over_reconcile"] > 0
    assert "| sqlite | 2000 | in sync |" in result.stdout
