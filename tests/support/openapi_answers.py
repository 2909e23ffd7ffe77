"""Check real answers against the response schemas a service publishes in its /openapi.json.

OpenAPI 3.1 response schemas are JSON Schema 2020-12, so each answer is validated with
jsonschema's Draft 2020-12 validator, `$ref`s resolved against the document itself. The
checker remembers which (method, path, status) it saw, so a test can require that every
documented success answer was exercised.
"""

from __future__ import annotations

from typing import Any

import httpx
from jsonschema import Draft202012Validator


class PublishedAnswers:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.seen: set[tuple[str, str, int]] = set()

    def check(self, response: httpx.Response, path: str) -> None:
        """Fail unless `response` (to a request on templated `path`) fits its published schema."""
        method = response.request.method.lower()
        status = response.status_code
        operation = self.document["paths"][path][method]
        assert str(status) in operation["responses"], (method, path, status, "undocumented")
        entry = operation["responses"][str(status)]
        self.seen.add((method.upper(), path, status))
        content = entry.get("content")
        if content is None:
            return
        media_type = response.headers["content-type"].split(";")[0].strip()
        assert media_type in content, (method, path, status, media_type)
        if media_type != "application/json":
            return
        # The schema as the root, with the document's components beside it for its $refs.
        root = {**content[media_type]["schema"], "components": self.document["components"]}
        errors = sorted(
            Draft202012Validator(root).iter_errors(response.json()), key=lambda e: e.path
        )
        assert not errors, (method, path, status, [e.message[:300] for e in errors[:3]])

    def successes_not_seen(self) -> set[tuple[str, str, int]]:
        documented = {
            (method.upper(), path, int(status))
            for path, item in self.document["paths"].items()
            for method, operation in item.items()
            for status in operation["responses"]
            if status.startswith("2") or status.startswith("3")
        }
        return documented - self.seen
