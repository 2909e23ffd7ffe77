"""The brownout benchmark still runs (`--quick`) and reports both runs; figures are not checked."""

from __future__ import annotations

import pytest

from benchmarks.bff_brownout import main


def test_quick_run_reports_breaker_on_and_off(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick"]) == 0

    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:] if line.strip()]
    assert [row[0] for row in rows] == ["on", "off"]
    for row in rows:
        answered, requests = row[5].split("/")
        assert answered == requests  # ordering's data in every answer, breaker or not
