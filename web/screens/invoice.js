// The invoice screen, where the deep link lands after Confirm: the invoice with Approve.
// Billing keeps working when ordering is down, so the invoice shows even if its order can't.

import { h } from '../dom.js';
import { badge, byWhom, dataTable, errorPanel, facts, historyCard, notice, pageHeader, timeEl } from '../components.js';
import { formatDateTime, formatMoney } from '../format.js';
import { setFlash } from '../flash.js';
import { errorAt, orderingUnavailable, request, requireOnce, submissionKeys } from '../graphql.js';

const INVOICE_QUERY = `
query Invoice($number: Int!) {
  invoiceByNumber(number: $number) {
    number orderNumber amount currency status orderDeleted
    createdAt approvedAt voidedAt approvedBy
    history { action actor at orderVersion }
    customer { name email }
    order { number status lines { sku description quantity unitPrice amount } }
  }
}`;

const APPROVE_MUTATION = `
mutation ApproveInvoice($number: Int!, $idempotencyKey: String) { approveInvoice(number: $number, idempotencyKey: $idempotencyKey) { number status approvedAt } }`;

function orderLines(invoice) {
  const lines = invoice.order?.lines ?? [];
  if (lines.length === 0) return null;
  const money = (value) => formatMoney(value, invoice.currency);
  return dataTable(
    [
      { label: 'SKU', cell: (line) => h('code', {}, line.sku) },
      { label: 'Description', cell: (line) => line.description || h('span', { class: 'muted' }, '—') },
      { label: 'Quantity', class: 'col-count', cell: (line) => String(line.quantity) },
      { label: 'Unit price', class: 'col-money', cell: (line) => money(line.unitPrice) },
      { label: 'Amount', class: 'col-money', cell: (line) => money(line.amount) },
    ],
    lines.map((line) => ({ item: line })),
    { caption: 'Invoiced lines', className: 'lines-table' },
  );
}

/** Whether the invoice's order is deleted, by billing's flag or by ordering itself (billing
 * learns of a delete on its next pull; ordering knows at once). */
export function orderGone(invoice) {
  return Boolean(invoice.orderDeleted || invoice.order?.status === 'DELETED');
}

function statusNotice(invoice) {
  if (invoice.status === 'PENDING_APPROVAL' && orderGone(invoice)) {
    return notice('warning', `Order ${invoice.orderNumber} was deleted, so this invoice can't be approved. Billing voids it within moments; nothing needs doing.`);
  }
  if (invoice.status === 'VOID') {
    return notice('warning', 'This invoice is void because its order was deleted before the invoice was approved.');
  }
  if (invoice.status === 'APPROVED' && invoice.orderDeleted) {
    return notice('warning', 'Its order was deleted after this invoice was approved. The invoice stays approved; check whether a credit note is needed.');
  }
  if (invoice.status === 'PENDING_APPROVAL') {
    return notice('info', 'This invoice is waiting for approval. Check the amount and the customer, then approve it.');
  }
  return null;
}

/** Why an approval was refused, in words, from the invoice as it is now. */
async function approvalRefusal(number, error) {
  let now = null;
  try {
    now = (await request(INVOICE_QUERY, { number })).data.invoiceByNumber;
  } catch {
    // Explain with what the server said.
  }
  if (!now) return `Invoice ${number} was not approved: ${error.message}`;
  if (now.status === 'APPROVED') return `Invoice ${number} had already been approved, so nothing more was needed.`;
  if (now.status === 'VOID') return `Invoice ${number} was not approved: its order ${now.orderNumber} was deleted, so the invoice is now void.`;
  if (orderGone(now)) return `Invoice ${number} was not approved: its order ${now.orderNumber} was deleted. Billing voids the invoice within moments.`;
  return `Invoice ${number} was not approved: ${error.message}`;
}

