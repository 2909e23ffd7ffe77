// The sign-in screen (/sign-in?next=/where/you/were/going). Local accounts sign in with a
// name and password here; with an OIDC provider, the button goes to the provider.

import { h } from '../dom.js';
import { notice, pageHeader } from '../components.js';
import { signIn, signInMethod } from '../session.js';

function nextPath(query) {
  const next = query.get('next') ?? '/';
  // Only a path on this site (the BFF checks the same for OIDC).
  return next.startsWith('/') && !next.startsWith('//') && !next.includes('\\') ? next : '/';
}

export async function signInScreen(view) {
  view.title('Sign in');
  const next = nextPath(view.query);
  if (signInMethod() === 'oidc') {
    view.show(
      pageHeader('Sign in'),
      h('p', {}, h('a', { class: 'button button--primary', href: `/auth/oidc/login?next=${encodeURIComponent(next)}` }, 'Sign in with your organisation')),
    );
    return;
  }
  const error = h('div', { class: 'form-errors', 'aria-live': 'assertive' });
  const name = h('input', { id: 'sign-in-name', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { id: 'sign-in-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Sign in');
  const form = h('form', {
    class: 'sign-in',
    'aria-label': 'Sign in',
    onsubmit: async (event) => {
      event.preventDefault();
      error.replaceChildren();
      if (!name.value || !password.value) {
        error.replaceChildren(notice('error', 'Enter your user name and password.'));
        return;
      }
      submit.disabled = true;
      submit.textContent = 'Signing in…';
      const result = await signIn(name.value, password.value);
      if (result.ok) {
        // A full load: the header, the roles and every screen start from the new session.
        window.location.assign(next);
        return;
      }
      submit.disabled = false;
      submit.textContent = 'Sign in';
      password.value = '';
      error.replaceChildren(notice('error', result.message));
      password.focus();
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'sign-in-name' }, 'User name'), name),
  h('div', { class: 'field' }, h('label', { for: 'sign-in-password' }, 'Password'), password),
  error,
  h('div', { class: 'form-actions' }, submit));
  view.show(pageHeader('Sign in', { subtitle: 'Sign in with the account your administrator gave you.' }), form);
}
