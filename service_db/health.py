"""Whether a service's database answers: the database half of `GET /readyz`."""

from __future__ import annotations

import anyio
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

# A readiness probe must answer quickly, whatever the database does.
PING_TIMEOUT_SECONDS = 2.0


async def database_problem(
    engine: AsyncEngine, seconds: float = PING_TIMEOUT_SECONDS
) -> str | None:
    """None when `SELECT 1` answers within `seconds`; otherwise why not, for a person."""
    try:
        with anyio.fail_after(seconds):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        return f"The database did not answer within {seconds:g} s."
    except (SQLAlchemyError, OSError) as exc:
        return f"The database is unavailable ({type(exc).__name__})."
    return None
