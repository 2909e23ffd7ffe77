"""The GraphQL schema: queries and mutations over ordering and billing, with its protections."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from enum import Enum
from functools import partial
from typing import Annotated

import strawberry
from anyio import CapacityLimiter
from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import DisableIntrospection, MaxTokensLimiter, SchemaExtension
from strawberry.types import ExecutionContext

from bff.context import Info
from bff.deeplink import link_path
from bff.document_cache import CachedDocuments, DocumentCache
from bff.document_limits import DocumentLimits, document_limits_extension
from bff.errors import BffError, MaskUnexpectedErrors, is_unexpected
from bff.executor_cycles import AcyclicExecutor
from bff.offload import OffLoopParsing
from bff.operator_schema import OperatorMutation, OperatorQuery
from bff.pagination import ListParams, page_of, page_request, search_text
from bff.permissions import APPROVE, CLERK, VIEW
from bff.planned_execution import PlannedExecutor
from bff.selection import selects
from bff.settings import MAX_PAGE_SIZE, BffSettings
from bff.suggestions import HideSuggestions
from bff.types import (
    NOT_LOADED,
    ConfirmOrderPayload,
    Invoice,
    InvoiceConnection,
    InvoiceSort,
    InvoiceStatus,
    Order,
    OrderConnection,
    OrderInput,
    OrderSort,
    OrderStatus,
    SortDirection,
    SyncStatus,
    wire,
)
from bff.variable_errors import VariableErrorsInWords

logger = logging.getLogger("bff.graphql")


def deep_link(settings: BffSettings, order_number: int) -> str:
    # The BFF's own deep link (bff/deeplink.py): it needs a session, billing's does not.
    return f"{settings.public_url}{link_path(order_number)}"


async def prefetch_invoices(info: Info, orders: list[Order]) -> None:
    """The invoices of a page of orders in one batch, handed to each order up front."""
    loader = info.context.loaders.invoice_by_order
    # A draft has no invoice (billing bills confirmed orders only): not worth asking about.
    billed = [order for order in orders if order.status is not OrderStatus.DRAFT]
    for order in orders:
        if order.status is OrderStatus.DRAFT:
            order.prefetched_invoice = None
    try:
        records = await loader.load_many([order.number for order in billed])
    except Exception:
        # Billing failed: leave each order's invoice to its own field, which then reports the
        # (batched, already settled) failure on its own path next to the orders it did get.
        for order in billed:
            order.prefetched_invoice = NOT_LOADED
        return
    for order, record in zip(billed, records, strict=True):
        order.prefetched_invoice = record


SORT = "What the list is sorted by; ties go by number."
OrderStatusArg = Annotated[
    OrderStatus | None,
    strawberry.argument(description="Only orders with this status; left out, all but deleted."),
]
InvoiceStatusArg = Annotated[
    InvoiceStatus | None,
    strawberry.argument(
        description="Only invoices with this status (PENDING_APPROVAL: awaiting approval)."
    ),
]
SearchArg = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "Up to 200 characters: rows whose customer name or e-mail contains it (any case), "
            'or whose number it is ("42" or "#42"; for invoices the invoice\'s or its '
            "order's number). Blank means no search."
        )
    ),
]
DirectionArg = Annotated[SortDirection, strawberry.argument(description="Ascending or descending.")]
FirstArg = Annotated[
    int | None,
    strawberry.argument(
        description="How many rows after `after` (1 to 100; 20 when neither `first` nor `last`)."
    ),
]
AfterArg = Annotated[
    str | None,
    strawberry.argument(description="An edge's cursor (`pageInfo.endCursor`): the rows after it."),
]
LastArg = Annotated[
    int | None,
    strawberry.argument(description="How many rows just before `before` (1 to 100)."),
]
BeforeArg = Annotated[
    str | None,
    strawberry.argument(
        description="An edge's cursor (`pageInfo.startCursor`): the rows before it."
    ),
]


def list_params(
    status: Enum | None,
    search: str | None,
    sort: Enum,
    direction: SortDirection,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> ListParams:
    """A list field's arguments as the services spell them (orders and invoices alike)."""
    return ListParams(
        status=wire(status) if status else None,
        search=search_text(search),
        sort=wire(sort),
        direction=wire(direction),
        page=page_request(first, after, last, before),
    )


