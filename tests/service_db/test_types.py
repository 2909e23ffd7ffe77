"""service_db's column types: a StrEnumText reads back as its enum, and revisions declare it as
the plain VARCHAR it is in the database."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from alembic.autogenerate import render_python_code
from alembic.operations import ops

from service_db.engine import create_engine
from service_db.schema import render_item
from service_db.types import StrEnumText


class Colour(StrEnum):
    RED = "red"
    DARK_BLUE = "dark_blue"


async def test_values_are_stored_as_text_and_read_back_as_members(sqlite_url: str) -> None:
    metadata = sa.MetaData()
    paints = sa.Table(
        "paints",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("colour", StrEnumText(Colour, 16)),
    )
    engine = create_engine(sqlite_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(paints.insert().values(id=1, colour=Colour.DARK_BLUE))
            await connection.execute(paints.insert().values(id=2, colour=None))
            raw = await connection.scalar(sa.text("SELECT colour FROM paints WHERE id = 1"))
            read = (await connection.execute(sa.select(paints.c.colour).order_by("id"))).all()
    finally:
        await engine.dispose()
    assert raw == "dark_blue", "the value, not the member's name"
    assert read[0][0] is Colour.DARK_BLUE and read[1][0] is None


def test_autogenerate_writes_a_plain_string_column() -> None:
    column: sa.Column[Colour] = sa.Column("colour", StrEnumText(Colour, 16), nullable=False)
    upgrade = ops.UpgradeOps(ops=[ops.AddColumnOp("paints", column)])
    code = render_python_code(upgrade, render_item=render_item)
    assert "sqlmodel.sql.sqltypes.AutoString(length=16)" in code
    assert "StrEnumText" not in code and "Colour" not in code
