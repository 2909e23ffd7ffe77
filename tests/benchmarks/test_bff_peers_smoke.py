"""The peer benchmark still runs end to end (`--quick`, Hive Gateway included) and reports its
documented shape. Only the shape and the call counts are checked, never the speed: figures
belong in the benchmark's report, not in a pass/fail test (timed assertions flake on a busy
machine). On a fresh clone this is also what installs the peer's npm packages (`npm ci`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.benchmarks import quick_run

CONTENDERS = ("hive", "floor", "bff_cache_off", "bff_cache_on")
GOALS = (
    "bff_off_over_hive_rps_c16",
    "bff_off_over_hive_p95_c16",
    "bff_off_over_floor_p50_c1",
    "bff_on_over_off_rps_c16",
)


def run_quick(output: Path) -> subprocess.CompletedProcess[str]:
    # npm ci on a fresh clone takes 0.5-2 min of this; the run itself about a minute or less.
    return quick_run.run_quick("benchmarks.bff_peers", output, timeout=420)


def test_quick_run_compares_all_contenders_on_the_same_rows(tmp_path: Path) -> None:
    output = tmp_path / "bench" / "bff_peers.json"

    result = run_quick(output)

    # The run itself fails unless all contenders answered the same 50 rows, before and after.
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["benchmark"] == "bff_peers"
    assert report["profile"] == "quick"
    assert report["page"] == {"orders": 50, "without_invoice": 2}
    assert set(report["results"]) == set(CONTENDERS)
    for name in CONTENDERS:
        figures = report["results"][name]
        assert figures["label"] in result.stdout
        for c in ("c1", "c16"):
            assert len(figures[c]["rps"]) == report["rounds"]
            assert figures[c]["errors"] == 0
            # On a swamped machine a short window may complete nothing: shape, not speed.
            assert figures[c]["median_rps"] >= 0
            assert figures[c]["median_cpu_ms_per_query"] >= 0
    calls = {name: report["results"][name]["upstream_calls_per_query"] for name in CONTENDERS}
    # Both gateways and the floor batch: one page call and one invoice batch per query.
    for name in ("hive", "floor", "bff_cache_off"):
        assert calls[name] == {"ordering": 1, "billing": 1, "total": 2}, name
    # Warm: ordering is not called; billing at most once per BFF_CACHE_ABSENT_TTL (0.5 s), for
    # the two invoices still being created (that absence is cached briefly: bff/clients.py),
    # so at most once per query however slow the machine (tests/bff/test_cache.py has the rule).
    assert calls["bff_cache_on"]["ordering"] == 0
    assert calls["bff_cache_on"]["billing"] <= 1
    # Counted under 16 clients too (not bounded here: the queries still in flight when the
    # window closes made calls but are not counted as answered).
    for name in ("hive", "floor", "bff_cache_off"):
        assert report["results"][name]["upstream_calls_per_query_c16"]["total"] > 0, name
    # The loads ran: the cache-on BFF answers from memory, so even a swamped machine gets some.
    assert report["results"]["bff_cache_on"]["c1"]["rps"][0] > 0
    refills = report["cache_on_refills_c16"]
    assert refills["ordering_calls"] <= refills["most_refills_per_upstream"]
    # Billing: also once per absent TTL, for the invoices still being created.
    assert refills["billing_calls"] <= refills["most_billing_refills"]
    for goal in GOALS:
        assert set(report["ratios"][goal]) == {"rounds", "min", "median", "max", "goal"}
        assert goal in result.stdout
    assert str(output) in result.stdout
