// Mesh Compose: the supergraph Hive Gateway serves, built from the services' live OpenAPI.
// The benchmark sets the URLs; see benchmarks/bff_peers.py.
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

const token = process.env.SERVICE_TOKEN ?? '';
const headers = { authorization: `Bearer ${token}` };

const INVOICE_FIELDS =
  'number order_number amount currency status order_deleted customer { name email } ' +
  'created_at approved_at voided_at';
const INVOICE_SELECTION =
  `{ ... on InvoiceBatch { invoices { ${INVOICE_FIELDS} } } ` +
  `... on InvoicePage { invoices { ${INVOICE_FIELDS} } } }`;

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('ordering', {
        source: `${process.env.ORDERING_URL}/openapi.json`,
        endpoint: process.env.ORDERING_URL,
        operationHeaders: headers,
        schemaHeaders: headers,
      }),
    },
    {
      sourceHandler: loadOpenAPISubgraph('billing', {
        source: `${process.env.BILLING_URL}/openapi.json`,
        endpoint: process.env.BILLING_URL,
        operationHeaders: headers,
        schemaHeaders: headers,
      }),
    },
  ],
  // Each order's invoice, one batch call per page: billing's `GET /invoices?order_number=…`.
  // Mesh types that route's `oneOf [page, batch]` answer as a union and takes the first member
  // that fits, so the source selection names both members. The batch leaves out orders without
  // an invoice, so answers are matched to orders by `order_number`, never by position.
  additionalTypeDefs: /* GraphQL */ `
    extend type OrderPublic {
      invoice: InvoicePublic
        @resolveTo(
          sourceName: "billing"
          sourceTypeName: "Query"
          sourceFieldName: "get_invoices"
          keyField: "number"
          keysArg: "order_number"
          requiredSelectionSet: "{ number }"
          sourceSelectionSet: "${INVOICE_SELECTION}"
          result: "invoices"
          valueKeyField: "order_number"
        )
    }
  `,
});
