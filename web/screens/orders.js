// Orders list: filter by status, forward pagination, invoice status at a glance. When billing
// is down the list still works and says that invoices are unavailable.

import { h } from '../dom.js';
import { badge, dataTable, emptyState, errorPanel, notice, pageHeader, pagination, statusFilter, timeEl } from '../components.js';
import { formatDateTime, formatMoney, plural } from '../format.js';
import { billingUnavailable, errorAt, request } from '../graphql.js';

const ORDERS_QUERY = `
query Orders($status: OrderStatus, $first: Int!, $after: String) {
  orders(status: $status, first: $first, after: $after) {
    edges {
      cursor
      node {
        number status currency total createdAt
        customer { name email }
        lines { sku }
        invoice { number status }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

const PAGE_SIZE = 20;
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

function statusFromQuery(query) {
  const value = (query.get('status') ?? '').toUpperCase();
  return FILTERS.some(([status]) => status === value) ? value : '';
}

function invoiceCell(order, invoicesDown) {
  if (order.invoice) {
    return h('a', { href: `/invoices/${order.invoice.number}`, class: 'invoice-link' },
      badge(order.invoice.status), h('span', { class: 'visually-hidden' }, ` invoice ${order.invoice.number}`));
  }
  if (invoicesDown && order.status !== 'DRAFT') return h('span', { class: 'muted' }, 'Unavailable');
  if (order.status === 'CONFIRMED') return h('span', { class: 'muted' }, 'Being created');
  return h('span', { class: 'muted' }, '—');
}

export async function ordersScreen(view) {
  const status = statusFromQuery(view.query);
  const after = view.query.get('after');
  view.title('Orders');
  view.loading('Loading orders…');

  const header = pageHeader('Orders', {
    actions: [h('a', { class: 'button button--primary', href: '/orders/new', dataset: { role: 'clerk' } }, 'New order')],
  });
  const filter = statusFilter('/orders', FILTERS, status);

  let data;
  let errors;
  try {
    ({ data, errors } = await request(ORDERS_QUERY, { status: status || null, first: PAGE_SIZE, after: after || null }));
  } catch (error) {
    view.show(header, filter, errorPanel(error, () => view.reload()));
    return;
  }

  if (data.orders === null) {
    // Only ordering's list failed (the field is nullable): show why, with a retry.
    view.show(header, filter, errorPanel(errorAt(errors, 'orders') ?? errors[0], () => view.reload()));
    return;
  }
  const invoicesDown = billingUnavailable(errors);
  const orders = data.orders.edges.map((edge) => edge.node);
  const banner = invoicesDown
    ? notice('warning', 'Invoices are unavailable right now, so invoice statuses are not shown. Orders can still be viewed, created and edited.')
    : null;

  if (orders.length === 0) {
    const action = status === '' || status === 'DRAFT'
      ? h('a', { class: 'button button--primary', href: '/orders/new', dataset: { role: 'clerk' } }, 'Create an order')
      : null;
    view.show(header, filter, banner, emptyState(after ? 'There are no more orders.' : EMPTY_MESSAGES[status], action),
      pagination('/orders', view.query, data.orders.pageInfo));
    return;
  }

  const columns = [
    { label: 'Order', class: 'col-number', cell: (o) => h('a', { href: `/orders/${o.number}` }, `Order ${o.number}`) },
    { label: 'Customer', cell: (o) => h('div', {}, h('div', {}, o.customer.name), h('div', { class: 'muted small' }, o.customer.email)) },
    { label: 'Lines', class: 'col-count', cell: (o) => plural(o.lines.length, 'line') },
    { label: 'Total', class: 'col-money', cell: (o) => formatMoney(o.total, o.currency) },
    { label: 'Status', cell: (o) => badge(o.status) },
    { label: 'Invoice', cell: (o) => invoiceCell(o, invoicesDown) },
    { label: 'Created', cell: (o) => timeEl(o.createdAt, formatDateTime(o.createdAt)) },
  ];
  const rows = orders.map((order) => ({ item: order, dataset: { orderNumber: String(order.number) } }));
  view.show(
    header,
    filter,
    banner,
    dataTable(columns, rows, { caption: 'Orders', className: 'orders-table' }),
    pagination('/orders', view.query, data.orders.pageInfo),
  );
}
