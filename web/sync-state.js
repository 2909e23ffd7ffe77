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
 * {state, tone, headline, detail}: state is up-to-date | catching-up | unreachable | refused |
 * halted | database | dead-letters. Built from billing's health (docs/operations.md: `health`
 * HEALTHY / DEGRADED / FAILING, `healthReason`, `healthSince`, `halted`, `deadLettersOpen`).
 * A failed pull counts at once, though billing calls one or two failures only "degraded".
 * `healthSince` is when the current trouble began; otherwise the last success bounds it.
 */
export function describeSync(status, now = new Date()) {
  const failures = status.consecutiveFailures ?? 0;
  const since = status.healthSince ?? status.lastSuccessAt ?? null;
  const sinceText = since ? ` since ${formatSince(since, now)}` : '';
  if (status.halted) {
    return {
      state: 'halted',
      tone: 'error',
      headline: `Billing stopped copying orders${sinceText}`,
      detail: `${sentence(status.healthReason)} Billing waits for an operator to re-sync it with ordering; until then new confirmed orders get no invoices.`,
    };
  }
  // Billing gives a refused service token as its failing reason word for word (a run of
  // failures reads "the last N pulls failed…"): retrying will not fix it.
  if (failures > 0 && status.health === 'FAILING' && status.healthReason === status.lastError) {
    return {
      state: 'refused',
      tone: 'error',
      headline: `Ordering refuses billing's requests${sinceText}`,
      detail: 'Billing keeps retrying, but this needs an operator: check the service credentials billing uses for ordering.',
    };
  }
  if (failures > 0 && /^billing's database failed/.test(status.lastError ?? '')) {
    return {
      state: 'database',
      tone: 'error',
      headline: `Billing can't use its own database${sinceText} — retrying`,
      detail: `${plural(failures, 'attempt')} in a row failed. New confirmed orders get their invoices once billing's database answers again; nothing is lost.`,
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
  if ((status.deadLettersOpen ?? 0) > 0) {
    return {
      state: 'dead-letters',
      tone: 'warning',
      headline: `${plural(status.deadLettersOpen, 'order change')} could not be applied${sinceText}`,
      detail: 'Billing set them aside and copies every other change as usual. An operator retries or dismisses each one; until then those orders may lack their invoices or show old details.',
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

/** Billing's reason ("ordering's feed went backwards…") as a sentence. */
function sentence(text) {
  if (!text) return '';
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
