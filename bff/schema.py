"""The GraphQL schema: queries and mutations over ordering and billing, with its protections."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
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
from bff.offload import OffLoopParsing
from bff.pagination import page_request, slice_page
from bff.permissions import APPROVE, CLERK, VIEW
from bff.selection import selects
from bff.settings import MAX_PAGE_SIZE, BffSettings
from bff.suggestions import HideSuggestions
from bff.types import (
    ConfirmOrderPayload,
    Invoice,
    InvoiceConnection,
    InvoiceStatus,
    Order,
    OrderConnection,
    OrderInput,
    OrderStatus,
    SyncStatus,
)

logger = logging.getLogger("bff.graphql")


def deep_link(settings: BffSettings, order_number: int) -> str:
    # The BFF's own deep link (bff/deeplink.py): it needs a session, billing's does not.
    return f"{settings.public_url}{link_path(order_number)}"


async def prefetch_invoices(info: Info, orders: list[Order]) -> None:
    """The invoices of a page of orders in one batch, handed to each order up front."""
    loader = info.context.loaders.invoice_by_order
    try:
        records = await loader.load_many([order.number for order in orders])
    except Exception:
        # Billing failed: leave each order's invoice to its own field, which then reports the
        # (batched, already settled) failure on its own path next to the orders it did get.
        return
    for order, record in zip(orders, records, strict=True):
        order.prefetched_invoice = record


@strawberry.type
class Query:
    # The root fields fed by one upstream are nullable: when that upstream fails, the field is
    # null with an UPSTREAM_UNAVAILABLE error at its path and the rest of `data` is kept.
    @strawberry.field(
        description="Orders, newest first; without `status` all but deleted ones.",
        permission_classes=VIEW,
    )
    async def orders(
        self,
        info: Info,
        status: OrderStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> OrderConnection | None:
        request = page_request(first, after)
        upstream = await info.context.ordering.list_orders(
            status.value if status else None, request.limit, request.upstream_after
        )
        info.context.loaders.order.prime_many({order.number: order for order in upstream.orders})
        connection = OrderConnection.from_page(
            slice_page(request, upstream.orders, upstream.next_cursor)
        )
        if selects(info.selected_fields, ("orders", "edges", "node", "invoice")):
            await prefetch_invoices(info, [edge.node for edge in connection.edges])
        return connection

    @strawberry.field(permission_classes=VIEW)
    async def order(self, info: Info, number: int) -> Order | None:
        record = await info.context.loaders.order.load(number)
        return Order.from_record(record) if record is not None else None

    @strawberry.field(description="Invoices, newest first.", permission_classes=VIEW)
    async def invoices(
        self,
        info: Info,
        status: InvoiceStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> InvoiceConnection | None:
        request = page_request(first, after)
        upstream = await info.context.billing.list_invoices(
            status.value if status else None, request.limit, request.upstream_after
        )
        info.context.loaders.remember_invoices(upstream.invoices)
        return InvoiceConnection.from_page(
            slice_page(request, upstream.invoices, upstream.next_cursor)
        )

    @strawberry.field(
        description="The invoice of an order, by the order's number.", permission_classes=VIEW
    )
    async def invoice(self, info: Info, order_number: int) -> Invoice | None:
        record = await info.context.loaders.invoice_by_order.load(order_number)
        return Invoice.from_record(record) if record is not None else None

    @strawberry.field(
        description="An invoice by its own number (the invoice screen's URL).",
        permission_classes=VIEW,
    )
    async def invoice_by_number(self, info: Info, number: int) -> Invoice | None:
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


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a draft order.", permission_classes=CLERK)
    async def create_order(
        self, info: Info, input: OrderInput, idempotency_key: IdempotencyKey = None
    ) -> Order:
        record = await info.context.ordering.create_order(input.to_wire(), idempotency_key)
        info.context.loaders.remember_order(record)
        return Order.from_record(record)

    @strawberry.mutation(
        description="Replace a draft's customer, currency and lines.", permission_classes=CLERK
    )
    async def update_order(
        self, info: Info, number: int, input: OrderInput, idempotency_key: IdempotencyKey = None
    ) -> Order:
        record = await info.context.ordering.update_order(number, input.to_wire(), idempotency_key)
        info.context.loaders.remember_order(record)
        return Order.from_record(record)

    @strawberry.mutation(
        description="Confirm a draft; open `invoiceLink` to be taken to its invoice.",
        permission_classes=CLERK,
    )
    async def confirm_order(
        self, info: Info, number: int, idempotency_key: IdempotencyKey = None
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
        self, info: Info, number: int, idempotency_key: IdempotencyKey = None
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
        self, info: Info, number: int, idempotency_key: IdempotencyKey = None
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
        RequireOperationName,
        # One worker thread for the whole schema: large documents queue for it, not the loop.
        partial(OffLoopParsing, CapacityLimiter(1)),
    ]
    if not settings.introspection:
        extensions += [DisableIntrospection, HideSuggestions]
    return BffSchema(query=Query, mutation=Mutation, extensions=extensions)
