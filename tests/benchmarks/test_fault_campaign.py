"""The fault campaign: its verdict rules count what they say (each count can be non-zero), and
a small campaign (a few hundred orders, SIGKILLs of each service, PostgreSQL restarts, paused
replicas) runs end to end with the verdict all zero."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

from benchmarks.campaign_verdict import CONFIRMED, DELETED, judge
from tests.support.processes import REPO_ROOT


def _order(number: int, seq: int, status: str = CONFIRMED, total: str = "5.00") -> dict[str, Any]:
    return {
        "number": number,
        "change_seq": seq,
        "status": status,
        "total": total,
        "currency": "EUR",
        "customer": {"name": "A", "email": "a@x.test"},
    }


def _invoice(order: dict[str, Any], **changes: Any) -> dict[str, Any]:
    deleted = order["status"] == DELETED
    invoice = {
        "order_number": order["number"],
        "amount": order["total"],
        "currency": order["currency"],
        "customer": order["customer"],
        "order_deleted": deleted,
        "status": "void" if deleted else "pending_approval",
        "approved_at": None,
    }
    return {**invoice, **changes}


def test_a_consistent_outcome_is_all_zero() -> None:
    feed = [_order(1, 1), _order(2, 2, DELETED)]
    verdict = judge({1: CONFIRMED, 2: DELETED}, feed, [_invoice(o) for o in feed], 0)
    assert verdict.ok
    assert verdict.line() == "lost=0 duplicate=0 missing=0 mismatched=0 unexpected_5xx=0"


def test_each_count_counts_its_failure() -> None:
    one, two, three = _order(1, 1), _order(2, 2), _order(3, 2, DELETED)
    acknowledged = {1: CONFIRMED, 2: DELETED, 3: CONFIRMED, 4: CONFIRMED}
    feed = [one, two, three]
    invoices = [
        _invoice(one),
        _invoice(one),  # a second invoice for order 1
        _invoice(two, amount="6.00"),  # disagrees with its order
        _invoice(_order(9, 9)),  # for an order that was never published
    ]
    verdict = judge(acknowledged, feed, invoices, unexpected_5xx=3)
    # 2's delete and 4's confirm were acknowledged, but ordering does not show them.
    assert verdict.lost == 2
    # 1 invoiced twice; 2 and 3 share position 2.
    assert verdict.duplicate == 2
    # 3 is published without an invoice.
    assert verdict.missing == 1
    # 2's invoice amount, the invoice for 9, and 3 deleted though no writer deleted it.
    assert verdict.mismatched == 3
    assert verdict.unexpected_5xx == 3
    assert not verdict.ok


def test_quick_campaign_holds_every_guarantee(tmp_path: Path) -> None:
    output = tmp_path / "campaign.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.fault_campaign",
            "--quick",
            "--output",
            str(output),
            "--workdir",
            str(tmp_path / "logs"),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, _ = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)  # the campaign stops its processes on SIGTERM
        with suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=30)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        raise
    assert process.returncode == 0, stdout[-4000:]
    report = json.loads(output.read_text())
    assert report["verdict_line"] == "lost=0 duplicate=0 missing=0 mismatched=0 unexpected_5xx=0"
    assert stdout.rstrip().endswith(report["verdict_line"])
    config = report["config"]
    faults = report["faults"]
    # Every planned fault happened: kills of each service, PostgreSQL restarts, pauses.
    for service in ("ordering", "billing"):
        assert sum(f.startswith(f"kill -9 {service}") for f in faults) == config["kills"]
    assert sum(f.startswith("PostgreSQL restart") for f in faults) == config["pg_restarts"]
    assert sum(f.startswith("pause") for f in faults) == config["pauses"]
    assert report["orders_acknowledged"] == config["orders"]
    assert report["invoices"] == report["feed_entries"] == config["orders"]
    assert report["tracebacks"] == 0
    # The faults were felt: some answers were 503 or connections failed.
    assert report["connection_errors"] or any(k.endswith(" 503") for k in report["answers"])
