"""Alembic's entry point for ordering's migrations (run by service_db.schema.upgrade_schema at
startup; new revisions: `python -m service_db.revision ordering_api:migrations -m "..."`)."""

from ordering_api.models import OrderingTable
from service_db.schema import run_migrations

run_migrations(OrderingTable.metadata)
