// The integration screen for operators (not in the clerk's navigation): whether billing's copy
// of the orders is up to date, in words, with the technical figures folded away. Refreshes
// itself every few seconds while it is the screen on show.
//
// Extension point: operator tools (dead letters, a repairing re-sync, …) add a section builder
// to OPERATOR_SECTIONS, and their fields to SYNC_QUERY; each builder gets the query's data and
// a `refresh` callback and returns a node or null.

import { h } from '../dom.js';
import { errorPanel, facts, pageHeader, timeEl } from '../components.js';
import { formatDateTime } from '../format.js';
import { UNAVAILABLE, errorAt, request } from '../graphql.js';
import { describeSync } from '../sync-state.js';
import { operatorTools } from '../operator-tools.js';

const SYNC_QUERY = `
query SyncStatus {
  syncStatus {
    feedId token highWater lagRecords lagSeconds
    lastSuccessAt lastError lastErrorAt consecutiveFailures healthy running
    health healthReason healthSince halted deadLettersOpen
    totals { pulls pages new changed removed stale invoicesCreated }
  }
}`;

const REFRESH_MS = 5000;

export const OPERATOR_SECTIONS = [operatorTools];

function stateBadge(description) {
  const labels = {
    'up-to-date': 'Up to date',
    'catching-up': 'Catching up',
    'dead-letters': 'Needs attention',
    unreachable: 'Not reaching ordering',
    refused: 'Refused',
    halted: 'Stopped',
    database: 'Database down',
  };
  return h('span', { class: `badge badge--sync-${description.state}` }, labels[description.state]);
}

function technicalDetails(status) {
  const when = (iso) => (iso ? timeEl(iso, formatDateTime(iso)) : 'never');
  const totals = status.totals;
  return h('details', { class: 'card tech-details' },
    h('summary', {}, 'Technical details'),
    h('h2', { class: 'small-heading' }, 'Position in the change feed'),
    facts([
      ['Local token', String(status.token)],
      ['Highest position seen', String(status.highWater)],
      ['Records behind', String(status.lagRecords)],
      ['Lag', `${status.lagSeconds.toFixed(1)} s`],
      ['Pull running now', status.running ? 'Yes' : 'No'],
      ['Feed id', status.feedId ? h('code', {}, status.feedId) : 'not known yet'],
    ]),
    h('h2', { class: 'small-heading' }, 'Pulls'),
    facts([
      ['Last success', when(status.lastSuccessAt)],
      ['Consecutive failures', String(status.consecutiveFailures)],
      ['Last error', status.lastError ? h('code', {}, status.lastError) : 'none'],
      ['Last error at', status.lastErrorAt ? when(status.lastErrorAt) : null],
      ['Health', `${status.health.toLowerCase()}: ${status.healthReason}`],
      ['Health since', status.healthSince ? when(status.healthSince) : null],
      ['Records in dead letters', String(status.deadLettersOpen)],
    ]),
    h('h2', { class: 'small-heading' }, 'Totals since billing started'),
    facts([
      ['Pulls', String(totals.pulls)],
      ['Pages', String(totals.pages)],
      ['New orders', String(totals.new)],
      ['Changed orders', String(totals.changed)],
      ['Removed orders', String(totals.removed)],
      ['Stale updates ignored', String(totals.stale)],
      ['Invoices created', String(totals.invoicesCreated)],
    ]));
}

export async function operationsScreen(view) {
  view.title('Integration');
  view.loading('Loading the integration status…');
  const refreshButton = h('button', { type: 'button', class: 'button', onclick: () => refresh() }, 'Refresh');
  const header = pageHeader('Integration', {
    subtitle: 'Billing keeps its own copy of the confirmed orders, taken from ordering.',
    actions: [refreshButton],
  });
  const updated = h('p', { class: 'muted small' });
  const body = h('div', { class: 'sync-body' });
  let details = null; // kept across refreshes, so an opened "Technical details" stays open
  let timer = null;
  let shown = false;

  async function refresh() {
    clearTimeout(timer);
    refreshButton.disabled = true;
    try {
      const { data, errors } = await request(SYNC_QUERY);
      if (data.syncStatus === null) throw errorAt(errors, 'syncStatus') ?? errors[0];
      const status = data.syncStatus;
      const description = describeSync(status);
      const open = details?.open ?? false;
      details = technicalDetails(status);
      details.open = open;
      body.replaceChildren(
        h('section', { class: `card sync-state sync-state--${description.tone}`, 'aria-labelledby': 'sync-state-heading', dataset: { state: description.state } },
          h('h2', { id: 'sync-state-heading', class: 'sync-state__headline' }, stateBadge(description), ' ', description.headline),
          h('p', { class: 'sync-state__detail' }, description.detail)),
        ...OPERATOR_SECTIONS.map((section) => section(data, refresh)).filter(Boolean),
        details,
      );
      updated.textContent = `Checked ${formatDateTime(new Date().toISOString())}; checks again every ${REFRESH_MS / 1000} seconds.`;
    } catch (error) {
      if (error.code === UNAVAILABLE) {
        // Billing itself is down: its copy of the orders can't be asked about.
        details = null;
        body.replaceChildren(
          h('section', { class: 'card sync-state sync-state--error', 'aria-labelledby': 'sync-state-heading', dataset: { state: 'billing-unreachable' } },
            h('h2', { id: 'sync-state-heading', class: 'sync-state__headline' },
              h('span', { class: 'badge badge--sync-unreachable' }, 'Billing down'), " Can't reach billing — retrying"),
            h('p', { class: 'sync-state__detail' }, 'Billing does not answer, so whether its copy of the orders is up to date is unknown. Orders can still be created and confirmed; their invoices follow once billing is back.')));
      } else {
        body.replaceChildren(errorPanel(error, () => refresh()));
      }
    }
    refreshButton.disabled = false;
    if (!shown) shown = view.show(header, updated, body);
    // Keep refreshing only while this screen is the one on show.
    if (shown && view.isCurrent()) timer = setTimeout(refresh, REFRESH_MS);
  }

  await refresh();
}
