"""Planned execution answers byte for byte what graphql-core's executor answers.

Two BFFs stand side by side: the one under test (planned execution, the default) and a twin
running graphql-core's executor unchanged (`planned_execution=False`). The planned BFF talks to
the real ordering and billing apps through a recorder; the twin is answered from that recording
(the same status, body, or connection failure, in the same order per URL), so time-dependent
answers (sync lag) and writes are compared on equal terms, and a call one of them makes that the
other does not fails the test. Every document the web app sends (read from web/screens/*.js) and
generated variations (aliases, fragments, __typename, @skip/@include, merged fields, nesting
through resolvers) run through both with every upstream healthy, and with billing or ordering
down, answering 5xx, or answering garbage: data, errors, paths and extensions must match.
"""

from __future__ import annotations

import random
import re
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from graphql import (
    FieldNode,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    get_introspection_query,
    get_named_type,
    parse,
)
from graphql.execution.collect_fields import FieldDetails
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission

from bff.app import create_app
from bff.planned_execution import (
    LEAF,
    OBJECT,
    OBJECT_LIST,
    SLOW,
    TYPENAME,
    PlannedExecutor,
    plan_step,
)
from bff.schema import build_schema
from tests.bff.conftest import (
    CONFIRM,
    ORDER_INPUT,
    System,
    SystemFactory,
    bff_settings,
    confirmed_orders_with_invoices,
    create_order,
)
from tests.bff.transports import Fault
from tests.support.accounts import EVERY_ROLE, add_user, sign_in
from tests.support.asgi import serving
from tests.support.processes import REPO_ROOT

WEB_SCREENS = REPO_ROOT / "web" / "screens"
Recorded = tuple[int, list[tuple[bytes, bytes]], bytes] | httpx.TransportError


@dataclass
class Recording:
    answers: dict[tuple[str, str], deque[Recorded]] = field(
        default_factory=lambda: defaultdict(deque)
    )


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, recording: Recording) -> None:
        self.inner = inner
        self.recording = recording

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, str(request.url))
        try:
            response = await self.inner.handle_async_request(request)
            content = await response.aread()
        except httpx.TransportError as exc:
            self.recording.answers[key].append(exc)
            raise
        self.recording.answers[key].append(
            (response.status_code, list(response.headers.raw), content)
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )


class Replayer(httpx.AsyncBaseTransport):
    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, str(request.url))
        pending = self.recording.answers.get(key)
        assert pending, f"graphql-core's BFF called {key}, the planned one did not"
        answer = pending.popleft()
        if isinstance(answer, httpx.TransportError):
            raise type(answer)(str(answer), request=request)
        status, headers, content = answer
        return httpx.Response(status, headers=headers, content=content, request=request)


@dataclass
class Twins:
    system: System
    planned: httpx.AsyncClient
    graphql_core: httpx.AsyncClient
    recording: Recording

    async def compare(self, query: str, variables: dict[str, Any] | None = None) -> bytes:
        body = {"query": query, "variables": variables or {}}
        planned = await self.planned.post("/graphql", json=body)
        core = await self.graphql_core.post("/graphql", json=body)
        leftover = {k: v for k, v in self.recording.answers.items() if v}
        assert not leftover, f"the planned BFF made calls graphql-core's did not: {leftover}"
        assert planned.status_code == core.status_code, query
        # Each twin has its own circuit breaker; both open at the same call, but the seconds
        # left to wait depend on when each answered, not on the executor.
        planned_content, core_content = (_breaker_wait(r.content) for r in (planned, core))
        assert planned_content == core_content, f"{query}\n{variables}"
        return planned.content


def _breaker_wait(content: bytes) -> bytes:
    return re.sub(rb"not called for the next [0-9.]+ s", b"not called for the next N s", content)


