"""Benchmark: the costliest documents the BFF's limits let through, parsed and validated.

For each hostile shape, the largest instance within the default limits (tokens, depth,
aliases, fields, cost) is parsed and validated exactly as the BFF does (the document-limits rule
first, then graphql-core's specified rules and strawberry's); the table gives the median and
slowest of the repetitions, and whether the BFF accepts the document or refuses it. The last
rows compare, interleaved, the fragment fan-out under strawberry's own depth and alias limiters
(which re-walk every fragment at every spread) against this BFF's rule: the growth with each
level is the point.

    .venv/bin/python -m benchmarks.bff_validation_worst_case          # ~1 minute
    .venv/bin/python -m benchmarks.bff_validation_worst_case --quick  # a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from graphql import (
    GraphQLError,
    Lexer,
    Source,
    TokenKind,
    get_introspection_query,
    parse,
    specified_rules,
)
from graphql.validation import ASTValidationRule
from strawberry.extensions.max_aliases import create_validator as create_alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_validator
from strawberry.schema.schema import validate_document

from bff.document_limits import DocumentLimits, limits_rule
from bff.schema import build_schema
from bff.settings import MAX_PAGE_SIZE, BffSettings


@dataclass(frozen=True)
class Case:
    name: str
    query: str


def fan_out(levels: int, width: int = 3) -> str:
    fragments = [
        f"fragment F{i} on Order {{ {' '.join([f'...F{i + 1}'] * width)} }}" for i in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Order {{ number }}")
    return "{ order(number: 1) { ...F0 } } " + " ".join(fragments)


def tokens(query: str) -> int:
    lexer, count = Lexer(Source(query)), 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


def largest(build: Callable[[int], str], max_tokens: int, max_n: int = 10_000) -> str:
    """The largest `build(n)` within the token limit (and within `max_n`)."""
    low, high = 1, max_n
    while low < high:
        middle = (low + high + 1) // 2
        if tokens(build(middle)) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    return build(low)


def distinct_fragments(n: int, body: str) -> str:
    return (
        "{ order(number: 1) { "
        + " ".join(f"...F{i}" for i in range(n))
        + " } } "
        + " ".join(f"fragment F{i} on Order {{ {body} }}" for i in range(n))
    )


def cases(max_tokens: int, max_fields: int) -> list[Case]:
    """Each shape at its largest within the token limit; those meant to pass also within the
    field limit."""
    pairs = max_fields // 2
    shapes: list[tuple[str, Callable[[int], str], int]] = [
        ("fragment fan-out, width 3 (the reported attack at 15 levels)", fan_out, 200),
        (
            "copies of `syncStatus { token }`",
            lambda n: "{ " + "syncStatus { token } " * n + "}",
            pairs,
        ),
        (
            "copies of one leaf",
            lambda n: "{ order(number: 1) { " + "number " * n + "} }",
            max_fields - 1,
        ),
        (
            "distinct fragments with a sub-selection, all spread together",
            lambda n: distinct_fragments(n, "customer { name }"),
            (max_fields - 1) // 2,
        ),
        (
            "inline fragments with a sub-selection",
            lambda n: "{ order(number: 1) { " + "... on Order { customer { name } } " * n + "} }",
            (max_fields - 1) // 2,
        ),
        ("distinct leaf fragments", lambda n: distinct_fragments(n, "number"), max_fields - 1),
    ]
    built = [Case(name, largest(build, max_tokens, cap)) for name, build, cap in shapes]
    built.append(
        Case(
            "the reported 450 copies of `syncStatus { token }`",
            "{ " + "syncStatus { token } " * 450 + "}",
        )
    )
    built.append(Case("GraphiQL's introspection query", get_introspection_query(descriptions=True)))
    return built


def bff_rules(settings: BffSettings) -> tuple[type[ASTValidationRule], ...]:
    limits = DocumentLimits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_fields=settings.max_fields,
        max_cost=settings.max_cost,
        max_page_size=MAX_PAGE_SIZE,
    )
    return (limits_rule(limits), *specified_rules)


def strawberry_rules(settings: BffSettings) -> tuple[type[ASTValidationRule], ...]:
    return (
        *specified_rules,
        create_depth_validator(settings.max_depth, None, None),
        create_alias_validator(settings.max_aliases),
    )


def timed(check: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    times: list[float] = []
    outcome: object = None
    for _ in range(repeat):
        started = time.perf_counter()
        outcome = check()
        times.append(time.perf_counter() - started)
    return times, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition, small fan-outs")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else 7
    settings = BffSettings()
    schema = build_schema(settings)._schema
    rules = bff_rules(settings)

    def check(query: str, with_rules: tuple[type[ASTValidationRule], ...]) -> str:
        try:
            document = parse(query, max_tokens=settings.max_tokens)
        except GraphQLError as error:
            return f"refused: {error.message[:60]}"
        errors = validate_document(schema, document, with_rules)
        return "accepted" if not errors else f"refused: {errors[0].message[:60]}"

    print(f"limits: {settings.max_tokens} tokens, {settings.max_fields} fields\n")
    print(f"{'document':<64} {'tokens':>6} {'bytes':>6} {'median ms':>10} {'max ms':>8}  outcome")
    worst = 0.0
    for case in cases(settings.max_tokens, settings.max_fields):
        times, outcome = timed(partial(check, case.query, rules), repeat)
        worst = max(worst, *times)
        print(
            f"{case.name:<64} {tokens(case.query):>6} {len(case.query):>6}"
            f" {statistics.median(times) * 1000:>10.1f}"
            f" {max(times) * 1000:>8.1f}  {outcome}"
        )
    print(f"\nslowest parse + validation of any document within the limits: {worst * 1000:.1f} ms")

    print("\nfragment fan-out (width 3), strawberry's limiters vs the BFF's, interleaved:")
    print(f"{'levels':>6} {'bytes':>6} {'strawberry ms':>14} {'bff ms':>8} {'ratio':>7}")
    old = strawberry_rules(settings)
    for levels in (6, 8) if args.quick else (6, 8, 10, 11, 12):
        query = fan_out(levels)  # all within the token limit
        old_times: list[float] = []
        new_times: list[float] = []
        for _ in range(repeat if levels < 11 else 1):
            old_times += timed(partial(check, query, old), 1)[0]
            new_times += timed(partial(check, query, rules), 1)[0]
        before, after = statistics.median(old_times), statistics.median(new_times)
        print(
            f"{levels:>6} {len(query):>6} {before * 1000:>14.1f} {after * 1000:>8.1f}"
            f" {before / after:>7.0f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
