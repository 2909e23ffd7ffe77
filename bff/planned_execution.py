"""A cheaper execution of plain fields: a per-request plan per selection, graphql-core for the rest.

py-spy on the BFF serving a page of 50 orders with its cache off put graphql-core's execution of
~500 fields at about half of the BFF's CPU per request. Almost all of those fields are plain
attributes of our strawberry types (`number`, `status`, `customer { name }`...), yet each one
costs graphql-core a field lookup, a `GraphQLResolveInfo`, a `Path`, strawberry's resolver
wrapper and a walk down `complete_value`'s type dispatch.

`PlannedExecutor` (handed to strawberry as its `execution_context_class`) keeps graphql-core's
algorithm and changes only how a selection's fields run. The first time a request executes a
selection (the grouped field set graphql-core already memoizes per object type and field
nodes), it decides per response key whether the field is *plain*: a strawberry field without a
resolver, arguments, field extensions or permission classes, with no schema extension hooking
`resolve`, whose type is a scalar, an enum, an object type without `is_type_of`, or a list of
those. A plain field is read with strawberry's own default resolver and completed directly. A
resolver marked with `planned_value` is planned too, as long as its value function has the
answer (`Order.invoice` when the page prefetched the invoices); when it does not, graphql-core
calls the resolver. Everything else — root fields, resolvers (DataLoader-backed or not),
permission classes, abstract types, `@stream` — goes through graphql-core's `execute_field`
exactly as before.

Errors and null propagation stay graphql-core's: a plain field whose value is anything but the
expected shape (null for a non-null type, a value the scalar refuses, an exception or awaitable
in an attribute, a non-iterable list) is handed to `execute_field` before anything below it has
run, and that re-reads the attribute (a side-effect-free attribute read) and raises or records
the very error it always did. An error coming up from below a plain object or list field is
handled with graphql-core's own `handle_field_error` on the same path and type it would use,
and awaitables are gathered in the same order with the same helpers, so the answer (data,
error messages, paths, extensions and their order) is byte for byte graphql-core's;
tests/bff/test_planned_execution.py runs every document the web app sends, and variations,
through both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from bff.executor_cycles import AcyclicExecutor

ResolverT = TypeVar("ResolverT", bound=Callable[..., Any])

# How a planned response key is produced.
SLOW, TYPENAME, LEAF, OBJECT, LEAF_LIST, OBJECT_LIST = range(6)
# Values a scalar's coercion needs no other check for (no awaitable, no exception, not null).
_SIMPLE_VALUES = frozenset({str, int, float, bool})
# Lists read twice without surprise (a generator would be used up by the first look).
_SEQUENCES = frozenset({list, tuple})


@dataclass(slots=True, frozen=True)
class Step:
    key: str
    kind: int
    details: FieldDetailsList
    field_type: GraphQLOutputType | None = None
    get: Callable[[Any, str], Any] | None = None
    attribute: str = ""
    nullable: bool = True
    item_type: GraphQLOutputType | None = None
    item_nullable: bool = True
    # The leaf type's output coercion, or the object type of an object (list) field.
    coerce: Callable[[Any], Any] | None = None
    object_type: GraphQLObjectType | None = None
    typename: str = ""


def planned_value(value: Callable[[Any], Any]) -> Callable[[ResolverT], ResolverT]:
    """Marks a resolver whose answer `value(source)` can give without it, or `NOT_PLAIN`.

    For resolvers that are cheap most of the time (a related record fetched up front) and only
    sometimes need their `info` or a DataLoader: when `value` has the answer, the planner
    completes it like an attribute; when it returns NOT_PLAIN, graphql-core calls the resolver.
    The resolver must give the same answer as `value` whenever `value` has one.
    """

    def mark(resolver: ResolverT) -> ResolverT:
        resolver.__planned_value__ = value  # type: ignore[attr-defined]
        return resolver

    return mark


def _plain_getter(field_def: Any) -> Callable[[Any, str], Any] | None:
    """How to read a field without its resolver, if strawberry would do no more than that."""
    if field_def.args:
        return None
    field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    # Field extensions (permission classes among them) must run: graphql-core's path.
    if not isinstance(field, StrawberryField) or field.extensions:
        return None
    resolver = field.base_resolver
    if resolver is not None:
        value = getattr(resolver.wrapped_func, "__planned_value__", None)
        if value is None or resolver.arguments:
            return None
        return lambda source, _name: value(source)
    # Strawberry's attribute resolver; any other wrapper (exception handlers) keeps its path.
    if getattr(field_def.resolve, "__name__", "") != "_get_basic_result":
        return None
    return field.default_resolver


def _no_stream(details: FieldDetailsList) -> bool:
    return all(
        not any(d.name.value == "stream" for d in detail.node.directives or ())
        for detail in details
    )


def plan_step(parent_type: GraphQLObjectType, key: str, details: FieldDetailsList) -> Step:
    node = details[0].node
    name = node.name.value
    if name == "__typename":
        return Step(key, TYPENAME, details, typename=parent_type.name)
    field_def = parent_type.fields.get(name)
    if field_def is None or node.arguments or any(d.node.arguments for d in details):
        return Step(key, SLOW, details)
    getter = _plain_getter(field_def)
    if getter is None or not _no_stream(details):
        # Introspection's own types (__Schema, __Type...) land here: graphql-core runs them.
        return Step(key, SLOW, details)
    strawberry_field = field_def.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
    field_type = field_def.type
    nullable = not isinstance(field_type, GraphQLNonNull)
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    common: dict[str, Any] = {
        "field_type": field_type,
        "get": getter,
        "attribute": strawberry_field.python_name,
        "nullable": nullable,
    }
    if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
        return Step(key, LEAF, details, coerce=inner.coerce_output_value, **common)
    if isinstance(inner, GraphQLObjectType):
        if inner.is_type_of is not None:
            return Step(key, SLOW, details)
        return Step(key, OBJECT, details, object_type=inner, **common)
    if isinstance(inner, GraphQLList):
        item_type = inner.of_type
        item_nullable = not isinstance(item_type, GraphQLNonNull)
        item = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if isinstance(item, GraphQLScalarType | GraphQLEnumType):
            return Step(
                key,
                LEAF_LIST,
                details,
                item_type=item_type,
                item_nullable=item_nullable,
                coerce=item.coerce_output_value,
                **common,
            )
        if isinstance(item, GraphQLObjectType) and item.is_type_of is None:
            return Step(
                key,
                OBJECT_LIST,
                details,
                item_type=item_type,
                item_nullable=item_nullable,
                object_type=item,
                **common,
            )
    return Step(key, SLOW, details)


class _NotPlain:
    """A plain field's value is not of the plain shape: graphql-core executes the field."""


