"""Ordering's settings, read from the environment when the app is built (never at import)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from service_db.engine import DatabaseUrl
from service_http.credentials import CallerCredential, Scope, credential_table
from service_http.settings import (
    DEV_BFF_TO_ORDERING,
    DEV_BILLING_TO_ORDERING,
    DEV_MONITORING,
    ServiceSettings,
)

# Who calls ordering in a development run, with the scopes a deployment gives them
# (docs/security.md): billing reads the feed and orders, the BFF also writes orders for a user.
DEVELOPMENT_CALLERS = credential_table(
    [
        ("billing", [Scope.ORDERS_READ, Scope.FEED_READ], [DEV_BILLING_TO_ORDERING]),
        (
            "bff",
            [Scope.ORDERS_READ, Scope.ORDERS_WRITE, Scope.ACT_AS_USER],
            [DEV_BFF_TO_ORDERING],
        ),
        ("monitoring", [Scope.METRICS_READ], [DEV_MONITORING]),
    ]
)


class OrderingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERING_", extra="ignore")

    development_callers: ClassVar[Mapping[str, CallerCredential]] = DEVELOPMENT_CALLERS

    database_url: DatabaseUrl = "sqlite+aiosqlite:///./var/ordering.db"
    # How often the sequence assigner numbers pending changes in the background; the feed also
    # runs it before every answer, so this only bounds how stale `high_water` can look.
    assign_interval: float = Field(default=1.0, gt=0)
    # The longest a feed request may hold with `wait` (the long poll); a larger `wait` is cut to
    # this. Keep it under the balancer's and the readers' timeouts.
    feed_max_wait: float = Field(default=30.0, ge=0)
