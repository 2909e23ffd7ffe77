"""Documents are parsed and validated once, without letting a cached document skip a check."""

from __future__ import annotations

from graphql import parse

from bff.document_cache import MAX_CACHED_QUERY_CHARS, DocumentCache
from tests.bff.conftest import System, SystemFactory

TWO_OPERATIONS = "query A { syncStatus { healthy } } query B { syncStatus { token } }"


async def test_a_document_with_several_operations_needs_a_name_every_time(system: System) -> None:
    named = await system.bff.post("/graphql", json={"query": TWO_OPERATIONS, "operationName": "B"})
    assert "errors" not in named.json()

    unnamed = await system.bff.post("/graphql", json={"query": TWO_OPERATIONS})

    [error] = unnamed.json()["errors"]
    assert "operationName" in error["message"]


async def test_a_refused_document_is_refused_again(make_system: SystemFactory) -> None:
    system = await make_system(max_depth=3)
    deep = "{ orders { edges { node { invoice { order { number } } } } } }"

    for _ in range(2):
        body = await system.gql(deep)
        assert body.get("data") is None
        assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_a_valid_document_still_runs_with_new_variables(system: System) -> None:
    query = "query($n: Int!) { order(number: $n) { number } }"
    assert await system.ok(query, {"n": 1}) == {"order": None}

    body = await system.gql(query, {"n": "one"})  # same document, bad variables

    assert body.get("data") is None
    assert body["errors"][0]["message"] == "The value of $n must be a whole number."


def test_the_cache_is_bounded_and_skips_huge_documents() -> None:
    cache = DocumentCache(maxsize=2)
    document = parse("{ __typename }")
    for name in ("a", "b", "c"):
        cache.put((f"query {name} {{ __typename }}", None), document)
    assert len(cache) == 2
    assert cache.get(("query a { __typename }", None)) is None
    assert cache.get(("query c { __typename }", None)) is document

    huge = "{ __typename }" + " " * MAX_CACHED_QUERY_CHARS
    cache.put((huge, None), document)
    assert cache.get((huge, None)) is None
