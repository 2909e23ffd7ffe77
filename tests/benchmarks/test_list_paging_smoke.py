"""The list-paging benchmark still runs (`--quick`) and reports its documented shape; its own
checks (keyset and OFFSET pages agree, the searches find their rows) must hold. No speed is
asserted: figures belong in the report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.benchmarks import quick_run


def test_quick_run_reports_every_contender_and_ratio(tmp_path: Path) -> None:
    output = tmp_path / "bench" / "list_paging.json"

    result = quick_run.run_quick("benchmarks.list_paging", output, timeout=240)

    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["benchmark"] == "list_paging" and report["profile"] == "quick"
    results = report["results"]
    assert results["orders"] == 2000 and results["depth"] == 1800
    assert set(results["median_ms"]) == {
        "created_first", "created_deep_keyset", "created_deep_offset", "total_first",
        "total_deep_keyset", "total_deep_offset", "search_common", "search_rare",
    }  # fmt: skip
    assert all(value > 0 for value in results["median_ms"].values())
    assert set(results["ratios"]) == {
        "created_deep_keyset_vs_first", "created_deep_offset_vs_keyset",
        "total_deep_keyset_vs_first", "total_deep_offset_vs_keyset",
        "search_common_vs_first", "search_rare_vs_first",
    }  # fmt: skip