@pytest.fixture
async def twins(make_system: SystemFactory, tmp_path: Path) -> AsyncIterator[Twins]:
    # Generous timeouts: a slow answer on a loaded machine is not what is compared here.
    system: System = await make_system(upstream_timeout=10.0)
    recording = Recording()
    async with AsyncExitStack() as stack:
        clients = []
        for planned, ordering, billing in (
            (
                True,
                Recorder(system.ordering_link, recording),
                Recorder(system.billing_link, recording),
            ),
            (False, Replayer(recording), Replayer(recording)),
        ):
            run = tmp_path / f"twin-{planned}"
            run.mkdir()
            settings = bff_settings(
                run, cache_ttl=0, planned_execution=planned, upstream_timeout=10.0
            )
            # Each twin has its own accounts database; both answer the same signed-in user.
            await add_user(settings.database_url, "tester", EVERY_ROLE)
            app = await stack.enter_async_context(serving(create_app(settings, ordering, billing)))
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://bff.test"
                )
            )
            await sign_in(client, "tester")  # makes no upstream call: the recording stays clean
            clients.append(client)
        yield Twins(system, clients[0], clients[1], recording)


@dataclass
class Seeded:
    invoiced: list[int]  # confirmed, pulled by billing: each has an invoice
    uninvoiced: int  # confirmed after the pull
    draft: int
    invoice_numbers: list[int]


async def seed(system: System) -> Seeded:
    invoiced = await confirmed_orders_with_invoices(system, 4)
    uninvoiced = await create_order(system)
    await system.ok(CONFIRM, {"number": uninvoiced})
    draft = await create_order(system, currency="USD")
    page = await system.ok("{ invoices(first: 10) { edges { node { number } } } }")
    numbers = [edge["node"]["number"] for edge in page["invoices"]["edges"]]
    await system.ok(
        "mutation($n: Int!) { approveInvoice(number: $n) { number } }", {"n": numbers[0]}
    )
    return Seeded(invoiced, uninvoiced, draft, numbers)


# --- the web app's documents -----------------------------------------------------------------


def web_documents() -> list[str]:
    documents = []
    for script in sorted(WEB_SCREENS.glob("*.js")):
        for text in re.findall(r"`\s*((?:query|mutation)\b[^`]*)`", script.read_text()):
            documents.append(text)
    return documents


def web_variables(document: str, seeded: Seeded) -> dict[str, Any]:
    """Values for a web document's variables: by name, else by type; an unknown required
    input type fails loudly (add a value here)."""
    operation = next(
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    )
    name = operation.name.value if operation.name else ""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        variable = definition.variable.name.value
        if variable == "number":
            values[variable] = (
                seeded.invoice_numbers[1]
                if "Invoice" in name
                else seeded.draft
                if name in ("UpdateOrder", "ConfirmOrder", "OrderForEdit")
                else seeded.invoiced[0]
            )
        elif variable == "first":
            values[variable] = 3
        elif variable == "input":
            values[variable] = ORDER_INPUT
        elif variable == "idempotencyKey":
            values[variable] = str(uuid.uuid4())
        elif not isinstance(definition.type, NonNullTypeNode):
            values[variable] = None  # filters, cursors: the first page of everything
        else:
            named = definition.type.type
            assert isinstance(named, NamedTypeNode)
            fallback = {"Int": seeded.invoiced[0], "String": "x", "Boolean": True}
            if named.name.value not in fallback:
                raise AssertionError(f"no value for ${variable} of {name}: add one here")
            values[variable] = fallback[named.name.value]
    return values


def test_the_web_documents_are_found() -> None:
    names = {re.search(r"(?:query|mutation)\s+(\w+)", d).group(1) for d in web_documents()}  # type: ignore[union-attr]
    assert {"Orders", "Order", "Invoices", "Invoice", "SyncStatus", "CreateOrder"} <= names


async def test_every_web_document_answers_the_same(twins: Twins) -> None:
    seeded = await seed(twins.system)
    documents = web_documents()
    # Reads first, then writes (a confirm or delete changes what later reads see).
    documents.sort(key=lambda d: d.lstrip().startswith("mutation"))
    answered = []
    for document in documents:
        answered.append(await twins.compare(document, web_variables(document, seeded)))
    assert all(b'"data":{' in answer for answer in answered)


