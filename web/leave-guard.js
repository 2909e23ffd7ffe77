// Unsaved work is never lost without a word: a screen with a form registers a guard saying
// whether it has unsaved changes; the router asks before leaving it (links, Back), and the
// browser asks before the tab is closed or reloaded. Each new screen starts without a guard.

export const LEAVE_QUESTION = 'You have unsaved changes. Leave this page and lose them?';

let guard = null;

/** `hasChanges` answers whether leaving now would lose work. */
export function setLeaveGuard(hasChanges) {
  guard = hasChanges;
}

export function clearLeaveGuard() {
  guard = null;
}

export function hasUnsavedChanges() {
  return Boolean(guard && guard());
}

/** Whether the person agrees to leave (asked only when there is something to lose). */
export function mayLeave() {
  return !hasUnsavedChanges() || window.confirm(LEAVE_QUESTION);
}

window.addEventListener('beforeunload', (event) => {
  if (hasUnsavedChanges()) {
    event.preventDefault();
    event.returnValue = ''; // older browsers need it set to show their own question
  }
});
