"""An app's lifespan run in process for tests: shared with benchmarks, so it lives in
service_procs."""

from service_procs.asgi import Running, serving, started

__all__ = ["Running", "serving", "started"]
