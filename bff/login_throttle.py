"""Failed sign-ins, counted per account and per client (the `limits` library, like
bff/rate_limit.py; in Redis when the cache is, so replicas count together).

Only failures count. Once either budget is spent, sign-in attempts for that account (or from
that client) are refused with 429 before the password is even checked, until the window moves
on; the answer never says whether the name exists.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

logger = logging.getLogger("bff.auth")


class LoginThrottle:
    def __init__(self, storage: Storage, per_account: str, per_client: str) -> None:
        self.limiter = MovingWindowRateLimiter(storage)
        self.per_account: list[RateLimitItem] = parse_many(per_account) if per_account else []
        self.per_client: list[RateLimitItem] = parse_many(per_client) if per_client else []

    def _budgets(self, account: str, client: str) -> list[tuple[RateLimitItem, str, str]]:
        return [(item, "login-account", account) for item in self.per_account] + [
            (item, "login-client", client) for item in self.per_client
        ]

    async def retry_after(self, account: str, client: str) -> int | None:
        """Seconds until sign-in may be tried again; None when it may be tried now."""
        try:
            for item, scope, key in self._budgets(account, client):
                if not await self.limiter.test(item, scope, key):
                    stats = await self.limiter.get_window_stats(item, scope, key)
                    return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception:
            logger.warning("login throttle store failed; attempt let through", exc_info=True)
        return None

    async def failed(self, account: str, client: str) -> None:
        try:
            for item, scope, key in self._budgets(account, client):
                await self.limiter.hit(item, scope, key)
        except Exception:
            logger.warning("login throttle store failed; failure not counted", exc_info=True)