@strawberry.type(description="What can be read: orders, invoices and billing's sync status.")
class Query(OperatorQuery):  # the operator's fields: bff.operator_schema.OPERATOR_FIELDS
    # The root fields fed by one upstream are nullable: when that upstream fails, the field is
    # null with an UPSTREAM_UNAVAILABLE error at its path and the rest of `data` is kept.
    @strawberry.field(
        description=(
            "A page of orders: newest first unless sorted otherwise; without `status` all but "
            "deleted ones. Next page: `first` with `after: pageInfo.endCursor`; previous page: "
            "`last` with `before: pageInfo.startCursor`."
        ),
        permission_classes=VIEW,
    )
    async def orders(
        self,
        info: Info,
        status: OrderStatusArg = None,
        search: SearchArg = None,
        sort: Annotated[OrderSort, strawberry.argument(description=SORT)] = OrderSort.CREATED,
        direction: DirectionArg = SortDirection.DESC,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> OrderConnection | None:
        wanted = list_params(status, search, sort, direction, first, after, last, before)
        upstream = await info.context.ordering.list_orders(wanted)
        info.context.loaders.order.prime_many({order.number: order for order in upstream.orders})
        connection = OrderConnection.from_page(
            page_of(upstream.orders, upstream.cursors, upstream.next_cursor, upstream.prev_cursor),
            wanted.search,
        )
        if selects(info.selected_fields, ("orders", "edges", "node", "invoice")):
            await prefetch_invoices(info, [edge.node for edge in connection.edges])
        return connection

    @strawberry.field(
        description="One order by its number (drafts and deleted ones too).",
        permission_classes=VIEW,
    )
    async def order(
        self,
        info: Info,
        number: Annotated[int, strawberry.argument(description="The order number.")],
    ) -> Order | None:
        record = await info.context.loaders.order.load(number)
        return Order.from_record(record) if record is not None else None

    @strawberry.field(
        description=(
            "A page of invoices, newest first unless sorted otherwise. The invoices awaiting "
            "approval are `status: PENDING_APPROVAL`. Paging as for `orders`."
        ),
        permission_classes=VIEW,
    )
    async def invoices(
        self,
        info: Info,
        status: InvoiceStatusArg = None,
        search: SearchArg = None,
        sort: Annotated[InvoiceSort, strawberry.argument(description=SORT)] = InvoiceSort.CREATED,
        direction: DirectionArg = SortDirection.DESC,
        first: FirstArg = None,
        after: AfterArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> InvoiceConnection | None:
        wanted = list_params(status, search, sort, direction, first, after, last, before)
        upstream = await info.context.billing.list_invoices(wanted)
        info.context.loaders.remember_invoices(upstream.invoices)
        return InvoiceConnection.from_page(
            page_of(
                upstream.invoices, upstream.cursors, upstream.next_cursor, upstream.prev_cursor
            ),
            wanted.search,
        )

    @strawberry.field(
        description="The invoice of an order, by the order's number.", permission_classes=VIEW
    )
    async def invoice(
        self,
        info: Info,
        order_number: Annotated[int, strawberry.argument(description="The order's number.")],
    ) -> Invoice | None:
        record = await info.context.loaders.invoice_by_order.load(order_number)
        return Invoice.from_record(record) if record is not None else None

    @strawberry.field(
        description="An invoice by its own number (the invoice screen's URL).",
        permission_classes=VIEW,
    )
    async def invoice_by_number(
        self,
        info: Info,
        number: Annotated[int, strawberry.argument(description="The invoice number.")],
    ) -> Invoice | None:
        record = await info.context.loaders.invoice.load(number)
        return Invoice.from_record(record) if record is not None else None

    @strawberry.field(
        description="How far billing's local copy is behind ordering.", permission_classes=VIEW
    )
    async def sync_status(self, info: Info) -> SyncStatus | None:
        return SyncStatus.from_record(await info.context.loaders.sync_status.load(None))


IdempotencyKey = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "One key per form submission (a UUID), sent again on a retry: the write happens "
            "once and the retry answers its result."
        )
    ),
]

NumberArg = Annotated[int, strawberry.argument(description="The order number.")]
OrderInputArg = Annotated[
    OrderInput,
    strawberry.argument(description="The order's customer, currency and lines."),
]


