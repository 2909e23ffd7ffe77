"""Hostile GraphQL documents and bodies: refused with clear 400-class errors, at linear cost.

Each test is one of the attacks that used to freeze or break the BFF (see bff/README.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    DocumentNode,
    GraphQLNamedType,
    OperationDefinitionNode,
    SelectionSetNode,
    get_introspection_query,
    parse,
)

from bff.document_limits import MAX_NESTING, DocumentMeter
from bff.schema import build_schema
from bff.settings import BffSettings
from tests.bff.conftest import System, SystemFactory

RESPONSE_JSON = "application/graphql-response+json"


def refused(body: dict[str, Any]) -> dict[str, Any]:
    """The only error of a request refused before execution (no `data` entry at all)."""
    assert "data" not in body, body
    [error] = body["errors"]
    assert isinstance(error, dict)
    assert "locations" not in error or isinstance(error["locations"], list)
    return error


def fan_out(levels: int, width: int = 3) -> str:
    """Fragments that each spread the next `width` times: width**levels fields once expanded."""
    fragments = [
        f"fragment F{i} on Order {{ {' '.join([f'...F{i + 1}'] * width)} }}" for i in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Order {{ number }}")
    return "{ order(number: 1) { ...F0 } } " + " ".join(fragments)


class CountingMeter(DocumentMeter):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.visits = 0

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, nesting: int
    ) -> Any:
        self.visits += 1
        return super().selection_set(selection_set, parent, nesting)


def measure(document: DocumentNode) -> tuple[Any, int]:
    schema = build_schema(BffSettings())._schema
    meter = CountingMeter(schema, document, 100)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return meter.operation(operation), meter.visits


def test_the_meter_visits_each_fragment_once() -> None:
    document = parse(fan_out(60))

    tally, visits = measure(document)

    # 3**60 fields once expanded (saturated), yet one visit per selection set in the text:
    # the operation's, `order`'s, and each of the 61 fragments'.
    assert tally.fields == 2**62
    assert visits == 2 + 61


async def test_fragments_chained_deeper_than_the_walk_bound_are_refused(
    make_system: SystemFactory,
) -> None:
    system: System = await make_system(max_tokens=2000)
    error = refused(await system.gql(fan_out(150, width=1)))
    assert error["extensions"]["limit"] == "nesting"


async def test_the_741_byte_fragment_fan_out_is_refused(system: System) -> None:
    query = fan_out(15)  # the reported attack: 3**15 = 14,348,907 fields once expanded
    assert len(query.encode()) == 731

    error = refused(await system.gql(query))

    assert error["extensions"]["limit"] == "fields"
    assert error["extensions"]["value"] == 3**15 + 1
    assert "fields with its fragments expanded" in error["message"]
    assert system.ordering_link.calls == []


async def test_450_duplicated_fields_are_refused(
    system: System, make_system: SystemFactory
) -> None:
    query = "{ " + " ".join(["syncStatus { token }"] * 450) + " }"

    # By default the token limit stops it while parsing ...
    error = refused(await system.gql(query))
    assert "Document contains more than 500 tokens" in error["message"]
    assert system.billing_link.calls == []

    # ... and with the tokens the reported BFF allowed, the field limit does, before the
    # quadratic field-merging check.
    system = await make_system(max_tokens=2000)
    error = refused(await system.gql(query))
    assert error["extensions"] == {
        "code": "GRAPHQL_VALIDATION_FAILED",
        "limit": "fields",
        "value": 900,
        "maximum": 250,
    }
    assert system.billing_link.calls == []


async def test_cost_counts_pages_and_is_refused_before_execution(
    make_system: SystemFactory,
) -> None:
    system: System = await make_system(max_cost=1000)
    node = "number status total customer { name email } invoice { number status amount }"
    query = (
        f"{{ a: orders(first: 100) {{ edges {{ node {{ {node} }} }} }}"
        " b: orders { edges { cursor } } }"
    )

    error = refused(await system.gql(query))

    # a: 1 + 100 * (edges + node + 3 leaves + customer's 3 + invoice's 4);
    # b: 1 + 20 (the argument's default) * (edges + cursor).
    cost = 1 + 100 * (1 + 1 + 3 + 3 + 4) + 1 + 20 * 2
    assert error["extensions"]["limit"] == "cost"
    assert error["extensions"]["value"] == cost
    assert f"costs {cost}" in error["message"]
    assert system.ordering_link.calls == []


async def test_a_page_size_from_a_variable_counts_as_the_largest_page(
    make_system: SystemFactory,
) -> None:
    system: System = await make_system(max_cost=300)
    query = "query($n: Int!) { orders(first: $n) { edges { node { number } } } }"

    error = refused(await system.gql(query, {"n": 1}))

    assert error["extensions"]["value"] == 1 + 100 * 3
    literal = "{ orders(first: 2) { edges { node { number } } } }"
    assert await system.ok(literal) == {"orders": {"edges": []}}


async def test_the_web_apps_documents_are_within_every_limit(system: System) -> None:
    # The heaviest screen: a page of 100 orders with their invoices (the web asks for 20).
    query = (
        "query($first: Int!) { orders(first: $first) { edges { cursor node { number status"
        " customer { name email } currency lines { sku } total createdAt"
        " invoice { number status } } } pageInfo { hasNextPage endCursor } } }"
    )
    assert "errors" not in await system.gql(query, {"first": 100})


async def test_graphiql_introspection_is_within_the_limits(system: System) -> None:
    body = await system.gql(get_introspection_query(descriptions=True))
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_selections_nested_beyond_the_walk_bound_are_refused(system: System) -> None:
    # Introspection fields do not count towards depth, so only the nesting bound stops this.
    inner = "name"
    for _ in range(MAX_NESTING + 2):
        inner = f"ofType {{ {inner} }}"
    error = refused(await system.gql(f'{{ __type(name: "Order") {{ {inner} }} }}'))
    assert error["extensions"]["limit"] == "nesting"


async def test_an_undefined_fragment_is_a_validation_error(system: System) -> None:
    response = await system.bff.post(
        "/graphql",
        json={"query": "{ order(number: 1) { ...Missing } }"},
        headers={"accept": RESPONSE_JSON},
    )

    assert response.status_code == 400
    error = refused(response.json())
    assert error["message"] == "Unknown fragment 'Missing'."
    assert "Traceback" not in response.text


async def test_fragment_cycles_are_a_validation_error_not_a_hang(system: System) -> None:
    query = (
        "{ order(number: 1) { ...A } } fragment A on Order { number ...B }"
        " fragment B on Order { ...A }"
    )
    body = await system.gql(query)
    assert "data" not in body
    assert any("Cannot spread fragment 'A' within itself" in e["message"] for e in body["errors"])


@pytest.mark.parametrize(
    ("query", "variables", "suggestion"),
    [
        ("{ orderz(number: 1) { number } }", None, "Did you mean 'order'"),
        ("{ order(number: 1) { numbr } }", None, "Did you mean 'number'"),
        (
            "query($s: OrderStatus) { orders(status: $s) { edges { cursor } } }",
            {"s": "DRAF"},
            "Did you mean the enum value 'DRAFT'",
        ),
    ],
)
async def test_suggestions_only_when_introspection_is_on(
    make_system: SystemFactory, query: str, variables: dict[str, Any] | None, suggestion: str
) -> None:
    open_system: System = await make_system()
    open_body = await open_system.gql(query, variables)
    assert suggestion in open_body["errors"][0]["message"]

    locked: System = await make_system(introspection=False)
    body = await locked.gql(query, variables)

    [error] = body["errors"]
    assert "Did you mean" not in error["message"]
    assert error["message"] == open_body["errors"][0]["message"].split(" Did you mean")[0]


async def test_a_forged_150_kb_cursor_is_bad_user_input(system: System) -> None:
    cursor = "A" * 150_000

    body = await system.gql(
        "query($a: String) { orders(after: $a) { edges { cursor } } }", {"a": cursor}
    )

    assert body["data"] == {"orders": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "`after` is not a cursor this API handed out."
    assert system.ordering_link.calls == []


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"query": "{ __typename }"', "not valid JSON"),
        (
            b'{"query": "{ __typename }", "variables": {"x": ' + deep_json(1000).encode() + b"}}",
            "nested more than 32 levels",
        ),
        (deep_json(100_000).encode(), "nested more than 32 levels"),
        (b'{"query": "{ __typename \xff\xfe }"}', "not valid UTF-8"),
        (b'{"query": "\xc3"}', "not valid UTF-8"),
        (b'{"query": 5}', "`query` must be a string"),
        (b'{"query": "{ __typename }", "variables": "x"}', "`variables` must be an object"),
        (b'{"query": "{ __typename }", "variables": [1]}', "`variables` must be an object"),
        (b'{"query": "{ __typename }", "operationName": 3}', "`operationName` must be a string"),
        (b'{"query": "{ __typename }", "extensions": []}', "`extensions` must be an object"),
        (b'[{"query": "{ __typename }"}]', "must be JSON objects"),
        (b"", "not valid JSON"),
        (b"null", "must be JSON objects"),
    ],
)
@pytest.mark.parametrize("accept", ["application/json", RESPONSE_JSON])
async def test_every_body_problem_is_a_400_in_the_graphql_shape(
    system: System, body: bytes, message: str, accept: str
) -> None:
    response = await system.bff.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "accept": accept},
    )

    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(accept)
    [error] = response.json()["errors"]
    assert message in error["message"]


async def test_deep_json_in_get_variables_is_a_400(system: System) -> None:
    response = await system.bff.get(
        "/graphql",
        params={"query": "{ __typename }", "variables": '{"x": ' + deep_json(5000) + "}"},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 400
    assert "nested more than 32 levels" in response.json()["errors"][0]["message"]


async def test_json_nested_up_to_the_bound_is_accepted(system: System) -> None:
    variables = {"x": [[[[[[[[[[1]]]]]]]]]]}
    body = await system.gql("query($x: Int!) { order(number: $x) { number } }", variables)
    # Invalid for the variable's type, but as JSON it was read and handled by GraphQL rules.
    assert body["errors"][0]["message"] == "The value of $x must be a whole number."
