// The operator's tools on the integration screen (issue 11): pull now, records set aside as
// dead letters (retry after the cause is fixed, or dismiss with a reason), a repairing re-sync
// from a feed position, and reconciliation with ordering. Shown to the operator role only; the
// BFF checks the role on every one of these fields too.
//
// The integration screen rebuilds its sections every few seconds; this section is built once per
// screen (kept by the screen's `refresh` function) so a reason being typed is never lost, and
// only its dead-letter list follows the status.

import { h } from './dom.js';
import { dataTable, notice, timeEl } from './components.js';
import { formatDateTime, plural } from './format.js';
import { requireAll } from './graphql.js';
import { can } from './session.js';

const DEAD_LETTERS = `
query DeadLetters { deadLetters(status: OPEN, first: 20) { items { id orderNumber kind error attempts firstFailedAt } } }`;
const PULL_NOW = `mutation PullNow { pullNow { pages new changed removed stale deadLettered } }`;
const RETRY = `
mutation RetryDeadLetter($id: Int!) { retryDeadLetter(id: $id) { outcome invoiceNumber } }`;
const DISMISS = `
mutation DismissDeadLetter($id: Int!, $reason: String!) { dismissDeadLetter(id: $id, reason: $reason) { id status } }`;
const RESYNC = `
mutation Resync($position: Int!) {
  resync(position: $position) { repair { ordersSeen overwritten invoicesCreated invoicesAdjusted attention } }
}`;
const RECONCILE = `
query Reconcile {
  reconciliationReport {
    inSync orderingOrders billingOrders
    missing { number } extra { number } different { number }
    confirmedWithoutInvoice approvedInvoicesOfDeletedOrders { invoiceNumber orderNumber }
  }
}`;

const tools = new WeakMap();

/** A section builder for operations.js's OPERATOR_SECTIONS. */
export function operatorTools(data, refresh) {
  if (!can('operator')) return null;
  let section = tools.get(refresh);
  if (!section) {
    section = buildTools(refresh);
    tools.set(refresh, section);
  }
  section.update(data.syncStatus);
  return section.node;
}

