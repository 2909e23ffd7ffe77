"""Which database errors mean "the database is unavailable right now" (a 503, try again), and a
one-line description of any database error for the log and the sync status.

PostgreSQL restarting shows up in several shapes, none of which is a bug in our code:
- while it shuts down or starts up, connecting fails with SQLSTATE 57P03 ("the database system
  is shutting down / starting up"), which SQLAlchemy's asyncpg dialect wraps in a *generic*
  `DBAPIError`, not an `OperationalError`;
- a session it terminates fails with 57P01/57P02 or asyncpg's "connection was closed in the
  middle of operation" (SQLSTATE class 08), again a generic `DBAPIError`;
- while nothing listens, asyncpg's connect raises the bare `ConnectionRefusedError` /
  `ConnectionResetError` / `TimeoutError` of the socket, which SQLAlchemy passes through
  unwrapped (`service_db.engine` turns those into the driver's `OperationalError` at connect;
  this module still recognises them, should one arrive another way).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# SQLSTATEs of a database that is going away, coming back or full: retrying later helps.
# 08xxx connection exception; 57P01 admin shutdown; 57P02 crash shutdown; 57P03 cannot connect
# now; 53300 too many connections.
TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
TRANSIENT_SQLSTATE_CLASSES = ("08",)
# Modules whose OS-level errors are a database connection failing (asyncpg's connect).
_DRIVER_MODULES = ("asyncpg", "sqlalchemy", "aiosqlite")
_MAX_CHAIN = 10


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database cannot be used right now (answer 503, retry later);
    False for everything else, which stays a bug (500) with its traceback in the log."""
    for error in _chain(exc):
        if isinstance(error, OperationalError | InterfaceError):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate in TRANSIENT_SQLSTATES or sqlstate.startswith(TRANSIENT_SQLSTATE_CLASSES)
        ):
            return True
        if isinstance(error, OSError) and _raised_in_driver(error.__traceback__):
            return True
    return False


def describe(exc: BaseException) -> str:
    """The driver's error type and first line (SQLAlchemy's wrappers skipped), without SQL or
    parameters: one line for a log or the sync status."""
    original = next(
        (e for e in _chain(exc) if not type(e).__module__.startswith("sqlalchemy")), exc
    )
    text = str(original).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(original).__name__}: {first}"[:300].rstrip(": ")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what it wraps: SQLAlchemy's `.orig`, the driver's cause, and so on."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < _MAX_CHAIN:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = (
            orig if isinstance(orig, BaseException) else current.__cause__ or current.__context__
        )


def _raised_in_driver(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith(_DRIVER_MODULES):
            return True
        traceback = traceback.tb_next
    return False
