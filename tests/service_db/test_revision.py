"""The revision command writes numbered, lint-clean revisions that carry a model change to an
existing SQLite database, rows and all (batch mode: SQLite cannot ALTER a column in place, and
rebuilding a table other rows refer to needs foreign key enforcement off while it runs).

It runs on a scratch script directory whose env.py targets a small model defined here, so the
test can change the model the way a developer would.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from service_db.engine import create_engine
from service_db.revision import make_revision
from service_db.schema import upgrade_schema

ROOT = Path(__file__).parents[2]
TEMPLATE = ROOT / "ordering_api" / "migrations" / "script.py.mako"

ENV_PY = """\
from service_db.schema import run_migrations
from tests.service_db.test_revision import widgets_metadata

run_migrations(widgets_metadata(name_length={name_length}, with_colour={with_colour}))
"""


def widgets_metadata(name_length: int, with_colour: bool) -> sa.MetaData:
    metadata = sa.MetaData()
    columns: list[sa.schema.SchemaItem] = [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(name_length), nullable=False),
    ]
    if with_colour:
        columns.append(sa.Column("colour", sa.String(20), nullable=True))
    sa.Table("widgets", metadata, *columns)
    # A child row refers to the table batch mode rebuilds (SQLite's foreign keys are on).
    sa.Table(
        "parts",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("widget_id", sa.ForeignKey("widgets.id"), nullable=False),
    )
    return metadata


def scripts(root: Path, name_length: int, with_colour: bool) -> str:
    (root / "versions").mkdir(parents=True, exist_ok=True)
    shutil.copy(TEMPLATE, root / "script.py.mako")
    (root / "env.py").write_text(ENV_PY.format(name_length=name_length, with_colour=with_colour))
    return str(root)


def _differences(connection: Connection, metadata: sa.MetaData) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def test_revisions_are_numbered_lint_clean_and_alter_sqlite_keeping_rows(
    tmp_path: Path, sqlite_url: str
) -> None:
    location = scripts(tmp_path / "migrations", name_length=50, with_colour=False)
    first = await make_revision(location, "widgets and parts")
    assert first.name == "0001_widgets_and_parts.py"

    engine = create_engine(sqlite_url)
    try:
        await upgrade_schema(engine, location, lock_key=1)
        async with engine.begin() as connection:
            await connection.execute(sa.text("INSERT INTO widgets VALUES (1, 'sprocket')"))
            await connection.execute(sa.text("INSERT INTO parts VALUES (1, 1)"))

        # The developer lengthens a column (an ALTER SQLite lacks) and adds one.
        scripts(tmp_path / "migrations", name_length=100, with_colour=True)
        second = await make_revision(location, "Longer names; colours")
        assert second.name == "0002_longer_names_colours.py"
        source = second.read_text()
        assert "down_revision: str | Sequence[str] | None = '0001'" in source
        assert "batch_alter_table('widgets'" in source
        assert "add_column" in source and "alter_column" in source

        await upgrade_schema(engine, location, lock_key=1)

        async with engine.connect() as connection:
            widgets = (await connection.execute(sa.text("SELECT * FROM widgets"))).all()
            parts = (await connection.execute(sa.text("SELECT * FROM parts"))).all()
            differences = await connection.run_sync(
                _differences, widgets_metadata(name_length=100, with_colour=True)
            )
        assert widgets == [(1, "sprocket", None)]
        assert parts == [(1, 1)]
        assert differences == []

        # Enforcement is back on for the connections the app gets afterwards.
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(sa.text("INSERT INTO parts VALUES (2, 99)"))
    finally:
        await engine.dispose()

    assert_lint_clean(first, second)


def assert_lint_clean(*paths: Path) -> None:
    """The project's own ruff rules, as on any committed file."""
    lint = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--config",
            str(ROOT / "pyproject.toml"),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout
