// Order detail: customer, lines, total, its invoice, and the actions its status allows.
// Confirm hands the order to billing and follows the returned deep link, which lands on the
// invoice screen once billing has the invoice.

import { h } from '../dom.js';
import { badge, byWhom, dataTable, errorPanel, facts, historyCard, notice, pageHeader, timeEl } from '../components.js';
import { formatDateTime, formatMoney } from '../format.js';
import { setFlash } from '../flash.js';
import { billingUnavailable, errorAt, request, requireOnce, submissionKeys } from '../graphql.js';

const ORDER_QUERY = `
query Order($number: Int!) {
  order(number: $number) {
    number status currency total rowVersion
    createdAt updatedAt confirmedAt deletedAt
    createdBy confirmedBy deletedBy
    history { action actor at rowVersion }
    customer { name email }
    lines { sku description quantity unitPrice amount }
    invoice { number status amount currency orderDeleted }
  }
}`;

const CONFIRM_MUTATION = `
mutation ConfirmOrder($number: Int!, $idempotencyKey: String) {
  confirmOrder(number: $number, idempotencyKey: $idempotencyKey) { invoiceLink order { number status invoice { number } } }
}`;

const DELETE_MUTATION = `
mutation DeleteOrder($number: Int!, $idempotencyKey: String) { deleteOrder(number: $number, idempotencyKey: $idempotencyKey) { number status } }`;

function linesTable(order) {
  if (order.lines.length === 0) {
    return h('p', { class: 'empty' }, 'This order has no lines yet. Edit it to add at least one line before confirming.');
  }
  const money = (value) => formatMoney(value, order.currency);
  const columns = [
    { label: 'SKU', cell: (line) => h('code', {}, line.sku) },
    { label: 'Description', cell: (line) => line.description || h('span', { class: 'muted' }, '—') },
    { label: 'Quantity', class: 'col-count', cell: (line) => String(line.quantity) },
    { label: 'Unit price', class: 'col-money', cell: (line) => money(line.unitPrice) },
    { label: 'Amount', class: 'col-money', cell: (line) => money(line.amount) },
  ];
  const table = dataTable(columns, order.lines.map((line) => ({ item: line })), { caption: 'Order lines', className: 'lines-table' });
  const foot = h('tfoot', {}, h('tr', {},
    h('th', { scope: 'row', colspan: '4', class: 'col-money' }, 'Total'),
    h('td', { class: 'col-money total-cell', 'data-label': 'Total' }, money(order.total))));
  table.querySelector('table').append(foot);
  return table;
}

function invoiceSection(order, invoicesDown) {
  let body;
  if (order.invoice) {
    const invoice = order.invoice;
    const voiding = order.status === 'DELETED' && invoice.status === 'PENDING_APPROVAL';
    body = h('p', { class: 'invoice-summary' },
      h('a', { href: `/invoices/${invoice.number}` }, `Invoice ${invoice.number}`), ' ',
      voiding ? h('span', { class: 'muted' }, 'Being voided (its order was deleted)') : badge(invoice.status), ' ',
      h('span', { class: 'muted' }, formatMoney(invoice.amount, invoice.currency)));
  } else if (invoicesDown) {
    body = notice('warning', 'Invoices are unavailable right now. The order is shown without its invoice.');
  } else if (order.status === 'DRAFT') {
    body = h('p', { class: 'muted' }, 'An invoice is created when the order is confirmed.');
  } else if (order.status === 'CONFIRMED') {
    body = h('p', { class: 'muted' }, 'Billing has not created the invoice yet; it appears here within a few seconds.');
  } else {
    body = h('p', { class: 'muted' }, 'This order has no invoice.');
  }
  return h('section', { class: 'card', 'aria-labelledby': 'invoice-heading' }, h('h2', { id: 'invoice-heading' }, 'Invoice'), body);
}

const CHANGED_TO = { DRAFT: 'changed', CONFIRMED: 'confirmed', DELETED: 'deleted' };

/** Why confirming or deleting was refused, from the order as it is now. */
async function refusal(number, verb, error) {
  let now = null;
  try {
    now = (await request(ORDER_QUERY, { number })).data.order;
  } catch {
    // Explain with what the server said.
  }
  if (!now) return `Order ${number} was not ${verb}: ${error.message}`;
  const change = CHANGED_TO[now.status] ?? now.status.toLowerCase();
  return `Order ${number} was not ${verb}: it had been ${change} meanwhile. This is the order as it is now.`;
}

