"""Race: delete an order in ordering while its invoice is approved in billing, many times.

Each round creates and confirms an order, waits until billing has its pending invoice (the deep
link), then sends `DELETE /orders/{n}` to ordering and `POST /invoices/{i}/approve` to billing
at nearly the same moment (each after its own random delay of 0-30 ms, so either may go
first or both overlap); one round in four sends the approval right after the delete's answer
(what a clerk in another browser does). Rounds run a few at a time. Afterwards billing pulls
once more and every round is checked:

- an approval answered 200 although the delete had been *answered before the approval was
  sent* is an approval of an invoice of a deleted order: the figure that must be 0;
- an approval answered 200 must leave the invoice approved (flagged `order_deleted` once the
  delete arrives: the approval won the race, which the rules allow);
- an approval answered 409 must leave the invoice void, and its sentence must say the order
  was deleted; any other answer is a failure.

    .venv/bin/python -m benchmarks.approve_race                      # 1,000 rounds, SQLite + PG
    .venv/bin/python -m benchmarks.approve_race --rounds 200 --databases sqlite

Services are real uvicorn processes (billing's background pull on, every 0.2 s, so scheduled
pulls race too). Results: a table on stdout and JSON in `artifacts/bench/approve_race.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.servers import postgres_server
from service_procs.ports import free_port
from service_procs.processes import REPO_ROOT, ServiceProcess, service_env

SERVICE_TOKEN = "bench-service-token"
DEFAULT_OUTPUT = REPO_ROOT / "artifacts" / "bench" / "approve_race.json"
ORDER_BODY = {
    "customer": {"name": "Race Tester", "email": "race@example.com"},
    "currency": "EUR",
    "lines": [{"sku": "R-1", "description": "Racer", "quantity": 1, "unit_price": "1.00"}],
}


@dataclass
class Round:
    order: int
    invoice: int
    approve_status: int = 0
    approve_message: str = ""
    delete_status: int = 0
    delete_done_before_approve_sent: bool = False
    final_status: str = ""
    final_order_deleted: bool = False


@dataclass
class RaceReport:
    rounds: int = 0
    approved: int = 0  # approvals that won the race (invoice approved, then flagged)
    refused: int = 0  # 409: the order was deleted first
    delete_first: int = 0  # rounds where the delete was answered before the approval was sent
    approvals_of_deleted_orders: int = 0  # must be 0
    inconsistent: list[str] = field(default_factory=list)  # must be empty

    def ok(self) -> bool:
        return self.approvals_of_deleted_orders == 0 and not self.inconsistent


async def _prepare(ordering: httpx.AsyncClient, billing: httpx.AsyncClient) -> Round:
    created = await ordering.post("/orders", json=ORDER_BODY)
    created.raise_for_status()
    number = created.json()["number"]
    (await ordering.post(f"/orders/{number}/confirm")).raise_for_status()
    link = await billing.get(f"/link/new_order/{number}", follow_redirects=False)
    if link.status_code != 303:
        raise RuntimeError(f"deep link for order {number} answered {link.status_code}")
    invoice = int(link.headers["location"].rsplit("/", 1)[1])
    return Round(order=number, invoice=invoice)


async def _race(
    ordering: httpx.AsyncClient,
    billing: httpx.AsyncClient,
    race: Round,
    jitter: float,
    after_delete: bool,
) -> None:
    delete_done = 0.0
    approve_sent = 0.0

    async def delete() -> None:
        nonlocal delete_done
        await asyncio.sleep(random.uniform(0, jitter))
        response = await ordering.delete(f"/orders/{race.order}")
        delete_done = time.perf_counter()
        race.delete_status = response.status_code

    async def approve() -> None:
        nonlocal approve_sent
        await asyncio.sleep(random.uniform(0, jitter))
        approve_sent = time.perf_counter()
        response = await billing.post(f"/invoices/{race.invoice}/approve")
        race.approve_status = response.status_code
        if response.status_code != 200:
            race.approve_message = response.json().get("error", {}).get("message", response.text)

    if after_delete:
        # The clerk's "deleted" has arrived; the approval comes right after (the browser bug).
        await delete()
        await approve()
    else:
        await asyncio.gather(delete(), approve())
    race.delete_done_before_approve_sent = delete_done < approve_sent


async def run_races(
    ordering: httpx.AsyncClient,
    billing: httpx.AsyncClient,
    rounds: int,
    *,
    concurrency: int = 4,
    jitter_ms: float = 30.0,
) -> tuple[RaceReport, list[Round]]:
    """`rounds` delete/approve races against these two services (clients carry the token)."""
    done: list[Round] = []
    remaining = iter(range(rounds))

    async def worker() -> None:
        for index in remaining:
            race = await _prepare(ordering, billing)
            # One round in four: the approval strictly after the delete's answer.
            await _race(ordering, billing, race, jitter_ms / 1000, after_delete=index % 4 == 0)
            done.append(race)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    (await billing.post("/sync/run")).raise_for_status()
    by_number = {}
    numbers = [race.invoice for race in done]
    for start in range(0, len(numbers), 100):
        chunk = numbers[start : start + 100]
        for number in chunk:
            response = await billing.get(f"/invoices/{number}")
            response.raise_for_status()
            by_number[number] = response.json()
    for race in done:
        invoice = by_number[race.invoice]
        race.final_status = invoice["status"]
        race.final_order_deleted = invoice["order_deleted"]
    return judge(done), done


def judge(done: list[Round]) -> RaceReport:
    report = RaceReport(rounds=len(done))
    for race in done:
        report.delete_first += race.delete_done_before_approve_sent
        where = f"order {race.order} / invoice {race.invoice}"
        if race.delete_status != 200:
            report.inconsistent.append(f"{where}: delete answered {race.delete_status}")
        if race.approve_status == 200:
            report.approved += 1
            if race.delete_done_before_approve_sent:
                report.approvals_of_deleted_orders += 1
            if race.final_status != "approved" or not race.final_order_deleted:
                report.inconsistent.append(
                    f"{where}: approved, but ends {race.final_status} "
                    f"(order_deleted={race.final_order_deleted})"
                )
        elif race.approve_status == 409:
            report.refused += 1
            if race.final_status != "void" or "was deleted" not in race.approve_message:
                report.inconsistent.append(
                    f"{where}: 409 ({race.approve_message!r}) but ends {race.final_status}"
                )
        else:
            report.inconsistent.append(
                f"{where}: approval answered {race.approve_status}: {race.approve_message}"
            )
    return report


# --------------------------------------------------------------------------- the command


def _client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        timeout=30,
        limits=httpx.Limits(keepalive_expiry=10),
    )


@contextmanager
def _services(ordering_url: str, billing_url: str, workdir: Path) -> Iterator[tuple[str, str]]:
    with ExitStack() as stack:
        ordering = ServiceProcess(
            "ordering",
            "ordering_api.app:create_app",
            free_port(),
            service_env({"ORDERING_DATABASE_URL": ordering_url, "SERVICE_TOKEN": SERVICE_TOKEN}),
            workdir / "ordering.log",
        )
        stack.enter_context(ordering)
        billing = ServiceProcess(
            "billing",
            "billing_api.app:create_app",
            free_port(),
            service_env(
                {
                    "BILLING_DATABASE_URL": billing_url,
                    "BILLING_ORDERING_URL": ordering.url,
                    "BILLING_PULL_INTERVAL": "0.2",
                    "SERVICE_TOKEN": SERVICE_TOKEN,
                }
            ),
            workdir / "billing.log",
        )
        stack.enter_context(billing)
        yield ordering.url, billing.url


async def _run_against(ordering_url: str, billing_url: str, rounds: int) -> dict[str, Any]:
    async with _client(ordering_url) as ordering, _client(billing_url) as billing:
        started = time.perf_counter()
        report, done = await run_races(ordering, billing, rounds)
        seconds = time.perf_counter() - started
    outcome = asdict(report)
    outcome["seconds"] = round(seconds, 1)
    outcome["approve_statuses"] = dict(Counter(str(r.approve_status) for r in done))
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument(
        "--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-race-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        for kind in args.databases:
            if kind == "sqlite":
                urls = (
                    f"sqlite+aiosqlite:///{workdir / 'ordering.db'}",
                    f"sqlite+aiosqlite:///{workdir / 'billing.db'}",
                )
            else:
                server = stack.enter_context(postgres_server())
                urls = (server.create_database("ordering"), server.create_database("billing"))
            with _services(*urls, workdir) as (ordering_url, billing_url):
                results[kind] = asyncio.run(_run_against(ordering_url, billing_url, args.rounds))
    print(
        "| database | rounds | approved first | refused (409) | delete answered first "
        "| approvals of deleted orders | inconsistent |"
    )
    print("|---|---|---|---|---|---|---|")
    for kind, outcome in results.items():
        print(
            f"| {kind} | {outcome['rounds']} | {outcome['approved']} | {outcome['refused']} "
            f"| {outcome['delete_first']} | {outcome['approvals_of_deleted_orders']} "
            f"| {len(outcome['inconsistent'])} |"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"benchmark": "approve_race", "results": results}, indent=2))
    print(f"JSON: {args.output}")
    bad = any(o["approvals_of_deleted_orders"] or o["inconsistent"] for o in results.values())
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