NOT_PLAIN: Any = _NotPlain()
_NOT_PLAIN = NOT_PLAIN


class PlannedExecutor(AcyclicExecutor):
    """graphql-core's executor with plain fields completed from a plan (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # A schema extension with a `resolve` hook must see every field: then plan nothing.
        self._planning = manager is None or not manager.middlewares
        # Plans by the identity of graphql-core's memoized grouped field set (kept alive by
        # it for the whole request, so an id is never reused while this executor lives).
        self._plans: dict[int, tuple[GroupedFieldSet, list[Step]]] = {}

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> list[Step]:
        cached = self._plans.get(id(fields))
        if cached is not None and cached[0] is fields:
            return cached[1]
        steps = [plan_step(parent_type, key, details) for key, details in fields.items()]
        self._plans[id(fields)] = (fields, steps)
        return steps

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if not self._planning or position_context is not None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        parent_name = parent_type.name
        try:
            for step in self._plan(parent_type, grouped_field_set):
                kind = step.kind
                key = step.key
                if kind == TYPENAME:
                    results[key] = step.typename
                    continue
                result: Any = _NOT_PLAIN
                if kind == LEAF:
                    result = self._leaf(step, source_value)
                    if result is not _NOT_PLAIN:
                        results[key] = result  # a coerced scalar: never awaitable
                        continue
                elif kind != SLOW:
                    result = self._composite(step, source_value, Path(path, key, parent_name))
                if result is _NOT_PLAIN:
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        step.details,
                        Path(path, key, parent_name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                results[key] = result
                if is_awaitable(result):
                    awaitable_fields.append(key)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[key] for key in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                key = awaitable_fields[0]
                results[key] = await results[key]
            else:
                awaited = await gather_with_cancel(*(results[key] for key in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _value(self, step: Step, source: Any) -> Any:
        """The attribute, or _NOT_PLAIN when graphql-core has to look at it (or null)."""
        try:
            value = step.get(source, step.attribute)  # type: ignore[misc]
        except Exception:
            return _NOT_PLAIN
        if value is None or value is Undefined:
            return None if step.nullable else _NOT_PLAIN
        if value is _NOT_PLAIN or isinstance(value, Exception) or self.is_awaitable(value):
            return _NOT_PLAIN
        return value

    def _leaf(self, step: Step, source: Any) -> Any:
        try:
            value = step.get(source, step.attribute)  # type: ignore[misc]
            if type(value) not in _SIMPLE_VALUES:
                if value is None or value is Undefined:
                    return None if step.nullable else _NOT_PLAIN
                if value is _NOT_PLAIN or isinstance(value, Exception) or self.is_awaitable(value):
                    return _NOT_PLAIN
            coerced = step.coerce(value)  # type: ignore[misc]
        except Exception:
            return _NOT_PLAIN
        return _NOT_PLAIN if coerced is None or coerced is Undefined else coerced

    def _composite(self, step: Step, source: Any, path: Path) -> Any:
        value = self._value(step, source)
        if value is None or value is _NOT_PLAIN:
            return value
        if step.kind == LEAF_LIST:
            return self._leaf_list(step, value)
        if step.kind == OBJECT_LIST and (
            type(value) not in _SEQUENCES or not self._plain_items(step, value)
        ):
            return _NOT_PLAIN
        # From here on, work below this field may run (and fail) exactly as in graphql-core's
        # execute_field: errors are located and handled on this field's path and type.
        try:
            if step.kind == OBJECT:
                completed = self.collect_and_execute_subfields(
                    step.object_type,  # type: ignore[arg-type]
                    step.details,
                    path,
                    value,
                    None,
                )
            else:
                completed = self._object_list(step, value, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, step.field_type, step.details, path)  # type: ignore[arg-type]
            return None
        if self.is_awaitable(completed):
            return self._await_field(completed, step, path)
        return completed

    async def _await_field(self, completed: Awaitable[Any], step: Step, path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, step.field_type, step.details, path)  # type: ignore[arg-type]
            return None

    def _plain_items(self, step: Step, items: Iterable[Any]) -> bool:
        is_awaitable = self.is_awaitable
        for item in items:
            if item is None or item is Undefined:
                if not step.item_nullable:
                    return False
            elif isinstance(item, Exception) or is_awaitable(item):
                return False
        return True

    def _leaf_list(self, step: Step, value: Any) -> Any:
        if type(value) not in _SEQUENCES:
            return _NOT_PLAIN
        coerce = step.coerce
        completed: list[Any] = []
        for item in value:
            if item is None or item is Undefined:
                if not step.item_nullable:
                    return _NOT_PLAIN
                completed.append(None)
                continue
            if isinstance(item, Exception) or self.is_awaitable(item):
                return _NOT_PLAIN
            try:
                coerced = coerce(item)  # type: ignore[misc]
            except Exception:
                return _NOT_PLAIN
            if coerced is None or coerced is Undefined:
                return _NOT_PLAIN
            completed.append(coerced)
        return completed

    def _object_list(self, step: Step, items: Iterable[Any], path: Path) -> Any:
        """graphql-core's complete_iterable_value for items already known to be objects/nulls."""
        is_awaitable = self.is_awaitable
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        object_type = step.object_type
        details = step.details
        # What collect_and_execute_subfields does per item, collected once for the list (it is
        # memoized on the same key anyway); without @defer it goes straight to execute_fields.
        grouped, defer_usages, _ = self.collect_subfields(object_type, details)  # type: ignore[arg-type]
        try:
            for index, item in enumerate(items):
                if item is None or item is Undefined:
                    completed.append(None)
                    continue
                item_path = Path(path, index, None)
                try:
                    if defer_usages:
                        result = self.collect_and_execute_subfields(
                            object_type,  # type: ignore[arg-type]
                            details,
                            item_path,
                            item,
                            None,
                        )
                    else:
                        result = self.execute_fields(
                            object_type,  # type: ignore[arg-type]
                            item,
                            item_path,
                            grouped,
                            None,
                        )
                except Exception as raw_error:
                    self.handle_field_error(raw_error, step.item_type, details, item_path)  # type: ignore[arg-type]
                    result = None
                if is_awaitable(result):
                    completed.append(self._await_item(result, step, item_path))
                    awaitable_indices.append(index)
                else:
                    completed.append(result)
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed[i] for i in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed

        async def get_completed() -> list[Any]:
            if len(awaitable_indices) == 1:
                index = awaitable_indices[0]
                completed[index] = await completed[index]
            else:
                awaited = await gather_with_cancel(*(completed[i] for i in awaitable_indices))
                for index, result in zip(awaitable_indices, awaited, strict=True):
                    completed[index] = result
            return completed

        return get_completed()

    async def _await_item(self, completed: Awaitable[Any], step: Step, path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, step.item_type, step.details, path)  # type: ignore[arg-type]
            return None
