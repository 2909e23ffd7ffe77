// Billing's copy of the orders, in words for an operator: one state and one sentence from the
// sync status, the technical figures left to a folded-away details section.

import { plural } from './format.js';

const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "19:05" for today, "Nov 20, 2026, 19:05" for an earlier day. */
export function formatSince(iso, now = new Date()) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toDateString() === now.toDateString() ? timeFormat.format(date) : dateTimeFormat.format(date);
}

/**
 * {state, tone, headline, detail}: state is up-to-date | catching-up | unreachable | refused.
 * A failed pull counts at once (billing's `healthy` flag only turns false for refused
 * credentials, so an unreachable ordering looked "healthy" for as long as it lasted).
 * `failingSince`, when billing reports it, is when the current run of failures began;
 * otherwise the last success bounds it.
 */
export function describeSync(status, now = new Date()) {
  const failures = status.consecutiveFailures ?? 0;
  const since = status.failingSince ?? status.lastSuccessAt ?? null;
  const sinceText = since ? ` since ${formatSince(since, now)}` : '';
  if (failures > 0 && status.healthy === false) {
    return {
      state: 'refused',
      tone: 'error',
      headline: `Ordering refuses billing's requests${sinceText}`,
      detail: 'Billing keeps retrying, but this needs an operator: check the service credentials billing uses for ordering.',
    };
  }
  if (failures > 0) {
    return {
      state: 'unreachable',
      tone: 'error',
      headline: `Can't reach ordering${sinceText} — retrying`,
      detail: `${plural(failures, 'attempt')} in a row failed. New confirmed orders get their invoices once ordering answers again; nothing is lost.`,
    };
  }
  if ((status.lagRecords ?? 0) > 0) {
    return {
      state: 'catching-up',
      tone: 'warning',
      headline: `Catching up (${plural(status.lagRecords, 'order')} behind)`,
      detail: 'Billing is copying the latest order changes from ordering; invoices for them follow in moments.',
    };
  }
  return {
    state: 'up-to-date',
    tone: 'success',
    headline: 'Up to date',
    detail: 'Billing has every order change that ordering has published.',
  };
}
