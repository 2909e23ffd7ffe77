"""Without introspection, error messages must not list the schema's names either.

graphql-core appends " Did you mean 'order' or 'orders'?" to validation and variable-coercion
errors; with introspection off that would let a client map the schema by trial and error.
"""

from __future__ import annotations

import re

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

# did_you_mean()'s text: suggestions are schema names, which never contain a question mark.
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def has_suggestion(error: GraphQLError) -> bool:
    return SUGGESTION.search(error.message) is not None


class HideSuggestions(MaskErrors):
    """Strips the suggestions from errors, keeping everything else about them."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=has_suggestion)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        # A new error rather than an edit: validation results may be cached and shared.
        return GraphQLError(
            SUGGESTION.sub("", error.message),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions=error.extensions,
        )
