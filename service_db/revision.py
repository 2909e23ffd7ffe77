"""Writing a service's next migration, for developers:

    .venv/bin/python -m service_db.revision ordering_api:migrations -m "add customer phone"

Autogenerate compares the service's models with a database at head: a throwaway SQLite file by
default, or `--database-url` (upgraded to head inside a transaction that is rolled back, so it
is left as it was; use a PostgreSQL one to see what SQLite's reflection cannot). `--empty` writes
a revision with empty upgrade/downgrade, for data migrations. Revisions are numbered 0001, 0002,
... so the files sort in the order they run. Read and tidy what autogenerate wrote: it does not
see renames (it writes drop + add) and some server-side changes.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from importlib.util import find_spec
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection

from service_db.engine import create_engine
from service_db.schema import migration_config


def next_revision_id(config: Config) -> str:
    script = ScriptDirectory.from_config(config)
    numbers = [int(rev.revision) for rev in script.walk_revisions() if rev.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


async def make_revision(
    script_location: str,
    message: str,
    database_url: str | None = None,
    autogenerate: bool = True,
) -> Path:
    """Write the next revision file of `script_location`; returns its path."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(database_url or f"sqlite+aiosqlite:///{scratch}/head.db")
        try:
            async with engine.connect() as connection:
                transaction = await connection.begin()
                try:
                    return await connection.run_sync(
                        _write_revision, script_location, message, autogenerate
                    )
                finally:
                    await transaction.rollback()
        finally:
            await engine.dispose()


def _write_revision(
    connection: Connection, script_location: str, message: str, autogenerate: bool
) -> Path:
    config = migration_config(script_location, connection)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if find_spec("ruff") is not None:
        # Sort the imports autogenerate adds and drop unused ones, as the project's lint wants.
        config.set_section_option("post_write_hooks", "hooks", "ruff")
        config.set_section_option("post_write_hooks", "ruff.type", "module")
        config.set_section_option("post_write_hooks", "ruff.module", "ruff")
        config.set_section_option(
            "post_write_hooks", "ruff.options", "check --fix --exit-zero REVISION_SCRIPT_FILENAME"
        )
    command.upgrade(config, "head")
    written = command.revision(
        config, message, autogenerate=autogenerate, rev_id=next_revision_id(config)
    )
    assert isinstance(written, Script), "one script directory, one head: one revision"
    return Path(written.path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m service_db.revision", description="Write a service's next migration."
    )
    parser.add_argument("script_location", help='e.g. "ordering_api:migrations"')
    parser.add_argument("-m", "--message", required=True, help="what the revision changes")
    parser.add_argument("--database-url", help="compare against this database, not SQLite")
    parser.add_argument("--empty", action="store_true", help="no autogenerate (data migrations)")
    args = parser.parse_args(argv)
    path = asyncio.run(
        make_revision(
            args.script_location, args.message, args.database_url, autogenerate=not args.empty
        )
    )
    print(f"wrote {path}: read it and tidy it before committing")


if __name__ == "__main__":
    main()