function buildTools(refresh) {
  const result = h('div', { role: 'status', class: 'operator-result' });
  const say = (kind, text) => result.replaceChildren(notice(kind, text));

  async function run(button, work) {
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      say('error', error.message);
    } finally {
      button.disabled = false;
    }
  }

  const pullButton = h('button', { type: 'button', class: 'button' }, 'Pull now');
  pullButton.addEventListener('click', () => run(pullButton, async () => {
    const { pullNow: r } = await requireAll(PULL_NOW);
    say('success', `Pulled ${plural(r.pages, 'page')}: ${r.new} new, ${r.changed} changed, ${r.removed} removed` +
      (r.deadLettered ? `, ${r.deadLettered} set aside as dead letters.` : '.'));
    refresh();
  }));

  const position = h('input', { id: 'resync-position', type: 'number', min: '0', step: '1', value: '0', inputmode: 'numeric', class: 'operator-input operator-input--short' });
  const resyncButton = h('button', { type: 'submit', class: 'button' }, 'Re-sync');
  const resyncForm = h('form', { class: 'operator-form' },
    h('label', { for: 'resync-position' }, 'Re-sync from feed position (0: everything)'), position, resyncButton);
  resyncForm.addEventListener('submit', (event) => {
    event.preventDefault();
    run(resyncButton, async () => {
      const { resync } = await requireAll(RESYNC, { position: Number(position.value || 0) });
      const r = resync.repair;
      say(r.attention.length ? 'warning' : 'success',
        `Re-synced ${plural(r.ordersSeen, 'order')}: ${r.overwritten} corrected, ${r.invoicesCreated} invoices created, ` +
        `${r.invoicesAdjusted} adjusted.${r.attention.length ? ` Needs a person: ${r.attention.join(' ')}` : ''}`);
      refresh();
    });
  });

  const reconcileButton = h('button', { type: 'button', class: 'button' }, 'Compare with ordering');
  reconcileButton.addEventListener('click', () => run(reconcileButton, async () => {
    const { reconciliationReport: r } = await requireAll(RECONCILE);
    if (r.inSync) {
      say('success', `Billing's copy matches ordering: ${plural(r.orderingOrders, 'published order')}.`);
      return;
    }
    const numbers = (list) => list.map((d) => d.number).join(', ');
    const parts = [
      r.missing.length ? `missing in billing: ${numbers(r.missing)}` : null,
      r.extra.length ? `not in ordering: ${numbers(r.extra)}` : null,
      r.different.length ? `different: ${numbers(r.different)}` : null,
      r.confirmedWithoutInvoice.length ? `confirmed without an invoice: ${r.confirmedWithoutInvoice.join(', ')}` : null,
      r.approvedInvoicesOfDeletedOrders.length
        ? `approved invoices of deleted orders: ${r.approvedInvoicesOfDeletedOrders.map((i) => i.invoiceNumber).join(', ')}` : null,
    ].filter(Boolean);
    say('warning', `Billing's copy differs from ordering — ${parts.join('; ')}. A re-sync from position 0 repairs the copy.`);
  }));

  const letters = h('div', { class: 'dead-letters' });
  let shownCount = -1;

  async function loadLetters() {
    const { deadLetters } = await requireAll(DEAD_LETTERS);
    const items = deadLetters.items;
    if (items.length === 0) {
      letters.replaceChildren(h('p', { class: 'muted' }, 'No records are waiting: every change from ordering was applied.'));
      return;
    }
    letters.replaceChildren(dataTable(
      [
        { label: 'Order', cell: (d) => (d.orderNumber ? h('a', { href: `/orders/${d.orderNumber}` }, `Order ${d.orderNumber}`) : 'unknown') },
        { label: 'Why', cell: (d) => h('span', { class: 'long-text' }, d.error) },
        { label: 'Since', cell: (d) => timeEl(d.firstFailedAt, formatDateTime(d.firstFailedAt)) },
        { label: 'Action', cell: letterActions },
      ],
      items.map((item) => ({ item, dataset: { deadLetter: String(item.id) } })),
      { caption: 'Records billing could not apply' },
    ));
  }

  function letterActions(letter) {
    const retry = h('button', { type: 'button', class: 'button button--small' }, 'Retry');
    retry.addEventListener('click', () => run(retry, async () => {
      const { retryDeadLetter: r } = await requireAll(RETRY, { id: letter.id });
      say('success', `Order ${letter.orderNumber} applied (${r.outcome})${r.invoiceNumber ? `; its invoice is ${r.invoiceNumber}` : ''}.`);
      shownCount = -1;
      refresh();
    }));
    const reasonId = `dismiss-reason-${letter.id}`;
    const reason = h('input', { id: reasonId, class: 'operator-input', required: true, maxlength: '400' });
    const dismiss = h('button', { type: 'submit', class: 'button button--small' }, 'Dismiss');
    const form = h('form', { class: 'operator-form' }, h('label', { for: reasonId }, 'Reason'), reason, dismiss);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      run(dismiss, async () => {
        await requireAll(DISMISS, { id: letter.id, reason: reason.value });
        say('success', `The record of order ${letter.orderNumber} is left unapplied: ${reason.value}`);
        shownCount = -1;
        refresh();
      });
    });
    return h('div', { class: 'letter-actions' }, retry, form);
  }

  const node = h('section', { class: 'card operator-tools', 'aria-labelledby': 'operator-tools-heading' },
    h('h2', { id: 'operator-tools-heading' }, 'Operator tools'),
    h('div', { class: 'operator-actions' }, pullButton, reconcileButton),
    resyncForm,
    result,
    h('h3', { class: 'small-heading' }, 'Records set aside (dead letters)'),
    letters);

  return {
    node,
    update(status) {
      if (status && status.deadLettersOpen !== shownCount) {
        shownCount = status.deadLettersOpen;
        loadLetters().catch((error) => say('error', error.message));
      }
    },
  };
}
