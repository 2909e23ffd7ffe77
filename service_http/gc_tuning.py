"""Garbage-collector settings for our server processes (the BFF, ordering, billing).

Executing one 50-order page allocates on the order of 100,000 short-lived objects (graphql-core
builds a resolve info, a path and a result entry per field). With Python's default gen-0
threshold of 700, that triggers a collection every few dozen fields, and the older generations'
collections walk every long-lived object of the process (modules, the schema) again and again.
Measured in process (16 concurrent executions of that page, CPU per page): 7.3-7.7 ms with the
defaults (700, 10, 10); 6.8 ms after freezing the startup heap with (20000, 10, 10); 4.8-4.9 ms
with (20000, 50, 100), since with 16 pages in flight many objects live long enough to be
promoted, and each older-generation collection walks all of them.

The services allocate far less per request, but a full collection walks every object the
process holds (SQLAlchemy's mappers, pydantic's validators, the imported modules): a 79 ms
generation-2 collection in ordering was one of the worst stalls of the replication-lag run
(benchmarks/replication_lag.py), held up every request in flight. Frozen, that heap is
never walked again.

Reference counting still frees almost everything at once; the cyclic collector only runs less
often, so memory grows by at most a threshold's worth of objects in between.
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger("service_http.gc")


# Collections of generation 0 (resp. 1) between collections of generation 1 (resp. 2).
GEN1_EVERY = 50
GEN2_EVERY = 100


def tune_gc(gen0_threshold: int) -> None:
    """Freeze what exists now (imports, the schema) out of future collections and collect the
    youngest generation every `gen0_threshold` allocations; 0 leaves Python's defaults."""
    if gen0_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(gen0_threshold, GEN1_EVERY, GEN2_EVERY)
    logger.debug("gc: startup heap frozen, gen-0 threshold %d", gen0_threshold)
