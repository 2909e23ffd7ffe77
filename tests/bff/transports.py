"""Fault-injecting upstream links for BFF tests: shared with benchmarks, so they live in
service_procs."""

from service_procs.transports import Fault, UpstreamLink

__all__ = ["Fault", "UpstreamLink"]
