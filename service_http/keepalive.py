"""Keep-alive timings that cannot race: a client drops an idle connection well before the
server would close it.

An HTTP client reusing an idle keep-alive connection at the very moment the server times it out
sends its request into a closing socket and gets "Server disconnected without sending a
response" (httpx `RemoteProtocolError`) -- a failed call although both sides are healthy. With
httpx's and uvicorn's defaults (5 s each) that happens regularly under light traffic. The rule
for every process we run: servers keep idle connections `SERVER_KEEP_ALIVE_SECONDS`
(uvicorn `--timeout-keep-alive 30`), every httpx client we own expires them after
`CLIENT_KEEPALIVE_EXPIRY_SECONDS`, half that, so a connection a client reuses is never one the
server is about to close.
"""

from __future__ import annotations

import httpx

SERVER_KEEP_ALIVE_SECONDS = 30
CLIENT_KEEPALIVE_EXPIRY_SECONDS = 15.0


def client_limits(
    max_connections: int | None = 100, max_keepalive_connections: int | None = 20
) -> httpx.Limits:
    """httpx pool limits with our keep-alive expiry set explicitly."""
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive_connections,
        keepalive_expiry=CLIENT_KEEPALIVE_EXPIRY_SECONDS,
    )
