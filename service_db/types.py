"""Column types shared by the services' tables."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel.sql.sqltypes import AutoString

EnumT = TypeVar("EnumT", bound=StrEnum)

# Every number and position is a signed 64-bit integer: BIGINT on PostgreSQL. On SQLite INTEGER
# already holds 64 bits, and only "INTEGER PRIMARY KEY" is the rowid an AUTOINCREMENT key needs.
BIG_INT = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; everything the services store is UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class StrEnumText(TypeDecorator[EnumT]):
    """A `StrEnum` stored as its value in a plain VARCHAR (no database enum type to migrate):
    rows read back as enum members, so one status type runs from the table to the wire."""

    impl = AutoString
    cache_ok = True

    def __init__(self, enum: type[EnumT], length: int) -> None:
        super().__init__(length=length)
        self.enum = enum
        self.length = length

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> EnumT | None:
        return None if value is None else self.enum(value)

    @property
    def python_type(self) -> type[EnumT]:
        return self.enum
