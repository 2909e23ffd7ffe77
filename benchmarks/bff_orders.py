"""Benchmark: the BFF's aggregated read (50 orders with their invoices) against a naive gateway.

One run starts ordering, billing and two BFFs (cache off, cache on) as real uvicorn processes on
free ports of 127.0.0.1 with SQLite files in a temporary directory, seeds confirmed orders with
invoices, and times, interleaved round by round so machine noise hits all three alike:

1. baseline (N+1): `GET /orders?limit=50` on ordering, then `GET /invoices?order_number=n` per
   order on billing, sequentially, as a per-row resolver would, over one keep-alive client;
2. the BFF with `BFF_CACHE_TTL=0`: `orders(first: 50) { ... invoice { status amount } }`;
3. the BFF with its default TTL, warm (an untimed read before each round's timed ones refills
   what the TTL let expire).

Upstream calls per request are counted by the baseline itself and, for the BFFs, by two more
BFF processes configured alike but pointed at a counting pass-through proxy; those are never
timed. Results: a table on stdout and JSON in `artifacts/bench/bff_orders.json`.

    .venv/bin/python -m benchmarks.bff_orders            # the full run (~40 s)
    .venv/bin/python -m benchmarks.bff_orders --quick    # a smoke run (a few seconds)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from service_procs.ports import free_port
from service_procs.processes import REPO_ROOT, ServiceProcess

SERVICE_TOKEN = "bench-service-token"
PAGE_SIZE = 50
# The page the web app's orders screen needs, aggregated by the BFF (first: PAGE_SIZE).
QUERY = "{ orders(first: 50) { edges { node { number total invoice { status amount } } } } }"
DEFAULT_OUTPUT = REPO_ROOT / "artifacts" / "bench" / "bff_orders.json"

BASELINE = "baseline"
BFF_CACHE_OFF = "bff_cache_off"
BFF_CACHE_ON = "bff_cache_on"
LABELS = {
    BASELINE: "baseline (N+1, sequential)",
    BFF_CACHE_OFF: "BFF, cache off",
    BFF_CACHE_ON: "BFF, cache on (warm)",
}


@dataclass(frozen=True)
class Profile:
    """How much to do: the full run, or a smoke run that only proves the script works."""

    name: str
    orders: int
    warmup: int  # untimed rounds before the timed ones
    rounds: int  # timed rounds: one baseline read and `bff_per_round` reads of each BFF
    bff_per_round: int  # a BFF read is far cheaper than the baseline: more samples, same time
    counted: int  # requests per BFF scenario in the counting pass


FULL = Profile("full", orders=200, warmup=5, rounds=50, bff_per_round=3, counted=10)
QUICK = Profile("quick", orders=PAGE_SIZE, warmup=1, rounds=3, bff_per_round=1, counted=2)

# One row of the page as both gateways see it: order number, total, invoice status and amount.
Row = tuple[int, str, str | None, str | None]


@dataclass
class Stack:
    ordering: ServiceProcess
    billing: ServiceProcess
    bff_cache_off: ServiceProcess
    bff_cache_on: ServiceProcess
    proxy: ServiceProcess
    counted_cache_off: ServiceProcess
    counted_cache_on: ServiceProcess


# ---------------------------------------------------------------------------------------------
# Processes


def _base_env() -> dict[str, str]:
    # The services read their settings from the environment: start from a clean slate so a
    # developer's own ORDERING_/BILLING_/BFF_ settings cannot leak into the measurement.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ORDERING_", "BILLING_", "BFF_", "COUNTING_PROXY_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    env["SERVICE_TOKEN"] = SERVICE_TOKEN
    return env


@contextmanager
def running_stack(root: Path) -> Iterator[Stack]:
    """Start every process on its own free port; stop them all on the way out, whatever happens."""
    names = (
        "ordering",
        "billing",
        "bff_cache_off",
        "bff_cache_on",
        "proxy",
        "counted_cache_off",
        "counted_cache_on",
    )
    port = {name: free_port() for name in names}
    url = {name: f"http://127.0.0.1:{p}" for name, p in port.items()}
    base = _base_env()
    ordering_env = {**base, "ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'ordering.db'}"}
    billing_env = {
        **base,
        "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'billing.db'}",
        "BILLING_ORDERING_URL": url["ordering"],
        "BILLING_WEB_URL": url["bff_cache_on"],
        # The seed pulls explicitly (POST /sync/run); a background pull would only add noise.
        "BILLING_PULL_ENABLED": "false",
    }
    proxy_env = {
        **base,
        "COUNTING_PROXY_UPSTREAMS": f"ordering={url['ordering']},billing={url['billing']}",
    }

    def bff_env(upstream_base: dict[str, str], cache_ttl: str | None) -> dict[str, str]:
        env = {
            **base,
            "BFF_ORDERING_URL": upstream_base["ordering"],
            "BFF_BILLING_URL": upstream_base["billing"],
            "BFF_BILLING_PUBLIC_URL": url["billing"],
        }
        if cache_ttl is not None:
            env["BFF_CACHE_TTL"] = cache_ttl
        return env

    direct = {"ordering": url["ordering"], "billing": url["billing"]}
    via_proxy = {"ordering": f"{url['proxy']}/ordering", "billing": f"{url['proxy']}/billing"}
    specs: dict[str, tuple[str, dict[str, str]]] = {
        "ordering": ("ordering_api.app:create_app", ordering_env),
        "billing": ("billing_api.app:create_app", billing_env),
        "bff_cache_off": ("bff.app:create_app", bff_env(direct, "0")),
        "bff_cache_on": ("bff.app:create_app", bff_env(direct, None)),  # the default TTL
        "proxy": ("benchmarks.counting_proxy:create_app", proxy_env),
        "counted_cache_off": ("bff.app:create_app", bff_env(via_proxy, "0")),
        "counted_cache_on": ("bff.app:create_app", bff_env(via_proxy, None)),
    }
    services = {
        name: ServiceProcess(name, factory, port[name], env, root / f"{name}.log")
        for name, (factory, env) in specs.items()
    }
    with ExitStack() as stack:
        stack.callback(stop_all, list(services.values()))
        for service in services.values():
            service.start()
        for service in services.values():
            service.wait_healthy()
        yield Stack(**services)


def stop_all(services: Sequence[ServiceProcess]) -> None:
    """Stop all at once: each stop waits for a graceful shutdown, and they are independent."""
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        for stopped in [pool.submit(service.stop) for service in services]:
            stopped.result()


# ---------------------------------------------------------------------------------------------
# Seed data


def _order_input(i: int) -> dict[str, Any]:
    # One to three lines, so totals differ and the trees are not all the same size.
    lines = [
        {
            "sku": f"SKU-{i}-{j}",
            "description": f"Part {j} of order {i}",
            "quantity": 1 + j,
            "unit_price": f"{(i % 97) + j}.{(i * 7 + j) % 100:02d}",
        }
        for j in range(1 + i % 3)
    ]
    return {
        "customer": {"name": f"Customer {i}", "email": f"customer{i}@example.com"},
        "currency": "EUR",
        "lines": lines,
    }


def seed(client: httpx.Client, stack: Stack, count: int) -> None:
    """Create and confirm `count` orders, then have billing pull them (one invoice each)."""
    for i in range(count):
        created = client.post(f"{stack.ordering.url}/orders", json=_order_input(i))
        created.raise_for_status()
        number = created.json()["number"]
        client.post(f"{stack.ordering.url}/orders/{number}/confirm").raise_for_status()
    report = client.post(f"{stack.billing.url}/sync/run", timeout=60.0)
    report.raise_for_status()
    if report.json()["new"] != count:
        raise RuntimeError(f"billing pulled {report.json()} for {count} confirmed orders")


# ---------------------------------------------------------------------------------------------
# The three ways to read a page of orders with their invoices


def naive_gateway_page(client: httpx.Client, stack: Stack, calls: Counter[str]) -> list[Row]:
    """What a gateway without batching does: the page, then one invoice lookup per row."""
    page = client.get(f"{stack.ordering.url}/orders", params={"limit": PAGE_SIZE})
    calls["ordering"] += 1
    page.raise_for_status()
    rows: list[Row] = []
    for order in page.json()["orders"]:
        found = client.get(
            f"{stack.billing.url}/invoices", params={"order_number": order["number"]}
        )
        calls["billing"] += 1
        found.raise_for_status()
        invoices = found.json()["invoices"]
        invoice = invoices[0] if invoices else None
        rows.append(
            (
                order["number"],
                order["total"],
                invoice["status"].upper() if invoice else None,
                invoice["amount"] if invoice else None,
            )
        )
    return rows


def bff_page(client: httpx.Client, bff: ServiceProcess) -> list[Row]:
    response = client.post(f"{bff.url}/graphql", json={"query": QUERY})
    body = response.json()
    if response.status_code != 200 or "errors" in body:
        raise RuntimeError(f"{bff.name} answered {response.status_code}: {body}")
    rows: list[Row] = []
    for edge in body["data"]["orders"]["edges"]:
        node = edge["node"]
        invoice = node["invoice"]
        rows.append(
            (
                node["number"],
                node["total"],
                invoice["status"] if invoice else None,
                invoice["amount"] if invoice else None,
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Measuring


def p95(samples: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000.0


def count_bff_calls(
    client: httpx.Client, stack: Stack, bff: ServiceProcess, requests: int
) -> dict[str, float]:
    """Upstream calls per GraphQL request, seen by the counting proxy behind `bff`."""
    bff_page(client, bff)  # warms the cache where there is one; not counted
    client.post(f"{stack.proxy.url}/_proxy/counts/reset").raise_for_status()
    for _ in range(requests):
        bff_page(client, bff)
    counts = client.get(f"{stack.proxy.url}/_proxy/counts").json()
    per_request = {name: counts[name] / requests for name in ("ordering", "billing")}
    return {**per_request, "total": sum(per_request.values())}


def run(profile: Profile, output: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="bench-bff-") as tmp,
        running_stack(Path(tmp)) as stack,
        httpx.Client(headers={"authorization": f"Bearer {SERVICE_TOKEN}"}, timeout=30.0) as client,
    ):
        seed(client, stack, profile.orders)

        baseline_calls: Counter[str] = Counter()
        scenarios: dict[str, Callable[[], list[Row]]] = {
            BASELINE: lambda: naive_gateway_page(client, stack, baseline_calls),
            BFF_CACHE_OFF: lambda: bff_page(client, stack.bff_cache_off),
            BFF_CACHE_ON: lambda: bff_page(client, stack.bff_cache_on),
        }
        # The figures only mean something if all three read the same page.
        answers = {name: read() for name, read in scenarios.items()}
        expected = answers[BASELINE]
        if len(expected) != PAGE_SIZE or any(row[2] is None for row in expected):
            raise RuntimeError(f"the seeded page is not {PAGE_SIZE} orders with invoices")
        for name, rows in answers.items():
            if rows != expected:
                raise RuntimeError(f"{name} read a different page than the baseline")

        samples: dict[str, list[float]] = {name: [] for name in scenarios}
        repeats = {
            BASELINE: 1,
            BFF_CACHE_OFF: profile.bff_per_round,
            BFF_CACHE_ON: profile.bff_per_round,
        }
        order = list(scenarios)
        for round_number in range(profile.warmup + profile.rounds):
            if round_number == profile.warmup:
                baseline_calls.clear()
                for values in samples.values():
                    values.clear()
            # Rotate who goes first, so no scenario always follows the same one.
            shift = round_number % len(order)
            for name in order[shift:] + order[:shift]:
                if name == BFF_CACHE_ON:
                    # Untimed: refills what the default TTL (5 s) let expire since the last
                    # round, so the timed reads are the warm ones this scenario is about.
                    scenarios[name]()
                for _ in range(repeats[name]):
                    samples[name].append(timed(scenarios[name]))

        calls = {
            BASELINE: {
                "ordering": baseline_calls["ordering"] / profile.rounds,
                "billing": baseline_calls["billing"] / profile.rounds,
                "total": baseline_calls.total() / profile.rounds,
            },
            BFF_CACHE_OFF: count_bff_calls(client, stack, stack.counted_cache_off, profile.counted),
            BFF_CACHE_ON: count_bff_calls(client, stack, stack.counted_cache_on, profile.counted),
        }

    baseline_median = statistics.median(samples[BASELINE])
    baseline_p95 = p95(samples[BASELINE])
    results: dict[str, Any] = {}
    for name, values in samples.items():
        median, tail = statistics.median(values), p95(values)
        results[name] = {
            "label": LABELS[name],
            "samples": len(values),
            "median_ms": round(median, 3),
            "p95_ms": round(tail, 3),
            "min_ms": round(min(values), 3),
            "upstream_calls_per_request": calls[name],
            "baseline_over_this_median": round(baseline_median / median, 2),
            "baseline_over_this_p95": round(baseline_p95 / tail, 2),
        }
    report = {
        "benchmark": "bff_orders",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": profile.name,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "orders_seeded": profile.orders,
        "page_size": PAGE_SIZE,
        "warmup": profile.warmup,
        "rounds": profile.rounds,
        "bff_per_round": profile.bff_per_round,
        "query": QUERY,
        "results": results,
        "duration_s": round(time.perf_counter() - started, 1),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    return report


# ---------------------------------------------------------------------------------------------
# Output


def _calls(calls: dict[str, float]) -> str:
    return f"{calls['total']:g} (ordering {calls['ordering']:g}, billing {calls['billing']:g})"


def table(report: dict[str, Any]) -> str:
    header = (
        f"{'scenario':<28} {'median ms':>10} {'p95 ms':>10}  {'upstream calls/request':<32}"
        f" {'baseline/this':>13}"
    )
    lines = [
        f"BFF aggregated read: {report['page_size']} orders with invoices of "
        f"{report['orders_seeded']} seeded; {report['rounds']} interleaved rounds "
        f"({report['profile']}), {report['machine']['cpus']} CPUs, {report['measured_at']}",
        header,
        "-" * len(header),
    ]
    for result in report["results"].values():
        lines.append(
            f"{result['label']:<28} {result['median_ms']:>10.2f} {result['p95_ms']:>10.2f}  "
            f"{_calls(result['upstream_calls_per_request']):<32}"
            f" {result['baseline_over_this_median']:>12.2f}x"
        )
    return "\n".join(lines)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into SystemExit so the finally blocks stop every service process.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: minimal seed and repetitions (figures not meaningful)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the JSON results (default: {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    report = run(QUICK if args.quick else FULL, args.output)
    print(table(report))
    print(f"\nJSON: {args.output}  ({report['duration_s']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