# --- generated variations --------------------------------------------------------------------


DIRECTIVES = ["include(if: $yes)", "include(if: $no)", "skip(if: $yes)", "skip(if: $no)"]


class Generator:
    """Random documents over the BFF's schema: subsets of fields, aliases, inline and named
    fragments, __typename, @skip/@include on variables, repeated (merged) fields."""

    def __init__(self, schema: GraphQLSchema, seeded: Seeded, rng: random.Random) -> None:
        self.schema = schema
        self.seeded = seeded
        self.rng = rng
        self.fragments: list[str] = []

    def roots(self) -> Iterator[str]:
        s, rng = self.seeded, self.rng
        yield f"orders(first: {rng.randint(1, 6)})"
        yield f"orders(first: {rng.randint(1, 6)}, status: CONFIRMED)"
        yield f"invoices(first: {rng.randint(1, 6)})"
        yield f"order(number: {rng.choice([*s.invoiced, s.uninvoiced, s.draft, 999999])})"
        yield f"invoice(orderNumber: {rng.choice([*s.invoiced, s.uninvoiced])})"
        yield f"invoiceByNumber(number: {rng.choice([*s.invoice_numbers, 999999])})"
        yield "syncStatus"

    def selection(self, type_: GraphQLObjectType, depth: int) -> str:
        rng = self.rng
        names = [
            name
            for name, f in type_.fields.items()
            if not any(isinstance(a.type, GraphQLNonNull) for a in f.args.values())
        ]
        picked = rng.sample(names, k=rng.randint(1, min(len(names), 5 if depth else 3)))
        parts = []
        for name in picked:
            named = get_named_type(type_.fields[name].type)
            if isinstance(named, GraphQLObjectType):
                if depth >= 4:
                    continue
                sub = f" {{ {self.selection(named, depth + 1)} }}"
            else:
                sub = ""
            text = name
            if rng.random() < 0.25:
                text = f"{rng.choice(['a', 'b', 'x'])}{depth}_{name}: {text}"
            if rng.random() < 0.15:
                text = f"{text} @{rng.choice(DIRECTIVES)}"  # before the selection set
            text += sub
            parts.append(text)
            if rng.random() < 0.1:
                parts.append(text)  # the same field twice: merged
        if rng.random() < 0.3:
            parts.append("__typename")
        if rng.random() < 0.2 and parts:
            inner = parts.pop()
            parts.append(f"... on {type_.name} {{ {inner} }}")
        if rng.random() < 0.15 and parts:
            fragment = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {fragment} on {type_.name} {{ {parts.pop()} }}")
            parts.append(f"...{fragment}")
        if not parts:
            parts.append("__typename")
        return " ".join(parts)

    def document(self) -> str:
        self.fragments = []
        query_type = self.schema.query_type
        assert query_type is not None
        # One root field per document: concurrent root fields share DataLoaders, so which of
        # them batches or primes first depends on upstream timing (the twin's answers come from
        # a recording, instantly), not on the executor.
        fields = []
        for index, root in enumerate(self.rng.sample(list(self.roots()), k=1)):
            name = root.split("(")[0]
            return_type = get_named_type(query_type.fields[name].type)
            assert isinstance(return_type, GraphQLObjectType)
            fields.append(f"r{index}: {root} {{ {self.selection(return_type, 0)} }}")
        body = " ".join([*fields, *self.fragments])
        # Only the variables the document uses are declared: an unused one is invalid.
        used = [f"${v}: Boolean!" for v in ("yes", "no") if f"${v})" in body]
        declared = f"({', '.join(used)})" if used else ""
        return " ".join([f"query Generated{declared} {{ {' '.join(fields)} }}", *self.fragments])


FAULTS = [
    ("healthy", None, Fault.NONE),
    ("billing down", "billing", Fault.DOWN),
    ("billing 5xx", "billing", Fault.ERROR_5XX),
    ("billing garbage", "billing", Fault.GARBAGE),
    ("ordering down", "ordering", Fault.DOWN),
]


