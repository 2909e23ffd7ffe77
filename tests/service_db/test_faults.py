"""Which database errors are an outage (503, retry) and which stay bugs (500)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from service_db.engine import create_engine
from service_db.faults import describe, is_unavailable
from tests.support.servers import free_port


def _wrapped(driver_error: Exception) -> DBAPIError:
    """What SQLAlchemy's asyncpg dialect raises: a generic DBAPIError around the driver's."""
    return DBAPIError("SELECT 1", {}, driver_error)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    ],
)
def test_postgres_going_away_is_unavailable(error: Exception) -> None:
    assert is_unavailable(_wrapped(error))
    assert is_unavailable(error)


def test_bugs_are_not_unavailable() -> None:
    assert not is_unavailable(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_unavailable(ProgrammingError("SELEC", {}, Exception("syntax error")))
    assert not is_unavailable(
        _wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key value"))
    )
    assert not is_unavailable(ValueError("not a database error"))
    # A socket error that did not come from the database driver is not a database outage.
    assert not is_unavailable(ConnectionRefusedError(111, "Connection refused"))


def test_describe_is_one_line_without_sql() -> None:
    error = DBAPIError(
        "SELECT secret FROM t WHERE x = $1",
        {"x": "secret"},
        asyncpg.exceptions.AdminShutdownError("terminating connection\nDETAIL: more"),
    )
    assert describe(error) == "AdminShutdownError: terminating connection"


async def test_a_refused_connect_is_an_operational_error() -> None:
    # Nothing listens on that port: asyncpg raises the socket's ConnectionRefusedError, which
    # the engine turns into SQLAlchemy's OperationalError, an outage.
    engine = create_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none")
    try:
        with pytest.raises(OperationalError) as failure:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert is_unavailable(failure.value)
    assert "ConnectionRefusedError" in describe(failure.value)
