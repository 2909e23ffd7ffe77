"""Whether ordering's feed can still be followed from billing's token, as a pure function.

Positions only grow in one owner database, so a feed whose high water is below the token
billing already holds was put back (a restore from a backup): the changes made there after
the restore get positions billing believes it has seen, and following on would skip them
silently. A feed with another identity is another database altogether. In both cases billing
stops advancing and says so, and an operator decides where to re-sync from (sync.py `resync`).
"""

from __future__ import annotations

from billing_api.models import FeedPage

WHAT_TO_DO = "Billing has stopped pulling until an operator re-syncs from a position or a time."


def feed_problem(token: int, feed_id: str | None, page: FeedPage) -> str | None:
    """Why billing must not follow `page` from (token, feed_id), in words; None if it may."""
    if feed_id is not None and page.feed_id != feed_id:
        return (
            f"ordering's feed identity changed (billing followed feed {feed_id}, ordering now "
            f"serves feed {page.feed_id}): is billing pointed at another ordering database, "
            f"or was it re-created? {WHAT_TO_DO}"
        )
    if page.high_water < token:
        return (
            "ordering's feed is behind what billing has seen: was its database restored? "
            f"Its high water is position {page.high_water}, billing has pulled up to "
            f"position {token}. {WHAT_TO_DO}"
        )
    return None
