"""GraphQL over HTTP: strawberry's ASGI view, tightened to the GraphQL-over-HTTP spec.

On top of strawberry: `application/graphql-response+json` when the client prefers it (with 400
for request errors, as the spec asks), 406 when neither JSON type is acceptable, 405 for a
mutation over GET, 415 for a body that is not JSON, 400 for JSON that is not an object, request
errors without a `data` entry, and JSON error bodies for all of those. A body over the size
limit is refused with 413 before it is read (`body_too_large`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from bff import json_body
from bff.authentication import principal_of
from bff.context import Context, Upstreams, build_context
from bff.graphiql import offline_graphiql_html
from bff.metrics import REQUEST_ERROR, BffMetrics
from bff.sign_in import redirect_to_sign_in

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
# Lifespan state key under which the app's lifespan hands the upstream clients to requests.
STATE_KEY = "bff"


def graphiql_csp(page: str) -> str:
    """GraphiQL's page loads its scripts and styles from unpkg.com (pinned, with integrity
    hashes) and has inline ones: those exact inline blocks are allowed by hash, nothing else."""
    scripts = " ".join(_hashes(page, "script"))
    styles = " ".join(_hashes(page, "style"))
    return (
        f"default-src 'self'; script-src 'self' https://unpkg.com {scripts}; "
        f"style-src 'self' https://unpkg.com {styles}; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self' https://unpkg.com data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _hashes(page: str, tag: str) -> list[str]:
    found = re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.DOTALL)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in found
    ]


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when we can serve nothing it accepts.

    No Accept header, or only wildcards, gets the widely understood application/json.
    """
    if not accept:
        return JSON
    best: str | None = None
    best_q = 0.0
    for media_range in accept.split(","):
        media, *params = (part.strip() for part in media_range.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media == GRAPHQL_RESPONSE_JSON:
            candidate = GRAPHQL_RESPONSE_JSON
        elif media in (JSON, "application/*", "*/*"):
            candidate = JSON
        else:
            continue
        if q > best_q or (q == best_q and q > 0 and candidate == GRAPHQL_RESPONSE_JSON):
            best, best_q = candidate, q
    return best


class MethodNotAllowed(HTTPException):
    def __init__(self, reason: str, allow: str) -> None:
        super().__init__(405, reason)
        self.allow = allow


class GraphQLResultResponse(Response):
    """A GraphQL result; `request_error` when the request failed before execution."""

    media_type = JSON

    def __init__(self, content: str | bytes, request_error: bool) -> None:
        super().__init__(content, status_code=200, media_type=JSON)
        self.request_error = request_error


def error_response(status: int, message: str, media_type: str = JSON) -> Response:
    body = json.dumps({"errors": [{"message": message}]})
    return Response(body, status_code=status, media_type=media_type)


class BffGraphQL(GraphQL[Context, None]):
    def __init__(
        self, schema: BaseSchema, graphiql: bool, metrics: BffMetrics | None = None
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=False,
        )
        self._graphiql_html = offline_graphiql_html()
        self.metrics = metrics

    @property
    def graphql_ide_html(self) -> str:
        # Its assets from this app (/vendor/), not from a CDN: GraphiQL works offline.
        return self._graphiql_html

    def encode_json(self, data: object) -> bytes:
        # orjson: json.dumps of a 50-order page was 2.6 % of a request (py-spy).
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        response = await super().render_graphql_ide(request)
        response.headers["content-security-policy"] = graphiql_csp(self.graphql_ide_html)
        response.headers["cache-control"] = "no-store"
        return response

    async def get_context(self, request: Any, response: Any) -> Context:
        upstreams: Upstreams | None = getattr(request.state, STATE_KEY, None)
        if upstreams is None:
            raise RuntimeError("the BFF's lifespan is not running (no upstream clients)")
        return build_context(upstreams, request, response)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        media_type = negotiate(request.headers.get("accept"))
        wants_ide = request.method == "GET" and "query" not in request.query_params
        response: Response
        if media_type is None and not wants_ide:
            response = error_response(
                406, f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}; nothing else is served here."
            )
            await response(scope, receive, send)
            return
        if wants_ide and principal_of(request) is None:
            # GraphiQL needs a session: sign in, then come back here.
            await redirect_to_sign_in(request)(scope, receive, send)
            return
        media_type = media_type or JSON
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = error_response(exc.status_code, exc.reason, media_type)
            if isinstance(exc, MethodNotAllowed):
                response.headers["allow"] = exc.allow
            elif exc.status_code == 405:
                response.headers["allow"] = "GET, POST"
        else:
            if isinstance(response, GraphQLResultResponse) and media_type == GRAPHQL_RESPONSE_JSON:
                response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
                if response.request_error:
                    response.status_code = 400
        await response(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            value = json_body.loads(data)
        except json_body.BodyError as exc:
            raise HTTPException(400, str(exc)) from exc
        if not isinstance(value, dict):
            raise HTTPException(400, "The request and its variables must be JSON objects.")
        return value

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if content_type != JSON:
                raise HTTPException(415, f"Send GraphQL requests as {JSON}.")
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise HTTPException(400, "`operationName` must be a string or null.")
        return data

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            if request_adapter.method == "GET" and isinstance(
                exc.__cause__, InvalidOperationTypeError
            ):
                raise MethodNotAllowed("Mutations must be sent with POST.", "POST") from exc
            raise
        if self.metrics is not None:
            self.metrics.observe_operation(
                request_data.operation_name, [error_code(e) for e in result.errors or ()]
            )
        return result

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        request_error = False
        if isinstance(response_data, dict):
            errors = response_data.get("errors") or []
            request_error = (
                response_data.get("data") is None
                and all(isinstance(e, dict) and "path" not in e for e in errors)
                and bool(errors)
            )
            if request_error:
                # GraphQL spec: an error raised before execution begins has no `data` entry.
                response_data = {k: v for k, v in response_data.items() if k != "data"}  # type: ignore[assignment]
        response = GraphQLResultResponse(self.encode_json(response_data), request_error)
        response.headers.raw.extend(sub_response.headers.raw)
        return response


def error_code(error: GraphQLError) -> str:
    """An error's `extensions.code`; request errors (syntax, validation) carry none."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    return REQUEST_ERROR if error.path is None else "INTERNAL_SERVER_ERROR"


def body_too_large(max_bytes: int) -> Response:
    """The BFF's answer to a body over the limit (service_http.limits.RequestBodyLimit)."""
    return error_response(413, f"The request body is larger than {max_bytes} bytes.")
