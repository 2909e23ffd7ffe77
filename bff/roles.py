"""The roles a BFF user may hold, and what each lets them do (docs/security.md).

A user holds any number of roles; none implies another (an approver who should also see the
lists holds viewer too).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # reads orders, invoices and the sync status
    CLERK = "clerk"  # creates, edits, confirms and deletes orders
    APPROVER = "approver"  # approves invoices
    OPERATOR = "operator"  # runs and resets billing's sync


ALL_ROLES = frozenset(Role)


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Known role names (case-insensitive, surrounding blanks ignored); unknown ones raise
    ValueError naming them."""
    cleaned = {value.strip().lower() for value in values if value.strip()}
    unknown = sorted(cleaned - {role.value for role in Role})
    if unknown:
        known = ", ".join(role.value for role in Role)
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; the roles are {known}")
    return frozenset(Role(value) for value in cleaned)


def roles_text(roles: Iterable[Role]) -> str:
    """Roles as stored and shown: sorted, space-separated."""
    return " ".join(sorted(role.value for role in roles))
