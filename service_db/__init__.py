"""SQL plumbing shared by the REST services: engines, read-only sessions, schema creation.

Non-domain code only; ordering and billing use it identically, neither imports the other.
"""
