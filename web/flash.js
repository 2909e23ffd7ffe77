// One-shot messages that survive a navigation, including the full page load of the deep link
// (confirm → billing → invoice screen), so they live in sessionStorage rather than memory.

const KEY = 'order-to-invoice.flash';

export function setFlash(message, kind = 'success') {
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ message, kind }));
  } catch {
    // Storage can be disabled; the message is a courtesy, the screen still shows the state.
  }
}

export function takeFlash() {
  try {
    const raw = sessionStorage.getItem(KEY);
    sessionStorage.removeItem(KEY);
    const parsed = raw ? JSON.parse(raw) : null;
    return parsed && typeof parsed.message === 'string' ? parsed : null;
  } catch {
    return null;
  }
}
