"""Billing's REST client for ordering: one long-lived httpx client, timeouts, service token.

Every way ordering can fail becomes an `OrderingError` with a sentence for the log and the
sync status; callers never see httpx or pydantic exceptions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from billing_api.models import FeedPage, OrderWire
from service_http.keepalive import client_limits
from service_http.order_digest import ChecksumPage, DigestList
from service_http.request_id import outgoing_headers

_Answer = TypeVar("_Answer", FeedPage, OrderWire, ChecksumPage, DigestList)


def _on_request_sent(
    sent: asyncio.Event,
) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    # httpcore's trace extension; an async client's must be a coroutine function.
    async def trace(event: str, _info: dict[str, Any]) -> None:
        if event.endswith("send_request_body.complete"):
            sent.set()

    return trace


class OrderingError(Exception):
    """Ordering could not give a usable answer. The message says why, for a person."""


class OrderingUnavailable(OrderingError):
    """Unreachable, timing out or answering 5xx: try again later (with backoff)."""


class OrderingUnauthorized(OrderingError):
    """401/403: our service token is wrong. Retrying soon will not fix it."""


class OrderingProtocolError(OrderingError):
    """An answer that breaks the contract: malformed JSON, wrong shape, unexpected status."""


class OrderingClient:
    def __init__(
        self,
        base_url: str,
        service_token: str,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = httpx.Timeout(timeout)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {service_token}", "Accept": "application/json"},
            timeout=self._timeout,
            # Idle connections expire before ordering's server closes them: no keep-alive race.
            limits=client_limits(),
            transport=transport,
            follow_redirects=False,
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying client (tracing instruments it)."""
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    async def fetch_changes(
        self, since: int, limit: int, sent: asyncio.Event | None = None
    ) -> FeedPage:
        """One page of the change feed after position `since`; `sent` is set once the request
        is on the socket (httpcore's trace of the request body), for the pull's pipelining."""
        trace = None if sent is None else _on_request_sent(sent)
        response = await self._get(
            "/orders/changes", params={"since": since, "limit": limit}, trace=trace
        )
        self._raise_for_status(response, what="the change feed")
        try:
            page = self._parse(response, FeedPage, what="the change feed")
        except OrderingProtocolError as exc:
            page = _page_around_bad_records(response.content, exc)
        if page.next_since < since:
            raise OrderingProtocolError(
                f"ordering's feed went backwards: next_since {page.next_since} < since {since}"
            )
        if page.has_more and not page.orders:
            # Following it would loop forever on the same position.
            raise OrderingProtocolError("ordering's feed says has_more but returned no orders")
        return page

    async def wait_for_changes(self, since: int, wait: float, limit: int) -> FeedPage:
        """Long poll: the feed page after `since`, held until ordering has a change or `wait` s
        passed (then with no orders). The read timeout is the wait plus the usual timeout, so a
        quiet feed is never mistaken for a dead one. The page is a whole feed answer, so the
        pull that follows applies it instead of asking for it again."""
        timeout = httpx.Timeout(self._timeout.connect, read=wait + (self._timeout.read or 0))
        response = await self._get(
            "/orders/changes",
            params={"since": since, "limit": limit, "wait": wait},
            limits=timeout,
        )
        self._raise_for_status(response, what="the change feed")
        try:
            return self._parse(response, FeedPage, what="the change feed")
        except OrderingProtocolError as exc:
            # The pull applies this page: its bad records become dead letters there too.
            return _page_around_bad_records(response.content, exc)

    async def fetch_order(self, number: int) -> OrderWire | None:
        """One order (drafts and deleted ones too); None when ordering has no such order."""
        response = await self._get(f"/orders/{number}")
        if response.status_code == 404:
            return None
        self._raise_for_status(response, what=f"order {number}")
        order = self._parse(response, OrderWire, what=f"order {number}")
        if order.number != number:
            raise OrderingProtocolError(f"asked ordering for order {number}, got {order.number}")
        return order

    async def fetch_checksums(self, start: int, size: int, ranges: int) -> ChecksumPage:
        """Reconciliation: count and checksum per range of order numbers from `start`."""
        response = await self._get(
            "/orders/checksums", params={"start": start, "size": size, "ranges": ranges}
        )
        self._raise_for_status(response, what="the order checksums")
        return self._parse(response, ChecksumPage, what="the order checksums")

    async def fetch_digests(self, first: int, count: int) -> DigestList:
        """Reconciliation: the digests of the published orders numbered first..first+count-1."""
        response = await self._get("/orders/digests", params={"first": first, "count": count})
        self._raise_for_status(response, what="the order digests")
        return self._parse(response, DigestList, what="the order digests")

    async def _get(
        self,
        path: str,
        params: dict[str, int | float] | None = None,
        limits: httpx.Timeout | None = None,
        trace: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None,
    ) -> httpx.Response:
        # The request id of the call that started this (a deep link, /sync/run), if any.
        headers = outgoing_headers()
        extensions = {} if trace is None else {"trace": trace}
        timeout = httpx.USE_CLIENT_DEFAULT if limits is None else limits
        try:
            return await self._http.get(
                path, params=params, headers=headers, timeout=timeout, extensions=extensions
            )
        except httpx.TimeoutException as exc:
            raise OrderingUnavailable(f"ordering timed out ({type(exc).__name__})") from exc
        except httpx.RequestError as exc:
            raise OrderingUnavailable(
                f"cannot reach ordering: {type(exc).__name__}: {exc}".rstrip(": ")
            ) from exc

    @staticmethod
    def _raise_for_status(response: httpx.Response, what: str) -> None:
        status = response.status_code
        if status == 200:
            return
        if status in (401, 403):
            raise OrderingUnauthorized(
                f"ordering refused billing's service token ({status}) for {what}"
            )
        if status >= 500:
            raise OrderingUnavailable(f"ordering answered {status} for {what}")
        raise OrderingProtocolError(f"ordering answered an unexpected {status} for {what}")

    @staticmethod
    def _parse(response: httpx.Response, model: type[_Answer], what: str) -> _Answer:
        try:
            # Straight from the bytes: one pass in pydantic-core, no intermediate dicts (a feed
            # page is the pull's largest input).
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            if exc.errors()[0]["type"] == "json_invalid":
                raise OrderingProtocolError(f"ordering sent malformed JSON for {what}") from exc
            raise OrderingProtocolError(
                f"ordering's answer for {what} has the wrong shape: "
                f"{exc.error_count()} problem(s), first at "
                f"{'.'.join(str(p) for p in exc.errors()[0]['loc']) or 'top level'}"
            ) from exc


def _page_around_bad_records(content: bytes, error: OrderingProtocolError) -> FeedPage:
    """A page whose envelope is sound but some of whose records are not orders billing can
    read: the readable ones as usual, the others kept raw with the reason (dead letters), so
    that one bad record never stops the pull. Anything else raises `error`."""
    cause = error.__cause__
    if not isinstance(cause, ValidationError) or any(
        problem["loc"][:1] != ("orders",) or len(problem["loc"]) < 2 for problem in cause.errors()
    ):
        raise error
    raw: dict[str, Any] = json.loads(content)
    records = raw.get("orders")
    if not isinstance(records, list):
        raise error
    readable: list[Any] = []
    unreadable: list[tuple[Any, str]] = []
    for record in records:
        try:
            readable.append(OrderWire.model_validate(record))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "top level"
            unreadable.append((record, f"not an order billing can read: {where}: {first['msg']}"))
    try:
        page = FeedPage.model_validate({**raw, "orders": readable})
    except ValidationError:
        raise error from None
    page.unreadable.extend(unreadable)
    return page
