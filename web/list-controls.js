// What the two lists share: their state in the URL (search, status, sort, page cursor), the
// search-and-sort form, the status chips with counts, and previous/next paging.

import { h, uniqueId } from './dom.js';

export const PAGE_SIZE = 20;

const SORTS = {
  newest: { sort: 'CREATED', direction: 'DESC', label: 'Newest first' },
  oldest: { sort: 'CREATED', direction: 'ASC', label: 'Oldest first' },
  'total-desc': { sort: 'TOTAL', direction: 'DESC', label: 'Highest amount first' },
  'total-asc': { sort: 'TOTAL', direction: 'ASC', label: 'Lowest amount first' },
  status: { sort: 'STATUS', direction: 'ASC', label: 'By status' },
};
const DEFAULT_SORT = 'newest';

/**
 * The list's state from the URL: {search, status, sortKey, sort, direction, after, before}.
 * Unknown values fall back to the defaults, so a hand-edited URL still shows a list.
 */
export function listState(query, statuses) {
  const status = (query.get('status') ?? '').toUpperCase();
  const sortKey = SORTS[query.get('sort')] ? query.get('sort') : DEFAULT_SORT;
  const search = (query.get('q') ?? '').trim().slice(0, 200);
  return {
    search,
    status: statuses.includes(status) ? status : '',
    sortKey,
    sort: SORTS[sortKey].sort,
    direction: SORTS[sortKey].direction,
    after: query.get('after') || null,
    before: query.get('after') ? null : query.get('before') || null,
  };
}

/** GraphQL variables for the state: a page forward from `after`, or back from `before`. */
export function pageVariables(state) {
  const page = state.before ? { last: PAGE_SIZE, before: state.before } : { first: PAGE_SIZE, after: state.after };
  return {
    status: state.status || null,
    search: state.search || null,
    sort: state.sort,
    direction: state.direction,
    ...page,
  };
}

/** The list's URL for a state, with `changes` applied; paging cursors are dropped unless given. */
export function listHref(basePath, state, changes = {}) {
  const next = { q: state.search, status: state.status.toLowerCase(), sort: state.sortKey, after: null, before: null, ...changes };
  const params = new URLSearchParams();
  if (next.q) params.set('q', next.q);
  if (next.status) params.set('status', next.status);
  if (next.sort && next.sort !== DEFAULT_SORT) params.set('sort', next.sort);
  if (next.after) params.set('after', next.after);
  if (next.before) params.set('before', next.before);
  const text = params.toString();
  return text ? `${basePath}?${text}` : basePath;
}

/** Search box and sort order, as a GET form the router turns into a navigation. */
export function searchAndSort(view, basePath, state, { label, hint }) {
  const searchId = uniqueId('search');
  const hintId = `${searchId}-hint`;
  const sortId = uniqueId('sort');
  const input = h('input', { type: 'search', id: searchId, name: 'q', value: state.search, maxlength: '200', autocomplete: 'off', 'aria-describedby': hintId });
  const select = h('select', { id: sortId, name: 'sort' },
    ...Object.entries(SORTS).map(([key, option]) => h('option', { value: key, selected: key === state.sortKey }, option.label)));
  const go = () => view.navigate(listHref(basePath, state, { q: input.value.trim(), sort: select.value }));
  select.addEventListener('change', go);
  return h('form', {
    class: 'list-tools',
    role: 'search',
    'aria-label': label,
    onsubmit: (event) => {
      event.preventDefault();
      go();
    },
  },
  h('div', { class: 'search' },
    h('div', { class: 'field' },
      h('label', { for: searchId, class: 'field__label' }, label),
      h('p', { class: 'field__hint', id: hintId }, hint),
      input),
    h('button', { type: 'submit', class: 'button' }, 'Search')),
  h('div', { class: 'sort' },
    h('div', { class: 'field' }, h('label', { for: sortId, class: 'field__label' }, 'Sort'), select)));
}

/**
 * Status chips with counts. options: [[status, label]], '' for "All"; counts: {STATUS: n};
 * allCount: what "All" lists.
 */
export function statusChips(basePath, state, options, counts, allCount) {
  return h('nav', { class: 'filters', 'aria-label': 'Filter by status' },
    ...options.map(([value, label]) => {
      const count = value ? counts?.[value] : allCount;
      const active = value === state.status;
      return h('a', {
        href: listHref(basePath, state, { status: value.toLowerCase() }),
        class: active ? 'filter filter--active' : 'filter',
        'aria-current': active ? 'page' : null,
        dataset: { status: value || 'ALL' },
      }, label, count === undefined || count === null ? null : h('span', { class: 'filter__count' }, String(count)));
    }));
}

/** Previous and next page links, from the connection's pageInfo. */
export function pager(basePath, state, pageInfo) {
  const links = [];
  if (pageInfo?.hasPreviousPage && pageInfo.startCursor) {
    links.push(h('a', { class: 'button', href: listHref(basePath, state, { before: pageInfo.startCursor }), rel: 'prev' }, '« Previous page'));
  }
  if (pageInfo?.hasNextPage && pageInfo.endCursor) {
    links.push(h('a', { class: 'button', href: listHref(basePath, state, { after: pageInfo.endCursor }), rel: 'next' }, 'Next page »'));
  }
  return links.length ? h('nav', { class: 'pagination', 'aria-label': 'Pages' }, ...links) : null;
}

export function countsByStatus(statusCounts) {
  return Object.fromEntries((statusCounts ?? []).map((entry) => [entry.status, entry.count]));
}
