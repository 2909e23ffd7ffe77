"""Alembic's entry point for the BFF's accounts database (run by bff.accounts_db.create_schema
at startup; new revisions: `python -m service_db.revision bff:migrations -m "..."`)."""

from bff.accounts import AccountsTable
from service_db.schema import run_migrations

run_migrations(AccountsTable.metadata)
