// The single-page app: a tiny History-API router that maps the web routes of docs/contracts.md
// onto screen modules. Each screen gets a `view` through which it shows nodes only while it is
// still the current navigation, so a slow answer never overwrites a newer screen.

import { h } from './dom.js';
import { errorPanel, loading, notice } from './components.js';
import { takeFlash } from './flash.js';
import { clearLeaveGuard, mayLeave } from './leave-guard.js';
import { ordersScreen } from './screens/orders.js';
import { newOrderScreen, editOrderScreen } from './screens/order-form.js';
import { orderScreen } from './screens/order.js';
import { invoicesScreen } from './screens/invoices.js';
import { invoiceScreen } from './screens/invoice.js';
import { operationsScreen } from './screens/operations.js';
import { signInScreen } from './screens/sign-in.js';
import { currentUser, loadSession, renderUserMenu, watchRoles } from './session.js';

const APP_NAME = 'Order to invoice';

const routes = [
  { pattern: /^\/(?:orders\/?)?$/, section: 'orders', screen: ordersScreen },
  { pattern: /^\/orders\/new\/?$/, section: 'orders', screen: newOrderScreen },
  { pattern: /^\/orders\/(\d+)\/?$/, section: 'orders', screen: orderScreen },
  { pattern: /^\/orders\/(\d+)\/edit\/?$/, section: 'orders', screen: editOrderScreen },
  { pattern: /^\/invoices\/?$/, section: 'invoices', screen: invoicesScreen },
  { pattern: /^\/invoices\/(\d+)\/?$/, section: 'invoices', screen: invoiceScreen },
  { pattern: /^\/operations\/?$/, section: 'operations', screen: operationsScreen },
  // The operations screen's old address.
  { pattern: /^\/sync\/?$/, section: 'operations', screen: (view) => view.navigate('/operations', { replace: true }) },
  { pattern: /^\/sign-in\/?$/, section: null, screen: signInScreen, anonymous: true },
];

const main = document.getElementById('main');
let currentRender = 0;
// The address (path and query) of the screen on show: a change of the #fragment alone (an
// in-page link such as "Skip to content") is the browser's business, never a re-render.
let shownAddress = null;

const addressOf = (location) => location.pathname + location.search;

export function navigate(url, { replace = false, force = false } = {}) {
  if (!force && !mayLeave()) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render({ focus: true });
}

function highlightSection(section) {
  for (const link of document.querySelectorAll('.mainnav a, .footer a[data-section]')) {
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function makeView(id, url, params, flash) {
  const isCurrent = () => id === currentRender;
  return {
    params,
    query: url.searchParams,
    path: url.pathname,
    isCurrent,
    navigate,
    reload: () => navigate(url.pathname + url.search, { replace: true, force: true }),
    title(text) {
      if (isCurrent()) document.title = `${text} · ${APP_NAME}`;
    },
    show(...nodes) {
      if (!isCurrent()) return false;
      const kind = ['success', 'info', 'warning', 'error'].includes(flash?.kind) ? flash.kind : 'success';
      const flashNode = flash ? notice(kind, flash.message) : null;
      main.setAttribute('aria-busy', 'false');
      main.replaceChildren(...[flashNode, ...nodes].filter(Boolean));
      return true;
    },
    loading(text) {
      if (!isCurrent()) return;
      main.setAttribute('aria-busy', 'true');
      main.replaceChildren(loading(text));
    },
  };
}

async function render({ focus = false } = {}) {
  currentRender += 1;
  const id = currentRender;
  const url = new URL(window.location.href);
  shownAddress = addressOf(url);
  clearLeaveGuard();
  const flash = takeFlash();
  const route = routes.find((candidate) => candidate.pattern.test(url.pathname));
  highlightSection(route?.section ?? null);
  if (focus) main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
  if (!route) {
    const view = makeView(id, url, [], flash);
    view.title('Page not found');
    view.show(
      h('h1', {}, 'Page not found'),
      h('p', {}, 'There is no screen at this address. '),
      h('p', {}, h('a', { href: '/orders' }, 'Go to the orders')),
    );
    return;
  }
  if (!route.anonymous && !currentUser()) {
    window.location.assign(`/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`);
    return;
  }
  const params = url.pathname.match(route.pattern).slice(1);
  const view = makeView(id, url, params, flash);
  try {
    await route.screen(view);
  } catch (error) {
    // Screens handle the errors they expect; this is the net for the rest (network down, …).
    view.title('Error');
    view.show(h('h1', {}, 'Something went wrong'), errorPanel(error, () => view.reload()));
    if (!(error && error.name === 'ApiError')) console.error(error);
  }
}

function isAppLink(event) {
  if (event.defaultPrevented || event.button !== 0) return null;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return null;
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return null;
  if (link.getAttribute('href').startsWith('#')) return null; // in-page anchors stay native
  const url = new URL(link.href, window.location.href);
  if (url.origin !== window.location.origin) return null;
  if (!routes.some((route) => route.pattern.test(url.pathname))) return null;
  return url;
}

document.addEventListener('click', (event) => {
  const url = isAppLink(event);
  if (!url) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

// Back to this page from the browser's back-forward cache (e.g. from the invoice the deep link
// led to): its screen is as it was left, so show the data as it is now.
window.addEventListener('pageshow', (event) => {
  if (event.persisted) render();
});

window.addEventListener('popstate', () => {
  if (addressOf(window.location) === shownAddress) return; // only the #fragment changed
  if (!mayLeave()) {
    history.pushState(null, '', shownAddress); // stay, with the form as it was
    return;
  }
  render({ focus: true });
});

loadSession().then(() => {
  renderUserMenu();
  watchRoles();
  render();
});
