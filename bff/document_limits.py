"""Limits on a GraphQL document, checked by one validation rule that is linear in the document.

Depth, aliases, fields and cost are measured on the operation *as it would run*, every fragment
spread expanded, but each fragment is measured once and its totals reused wherever it is spread
(strawberry's own limiters re-walk a fragment at every spread: a few hundred bytes of fragments
spreading each other cost seconds of CPU). Totals saturate at `SATURATED`, so even an
exponentially large expansion is counted with small integers.

The rule runs first and, when a limit is exceeded, aborts validation at once: the other rules
(graphql-core's field-merging check is quadratic in the number of same-named fields) never see
a document over the limits. Its outcome depends only on the document and the limits, never on
the request, so a validation result may be cached by document.

Cost: every field costs 1; a field with a `first` argument (a page, read forward with `first` or
back with `last`) multiplies the cost of its selection by the page size: the literal value of
`first` or `last` (the larger if both), the default page size when neither is given, and the
largest page for a variable (variables are not known when a document is validated).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    is_object_type,
)
from graphql.type import GraphQLInterfaceType, GraphQLObjectType
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension

from bff.pagination import DEFAULT_PAGE_SIZE

# Large enough for any limit, small enough that sums and products stay cheap machine-size ints.
SATURATED = 1 << 62
# Selection sets and fragment spreads nested deeper than this are refused outright: it bounds
# the recursion of the walk (GraphiQL's introspection query nests about 15 deep).
MAX_NESTING = 64
PAGE_ARGUMENT = "first"
PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True)
class DocumentLimits:
    max_depth: int
    max_aliases: int
    max_fields: int
    max_cost: int
    max_page_size: int


@dataclass(frozen=True)
class Tally:
    """What a selection set amounts to once its fragments are expanded."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    cost: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            depth=max(self.depth, other.depth),
            aliases=_sat(self.aliases + other.aliases),
            fields=_sat(self.fields + other.fields),
            cost=_sat(self.cost + other.cost),
        )


ZERO = Tally()


def _sat(value: int) -> int:
    return min(value, SATURATED)


class LimitExceeded(ValidationAbortedError):
    """Raised from the rule: graphql-core's `validate` returns it as the only error."""

    def __init__(self, message: str, limit: str, value: int, maximum: int) -> None:
        super().__init__(
            message,
            extensions={
                "code": "GRAPHQL_VALIDATION_FAILED",
                "limit": limit,
                "value": value,
                "maximum": maximum,
            },
        )


class TooDeeplyNested(ValidationAbortedError):
    def __init__(self) -> None:
        super().__init__(
            f"The document nests selections or fragments more than {MAX_NESTING} deep.",
            extensions={"code": "GRAPHQL_VALIDATION_FAILED", "limit": "nesting"},
        )


class DocumentMeter:
    """Measures the operations of one document; fragments are measured once each."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, page_size: int) -> None:
        self.schema = schema
        self.max_page_size = page_size
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, Tally] = {}
        self.measuring: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> Tally:
        root = self.schema.get_root_type(operation.operation)
        return self.selection_set(operation.selection_set, root, 0)

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, nesting: int
    ) -> Tally:
        if nesting > MAX_NESTING:
            raise TooDeeplyNested
        total = ZERO
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, nesting)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, inner, nesting + 1)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, nesting)
        return total

    def fragment(self, name: str, nesting: int) -> Tally:
        if name in self.measured:
            return self.measured[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.measuring:
            # Unknown fragments and cycles are reported by the specified rules.
            return ZERO
        self.measuring.add(name)
        condition = self.schema.get_type(definition.type_condition.name.value)
        tally = self.selection_set(definition.selection_set, condition, nesting + 1)
        self.measuring.discard(name)
        self.measured[name] = tally
        return tally

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, nesting: int) -> Tally:
        name = node.name.value
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        aliases = 1 if node.alias is not None else 0
        if node.selection_set is None:
            return Tally(depth=0, aliases=aliases, fields=1, cost=1)
        child_type = get_named_type(definition.type) if definition is not None else None
        inner = self.selection_set(node.selection_set, child_type, nesting + 1)
        # Introspection fields do not count towards depth (as in strawberry's limiter), so
        # GraphiQL's deep type-reference query passes; fields and cost still count them.
        depth = 0 if name.startswith("__") else 1 + inner.depth
        return Tally(
            depth=depth,
            aliases=_sat(aliases + inner.aliases),
            fields=_sat(1 + inner.fields),
            cost=_sat(1 + self.page_size(node, definition) * inner.cost),
        )

    def page_size(self, node: FieldNode, definition: Any) -> int:
        if definition is None or PAGE_ARGUMENT not in definition.args:
            return 1
        asked = [
            self._size(argument.value)
            for argument in node.arguments or ()
            if argument.name.value in PAGE_ARGUMENTS
        ]
        sizes = [size for size in asked if size is not None]
        if sizes:
            return max(sizes)
        default = definition.args[PAGE_ARGUMENT].default_value
        return default if isinstance(default, int) and default > 0 else DEFAULT_PAGE_SIZE

    def _size(self, value: Any) -> int | None:
        """The page size an argument's value asks for (None: a null, the default applies)."""
        if isinstance(value, IntValueNode):
            # Out-of-range sizes are refused when the field runs; count the largest.
            return max(1, min(int(value.value), self.max_page_size))
        if isinstance(value, VariableNode):
            return self.max_page_size
        if isinstance(value, NullValueNode):
            return None
        return 1


def check(limits: DocumentLimits, schema: GraphQLSchema, document: DocumentNode) -> None:
    """Raise `LimitExceeded` for the first operation of `document` over a limit."""
    meter = DocumentMeter(schema, document, limits.max_page_size)
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if not is_object_type(schema.get_root_type(definition.operation)):
            continue  # an unsupported operation type: the specified rules report it
        name = definition.name.value if definition.name else "anonymous"
        tally = meter.operation(definition)
        for message, limit, value, maximum in (
            (
                f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                "depth",
                tally.depth,
                limits.max_depth,
            ),
            (
                f"{tally.aliases} aliases found. Allowed: {limits.max_aliases}",
                "aliases",
                tally.aliases,
                limits.max_aliases,
            ),
            (
                f"'{name}' selects {tally.fields} fields with its fragments expanded; "
                f"the limit is {limits.max_fields}.",
                "fields",
                tally.fields,
                limits.max_fields,
            ),
            (
                f"'{name}' costs {tally.cost}; the limit is {limits.max_cost}. Ask for "
                "smaller pages (`first`) or fewer fields.",
                "cost",
                tally.cost,
                limits.max_cost,
            ),
        ):
            if value > maximum:
                raise LimitExceeded(message, limit, value, maximum)


def limits_rule(limits: DocumentLimits) -> type[ValidationRule]:
    """A validation rule class for `limits` (graphql-core instantiates rules per validation)."""

    class DocumentLimitsRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            # Raised inside the visit, `validate` returns the error as its only one.
            check(limits, self.context.schema, node)

    return DocumentLimitsRule


class DocumentLimitsExtension(SchemaExtension):
    """Puts the limits rule *first*, so it aborts validation before the costlier rules run."""

    def __init__(self, rule: type[ValidationRule]) -> None:
        self.rule = rule

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = (self.rule, *context.validation_rules)
        yield


def document_limits_extension(limits: DocumentLimits) -> Callable[[], SchemaExtension]:
    rule = limits_rule(limits)
    return lambda: DocumentLimitsExtension(rule)
