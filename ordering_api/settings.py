"""Ordering's settings, read from the environment when the app is built (never at import)."""

from __future__ import annotations

import logging

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SERVICE_TOKEN = "dev-service-token"

logger = logging.getLogger("ordering_api")


class OrderingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERING_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/ordering.db"
    # How often the sequence assigner numbers pending changes in the background; the feed also
    # runs it before every answer, so this only bounds how stale `high_water` can look.
    assign_interval: float = Field(default=1.0, gt=0)
    service_token: str = Field(default=DEV_SERVICE_TOKEN, validation_alias="SERVICE_TOKEN")

    def warn_if_insecure(self) -> None:
        if self.service_token == DEV_SERVICE_TOKEN:
            logger.warning("SERVICE_TOKEN is not set: using the development token")
