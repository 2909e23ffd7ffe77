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

from service_http.errors import ErrorBody

REF_TEMPLATE = "#/components/schemas/{model}"

# The answers every route with a JSON body may give for a bad body (service_http.bodies/limits).
BODY_ERRORS: dict[int, tuple[str, None]] = {
    400: ("Malformed JSON", None),
    413: ("Body too large", None),
    422: ("Invalid fields", None),
}


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["query", "path"]
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


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


def page_or_batch(
    path: str,
    page: type[BaseModel],
    batch: type[BaseModel],
    batch_param: str,
    status: type[StrEnum],
    status_doc: str,
) -> Operation:
    """`GET <path>`: a batch by order number, or a page newest first (service_http.params,
    service_http.cursor, service_db.paging)."""
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
                {"type": "array", "items": {"type": "integer"}, "maxItems": 100},
                f"Batch: up to 100 order numbers (answer: {batch.__name__})",
            ),
            Param("status", "query", {"enum": [member.value for member in status]}, status_doc),
            Param(
                "limit", "query", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
            ),
            Param("after", "query", {"type": "string"}, "Cursor from next_cursor"),
        ),
    )


def build_openapi(
    title: str, version: str, description: str, operations: list[Operation]
) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorBody}
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
            "401",
            {
                "description": "Missing or wrong service token",
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
    if op.params:
        operation["parameters"] = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "schema": p.schema,
                "description": p.description,
            }
            for p in op.params
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
