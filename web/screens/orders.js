// Orders list: search, status chips with counts, sort, previous/next pages, invoice status at
// a glance. When billing is down the list still works and says that invoices are unavailable.

import { h } from '../dom.js';
import { badge, dataTable, emptyState, errorPanel, notice, pageHeader, timeEl } from '../components.js';
import { formatDate, formatDateTime, formatMoney, plural } from '../format.js';
import { billingUnavailable, errorAt, request } from '../graphql.js';
import { countsByStatus, listState, pageVariables, pager, searchAndSort, statusChips } from '../list-controls.js';

const ORDERS_QUERY = `
query Orders($status: OrderStatus, $search: String, $sort: OrderSort, $direction: SortDirection,
             $first: Int, $after: String, $last: Int, $before: String) {
  orders(status: $status, search: $search, sort: $sort, direction: $direction,
         first: $first, after: $after, last: $last, before: $before) {
    edges {
      cursor
      node {
        number status currency total createdAt
        customer { name email }
        lines { sku }
        invoice { number status }
      }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    statusCounts { status count }
  }
}`;

const STATUSES = ['DRAFT', 'CONFIRMED', 'DELETED'];
const FILTERS = [
  ['', 'All active'],
  ['DRAFT', 'Drafts'],
  ['CONFIRMED', 'Confirmed'],
  ['DELETED', 'Deleted'],
];

const EMPTY_MESSAGES = {
  '': 'There are no orders yet.',
  DRAFT: 'There are no draft orders.',
  CONFIRMED: 'There are no confirmed orders.',
  DELETED: 'There are no deleted orders.',
};

function invoiceCell(order, invoicesDown) {
  if (order.invoice) {
    // Billing voids a deleted order's pending invoice on its next pull; until then, say so
    // rather than show it awaiting approval.
    const voiding = order.status === 'DELETED' && order.invoice.status === 'PENDING_APPROVAL';
    return h('a', { href: `/invoices/${order.invoice.number}`, class: 'invoice-link' },
      voiding ? h('span', { class: 'muted' }, 'Being voided') : badge(order.invoice.status),
      h('span', { class: 'visually-hidden' }, ` invoice ${order.invoice.number}`));
  }
  if (invoicesDown && order.status !== 'DRAFT') return h('span', { class: 'muted' }, 'Unavailable');
  if (order.status === 'CONFIRMED') return h('span', { class: 'muted' }, 'Being created');
  return h('span', { class: 'muted' }, '—');
}

export function customerCell(customer) {
  return h('div', { class: 'customer' },
    h('div', { class: 'customer__name clamp-2', title: customer.name }, customer.name),
    h('div', { class: 'customer__email muted small clamp-1', title: customer.email }, customer.email));
}

export async function ordersScreen(view) {
  const state = listState(view.query, STATUSES);
  view.title('Orders');
  view.loading('Loading orders…');

  const header = pageHeader('Orders', {
    actions: [h('a', { class: 'button button--primary', href: '/orders/new', dataset: { role: 'clerk' } }, 'New order')],
  });
  const tools = searchAndSort(view, '/orders', state, { label: 'Search orders', hint: 'Order number, customer name or email' });

  let data;
  let errors;
  try {
    ({ data, errors } = await request(ORDERS_QUERY, pageVariables(state)));
  } catch (error) {
    view.show(header, tools, errorPanel(error, () => view.reload()));
    return;
  }

  if (data.orders === null) {
    // Only ordering's list failed (the field is nullable): show why, with a retry.
    view.show(header, tools, errorPanel(errorAt(errors, 'orders') ?? errors[0], () => view.reload()));
    return;
  }
  const counts = countsByStatus(data.orders.statusCounts);
  const chips = statusChips('/orders', state, FILTERS, counts, (counts.DRAFT ?? 0) + (counts.CONFIRMED ?? 0));
  const invoicesDown = billingUnavailable(errors);
  const orders = data.orders.edges.map((edge) => edge.node);
  const banner = invoicesDown
    ? notice('warning', 'Invoices are unavailable right now, so invoice statuses are not shown. Orders can still be viewed, created and edited.')
    : null;
  const paging = pager('/orders', state, data.orders.pageInfo);

  if (orders.length === 0) {
    const paged = state.after || state.before;
    const message = state.search
      ? `No order matches “${state.search}”${state.status ? ' with this status' : ''}.`
      : paged ? 'There are no more orders.' : EMPTY_MESSAGES[state.status];
    const action = !state.search && (state.status === '' || state.status === 'DRAFT')
      ? h('a', { class: 'button button--primary', href: '/orders/new', dataset: { role: 'clerk' } }, 'Create an order')
      : null;
    view.show(header, tools, chips, banner, emptyState(message, action), paging);
    return;
  }

  const columns = [
    { label: 'Order', class: 'col-number', cell: (o) => h('a', { href: `/orders/${o.number}` }, `Order ${o.number}`) },
    { label: 'Customer', class: 'col-customer', cell: (o) => customerCell(o.customer) },
    { label: 'Lines', class: 'col-count', cell: (o) => plural(o.lines.length, 'line') },
    { label: 'Total', class: 'col-money', cell: (o) => formatMoney(o.total, o.currency) },
    { label: 'Status', class: 'col-status', cell: (o) => badge(o.status) },
    { label: 'Invoice', class: 'col-invoice', cell: (o) => invoiceCell(o, invoicesDown) },
    { label: 'Created', class: 'col-date', cell: (o) => timeEl(o.createdAt, formatDate(o.createdAt), formatDateTime(o.createdAt)) },
  ];
  const rows = orders.map((order) => ({
    item: order,
    dataset: { orderNumber: String(order.number), orderStatus: order.status, hasInvoice: order.invoice ? 'yes' : null },
  }));
  view.show(
    header,
    tools,
    chips,
    banner,
    dataTable(columns, rows, { caption: 'Orders', className: 'orders-table list-table' }),
    paging,
  );
}
