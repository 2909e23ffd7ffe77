// Who is signed in, and what they may do. The BFF holds the session (an HttpOnly cookie this
// code never sees); GET /auth/me says who it belongs to. Screens mark an action with
// `data-role="clerk"` (or approver, operator); actions the user may not take are hidden
// (links) or disabled with the reason (buttons). When the session ends mid-task, a sign-in
// dialog opens over the page, so what was typed stays where it was.

import { h } from './dom.js';

export const ROLE_REASONS = {
  viewer: 'You need the viewer role to see orders and invoices.',
  clerk: 'You need the clerk role to create, edit, confirm or delete orders.',
  approver: 'You need the approver role to approve invoices.',
  operator: "You need the operator role to run or reset billing's sync.",
};

let user = null;
let signInInfo = { method: 'local', url: '/sign-in' };

export function currentUser() {
  return user;
}

export function can(role) {
  return Boolean(user && user.roles.includes(role));
}

export function signInMethod() {
  return signInInfo.method;
}

/** Load the signed-in user; false when nobody is signed in. */
export async function loadSession() {
  try {
    const response = await fetch('/auth/me', { headers: { Accept: 'application/json' } });
    const body = await response.json();
    if (response.ok) {
      user = body;
      return true;
    }
    user = null;
    if (body?.signIn) signInInfo = body.signIn;
  } catch {
    user = null;
  }
  return false;
}

async function postJson(url, body) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
}

/** {ok, message, retryAfter}: the BFF's one generic message for a wrong name or password. */
export async function signIn(name, password) {
  let response;
  try {
    response = await postJson('/auth/login', { name, password });
  } catch {
    return { ok: false, message: 'The server cannot be reached. Check your connection and try again.' };
  }
  const body = await response.json().catch(() => ({}));
  if (response.ok) {
    user = body;
    renderUserMenu();
    return { ok: true };
  }
  return { ok: false, message: body?.error?.message ?? `Sign-in failed (HTTP ${response.status}).` };
}

export async function signOut({ everywhere = false } = {}) {
  const response = await postJson(everywhere ? '/auth/logout-everywhere' : '/auth/logout');
  const body = await response.json().catch(() => ({}));
  user = null;
  // OIDC: the provider's session ends too, on its own page.
  window.location.assign(body?.then || '/sign-in');
}

export function renderUserMenu() {
  const bar = document.querySelector('.topbar__inner');
  if (!bar) return;
  bar.querySelector('.usermenu')?.remove();
  if (!user) return;
  const roles = user.roles.length ? user.roles.join(', ') : 'no roles';
  bar.append(
    h('div', { class: 'usermenu', 'aria-label': 'Signed in user' },
      h('span', { class: 'usermenu__name' }, user.displayName),
      h('span', { class: 'usermenu__roles', 'data-testid': 'user-roles' }, roles),
      h('button', { type: 'button', class: 'button button--quiet button--small', onclick: () => signOut() }, 'Sign out'),
      h('button', {
        type: 'button',
        class: 'button button--quiet button--small',
        title: 'End this account\'s sessions in every browser',
        onclick: () => signOut({ everywhere: true }),
      }, 'Sign out everywhere')),
  );
  applyRoles(document.body);
}

/** Hide links and disable buttons marked with a role the user does not hold. */
export function applyRoles(root) {
  for (const el of root.querySelectorAll('[data-role]')) {
    const role = el.dataset.role;
    if (can(role)) continue;
    const reason = ROLE_REASONS[role] ?? `You need the ${role} role for this.`;
    if (el.tagName === 'A') {
      el.hidden = true;
    } else if (!el.dataset.roleApplied) {
      el.dataset.roleApplied = 'true';
      el.disabled = true;
      el.title = reason;
      const note = h('span', { class: 'role-note muted' }, reason);
      el.after(note);
    }
  }
}

let dialog = null;

/** The session ended while the user was working: sign in again over the page, keep the page. */
export function askToSignInAgain() {
  if (dialog?.open) return;
  if (signInInfo.method === 'oidc') {
    // The provider's pages cannot be embedded; come back here afterwards.
    const next = window.location.pathname + window.location.search;
    window.location.assign(`/auth/oidc/login?next=${encodeURIComponent(next)}`);
    return;
  }
  const message = h('p', { class: 'form-error', role: 'alert' });
  const name = h('input', { id: 'reauth-name', name: 'username', autocomplete: 'username', required: true, value: user?.name ?? '' });
  const password = h('input', { id: 'reauth-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  dialog = h('dialog', { class: 'reauth', 'aria-labelledby': 'reauth-title' },
    h('form', {
      method: 'dialog',
      onsubmit: async (event) => {
        event.preventDefault();
        const result = await signIn(name.value, password.value);
        if (result.ok) dialog.close();
        else message.textContent = result.message;
      },
    },
    h('h2', { id: 'reauth-title' }, 'Your session has ended'),
    h('p', {}, 'Sign in again to carry on; what you typed on this page is kept.'),
    h('label', { for: 'reauth-name' }, 'User name'), name,
    h('label', { for: 'reauth-password' }, 'Password'), password,
    message,
    h('button', { type: 'submit', class: 'button button--primary' }, 'Sign in')));
  document.body.append(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  dialog.showModal();
}

/** Watch the page: every screen's role-marked actions get their state as they appear. */
export function watchRoles() {
  new MutationObserver(() => applyRoles(document.body)).observe(document.body, { childList: true, subtree: true });
  window.addEventListener('session-expired', askToSignInAgain);
}
