// Invoices list: filter by status, forward pagination, links to each invoice and its order.

import { h } from '../dom.js';
import { badge, dataTable, emptyState, errorPanel, pageHeader, pagination, statusFilter, timeEl } from '../components.js';
import { formatDateTime, formatMoney } from '../format.js';
import { errorAt, request } from '../graphql.js';

const INVOICES_QUERY = `
query Invoices($status: InvoiceStatus, $first: Int!, $after: String) {
  invoices(status: $status, first: $first, after: $after) {
    edges {
      cursor
      node {
        number orderNumber amount currency status orderDeleted createdAt approvedAt
        customer { name email }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

const PAGE_SIZE = 20;
const FILTERS = [
  ['', 'All'],
  ['PENDING_APPROVAL', 'Pending approval'],
  ['APPROVED', 'Approved'],
  ['VOID', 'Void'],
];
const EMPTY_MESSAGES = {
  '': 'There are no invoices yet. Billing creates one for every confirmed order.',
  PENDING_APPROVAL: 'No invoice is waiting for approval.',
  APPROVED: 'There are no approved invoices.',
  VOID: 'There are no void invoices.',
};

function statusFromQuery(query) {
  const value = (query.get('status') ?? '').toUpperCase();
  return FILTERS.some(([status]) => status === value) ? value : '';
}

export async function invoicesScreen(view) {
  const status = statusFromQuery(view.query);
  const after = view.query.get('after');
  view.title('Invoices');
  view.loading('Loading invoices…');
  const header = pageHeader('Invoices');
  const filter = statusFilter('/invoices', FILTERS, status);

  let data;
  let errors;
  try {
    ({ data, errors } = await request(INVOICES_QUERY, { status: status || null, first: PAGE_SIZE, after: after || null }));
  } catch (error) {
    view.show(header, filter, errorPanel(error, () => view.reload()));
    return;
  }
  if (data.invoices === null) {
    view.show(header, filter, errorPanel(errorAt(errors, 'invoices') ?? errors[0], () => view.reload()));
    return;
  }
  const invoices = data.invoices.edges.map((edge) => edge.node);
  if (invoices.length === 0) {
    view.show(header, filter, emptyState(after ? 'There are no more invoices.' : EMPTY_MESSAGES[status]),
      pagination('/invoices', view.query, data.invoices.pageInfo));
    return;
  }
  const columns = [
    { label: 'Invoice', class: 'col-number', cell: (i) => h('a', { href: `/invoices/${i.number}` }, `Invoice ${i.number}`) },
    { label: 'Order', cell: (i) => h('a', { href: `/orders/${i.orderNumber}` }, `Order ${i.orderNumber}`) },
    { label: 'Customer', cell: (i) => i.customer.name },
    { label: 'Amount', class: 'col-money', cell: (i) => formatMoney(i.amount, i.currency) },
    {
      label: 'Status',
      cell: (i) => h('span', {}, badge(i.status),
        i.orderDeleted && i.status === 'APPROVED' ? h('span', { class: 'flag', title: 'The order was deleted after approval' }, ' Order deleted') : null),
    },
    { label: 'Created', cell: (i) => timeEl(i.createdAt, formatDateTime(i.createdAt)) },
  ];
  const rows = invoices.map((invoice) => ({ item: invoice, dataset: { invoiceNumber: String(invoice.number), orderNumber: String(invoice.orderNumber) } }));
  view.show(header, filter, dataTable(columns, rows, { caption: 'Invoices', className: 'invoices-table' }),
    pagination('/invoices', view.query, data.invoices.pageInfo));
}
