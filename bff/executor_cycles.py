"""graphql-core's executor without its reference cycle, so a request's data dies with it.

graphql-core 3.3's `Executor.__init__` keeps `GraphQLResolveInfoHelpers(gather=..., track=...)`
made of bound methods of the executor (`self.gather_async_work`), stored on the executor. That
cycle keeps the executor, and through its context everything the request loaded (the upstream
pages, every record, the DataLoaders), alive until Python's cyclic collector runs. A request
lives long enough for all of it to be promoted out of the youngest generation, so under 16
concurrent clients a generation-1 collection found ~690,000 dead objects at a time and took up
to 1.1 s, stalling every request in flight: the BFF's p95 at c=16 was 600 ms against a p50 of
68 ms (benchmarks/bff_peers.py).

`AcyclicExecutor` keeps the same helpers behind weak references: while the request executes,
the executor is alive (its coroutines hold it) and they behave exactly as before; afterwards
reference counting frees the request's objects at once.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


def _weakly(method: Callable[..., Any]) -> Callable[..., Any]:
    ref = weakref.WeakMethod(method)

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = ref()
        if bound is None:  # only after the request is over: nobody can still ask
            raise RuntimeError("the GraphQL execution this helper belonged to is over")
        return bound(*args, **kwargs)

    return call


class AcyclicExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=_weakly(self.gather_async_work), track=_weakly(self.track_async_work)
        )
