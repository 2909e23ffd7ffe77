"""Log lines as JSON (`LOG_FORMAT=json`), each with the request id and, when tracing is on, the
trace and span ids.

JSON lines are what a log pipeline (Loki, Elasticsearch, CloudWatch…) indexes without parsing
rules; python-json-logger writes them (it handles exceptions, `extra=` fields and types), so
this module only decides which fields a line has and where the handler goes.

`configure_logging` runs when an app is built, not at import. Logging is per process, so it
replaces the handler it installed before (tests build many apps) and re-points uvicorn's own
loggers (which do not propagate) at the same handler, access log included.
"""

from __future__ import annotations

import logging
from typing import Literal

from opentelemetry import trace
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from service_http.request_id import current_request_id

LogFormat = Literal["text", "json"]

# Loggers uvicorn configures with their own handlers and propagate=False.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
_FIELDS = ("levelname", "name", "message")
_RENAMED = {"levelname": "level", "name": "logger"}
# uvicorn adds a copy of its messages with terminal colours; a log pipeline wants none.
_LEFT_OUT = (*RESERVED_ATTRS, "color_message")


class RequestContextFilter(logging.Filter):
    """Adds `request_id` (None outside a request) and, inside a recorded span, `trace_id` and
    `span_id` to every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


def json_formatter(service: str) -> logging.Formatter:
    return JsonFormatter(
        [*_FIELDS, "request_id"],
        rename_fields=_RENAMED,
        static_fields={"service": service},
        # "time": ISO 8601 in UTC with its offset, which every log pipeline parses.
        timestamp="time",
        reserved_attrs=_LEFT_OUT,
    )


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg, unused-ignore]
    """Marks the handler this module installed, so a second app replaces rather than adds."""


def configure_logging(log_format: LogFormat, service: str) -> None:
    """Send every log line of this process as JSON to stderr (`json`); `text` leaves logging as
    the host configured it."""
    if log_format != "json":
        return
    handler = _OurHandler()
    handler.setFormatter(json_formatter(service))
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(previous)
    for name in UVICORN_LOGGERS:
        # uvicorn's handlers write plain text; ours replaces them, via the root logger.
        uvicorn_logger = logging.getLogger(name)
        for old in list(uvicorn_logger.handlers):
            uvicorn_logger.removeHandler(old)
        uvicorn_logger.propagate = True
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
