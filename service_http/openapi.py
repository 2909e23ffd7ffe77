"""A small OpenAPI 3.1 builder: operations declared next to the routes, schemas from pydantic.

OpenAPI 3.1 uses JSON Schema 2020-12, which is what pydantic emits, so models go in as they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse

from service_http.actor import ACTING_USER_HEADER, ACTING_USER_PATTERN, MAX_ACTING_USER
from service_http.errors import ErrorBody
from service_http.fields import NO_NUL_PATTERN
from service_http.listing import Direction, Sort
from service_http.params import MAX_INT64

REF_TEMPLATE = "#/components/schemas/{model}"

# The answers every route with a JSON body may give for a bad body (service_http.bodies/limits).
BODY_ERRORS: dict[int, tuple[str, None]] = {
    400: ("Malformed JSON", None),
    413: ("Body too large", None),
    422: ("Invalid fields", None),
}


# A path parameter naming a row: a positive 64-bit number.
ROW_NUMBER_SCHEMA: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_INT64}


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["query", "path", "header"]
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


# Any authenticated route: the person a caller with the act-as-user scope acts for.
ACTING_USER_PARAM = Param(
    ACTING_USER_HEADER,
    "header",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_ACTING_USER,
        "pattern": ACTING_USER_PATTERN,
    },
    "The person the caller acts for: visible ASCII, other characters percent-encoded as "
    "UTF-8; recorded in the audit trail. Only from a caller with the act-as-user scope "
    "(else 403)",
)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    responses: dict[int, tuple[str, type[BaseModel] | None]]
    body: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()
    public: bool = False
    media_type: str = "application/json"
    tags: tuple[str, ...] = field(default_factory=tuple)


def list_operation(
    path: str,
    page: type[BaseModel],
    batch: type[BaseModel],
    batch_param: str,
    status: type[StrEnum],
    status_doc: str,
) -> Operation:
    """`GET <path>`: a batch by order number, or a page newest first (service_http.params,
    service_http.cursor, service_db.paging). Its 200 schema is made `oneOf` page/batch by
    `page_or_batch` once the document is built."""
    return Operation(
        "GET",
        path,
        f"Batch by order number (?{batch_param}=1&{batch_param}=2) or a page, newest first",
        {
            200: (f"A batch answers {batch.__name__}, a page {page.__name__}", page),
            400: ("Bad parameter", None),
        },
        params=(
            Param(
                batch_param,
                "query",
                {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": MAX_INT64},
                    "maxItems": 100,
                },
                f"Batch: up to 100 order numbers (answer: {batch.__name__})",
            ),
            Param("status", "query", {"enum": [member.value for member in status]}, status_doc),
            Param(
                "limit", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
            ),
            *LIST_PARAMS,
        ),
    )


_SEARCH = Param(
    "q",
    "query",
    {"type": "string", "maxLength": 200, "pattern": NO_NUL_PATTERN},
    "Search: the customer's name or e-mail contains it (case-insensitive), or it is the number"
    " (a leading # allowed); blank means no search",
)
LIST_PARAMS = (
    _SEARCH,
    Param(
        "sort",
        "query",
        {"enum": [member.value for member in Sort], "default": "created"},
        "created: by number, the order they were made in; total: by currency, then amount;"
        " status: in life-cycle order. Ties go by number",
    ),
    Param(
        "direction", "query", {"enum": [member.value for member in Direction], "default": "desc"}
    ),
    Param(
        "after",
        "query",
        {"type": "string", "minLength": 1},
        "A cursor from cursors or next_cursor: the rows after that row (same sort and direction)",
    ),
    Param(
        "before",
        "query",
        {"type": "string", "minLength": 1},
        "A cursor from cursors or prev_cursor: the rows just before that row; not with `after`",
    ),
)


def counts_operation(path: str, counts: type[BaseModel]) -> Operation:
    """`GET <path>`: how many rows of each status match a search (the list's filter chips)."""
    return Operation(
        "GET",
        path,
        "How many rows of each status match the search (every status, zeros too)",
        {200: ("Counts by status", counts), 400: ("Bad parameter", None)},
        params=(_SEARCH,),
    )


def build_openapi(
    title: str,
    version: str,
    description: str,
    operations: list[Operation],
    extra_models: tuple[type[BaseModel], ...] = (),
) -> dict[str, Any]:
    """The document; `extra_models` are schemas no operation names directly (see page_or_batch)."""
    models: set[type[BaseModel]] = {ErrorBody, *extra_models}
    for op in operations:
        if op.body is not None:
            models.add(op.body)
        models.update(model for _, model in op.responses.values() if model is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, defs = models_json_schema([(m, "validation") for m in ordered], ref_template=REF_TEMPLATE)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"serviceToken": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"serviceToken": []}],
    }


def page_or_batch(
    document: dict[str, Any], path: str, page: type[BaseModel], batch: type[BaseModel]
) -> None:
    """`GET path` answers a page (with `next_cursor`) or, given keys, a batch (without one).

    JSON Schema 2020-12 `oneOf` means "valid under exactly one". A page (items + next_cursor)
    would also be valid under an open batch schema, making every page answer invalid, so the
    batch schema is closed to other properties and the page's `next_cursor` is required (null
    on the last page): each answer then fits exactly one of the two. Both models must be in
    the document (`extra_models` for the batch).
    """
    schemas = document["components"]["schemas"]
    if "next_cursor" not in schemas[page.__name__].get("required", ()):
        raise ValueError(f"{page.__name__}.next_cursor must be required to tell it from a batch")
    schemas[batch.__name__]["additionalProperties"] = False
    content = document["paths"][path]["get"]["responses"]["200"]["content"]
    content["application/json"] = {"schema": {"oneOf": [_ref(page), _ref(batch)]}}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, (description, model) in sorted(op.responses.items()):
        entry: dict[str, Any] = {"description": description}
        if model is not None:
            entry["content"] = {
                op.media_type if status < 300 else "application/json": {"schema": _ref(model)}
            }
        elif status >= 400:
            entry["content"] = {"application/json": {"schema": _ref(ErrorBody)}}
        responses[str(status)] = entry
    if not op.public:
        responses.setdefault(
            "400",
            {
                "description": "Bad parameter or X-Acting-User",
                "content": {"application/json": {"schema": _ref(ErrorBody)}},
            },
        )
        responses.setdefault(
            "401",
            {
                "description": "Missing or wrong service token",
                "content": {"application/json": {"schema": _ref(ErrorBody)}},
            },
        )
        responses.setdefault(
            "403",
            {
                "description": "The caller's credential lacks this route's scope, or names an "
                "acting user (X-Acting-User) without the act-as-user scope",
                "content": {"application/json": {"schema": _ref(ErrorBody)}},
            },
        )
    operation: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method.lower()}_{op.path.strip('/').replace('/', '_')}".replace(
            "{", ""
        ).replace("}", ""),
        "responses": responses,
    }
    if op.tags:
        operation["tags"] = list(op.tags)
    if op.public:
        operation["security"] = []
    parameters = [*op.params]
    if not op.public:
        parameters.append(ACTING_USER_PARAM)
    if parameters:
        operation["parameters"] = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "schema": p.schema,
                "description": p.description,
            }
            for p in parameters
        ]
    if op.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    return operation


def openapi_endpoint(document: dict[str, Any]) -> Callable[[Request], Awaitable[JSONResponse]]:
    """A Starlette endpoint serving a document built once when the app was built."""

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    return openapi
