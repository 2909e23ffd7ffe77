"""The execution benchmark still runs (`--quick`): both executors answer the seeded page byte
for byte alike (the run fails otherwise) and the report has its documented shape. Never a time:
figures belong in the benchmark's report."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.bff_execution import CONTENDERS, QUERIES, main


def test_quick_run_reports_both_executors_per_query(tmp_path: Path) -> None:
    output = tmp_path / "bff_execution.json"

    assert main(["--quick", "--output", str(output)]) == 0

    report = json.loads(output.read_text())
    assert report["benchmark"] == "bff_execution"
    assert report["profile"] == "quick"
    assert set(report["results"]) == set(QUERIES)
    for figures in report["results"].values():
        assert set(figures["cpu_ms_per_query_median"]) == set(CONTENDERS)
        assert all(ms > 0 for ms in figures["cpu_ms_per_query_median"].values())
        assert set(figures["planned_over_graphql_core"]) == {"min", "median", "max"}
