"""The operator's REST routes for repairing the integration: dead letters (list, read, retry,
dismiss), the repairing re-sync, and the reconciliation report. Thin handlers: the rules live
in dead_letters.py, sync.py (with repair.py) and reconcile.py."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from billing_api.db import Sessions
from billing_api.dead_letters import (
    DEAD_LETTER_CURSOR,
    DeadLetterNotFound,
    dismiss,
    get_letter,
    list_letters,
    retry,
)
from billing_api.models import (
    DeadLetterPage,
    DeadLetterPublic,
    DeadLetterRetryPublic,
    DeadLetterStatus,
    DismissInput,
    RepairPublic,
    ResyncPublic,
    SyncResyncInput,
)
from billing_api.ordering_client import OrderingClient
from billing_api.reconcile import RANGE_SIZE, reconcile
from billing_api.sync import Syncer
from service_http.bodies import parse_body
from service_http.params import MAX_INT64, enum_param, int_param, path_int

PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT = 20, 100


def _json(model: BaseModel) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"))


def _syncer(request: Request) -> Syncer:
    syncer: Syncer = request.state.syncer
    return syncer


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.state.sessions
    return sessions


def _letter_id(request: Request) -> int:
    letter_id = path_int(request, "id")
    if letter_id > MAX_INT64:
        raise DeadLetterNotFound(letter_id)
    return letter_id


async def list_dead_letters(request: Request) -> Response:
    status = enum_param(request, "status", DeadLetterStatus)
    limit = int_param(request, "limit", PAGE_DEFAULT_LIMIT, 1, PAGE_MAX_LIMIT)
    before = DEAD_LETTER_CURSOR.after_param(request)
    read_sessions: Sessions = request.state.read_sessions
    async with read_sessions() as session:
        letters, next_before = await list_letters(session, status, limit, before)
    return _json(
        DeadLetterPage(
            dead_letters=[DeadLetterPublic.of(letter) for letter in letters],
            next_cursor=DEAD_LETTER_CURSOR.next_cursor(next_before),
        )
    )


async def read_dead_letter(request: Request) -> Response:
    read_sessions: Sessions = request.state.read_sessions
    async with read_sessions() as session:
        return _json(DeadLetterPublic.of(await get_letter(session, _letter_id(request))))


async def retry_dead_letter(request: Request) -> Response:
    client: OrderingClient = request.state.client
    result = await retry(_sessions(request), client, _letter_id(request))
    return _json(
        DeadLetterRetryPublic(
            dead_letter=DeadLetterPublic.of(result.letter),
            outcome=result.outcome.value,
            invoice_number=result.invoice_number,
            source=result.source,
        )
    )


async def dismiss_dead_letter(request: Request) -> Response:
    letter_id = _letter_id(request)
    data = await parse_body(request, DismissInput)
    letter = await dismiss(_sessions(request), letter_id, data.reason.strip())
    return _json(DeadLetterPublic.of(letter))


async def resync(request: Request) -> Response:
    """Arm a repairing re-sync and run it now; the answer says what it changed. Should the pull
    stop early (ordering unreachable: 503), the re-sync stays armed and the scheduled pull
    carries it on."""
    data = await parse_body(request, SyncResyncInput)
    syncer = _syncer(request)
    await syncer.resync(data.position, data.since)
    await syncer.pull()
    status = await syncer.status()
    assert status.last_repair is not None, "armed above; finished repairs stay in the row"
    return _json(
        ResyncPublic(repair=RepairPublic.model_validate(status.last_repair), status=status)
    )


async def reconciliation(request: Request) -> Response:
    """Compare billing's copy with ordering now (reads only); 503 when ordering cannot answer."""
    client: OrderingClient = request.state.client
    read_sessions: Sessions = request.state.read_sessions
    size = int_param(request, "range_size", RANGE_SIZE, 1, 100_000)
    return _json(await reconcile(read_sessions, client, size))


operator_routes = [
    Route("/sync/reconciliation", reconciliation, methods=["GET"]),
    Route("/sync/dead-letters", list_dead_letters, methods=["GET"]),
    Route("/sync/dead-letters/{id:int}", read_dead_letter, methods=["GET"]),
    Route("/sync/dead-letters/{id:int}/retry", retry_dead_letter, methods=["POST"]),
    Route("/sync/dead-letters/{id:int}/dismiss", dismiss_dead_letter, methods=["POST"]),
    Route("/sync/resync", resync, methods=["POST"]),
]
