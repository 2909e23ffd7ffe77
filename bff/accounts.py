"""The BFF's user accounts (local sign-in): the table and the rules on it.

The BFF has its own small database for them (`BFF_DATABASE_URL`; SQLite by default, PostgreSQL
when replicas share it), migrated at start-up like the services' (bff/accounts_db.py). Roles
are stored as one space-separated column: there are four, a user holds few, and they are
always read together with the user.

`session_epoch` goes up whenever what a session was granted on stops holding (disabled,
password reset, roles changed, signed out everywhere): sessions remember the epoch they were
made at and are refused once it moved (bff/sessions.py re-checks it every little while).
"""

# No `from __future__ import annotations`: SQLModel reads the field types at runtime.
import re
from dataclasses import dataclass
from datetime import datetime

from anyio import to_thread
from sqlalchemy import Column, DateTime
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bff.passwords import check_new_password, dummy_hash, hash_password, verify_password
from bff.roles import Role, parse_roles, roles_text
from service_db.engine import Sessions
from service_db.types import utcnow

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")


class AccountsTable(SQLModel, registry=registry()):
    pass


class User(AccountsTable, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    roles: str = Field(default="", max_length=200)
    disabled: bool = False
    session_epoch: int = 1
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )

    @property
    def role_set(self) -> frozenset[Role]:
        return parse_roles(self.roles.split())


@dataclass(frozen=True)
class Account:
    """What the rest of the BFF sees of a user (never the hash)."""

    name: str
    display_name: str
    roles: frozenset[Role]
    disabled: bool
    session_epoch: int

    @classmethod
    def of(cls, user: User) -> "Account":
        return cls(user.name, user.display_name, user.role_set, user.disabled, user.session_epoch)


class AccountError(ValueError):
    """A change to accounts that cannot be made; the message is for the operator."""


def check_name(name: str) -> str:
    cleaned = name.strip().lower()
    if not NAME_PATTERN.match(cleaned):
        raise AccountError(
            "a user name is 1-64 characters: lower-case letters, digits and . _ @ -, "
            "starting with a letter or digit"
        )
    return cleaned


class Accounts:
    """The accounts table, through the BFF's sessions factory."""

    def __init__(self, sessions: Sessions, read_sessions: Sessions | None = None) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions

    async def add(
        self, name: str, password: str, roles: frozenset[Role], display_name: str | None = None
    ) -> Account:
        name = check_name(name)
        try:
            check_new_password(password)
        except ValueError as exc:
            raise AccountError(str(exc)) from exc
        async with self.sessions.begin() as session:
            if await _find(session, name) is not None:
                raise AccountError(f"user {name} already exists")
            user = User(
                name=name,
                display_name=(display_name or name).strip() or name,
                password_hash=hash_password(password),
                roles=roles_text(roles),
            )
            session.add(user)
        return Account.of(user)

    async def get(self, name: str) -> Account | None:
        async with self.read_sessions() as session:
            user = await _find(session, name.strip().lower())
            return Account.of(user) if user is not None else None

    async def all(self) -> list[Account]:
        async with self.read_sessions() as session:
            users = await session.exec(select(User).order_by(col(User.name)))
            return [Account.of(user) for user in users]

    async def authenticate(self, name: str, password: str) -> Account | None:
        """The account when the name and password match and it is enabled; else None.

        Costs one hash verification whatever the outcome (a dummy one for unknown names)."""
        async with self.read_sessions() as session:
            user = await _find(session, name.strip().lower())
        # Argon2 takes tens of milliseconds of CPU on purpose: off the event loop, so a burst
        # of sign-ins does not stall every other request.
        stored = user.password_hash if user is not None else dummy_hash()
        matches = await to_thread.run_sync(verify_password, password, stored)
        if user is None or not matches or user.disabled:
            return None
        return Account.of(user)

    async def change(
        self,
        name: str,
        *,
        password: str | None = None,
        disabled: bool | None = None,
        roles: frozenset[Role] | None = None,
        end_sessions: bool = False,
    ) -> Account:
        """Change an account; any change that takes something away also ends its sessions."""
        if password is not None:
            try:
                check_new_password(password)
            except ValueError as exc:
                raise AccountError(str(exc)) from exc
        async with self.sessions.begin() as session:
            user = await _find(session, name.strip().lower())
            if user is None:
                raise AccountError(f"no user {name}")
            ends = end_sessions or password is not None
            if password is not None:
                user.password_hash = hash_password(password)
            if disabled is not None:
                ends = ends or (disabled and not user.disabled)
                user.disabled = disabled
            if roles is not None:
                ends = ends or bool(user.role_set - roles)
                user.roles = roles_text(roles)
            if ends:
                user.session_epoch += 1
            user.updated_at = utcnow()
            session.add(user)
        return Account.of(user)


async def _find(session: AsyncSession, name: str) -> User | None:
    result = await session.exec(select(User).where(User.name == name))
    return result.first()
