"""Who may run which root field and mutation: strawberry permission classes, one per role.

The boundary is the root: every object of the schema is reached through a root query field
or a mutation, so a check there covers everything below it, once per request, and the
per-field execution path (issue 8) carries no permission work. A new root field or mutation
must name its role; tests/bff/test_roles.py fails for one that does not.

Refusals carry `extensions.code` UNAUTHENTICATED (nobody signed in, or the session ended) or
FORBIDDEN (signed in without the role), and a sentence for people.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from bff.authentication import principal_of
from bff.errors import BffError
from bff.roles import Role


class Unauthenticated(BffError):
    code = "UNAUTHENTICATED"


class Forbidden(BffError):
    code = "FORBIDDEN"


# What each role lets a person do, for the FORBIDDEN message.
ROLE_ACTIONS = {
    Role.VIEWER: "see orders and invoices",
    Role.CLERK: "create, edit, confirm and delete orders",
    Role.APPROVER: "approve invoices",
    Role.OPERATOR: "run or reset billing's sync",
}


class RolePermission(BasePermission):
    role: ClassVar[Role]

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = principal_of(info.context.request)
        if principal is None:
            raise Unauthenticated("Sign in to continue; your session may have ended.")
        if not principal.holds(self.role):
            raise Forbidden(
                f"You need the {self.role.value} role to {ROLE_ACTIONS[self.role]}; "
                "ask an administrator for it.",
                role=self.role.value,
            )
        return True


class CanView(RolePermission):
    role = Role.VIEWER


class CanEditOrders(RolePermission):
    role = Role.CLERK


class CanApprove(RolePermission):
    role = Role.APPROVER


class CanOperate(RolePermission):
    role = Role.OPERATOR


# The lists strawberry's `permission_classes=` takes.
VIEW: list[type[BasePermission]] = [CanView]
CLERK: list[type[BasePermission]] = [CanEditOrders]
APPROVE: list[type[BasePermission]] = [CanApprove]
OPERATE: list[type[BasePermission]] = [CanOperate]
