// Invoices list: search, status chips with counts (including those awaiting approval), sort,
// previous/next pages, links to each invoice and its order.

import { h } from '../dom.js';
import { badge, dataTable, emptyState, errorPanel, pageHeader, timeEl } from '../components.js';
import { formatDate, formatDateTime, formatMoney } from '../format.js';
import { errorAt, request } from '../graphql.js';
import { countsByStatus, listState, pageVariables, pager, searchAndSort, statusChips } from '../list-controls.js';
import { customerCell } from './orders.js';

const INVOICES_QUERY = `
query Invoices($status: InvoiceStatus, $search: String, $sort: InvoiceSort, $direction: SortDirection,
               $first: Int, $after: String, $last: Int, $before: String) {
  invoices(status: $status, search: $search, sort: $sort, direction: $direction,
           first: $first, after: $after, last: $last, before: $before) {
    edges {
      cursor
      node {
        number orderNumber amount currency status orderDeleted createdAt approvedAt
        customer { name email }
        order { status }
      }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    statusCounts { status count }
  }
}`;

const STATUSES = ['PENDING_APPROVAL', 'APPROVED', 'VOID'];
const FILTERS = [
  ['', 'All'],
  ['PENDING_APPROVAL', 'Awaiting approval'],
  ['APPROVED', 'Approved'],
  ['VOID', 'Void'],
];
const EMPTY_MESSAGES = {
  '': 'There are no invoices yet. Billing creates one for every confirmed order.',
  PENDING_APPROVAL: 'No invoice is waiting for approval.',
  APPROVED: 'There are no approved invoices.',
  VOID: 'There are no void invoices.',
};

function statusCell(invoice) {
  // Ordering knows of a delete before billing's next pull: never show such an invoice as
  // simply awaiting approval.
  const orderDeleted = invoice.orderDeleted || invoice.order?.status === 'DELETED';
  return [badge(invoice.status), orderDeleted && invoice.status !== 'VOID' ? [' ', badge('ORDER_DELETED')] : null];
}

export async function invoicesScreen(view) {
  const state = listState(view.query, STATUSES);
  view.title('Invoices');
  view.loading('Loading invoices…');
  const header = pageHeader('Invoices');
  const tools = searchAndSort(view, '/invoices', state, { label: 'Search invoices', hint: 'Invoice or order number, customer name or email' });

  let data;
  let errors;
  try {
    ({ data, errors } = await request(INVOICES_QUERY, pageVariables(state)));
  } catch (error) {
    view.show(header, tools, errorPanel(error, () => view.reload()));
    return;
  }
  if (data.invoices === null) {
    view.show(header, tools, errorPanel(errorAt(errors, 'invoices') ?? errors[0], () => view.reload()));
    return;
  }
  const counts = countsByStatus(data.invoices.statusCounts);
  const all = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const chips = statusChips('/invoices', state, FILTERS, counts, all);
  const invoices = data.invoices.edges.map((edge) => edge.node);
  const paging = pager('/invoices', state, data.invoices.pageInfo);
  if (invoices.length === 0) {
    const message = state.search
      ? `No invoice matches “${state.search}”${state.status ? ' with this status' : ''}.`
      : state.after || state.before ? 'There are no more invoices.' : EMPTY_MESSAGES[state.status];
    view.show(header, tools, chips, emptyState(message), paging);
    return;
  }
  const columns = [
    { label: 'Invoice', class: 'col-number', cell: (i) => h('a', { href: `/invoices/${i.number}` }, `Invoice ${i.number}`) },
    { label: 'Order', class: 'col-order', cell: (i) => h('a', { href: `/orders/${i.orderNumber}` }, `Order ${i.orderNumber}`) },
    { label: 'Customer', class: 'col-customer', cell: (i) => customerCell(i.customer) },
    { label: 'Amount', class: 'col-money', cell: (i) => formatMoney(i.amount, i.currency) },
    { label: 'Status', class: 'col-status', cell: statusCell },
    { label: 'Created', class: 'col-date', cell: (i) => timeEl(i.createdAt, formatDate(i.createdAt), formatDateTime(i.createdAt)) },
  ];
  const rows = invoices.map((invoice) => ({ item: invoice, dataset: { invoiceNumber: String(invoice.number), orderNumber: String(invoice.orderNumber) } }));
  view.show(header, tools, chips, dataTable(columns, rows, { caption: 'Invoices', className: 'invoices-table list-table' }), paging);
}
