"""The load drivers' own garbage collector, kept out of the latencies they time.

A driver that times requests in Python pauses for its own cyclic collections: measured during
the 8-writer confirm benchmark (a `gc.callbacks` probe in both processes), the driver's
generation-2 collections took 54-108 ms while the service's stayed under 7 ms, and a round
whose confirms were answered within 38 ms reported a p99 of 154 ms. The driver therefore
freezes what it holds and collects rarely, as the services do (service_http.gc_tuning); its
clients allocate little, so memory stays bounded by the threshold.
"""

from __future__ import annotations

from service_http.gc_tuning import tune_gc

DRIVER_GEN0_THRESHOLD = 50_000


def quiet_driver_gc() -> None:
    """Call before timing: what exists is frozen, and young collections are rare and short."""
    tune_gc(DRIVER_GEN0_THRESHOLD)