export async function invoiceScreen(view) {
  const number = Number(view.params[0]);
  view.title(`Invoice ${number}`);
  view.loading(`Loading invoice ${number}…`);

  const { data, errors } = await request(INVOICE_QUERY, { number });
  const invoice = data.invoiceByNumber;
  const failure = invoice ? null : errorAt(errors, 'invoiceByNumber');
  if (failure) {
    view.show(h('p', { class: 'breadcrumb' }, h('a', { href: '/invoices' }, '← Invoices')),
      pageHeader(`Invoice ${number}`), errorPanel(failure, () => view.reload()));
    return;
  }
  if (!invoice) {
    view.title('Invoice not found');
    view.show(pageHeader('Invoice not found'), notice('info', `There is no invoice ${number}. `, h('a', { href: '/invoices' }, 'Back to the invoices')));
    return;
  }

  const actionError = h('div', { class: 'action-error' });
  const actions = [];
  if (invoice.status === 'PENDING_APPROVAL' && !orderGone(invoice)) {
    const approveKeys = submissionKeys(); // a retried approval is the same submission
    const approve = h('button', {
      type: 'button',
      class: 'button button--primary',
      dataset: { role: 'approver' },
      onclick: async () => {
        approve.disabled = true;
        approve.textContent = 'Approving…';
        actionError.replaceChildren();
        try {
          await requireOnce(approveKeys, APPROVE_MUTATION, { number });
          setFlash(`Invoice ${number} was approved.`);
          view.reload();
        } catch (error) {
          if (error.code === 'CONFLICT' || error.code === 'NOT_FOUND') {
            // The invoice changed under us: show it as it is now, and say what happened.
            setFlash(await approvalRefusal(number, error), 'warning');
            view.reload();
            return;
          }
          approve.disabled = false;
          approve.textContent = 'Approve';
          actionError.replaceChildren(notice('error', error.message));
        }
      },
    }, 'Approve');
    actions.push(approve);
  }

  const when = (iso) => (iso ? timeEl(iso, formatDateTime(iso)) : null);
  const orderDown = orderingUnavailable(errors);
  view.show(
    h('p', { class: 'breadcrumb' }, h('a', { href: '/invoices' }, '← Invoices')),
    pageHeader(`Invoice ${invoice.number}`, {
      badges: [badge(invoice.status), invoice.status === 'PENDING_APPROVAL' && orderGone(invoice) ? badge('ORDER_DELETED') : null].filter(Boolean),
      subtitle: h('span', { class: 'clamp-2' }, `For order ${invoice.orderNumber} · ${invoice.customer.name}`),
      actions,
    }),
    actionError,
    statusNotice(invoice),
    h('section', { class: 'card invoice-card', 'aria-labelledby': 'amount-heading' },
      h('h2', { id: 'amount-heading', class: 'visually-hidden' }, 'Amount'),
      h('p', { class: 'invoice-amount' }, h('span', { class: 'invoice-amount__label' }, invoice.status === 'VOID' ? 'Amount (void, not due)' : 'Amount due'),
        h('span', { class: 'invoice-amount__value' }, formatMoney(invoice.amount, invoice.currency))),
      facts([
        ['Order', h('a', { href: `/orders/${invoice.orderNumber}` }, `Order ${invoice.orderNumber}`)],
        ['Customer', h('span', { class: 'long-text' }, invoice.customer.name)],
        ['Email', invoice.customer.email],
        ['Currency', invoice.currency],
        ['Created', when(invoice.createdAt)],
        ['Approved', byWhom(when(invoice.approvedAt), invoice.approvedBy)],
        ['Voided', when(invoice.voidedAt)],
      ])),
    h('section', { class: 'card', 'aria-labelledby': 'invoice-lines-heading' },
      h('h2', { id: 'invoice-lines-heading' }, 'Lines'),
      orderDown
        ? notice('warning', 'Orders are unavailable right now, so the order lines cannot be shown. The invoice itself is complete and can be approved.')
        : orderLines(invoice) ?? h('p', { class: 'muted' }, 'No lines to show.')),
    historyCard('invoice-history-heading', invoice.history, { label: 'Order version', field: 'orderVersion' }, when),
  );
}
