"""Parsing and validating large documents on a worker thread, off the event loop.

Within the token limit a document still takes tens of milliseconds to parse on a loaded
machine (graphql-core's parser is pure Python), and validation of the worst documents the
limits allow about a hundred (bff/README.md has the figures). Ten such requests at once held
every other request, `/healthz` included, for over a second. Documents above
`OFF_LOOP_CHARS` are therefore parsed and validated on one worker thread: they queue for it
among themselves while the event loop keeps its share of the interpreter and answers everyone
else. Small documents (every one the web app sends) stay on the loop, where a thread hop would
cost more than the work.

Strawberry skips its own parse when the document is already set and its own validation when
errors are already set (`pre_execution_errors`), which is what these hooks do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from anyio import CapacityLimiter, to_thread
from graphql import parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

# Larger documents than the web app ever sends (its biggest is about 600 characters).
OFF_LOOP_CHARS = 256


class OffLoopParsing(SchemaExtension):
    def __init__(self, limiter: CapacityLimiter) -> None:
        self.limiter = limiter

    def _large(self) -> bool:
        return len(self.execution_context.query or "") > OFF_LOOP_CHARS

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query and self._large():
            # A syntax error (or the token limit) raised here reaches the client as the
            # request's only error, just as when strawberry parses.
            context.graphql_document = await to_thread.run_sync(
                partial(parse, context.query, **context.parse_options), limiter=self.limiter
            )
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if (
            document is not None
            and context.pre_execution_errors is None
            and context.validation_rules
            and self._large()
        ):
            context.pre_execution_errors = await to_thread.run_sync(
                validate_document,
                context.schema._schema,
                document,
                context.validation_rules,
                limiter=self.limiter,
            )
        yield
