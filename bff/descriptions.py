"""Wording shared by the schema's descriptions (a module of its own: the type modules import
each other, and this has no imports)."""

DATE_TIME = "ISO 8601 date and time in UTC"
