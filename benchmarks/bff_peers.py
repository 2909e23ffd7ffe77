"""Benchmark: the BFF against the gateway a team would pick instead, and against the floor.

One run starts ordering and billing as uvicorn processes (SQLite in a temporary directory),
seeds a page of 50 confirmed orders, and puts four contenders in front of those same processes:

- **hive**: Hive Gateway (one worker) serving a Mesh Compose supergraph built from the services'
  live `/openapi.json` (benchmarks/peer/);
- **floor**: benchmarks/floor.py, the same two REST calls and a join, no GraphQL;
- **bff_cache_off**: the BFF with `BFF_CACHE_TTL=0`;
- **bff_cache_on**: the BFF with its default cache (in memory, 5 s TTL), warm.

It checks that all four return the same rows, then loads each with `wrk` (closed loop, 1 thread)
at concurrency 1 and 16, in interleaved rounds whose order rotates, so machine noise hits all
alike. Upstream calls per query are counted by a second copy of each contender pointed at a
counting proxy (never timed). It prints the ratios of issue 8's goal and writes JSON to
`artifacts/bench/bff_peers.json`.

    .venv/bin/python -m benchmarks.bff_peers            # full run (~4 min)
    .venv/bin/python -m benchmarks.bff_peers --quick    # smoke run, figures meaningless
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import peer_gateway, wrk
from benchmarks.peer_gateway import HiveGateway
from service_procs.ports import free_port
from service_procs.processes import REPO_ROOT, ServiceProcess, service_env

SERVICE_TOKEN = "bench-service-token"
PAGE_SIZE = 50
# Confirmed after billing's pull, so they have no invoice yet: the page then checks that every
# contender matches invoices to orders by order number, not by position in billing's batch.
WITHOUT_INVOICE = 2
CACHE_TTL = 5.0
# The WITHOUT_INVOICE orders' missing invoices are cached this long (BFF_CACHE_ABSENT_TTL).
CACHE_ABSENT_TTL = 0.5
DEFAULT_OUTPUT = REPO_ROOT / "artifacts" / "bench" / "bff_peers.json"

BFF_QUERY = (
    "{ orders(first: 50, status: CONFIRMED) { edges { node { number status total "
    "customer { name } invoice { number status amount } } } } }"
)
HIVE_QUERY = (
    "{ get_orders(limit: 50, status: confirmed) { ... on OrderPage { orders { number status "
    "total customer { name } invoice { number status amount } } } } }"
)

HIVE, FLOOR, BFF_OFF, BFF_ON = "hive", "floor", "bff_cache_off", "bff_cache_on"
CONTENDERS = (HIVE, FLOOR, BFF_OFF, BFF_ON)
LABELS = {
    HIVE: "Hive Gateway + Mesh (1 worker)",
    FLOOR: "direct floor (2 REST calls + join)",
    BFF_OFF: "BFF, cache off",
    BFF_ON: "BFF, cache on (warm)",
}
CONCURRENCY = (1, 16)

# number, status, total, customer name, invoice number, invoice status, invoice amount
Row = tuple[int, str, str, str, int | None, str | None, str | None]


@dataclass(frozen=True)
class Profile:
    name: str
    rounds: int
    seconds: float  # one wrk run
    warmup_seconds: float
    counted: int  # sequential queries per contender in the counting pass
    refill_seconds: float  # cache-on BFF under 16 clients, counting refills


FULL = Profile("full", rounds=6, seconds=5, warmup_seconds=2, counted=10, refill_seconds=11)
QUICK = Profile("quick", rounds=1, seconds=2, warmup_seconds=0, counted=2, refill_seconds=1)


# ---------------------------------------------------------------------------------------------
# Processes


def _env(**overrides: str) -> dict[str, str]:
    env = service_env({"SERVICE_TOKEN": SERVICE_TOKEN})
    env = {k: v for k, v in env.items() if not k.startswith(("FLOOR_", "COUNTING_PROXY_"))}
    return {**env, **overrides}


@contextmanager
def started(
    processes: Sequence[ServiceProcess],
    meanwhile: Callable[[], None] | None = None,
    then: Sequence[ServiceProcess] = (),
) -> Iterator[None]:
    """Start `processes`, run `meanwhile` while they boot, start `then`, wait for all to be
    healthy; stop every one of them on the way out, whatever happens."""
    with ExitStack() as stack:
        for process in processes:
            stack.callback(process.stop)
            process.start()
        if meanwhile is not None:
            meanwhile()
        for process in then:
            stack.callback(process.stop)
            process.start()
        for process in [*processes, *then]:
            process.wait_healthy()
        yield


def contender_processes(
    root: Path, tag: str, ordering: str, billing: str, supergraph: Path
) -> dict[str, ServiceProcess]:
    """The four contenders, all reading from `ordering` and `billing` (direct or via the proxy)."""

    def bff(ttl: str | None) -> dict[str, str]:
        # wrk is one client: the BFF's per-client limits (rate, requests in flight) would
        # measure themselves, and Hive has none, so they are off for the comparison.
        env = _env(
            BFF_ORDERING_URL=ordering,
            BFF_BILLING_URL=billing,
            BFF_RATE_LIMIT="",
            BFF_CLIENT_IN_FLIGHT="0",
            # Hive has no sign-in in front of it either: compare GraphQL execution alone.
            # BFF_AUTH=none is refused outside a development run.
            BFF_AUTH="none",
            APP_ENV="development",
        )
        if ttl is not None:
            env["BFF_CACHE_TTL"] = ttl
            env["BFF_CACHE_ABSENT_TTL"] = str(CACHE_ABSENT_TTL)
        return env

    def uvicorn(name: str, factory: str, env: dict[str, str]) -> ServiceProcess:
        return ServiceProcess(f"{name}{tag}", factory, free_port(), env, root / f"{name}{tag}.log")

    return {
        HIVE: HiveGateway.create(f"hive{tag}", supergraph, free_port(), root / f"hive{tag}.log"),
        FLOOR: uvicorn(
            FLOOR,
            "benchmarks.floor:create_app",
            _env(
                FLOOR_ORDERING_URL=ordering,
                FLOOR_BILLING_URL=billing,
                FLOOR_SERVICE_TOKEN=SERVICE_TOKEN,
            ),
        ),
        BFF_OFF: uvicorn(BFF_OFF, "bff.app:create_app", bff("0")),
        BFF_ON: uvicorn(BFF_ON, "bff.app:create_app", bff(str(CACHE_TTL))),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


@dataclass(frozen=True)
class Sample:
    """One wrk run against one contender, with the CPU the contender spent serving it."""

    load: wrk.LoadResult
    cpu_ms_per_query: float


# ---------------------------------------------------------------------------------------------
# Seed data and answers


def _order_input(i: int) -> dict[str, Any]:
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


def seed(client: httpx.Client, ordering: str, billing: str) -> None:
    def confirmed_order(i: int) -> None:
        created = client.post(f"{ordering}/orders", json=_order_input(i))
        created.raise_for_status()
        client.post(f"{ordering}/orders/{created.json()['number']}/confirm").raise_for_status()

    with_invoice = PAGE_SIZE - WITHOUT_INVOICE
    for i in range(with_invoice):
        confirmed_order(i)
    report = client.post(f"{billing}/sync/run", timeout=60.0)
    report.raise_for_status()
    if report.json()["new"] != with_invoice:
        raise RuntimeError(f"billing pulled {report.json()} for {with_invoice} orders")
    for i in range(with_invoice, PAGE_SIZE):
        confirmed_order(i)


def _row(node: dict[str, Any]) -> Row:
    invoice = node["invoice"]
    return (
        node["number"],
        node["status"].upper(),
        node["total"],
        node["customer"]["name"],
        invoice["number"] if invoice else None,
        invoice["status"].upper() if invoice else None,
        invoice["amount"] if invoice else None,
    )


def read_rows(client: httpx.Client, name: str, url: str) -> list[Row]:
    query = HIVE_QUERY if name == HIVE else BFF_QUERY
    response = client.post(f"{url}/graphql", json={"query": query})
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{name} answered {response.status_code}: {str(body)[:2000]}")
    if name == HIVE:
        return [_row(order) for order in body["data"]["get_orders"]["orders"]]
    return [_row(edge["node"]) for edge in body["data"]["orders"]["edges"]]


def check_same_rows(client: httpx.Client, urls: dict[str, str]) -> list[Row]:
    answers = {label: read_rows(client, label.split("@")[0], url) for label, url in urls.items()}
    expected = answers[f"{FLOOR}@timed"]
    without = sum(1 for row in expected if row[4] is None)
    if len(expected) != PAGE_SIZE or without != WITHOUT_INVOICE:
        raise RuntimeError(f"the seeded page is not as planned: {expected}")
    for label, rows in answers.items():
        if rows != expected:
            diff = [(a, b) for a, b in zip(rows, expected, strict=False) if a != b][:3]
            raise RuntimeError(f"{label} answered different rows than the floor, e.g. {diff}")
    return expected


# ---------------------------------------------------------------------------------------------
# Counting upstream calls


def proxy_counts(client: httpx.Client, proxy: str) -> dict[str, int]:
    counts: dict[str, int] = client.get(f"{proxy}/_proxy/counts").json()
    return counts


def count_calls(
    client: httpx.Client, proxy: str, name: str, url: str, queries: int
) -> dict[str, float]:
    read_rows(client, name, url)  # warms a cache where there is one; not counted
    client.post(f"{proxy}/_proxy/counts/reset").raise_for_status()
    for _ in range(queries):
        read_rows(client, name, url)
    counts = proxy_counts(client, proxy)
    per_query = {upstream: counts[upstream] / queries for upstream in ("ordering", "billing")}
    return {**per_query, "total": per_query["ordering"] + per_query["billing"]}


def count_calls_under_load(
    client: httpx.Client,
    wrk_path: str,
    script: Path,
    proxy: str,
    name: str,
    url: str,
    seconds: float,
) -> dict[str, float]:
    """Upstream calls per answered query under 16 clients: what the upstreams saw during a
    c=16 load. Identical reads in flight at the same time may share one upstream call (the
    cache-off BFF's single-flight guard does that), which makes it lower than the sequential
    count; the up to 16 queries still in flight when the window closes made calls but are not
    answered ones, which makes it higher (by at most 32 / answered queries)."""
    read_rows(client, name, url)
    client.post(f"{proxy}/_proxy/counts/reset").raise_for_status()
    load = wrk.run(wrk_path, f"{url}/graphql", script, 16, seconds)
    counts = proxy_counts(client, proxy)
    per_query = {u: round(counts[u] / max(1, load.requests), 3) for u in ("ordering", "billing")}
    return {**per_query, "total": round(per_query["ordering"] + per_query["billing"], 3)}


def count_refills(
    client: httpx.Client, wrk_path: str, script: Path, proxy: str, url: str, seconds: float
) -> dict[str, Any]:
    """Upstream calls of the cache-on BFF under 16 clients over a window spanning expiries."""
    read_rows(client, BFF_ON, url)
    client.post(f"{proxy}/_proxy/counts/reset").raise_for_status()
    load = wrk.run(wrk_path, f"{url}/graphql", script, 16, seconds)
    counts = proxy_counts(client, proxy)
    return {
        "seconds": round(load.seconds, 2),
        "queries": load.requests,
        "ttl_s": CACHE_TTL,
        "absent_ttl_s": CACHE_ABSENT_TTL,
        # Each TTL window can need one refill per upstream; a window may straddle the start.
        "most_refills_per_upstream": int(load.seconds // CACHE_TTL) + 1,
        # Billing also once per absent TTL, for the orders still waiting for their invoice.
        "most_billing_refills": int(load.seconds // CACHE_TTL)
        + int(load.seconds // CACHE_ABSENT_TTL)
        + 2,
        "ordering_calls": counts["ordering"],
        "billing_calls": counts["billing"],
    }


# ---------------------------------------------------------------------------------------------
# The run


def _ratio(a: float, b: float) -> float | None:
    # None when the baseline completed nothing in its window (possible on a swamped machine).
    return round(a / b, 3) if b else None


def summarize(samples: dict[str, dict[int, list[Sample]]]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, by_c in samples.items():
        figures[name] = {}
        for c, runs in by_c.items():
            results = [run.load for run in runs]
            figures[name][f"c{c}"] = {
                "rps": [round(r.rps, 1) for r in results],
                "p50_ms": [round(r.p50_ms, 2) for r in results],
                "p95_ms": [round(r.p95_ms, 2) for r in results],
                "cpu_ms_per_query": [round(run.cpu_ms_per_query, 2) for run in runs],
                "errors": sum(r.errors for r in results),
                "median_rps": round(statistics.median(r.rps for r in results), 1),
                "median_p50_ms": round(statistics.median(r.p50_ms for r in results), 2),
                "median_p95_ms": round(statistics.median(r.p95_ms for r in results), 2),
                "median_cpu_ms_per_query": round(
                    statistics.median(run.cpu_ms_per_query for run in runs), 2
                ),
            }
    return figures


def goal_ratios(samples: dict[str, dict[int, list[Sample]]]) -> dict[str, Any]:
    """Per round (the contenders of one round ran back to back), then min / median / max."""

    def value(sample: Sample, metric: str) -> float:
        if metric == "cpu_ms_per_query":
            return sample.cpu_ms_per_query
        return float(getattr(sample.load, metric))

    def per_round(a: str, b: str, c: int, metric: str) -> dict[str, Any]:
        values = [
            _ratio(value(x, metric), value(y, metric))
            for x, y in zip(samples[a][c], samples[b][c], strict=True)
        ]
        known = [v for v in values if v is not None]
        return {
            "rounds": values,
            "min": min(known) if known else None,
            "median": round(statistics.median(known), 3) if known else None,
            "max": max(known) if known else None,
        }

    return {
        "bff_off_over_hive_rps_c16": {**per_round(BFF_OFF, HIVE, 16, "rps"), "goal": ">= 1.2"},
        "bff_off_over_hive_p95_c16": {**per_round(BFF_OFF, HIVE, 16, "p95_ms"), "goal": "<= 1.0"},
        "bff_off_over_floor_p50_c1": {**per_round(BFF_OFF, FLOOR, 1, "p50_ms"), "goal": "<= 1.3"},
        "bff_on_over_off_rps_c16": {**per_round(BFF_ON, BFF_OFF, 16, "rps"), "goal": ">= 5"},
        "bff_on_over_hive_rps_c16": per_round(BFF_ON, HIVE, 16, "rps"),
        "hive_over_floor_p50_c1": per_round(HIVE, FLOOR, 1, "p50_ms"),
        "bff_off_over_hive_rps_c1": per_round(BFF_OFF, HIVE, 1, "rps"),
        # The gateway's own CPU per query: what the upstreams cost is not in it, so it holds
        # even when the upstreams, not the gateway, limit the requests per second.
        "bff_off_over_hive_cpu_c16": per_round(BFF_OFF, HIVE, 16, "cpu_ms_per_query"),
        "bff_on_over_off_cpu_c16": per_round(BFF_ON, BFF_OFF, 16, "cpu_ms_per_query"),
    }


def run(profile: Profile, output: Path) -> dict[str, Any]:
    started_at = time.perf_counter()
    wrk_path = wrk.ensure_wrk()
    peer_gateway.ensure_installed()
    with (
        tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp,
        httpx.Client(headers={"authorization": f"Bearer {SERVICE_TOKEN}"}, timeout=30.0) as client,
    ):
        root = Path(tmp)
        ordering = ServiceProcess(
            "ordering",
            "ordering_api.app:create_app",
            free_port(),
            _env(ORDERING_DATABASE_URL=f"sqlite+aiosqlite:///{root / 'ordering.db'}"),
            root / "ordering.log",
        )
        billing_port = free_port()
        billing = ServiceProcess(
            "billing",
            "billing_api.app:create_app",
            billing_port,
            _env(
                BILLING_DATABASE_URL=f"sqlite+aiosqlite:///{root / 'billing.db'}",
                BILLING_ORDERING_URL=ordering.url,
                BILLING_PULL_ENABLED="false",
            ),
            root / "billing.log",
        )
        proxy = ServiceProcess(
            "proxy",
            "benchmarks.counting_proxy:create_app",
            free_port(),
            {
                **_env(),
                "COUNTING_PROXY_UPSTREAMS": f"ordering={ordering.url},billing={billing.url}",
            },
            root / "proxy.log",
        )
        with started([ordering, billing, proxy]):
            seed(client, ordering.url, billing.url)
            supergraph = root / "supergraph.graphql"
            counted_supergraph = root / "counted" / "supergraph.graphql"
            counted_supergraph.parent.mkdir()

            def compose() -> None:
                # Mesh Compose reads the services' live OpenAPI while the contenders boot.
                peer_gateway.compose_supergraph(
                    ordering.url, billing.url, SERVICE_TOKEN, supergraph
                )
                peer_gateway.retarget(
                    supergraph,
                    {ordering.url: f"{proxy.url}/ordering", billing.url: f"{proxy.url}/billing"},
                    counted_supergraph,
                )

            timed = contender_processes(root, "", ordering.url, billing.url, supergraph)
            counted = contender_processes(
                root,
                "_counted",
                f"{proxy.url}/ordering",
                f"{proxy.url}/billing",
                counted_supergraph,
            )
            pythons = [p for group in (timed, counted) for n, p in group.items() if n != HIVE]
            with started(pythons, meanwhile=compose, then=[timed[HIVE], counted[HIVE]]):
                urls = {f"{n}@timed": p.url for n, p in timed.items()}
                urls |= {f"{n}@counted": p.url for n, p in counted.items()}
                rows = check_same_rows(client, urls)

                scripts = {
                    HIVE: wrk.write_script({"query": HIVE_QUERY}, root / "hive.lua"),
                    FLOOR: wrk.write_script({"query": BFF_QUERY}, root / "bff.lua"),
                }
                scripts[BFF_OFF] = scripts[BFF_ON] = scripts[FLOOR]

                def load(name: str, connections: int, seconds: float) -> Sample:
                    pid = timed[name].pid
                    before = cpu_seconds(pid)
                    result = wrk.run(
                        wrk_path, f"{timed[name].url}/graphql", scripts[name], connections, seconds
                    )
                    spent = cpu_seconds(pid) - before
                    return Sample(result, 1000 * spent / max(1, result.requests))

                for name in CONTENDERS if profile.warmup_seconds else ():
                    load(name, 16, profile.warmup_seconds)
                samples: dict[str, dict[int, list[Sample]]] = {
                    name: {c: [] for c in CONCURRENCY} for name in CONTENDERS
                }
                for round_number in range(profile.rounds):
                    shift = round_number % len(CONTENDERS)
                    order = CONTENDERS[shift:] + CONTENDERS[:shift]
                    for connections in CONCURRENCY:
                        for name in order:
                            samples[name][connections].append(
                                load(name, connections, profile.seconds)
                            )
                    print(f"round {round_number + 1}/{profile.rounds} done", flush=True)

                calls = {
                    name: count_calls(client, proxy.url, name, counted[name].url, profile.counted)
                    for name in CONTENDERS
                }
                calls_c16 = {
                    name: count_calls_under_load(
                        client,
                        wrk_path,
                        scripts[name],
                        proxy.url,
                        name,
                        counted[name].url,
                        profile.seconds,
                    )
                    for name in (HIVE, FLOOR, BFF_OFF)
                }
                refills = count_refills(
                    client,
                    wrk_path,
                    scripts[BFF_ON],
                    proxy.url,
                    counted[BFF_ON].url,
                    profile.refill_seconds,
                )
                # Still the same answers after the load (nothing broke under it).
                check_same_rows(client, urls)

    figures = summarize(samples)
    for name in CONTENDERS:
        figures[name]["label"] = LABELS[name]
        figures[name]["upstream_calls_per_query"] = calls[name]
        if name in calls_c16:
            figures[name]["upstream_calls_per_query_c16"] = calls_c16[name]
    report: dict[str, Any] = {
        "benchmark": "bff_peers",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": profile.name,
        "command": " ".join(["python -m benchmarks.bff_peers", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "page": {"orders": len(rows), "without_invoice": WITHOUT_INVOICE},
        "queries": {"bff": BFF_QUERY, "hive": HIVE_QUERY},
        "rounds": profile.rounds,
        "seconds_per_load": profile.seconds,
        "results": figures,
        "ratios": goal_ratios(samples),
        "cache_on_refills_c16": refills,
        "wall_seconds": round(time.perf_counter() - started_at, 1),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    return report


def print_report(report: dict[str, Any], output: Path) -> None:
    print(
        f"\n{report['page']['orders']}-order page, {report['rounds']} interleaved rounds of "
        f"{report['seconds_per_load']:g} s per contender and concurrency "
        f"({report['profile']} profile, load average {report['machine']['load_average']})\n"
    )
    header = (
        f"{'contender':38} {'c':>3} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'CPU ms/q':>9} {'calls/query':>12}"
    )
    print(header)
    print("-" * len(header))
    for name in CONTENDERS:
        figures = report["results"][name]
        calls = figures["upstream_calls_per_query"]
        for c in CONCURRENCY:
            f = figures[f"c{c}"]
            print(
                f"{figures['label']:38} {c:>3} {f['median_rps']:>9.1f} {f['median_p50_ms']:>8.2f} "
                f"{f['median_p95_ms']:>8.2f} {f['median_cpu_ms_per_query']:>9.2f} "
                f"{calls['total']:>12g}"
            )
    print("\nratios per round (min / median / max):")
    for key, ratio in report["ratios"].items():
        goal = f"   goal {ratio['goal']}" if "goal" in ratio else ""
        spread = " / ".join(
            "n/a" if ratio[k] is None else f"{ratio[k]:.2f}" for k in ("min", "median", "max")
        )
        print(f"  {key:28} {spread}{goal}")
    under_load = ", ".join(
        f"{report['results'][name]['label']} {figures['upstream_calls_per_query_c16']['total']:g}"
        for name, figures in report["results"].items()
        if "upstream_calls_per_query_c16" in figures
    )
    print(f"\nupstream calls per query under 16 clients: {under_load}")
    r = report["cache_on_refills_c16"]
    print(
        f"\ncache on, 16 clients for {r['seconds']} s (TTL {r['ttl_s']:g} s, {r['queries']} "
        f"queries): {r['ordering_calls']} ordering + {r['billing_calls']} billing calls "
        f"(single-flight refills: at most {r['most_refills_per_upstream']} ordering, "
        f"{r['most_billing_refills']} billing with the {r['absent_ttl_s']:g} s absent TTL)"
    )
    print(f"\nJSON: {output}  ({report['wall_seconds']} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run; figures meaningless")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # unwinds the context managers: processes stopped

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    report = run(QUICK if args.quick else FULL, args.output)
    print_report(report, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
