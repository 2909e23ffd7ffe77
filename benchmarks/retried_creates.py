"""Retried creates with killed connections: exactly one order per Idempotency-Key.

Each round makes one key and one order body (its customer name carries the key, so the orders
it made can be counted), then sends `POST /orders` with a client whose timeout is a random
0.5-20 ms: the connection is cut before the request arrives, while the write runs, or after
the answer left. Then it retries with the same key and body, with a normal timeout, until an
answer comes, as the BFF does on behalf of one form submission. Afterwards every order of the
run is listed: a key with more than one order is a duplicate (the figure that must be 0), and
every retry's answer must be that one order.

    .venv/bin/python -m benchmarks.retried_creates                   # 1,000 rounds, SQLite + PG
    .venv/bin/python -m benchmarks.retried_creates --rounds 200 --databases sqlite

Ordering runs as a real uvicorn process. JSON in `artifacts/bench/retried_creates.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
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
DEFAULT_OUTPUT = REPO_ROOT / "artifacts" / "bench" / "retried_creates.json"


@dataclass
class RetryReport:
    rounds: int = 0
    first_cut: int = 0  # first attempts whose connection was cut (timeout) before an answer
    replayed: int = 0  # retries answered from the stored result (Idempotent-Replayed)
    duplicates: int = 0  # keys that made more than one order: must be 0
    missing: int = 0  # keys that made no order although a retry answered 201: must be 0
    mismatched: int = 0  # retries whose answer is not the key's one order: must be 0
    problems: list[str] = field(default_factory=list)

    def ok(self) -> bool:
        return not (self.duplicates or self.missing or self.mismatched or self.problems)


def _body(tag: str) -> dict[str, Any]:
    return {
        "customer": {"name": f"retry {tag}", "email": "retry@example.com"},
        "currency": "EUR",
        "lines": [{"sku": "R-1", "description": "Retried", "quantity": 1, "unit_price": "1.00"}],
    }


async def _round(
    base_url: str, headers: dict[str, str], steady: httpx.AsyncClient, tag: str
) -> tuple[bool, httpx.Response]:
    key = str(uuid.uuid4())
    body = _body(tag)
    cut = False
    # A fresh connection per first attempt: a timeout closes it mid-request.
    timeout = random.uniform(0.0005, 0.02)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout) as hasty:
        try:
            await hasty.post("/orders", json=body, headers={"Idempotency-Key": key})
        except httpx.TimeoutException:
            cut = True
    for attempt in range(50):
        try:
            retry = await steady.post("/orders", json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            await asyncio.sleep(0.05 * (attempt + 1))
            continue
        return cut, retry
    raise RuntimeError(f"round {tag}: no answer after 50 retries")


async def _all_orders(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if after is not None:
            params["after"] = after
        page = (await client.get("/orders", params=params)).json()
        orders.extend(page["orders"])
        after = page.get("next_cursor")
        if not after:
            return orders


async def run_retried_creates(
    base_url: str, headers: dict[str, str], rounds: int, *, concurrency: int = 4
) -> RetryReport:
    run = uuid.uuid4().hex[:8]
    answers: dict[str, httpx.Response] = {}
    report = RetryReport(rounds=rounds)
    remaining = iter(range(rounds))
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as steady:

        async def worker() -> None:
            for index in remaining:
                tag = f"{run}-{index}"
                cut, answer = await _round(base_url, headers, steady, tag)
                report.first_cut += cut
                answers[tag] = answer

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        made = Counter[str]()
        number_of: dict[str, int] = {}
        for order in await _all_orders(steady):
            name = order["customer"]["name"]
            if name.startswith(f"retry {run}-"):
                tag = name.removeprefix("retry ")
                made[tag] += 1
                number_of[tag] = order["number"]
    for tag, answer in answers.items():
        if answer.status_code != 201:
            report.problems.append(f"{tag}: retry answered {answer.status_code}: {answer.text}")
            continue
        report.replayed += answer.headers.get("idempotent-replayed") == "true"
        if made[tag] > 1:
            report.duplicates += 1
        elif made[tag] == 0:
            report.missing += 1
        elif answer.json()["number"] != number_of[tag]:
            report.mismatched += 1
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument(
        "--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    with tempfile.TemporaryDirectory(prefix="bench-retry-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        for kind in args.databases:
            if kind == "sqlite":
                url = f"sqlite+aiosqlite:///{workdir / 'ordering.db'}"
            else:
                url = stack.enter_context(postgres_server()).create_database("ordering")
            with ServiceProcess(
                f"ordering-{kind}",
                "ordering_api.app:create_app",
                free_port(),
                service_env({"ORDERING_DATABASE_URL": url, "SERVICE_TOKEN": SERVICE_TOKEN}),
                workdir / f"ordering-{kind}.log",
            ) as ordering:
                started = time.perf_counter()
                report = asyncio.run(run_retried_creates(ordering.url, headers, args.rounds))
                outcome = asdict(report)
                outcome["seconds"] = round(time.perf_counter() - started, 1)
                results[kind] = outcome
    print(
        "| database | rounds | first attempt cut | replayed | duplicates | missing | mismatched |"
    )
    print("|---|---|---|---|---|---|---|")
    for kind, o in results.items():
        print(
            f"| {kind} | {o['rounds']} | {o['first_cut']} | {o['replayed']} | {o['duplicates']} "
            f"| {o['missing']} | {o['mismatched']} |"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps({"benchmark": "retried_creates", "results": results}, indent=2)
    )
    print(f"JSON: {args.output}")
    bad = any(
        o["duplicates"] or o["missing"] or o["mismatched"] or o["problems"]
        for o in results.values()
    )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
