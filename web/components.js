// Small UI pieces the screens share: status badges, notices, headers, tables, facts.

import { h } from './dom.js';
import { statusLabel } from './format.js';

export function badge(status) {
  const key = String(status).toLowerCase().replace(/_/g, '-');
  return h('span', { class: `badge badge--${key}`, dataset: { status } }, statusLabel(status));
}

/** kind: info | success | warning | error. Errors are announced at once to screen readers. */
export function notice(kind, ...children) {
  const role = kind === 'error' ? 'alert' : 'status';
  return h('div', { class: `notice notice--${kind}`, role }, ...children);
}

export function loading(text) {
  return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

export function pageHeader(title, { badges = [], actions = [], subtitle = null } = {}) {
  return h(
    'div',
    { class: 'page-header' },
    h(
      'div',
      { class: 'page-header__title' },
      h('h1', {}, title, ...badges.map((b) => [' ', b])),
      subtitle ? h('p', { class: 'page-header__subtitle' }, subtitle) : null,
    ),
    actions.length ? h('div', { class: 'page-header__actions' }, ...actions) : null,
  );
}

export function emptyState(message, action = null) {
  return h('div', { class: 'empty' }, h('p', {}, message), action);
}

export function errorPanel(error, onRetry) {
  return notice(
    'error',
    h('p', {}, error.message || 'Something went wrong.'),
    onRetry ? h('button', { type: 'button', class: 'button', onclick: onRetry }, 'Try again') : null,
  );
}

/** A definition list from [label, value] pairs; a null value is left out. */
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    ...pairs
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([label, value]) => h('div', { class: 'facts__item' }, h('dt', {}, label), h('dd', {}, value))),
  );
}

/**
 * A table that becomes a stack of cards at phone width: each cell carries its column label
 * in data-label, which the stylesheet shows before the value.
 */
export function dataTable(columns, rows, { caption = null, className = '' } = {}) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: `table ${className}`.trim() },
      caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
      h('thead', {}, h('tr', {}, ...columns.map((col) => h('th', { scope: 'col', class: col.class ?? null }, col.label)))),
      h(
        'tbody',
        {},
        ...rows.map((row) =>
          h(
            'tr',
            { dataset: row.dataset ?? {} },
            ...columns.map((col) => h('td', { 'data-label': col.label, class: col.class ?? null }, col.cell(row.item))),
          ),
        ),
      ),
    ),
  );
}

export function timeEl(iso, text, title = iso) {
  return h('time', { datetime: iso ?? '', title: title ?? '' }, text);
}

/**
 * The audit trail of an order or an invoice (who did what, when), oldest first, as the owner
 * service recorded it. `version` names the version column ("Version" of the order, or the
 * order's version the invoice stood on).
 */
export function historyCard(id, entries, version, formatWhen) {
  const words = {
    CREATED: 'Created', EDITED: 'Edited', CONFIRMED: 'Confirmed', DELETED: 'Deleted',
    APPROVED: 'Approved', VOIDED: 'Voided',
  };
  return h('section', { class: 'card', 'aria-labelledby': id },
    h('h2', { id }, 'History'),
    entries.length === 0
      ? h('p', { class: 'muted' }, 'Nothing recorded yet.')
      : dataTable(
        [
          { label: 'When', cell: (e) => formatWhen(e.at) },
          { label: 'What', cell: (e) => words[e.action] ?? e.action },
          { label: 'Who', cell: (e) => h('span', { class: 'long-text' }, e.actor) },
          { label: version.label, cell: (e) => String(e[version.field]) },
        ],
        entries.map((item) => ({ item })),
        { caption: 'Who did what, oldest first' },
      ));
}

/** "14 Nov 2026, 10:02 by ada": a moment and who made it, for the facts of a record. */
export function byWhom(moment, who) {
  if (!moment) return null;
  return who ? h('span', {}, moment, ' by ', h('span', { class: 'long-text' }, who)) : moment;
}
