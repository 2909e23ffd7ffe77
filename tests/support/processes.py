"""Service processes for tests: the shared runner lives in service_procs (benchmarks use it too)."""

from service_procs.processes import REPO_ROOT, SERVICE_PREFIXES, ServiceProcess, service_env

__all__ = ["REPO_ROOT", "SERVICE_PREFIXES", "ServiceProcess", "service_env"]
