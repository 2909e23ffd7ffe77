"""The BFF's metrics: GraphQL operations and their errors, upstream calls, cache lookups.

Hooks sit where the BFF already decides things (one upstream call, one cache read, one
executed operation), never per field, so a request pays a few counter increments. Operation
names come from clients, so at most `MAX_OPERATION_NAMES` distinct ones get their own series;
later ones are counted as `other` (a client cannot blow up the number of series).
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram

from service_http.metrics import LATENCY_BUCKETS

MAX_OPERATION_NAMES = 100
ANONYMOUS = "anonymous"
OTHER = "other"
# An error without a code: a request error (syntax, validation) has no path, anything raised
# while executing does.
REQUEST_ERROR = "GRAPHQL_REQUEST_ERROR"


class BffMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.operations = Counter(
            "bff_graphql_operations",
            "GraphQL operations executed (not those answered from the response cache), by name",
            ["operation"],
            registry=registry,
        )
        self.errors = Counter(
            "bff_graphql_errors",
            "GraphQL errors answered, by operation name and extensions.code",
            ["operation", "code"],
            registry=registry,
        )
        self.upstream_calls = Counter(
            "bff_upstream_requests",
            "Calls to an upstream service, by upstream, method and HTTP status (or the failure)",
            ["upstream", "method", "status"],
            registry=registry,
        )
        self.upstream_latency = Histogram(
            "bff_upstream_request_duration_seconds",
            "Duration of calls to an upstream service",
            ["upstream"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.upstream_errors = Counter(
            "bff_upstream_errors",
            "Upstream failures answered as UPSTREAM_UNAVAILABLE, by upstream and reason",
            ["upstream", "reason"],
            registry=registry,
        )
        self.cache_lookups = Counter(
            "bff_cache_lookups",
            "Upstream cache lookups, per key, by upstream and result (hit, miss)",
            ["upstream", "result"],
            registry=registry,
        )
        self.response_cache_lookups = Counter(
            "bff_response_cache_lookups",
            "Whole-response cache lookups of GraphQL reads, by result (hit, miss)",
            ["result"],
            registry=registry,
        )
        self._names: set[str] = set()
        self._response_hit = self.response_cache_lookups.labels("hit")
        self._response_miss = self.response_cache_lookups.labels("miss")

    def operation_label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if name in self._names:
            return name
        if len(self._names) >= MAX_OPERATION_NAMES:
            return OTHER
        self._names.add(name)
        return name

    def observe_operation(self, name: str | None, error_codes: Iterable[str]) -> None:
        operation = self.operation_label(name)
        self.operations.labels(operation).inc()
        for code in error_codes:
            self.errors.labels(operation, code).inc()

    def observe_upstream(self, upstream: str, method: str, status: str, seconds: float) -> None:
        self.upstream_calls.labels(upstream, method, status).inc()
        self.upstream_latency.labels(upstream).observe(seconds)

    def observe_upstream_error(self, upstream: str, reason: str) -> None:
        self.upstream_errors.labels(upstream, reason).inc()

    def observe_cache(self, upstream: str, hits: int, misses: int) -> None:
        if hits:
            self.cache_lookups.labels(upstream, "hit").inc(hits)
        if misses:
            self.cache_lookups.labels(upstream, "miss").inc(misses)

    def observe_response_cache(self, hit: bool) -> None:
        (self._response_hit if hit else self._response_miss).inc()
