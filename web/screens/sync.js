// Sync status: how far billing's local copy of the orders is behind ordering's change feed.
// Refreshes itself every few seconds while it is the screen on show.

import { h } from '../dom.js';
import { errorPanel, facts, notice, timeEl } from '../components.js';
import { formatDateTime, plural } from '../format.js';
import { errorAt, request } from '../graphql.js';

const SYNC_QUERY = `
query SyncStatus {
  syncStatus {
    feedId token highWater lagRecords lagSeconds
    lastSuccessAt lastError lastErrorAt consecutiveFailures healthy running
    totals { pulls pages new changed removed stale invoicesCreated }
  }
}`;

const REFRESH_MS = 5000;

function healthBadge(status) {
  if (!status.healthy) return h('span', { class: 'badge badge--unhealthy' }, 'Unhealthy');
  if (status.lagRecords > 0) return h('span', { class: 'badge badge--lagging' }, 'Catching up');
  return h('span', { class: 'badge badge--healthy' }, 'In sync');
}

function summaryText(status) {
  if (!status.healthy) return 'Billing cannot pull orders from ordering at the moment; it retries on its own.';
  if (status.lagRecords > 0) return `Billing is ${plural(status.lagRecords, 'change')} behind ordering.`;
  return 'Billing has every confirmed order that ordering has published.';
}

function render(status) {
  const when = (iso) => (iso ? timeEl(iso, formatDateTime(iso)) : 'never');
  const totals = status.totals;
  return [
    notice(status.healthy ? 'info' : 'error', summaryText(status)),
    h('section', { class: 'card', 'aria-labelledby': 'position-heading' },
      h('h2', { id: 'position-heading' }, 'Position in the change feed'),
      facts([
        ['Local token', String(status.token)],
        ['Highest position seen', String(status.highWater)],
        ['Behind by', plural(status.lagRecords, 'change')],
        ['Lag', `${status.lagSeconds.toFixed(1)} s`],
        ['Pull running now', status.running ? 'Yes' : 'No'],
        ['Feed id', status.feedId ? h('code', {}, status.feedId) : 'not known yet'],
      ])),
    h('section', { class: 'card', 'aria-labelledby': 'health-heading' },
      h('h2', { id: 'health-heading' }, 'Health'),
      facts([
        ['Last success', when(status.lastSuccessAt)],
        ['Consecutive failures', String(status.consecutiveFailures)],
        ['Last error', status.lastError ?? 'none'],
        ['Last error at', status.lastErrorAt ? when(status.lastErrorAt) : null],
      ])),
    h('section', { class: 'card', 'aria-labelledby': 'totals-heading' },
      h('h2', { id: 'totals-heading' }, 'Totals since billing started'),
      facts([
        ['Pulls', String(totals.pulls)],
        ['Pages', String(totals.pages)],
        ['New orders', String(totals.new)],
        ['Changed orders', String(totals.changed)],
        ['Removed orders', String(totals.removed)],
        ['Stale updates ignored', String(totals.stale)],
        ['Invoices created', String(totals.invoicesCreated)],
      ])),
  ];
}

export async function syncScreen(view) {
  view.title('Sync status');
  view.loading('Loading the sync status…');
  const title = h('h1', {}, 'Sync status');
  const refreshButton = h('button', { type: 'button', class: 'button', onclick: () => refresh() }, 'Refresh');
  const updated = h('p', { class: 'muted small' });
  const body = h('div', { class: 'sync-body' });
  const page = [
    h('div', { class: 'page-header' },
      h('div', { class: 'page-header__title' }, title,
        h('p', { class: 'page-header__subtitle' }, 'Billing keeps a local copy of confirmed orders, pulled from ordering.')),
      h('div', { class: 'page-header__actions' }, refreshButton)),
    updated,
    body,
  ];
  let timer = null;
  let shown = false;

  async function refresh() {
    clearTimeout(timer);
    refreshButton.disabled = true;
    let status = null;
    try {
      const { data, errors } = await request(SYNC_QUERY);
      if (data.syncStatus === null) throw errorAt(errors, 'syncStatus') ?? errors[0];
      status = data.syncStatus;
      body.replaceChildren(...render(status));
      updated.textContent = `Updated ${formatDateTime(new Date().toISOString())}; refreshes every ${REFRESH_MS / 1000} seconds.`;
    } catch (error) {
      body.replaceChildren(errorPanel(error, () => refresh()));
    }
    title.replaceChildren('Sync status', ...(status ? [' ', healthBadge(status)] : []));
    refreshButton.disabled = false;
    if (!shown) shown = view.show(...page);
    // Keep refreshing only while this screen is the one on show.
    if (shown && view.isCurrent()) timer = setTimeout(refresh, REFRESH_MS);
  }

  await refresh();
}
