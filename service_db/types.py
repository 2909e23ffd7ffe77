"""Column types shared by the services' tables."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel.sql.sqltypes import AutoString

EnumT = TypeVar("EnumT", bound=StrEnum)


class StrEnumText(TypeDecorator[EnumT]):
    """A `StrEnum` stored as its value in a plain VARCHAR (no database enum type to migrate):
    rows read back as enum members, so one status type runs from the table to the wire."""

    impl = AutoString
    cache_ok = True

    def __init__(self, enum: type[EnumT], length: int) -> None:
        super().__init__(length=length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> EnumT | None:
        return None if value is None else self.enum(value)

    @property
    def python_type(self) -> type[EnumT]:
        return self.enum
