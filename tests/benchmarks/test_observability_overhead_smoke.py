"""The observability overhead benchmark still runs (`--quick`) and reports every build and path.

Only that it runs and what it reports are checked, never the times (those are the benchmark's).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.observability_overhead import BUILDS, main


def test_quick_run_reports_each_build_on_each_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "medians.json"
    assert main(["--quick", "--output", str(output)]) == 0

    medians = json.loads(output.read_text())
    assert set(medians) == {"response cache hit", "caches off"}
    for builds in medians.values():
        assert set(builds) == set(BUILDS)
        assert all(seconds > 0 for seconds in builds.values())
    assert "x bare" in capsys.readouterr().out
