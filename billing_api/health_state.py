"""The pull's health in one word, with the reason and since when, as a pure function.

- failing: billing is not getting ordering's changes and will not without help or time: the
  feed went backwards or changed identity (halted, waiting for an operator's re-sync), the
  service token is refused, or FAILING_AFTER pulls in a row failed (ordering unreachable,
  billing's own database down);
- degraded: changes still flow, but not all is well: the last pull(s) failed (fewer than
  FAILING_AFTER), records wait in dead letters, or a repairing re-sync is running;
- healthy: otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_api.models import HealthState as Health
from billing_api.models import SyncState, as_utc

FAILING_AFTER = 3


@dataclass(frozen=True)
class Verdict:
    health: Health
    reason: str
    since: datetime | None


def _at(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def judge(state: SyncState, open_letters: int, oldest_letter_at: datetime | None) -> Verdict:
    """The health of the pull given its state row and the open dead letters."""
    failing_since = _at(state.failing_since) or _at(state.last_error_at)
    if state.halted_reason:
        return Verdict(Health.FAILING, state.halted_reason, _at(state.halted_at))
    if not state.healthy:  # the service token was refused: retrying will not fix it
        return Verdict(
            Health.FAILING, state.last_error or "ordering refused billing", failing_since
        )
    failures = state.consecutive_failures
    if failures >= FAILING_AFTER:
        return Verdict(
            Health.FAILING,
            f"the last {failures} pulls failed; the last said: {state.last_error}",
            failing_since,
        )
    if failures > 0:
        return Verdict(
            Health.DEGRADED,
            f"the last pull failed ({state.last_error}); billing retries on its own",
            failing_since,
        )
    if open_letters:
        return Verdict(
            Health.DEGRADED,
            f"{open_letters} record(s) from ordering could not be applied and wait in dead "
            "letters for an operator to retry or dismiss",
            oldest_letter_at,
        )
    if state.repair_from is not None:
        started = (state.last_repair or {}).get("started_at")
        return Verdict(
            Health.DEGRADED,
            f"a repairing re-sync from position {state.repair_from} is running",
            datetime.fromisoformat(started) if isinstance(started, str) else None,
        )
    return Verdict(Health.HEALTHY, "pulls succeed and every record was applied", None)
