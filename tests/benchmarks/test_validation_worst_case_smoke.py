"""The worst-case validation benchmark still runs (`--quick`) and every shape lands as expected.

Only outcomes are checked, never times (those belong in the benchmark's report).
"""

from __future__ import annotations

import pytest

from benchmarks.bff_validation_worst_case import cases, main


def test_quick_run_reports_every_case_with_its_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick"]) == 0

    out = capsys.readouterr().out
    rows = {case.name: line for case in cases() for line in out.splitlines() if case.name in line}
    assert len(rows) == len(cases())
    refused = [name for name, line in rows.items() if "refused" in line]
    assert len(refused) == 3  # both fan-outs and the 450 copies; the rest are within the limits
    assert all("accepted" in line for name, line in rows.items() if name not in refused)
    assert "slowest parse + validation of any document within the limits" in out
    assert "strawberry ms" in out
