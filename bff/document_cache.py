"""Parse and validate each distinct GraphQL document once, not on every request.

A client sends the same few documents over and over; parsing and validating one took about as
long as executing it (py-spy: validation 15 %, parsing 2 % of a request with the cache off).
The outcome of both depends only on the schema, the query text, the operation name the client
gave, and the schema's limits, which are fixed when the schema is built. So a document that
parsed and validated cleanly is kept by (query text, operation name) and reused as it is:
graphql-core never mutates a document while executing it.

Only clean documents are kept: a request error is rare and cheap to find again, and keeping
error objects would share them between requests. The cache is per schema (never module-level)
and bounded, so distinct documents can only evict each other, not grow memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

# Large documents are rare and would pin a lot of memory per entry: they are parsed each time.
MAX_CACHED_QUERY_CHARS = 16 * 1024

DocumentKey = tuple[str, str | None]


class DocumentCache:
    """A bounded LRU of validated documents by (query text, operation name as sent)."""

    def __init__(self, maxsize: int = 256) -> None:
        self._maxsize = maxsize
        self._entries: OrderedDict[DocumentKey, DocumentNode] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: DocumentKey) -> DocumentNode | None:
        document = self._entries.get(key)
        if document is not None:
            self._entries.move_to_end(key)
        return document

    def put(self, key: DocumentKey, document: DocumentNode) -> None:
        if len(key[0]) > MAX_CACHED_QUERY_CHARS:
            return
        self._entries[key] = document
        self._entries.move_to_end(key)
        while len(self._entries) > self._maxsize:
            self._entries.popitem(last=False)


class CachedDocuments(SchemaExtension):
    """Serves a known-valid document to strawberry, which then skips parsing and validation.

    Must come first in the schema's extensions, so its validation hook exits last and stores a
    document only when every other extension's validation found nothing wrong with it either.
    """

    def __init__(self, cache: DocumentCache) -> None:
        self._cache = cache
        self._key: DocumentKey | None = None
        self._hit = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            # The operation name as the client sent it: the public `operation_name` falls back
            # to the document's first operation, which would make the key depend on the parse.
            self._key = (context.query, context._provided_operation_name)
            document = self._cache.get(self._key)
            if document is not None:
                context.graphql_document = document  # strawberry then does not parse
                self._hit = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self._hit:
            context.pre_execution_errors = []  # strawberry then does not validate
        yield
        if (
            not self._hit
            and self._key is not None
            and context.graphql_document is not None
            and context.pre_execution_errors == []
        ):
            self._cache.put(self._key, context.graphql_document)
