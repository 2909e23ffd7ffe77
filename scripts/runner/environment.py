"""The settings each service process gets, for the plain run and the scaled run."""

from __future__ import annotations

from collections.abc import Mapping

from scripts.runner.settings import RunSettings

# Service settings a developer's shell may carry; the run decides these itself unless set.
_PASSED_THROUGH_PREFIXES = ("ORDERING_", "BILLING_", "BFF_", "SERVICE_TOKEN", "UVICORN_", "APP_ENV")


def service_environment(
    settings: RunSettings, base: Mapping[str, str], postgres_password: str | None = None
) -> dict[str, str]:
    """`base` (the run's own environment) plus every service setting the run decides, unless
    `base` sets it already: a developer can still point a service elsewhere."""
    ordering, billing, bff = (settings.url(name) for name in ("ordering", "billing", "bff"))
    decided = {
        # Billing pulls, and the BFF calls, through the same address a browser uses: in the
        # scaled run that is the service's balancer, so a dead replica is routed around.
        "BILLING_ORDERING_URL": ordering,
        "BILLING_WEB_URL": bff,
        "BFF_ORDERING_URL": ordering,
        "BFF_BILLING_URL": billing,
        # A development run: each caller uses its own development credential (with a warning)
        # when none is set (docs/security.md). A deployment leaves APP_ENV unset (production)
        # and sets ORDERING_CREDENTIALS, BILLING_CREDENTIALS and the callers' own tokens.
        "APP_ENV": "development",
        # One line per HTTP request from every process buries the URLs the run prints.
        "UVICORN_ACCESS_LOG": "false",
        "PYTHONUNBUFFERED": "1",
    }
    if settings.scaled:
        if postgres_password is None:
            raise ValueError("the scaled run needs the PostgreSQL password")
        server = f"postgres:{postgres_password}@127.0.0.1:{settings.postgres_port}"
        decided |= {
            "ORDERING_DATABASE_URL": f"postgresql+asyncpg://{server}/ordering",
            "BILLING_DATABASE_URL": f"postgresql+asyncpg://{server}/billing",
            "BFF_DATABASE_URL": f"postgresql+asyncpg://{server}/bff",
            "BFF_CACHE_URL": f"redis://127.0.0.1:{settings.redis_port}/0",
            # HAProxy (option forwardfor) names the client; the rate limits count clients.
            "BFF_TRUSTED_PROXIES": "127.0.0.1",
        }
    else:
        decided |= {
            "ORDERING_DATABASE_URL": f"sqlite+aiosqlite:///{settings.var_dir / 'ordering.db'}",
            "BILLING_DATABASE_URL": f"sqlite+aiosqlite:///{settings.var_dir / 'billing.db'}",
            "BFF_DATABASE_URL": f"sqlite+aiosqlite:///{settings.var_dir / 'bff.db'}",
        }
    env = dict(base)
    for key, value in decided.items():
        if key.startswith(_PASSED_THROUGH_PREFIXES) and key in base:
            continue
        env[key] = value
    return env
