"""The worst-case validation benchmark still runs (`--quick`) and every shape lands as expected.

Only outcomes are checked, never times (those belong in the benchmark's report).
"""

from __future__ import annotations

import pytest

from benchmarks.bff_validation_worst_case import cases, main
from bff.settings import BffSettings


def test_quick_run_reports_every_case_with_its_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick"]) == 0

    out = capsys.readouterr().out
    settings = BffSettings()
    names = [case.name for case in cases(settings.max_tokens, settings.max_fields)]
    rows = {name: [line for line in out.splitlines() if line.startswith(name)] for name in names}
    assert all(len(lines) == 1 for lines in rows.values()), rows
    refused = sorted(name for name, [line] in rows.items() if "refused" in line)
    # The two reported attacks; every other shape is the largest the limits let through.
    assert refused == [names[0], "the reported 450 copies of `syncStatus { token }`"]
    assert all("accepted" in line for name, [line] in rows.items() if name not in refused)
    assert "slowest parse + validation of any document within the limits" in out
    assert "strawberry ms" in out