@strawberry.type(description="What can be changed: orders and invoice approvals.")
class Mutation(OperatorMutation):  # the operator's fields: bff.operator_schema.OPERATOR_FIELDS
    @strawberry.mutation(description="Create a draft order.", permission_classes=CLERK)
    async def create_order(
        self, info: Info, input: OrderInputArg, idempotency_key: IdempotencyKey = None
    ) -> Order:
        record = await info.context.ordering.create_order(input.to_wire(), idempotency_key)
        info.context.loaders.remember_order(record)
        return Order.from_record(record)

    @strawberry.mutation(
        description="Replace a draft's customer, currency and lines.", permission_classes=CLERK
    )
    async def update_order(
        self,
        info: Info,
        number: NumberArg,
        input: OrderInputArg,
        idempotency_key: IdempotencyKey = None,
    ) -> Order:
        record = await info.context.ordering.update_order(number, input.to_wire(), idempotency_key)
        info.context.loaders.remember_order(record)
        return Order.from_record(record)

    @strawberry.mutation(
        description="Confirm a draft; open `invoiceLink` to be taken to its invoice.",
        permission_classes=CLERK,
    )
    async def confirm_order(
        self, info: Info, number: NumberArg, idempotency_key: IdempotencyKey = None
    ) -> ConfirmOrderPayload:
        record = await info.context.ordering.confirm_order(number, idempotency_key)
        info.context.loaders.remember_order(record)
        info.context.loaders.forget_invoice_of(number)
        return ConfirmOrderPayload(
            order=Order.from_record(record),
            invoice_link=deep_link(info.context.settings, number),
        )

    @strawberry.mutation(
        description="Delete an order (a soft delete; it stays readable).", permission_classes=CLERK
    )
    async def delete_order(
        self, info: Info, number: NumberArg, idempotency_key: IdempotencyKey = None
    ) -> Order:
        record = await info.context.ordering.delete_order(number, idempotency_key)
        info.context.loaders.remember_order(record)
        info.context.loaders.forget_invoice_of(number)
        return Order.from_record(record)

    @strawberry.mutation(
        description="Approve an invoice (approving an approved one is a no-op).",
        permission_classes=APPROVE,
    )
    async def approve_invoice(
        self,
        info: Info,
        number: Annotated[int, strawberry.argument(description="The invoice number.")],
        idempotency_key: IdempotencyKey = None,
    ) -> Invoice:
        record = await info.context.billing.approve_invoice(number, idempotency_key)
        info.context.loaders.remember_invoices([record], force=True)
        return Invoice.from_record(record)


class BffSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are part of normal operation: no stack traces for them in the log.
        for error in errors:
            if is_unexpected(error):
                logger.error("unexpected error at %s", error.path, exc_info=error.original_error)
            elif isinstance(error.original_error, BffError):
                logger.info("%s at %s: %s", error.original_error.code, error.path, error.message)
            else:
                logger.info("request refused: %s", error.message)


class RequireOperationName(SchemaExtension):
    """GraphQL spec, GetOperation(): a document with several operations and no operationName
    is a request error. Strawberry would run the first operation instead."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # The name the client sent: the public `operation_name` falls back to the first
        # operation's. Private in strawberry 0.341; test_http pins the behaviour.
        if document is not None and context._provided_operation_name is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                # Set before validation runs: strawberry then answers with these errors alone.
                context.pre_execution_errors = [
                    GraphQLError(
                        "The document has several operations: name the one to run in operationName."
                    )
                ]
        yield


def build_schema(settings: BffSettings) -> strawberry.Schema:
    # Factories, not instances: strawberry makes fresh extensions per request, so concurrent
    # requests never share an extension's execution context.
    extensions: list[Callable[[], SchemaExtension]] = [
        # First: it serves documents that every extension below already accepted.
        partial(CachedDocuments, DocumentCache()),
        # The token limit bounds parsing; the document limits then cost one linear walk.
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        document_limits_extension(
            DocumentLimits(
                max_depth=settings.max_depth,
                max_aliases=settings.max_aliases,
                max_fields=settings.max_fields,
                max_cost=settings.max_cost,
                max_page_size=MAX_PAGE_SIZE,
            )
        ),
        MaskUnexpectedErrors,
        VariableErrorsInWords,
        RequireOperationName,
        # One worker thread for the whole schema: large documents queue for it, not the loop.
        partial(OffLoopParsing, CapacityLimiter(1)),
    ]
    if not settings.introspection:
        extensions += [DisableIntrospection, HideSuggestions]
    return BffSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        execution_context_class=PlannedExecutor if settings.planned_execution else AcyclicExecutor,
    )
