"""HTTP plumbing shared by the REST services: JSON errors, bearer auth, bodies, OpenAPI.

Non-domain code only. Ordering and billing use it identically; neither imports the other.
"""