export async function orderScreen(view) {
  const number = Number(view.params[0]);
  view.title(`Order ${number}`);
  view.loading(`Loading order ${number}…`);

  const { data, errors } = await request(ORDER_QUERY, { number });
  // An error under order.invoice is partial data (billing down); only a failed order is fatal.
  const failure = data.order ? null : errorAt(errors, 'order');
  if (failure) {
    view.show(pageHeader(`Order ${number}`), errorPanel(failure, () => view.reload()));
    return;
  }
  const order = data.order;
  if (!order) {
    view.title('Order not found');
    view.show(pageHeader('Order not found'), notice('info', `There is no order ${number}. `, h('a', { href: '/orders' }, 'Back to the orders')));
    return;
  }

  const actionError = h('div', { class: 'action-error' });
  const actions = [];
  // One idempotency key per button while this screen is shown: a retry after an error or a
  // timeout is the same submission, written once (see submissionKeys).
  const confirmKeys = submissionKeys();
  const deleteKeys = submissionKeys();
  let deleteBox = null;

  function showActionError(error) {
    actionError.replaceChildren(notice('error', error.message));
  }

  if (order.status === 'DRAFT') {
    actions.push(h('a', { class: 'button', href: `/orders/${number}/edit`, dataset: { role: 'clerk' } }, 'Edit'));
    const confirmButton = h('button', {
      type: 'button',
      class: 'button button--primary',
      dataset: { role: 'clerk' },
      disabled: order.lines.length === 0,
      title: order.lines.length === 0 ? 'Add at least one line before confirming' : null,
      onclick: async () => {
        confirmButton.disabled = true;
        confirmButton.textContent = 'Confirming…';
        actionError.replaceChildren();
        try {
          // order.invoice asks billing too: if billing is down, the deep link would only reach
          // a browser error page, so stay here and say so instead.
          const { data, errors } = await request(CONFIRM_MUTATION, { number, idempotencyKey: confirmKeys({ number }) });
          if (billingUnavailable(errors)) {
            setFlash(`Order ${number} was confirmed. Invoices are unavailable right now, so its invoice can't be shown yet; billing creates it as soon as it is back.`, 'warning');
            view.reload();
            return;
          }
          setFlash(`Order ${number} was confirmed. Here is its invoice, ready for approval.`);
          // The deep link goes to billing, which makes sure the invoice exists, then redirects
          // back to this app's invoice screen.
          window.location.assign(data.confirmOrder.invoiceLink);
        } catch (error) {
          if (error.code === 'CONFLICT') {
            setFlash(await refusal(number, 'confirmed', error), 'warning');
            view.reload();
            return;
          }
          confirmButton.disabled = false;
          confirmButton.textContent = 'Confirm';
          showActionError(error);
        }
      },
    }, 'Confirm');
    actions.push(confirmButton);
  }

  if (order.status !== 'DELETED') {
    const deleteButton = h('button', { type: 'button', class: 'button button--danger', dataset: { role: 'clerk' } }, 'Delete');
    const consequence = order.status === 'CONFIRMED'
      ? 'Its invoice is voided if it has not been approved yet.'
      : 'The draft is kept as deleted and cannot be edited any more.';
    const confirmBox = h('div', { class: 'confirm-box', role: 'group', 'aria-labelledby': 'delete-question', hidden: true },
      h('p', { id: 'delete-question' }, h('strong', {}, `Delete order ${number}?`), ` ${consequence} This cannot be undone.`),
      h('div', { class: 'confirm-box__actions' },
        h('button', {
          type: 'button',
          class: 'button button--danger',
          onclick: async (event) => {
            const yes = event.currentTarget;
            yes.disabled = true;
            yes.textContent = 'Deleting…';
            try {
              await requireOnce(deleteKeys, DELETE_MUTATION, { number });
              setFlash(`Order ${number} was deleted.`);
              view.reload();
            } catch (error) {
              if (error.code === 'CONFLICT') {
                setFlash(await refusal(number, 'deleted', error), 'warning');
                view.reload();
                return;
              }
              yes.disabled = false;
              yes.textContent = 'Yes, delete';
              showActionError(error);
            }
          },
        }, 'Yes, delete'),
        h('button', { type: 'button', class: 'button', onclick: () => { confirmBox.hidden = true; deleteButton.focus(); } }, 'Cancel')));
    deleteButton.addEventListener('click', () => {
      confirmBox.hidden = false;
      confirmBox.querySelector('button').focus();
    });
    actions.push(deleteButton);
    deleteBox = confirmBox;
  }

  const when = (iso) => (iso ? timeEl(iso, formatDateTime(iso)) : null);
  view.title(`Order ${number}`);
  view.show(
    h('p', { class: 'breadcrumb' }, h('a', { href: '/orders' }, '← Orders')),
    pageHeader(`Order ${number}`, {
      badges: [badge(order.status)],
      subtitle: h('span', { class: 'clamp-2' }, `${order.customer.name} · ${formatMoney(order.total, order.currency)}`),
      actions,
    }),
    deleteBox,
    actionError,
    order.status === 'DRAFT' && order.lines.length === 0
      ? notice('info', 'Add at least one line before confirming this order.')
      : null,
    h('section', { class: 'card', 'aria-labelledby': 'details-heading' },
      h('h2', { id: 'details-heading' }, 'Details'),
      facts([
        ['Customer', h('span', { class: 'long-text' }, order.customer.name)],
        ['Email', h('a', { href: `mailto:${order.customer.email}` }, order.customer.email)],
        ['Currency', order.currency],
        ['Created', byWhom(when(order.createdAt), order.createdBy)],
        ['Last changed', when(order.updatedAt)],
        ['Confirmed', byWhom(when(order.confirmedAt), order.confirmedBy)],
        ['Deleted', byWhom(when(order.deletedAt), order.deletedBy)],
      ])),
    h('section', { class: 'card', 'aria-labelledby': 'lines-heading' }, h('h2', { id: 'lines-heading' }, 'Lines'), linesTable(order)),
    invoiceSection(order, billingUnavailable(errors)),
    historyCard('order-history-heading', order.history, { label: 'Version', field: 'rowVersion' }, when),
  );
}