@pytest.mark.parametrize(("label", "upstream", "fault"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_generated_documents_answer_the_same(
    twins: Twins, label: str, upstream: str | None, fault: Fault
) -> None:
    seeded = await seed(twins.system)
    if upstream == "billing":
        twins.system.billing_link.fault = fault
    elif upstream == "ordering":
        twins.system.ordering_link.fault = fault
    schema = build_schema(twins.system.settings)._schema
    generator = Generator(schema, seeded, random.Random(f"planned-{label}"))
    with_data = with_errors = 0
    for _ in range(40):
        answer = await twins.compare(generator.document(), {"yes": True, "no": False})
        with_data += b'"data":{' in answer
        with_errors += b'"errors":' in answer
    # The comparison covered answers with data, and (with a fault) partial answers with errors.
    assert with_data > 0
    if fault is not Fault.NONE:
        assert with_errors > 0


async def test_introspection_answers_the_same(twins: Twins) -> None:
    answer = await twins.compare(get_introspection_query())

    assert b'"__schema":{' in answer


async def test_partial_page_with_billing_down_is_the_same(twins: Twins) -> None:
    await seed(twins.system)
    twins.system.billing_link.fault = Fault.DOWN
    # Confirmed orders only: the newest order is a draft, whose invoice is not looked up.
    page = (
        "{ orders(first: 5, status: CONFIRMED) "
        "{ edges { node { number customer { name } invoice { number } } } } }"
    )

    answer = await twins.compare(page)

    assert b'"UPSTREAM_UNAVAILABLE"' in answer
    assert b'"path":["orders","edges",0,"node","invoice"]' in answer


# --- what the planner plans ------------------------------------------------------------------


def _steps(schema: GraphQLSchema, type_name: str, *names: str) -> dict[str, int]:
    type_ = schema.type_map[type_name]
    assert isinstance(type_, GraphQLObjectType)
    steps = {}
    for name in names:
        [operation] = parse(f"{{ {name} }}").definitions
        assert isinstance(operation, OperationDefinitionNode)
        [node] = operation.selection_set.selections
        assert isinstance(node, FieldNode)
        steps[name] = plan_step(type_, name, [FieldDetails(node, None)]).kind
    return steps


def test_the_plan_of_the_page_query(tmp_path: Path) -> None:
    schema = build_schema(bff_settings(tmp_path))._schema
    assert _steps(schema, "Order", "number", "status", "customer", "invoice", "lines") == {
        "number": LEAF,
        "status": LEAF,
        "customer": OBJECT,
        # A resolver, planned when its invoice came with the page (`planned_value`).
        "invoice": OBJECT,
        # A resolver without a planned value: graphql-core calls it.
        "lines": SLOW,
    }
    assert _steps(schema, "OrderConnection", "edges", "pageInfo") == {
        "edges": OBJECT_LIST,
        "pageInfo": OBJECT,
    }
    assert _steps(schema, "Invoice", "order", "__typename") == {
        "order": SLOW,
        "__typename": TYPENAME,
    }
    assert _steps(schema, "Query", "orders", "syncStatus") == {"orders": SLOW, "syncStatus": SLOW}


# --- permission classes and resolve hooks keep strawberry's path -------------------------------


class OnlyAdmins(BasePermission):
    message = "Admins only."

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return bool(info.context and info.context.get("admin"))


@strawberry.type
class Secretive:
    public: str
    secret: str = strawberry.field(permission_classes=[OnlyAdmins])


@strawberry.type
class PermissionQuery:
    @strawberry.field(permission_classes=[OnlyAdmins])
    def guarded(self) -> Secretive | None:
        return Secretive(public="p", secret="s")

    @strawberry.field
    def open(self) -> list[Secretive]:
        return [Secretive(public="p1", secret="s1"), Secretive(public="p2", secret="s2")]


@pytest.mark.parametrize("admin", [True, False])
async def test_permission_classes_run_as_strawberry_runs_them(admin: bool) -> None:
    planned = strawberry.Schema(query=PermissionQuery, execution_context_class=PlannedExecutor)
    plain = strawberry.Schema(query=PermissionQuery)
    query = "{ guarded { public secret } open { public secret __typename } }"

    results = [
        await schema.execute(query, context_value={"admin": admin}) for schema in (planned, plain)
    ]

    answers = [
        (r.data, [(e.message, e.path, e.extensions) for e in r.errors or []]) for r in results
    ]
    assert answers[0] == answers[1]
    if not admin:
        assert {tuple(e.path or ()) for e in results[0].errors or []} >= {("guarded",)}
    secretive = planned._schema.type_map["Secretive"]
    assert isinstance(secretive, GraphQLObjectType)
    assert _steps(planned._schema, "Secretive", "public", "secret") == {
        "public": LEAF,
        "secret": SLOW,
    }


class FieldLog(SchemaExtension):
    """A schema extension that sees every field resolved (as a tracing extension would)."""

    seen: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        FieldLog.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


async def test_a_resolve_hook_sees_every_field_as_without_planning() -> None:
    query = "{ open { public secret __typename } }"
    seen = []
    for executor in (PlannedExecutor, None):
        schema = strawberry.Schema(
            query=PermissionQuery, extensions=[FieldLog], execution_context_class=executor
        )
        FieldLog.seen = []
        result = await schema.execute(query, context_value={"admin": True})
        assert result.errors is None
        seen.append(FieldLog.seen)
    assert seen[0] == seen[1]
    assert seen[0].count("public") == 2


# --- null propagation through planned fields -------------------------------------------------


@strawberry.type
class Leafy:
    name: str
    missing: str  # set to None below: a null in a non-null field
    tags: list[str]

    @strawberry.field
    def boom(self) -> str:
        raise ValueError("boom")

    @strawberry.field
    async def later(self) -> str:
        raise ValueError("later")

    @strawberry.field
    def maybe(self) -> str | None:
        raise ValueError("maybe")


@strawberry.type
class Holder:
    items: list[Leafy]
    loose: list[Leafy | None] | None
    one: Leafy
    optional: Leafy | None
    numbers: list[int | None]
    sparse: list[Leafy | None]
    strict: list[Leafy] | None


def _leafy(name: str) -> Leafy:
    return Leafy(name=name, missing=None, tags=["a", name])  # type: ignore[arg-type]


@strawberry.type
class FailingQuery:
    @strawberry.field
    def holder(self) -> Holder | None:
        items = [_leafy("x"), _leafy("y")]
        return Holder(
            items=items,
            loose=[items[0], None, items[1]],
            one=items[0],
            optional=items[1],
            numbers=[1, None, 3],
            sparse=[None, *items],
            strict=items,
        )


PROPAGATION_QUERIES = [
    "{ holder { items { name tags } loose { name } numbers one { name } } }",
    "{ holder { items { name boom } } }",
    "{ holder { items { name later } } }",
    "{ holder { items { name maybe } } }",
    "{ holder { loose { name boom } one { name } } }",
    "{ holder { loose { later } optional { later } } }",
    "{ holder { optional { name missing } one { name } } }",
    "{ holder { one { missing } } }",
    "{ holder { one { name later } optional { boom } loose { maybe later } } }",
    "{ holder { sparse { name boom } strict { name boom } } }",
    "{ holder { sparse { later } strict { name later } one { name } } }",
    "{ holder { __typename items { __typename n: name m: name later } } }",
]


@pytest.mark.parametrize("query", PROPAGATION_QUERIES)
async def test_errors_below_planned_fields_propagate_as_in_graphql_core(query: str) -> None:
    results = [
        await strawberry.Schema(query=FailingQuery, execution_context_class=executor).execute(query)
        for executor in (PlannedExecutor, None)
    ]

    planned, core = ((r.data, [e.formatted for e in r.errors or []]) for r in results)
    assert planned == core
