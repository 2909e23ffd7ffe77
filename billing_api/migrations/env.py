"""Alembic's entry point for billing's migrations (run by service_db.schema.upgrade_schema at
startup; new revisions: `python -m service_db.revision billing_api:migrations -m "..."`)."""

from billing_api.models import BillingTable
from service_db.schema import run_migrations

run_migrations(BillingTable.metadata)
