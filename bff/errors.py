"""GraphQL errors the BFF raises on purpose, each with its `extensions.code`.

graphql-core copies an exception's `extensions` dict onto the located error, so raising one of
these anywhere below a resolver (a client, a DataLoader) puts the code on the affected path.
Anything else is unexpected and masked (`INTERNAL_SERVER_ERROR`) by `MaskUnexpectedErrors`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.extensions import MaskErrors


@dataclass(frozen=True)
class FieldProblem:
    """One entry of `extensions.details`: a camelCase field path and what is wrong with it."""

    field: str
    message: str


class BffError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.extra}


class BadUserInput(BffError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, details: Sequence[FieldProblem] = ()) -> None:
        extra: dict[str, Any] = {}
        if details:
            extra["details"] = [{"field": d.field, "message": d.message} for d in details]
        super().__init__(message, **extra)
        self.details = list(details)


class NotFound(BffError):
    code = "NOT_FOUND"


class Conflict(BffError):
    code = "CONFLICT"


class UpstreamUnavailable(BffError):
    """A peer is down, timed out or answered 5xx; `extensions.upstream` names which one."""

    code = "UPSTREAM_UNAVAILABLE"

    def __init__(self, message: str, upstream: str) -> None:
        super().__init__(message, upstream=upstream)
        self.upstream = upstream


def is_unexpected(error: GraphQLError) -> bool:
    """Mask errors raised by our code that are not deliberate `BffError`s.

    Errors without an original exception (syntax, validation, limits, variable coercion) are
    about the request itself and are safe and useful to show.
    """
    original = error.original_error
    if original is None or isinstance(original, BffError):
        return False
    return not isinstance(original, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    """strawberry's MaskErrors, keeping the contract's code on the masked error."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked
